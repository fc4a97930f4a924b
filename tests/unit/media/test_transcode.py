"""Real transcodes of tiny clips: every segment decodes, keyframes align, nothing upscales."""

from __future__ import annotations

import io
import itertools
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import av
import m3u8
import pytest

from flixstack.media import bmff, package
from flixstack.media.errors import EncodeFailed
from flixstack.media.pipeline import Stage, transcode
from flixstack.media.probe import probe

from .conftest import FAST, Run, Transcoder


def tracks(run: Run) -> list[Path]:
    return sorted(p for p in (run.out / "cmaf").iterdir() if p.is_dir())


def decode(init: Path, segment: Path) -> tuple[list[av.VideoFrame], list[av.AudioFrame]]:
    """Decodes one segment the way a player does: its init segment, then its bytes."""
    with av.open(io.BytesIO(init.read_bytes() + segment.read_bytes())) as container:
        if container.streams.video:
            return list(container.decode(video=0)), []
        return [], list(container.decode(audio=0))


def test_every_segment_of_every_track_decodes_on_its_own(any_run: Run) -> None:
    for track in tracks(any_run):
        segments = sorted(track.glob("seg_*.m4s"))
        assert segments
        for segment in segments:
            video, audio = decode(track / "init.mp4", segment)
            if track.name == "audio":
                assert audio
            else:
                assert video
                assert video[0].key_frame, f"{segment} does not start with a keyframe"
                assert (video[0].width, video[0].height) == (video[-1].width, video[-1].height)


def test_keyframes_align_across_renditions(any_run: Run) -> None:
    videos = [bmff.read_track(t) for t in tracks(any_run) if t.name != "audio"]
    starts = {v.name: [s.presentation_time / v.init.timescale for s in v.segments] for v in videos}
    reference = next(iter(starts.values()))
    assert len(reference) == 3  # 3 s in 1 s segments
    for name, times in starts.items():
        assert times == pytest.approx(reference, abs=1e-3), name
    assert all(s.starts_with_sync for v in videos for s in v.segments)
    # exactly one keyframe per segment: no scene-cut keyframes inside
    for track in tracks(any_run):
        if track.name == "audio":
            continue
        for segment in sorted(track.glob("seg_*.m4s")):
            frames, _ = decode(track / "init.mp4", segment)
            assert sum(f.key_frame for f in frames) == 1


def test_renditions_are_even_and_never_upscaled(any_run: Run) -> None:
    source = any_run.result.source.video
    for rendition in any_run.result.renditions:
        assert rendition.width % 2 == rendition.height % 2 == 0
        assert rendition.width <= source.width
        assert rendition.height <= source.height
        assert (rendition.width > rendition.height) == (source.width > source.height)


def test_every_rendition_costs_more_than_the_smaller_ones(any_run: Run) -> None:
    """No rung a player would skip: sorted by size, bit rates rise (twins and dearer
    smaller rungs were dropped after encoding, and their segments with them)."""
    renditions = sorted(any_run.result.renditions, key=lambda r: (r.width * r.height, r.bandwidth))
    for lower, higher in itertools.pairwise(renditions):
        assert lower.average_bandwidth < higher.average_bandwidth, renditions
    tracks = {p.name for p in (any_run.out / "cmaf").iterdir()} - {"audio"}
    assert tracks == {r.playlist.split("/")[-1].removesuffix(".m3u8") for r in renditions}


def test_video_and_audio_start_together(fixed: Run) -> None:
    """By the boxes (tfdt + signed composition offset), as MSE players read them.

    (ffmpeg's own mov demuxer delays video by its "dts_shift" when offsets are negative, so
    PyAV is not a neutral judge of this.)
    """
    starts = {t.name: bmff.read_track(t).segments[0] for t in tracks(fixed)}
    assert {name: s.presentation_time for name, s in starts.items()} == dict.fromkeys(starts, 0)
    assert all(s.decode_time == 0 for s in starts.values())
    assert set(starts) == {"v234", "v360", "audio"}


def test_a_silent_source_has_no_audio_anywhere(silent: Run) -> None:
    assert not silent.result.has_audio
    assert not (silent.out / "cmaf" / "audio").exists()
    master = m3u8.load(str(silent.out / "hls" / "master.m3u8"))
    assert not master.media
    assert all("mp4a" not in v.stream_info.codecs for v in master.playlists)
    mpd = ET.parse(silent.out / "dash" / "manifest.mpd").getroot()
    kinds = {a.get("contentType") for a in mpd.iter(f"{{{package.MPD_NS}}}AdaptationSet")}
    assert kinds == {"video"}


def test_rotated_odd_sized_source_becomes_upright_portrait(rotated: Run) -> None:
    assert [(r.width, r.height) for r in rotated.result.renditions] == [(202, 362)]
    frames, _ = decode(rotated.out / "cmaf/v362/init.mp4", rotated.out / "cmaf/v362/seg_00001.m4s")
    assert (frames[0].width, frames[0].height) == (202, 362)
    assert frames[0].rotation == 0
    poster = probe_image(rotated.out / "thumbs" / "poster.jpg")
    assert poster[1] > poster[0]


def test_variable_frame_rate_is_encoded_at_a_constant_rate(vfr: Run) -> None:
    assert vfr.result.source.video.variable_frame_rate
    for track in tracks(vfr):
        data = b"".join(p.read_bytes() for p in [track / "init.mp4", *sorted(track.glob("seg_*"))])
        with av.open(io.BytesIO(data)) as container:
            stream = container.streams.video[0]
            durations = {p.duration for p in container.demux(stream) if p.size}
            assert len(durations) == 1
            assert stream.time_base is not None
            assert durations.pop() * stream.time_base == pytest.approx(1 / 30)
        assert bmff.read_track(track).duration_s == pytest.approx(
            vfr.result.source.duration_s, abs=0.05
        )


def test_per_title_follows_its_analysis(per_title: Run) -> None:
    result = per_title.result
    analysis = result.analysis
    assert result.ladder == "per-title"
    assert analysis is not None
    # 240p at three CRFs, the source's 360p at four
    assert len(analysis["trial_points"]) == 3 + 4
    # the renditions use the trials' preset here, so there is nothing to calibrate
    assert analysis["calibration"] is None
    assert analysis["preset_rate_factor"] == 1.0
    assert analysis["hull"]
    assert analysis["seconds"] > 0
    chosen = [(r["width"], r["height"]) for r in analysis["rungs"]]
    assert [(r.width, r.height) for r in result.renditions] == chosen
    assert 1 <= len(chosen) <= 6
    assert result.timings["analyzing"] > 0


def test_fixed_ladder_has_no_analysis(fixed: Run) -> None:
    assert fixed.result.analysis is None
    assert [(r.width, r.height) for r in fixed.result.renditions] == [(416, 234), (640, 360)]
    assert set(fixed.result.timings) == {s.value for s in Stage}


def test_progress_goes_through_the_stages_in_order(fixed: Run) -> None:
    stages = [stage for stage, _ in fixed.progress]
    order = [s for i, s in enumerate(stages) if i == 0 or stages[i - 1] != s]
    assert order == [Stage.PROBING, Stage.ANALYZING, Stage.ENCODING, Stage.PACKAGING]
    for stage in Stage:
        fractions = [f for s, f in fixed.progress if s == stage]
        assert fractions == sorted(fractions)
        assert fractions[0] == 0.0
        assert fractions[-1] == 1.0


def test_thumbnails_cover_the_title_with_tiles_inside_their_sheets(fixed: Run) -> None:
    thumbs = fixed.out / "thumbs"
    cues = [
        block.splitlines()
        for block in (thumbs / "thumbnails.vtt").read_text().split("\n\n")[1:]
        if block.strip()
    ]
    assert len(cues) == 3  # 3 s, one preview a second
    assert cues[0][0].startswith("00:00:00.000 -->")
    assert cues[-1][0].endswith("--> 00:00:03.000")
    for _timing, target in cues:
        name, _, xywh = target.partition("#xywh=")
        x, y, w, h = (int(v) for v in xywh.split(","))
        sheet_w, sheet_h = probe_image(thumbs / name)
        assert (w, h) == (160, 90)
        assert x + w <= sheet_w
        assert y + h <= sheet_h
    assert sorted(p.name for p in thumbs.glob("sprite_*.jpg")) == ["sprite_000.jpg"]
    assert probe_image(thumbs / "poster.jpg") == (640, 360)


def test_a_retry_writes_the_same_names_and_leaves_no_strays(
    clips: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    first = transcode(clips["silent"], out, ladder="fixed", settings=FAST)
    names = {p.relative_to(out) for p in out.rglob("*") if p.is_file()}
    (out / "cmaf" / "v234" / "seg_00099.m4s").write_bytes(b"left over by an older attempt")
    (out / "keep.txt").write_text("not ours")
    second = transcode(clips["silent"], out, ladder="fixed", settings=FAST)
    assert {p.relative_to(out) for p in out.rglob("*") if p.is_file()} == names | {Path("keep.txt")}
    assert first.manifests == second.manifests


def test_parallel_strategy_writes_the_same_layout(clips: dict[str, Path], tmp_path: Path) -> None:
    split = transcode(clips["silent"], tmp_path / "split", ladder="fixed", settings=FAST)
    parallel = transcode(
        clips["silent"],
        tmp_path / "parallel",
        ladder="fixed",
        settings=replace(FAST, strategy="parallel"),
    )
    layout = [
        {p.relative_to(root) for p in root.rglob("*") if p.is_file()}
        for root in (tmp_path / "split", tmp_path / "parallel")
    ]
    assert layout[0] == layout[1]
    assert [r.playlist for r in split.renditions] == [r.playlist for r in parallel.renditions]


def test_an_ffmpeg_failure_is_encode_failed(clips: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(EncodeFailed) as raised:
        transcode(clips["silent"], tmp_path, ladder="fixed", settings=replace(FAST, preset="warp"))
    assert raised.value.reason == "encode_failed"


def test_the_result_is_json_friendly(per_title: Run, run_transcode: Transcoder) -> None:
    import json

    data = json.loads(json.dumps(per_title.result.to_dict()))
    assert data["source"]["path"].endswith("landscape.mp4")
    assert data["master_playlist"] == "hls/master.m3u8"
    assert probe(Path(data["source"]["path"])).duration_s == pytest.approx(3.0, abs=0.05)


def probe_image(path: Path) -> tuple[int, int]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return stream.codec_context.width, stream.codec_context.height

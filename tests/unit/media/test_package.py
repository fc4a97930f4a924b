"""HLS playlists (parsed with the m3u8 library) and the DASH MPD over the same segments."""

from __future__ import annotations

import itertools
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import m3u8
import pytest

from flixstack.media import bmff, package
from flixstack.media.bmff import SegmentInfo, Track, read_track
from flixstack.media.package import timeline_entries

from .conftest import Run

NS = {"d": package.MPD_NS}
AVC = re.compile(r"^avc1\.(64|4d|42)[0-9a-f]{4}$")


def resolve(base: Path, uri: str) -> Path:
    return (base / uri).resolve()


# --- HLS --------------------------------------------------------------------------------------


def test_master_playlist_carries_every_variant_with_real_numbers(fixed: Run) -> None:
    hls = fixed.out / "hls"
    master = m3u8.load(str(hls / "master.m3u8"))
    assert master.is_variant
    assert master.is_independent_segments
    assert len(master.playlists) == len(fixed.result.renditions) == 2
    for variant, rendition in zip(master.playlists, fixed.result.renditions, strict=True):
        info = variant.stream_info
        assert info.bandwidth == rendition.bandwidth
        assert info.average_bandwidth == rendition.average_bandwidth
        assert rendition.average_bandwidth <= rendition.bandwidth <= 2 * rendition.average_bandwidth
        video, audio = info.codecs.split(",")
        assert AVC.match(video)
        assert audio == "mp4a.40.2"
        assert info.resolution == (rendition.width, rendition.height)
        assert info.frame_rate == pytest.approx(30.0)
        assert info.audio == "audio"
        assert info.subtitles == "subs"
        assert resolve(hls, variant.uri).is_file()
    bandwidths = [v.stream_info.bandwidth for v in master.playlists]
    assert bandwidths == sorted(bandwidths)


def test_average_bandwidth_is_measured_from_the_segments(fixed: Run) -> None:
    hls = fixed.out / "hls"
    for rendition in fixed.result.renditions:
        bits, seconds = 0, 0.0
        for name in (rendition.playlist.split("/")[-1], "audio.m3u8"):
            playlist = m3u8.load(str(hls / name))
            bits += sum(resolve(hls, s.uri).stat().st_size * 8 for s in playlist.segments)
            seconds = max(seconds, sum(s.duration for s in playlist.segments))
        assert rendition.average_bandwidth == pytest.approx(bits / seconds, rel=0.02)


def test_master_playlist_groups_audio_and_subtitles(fixed: Run) -> None:
    hls = fixed.out / "hls"
    master = m3u8.load(str(hls / "master.m3u8"))
    audio = [m for m in master.media if m.type == "AUDIO"]
    subs = {m.language: m for m in master.media if m.type == "SUBTITLES"}
    assert len(audio) == 1
    assert audio[0].default == "YES"
    assert set(subs) == {"en", "pt-BR"}
    assert subs["en"].name == "English"
    for media in [*audio, *subs.values()]:
        assert resolve(hls, media.uri).is_file()


def test_media_playlists_are_vod_fmp4_with_every_segment(fixed: Run) -> None:
    hls = fixed.out / "hls"
    for name in [*(r.playlist.split("/")[-1] for r in fixed.result.renditions), "audio.m3u8"]:
        playlist = m3u8.load(str(hls / name))
        assert playlist.playlist_type == "vod"
        assert playlist.is_endlist
        assert playlist.is_independent_segments
        assert playlist.version == 7
        [init] = playlist.segment_map
        assert resolve(hls, init.uri).is_file()
        uris = [s.uri for s in playlist.segments]
        folder = resolve(hls, uris[0]).parent
        assert len(uris) == len(list(folder.glob("seg_*.m4s")))
        if name != "audio.m3u8":  # AAC frames do not fall on 1 s: audio may add a sliver
            assert len(uris) == 3
        assert all(resolve(hls, uri).is_file() for uri in uris)
        assert all(
            math.floor(s.duration + 0.5) <= playlist.target_duration for s in playlist.segments
        )
        assert sum(s.duration for s in playlist.segments) == pytest.approx(3.0, abs=0.05)


def test_subtitle_playlists_point_at_webvtt(fixed: Run) -> None:
    hls = fixed.out / "hls"
    playlist = m3u8.load(str(hls / "subs_en.m3u8"))
    [segment] = playlist.segments
    vtt = resolve(hls, segment.uri)
    assert vtt == (fixed.out / "subs" / "en.vtt").resolve()
    assert vtt.read_text().startswith("WEBVTT\n")
    assert "Hello <i>there</i> &amp; welcome" in vtt.read_text()
    assert (
        "00:00:01.000 --> 00:00:02.000 line:90%" in (fixed.out / "subs" / "pt-BR.vtt").read_text()
    )


# --- DASH ------------------------------------------------------------------------------------


def _expand(timeline: ET.Element) -> list[tuple[int, int]]:
    segments: list[tuple[int, int]] = []
    time = 0
    for s in timeline.findall("d:S", NS):
        time = int(s.get("t", time))
        for _ in range(int(s.get("r", "0")) + 1):
            segments.append((time, int(s.get("d", "0"))))
            time += int(s.get("d", "0"))
    return segments


def test_mpd_is_static_cmaf_with_consistent_timelines(fixed: Run) -> None:
    dash = fixed.out / "dash"
    mpd = ET.parse(dash / "manifest.mpd").getroot()
    assert mpd.get("type") == "static"
    assert "urn:mpeg:dash:profile:isoff-live:2011" in (mpd.get("profiles") or "")
    assert "urn:mpeg:dash:profile:cmaf:2019" in (mpd.get("profiles") or "")
    duration = float((mpd.get("mediaPresentationDuration") or "")[2:-1])
    assert duration == pytest.approx(3.0, abs=0.05)
    representations = mpd.findall(".//d:AdaptationSet/d:Representation/d:SegmentTemplate/..", NS)
    assert {r.get("id") for r in representations} == {"v234", "v360", "audio"}
    for representation in representations:
        template = representation.find("d:SegmentTemplate", NS)
        assert template is not None
        timescale = int(template.get("timescale", "0"))
        timeline = template.find("d:SegmentTimeline", NS)
        assert timeline is not None
        segments = _expand(timeline)
        # contiguous from the start, summing to the media's duration
        assert segments[0][0] == 0
        assert all(a[0] + a[1] == b[0] for a, b in itertools.pairwise(segments))
        assert sum(d for _, d in segments) / timescale == pytest.approx(duration, abs=0.05)
        assert resolve(dash, template.get("initialization", "")).is_file()
        start = int(template.get("startNumber", "1"))
        media = template.get("media", "")
        for number in range(start, start + len(segments)):
            uri = re.sub(r"\$Number%05d\$", f"{number:05d}", media)
            assert resolve(dash, uri).is_file()
        # ...and no segment on disk that the timeline leaves out
        folder = resolve(dash, template.get("initialization", "")).parent
        assert len(list(folder.glob("seg_*.m4s"))) == len(segments)


def test_mpd_describes_video_audio_and_text(fixed: Run) -> None:
    mpd = ET.parse(fixed.out / "dash" / "manifest.mpd").getroot()
    sets = {a.get("contentType"): a for a in mpd.findall(".//d:AdaptationSet", NS)}
    assert set(sets) == {"video", "audio", "text"}
    video = sets["video"]
    assert video.get("segmentAlignment") == "true"
    for representation in video.findall("d:Representation", NS):
        assert AVC.match(representation.get("codecs", ""))
        assert int(representation.get("bandwidth", "0")) > 0
    assert sets["audio"].find("d:Representation", NS).get("codecs") == "mp4a.40.2"  # type: ignore[union-attr]
    texts = mpd.findall(".//d:AdaptationSet[@contentType='text']", NS)
    assert {t.get("lang") for t in texts} == {"en", "pt-BR"}
    for text in texts:
        assert text.get("mimeType") == "text/vtt"
        base = text.find("d:Representation/d:BaseURL", NS)
        assert base is not None
        assert resolve(fixed.out / "dash", base.text or "").is_file()


def test_hls_and_dash_agree_on_segment_durations(fixed: Run) -> None:
    hls = fixed.out / "hls"
    mpd = ET.parse(fixed.out / "dash" / "manifest.mpd").getroot()
    for representation in mpd.findall(".//d:Representation", NS):
        template = representation.find("d:SegmentTemplate", NS)
        if template is None:
            continue
        timeline = template.find("d:SegmentTimeline", NS)
        assert timeline is not None
        dash = [d / int(template.get("timescale", "1")) for _, d in _expand(timeline)]
        playlist = m3u8.load(str(hls / f"{representation.get('id')}.m3u8"))
        assert [s.duration for s in playlist.segments] == pytest.approx(dash, abs=1e-5)


def test_manifests_are_listed_in_publishing_order(fixed: Run) -> None:
    manifests = fixed.result.manifests
    assert manifests[-2:] == ["hls/master.m3u8", "dash/manifest.mpd"]
    assert set(manifests[:-2]) == {
        "hls/v234.m3u8",
        "hls/v360.m3u8",
        "hls/audio.m3u8",
        "hls/subs_en.m3u8",
        "hls/subs_pt-BR.m3u8",
    }
    assert all((fixed.out / m).is_file() for m in manifests)
    written = {p.relative_to(fixed.out).as_posix() for p in fixed.out.rglob("*.m3u8")}
    assert written | {"dash/manifest.mpd"} == set(manifests)


# --- pure pieces ------------------------------------------------------------------------------


def seg(time: int, duration: int, size: int = 1000) -> SegmentInfo:
    return SegmentInfo("s", size, time, time, duration, 10, True)


def test_timeline_runs_repeat_equal_segments_and_restate_time_after_a_gap() -> None:
    segments = [seg(0, 4), seg(4, 4), seg(8, 4), seg(12, 2), seg(20, 2)]
    assert timeline_entries(segments) == [(0, 4, 2), (None, 2, 0), (20, 2, 0)]


def test_peak_bandwidth_ignores_a_tiny_last_segment_on_its_own() -> None:
    init = bmff.InitInfo(1000, "avc1.64001f", "vide", 0, 0)
    # 4 s segments at 1 Mb/s, then 0.1 s holding one big frame (8 Mb/s on its own).
    track = Track(
        "v", init, [seg(0, 4000, 500_000), seg(4000, 4000, 500_000), seg(8000, 100, 100_000)]
    )
    assert track.target_duration == 4
    assert track.peak_bps == pytest.approx((500_000 + 100_000) * 8 / 4.1, rel=1e-6)
    assert track.average_bps == pytest.approx(1_100_000 * 8 / 8.1, rel=1e-6)


def test_encoded_tracks_have_no_edit_lists(fixed: Run) -> None:
    for init in (fixed.out / "cmaf").glob("*/init.mp4"):
        assert b"edts" not in init.read_bytes()
        assert read_track(init.parent).segments[0].presentation_time == 0

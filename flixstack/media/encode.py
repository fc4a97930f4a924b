"""Encoding a ladder: H.264 + AAC-LC into CMAF fMP4 tracks, decoding the source once.

One ffmpeg process decodes the source, makes it constant-rate (``fps``), and ``split``s it
into one scaled branch per rung plus a branch of scrub previews; each rung has its own
libx264 encoder and hls/fMP4 muxer writing ``cmaf/<name>/init.mp4`` + ``seg_00001.m4s``...
The alternative, one process per rung run two at a time (``strategy="parallel"``), decodes
the source once per rung. On 2 cores, for Apple's 7-rung ladder of a 720p 30 fps source,
parallel took 1.18x as long with two-pass medium (46.3 s vs 39.3 s for 30 s of source) and
1.66x with one-pass veryfast (21.7 s vs 13.1 s for 20 s); ``bench/transcode.py`` measures it.

Rate control per rung: two-pass, a target average bit rate with a VBV cap (maxrate/bufsize),
so the segments' measured bit rates are what the manifests declare. GOPs are
closed and exactly one segment long: keyframes are forced at every segment boundary (the same
instants in every rung), scene-cut keyframes are off, so every segment of every rung starts
with an IDR at the same time.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from flixstack.media import bmff, ffmpeg, thumbnails
from flixstack.media.analysis import AnalysisSettings
from flixstack.media.ladder import Rung, rendition_names
from flixstack.media.probe import SourceInfo

Strategy = Literal["split", "parallel"]
AUDIO_TRACK = "audio"
# ffmpeg's own playlist per track; we write the real manifests and delete these.
_FFMPEG_PLAYLIST = "ffmpeg.m3u8"
PREVIEW_FRAMES = "previews.nut"
# The first of two passes is much faster (x264 simplifies it): its share of the progress.
_FIRST_PASS_SHARE = 0.3


@dataclass(frozen=True)
class EncodeSettings:
    """How a title is encoded and analysed. The defaults are the production settings."""

    segment_s: float = 4.0
    """Segment (and GOP) duration in seconds."""
    preset: str = "medium"
    """libx264 preset of the renditions."""
    passes: Literal[1, 2] = 2
    """Two-pass rate control spends each rung's average bit rate where the picture needs it
    (as CRF would), which one pass cannot know in advance."""
    profile: str = "high"
    maxrate_factor: float = 1.5
    """VBV maxrate as a multiple of a rung's average bit rate (Apple: peak <= 2x average)."""
    bufsize_factor: float = 2.0
    """VBV buffer size as a multiple of a rung's average bit rate."""
    audio_bitrate_kbps: int = 128
    audio_channels: int = 2
    """At most this many channels (a mono source stays mono)."""
    audio_sample_rate: int = 48000
    strategy: Strategy = "split"
    parallel_workers: int = 2
    """ffmpeg processes at a time with ``strategy="parallel"``."""
    thumbnails: thumbnails.ThumbnailSettings = field(default_factory=thumbnails.ThumbnailSettings)
    analysis: AnalysisSettings = field(default_factory=AnalysisSettings)

    def __post_init__(self) -> None:
        if self.segment_s <= 0 or self.maxrate_factor < 1 or self.bufsize_factor <= 0:
            raise ValueError(f"invalid encode settings: {self}")
        if self.audio_bitrate_kbps <= 0 or self.audio_channels < 1 or self.parallel_workers < 1:
            raise ValueError(f"invalid encode settings: {self}")


@dataclass(frozen=True)
class Encoded:
    """What :func:`encode` wrote."""

    names: list[str]
    """Track directory per rung (``v360``), in ladder order."""
    has_audio: bool
    previews: Path
    """Intermediate file of scrub-preview frames (in the work directory)."""


def encode(
    source: SourceInfo,
    rungs: Sequence[Rung],
    out_dir: Path,
    work_dir: Path,
    settings: EncodeSettings,
    *,
    progress: ffmpeg.OnFraction | None = None,
) -> Encoded:
    """Encodes ``rungs`` (and the audio) of ``source`` into ``out_dir``/cmaf/."""
    names = rendition_names(rungs)
    cmaf = out_dir / bmff.CMAF_DIR
    tracks = [*names, AUDIO_TRACK] if source.has_audio else names
    for name in tracks:
        (cmaf / name).mkdir(parents=True, exist_ok=True)
    plan = _Plan(source, rungs, names, cmaf, work_dir, settings)
    report = progress or (lambda _: None)
    first = _FIRST_PASS_SHARE if settings.passes == 2 else 0.0
    if settings.passes == 2:
        ffmpeg.run_all(
            plan.jobs(pass_number=1),
            workers=settings.parallel_workers,
            progress=lambda f: report(first * f),
        )
    ffmpeg.run_all(
        plan.jobs(pass_number=2 if settings.passes == 2 else None),
        workers=settings.parallel_workers,
        progress=lambda f: report(first + (1 - first) * f),
    )
    for name in tracks:
        (cmaf / name / _FFMPEG_PLAYLIST).unlink(missing_ok=True)
        bmff.strip_edit_lists(cmaf / name / bmff.INIT_NAME)
    return Encoded(names, source.has_audio, plan.previews)


def video_args(
    rung: Rung,
    source: SourceInfo,
    settings: EncodeSettings,
    *,
    pass_number: int | None = None,
    pass_log: Path | None = None,
) -> list[str]:
    """libx264 options of one rung: average bit rate, VBV cap, fixed closed GOPs."""
    gop = math.ceil(settings.segment_s * source.video.frame_rate)
    passes = (
        [] if pass_number is None else ["-pass", str(pass_number), "-passlogfile", str(pass_log)]
    )
    return [
        *passes,
        "-c:v",
        "libx264",
        "-preset",
        settings.preset,
        "-profile:v",
        settings.profile,
        "-pix_fmt",
        "yuv420p",
        "-b:v",
        f"{rung.bitrate_kbps}k",
        "-maxrate",
        f"{round(rung.bitrate_kbps * settings.maxrate_factor)}k",
        "-bufsize",
        f"{round(rung.bitrate_kbps * settings.bufsize_factor)}k",
        "-g",
        str(gop),
        "-keyint_min",
        str(gop),
        "-sc_threshold",
        "0",
        "-flags",
        "+cgop",
        "-force_key_frames",
        f"expr:gte(t,n_forced*{settings.segment_s:g})",
    ]


def audio_args(source: SourceInfo, settings: EncodeSettings) -> list[str]:
    assert source.audio is not None
    channels = min(settings.audio_channels, source.audio.channels)
    bitrate = settings.audio_bitrate_kbps if channels >= 2 else settings.audio_bitrate_kbps // 2
    return [
        "-c:a",
        "aac",
        "-profile:a",
        "aac_low",
        "-b:a",
        f"{bitrate}k",
        "-ac",
        str(channels),
        "-ar",
        str(settings.audio_sample_rate),
    ]


def cmaf_output(track_dir: Path, settings: EncodeSettings, *, video: bool) -> list[str]:
    """hls muxer options writing fMP4 ``init.mp4`` + ``seg_%05d.m4s`` into ``track_dir``.

    Video gets negative composition offsets (``trun`` v1) so its first frame is presented
    at its decode time, 0, like the audio: no edit list is needed for A/V sync.
    """
    args = [
        "-map_metadata",
        "-1",
        "-map_chapters",
        "-1",
        "-f",
        "hls",
        "-hls_time",
        f"{settings.segment_s:g}",
        "-hls_playlist_type",
        "vod",
        "-hls_segment_type",
        "fmp4",
        "-hls_fmp4_init_filename",
        bmff.INIT_NAME,
        "-hls_segment_filename",
        str(track_dir / f"{bmff.SEGMENT_PREFIX}%0{bmff.SEGMENT_DIGITS}d{bmff.SEGMENT_SUFFIX}"),
        "-start_number",
        "1",
    ]
    if video:
        args += ["-hls_segment_options", "movflags=+negative_cts_offsets"]
    return [*args, str(track_dir / _FFMPEG_PLAYLIST)]


def scale_filter(width: int, height: int) -> str:
    """Scale to exactly width x height (square pixels, 8-bit 4:2:0)."""
    return f"scale={width}:{height}:flags=bicubic,setsar=1,format=yuv420p"


@dataclass(frozen=True)
class _Plan:
    """The ffmpeg runs of one encode, for either strategy and either pass."""

    source: SourceInfo
    rungs: Sequence[Rung]
    names: Sequence[str]
    cmaf: Path
    work_dir: Path
    settings: EncodeSettings

    @property
    def previews(self) -> Path:
        return self.work_dir / PREVIEW_FRAMES

    def jobs(self, *, pass_number: int | None) -> list[ffmpeg.Job]:
        if self.settings.strategy == "split":
            return [self._split(pass_number)]
        return self._parallel(pass_number)

    def _video(self, index: int, label: str, pass_number: int | None) -> list[str]:
        rung, name = self.rungs[index], self.names[index]
        args = ["-map", f"[{label}]"]
        args += video_args(
            rung,
            self.source,
            self.settings,
            pass_number=pass_number,
            pass_log=self.work_dir / f"pass-{name}",
        )
        if pass_number == 1:  # the first pass only writes its statistics
            return [*args, "-f", "null", "-"]
        return [*args, *cmaf_output(self.cmaf / name, self.settings, video=True)]

    def _audio(self) -> list[str]:
        args = ["-map", "0:a:0", *audio_args(self.source, self.settings)]
        return [*args, *cmaf_output(self.cmaf / AUDIO_TRACK, self.settings, video=False)]

    def _preview_filter(self) -> str:
        video = self.source.video
        return thumbnails.branch_filter(self.settings.thumbnails, video.width, video.height)

    def _split(self, pass_number: int | None) -> ffmpeg.Job:
        final = pass_number != 1
        rate = self.source.video.frame_rate_fraction
        branches = len(self.rungs) + (1 if final else 0)
        labels = "".join(f"[s{i}]" for i in range(branches))
        graph = [f"[0:v:0]fps={rate},split={branches}{labels}"]
        outputs: list[str] = []
        for index, rung in enumerate(self.rungs):
            graph.append(f"[s{index}]{scale_filter(rung.width, rung.height)}[v{index}]")
            outputs += self._video(index, f"v{index}", pass_number)
        if final:
            graph.append(f"[s{len(self.rungs)}]{self._preview_filter()}[thumbs]")
            outputs += thumbnails.branch_output("thumbs", self.previews)
            if self.source.has_audio:
                outputs += self._audio()
        what = "first pass" if pass_number == 1 else "encoding"
        return ffmpeg.Job(
            ["-i", str(self.source.path), "-filter_complex", ";".join(graph), *outputs],
            what=f"{what} of {len(self.rungs)} renditions",
            duration_s=self.source.duration_s,
        )

    def _parallel(self, pass_number: int | None) -> list[ffmpeg.Job]:
        rate = self.source.video.frame_rate_fraction
        source = ["-i", str(self.source.path)]
        jobs = []
        for index, rung in enumerate(self.rungs):
            graph = f"[0:v:0]fps={rate},{scale_filter(rung.width, rung.height)}[v]"
            args = [*source, "-filter_complex", graph, *self._video(index, "v", pass_number)]
            jobs.append(
                ffmpeg.Job(
                    args, what=f"encoding {self.names[index]}", duration_s=self.source.duration_s
                )
            )
        if pass_number == 1:
            return jobs
        graph = f"[0:v:0]fps={rate},{self._preview_filter()}[thumbs]"
        args = [
            *source,
            "-filter_complex",
            graph,
            *thumbnails.branch_output("thumbs", self.previews),
        ]
        jobs.append(
            ffmpeg.Job(args, what="picking scrub previews", duration_s=self.source.duration_s)
        )
        if self.source.has_audio:
            jobs.append(
                ffmpeg.Job(
                    [*source, *self._audio()],
                    what="encoding audio",
                    duration_s=self.source.duration_s,
                )
            )
        return jobs


def clear(out_dir: Path, directories: Sequence[str]) -> None:
    """Removes the output ``directories`` of an earlier attempt, so a retry leaves no strays."""
    for name in directories:
        target = out_dir / name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()

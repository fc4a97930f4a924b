"""Scrub previews (sprite sheets + a WebVTT track of ``#xywh=`` cues) and a poster.

The main encode's filter graph feeds one more branch, :func:`branch_filter`, that picks a
frame every ``interval_s`` seconds and writes it small and lossless to an intermediate file;
:func:`make_sprites` then tiles those frames into JPEG sheets and writes the cue track from
the frames' real timestamps, so the count and the times are exact, whatever the length.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import av

from flixstack.media import ffmpeg
from flixstack.media.errors import EncodeFailed
from flixstack.media.probe import SourceInfo
from flixstack.media.subtitles import Cue, to_webvtt

SPRITE_PATTERN = "sprite_%03d.jpg"
VTT_NAME = "thumbnails.vtt"
POSTER_NAME = "poster.jpg"


@dataclass(frozen=True)
class ThumbnailSettings:
    interval_s: float = 2.0
    """One scrub preview every this many seconds."""
    long_side: int = 160
    """Size of one preview's long side in pixels (160x90 for 16:9)."""
    columns: int = 5
    rows: int = 5
    jpeg_quality: int = 5
    """ffmpeg's -q:v for JPEG, 2 (best) to 31."""
    poster_long_side: int = 1280
    poster_position: float = 0.1
    """Where the poster comes from, as a fraction of the duration."""

    def __post_init__(self) -> None:
        if self.interval_s <= 0 or self.columns < 1 or self.rows < 1 or self.long_side < 16:
            raise ValueError(f"invalid thumbnail settings: {self}")


@dataclass(frozen=True)
class SpriteSheets:
    sheets: list[str]
    """Sprite file names, in order (``sprite_000.jpg``...)."""
    count: int
    """How many previews the sheets hold."""


def preview_size(width: int, height: int, long_side: int) -> tuple[int, int]:
    """An even size with ``long_side`` as the long side and the aspect of width x height."""
    long_side = min(long_side, max(width, height))
    if width >= height:
        return _even(long_side), _even(long_side * height / width)
    return _even(long_side * width / height), _even(long_side)


def branch_filter(settings: ThumbnailSettings, width: int, height: int) -> str:
    """A filter chain that turns constant-rate frames into previews (one per interval)."""
    w, h = preview_size(width, height, settings.long_side)
    interval = f"{settings.interval_s:g}"
    return (
        f"select='isnan(prev_selected_t)+gte(t-prev_selected_t\\,{interval})',"
        f"scale={w}:{h}:flags=bicubic,setsar=1"
    )


def branch_output(label: str, frames: Path) -> list[str]:
    """Output options writing the previews of ``label`` losslessly to ``frames`` (.nut)."""
    return ["-map", f"[{label}]", "-c:v", "ffv1", "-fps_mode", "passthrough", str(frames)]


def make_sprites(
    frames: Path, out_dir: Path, settings: ThumbnailSettings, duration_s: float
) -> SpriteSheets:
    """Tiles the previews in ``frames`` into sheets in ``out_dir`` and writes their VTT."""
    times, (w, h) = _preview_times(frames)
    out_dir.mkdir(parents=True, exist_ok=True)
    if not times:
        raise EncodeFailed(f"the encode picked no scrub previews ({frames.name} is empty)")
    ffmpeg.run(
        ffmpeg.Job(
            [
                "-i",
                str(frames),
                "-vf",
                f"tile={settings.columns}x{settings.rows}",
                "-fps_mode",
                "passthrough",
                "-start_number",
                "0",
                "-q:v",
                str(settings.jpeg_quality),
                "-f",
                "image2",
                str(out_dir / SPRITE_PATTERN),
            ],
            what="tiling scrub previews",
        )
    )
    per_sheet = settings.columns * settings.rows
    sheets = [SPRITE_PATTERN % i for i in range(math.ceil(len(times) / per_sheet))]
    missing = [name for name in sheets if not (out_dir / name).is_file()]
    if missing:
        raise EncodeFailed(f"tiling scrub previews left out {', '.join(missing)}")
    cues = []
    for index, start in enumerate(times):
        end = times[index + 1] if index + 1 < len(times) else max(duration_s, start + 0.001)
        sheet, slot = divmod(index, per_sheet)
        row, column = divmod(slot, settings.columns)
        cues.append(Cue(start, end, f"{sheets[sheet]}#xywh={column * w},{row * h},{w},{h}"))
    (out_dir / VTT_NAME).write_text(to_webvtt(cues), encoding="utf-8")
    return SpriteSheets(sheets, len(times))


def make_poster(source: SourceInfo, out: Path, settings: ThumbnailSettings) -> None:
    """A representative frame from about ``poster_position`` into the source, as JPEG."""
    w, h = preview_size(source.video.width, source.video.height, settings.poster_long_side)
    window = 24 / source.video.frame_rate  # the thumbnail filter looks at 24 frames
    at = max(0.0, min(source.duration_s * settings.poster_position, source.duration_s - window))
    out.parent.mkdir(parents=True, exist_ok=True)
    ffmpeg.run(
        ffmpeg.Job(
            [
                "-ss",
                f"{at:.3f}",
                "-i",
                str(source.path),
                "-map",
                "0:v:0",
                "-vf",
                f"thumbnail=n=24,scale={w}:{h}:flags=lanczos,setsar=1",
                "-frames:v",
                "1",
                "-q:v",
                "3",
                "-update",
                "1",
                str(out),
            ],
            what="extracting the poster",
        )
    )
    if not out.is_file():
        raise EncodeFailed("extracting the poster wrote no image")


def _preview_times(frames: Path) -> tuple[list[float], tuple[int, int]]:
    with av.open(str(frames)) as container:
        stream = container.streams.video[0]
        size = (stream.codec_context.width, stream.codec_context.height)
        time_base = stream.time_base
        assert time_base is not None
        times = sorted(
            float(packet.pts * time_base)
            for packet in container.demux(stream)
            if packet.pts is not None
        )
    return times, size


def _even(value: float) -> int:
    return max(2, 2 * round(value / 2))

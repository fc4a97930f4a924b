"""Reading a source with PyAV: what it is, and whether it can be transcoded at all.

:func:`probe` rejects sources that can never be transcoded with :class:`InvalidMedia` (not a
video, corrupt, zero duration, over the size or duration limit) and describes the rest in a
:class:`SourceInfo`: the *display* size (rotation metadata and non-square pixels applied, as
ffmpeg's autorotation and our scaler will), the frame rate to encode at, and the audio track.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.container
import av.error
import av.stream
from av.audio.stream import AudioStream
from av.video.stream import VideoStream

from flixstack.media.errors import InvalidMedia

# Containers whose one picture is a still image, not a video.
_IMAGE_FORMATS = frozenset(
    {"image2", "png_pipe", "jpeg_pipe", "webp_pipe", "bmp_pipe", "tiff_pipe", "svg_pipe"}
)
# Frame rates a source's rate snaps to when it is within 1 % of one of them.
_STANDARD_RATES = tuple(
    Fraction(r)
    for r in ("24000/1001", "24", "25", "30000/1001", "30", "48", "50", "60000/1001", "60")
)
# The video must hold packets this close to its declared end (a truncated upload does not):
# to the video track's own duration when the container states one, else to the container's,
# which may include audio that outlasts the picture.
_TAIL_S = 0.75
_TAIL_CONTAINER_S = 5.0


@dataclass(frozen=True)
class Limits:
    """What a source may be at most. Larger or longer sources are refused before any work."""

    max_bytes: int = 20 * 2**30
    max_duration_s: float = 4 * 3600


@dataclass(frozen=True)
class VideoInfo:
    codec: str
    coded_width: int
    coded_height: int
    width: int
    """Display width: rotation and sample aspect ratio applied."""
    height: int
    """Display height: rotation and sample aspect ratio applied."""
    rotation: int
    """Degrees (0, 90, 180 or 270, counter-clockwise) the display matrix turns the picture."""
    frame_rate: float
    """The constant rate every rendition is encoded at (the source's, snapped, at most 60)."""
    frame_rate_fraction: str
    """The same rate exactly, as ffmpeg's ``fps`` filter takes it (``30000/1001``)."""
    variable_frame_rate: bool
    pix_fmt: str | None

    @property
    def portrait(self) -> bool:
        return self.height > self.width

    @property
    def short_side(self) -> int:
        return min(self.width, self.height)


@dataclass(frozen=True)
class AudioInfo:
    codec: str
    channels: int
    sample_rate: int
    language: str | None


@dataclass(frozen=True)
class SourceInfo:
    path: Path
    size_bytes: int
    format_name: str
    duration_s: float
    bit_rate: int | None
    video: VideoInfo
    audio: AudioInfo | None

    @property
    def has_audio(self) -> bool:
        return self.audio is not None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly copy, for job records and reports."""
        data = asdict(self)
        data["path"] = str(self.path)
        return data


def probe(path: Path, limits: Limits | None = None) -> SourceInfo:
    """Describes ``path`` or raises InvalidMedia with a stable ``reason``.

    The size limit is checked before the file is opened; the beginning and the end of the
    video must decode (a truncated upload fails here, not half-way through an encode).
    """
    limits = limits or Limits()
    try:
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise InvalidMedia(f"{path.name} does not exist", reason="not_video") from exc
    if size > limits.max_bytes:
        raise InvalidMedia(
            f"{path.name} is {size} bytes; the limit is {limits.max_bytes}", reason="too_large"
        )
    if size == 0:
        raise InvalidMedia(f"{path.name} is empty", reason="zero_duration")
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except av.error.FFmpegError as exc:
        if _looks_like_media(path):
            raise InvalidMedia(
                f"{path.name} looks like a media file but cannot be read: {exc.strerror}",
                reason="corrupt",
            ) from exc
        raise InvalidMedia(
            f"{path.name} is not a video file ffmpeg can read", reason="not_video"
        ) from exc
    with container:
        return _describe(path, size, container, limits)


def _describe(
    path: Path, size: int, container: av.container.InputContainer, limits: Limits
) -> SourceInfo:
    if not container.streams:
        raise InvalidMedia(f"{path.name} contains no media streams", reason="zero_duration")
    videos = [
        s for s in container.streams.video if not s.disposition & av.stream.Disposition.attached_pic
    ]
    if not videos or container.format.name in _IMAGE_FORMATS:
        kind = "audio only" if container.streams.audio else "not a video"
        raise InvalidMedia(f"{path.name} has no video track ({kind})", reason="not_video")
    video = videos[0]
    duration = _duration_s(container, video)
    if duration <= 0:
        raise InvalidMedia(f"{path.name} has no duration", reason="zero_duration")
    if duration > limits.max_duration_s:
        raise InvalidMedia(
            f"{path.name} lasts {duration:.1f} s; the limit is {limits.max_duration_s:.0f} s",
            reason="too_long",
        )
    first = _first_frame(path, container, video)
    rotation = int(90 * round(first.rotation / 90)) % 360
    _check_tail(path, container, video, duration)
    width, height = _display_size(video, rotation)
    rate, vfr = _frame_rate(video)
    audio = next(iter(container.streams.audio), None)
    return SourceInfo(
        path=path,
        size_bytes=size,
        format_name=container.format.name,
        duration_s=duration,
        bit_rate=container.bit_rate or None,
        video=VideoInfo(
            codec=video.codec_context.name,
            coded_width=video.codec_context.width,
            coded_height=video.codec_context.height,
            width=width,
            height=height,
            rotation=rotation,
            frame_rate=float(rate),
            frame_rate_fraction=f"{rate.numerator}/{rate.denominator}",
            variable_frame_rate=vfr,
            pix_fmt=video.codec_context.pix_fmt,
        ),
        audio=_audio_info(audio) if audio is not None else None,
    )


def _duration_s(container: av.container.InputContainer, video: VideoStream) -> float:
    """The container's duration, else the video stream's, else the last packet's end."""
    if container.duration is not None and container.duration > 0:
        return container.duration / av.time_base
    if video.duration and video.time_base is not None:
        return float(video.duration * video.time_base)
    if video.time_base is None:
        return 0.0
    start: int | None = None
    end: int | None = None
    try:
        for packet in container.demux(video):
            if packet.pts is None:
                continue
            start = packet.pts if start is None else min(start, packet.pts)
            end = max(end or packet.pts, packet.pts + (packet.duration or 0))
    except av.error.FFmpegError:
        return 0.0
    container.seek(0)
    if start is None or end is None:
        return 0.0
    return float((end - start) * video.time_base)


def _first_frame(
    path: Path, container: av.container.InputContainer, video: VideoStream
) -> av.VideoFrame:
    try:
        for frame in container.decode(video):
            return frame
    except av.error.FFmpegError as exc:
        raise InvalidMedia(
            f"{path.name}: the video does not decode ({exc.strerror})", reason="corrupt"
        ) from exc
    raise InvalidMedia(f"{path.name}: the video track has no frames", reason="zero_duration")


def _check_tail(
    path: Path, container: av.container.InputContainer, video: VideoStream, duration: float
) -> None:
    """Packets must reach the last second: a truncated file claims more than it holds."""
    time_base = video.time_base
    if time_base is None:
        return
    start = float((video.start_time or 0) * time_base)
    if video.duration:
        target = start + float(video.duration * time_base) - _TAIL_S
    else:
        target = start + duration - _TAIL_CONTAINER_S
    if target <= start:
        return
    reached = False
    try:
        container.seek(int(target / time_base), stream=video)
        for packet in container.demux(video):
            if (
                packet.pts is not None
                and not packet.is_corrupt
                and packet.pts * time_base >= target
            ):
                reached = True
                break
    except av.error.FFmpegError as exc:
        raise InvalidMedia(
            f"{path.name}: the end of the video cannot be read ({exc.strerror})",
            reason="corrupt",
        ) from exc
    if not reached:
        raise InvalidMedia(
            f"{path.name} ends before its declared duration of {duration:.1f} s (truncated?)",
            reason="corrupt",
        )


def _display_size(video: VideoStream, rotation: int) -> tuple[int, int]:
    width, height = video.codec_context.width, video.codec_context.height
    sar = video.sample_aspect_ratio
    if sar is not None and sar > 0 and sar != 1:
        width = round(width * sar)
    if rotation in (90, 270):
        width, height = height, width
    return width, height


def _frame_rate(video: VideoStream) -> tuple[Fraction, bool]:
    """The constant rate to encode at, and whether the source's rate varies."""
    average = Fraction(video.average_rate) if video.average_rate else None
    base = Fraction(video.base_rate) if video.base_rate else None
    vfr = average is not None and base is not None and abs(average - base) > base / 100
    # The real base rate of a VFR source (a phone's 30, say) beats its average (27.4), unless
    # it is a container's timebase in disguise (90000).
    found = base if base is not None and base <= 120 else average
    rate: Fraction = found if found is not None and found > 0 else Fraction(30)
    nearest = min(_STANDARD_RATES, key=lambda standard: abs(rate - standard))
    if abs(rate - nearest) <= nearest / 100:
        rate = nearest
    while rate > 60:
        rate /= 2
    if rate < 1:
        rate = Fraction(1)
    if rate.denominator not in (1, 1001):
        rate = Fraction(round(rate * 1000), 1000)
    return rate, vfr


def _audio_info(stream: AudioStream) -> AudioInfo:
    context = stream.codec_context
    language = stream.language or stream.metadata.get("language")
    return AudioInfo(
        codec=context.name,
        channels=context.channels or 2,
        sample_rate=context.sample_rate or 48000,
        language=language if language and language != "und" else None,
    )


def _looks_like_media(path: Path) -> bool:
    """True when the first bytes carry the signature of a container we know."""
    with path.open("rb") as handle:
        head = handle.read(400)
    if len(head) >= 12 and head[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip"):
        return True
    signatures = (
        b"\x1a\x45\xdf\xa3",  # Matroska / WebM
        b"RIFF",  # AVI
        b"FLV",
        b"OggS",
        b"\x00\x00\x01\xba",  # MPEG program stream
        b"\x30\x26\xb2\x75",  # ASF / WMV
    )
    if head.startswith(signatures):
        return True
    return len(head) > 376 and head[0] == head[188] == head[376] == 0x47  # MPEG-TS

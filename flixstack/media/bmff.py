"""ISO-BMFF reading for CMAF tracks: what an fMP4 init segment and its media segments say.

The encode leaves ``cmaf/<track>/init.mp4`` and ``seg_00001.m4s``... per track. These
readers walk their boxes: the track's timescale and codec from ``init.mp4`` (also when
its sample entry is CENC-protected), and each segment's decode time, duration and
first-sample flags from its ``moof``; sizes are the files' real bytes.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

CMAF_DIR = "cmaf"
"""Where the encode writes its tracks under an asset's output directory."""
INIT_NAME = "init.mp4"
SEGMENT_PREFIX = "seg_"
SEGMENT_SUFFIX = ".m4s"
SEGMENT_DIGITS = 5

# trun / tfhd / trex sample flags: sample_is_non_sync_sample.
_NON_SYNC = 0x00010000


class BoxError(ValueError):
    """A file is not the fragmented MP4 the encoder should have written."""


@dataclass(frozen=True)
class InitInfo:
    """What ``init.mp4`` says about its one track."""

    timescale: int
    codec: str
    """RFC 6381 codec string: ``avc1.PPCCLL`` from the avcC box, or ``mp4a.40.N``."""
    handler: str
    """``vide`` or ``soun``."""
    default_sample_duration: int
    default_sample_flags: int
    nal_length_size: int = 0
    """Bytes of each H.264 NAL unit's length prefix (from avcC); 0 for audio."""
    width: int = 0
    height: int = 0
    channels: int = 0
    sample_rate: int = 0


@dataclass(frozen=True)
class SegmentInfo:
    """One media segment, from its ``moof`` boxes."""

    name: str
    size: int
    """Bytes in the file (what a client downloads)."""
    decode_time: int
    """``tfdt`` of its first fragment, in the track's timescale."""
    presentation_time: int
    """Its earliest presentation time (decode time + the smallest composition offset)."""
    duration: int
    """Sum of its sample durations, in the track's timescale."""
    samples: int
    starts_with_sync: bool
    """Its first sample is a sync sample (an IDR for video)."""


def segment_name(number: int) -> str:
    return f"{SEGMENT_PREFIX}{number:0{SEGMENT_DIGITS}d}{SEGMENT_SUFFIX}"


def read_init(path: Path) -> InitInfo:
    """Reads the track of an fMP4 initialization segment."""
    data = path.read_bytes()
    moov = _child(data, boxes(data, 0, len(data)), b"moov", path)
    trak = _child(data, boxes(data, *moov), b"trak", path)
    mdia = _child(data, boxes(data, *trak), b"mdia", path)
    mdhd = _child(data, boxes(data, *mdia), b"mdhd", path)
    version = data[mdhd[0]]
    timescale = struct.unpack_from(">I", data, mdhd[0] + (20 if version == 1 else 12))[0]
    hdlr = _child(data, boxes(data, *mdia), b"hdlr", path)
    handler = data[hdlr[0] + 8 : hdlr[0] + 12].decode("latin-1")
    minf = _child(data, boxes(data, *mdia), b"minf", path)
    stbl = _child(data, boxes(data, *minf), b"stbl", path)
    stsd = _child(data, boxes(data, *stbl), b"stsd", path)
    duration, flags = 0, 0
    mvex = _find(boxes(data, *moov), b"mvex")
    if mvex is not None:
        trex = _find(boxes(data, *mvex), b"trex")
        if trex is not None:
            duration, _, flags = struct.unpack_from(">III", data, trex[0] + 12)
    entries = list(boxes(data, stsd[0] + 8, stsd[1]))
    if not entries:
        raise BoxError(f"{path}: stsd has no sample entry")
    kind, start, end = entries[0]
    if kind in (b"encv", b"enca"):  # protected (CENC): the original format is in sinf/frma
        sinf = _child(
            data, boxes(data, start + (78 if kind == b"encv" else 28), end), b"sinf", path
        )
        frma = _child(data, boxes(data, *sinf), b"frma", path)
        kind = data[frma[0] : frma[0] + 4]
    if kind in (b"avc1", b"avc3"):
        width, height = struct.unpack_from(">HH", data, start + 24)
        avcc = _child(data, boxes(data, start + 78, end), b"avcC", path)
        profile, compatibility, level = data[avcc[0] + 1 : avcc[0] + 4]
        codec = f"{kind.decode()}.{profile:02x}{compatibility:02x}{level:02x}"
        length_size = (data[avcc[0] + 4] & 0x03) + 1
        return InitInfo(
            timescale, codec, handler, duration, flags, length_size, width=width, height=height
        )
    if kind == b"mp4a":
        channels = struct.unpack_from(">H", data, start + 16)[0]
        sample_rate = struct.unpack_from(">I", data, start + 24)[0] >> 16
        esds = _find(boxes(data, start + 28, end), b"esds")
        codec = _mp4a_codec(data[esds[0] + 4 : esds[1]]) if esds is not None else "mp4a.40.2"
        return InitInfo(
            timescale, codec, handler, duration, flags, channels=channels, sample_rate=sample_rate
        )
    raise BoxError(f"{path}: unsupported sample entry {kind!r}")


def read_segment(path: Path, init: InitInfo) -> SegmentInfo:
    """Reads the timing of a media segment (one or more moof+mdat pairs)."""
    data = path.read_bytes()
    decode_time: int | None = None
    earliest: int | None = None
    duration = 0
    samples = 0
    first_flags: int | None = None
    for kind, start, end in boxes(data, 0, len(data)):
        if kind != b"moof":
            continue
        for traf in (b for b in boxes(data, start, end) if b[0] == b"traf"):
            header = FragmentHeader(
                0, init.default_sample_duration, None, init.default_sample_flags
            )
            traf_time = (decode_time or 0) + duration
            for child, cstart, cend in boxes(data, traf[1], traf[2]):
                if child == b"tfhd":
                    header = fragment_header(data, cstart, init)
                elif child == b"tfdt":
                    fmt = ">Q" if data[cstart] == 1 else ">I"
                    traf_time = struct.unpack_from(fmt, data, cstart + 4)[0]
                    decode_time = traf_time if decode_time is None else decode_time
                elif child == b"trun":
                    run = track_run(data, cstart, cend, header)
                    if run.count and first_flags is None:
                        first_flags = run.first_flags
                    if run.count:
                        shown = traf_time + run.min_offset
                        earliest = shown if earliest is None else min(earliest, shown)
                    traf_time += run.duration
                    samples += run.count
                    duration += run.duration
    if decode_time is None or earliest is None or samples == 0:
        raise BoxError(f"{path}: no fragment with samples")
    sync = first_flags is not None and not first_flags & _NON_SYNC
    return SegmentInfo(path.name, len(data), decode_time, earliest, duration, samples, sync)


@dataclass(frozen=True)
class Track:
    """One CMAF track on disk: ``cmaf/<name>/``."""

    name: str
    init: InitInfo
    segments: list[SegmentInfo]

    @property
    def duration_s(self) -> float:
        return sum(s.duration for s in self.segments) / self.init.timescale

    def seconds(self, segment: SegmentInfo) -> float:
        return segment.duration / self.init.timescale

    @property
    def target_duration(self) -> int:
        """EXT-X-TARGETDURATION: the longest segment, rounded to the nearest second."""
        return max(1, max(math.floor(self.seconds(s) + 0.5) for s in self.segments))

    @property
    def average_bps(self) -> int:
        """Bits of all segments over their duration (HLS AVERAGE-BANDWIDTH)."""
        return math.ceil(sum(s.size for s in self.segments) * 8 / self.duration_s)

    @property
    def peak_bps(self) -> int:
        """The peak segment bit rate as RFC 8216bis defines it for BANDWIDTH.

        The largest bit rate of any contiguous run of segments lasting between 0.5 and 1.5
        times the target duration (so a tiny last segment does not count alone); the
        average when no run qualifies (content shorter than half a target duration).
        """
        target = self.target_duration
        peak = 0.0
        for first in range(len(self.segments)):
            size, seconds = 0, 0.0
            for segment in self.segments[first:]:
                size += segment.size
                seconds += self.seconds(segment)
                if seconds > 1.5 * target:
                    break
                if seconds >= 0.5 * target:
                    peak = max(peak, size * 8 / seconds)
        return math.ceil(peak) if peak else self.average_bps


def read_track(directory: Path) -> Track:
    """Reads ``directory``/init.mp4 and its numbered segments, which must run from 1 on."""
    init = read_init(directory / INIT_NAME)
    paths = sorted(directory.glob(f"{SEGMENT_PREFIX}*{SEGMENT_SUFFIX}"))
    expected = [segment_name(n) for n in range(1, len(paths) + 1)]
    if [p.name for p in paths] != expected:
        raise BoxError(f"{directory}: segments are not numbered 1..{len(paths)}")
    if not paths:
        raise BoxError(f"{directory}: no segments")
    return Track(directory.name, init, [read_segment(p, init) for p in paths])


# --- ISO-BMFF box walking ------------------------------------------------------------------


Box = tuple[bytes, int, int]
"""(type, payload start, box end) within a buffer."""


def boxes(data: bytes | bytearray, start: int, end: int) -> Iterator[Box]:
    """The boxes in data[start:end], in order (raises BoxError when one overruns)."""
    offset = start
    while offset + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, offset)
        header = 8
        if size == 1:
            if offset + 16 > end:
                raise BoxError("truncated 64-bit box header")
            size = struct.unpack_from(">Q", data, offset + 8)[0]
            header = 16
        elif size == 0:
            size = end - offset
        if size < header or offset + size > end:
            raise BoxError(f"box {kind!r} at {offset} overruns its parent")
        yield kind, offset + header, offset + size
        offset += size


def spans(data: bytes | bytearray, start: int, end: int) -> Iterator[tuple[bytes, int, int, int]]:
    """(type, box start, payload start, box end) of each box in data[start:end]: what a
    writer that copies or rebuilds boxes needs."""
    offset = start
    for kind, payload, box_end in boxes(data, start, end):
        yield kind, offset, payload, box_end
        offset = box_end


def box(kind: bytes, payload: bytes) -> bytes:
    """A box with a 32-bit size."""
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def _find(boxes: Iterator[Box], kind: bytes) -> tuple[int, int] | None:
    for found, start, end in boxes:
        if found == kind:
            return start, end
    return None


def _child(data: bytes, boxes: Iterator[Box], kind: bytes, path: Path) -> tuple[int, int]:
    found = _find(boxes, kind)
    if found is None:
        raise BoxError(f"{path}: no {kind.decode()} box")
    return found


# tfhd flags
BASE_DATA_OFFSET = 0x000001
DEFAULT_BASE_IS_MOOF = 0x020000
# trun flags, and where its data offset sits in the box's payload when present
DATA_OFFSET_PRESENT = 0x000001
TRUN_DATA_OFFSET_AT = 8


@dataclass(frozen=True)
class FragmentHeader:
    """A ``tfhd``: its flags and the defaults its ``trun`` entries fall back on."""

    flags: int
    default_duration: int
    default_size: int | None
    default_flags: int


def fragment_header(data: bytes | bytearray, start: int, init: InitInfo) -> FragmentHeader:
    """The ``tfhd`` whose payload starts at ``start`` (``trex``'s defaults, from ``init``,
    where it sets none)."""
    tf_flags = int.from_bytes(data[start + 1 : start + 4], "big")
    duration, size, flags = init.default_sample_duration, None, init.default_sample_flags
    offset = start + 8  # version/flags, track_ID
    if tf_flags & BASE_DATA_OFFSET:
        offset += 8
    if tf_flags & 0x02:
        offset += 4  # sample_description_index
    if tf_flags & 0x08:
        duration = struct.unpack_from(">I", data, offset)[0]
        offset += 4
    if tf_flags & 0x10:
        size = struct.unpack_from(">I", data, offset)[0]
        offset += 4
    if tf_flags & 0x20:
        flags = struct.unpack_from(">I", data, offset)[0]
    return FragmentHeader(tf_flags, duration, size, flags)


@dataclass(frozen=True)
class TrackRun:
    """A ``trun``: its samples' timing and sizes."""

    count: int
    duration: int
    first_flags: int
    min_offset: int
    """Smallest composition offset relative to the run's first decode time."""
    data_offset: int | None
    """Where its samples start, from the fragment's base (None when not stated)."""
    sizes: list[int] | None
    """Each sample's bytes (None when neither the trun nor the tfhd says)."""


def track_run(data: bytes | bytearray, start: int, end: int, header: FragmentHeader) -> TrackRun:
    """The ``trun`` whose payload is ``data[start:end]``."""
    version = data[start]
    tr_flags = int.from_bytes(data[start + 1 : start + 4], "big")
    count = struct.unpack_from(">I", data, start + 4)[0]
    offset = start + 8
    data_offset: int | None = None
    if tr_flags & DATA_OFFSET_PRESENT:
        data_offset = struct.unpack_from(">i", data, offset)[0]
        offset += 4
    first_flags: int | None = None
    if tr_flags & 0x04:
        first_flags = struct.unpack_from(">I", data, offset)[0]
        offset += 4
    fields = [bit for bit in (0x100, 0x200, 0x400, 0x800) if tr_flags & bit]
    if offset + 4 * len(fields) * count > end:
        raise BoxError("trun overruns its box")
    # Composition offsets are signed in version 1 (CMAF's negative offsets).
    fmt = ">" + "".join("i" if bit == 0x800 and version == 1 else "I" for bit in fields)
    total = 0
    min_offset: int | None = None
    sizes: list[int] | None = [] if 0x200 in fields or header.default_size is not None else None
    for index in range(count):
        values = dict(zip(fields, struct.unpack_from(fmt, data, offset), strict=True))
        offset += 4 * len(fields)
        presented = total + values.get(0x800, 0)
        min_offset = presented if min_offset is None else min(min_offset, presented)
        total += values.get(0x100, header.default_duration)
        if sizes is not None:
            sizes.append(values.get(0x200, header.default_size or 0))
        if index == 0 and first_flags is None:
            first_flags = values.get(0x400, header.default_flags)
    return TrackRun(
        count,
        total,
        first_flags if first_flags is not None else header.default_flags,
        min_offset or 0,
        data_offset,
        sizes,
    )


def strip_edit_lists(path: Path) -> None:
    """Removes every ``edts`` box from an init segment, rewriting the parents' sizes.

    ffmpeg writes an empty edit for the encoder delay even with negative composition
    offsets; players that honour it (Safari) would show video late, those that ignore it
    (hls.js, dash.js, Shaka) would not. Without it, both agree and A/V sync is the source's.
    """
    data = path.read_bytes()
    rewritten = _without_edts(data, 0, len(data))
    if rewritten != data:
        path.write_bytes(rewritten)


def _without_edts(data: bytes, start: int, end: int) -> bytes:
    out = bytearray()
    for kind, box_start, payload, box_end in spans(data, start, end):
        if kind == b"edts":
            pass
        elif kind in (b"moov", b"trak"):
            out += box(kind, _without_edts(data, payload, box_end))
        else:
            out += data[box_start:box_end]
    return bytes(out)


def _mp4a_codec(esds: bytes) -> str:
    """``mp4a.<objectTypeIndication>.<audioObjectType>`` from an esds descriptor tree."""
    object_type, audio_object_type = 0x40, 2
    offset = 0
    while offset < len(esds):
        tag = esds[offset]
        offset += 1
        length = 0
        for _ in range(4):
            byte = esds[offset]
            offset += 1
            length = (length << 7) | (byte & 0x7F)
            if not byte & 0x80:
                break
        if tag == 0x03:  # ES_Descriptor: ES_ID, flags, then nested descriptors
            flags = esds[offset + 2]
            offset += 3 + (2 if flags & 0x80 else 0) + (2 if flags & 0x20 else 0)
            if flags & 0x40:
                offset += 1 + esds[offset]
            continue
        if tag == 0x04:  # DecoderConfigDescriptor: OTI, then 12 bytes, then nested
            object_type = esds[offset]
            offset += 13
            continue
        if tag == 0x05:  # DecoderSpecificInfo: AudioSpecificConfig
            audio_object_type = esds[offset] >> 3
            if audio_object_type == 31:
                audio_object_type = 32 + (((esds[offset] & 0x07) << 3) | (esds[offset + 1] >> 5))
            break
        offset += length
    return f"mp4a.{object_type:02x}.{audio_object_type}"

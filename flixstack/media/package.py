"""CMAF packaging: HLS and DASH manifests over the same fMP4 segments.

The encode leaves ``cmaf/<track>/init.mp4`` and ``seg_00001.m4s``... per track. This module
reads those files (their ISO-BMFF boxes: the track's timescale and codec from ``init.mp4``,
each segment's decode time, duration and first-sample flags from its ``moof``), measures
bit rates from the real bytes, and writes the HLS media and master playlists and the DASH
MPD from the same numbers, so the two manifests cannot disagree.
"""

from __future__ import annotations

import math
import struct
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

from flixstack.media import encryption
from flixstack.media.encryption import SegmentKey

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
    moov = _child(data, _boxes(data, 0, len(data)), b"moov", path)
    trak = _child(data, _boxes(data, *moov), b"trak", path)
    mdia = _child(data, _boxes(data, *trak), b"mdia", path)
    mdhd = _child(data, _boxes(data, *mdia), b"mdhd", path)
    version = data[mdhd[0]]
    timescale = struct.unpack_from(">I", data, mdhd[0] + (20 if version == 1 else 12))[0]
    hdlr = _child(data, _boxes(data, *mdia), b"hdlr", path)
    handler = data[hdlr[0] + 8 : hdlr[0] + 12].decode("latin-1")
    minf = _child(data, _boxes(data, *mdia), b"minf", path)
    stbl = _child(data, _boxes(data, *minf), b"stbl", path)
    stsd = _child(data, _boxes(data, *stbl), b"stsd", path)
    duration, flags = 0, 0
    mvex = _find(_boxes(data, *moov), b"mvex")
    if mvex is not None:
        trex = _find(_boxes(data, *mvex), b"trex")
        if trex is not None:
            duration, _, flags = struct.unpack_from(">III", data, trex[0] + 12)
    entries = list(_boxes(data, stsd[0] + 8, stsd[1]))
    if not entries:
        raise BoxError(f"{path}: stsd has no sample entry")
    kind, start, end = entries[0]
    if kind in (b"avc1", b"avc3"):
        width, height = struct.unpack_from(">HH", data, start + 24)
        avcc = _child(data, _boxes(data, start + 78, end), b"avcC", path)
        profile, compatibility, level = data[avcc[0] + 1 : avcc[0] + 4]
        codec = f"{kind.decode()}.{profile:02x}{compatibility:02x}{level:02x}"
        return InitInfo(timescale, codec, handler, duration, flags, width=width, height=height)
    if kind == b"mp4a":
        channels = struct.unpack_from(">H", data, start + 16)[0]
        sample_rate = struct.unpack_from(">I", data, start + 24)[0] >> 16
        esds = _find(_boxes(data, start + 28, end), b"esds")
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
    for kind, start, end in _boxes(data, 0, len(data)):
        if kind != b"moof":
            continue
        for traf in (b for b in _boxes(data, start, end) if b[0] == b"traf"):
            defaults = init.default_sample_duration, init.default_sample_flags
            traf_time = (decode_time or 0) + duration
            for child, cstart, cend in _boxes(data, traf[1], traf[2]):
                if child == b"tfhd":
                    defaults = _tfhd_defaults(data, cstart, *defaults)
                elif child == b"tfdt":
                    fmt = ">Q" if data[cstart] == 1 else ">I"
                    traf_time = struct.unpack_from(fmt, data, cstart + 4)[0]
                    decode_time = traf_time if decode_time is None else decode_time
                elif child == b"trun":
                    run = _trun(data, cstart, cend, *defaults)
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


def _boxes(data: bytes, start: int, end: int) -> Iterator[Box]:
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


def _tfhd_defaults(data: bytes, start: int, duration: int, flags: int) -> tuple[int, int]:
    tf_flags = int.from_bytes(data[start + 1 : start + 4], "big")
    offset = start + 8  # version/flags, track_ID
    if tf_flags & 0x01:
        offset += 8  # base_data_offset
    if tf_flags & 0x02:
        offset += 4  # sample_description_index
    if tf_flags & 0x08:
        duration = struct.unpack_from(">I", data, offset)[0]
        offset += 4
    if tf_flags & 0x10:
        offset += 4  # default_sample_size
    if tf_flags & 0x20:
        flags = struct.unpack_from(">I", data, offset)[0]
    return duration, flags


@dataclass(frozen=True)
class _Run:
    count: int
    duration: int
    first_flags: int
    min_offset: int
    """Smallest composition offset relative to the run's first decode time."""


def _trun(data: bytes, start: int, end: int, default_duration: int, default_flags: int) -> _Run:
    version = data[start]
    tr_flags = int.from_bytes(data[start + 1 : start + 4], "big")
    count = struct.unpack_from(">I", data, start + 4)[0]
    offset = start + 8
    if tr_flags & 0x01:
        offset += 4  # data_offset
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
    for index in range(count):
        values = dict(zip(fields, struct.unpack_from(fmt, data, offset), strict=True))
        offset += 4 * len(fields)
        presented = total + values.get(0x800, 0)
        min_offset = presented if min_offset is None else min(min_offset, presented)
        total += values.get(0x100, default_duration)
        if index == 0 and first_flags is None:
            first_flags = values.get(0x400, default_flags)
    return _Run(
        count,
        total,
        first_flags if first_flags is not None else default_flags,
        min_offset or 0,
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
    offset = start
    for kind, payload, box_end in _boxes(data, start, end):
        if kind == b"edts":
            pass
        elif kind in (b"moov", b"trak"):
            inner = _without_edts(data, payload, box_end)
            out += struct.pack(">I4s", 8 + len(inner), kind) + inner
        else:
            out += data[offset:box_end]
        offset = box_end
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


# --- manifests ---------------------------------------------------------------------------------

HLS_DIR = "hls"
DASH_DIR = "dash"
SUBS_DIR = "subs"
MASTER_NAME = "master.m3u8"
MPD_NAME = "manifest.mpd"
AUDIO_GROUP = "audio"
SUBTITLE_GROUP = "subs"
HLS_VERSION = 7
MPD_NS = "urn:mpeg:dash:schema:mpd:2011"
MPD_PROFILES = "urn:mpeg:dash:profile:isoff-live:2011,urn:mpeg:dash:profile:cmaf:2019"
_LANGUAGE_NAMES = {
    "ar": "العربية",
    "de": "Deutsch",
    "en": "English",
    "es": "Español",
    "fr": "Français",
    "hi": "हिन्दी",
    "it": "Italiano",
    "ja": "日本語",
    "ko": "한국어",
    "nl": "Nederlands",
    "pl": "Polski",
    "pt": "Português",
    "ru": "Русский",
    "sv": "Svenska",
    "tr": "Türkçe",
    "zh": "中文",
}


@dataclass(frozen=True)
class Rendition:
    """One video variant as published (what the HLS master playlist says about it)."""

    width: int
    height: int
    bandwidth: int
    """HLS BANDWIDTH: peak segment bit rate of the video plus that of the audio rendition."""
    average_bandwidth: int
    """HLS AVERAGE-BANDWIDTH: average bit rate of the video plus that of the audio."""
    codecs: str
    """HLS CODECS of the variant: ``avc1.PPCCLL`` (+ ``,mp4a.40.2`` with audio)."""
    frame_rate: float
    playlist: str
    """Media playlist, relative to the output directory (``hls/v360.m3u8``)."""


@dataclass(frozen=True)
class SubtitleTrack:
    language: str
    """BCP-47 tag."""
    vtt: str
    """WebVTT file relative to the output directory (``subs/en.vtt``)."""
    size: int


@dataclass(frozen=True)
class Packaged:
    renditions: list[Rendition]
    manifests: list[str]
    """Every manifest, relative: media playlists, then the master playlist, then the MPD."""


def package(
    out_dir: Path,
    video: list[str],
    *,
    frame_rate: str,
    audio: str | None,
    audio_language: str | None,
    subtitles: list[SubtitleTrack],
    segment_s: float,
    key: SegmentKey | None = None,
) -> Packaged:
    """Writes hls/ and dash/ for the CMAF tracks ``video`` (and ``audio``) under out_dir/cmaf.

    With ``key``, every media segment is encrypted in place (AES-128, see
    :mod:`flixstack.media.encryption`) after its timing is read, the HLS playlists name
    the key, and no DASH manifest is written: DASH players cannot decrypt whole-segment
    AES-128 (they need CENC), so a protected asset is HLS only."""
    cmaf = out_dir / "cmaf"
    videos = [read_track(cmaf / name) for name in video]
    audio_track = read_track(cmaf / audio) if audio is not None else None
    for track in videos:
        _check_aligned(videos[0], track)
    if key is not None:
        videos = [_encrypt_track(cmaf / t.name, t, key) for t in videos]
        audio_track = (
            _encrypt_track(cmaf / audio_track.name, audio_track, key) if audio_track else None
        )
    hls = out_dir / HLS_DIR
    hls.mkdir(parents=True, exist_ok=True)
    media_playlists = []
    for track in [*videos, *([audio_track] if audio_track else [])]:
        (hls / f"{track.name}.m3u8").write_text(media_playlist(track, key), encoding="utf-8")
        media_playlists.append(f"{HLS_DIR}/{track.name}.m3u8")
    duration = max(t.duration_s for t in [*videos, *([audio_track] if audio_track else [])])
    for sub in subtitles:
        name = f"subs_{sub.language}.m3u8"
        (hls / name).write_text(subtitle_playlist(sub, duration), encoding="utf-8")
        media_playlists.append(f"{HLS_DIR}/{name}")
    renditions = [_rendition(track, audio_track, frame_rate) for track in videos]
    master = master_playlist(renditions, audio_track, audio_language, subtitles)
    (hls / MASTER_NAME).write_text(master, encoding="utf-8")
    if key is not None:
        return Packaged(renditions, [*media_playlists, f"{HLS_DIR}/{MASTER_NAME}"])
    mpd = dash_manifest(
        videos,
        audio_track,
        frame_rate=frame_rate,
        audio_language=audio_language,
        subtitles=subtitles,
        duration_s=duration,
        min_buffer_s=max(segment_s, videos[0].target_duration),
    )
    (out_dir / DASH_DIR).mkdir(parents=True, exist_ok=True)
    (out_dir / DASH_DIR / MPD_NAME).write_text(mpd, encoding="utf-8")
    return Packaged(
        renditions, [*media_playlists, f"{HLS_DIR}/{MASTER_NAME}", f"{DASH_DIR}/{MPD_NAME}"]
    )


def _encrypt_track(directory: Path, track: Track, key: SegmentKey) -> Track:
    """Encrypts the track's segments in place (sequence numbers from 0, in order); the
    returned track has their new sizes, so BANDWIDTH counts the bytes players download."""
    for sequence, segment in enumerate(track.segments):
        encryption.encrypt_file(directory / segment.name, key.key, sequence)
    return replace(
        track,
        segments=[replace(s, size=encryption.encrypted_size(s.size)) for s in track.segments],
    )


def media_playlist(track: Track, key: SegmentKey | None = None) -> str:
    """A VOD media playlist of ``track``'s fMP4 segments (URIs relative to hls/); with
    ``key``, the segments are AES-128 encrypted and the clear init segment precedes it."""
    base = f"../cmaf/{track.name}/"
    lines = [
        "#EXTM3U",
        f"#EXT-X-VERSION:{HLS_VERSION}",
        f"#EXT-X-TARGETDURATION:{track.target_duration}",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        f'#EXT-X-MAP:URI="{base}{INIT_NAME}"',
    ]
    if key is not None:
        lines.append(key.tag)
    for segment in track.segments:
        lines += [f"#EXTINF:{track.seconds(segment):.6f},", f"{base}{segment.name}"]
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def subtitle_playlist(sub: SubtitleTrack, duration_s: float) -> str:
    """A VOD subtitle playlist whose one segment is the whole WebVTT file."""
    return (
        "\n".join(
            [
                "#EXTM3U",
                f"#EXT-X-VERSION:{HLS_VERSION}",
                f"#EXT-X-TARGETDURATION:{max(1, math.ceil(duration_s))}",
                "#EXT-X-PLAYLIST-TYPE:VOD",
                f"#EXTINF:{duration_s:.6f},",
                f"../{sub.vtt}",
                "#EXT-X-ENDLIST",
            ]
        )
        + "\n"
    )


def master_playlist(
    renditions: list[Rendition],
    audio: Track | None,
    audio_language: str | None,
    subtitles: list[SubtitleTrack],
) -> str:
    lines = ["#EXTM3U", f"#EXT-X-VERSION:{HLS_VERSION}", "#EXT-X-INDEPENDENT-SEGMENTS"]
    if audio is not None:
        language = f',LANGUAGE="{audio_language}"' if audio_language else ""
        name = _LANGUAGE_NAMES.get((audio_language or "").split("-")[0], "Main")
        lines.append(
            f'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="{AUDIO_GROUP}",NAME="{name}"{language},'
            f'AUTOSELECT=YES,DEFAULT=YES,CHANNELS="{audio.init.channels}",'
            f'URI="{audio.name}.m3u8"'
        )
    for sub in subtitles:
        name = _LANGUAGE_NAMES.get(sub.language.split("-")[0].lower(), sub.language)
        lines.append(
            f'#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="{SUBTITLE_GROUP}",NAME="{name}",'
            f'LANGUAGE="{sub.language}",AUTOSELECT=YES,DEFAULT=NO,FORCED=NO,'
            f'URI="subs_{sub.language}.m3u8"'
        )
    for rendition in renditions:
        attributes = [
            f"BANDWIDTH={rendition.bandwidth}",
            f"AVERAGE-BANDWIDTH={rendition.average_bandwidth}",
            f'CODECS="{rendition.codecs}"',
            f"RESOLUTION={rendition.width}x{rendition.height}",
            f"FRAME-RATE={rendition.frame_rate:.3f}",
        ]
        if audio is not None:
            attributes.append(f'AUDIO="{AUDIO_GROUP}"')
        if subtitles:
            attributes.append(f'SUBTITLES="{SUBTITLE_GROUP}"')
        attributes.append("CLOSED-CAPTIONS=NONE")
        lines += [f"#EXT-X-STREAM-INF:{','.join(attributes)}", rendition.playlist.split("/")[-1]]
    return "\n".join(lines) + "\n"


def dash_manifest(
    videos: list[Track],
    audio: Track | None,
    *,
    frame_rate: str,
    audio_language: str | None,
    subtitles: list[SubtitleTrack],
    duration_s: float,
    min_buffer_s: float,
) -> str:
    """A static MPD over the same CMAF segments (SegmentTemplate + SegmentTimeline)."""
    ET.register_namespace("", MPD_NS)
    mpd = ET.Element(
        _q("MPD"),
        {
            "profiles": MPD_PROFILES,
            "type": "static",
            "mediaPresentationDuration": _iso_duration(duration_s),
            "minBufferTime": _iso_duration(min_buffer_s),
        },
    )
    period = ET.SubElement(mpd, _q("Period"), {"id": "0", "start": "PT0S"})
    top = max(videos, key=lambda t: t.init.width * t.init.height)
    par = Fraction(top.init.width, top.init.height)
    video_set = ET.SubElement(
        period,
        _q("AdaptationSet"),
        {
            "id": "0",
            "contentType": "video",
            "mimeType": "video/mp4",
            "segmentAlignment": "true",
            "startWithSAP": "1",
            "maxWidth": str(top.init.width),
            "maxHeight": str(top.init.height),
            "maxFrameRate": _dash_rate(frame_rate),
            "par": f"{par.numerator}:{par.denominator}",
        },
    )
    for track in videos:
        representation = ET.SubElement(
            video_set,
            _q("Representation"),
            {
                "id": track.name,
                "bandwidth": str(track.peak_bps),
                "codecs": track.init.codec,
                "width": str(track.init.width),
                "height": str(track.init.height),
                "frameRate": _dash_rate(frame_rate),
                "sar": "1:1",
            },
        )
        _segment_template(representation, track)
    next_id = 1
    if audio is not None:
        attributes = {
            "id": str(next_id),
            "contentType": "audio",
            "mimeType": "audio/mp4",
            "segmentAlignment": "true",
            "startWithSAP": "1",
        }
        if audio_language:
            attributes["lang"] = audio_language
        audio_set = ET.SubElement(period, _q("AdaptationSet"), attributes)
        ET.SubElement(
            audio_set, _q("Role"), {"schemeIdUri": "urn:mpeg:dash:role:2011", "value": "main"}
        )
        representation = ET.SubElement(
            audio_set,
            _q("Representation"),
            {
                "id": audio.name,
                "bandwidth": str(audio.peak_bps),
                "codecs": audio.init.codec,
                "audioSamplingRate": str(audio.init.sample_rate),
            },
        )
        ET.SubElement(
            representation,
            _q("AudioChannelConfiguration"),
            {
                "schemeIdUri": "urn:mpeg:dash:23003:3:audio_channel_configuration:2011",
                "value": str(audio.init.channels),
            },
        )
        _segment_template(representation, audio)
        next_id += 1
    for sub in subtitles:
        text_set = ET.SubElement(
            period,
            _q("AdaptationSet"),
            {
                "id": str(next_id),
                "contentType": "text",
                "mimeType": "text/vtt",
                "lang": sub.language,
            },
        )
        next_id += 1
        ET.SubElement(
            text_set, _q("Role"), {"schemeIdUri": "urn:mpeg:dash:role:2011", "value": "subtitle"}
        )
        bandwidth = max(1, math.ceil(sub.size * 8 / max(duration_s, 0.001)))
        representation = ET.SubElement(
            text_set,
            _q("Representation"),
            {"id": f"subs_{sub.language}", "bandwidth": str(bandwidth)},
        )
        ET.SubElement(representation, _q("BaseURL")).text = f"../{sub.vtt}"
    ET.indent(mpd)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(mpd, encoding="unicode") + "\n"


def _segment_template(parent: ET.Element, track: Track) -> None:
    """Segments by number; times are media times (no presentationTimeOffset), so the
    tracks keep the offsets they were encoded with."""
    template = ET.SubElement(
        parent,
        _q("SegmentTemplate"),
        {
            "timescale": str(track.init.timescale),
            "initialization": f"../cmaf/{track.name}/{INIT_NAME}",
            "media": (
                f"../cmaf/{track.name}/{SEGMENT_PREFIX}$Number%0{SEGMENT_DIGITS}d${SEGMENT_SUFFIX}"
            ),
            "startNumber": "1",
        },
    )
    timeline = ET.SubElement(template, _q("SegmentTimeline"))
    for start, duration, repeat in timeline_entries(track.segments):
        attributes = {} if start is None else {"t": str(start)}
        attributes["d"] = str(duration)
        if repeat:
            attributes["r"] = str(repeat)
        ET.SubElement(timeline, _q("S"), attributes)


def timeline_entries(segments: list[SegmentInfo]) -> list[tuple[int | None, int, int]]:
    """SegmentTimeline ``S`` entries ``(t or None, d, r)``: runs of equal, contiguous segments.

    ``t`` is given for the first segment and after any gap or overlap.
    """
    entries: list[tuple[int | None, int, int]] = []
    expected: int | None = None
    for segment in segments:
        contiguous = expected is not None and segment.presentation_time == expected
        if entries and contiguous and entries[-1][1] == segment.duration:
            start, duration, repeat = entries[-1]
            entries[-1] = (start, duration, repeat + 1)
        else:
            entries.append((None if contiguous else segment.presentation_time, segment.duration, 0))
        expected = segment.presentation_time + segment.duration
    return entries


def _rendition(video: Track, audio: Track | None, frame_rate: str) -> Rendition:
    bandwidth, average = video.peak_bps, video.average_bps
    codecs = video.init.codec
    if audio is not None:
        bandwidth += audio.peak_bps
        average += audio.average_bps
        codecs = f"{codecs},{audio.init.codec}"
    return Rendition(
        width=video.init.width,
        height=video.init.height,
        bandwidth=bandwidth,
        average_bandwidth=average,
        codecs=codecs,
        frame_rate=float(Fraction(frame_rate)),
        playlist=f"{HLS_DIR}/{video.name}.m3u8",
    )


def _check_aligned(reference: Track, track: Track) -> None:
    """Every rendition must cut at the same instants, each segment starting with an IDR."""
    if not all(s.starts_with_sync for s in track.segments):
        raise BoxError(f"{track.name}: a segment does not start with a sync sample")
    ours = [s.presentation_time / track.init.timescale for s in track.segments]
    theirs = [s.presentation_time / reference.init.timescale for s in reference.segments]
    if len(ours) != len(theirs) or any(
        abs(a - b) > 1e-3 for a, b in zip(ours, theirs, strict=True)
    ):
        raise BoxError(f"{track.name}: segment boundaries differ from {reference.name}'s")


def _q(tag: str) -> str:
    return f"{{{MPD_NS}}}{tag}"


def _iso_duration(seconds: float) -> str:
    return f"PT{seconds:.3f}S"


def _dash_rate(frame_rate: str) -> str:
    rate = Fraction(frame_rate)
    return str(rate.numerator) if rate.denominator == 1 else f"{rate.numerator}/{rate.denominator}"

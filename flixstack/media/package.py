"""CMAF packaging: HLS and DASH manifests over the same fMP4 segments.

The encode leaves ``cmaf/<track>/init.mp4`` and ``seg_00001.m4s``... per track. This module
reads those files (:mod:`flixstack.media.bmff`), measures bit rates from the real bytes,
and writes the HLS media and master playlists and the DASH MPD from the same numbers, so
the two manifests cannot disagree.
"""

from __future__ import annotations

import math
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

from flixstack.media import cenc, encryption
from flixstack.media.bmff import (
    CMAF_DIR,
    INIT_NAME,
    SEGMENT_DIGITS,
    SEGMENT_PREFIX,
    SEGMENT_SUFFIX,
    BoxError,
    SegmentInfo,
    Track,
    read_track,
)
from flixstack.media.encryption import SegmentKey

CENC_DIR = "cenc"
"""A protected asset's DASH copy of its tracks (CENC), beside cmaf/."""
HLS_DIR = "hls"
DASH_DIR = "dash"
SUBS_DIR = "subs"
MASTER_NAME = "master.m3u8"
MPD_NAME = "manifest.mpd"
AUDIO_GROUP = "audio"
SUBTITLE_GROUP = "subs"
HLS_VERSION = 7
MPD_NS = "urn:mpeg:dash:schema:mpd:2011"
CENC_NS = "urn:mpeg:cenc:2013"
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

    With ``key``, the DASH manifest describes a CENC-protected copy of the tracks under
    out_dir/cenc (:mod:`flixstack.media.cenc`, written first), then every media segment
    under cmaf/ is encrypted in place for HLS (AES-128, :mod:`flixstack.media.encryption`)
    and the HLS playlists name the key: DASH players cannot decrypt whole-segment AES-128,
    and HLS players (hls.js without EME) cannot decrypt CENC."""
    cmaf = out_dir / CMAF_DIR
    videos = [read_track(cmaf / name) for name in video]
    audio_track = read_track(cmaf / audio) if audio is not None else None
    for track in videos:
        _check_aligned(videos[0], track)
    dash_videos, dash_audio, dash_dir = videos, audio_track, CMAF_DIR
    if key is not None:
        dash_dir = CENC_DIR
        tracks = [*videos, *([audio_track] if audio_track else [])]
        protected = [
            cenc.protect_track(t, cmaf / t.name, out_dir / CENC_DIR / t.name, key.key, key.kid,
                               number=number)
            for number, t in enumerate(tracks)
        ]  # fmt: skip
        dash_videos = protected[: len(videos)]
        dash_audio = protected[-1] if audio_track else None
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
    mpd = dash_manifest(
        dash_videos,
        dash_audio,
        frame_rate=frame_rate,
        audio_language=audio_language,
        subtitles=subtitles,
        duration_s=duration,
        min_buffer_s=max(segment_s, videos[0].target_duration),
        media_dir=dash_dir,
        kid=key.kid if key is not None else None,
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
    media_dir: str = CMAF_DIR,
    kid: bytes | None = None,
) -> str:
    """A static MPD over the CMAF segments in ``media_dir`` (SegmentTemplate +
    SegmentTimeline); with ``kid``, they are CENC-protected under that key id, which each
    adaptation set's ContentProtection names (and that ClearKey licences serve)."""
    ET.register_namespace("", MPD_NS)
    ET.register_namespace("cenc", CENC_NS)
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
    _content_protection(video_set, kid)
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
        _segment_template(representation, track, media_dir)
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
        _content_protection(audio_set, kid)
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
        _segment_template(representation, audio, media_dir)
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


def _content_protection(adaptation_set: ET.Element, kid: bytes | None) -> None:
    """DASH-IF's two descriptors for CENC under W3C ClearKey (none for clear media)."""
    if kid is None:
        return
    ET.SubElement(
        adaptation_set,
        _q("ContentProtection"),
        {
            "schemeIdUri": "urn:mpeg:dash:mp4protection:2011",
            "value": "cenc",
            f"{{{CENC_NS}}}default_KID": str(uuid.UUID(bytes=kid)),
        },
    )
    ET.SubElement(
        adaptation_set,
        _q("ContentProtection"),
        {"schemeIdUri": f"urn:uuid:{cenc.CLEARKEY_SYSTEM_ID}", "value": "ClearKey1.0"},
    )


def _segment_template(parent: ET.Element, track: Track, media_dir: str) -> None:
    """Segments by number; times are media times (no presentationTimeOffset), so the
    tracks keep the offsets they were encoded with."""
    base = f"../{media_dir}/{track.name}"
    template = ET.SubElement(
        parent,
        _q("SegmentTemplate"),
        {
            "timescale": str(track.init.timescale),
            "initialization": f"{base}/{INIT_NAME}",
            "media": f"{base}/{SEGMENT_PREFIX}$Number%0{SEGMENT_DIGITS}d${SEGMENT_SUFFIX}",
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

"""``transcode``: one source in, a CMAF HLS + DASH package (and previews) out.

Stages: probe (reject what can never work), analyse (per-title ladder), encode (one decode,
every rung, the audio and the scrub previews), package (manifests from the real segments).
Everything lands under ``out_dir`` in a fixed layout with deterministic names, so a retried
job overwrites the same keys; these directories of an earlier attempt are cleared first::

    cmaf/v<height>/init.mp4, seg_00001.m4s ...   video renditions (CMAF fMP4; a second
                                                 rung of the same height: v<height>_<kbps>k)
    cmaf/audio/init.mp4, seg_00001.m4s ...       AAC-LC (absent without source audio)
    hls/master.m3u8, hls/<track>.m3u8, hls/subs_<lang>.m3u8
    cenc/<track>/...                             with a key: the tracks again, CENC-protected
                                                 for DASH (cmaf/ then gets HLS AES-128)
    dash/manifest.mpd                            SegmentTimeline over cmaf/ (clear) or cenc/
    subs/<lang>.vtt                              WebVTT (SRT sidecars converted)
    thumbs/sprite_000.jpg ..., thumbs/thumbnails.vtt, thumbs/poster.jpg

Publish ``TranscodeResult.manifests`` last, in their order.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from flixstack.catalog.models import Asset, RenditionSummary
from flixstack.clock import now_iso
from flixstack.media import bmff, thumbnails
from flixstack.media import encode as encoding
from flixstack.media import package as packaging
from flixstack.media import subtitles as subs
from flixstack.media.analysis import analyse
from flixstack.media.encode import EncodeSettings
from flixstack.media.encryption import SegmentKey
from flixstack.media.errors import EncodeFailed, InvalidMedia
from flixstack.media.ladder import (
    FIXED_LADDER_SOURCE,
    LadderMode,
    Rung,
    fixed_ladder,
    redundant,
)
from flixstack.media.package import Rendition
from flixstack.media.probe import Limits, SourceInfo, probe
from flixstack.media.subtitles import Subtitle

__all__ = [
    "FIXED_LADDER_SOURCE",
    "EncodeFailed",
    "EncodeSettings",
    "InvalidMedia",
    "LadderMode",
    "Limits",
    "Progress",
    "Rendition",
    "SourceInfo",
    "Stage",
    "Subtitle",
    "TranscodeResult",
    "transcode",
]


MASTER_PLAYLIST = f"{packaging.HLS_DIR}/{packaging.MASTER_NAME}"
DASH_MANIFEST = f"{packaging.DASH_DIR}/{packaging.MPD_NAME}"
THUMBS_DIR = "thumbs"
POSTER = f"{THUMBS_DIR}/{thumbnails.POSTER_NAME}"
THUMBNAILS_VTT = f"{THUMBS_DIR}/{thumbnails.VTT_NAME}"
# Everything transcode writes lives in these; they are cleared before a run.
OUTPUT_DIRS = (
    bmff.CMAF_DIR,
    packaging.CENC_DIR,
    packaging.HLS_DIR,
    packaging.DASH_DIR,
    packaging.SUBS_DIR,
    THUMBS_DIR,
)


class Stage(StrEnum):
    PROBING = "probing"
    ANALYZING = "analyzing"
    ENCODING = "encoding"
    PACKAGING = "packaging"


Progress = Callable[[Stage, float], None]
"""Called with a stage and the fraction (0..1) of it done; often, so keep it cheap."""


@dataclass(frozen=True)
class TranscodeResult:
    source: SourceInfo
    ladder: LadderMode
    renditions: list[Rendition]
    """Video variants, lowest first."""
    has_audio: bool
    subtitle_languages: list[str]
    master_playlist: str
    dash_manifest: str
    poster: str
    thumbnails_vtt: str
    manifests: list[str]
    """Every manifest, relative, in publishing order (all of them after everything else):
    media playlists, then the master playlist, then the MPD."""
    analysis: dict[str, Any] | None
    """The per-title analysis report; None for the fixed ladder."""
    timings: dict[str, float]
    """Seconds spent per stage (keys are Stage values)."""
    encrypted: bool = False
    """Protected with the key given to ``transcode``: HLS segments AES-128, DASH CENC."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly copy, for job records."""
        data = asdict(self)
        data["source"] = self.source.to_dict()
        return data

    def asset(self, prefix: str, version: str) -> Asset:
        """The catalog's pointer to this output, uploaded under ``prefix``."""
        return Asset(
            version=version,
            master_playlist=prefix + self.master_playlist,
            dash_manifest=prefix + self.dash_manifest,
            poster=prefix + self.poster,
            thumbnails_vtt=prefix + self.thumbnails_vtt,
            duration_s=self.source.duration_s,
            renditions=[
                RenditionSummary(width=r.width, height=r.height, bandwidth=r.bandwidth)
                for r in self.renditions
            ],
            subtitle_languages=list(self.subtitle_languages),
            has_audio=self.has_audio,
            protection="aes-128" if self.encrypted else "none",
            published_at=now_iso(),
        )


def transcode(
    source: Path,
    out_dir: Path,
    *,
    ladder: LadderMode = "per-title",
    subtitles: Sequence[Subtitle] = (),
    limits: Limits = Limits(),  # noqa: B008 - frozen, so one shared default is safe
    settings: EncodeSettings | None = None,
    progress: Progress | None = None,
    key: SegmentKey | None = None,
) -> TranscodeResult:
    """Transcodes ``source`` into ``out_dir`` (the layout is in the module docstring).

    With ``key`` the HLS segments are AES-128 encrypted and the DASH ones CENC-protected.
    Raises InvalidMedia for input that can never be transcoded (checked before any
    encoding, sidecars included) and EncodeFailed when ffmpeg fails on a valid source.
    """
    if ladder not in ("per-title", "fixed"):
        raise ValueError(f"ladder must be 'per-title' or 'fixed', not {ladder!r}")
    settings = settings or EncodeSettings()
    report: Progress = progress or (lambda _stage, _fraction: None)
    timings: dict[str, float] = {}

    with _timed(timings, Stage.PROBING):
        report(Stage.PROBING, 0.0)
        info = probe(source, limits)
        cues = _check_subtitles(subtitles)
        report(Stage.PROBING, 1.0)

    out_dir.mkdir(parents=True, exist_ok=True)
    encoding.clear(out_dir, OUTPUT_DIRS)
    with tempfile.TemporaryDirectory(prefix="flixstack-transcode-") as scratch:
        work = Path(scratch)
        with _timed(timings, Stage.ANALYZING):
            report(Stage.ANALYZING, 0.0)
            rungs, analysis = _ladder(info, ladder, settings, work, report)
            report(Stage.ANALYZING, 1.0)

        with _timed(timings, Stage.ENCODING):
            report(Stage.ENCODING, 0.0)
            encoded = encoding.encode(
                info,
                rungs,
                out_dir,
                work,
                settings,
                progress=lambda fraction: report(Stage.ENCODING, fraction * 0.97),
            )
            thumbnails.make_poster(info, out_dir / POSTER, settings.thumbnails)
            encoded = _drop_redundant(encoded, rungs, out_dir, info.duration_s)
            report(Stage.ENCODING, 1.0)

        with _timed(timings, Stage.PACKAGING):
            report(Stage.PACKAGING, 0.0)
            sheets = out_dir / THUMBS_DIR
            thumbnails.make_sprites(encoded.previews, sheets, settings.thumbnails, info.duration_s)
            report(Stage.PACKAGING, 0.3)
            tracks = _write_subtitles(subtitles, cues, out_dir)
            packaged = _package(info, encoded, tracks, out_dir, settings, key)
            report(Stage.PACKAGING, 1.0)

    return TranscodeResult(
        source=info,
        ladder=ladder,
        renditions=packaged.renditions,
        has_audio=encoded.has_audio,
        subtitle_languages=[s.language for s in subtitles],
        master_playlist=MASTER_PLAYLIST,
        dash_manifest=DASH_MANIFEST,
        poster=POSTER,
        thumbnails_vtt=THUMBNAILS_VTT,
        manifests=packaged.manifests,
        analysis=analysis,
        timings=timings,
        encrypted=key is not None,
    )


def _ladder(
    info: SourceInfo, mode: LadderMode, settings: EncodeSettings, work: Path, report: Progress
) -> tuple[list[Rung], dict[str, Any] | None]:
    if mode == "fixed":
        return fixed_ladder(info.video.width, info.video.height), None
    result = analyse(
        info,
        settings.analysis,
        work / "analysis",
        final_preset=settings.preset,
        gop_s=settings.segment_s,
        progress=lambda fraction: report(Stage.ANALYZING, fraction),
    )
    return result.rungs, result.to_dict()


def _check_subtitles(subtitles: Sequence[Subtitle]) -> list[list[subs.Cue]]:
    """Parses every sidecar before any encoding: a bad one fails the job at once."""
    languages = [subs.check_language(s.language) for s in subtitles]
    duplicates = {lang for lang in languages if languages.count(lang) > 1}
    if duplicates:
        raise InvalidMedia(
            f"more than one subtitle file for {', '.join(sorted(duplicates))}",
            reason="bad_subtitles",
        )
    return [subs.parse(s.path) for s in subtitles]


def _write_subtitles(
    subtitles: Sequence[Subtitle], cues: list[list[subs.Cue]], out_dir: Path
) -> list[packaging.SubtitleTrack]:
    tracks = []
    for subtitle, sidecar_cues in zip(subtitles, cues, strict=True):
        relative = f"{packaging.SUBS_DIR}/{subtitle.language}.vtt"
        path = out_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(subs.to_webvtt(sidecar_cues), encoding="utf-8")
        tracks.append(packaging.SubtitleTrack(subtitle.language, relative, path.stat().st_size))
    return tracks


def _drop_redundant(
    encoded: encoding.Encoded, rungs: Sequence[Rung], out_dir: Path, duration_s: float
) -> encoding.Encoded:
    """``encoded`` without the rungs that came out no cheaper than a larger one (see
    :func:`ladder.redundant`); their segments are deleted."""
    cmaf = out_dir / bmff.CMAF_DIR
    measured = [
        (rung.width * rung.height, 8 * _bytes(cmaf / name) / max(duration_s, 1e-3))
        for rung, name in zip(rungs, encoded.names, strict=True)
    ]
    dropped = set(redundant(measured))
    for index in sorted(dropped):
        shutil.rmtree(cmaf / encoded.names[index])
    names = [name for index, name in enumerate(encoded.names) if index not in dropped]
    return dataclasses.replace(encoded, names=names)


def _bytes(directory: Path) -> int:
    return sum(path.stat().st_size for path in directory.iterdir() if path.is_file())


def _package(
    info: SourceInfo,
    encoded: encoding.Encoded,
    tracks: list[packaging.SubtitleTrack],
    out_dir: Path,
    settings: EncodeSettings,
    key: SegmentKey | None,
) -> packaging.Packaged:
    language = info.audio.language if info.audio is not None else None
    try:
        return packaging.package(
            out_dir,
            encoded.names,
            frame_rate=info.video.frame_rate_fraction,
            audio=encoding.AUDIO_TRACK if encoded.has_audio else None,
            audio_language=language if language and len(language) == 2 else None,
            subtitles=tracks,
            segment_s=settings.segment_s,
            key=key,
        )
    except bmff.BoxError as exc:
        raise EncodeFailed(f"the encoder wrote unusable CMAF: {exc}") from exc


@contextmanager
def _timed(timings: dict[str, float], stage: Stage) -> Iterator[None]:
    """Records the wall time of the block as ``timings[stage]``."""
    started = time.monotonic()
    try:
        yield
    finally:
        timings[stage.value] = round(time.monotonic() - started, 3)

"""Per-title analysis: trial encodes on samples of the source, scored with VMAF.

1. A few windows spread over the source (3 x 1.5 s by default) are cut out once, made
   constant-rate at the display size and stored losslessly: the *reference*.
2. For every candidate size (about 240p up to the source), the reference is scaled down and
   encoded at a few CRFs with a fast preset and the renditions' GOP (one process per size,
   sharing one decode). The source's size gets lower CRFs (it must bracket the top rung's
   VMAF 95), the smaller sizes higher ones (they serve the lower rungs).
3. Every trial is scaled back to the reference size (bicubic) and scored with VMAF
   (``vmaf_v0.6.1``, every 4th frame).
4. One more trial at the source's size uses the renditions' (slower, better) preset; the
   ratio of its bit rate to the fast trials' at the same VMAF rescales every trial's bit
   rate, so the ladder is priced for the encoder that makes it.
5. :func:`flixstack.media.ladder.select_rungs` builds the ladder from those points.

The source's size is tried first: if even its cheapest trial reaches the top VMAF under the
bit rate floor (flat content), the ladder is one rung at the floor and the smaller sizes
are skipped.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import av

from flixstack.media import ffmpeg
from flixstack.media.ladder import (
    Rung,
    TrialPoint,
    analysis_sizes,
    convex_hull,
    fixed_ladder,
    rate_for_quality,
    select_rungs,
)
from flixstack.media.probe import SourceInfo

VMAF_MODEL = "version=vmaf_v0.6.1"
REFERENCE_NAME = "reference.mkv"
# Progress: cutting the reference, then per group of sizes the encodes' share (scoring after).
_CUT, _ENCODE_SHARE = 0.1, 0.4
Score = tuple[float, float]
"""(video kb/s, VMAF) of one trial."""


@dataclass(frozen=True)
class AnalysisSettings:
    crfs: tuple[int, ...] = (22, 29, 36)
    """CRFs tried at the sizes below the source's (they serve the lower rungs)..."""
    top_crfs: tuple[int, ...] = (17, 23, 29, 35)
    """...and at the source's size, which must bracket the top rung's VMAF."""
    samples: int = 3
    """How many windows of the source are analysed..."""
    sample_s: float = 1.5
    """...and how long each is. Shorter sources are analysed whole."""
    preset: str = "veryfast"
    """libx264 preset of the trial encodes."""
    vmaf_subsample: int = 4
    """VMAF scores every n-th frame."""
    vmaf_threads: int = 2
    workers: int = 2
    """ffmpeg processes at a time."""
    top_vmaf: float = 95.0
    vmaf_step: float = 6.0
    max_rungs: int = 6
    min_bitrate_kbps: int = 100
    max_bitrate_factor: float = 2.0
    """The top rung spends at most this many times the fixed ladder's top bit rate."""
    calibration_crf: int = 23
    """CRF of the one trial at the renditions' preset (see :func:`preset_rate_factor`)."""

    def __post_init__(self) -> None:
        if (
            not self.crfs
            or not self.top_crfs
            or self.samples < 1
            or self.sample_s <= 0
            or self.vmaf_subsample < 1
        ):
            raise ValueError(f"invalid analysis settings: {self}")


@dataclass(frozen=True)
class Analysis:
    """What the analysis tried, what it found and what it chose."""

    windows: list[tuple[float, float]]
    """(start, length) in seconds of the analysed windows."""
    points: list[TrialPoint]
    hull: list[TrialPoint]
    rungs: list[Rung]
    seconds: float
    settings: AnalysisSettings
    preset_rate_factor: float = 1.0
    """Trial bit rates were multiplied by this (the final preset's efficiency)."""
    calibration: dict[str, Any] | None = None
    max_bitrate_kbps: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """The report that goes into TranscodeResult.analysis (JSON-friendly)."""
        return {
            "method": (
                "trial encodes (libx264 CRF) of sampled windows at several sizes, scored with "
                "VMAF at the source size; convex hull in (log bitrate, VMAF); one rung per "
                "VMAF target, at the cheapest size reaching it"
            ),
            "vmaf_model": VMAF_MODEL,
            "windows": [{"start_s": round(s, 3), "length_s": round(n, 3)} for s, n in self.windows],
            "crfs": list(self.settings.crfs),
            "top_crfs": list(self.settings.top_crfs),
            "preset": self.settings.preset,
            "vmaf_subsample": self.settings.vmaf_subsample,
            "top_vmaf": self.settings.top_vmaf,
            "vmaf_step": self.settings.vmaf_step,
            "trial_points": [p.to_dict() for p in self.points],
            "hull": [p.to_dict() for p in self.hull],
            "bitrates": "trial bit rates times preset_rate_factor",
            "rungs": [
                {
                    "width": r.width,
                    "height": r.height,
                    "bitrate_kbps": r.bitrate_kbps,
                    "expected_vmaf": r.expected_vmaf,
                }
                for r in self.rungs
            ],
            "preset_rate_factor": round(self.preset_rate_factor, 3),
            "calibration": self.calibration,
            "max_bitrate_kbps": round(self.max_bitrate_kbps),
            "seconds": round(self.seconds, 3),
        }


def sample_windows(duration_s: float, samples: int, sample_s: float) -> list[tuple[float, float]]:
    """``samples`` windows of ``sample_s`` seconds centred on equal parts of the duration.

    A source not much longer than the windows together is analysed whole.
    """
    if duration_s <= samples * sample_s * 1.5:
        return [(0.0, duration_s)]
    part = duration_s / samples
    return [
        (min(max(0.0, (i + 0.5) * part - sample_s / 2), duration_s - sample_s), sample_s)
        for i in range(samples)
    ]


@dataclass(frozen=True)
class _Trial:
    size: tuple[int, int]
    crf: int
    preset: str
    path: Path


def analyse(
    source: SourceInfo,
    settings: AnalysisSettings,
    work_dir: Path,
    *,
    final_preset: str,
    gop_s: float,
    progress: ffmpeg.OnFraction | None = None,
) -> Analysis:
    """Runs the trial encodes for ``source`` and picks its per-title ladder.

    ``final_preset`` and ``gop_s`` describe the renditions' encoder: trials use its GOP, and
    one calibration trial at its preset rescales the (faster) trials' bit rates.
    """
    started = time.monotonic()
    report = progress or (lambda _: None)
    work_dir.mkdir(parents=True, exist_ok=True)
    windows = sample_windows(source.duration_s, settings.samples, settings.sample_s)
    sizes = analysis_sizes(source.video.width, source.video.height)
    top = sizes[-1]
    length = sum(n for _, n in windows)
    reference = _cut_reference(source, windows, top, work_dir, report)
    trials: dict[tuple[int, int], list[_Trial]] = {
        size: [
            _Trial(size, crf, settings.preset, work_dir / f"trial_{size[0]}x{size[1]}_{crf}.mkv")
            for crf in (settings.top_crfs if size == top else settings.crfs)
        ]
        for size in sizes
    }
    calibration = None
    if final_preset != settings.preset:
        calibration = _Trial(
            top, settings.calibration_crf, final_preset, work_dir / "calibration.mkv"
        )
        trials[top].append(calibration)
    gop = max(1, round(gop_s * source.video.frame_rate))

    def score(
        batch: dict[tuple[int, int], list[_Trial]], start: float, share: float
    ) -> dict[_Trial, Score]:
        """Encodes, then scores, a batch of trials (by size); progress from ``start``."""
        ffmpeg.run_all(
            [_trial_job(reference, size, batch[size], gop, length) for size in batch],
            workers=settings.workers,
            progress=lambda f: report(start + share * _ENCODE_SHARE * f),
        )
        jobs = {
            size: vmaf_job(
                reference,
                [t.path for t in batch[size]],
                size=top,
                frame_rate=source.video.frame_rate_fraction,
                subsample=settings.vmaf_subsample,
                threads=settings.vmaf_threads,
                work_dir=work_dir,
                duration_s=length,
                tag=f"{size[0]}x{size[1]}_{batch[size][0].crf}",
            )
            for size in batch
        }
        ffmpeg.run_all(
            [job for job, _ in jobs.values()],
            workers=settings.workers,
            progress=lambda f: report(start + share * (_ENCODE_SHARE + (1 - _ENCODE_SHARE) * f)),
        )
        return {
            trial: (video_bitrate_kbps(trial.path, length), read_vmaf(log))
            for size in batch
            for trial, log in zip(batch[size], jobs[size][1], strict=True)
        }

    # Flat content (a slide, a cartoon) settles early. One encode at the renditions' own
    # preset runs first (the calibration trial, or the trial nearest its CRF): if it already
    # reaches the top quality under the bit rate floor, the ladder is one rung at the floor
    # at the source's size, and nothing else is tried. Otherwise the other trials of the
    # source's size follow, and the smaller sizes only if the source's size does not settle
    # it either (its cheapest trial, priced at the final preset, under the floor).
    share = (1 - _CUT) / (len(sizes) + 1)
    probe = calibration or min(trials[top], key=lambda t: abs(t.crf - settings.calibration_crf))
    measured = score({top: [probe]}, _CUT, share)
    factor = 1.0

    def reaches_top_under_floor(trial: _Trial, factor: float) -> bool:
        bitrate, quality = measured[trial]
        return quality >= settings.top_vmaf and bitrate * factor <= settings.min_bitrate_kbps

    if reaches_top_under_floor(probe, 1.0):
        points = [_point(probe, measured[probe])]
    else:
        measured |= score({top: [t for t in trials[top] if t != probe]}, _CUT + share, share)
        if calibration is not None:
            top_points = [_point(t, measured[t]) for t in trials[top] if t != calibration]
            factor = preset_rate_factor(top_points, top, calibration.crf, *measured[calibration])
        fast = [t for t in trials[top] if t != calibration]
        cheapest = min(fast, key=lambda t: measured[t][0])
        others = sizes[:-1]
        if others and not reaches_top_under_floor(cheapest, factor):
            done = _CUT + 2 * share
            measured |= score({size: trials[size] for size in others}, done, 1 - done)
        raw = [_point(t, m) for t, m in measured.items() if t != calibration]
        points = [replace(p, bitrate_kbps=p.bitrate_kbps * factor) for p in raw]
    cap = (
        settings.max_bitrate_factor
        * fixed_ladder(source.video.width, source.video.height)[-1].bitrate_kbps
    )
    rungs = select_rungs(
        points,
        top_vmaf=settings.top_vmaf,
        step=settings.vmaf_step,
        max_rungs=settings.max_rungs,
        min_bitrate_kbps=settings.min_bitrate_kbps,
        max_bitrate_kbps=cap,
    )
    report(1.0)
    return Analysis(
        windows=windows,
        points=points,
        hull=convex_hull(points),
        rungs=rungs,
        seconds=time.monotonic() - started,
        settings=settings,
        preset_rate_factor=factor,
        calibration=None
        if calibration is None or calibration not in measured
        else {
            "preset": calibration.preset,
            "crf": calibration.crf,
            "bitrate_kbps": round(measured[calibration][0], 1),
            "vmaf": round(measured[calibration][1], 2),
        },
        max_bitrate_kbps=cap,
    )


def _point(trial: _Trial, score: Score) -> TrialPoint:
    return TrialPoint(trial.size[0], trial.size[1], trial.crf, *score)


def preset_rate_factor(
    points: Sequence[TrialPoint],
    size: tuple[int, int],
    crf: int,
    bitrate_kbps: float,
    vmaf: float,
) -> float:
    """How many bits the final preset needs for what the trial preset does with one.

    Compares the calibration encode (final preset, ``crf``, at ``size``) with the trial
    curve of the same size at the same quality; where that quality lies outside the trial
    curve, with the trial at the same CRF. Clamped to 0.4..1.5.
    """
    same_size = [p for p in points if p.size == size]
    trial_rate = rate_for_quality(same_size, vmaf)
    if trial_rate is None:
        trial_rate = next((p.bitrate_kbps for p in same_size if p.crf == crf), None)
    if not trial_rate:
        return 1.0
    return min(1.5, max(0.4, bitrate_kbps / trial_rate))


def vmaf_job(
    reference: Path,
    distorted: Sequence[Path],
    *,
    size: tuple[int, int],
    frame_rate: str,
    subsample: int,
    threads: int,
    work_dir: Path,
    duration_s: float | None = None,
    tag: str = "",
) -> tuple[ffmpeg.Job, list[Path]]:
    """One ffmpeg run scoring every ``distorted`` against ``reference`` with VMAF.

    Both sides are made constant-rate from time 0, 8-bit 4:2:0 and ``size`` (distorted ones
    scaled bicubically, as a player would). Returns the job and the JSON log per distorted.
    """
    width, height = size
    inputs = ["-i", str(reference)]
    graph = [
        f"[0:v:0]fps={frame_rate},setpts=PTS-STARTPTS,scale={width}:{height}:flags=bicubic,"
        f"setsar=1,format=yuv420p,split={len(distorted)}"
        + "".join(f"[r{i}]" for i in range(len(distorted)))
    ]
    logs = []
    for index, path in enumerate(distorted, start=1):
        inputs += ["-i", str(path)]
        log = work_dir / f"vmaf_{tag}_{index}.json"
        logs.append(log)
        graph.append(
            f"[{index}:v:0]fps={frame_rate},setpts=PTS-STARTPTS,"
            f"scale={width}:{height}:flags=bicubic,setsar=1,format=yuv420p[d{index}]"
        )
        graph.append(
            f"[d{index}][r{index - 1}]libvmaf=model={VMAF_MODEL}:n_threads={threads}"
            f":n_subsample={subsample}:log_fmt=json:log_path={log.name}"
        )
    job = ffmpeg.Job(
        [*inputs, "-filter_complex", ";".join(graph), "-f", "null", "-"],
        what=f"scoring {len(distorted)} encodes with VMAF",
        duration_s=duration_s,
        cwd=work_dir,
    )
    return job, logs


def read_vmaf(log: Path) -> float:
    """The mean VMAF of a libvmaf JSON log."""
    data = json.loads(log.read_text())
    return float(data["pooled_metrics"]["vmaf"]["mean"])


def video_bitrate_kbps(path: Path, duration_s: float) -> float:
    """Bits of the first video stream's packets per second of ``duration_s``, in kb/s."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        size = sum(packet.size for packet in container.demux(stream))
    return size * 8 / duration_s / 1000


def _cut_reference(
    source: SourceInfo,
    windows: list[tuple[float, float]],
    size: tuple[int, int],
    work_dir: Path,
    report: ffmpeg.OnFraction,
) -> Path:
    """The windows of ``source``, joined, constant-rate, at ``size``, losslessly encoded."""
    inputs: list[str] = []
    graph = []
    for index, (start, length) in enumerate(windows):
        # Any window will do, so it may start at the keyframe before ``start``: no decoding
        # of frames that are thrown away.
        inputs += ["-noaccurate_seek", "-ss", f"{start:.3f}", "-t", f"{length:.3f}"]
        inputs += ["-i", str(source.path)]
        graph.append(
            f"[{index}:v:0]fps={source.video.frame_rate_fraction},setpts=PTS-STARTPTS,"
            f"scale={size[0]}:{size[1]}:flags=bicubic,setsar=1,format=yuv420p[w{index}]"
        )
    joined = "".join(f"[w{i}]" for i in range(len(windows)))
    graph.append(f"{joined}concat=n={len(windows)}:v=1:a=0[ref]")
    reference = work_dir / REFERENCE_NAME
    ffmpeg.run(
        ffmpeg.Job(
            [
                *inputs,
                "-filter_complex",
                ";".join(graph),
                "-map",
                "[ref]",
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-qp",
                "0",
                str(reference),
            ],
            what="cutting the analysis reference",
            duration_s=sum(n for _, n in windows),
        ),
        progress=lambda f: report(_CUT * f),
    )
    return reference


def _trial_job(
    reference: Path, size: tuple[int, int], trials: Sequence[_Trial], gop: int, duration_s: float
) -> ffmpeg.Job:
    """One decode of the reference, scaled to ``size``, encoded once per trial."""
    labels = "".join(f"[c{i}]" for i in range(len(trials)))
    graph = (
        f"[0:v:0]scale={size[0]}:{size[1]}:flags=bicubic,setsar=1,format=yuv420p,"
        f"split={len(trials)}{labels}"
    )
    args = ["-i", str(reference), "-filter_complex", graph]
    for index, trial in enumerate(trials):
        args += ["-map", f"[c{index}]", "-c:v", "libx264", "-preset", trial.preset]
        args += ["-crf", str(trial.crf), "-g", str(gop), "-keyint_min", str(gop)]
        args += ["-sc_threshold", "0", str(trial.path)]
    return ffmpeg.Job(args, what=f"trial encodes at {size[0]}x{size[1]}", duration_s=duration_s)

"""Tiny real clips (≤ 4 s, ≤ 360p) and transcodes of them, made once per test session."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from flixstack import spec
from flixstack.media import ffmpeg, samples
from flixstack.media.encode import EncodeSettings
from flixstack.media.encryption import SegmentKey
from flixstack.media.pipeline import Stage, Subtitle, TranscodeResult, transcode
from flixstack.media.thumbnails import ThumbnailSettings

# One-second segments and previews, so a 3 s clip has several of each; a fast preset.
FAST = EncodeSettings(
    segment_s=1.0,
    preset="veryfast",
    thumbnails=ThumbnailSettings(interval_s=1.0, columns=2, rows=2),
)
SRT = """\ufeff1\r
00:00:00,500 --> 00:00:01,200\r
Hello <i>there</i> & welcome\r
\r
2\r
00:00:01,500 --> 00:00:02,500\r
<font color="red">Second</font> line\r
"""


def make(args: list[str], what: str) -> None:
    ffmpeg.run(ffmpeg.Job(args, what=what))


@dataclass
class Run:
    """One transcode and what its progress callback saw."""

    out: Path
    result: TranscodeResult
    progress: list[tuple[Stage, float]] = field(default_factory=list)


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Sources: 16:9 with audio, silent, odd-sized + rotated (portrait), VFR, and bad ones."""
    root = tmp_path_factory.mktemp("clips")
    found = {
        "landscape": samples.generate(
            root / "landscape.mp4", seconds=3, width=640, height=360, kind="sports"
        ),
        "silent": samples.generate(
            root / "silent.mp4", seconds=3, width=480, height=270, kind="animation", audio=False
        ),
    }
    odd = root / "odd.mp4"
    make(
        [
            *("-f", "lavfi", "-i", "testsrc2=s=364x204:r=25:d=3"),
            *("-f", "lavfi", "-i", "sine=d=3:sample_rate=44100"),
            *("-vf", "scale=363:203,setsar=1,format=yuv444p"),
            *("-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", str(odd)),
        ],
        "an odd-sized clip",
    )
    found["rotated"] = root / "rotated.mp4"
    make(["-display_rotation", "90", "-i", str(odd), "-c", "copy", str(found["rotated"])], "rotate")
    found["vfr"] = root / "vfr.mp4"
    make(
        [
            *("-f", "lavfi", "-i", "testsrc2=s=320x240:r=30:d=3"),
            *(
                "-vf",
                "select='not(eq(mod(n\\,5)\\,1))',setpts='N/30/TB+if(gt(N\\,40)\\,0.2/TB\\,0)'",
            ),
            *("-fps_mode", "vfr", "-c:v", "libx264", "-preset", "ultrafast", str(found["vfr"])),
        ],
        "a VFR clip",
    )
    found["srt"] = root / "en.srt"
    found["srt"].write_bytes(SRT.encode("utf-8"))
    found["vtt"] = root / "pt-BR.vtt"
    found["vtt"].write_text(
        "WEBVTT\n\nNOTE made by hand\n\n00:01.000 --> 00:02.000 line:90%\nOlá\n", encoding="utf-8"
    )
    return found


Transcoder = Callable[..., Run]


@pytest.fixture(scope="session")
def run_transcode(tmp_path_factory: pytest.TempPathFactory) -> Transcoder:
    def run(source: Path, name: str, **kwargs: object) -> Run:
        out = tmp_path_factory.mktemp(name)
        seen: list[tuple[Stage, float]] = []
        kwargs.setdefault("settings", FAST)
        result = transcode(
            source, out, progress=lambda stage, done: seen.append((stage, done)), **kwargs
        )  # type: ignore[arg-type]
        return Run(out, result, seen)

    return run


@pytest.fixture(scope="session")
def fixed(clips: dict[str, Path], run_transcode: Transcoder) -> Run:
    """The 16:9 clip with audio, Apple's ladder, two subtitle sidecars."""
    return run_transcode(
        clips["landscape"],
        "fixed",
        ladder="fixed",
        subtitles=[Subtitle("en", clips["srt"]), Subtitle("pt-BR", clips["vtt"])],
    )


@pytest.fixture(scope="session")
def per_title(clips: dict[str, Path], run_transcode: Transcoder) -> Run:
    return run_transcode(clips["landscape"], "per_title", ladder="per-title")


@pytest.fixture(scope="session")
def silent(clips: dict[str, Path], run_transcode: Transcoder) -> Run:
    return run_transcode(clips["silent"], "silent", ladder="fixed")


@pytest.fixture(scope="session")
def rotated(clips: dict[str, Path], run_transcode: Transcoder) -> Run:
    return run_transcode(clips["rotated"], "rotated", ladder="fixed")


@pytest.fixture(scope="session")
def vfr(clips: dict[str, Path], run_transcode: Transcoder) -> Run:
    return run_transcode(clips["vfr"], "vfr", ladder="fixed")


@pytest.fixture(params=["fixed", "per_title", "silent", "rotated", "vfr"])
def any_run(request: pytest.FixtureRequest) -> Run:
    """Each of the session's transcodes in turn."""
    run: Run = request.getfixturevalue(request.param)
    return run


@pytest.fixture(scope="session")
def protected(clips: dict[str, Path], run_transcode: Transcoder) -> tuple[Run, bytes]:
    """The 16:9 clip packaged with a random content key: HLS AES-128 and DASH CENC."""
    key = os.urandom(16)
    run = run_transcode(
        clips["landscape"],
        "protected",
        ladder="fixed",
        key=SegmentKey(key, "https://api.example.com/keys/job-1", spec.content_key_id("job-1")),
    )
    return run, key

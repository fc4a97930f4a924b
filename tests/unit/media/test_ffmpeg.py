"""The ffmpeg runner: progress, failures with their stderr, cancelling siblings."""

from __future__ import annotations

from pathlib import Path

import pytest

from flixstack.media import ffmpeg
from flixstack.media.errors import EncodeFailed


def test_progress_rises_to_one(tmp_path: Path) -> None:
    seen: list[float] = []
    job = ffmpeg.Job(
        ["-f", "lavfi", "-i", "testsrc2=s=160x90:r=30:d=2", str(tmp_path / "out.mp4")],
        what="a test encode",
        duration_s=2.0,
    )
    ffmpeg.run(job, progress=seen.append)
    assert seen[-1] == 1.0
    assert all(0.0 <= f <= 1.0 for f in seen)
    assert seen == sorted(seen)
    assert (tmp_path / "out.mp4").stat().st_size > 0


def test_a_failing_run_raises_encode_failed_with_ffmpegs_words(tmp_path: Path) -> None:
    job = ffmpeg.Job(["-i", str(tmp_path / "missing.mp4"), str(tmp_path / "x.mp4")], what="nothing")
    with pytest.raises(EncodeFailed, match="nothing: ffmpeg exited") as raised:
        ffmpeg.run(job)
    assert "missing.mp4" in raised.value.stderr
    assert raised.value.reason == "encode_failed"


def test_the_first_failure_cancels_its_siblings(tmp_path: Path) -> None:
    slow = ffmpeg.Job(
        ["-f", "lavfi", "-i", "testsrc2=s=640x360:r=30", "-t", "600", "-f", "null", "-"],
        what="a long run",
        duration_s=600,
    )
    failing = ffmpeg.Job(["-i", str(tmp_path / "missing.mp4"), "-f", "null", "-"], what="doomed")
    with pytest.raises(EncodeFailed, match="doomed") as raised:
        ffmpeg.run_all([slow, failing], workers=2)
    assert not isinstance(raised.value, ffmpeg.Cancelled)

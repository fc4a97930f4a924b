"""Generated sample videos: the asked-for shape, and kinds of clearly different complexity."""

from __future__ import annotations

from pathlib import Path

import pytest

from flixstack.media import samples
from flixstack.media.probe import probe


def test_each_kind_has_the_asked_for_shape_and_complexity_rises(tmp_path: Path) -> None:
    sizes = {}
    for kind in samples.KINDS:
        path = samples.generate(
            tmp_path / f"{kind}.mp4", seconds=2, width=320, height=180, kind=kind, audio=False
        )
        info = probe(path)
        assert (info.video.width, info.video.height) == (320, 180)
        assert info.duration_s == pytest.approx(2.0, abs=0.05)
        assert info.video.frame_rate_fraction == "30/1"
        assert not info.has_audio
        sizes[kind] = path.stat().st_size  # the same CRF: bytes measure complexity
    assert sizes["animation"] < sizes["talking"] < sizes["sports"] < sizes["noise"]
    assert sizes["noise"] > 5 * sizes["talking"]


def test_audio_is_a_tone_by_default(tmp_path: Path) -> None:
    info = probe(
        samples.generate(tmp_path / "t.mp4", seconds=1, width=64, height=64, kind="talking")
    )
    assert info.audio is not None
    assert info.audio.codec == "aac"


@pytest.mark.parametrize(
    ("seconds", "width", "height", "kind"),
    [(0, 64, 64, "talking"), (1, 63, 64, "talking"), (1, 8, 8, "talking"), (1, 64, 64, "cats")],
)
def test_bad_arguments_are_refused(
    tmp_path: Path, seconds: float, width: int, height: int, kind: str
) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - several messages
        samples.generate(
            tmp_path / "x.mp4",
            seconds=seconds,
            width=width,
            height=height,
            kind=kind,  # type: ignore[arg-type]
        )

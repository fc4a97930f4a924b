"""Probing: what a source is, and InvalidMedia for what can never be transcoded."""

from __future__ import annotations

from pathlib import Path

import pytest

from flixstack.errors import InvalidInput
from flixstack.media.errors import INVALID_MEDIA_REASONS, InvalidMedia
from flixstack.media.pipeline import Limits, Subtitle, transcode
from flixstack.media.probe import probe

from .conftest import make


@pytest.fixture(scope="module")
def bad(clips: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bad")
    files = {"text": root / "notes.mp4", "empty": root / "empty.mp4"}
    files["text"].write_text("these are my notes, not a video\n" * 20)
    files["empty"].write_bytes(b"")
    whole = clips["landscape"].read_bytes()  # faststart: the index comes first
    files["truncated"] = root / "truncated.mp4"
    files["truncated"].write_bytes(whole[: len(whole) // 2])
    moov_last = root / "moov_last.mp4"
    make(["-i", str(clips["landscape"]), "-c", "copy", str(moov_last)], "remux")
    files["headless"] = root / "headless.mp4"  # cut before the index at the end
    files["headless"].write_bytes(moov_last.read_bytes()[: moov_last.stat().st_size // 2])
    files["audio"] = root / "audio.m4a"
    make(["-f", "lavfi", "-i", "sine=d=2", str(files["audio"])], "an audio file")
    files["zero"] = root / "zero.mp4"
    make(["-f", "lavfi", "-i", "color=s=64x64", "-t", "0", str(files["zero"])], "an empty file")
    files["still"] = root / "still.mp4"
    make(
        [
            "-f",
            "lavfi",
            "-i",
            "color=s=64x64",
            "-frames:v",
            "1",
            "-f",
            "image2",
            "-c:v",
            "png",
            str(files["still"]),
        ],
        "a png",
    )
    return files


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("text", "not_video"),
        ("audio", "not_video"),
        ("still", "not_video"),
        ("truncated", "corrupt"),
        ("headless", "corrupt"),
        ("zero", "zero_duration"),
        ("empty", "zero_duration"),
    ],
)
def test_bad_sources_are_invalid_media(bad: dict[str, Path], name: str, reason: str) -> None:
    with pytest.raises(InvalidMedia) as raised:
        probe(bad[name])
    assert raised.value.reason == reason
    assert bad[name].name in raised.value.message


def test_limits_refuse_large_and_long_sources(clips: dict[str, Path]) -> None:
    with pytest.raises(InvalidMedia, match="bytes") as large:
        probe(clips["landscape"], Limits(max_bytes=1000))
    assert large.value.reason == "too_large"
    with pytest.raises(InvalidMedia, match=r"lasts 3\.0 s") as long:
        probe(clips["landscape"], Limits(max_duration_s=2.5))
    assert long.value.reason == "too_long"


def test_invalid_media_is_a_permanent_invalid_input() -> None:
    error = InvalidMedia("x", reason="corrupt")
    assert isinstance(error, InvalidInput)
    assert {
        "not_video",
        "corrupt",
        "zero_duration",
        "too_large",
        "too_long",
        "bad_subtitles",
    } == INVALID_MEDIA_REASONS


def test_transcode_refuses_bad_input_before_writing_anything(
    bad: dict[str, Path], tmp_path: Path
) -> None:
    with pytest.raises(InvalidMedia) as raised:
        transcode(bad["text"], tmp_path / "out")
    assert raised.value.reason == "not_video"
    assert not (tmp_path / "out").exists()


def test_transcode_refuses_bad_subtitles_before_encoding(
    clips: dict[str, Path], tmp_path: Path
) -> None:
    broken = tmp_path / "en.srt"
    broken.write_text("1\n00:00:01,000 --> nonsense\nhi\n")
    with pytest.raises(InvalidMedia) as raised:
        transcode(clips["landscape"], tmp_path / "out", subtitles=[Subtitle("en", broken)])
    assert raised.value.reason == "bad_subtitles"
    assert not (tmp_path / "out").exists()


def test_two_sidecars_for_one_language_are_bad_subtitles(
    clips: dict[str, Path], tmp_path: Path
) -> None:
    sidecars = [Subtitle("en", clips["srt"]), Subtitle("en", clips["srt"])]
    with pytest.raises(InvalidMedia, match="more than one") as raised:
        transcode(clips["landscape"], tmp_path / "out", subtitles=sidecars)
    assert raised.value.reason == "bad_subtitles"


def test_a_good_source_is_described(clips: dict[str, Path]) -> None:
    info = probe(clips["landscape"])
    assert info.duration_s == pytest.approx(3.0, abs=0.05)
    assert (info.video.width, info.video.height) == (640, 360)
    assert info.video.frame_rate_fraction == "30/1"
    assert not info.video.variable_frame_rate
    assert info.audio is not None
    assert info.audio.sample_rate == 48000


def test_rotation_metadata_swaps_the_display_size(clips: dict[str, Path]) -> None:
    info = probe(clips["rotated"])
    assert (info.video.coded_width, info.video.coded_height) == (363, 203)
    assert info.video.rotation == 90
    assert (info.video.width, info.video.height) == (203, 363)
    assert info.video.portrait


def test_variable_frame_rate_is_detected_and_snapped(clips: dict[str, Path]) -> None:
    info = probe(clips["vfr"])
    assert info.video.variable_frame_rate
    assert info.video.frame_rate_fraction == "30/1"
    assert info.audio is None

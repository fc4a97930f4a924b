"""Subtitle sidecars: SRT and WebVTT in, WebVTT out; anything unparsable is bad_subtitles."""

from __future__ import annotations

from pathlib import Path

import pytest

from flixstack.media import subtitles
from flixstack.media.errors import InvalidMedia


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def test_srt_becomes_webvtt(tmp_path: Path) -> None:
    srt = write(
        tmp_path,
        "en.srt",
        "\ufeff1\r\n00:00:01,000 --> 00:00:02,500\r\n<I>Hi</I> & <font color=red>bye</font> {\\an8}\r\n"
        "\r\n\r\n"
        "00:01:02,5 --> 01:00:00,000\r\nno counter, two lines\r\nsecond < third\r\n",
    )
    assert subtitles.to_webvtt(subtitles.parse(srt)) == (
        "WEBVTT\n\n"
        "00:00:01.000 --> 00:00:02.500\n<i>Hi</i> &amp; bye\n\n"
        "00:01:02.500 --> 01:00:00.000\nno counter, two lines\nsecond &lt; third\n"
    )


def test_windows_1252_srt_is_read(tmp_path: Path) -> None:
    srt = write(tmp_path, "fr.srt", "1\n00:00:01,000 --> 00:00:02,000\nCafé\n".encode("cp1252"))
    assert subtitles.parse(srt)[0].text == "Café"


def test_a_blank_line_inside_an_srt_cue_keeps_its_text(tmp_path: Path) -> None:
    srt = write(tmp_path, "en.srt", "1\n00:00:01,000 --> 00:00:02,000\nfirst\n\nstill first\n")
    [cue] = subtitles.parse(srt)
    assert cue.text == "first\nstill first"


def test_webvtt_keeps_cue_settings_and_drops_notes(tmp_path: Path) -> None:
    vtt = write(
        tmp_path,
        "de.vtt",
        "WEBVTT - German\n\nNOTE a comment\n\nintro\n00:05.000 --> 00:06.000 line:90% align:start\n"
        "<b>Hallo</b>\n\n00:01.000 --> 00:02.000\nfrüher\n",
    )
    cues = subtitles.parse(vtt)
    assert [c.text for c in cues] == ["früher", "<b>Hallo</b>"]  # sorted by start
    assert cues[1].settings == "line:90% align:start"
    assert "00:00:05.000 --> 00:00:06.000 line:90% align:start" in subtitles.to_webvtt(cues)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("en.srt", "", "no subtitle cues"),
        ("en.srt", "just some text\nwith no timings\n", "cue timing"),
        ("en.srt", "1\n00:00:01,000 -> 00:00:02,000\nx\n", "cue timing"),
        ("en.srt", "1\n00:00:0a,000 --> 00:00:02,000\nx\n", "bad cue timing"),
        ("en.srt", "1\n00:00:03,000 --> 00:00:02,000\nx\n", "ends before it starts"),
        ("en.vtt", "00:01.000 --> 00:02.000\nx\n", "starts with 'WEBVTT'"),
        ("en.ass", "[Script Info]\n", ".srt or .vtt"),
        ("en.srt", b"\x00\x01\x02binary", "not a text file"),
    ],
)
def test_unparsable_sidecars_are_bad_subtitles(
    tmp_path: Path, name: str, content: str | bytes, message: str
) -> None:
    path = write(tmp_path, name, content)
    with pytest.raises(InvalidMedia, match=message) as raised:
        subtitles.parse(path)
    assert raised.value.reason == "bad_subtitles"


@pytest.mark.parametrize("language", ["en", "pt-BR", "zh-Hant", "gsw"])
def test_bcp47_languages_are_accepted(language: str) -> None:
    assert subtitles.check_language(language) == language


@pytest.mark.parametrize("language", ["", "english", "en_US", "e", "en-", "../x"])
def test_other_languages_are_bad_subtitles(language: str) -> None:
    with pytest.raises(InvalidMedia) as raised:
        subtitles.check_language(language)
    assert raised.value.reason == "bad_subtitles"

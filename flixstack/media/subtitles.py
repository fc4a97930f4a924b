"""Subtitle sidecars: SRT or WebVTT in, clean WebVTT out (what HLS and DASH both carry).

Parsing is strict about what matters (every cue has valid timings, the file has cues) and
lenient about what real sidecars get wrong (a byte-order mark, CRLF line ends, missing SRT
counters, Windows-1252 text, stray blank lines). Anything unparsable raises
``InvalidMedia(reason="bad_subtitles")`` naming the file and line.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

from flixstack.media.errors import InvalidMedia

# BCP-47 as HLS (LANGUAGE) and DASH (@lang) take it: a 2-3 letter primary tag, then subtags.
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
_TIMESTAMP = r"(?:(\d+):)?([0-5]?\d):([0-5]\d)[.,](\d{1,3})"
_TIMING = re.compile(rf"^\s*{_TIMESTAMP}\s*-->\s*{_TIMESTAMP}(?P<settings>.*)$")
# Markup WebVTT shares with SRT; everything else (<font>, {\\an8}) is dropped.
_KEPT_TAGS = re.compile(r"</?(?:i|b|u)>", re.IGNORECASE)
_ANY_TAG = re.compile(r"</?[A-Za-z][^<>]*>|\{\\[^{}]*\}")
_MAX_BYTES = 10 * 2**20


@dataclass(frozen=True)
class Subtitle:
    """A subtitle sidecar: a BCP-47 ``language`` (``en``, ``pt-BR``) and an .srt/.vtt file."""

    language: str
    path: Path


@dataclass(frozen=True)
class Cue:
    start_s: float
    end_s: float
    text: str
    """WebVTT cue text (escaped; only <i>, <b>, <u> markup)."""
    settings: str = ""
    """WebVTT cue settings (``line:90% align:center``), empty for SRT."""


def check_language(language: str) -> str:
    """``language`` if it is a BCP-47 tag, else InvalidMedia(bad_subtitles)."""
    if not _LANGUAGE.match(language):
        raise InvalidMedia(
            f"subtitle language {language!r} is not a BCP-47 tag such as 'en' or 'pt-BR'",
            reason="bad_subtitles",
        )
    return language


def parse(path: Path) -> list[Cue]:
    """The cues of an .srt or .vtt file, by start time."""
    suffix = path.suffix.lower()
    if suffix not in (".srt", ".vtt"):
        raise InvalidMedia(
            f"subtitle file {path.name} must be .srt or .vtt", reason="bad_subtitles"
        )
    lines = _read(path).splitlines()
    if suffix == ".vtt":
        if not lines or not (lines[0] == "WEBVTT" or lines[0].startswith(("WEBVTT ", "WEBVTT\t"))):
            raise InvalidMedia(
                f"{path.name}: a WebVTT file starts with 'WEBVTT'", reason="bad_subtitles"
            )
        cues = _cues(path, lines[1:], first_line=2, vtt=True)
    else:
        cues = _cues(path, lines, first_line=1, vtt=False)
    if not cues:
        raise InvalidMedia(f"{path.name} contains no subtitle cues", reason="bad_subtitles")
    return sorted(cues, key=lambda cue: (cue.start_s, cue.end_s))


def to_webvtt(cues: list[Cue]) -> str:
    """A WebVTT document holding ``cues``."""
    blocks = ["WEBVTT"]
    for cue in cues:
        timing = f"{_timestamp(cue.start_s)} --> {_timestamp(cue.end_s)}"
        if cue.settings:
            timing = f"{timing} {cue.settings}"
        blocks.append(f"{timing}\n{cue.text}")
    return "\n\n".join(blocks) + "\n"


def convert(subtitle: Subtitle, out: Path) -> list[Cue]:
    """Validates ``subtitle`` and writes it to ``out`` as WebVTT; returns its cues."""
    check_language(subtitle.language)
    cues = parse(subtitle.path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(to_webvtt(cues), encoding="utf-8")
    return cues


def _read(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidMedia(
            f"cannot read subtitle file {path.name}", reason="bad_subtitles"
        ) from exc
    if len(data) > _MAX_BYTES:
        raise InvalidMedia(f"subtitle file {path.name} is over 10 MiB", reason="bad_subtitles")
    if b"\x00" in data:
        raise InvalidMedia(f"{path.name} is not a text file", reason="bad_subtitles")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")  # the usual encoding of legacy SRT files
    except UnicodeDecodeError as exc:
        raise InvalidMedia(
            f"{path.name} is neither UTF-8 nor Windows-1252 text", reason="bad_subtitles"
        ) from exc


def _cues(path: Path, lines: list[str], *, first_line: int, vtt: bool) -> list[Cue]:
    cues: list[Cue] = []
    block: list[tuple[int, str]] = []
    for number, line in enumerate([*lines, ""], start=first_line):
        if line.strip():
            block.append((number, line.rstrip()))
            continue
        if block:
            if not vtt and cues and not any("-->" in text for _, text in block):
                # A blank line inside an SRT cue's text: the text goes on.
                extra = "\n".join(_clean(text, vtt=False) for _, text in block)
                last = cues[-1]
                cues[-1] = Cue(last.start_s, last.end_s, f"{last.text}\n{extra}", last.settings)
            else:
                cue = _cue(path, block, vtt=vtt)
                if cue is not None:
                    cues.append(cue)
            block = []
    return cues


def _cue(path: Path, block: list[tuple[int, str]], *, vtt: bool) -> Cue | None:
    first = block[0][1]
    if vtt and (first.startswith(("NOTE", "STYLE", "REGION")) and "-->" not in first):
        return None
    timing_at = next((i for i, (_, line) in enumerate(block) if "-->" in line), None)
    if timing_at is None or timing_at > 1:
        raise InvalidMedia(
            f"{path.name} line {block[0][0]}: expected a cue timing line ('00:00:01,000 --> "
            "00:00:02,000')",
            reason="bad_subtitles",
        )
    number, line = block[timing_at]
    match = _TIMING.match(line)
    if match is None:
        raise InvalidMedia(
            f"{path.name} line {number}: bad cue timing {line!r}", reason="bad_subtitles"
        )
    groups = match.groups()
    start, end = _seconds(groups[0:4]), _seconds(groups[4:8])
    if end < start:
        raise InvalidMedia(
            f"{path.name} line {number}: the cue ends before it starts", reason="bad_subtitles"
        )
    text = "\n".join(_clean(text_line, vtt=vtt) for _, text_line in block[timing_at + 1 :])
    settings = match.group("settings").strip() if vtt else ""
    return Cue(start, end, text.strip() or " ", settings)


def _seconds(parts: tuple[str | None, ...]) -> float:
    hours, minutes, seconds, fraction = parts
    assert minutes is not None
    assert seconds is not None
    assert fraction is not None
    millis = int(fraction.ljust(3, "0"))
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + millis / 1000


def _timestamp(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def _clean(line: str, *, vtt: bool) -> str:
    """One line of cue text as WebVTT: <i>/<b>/<u> kept, other markup dropped, rest escaped."""
    if vtt:
        return line.replace("-->", "--&gt;")
    kept: list[str] = []

    def keep(match: re.Match[str]) -> str:
        kept.append(match.group(0).lower())
        return f"\x00{len(kept) - 1}\x00"

    marked = _KEPT_TAGS.sub(keep, line)
    marked = _ANY_TAG.sub("", marked)
    escaped = html.escape(marked, quote=False)
    return re.sub(r"\x00(\d+)\x00", lambda m: kept[int(m.group(1))], escaped)

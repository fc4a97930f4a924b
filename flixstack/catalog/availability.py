"""Who may see a title, and in which language: licence windows and Accept-Language.

All times are UTC. A licence window covers ``start <= t < end`` in its territory; a title
is visible to a territory at ``t`` only while it is published and some window covers it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import lru_cache
from typing import TypeVar

from flixstack.catalog.models import Licence, TitleDocument, TitleState, utc

T = TypeVar("T")


def licensed(licences: Iterable[Licence], territory: str, at: datetime) -> bool:
    moment = utc(at)
    return any(licence.covers(territory, moment) for licence in licences)


def visible(title: TitleDocument, territory: str, at: datetime) -> bool:
    """Published, and inside a licence window for the territory."""
    return title.state is TitleState.PUBLISHED and licensed(title.licences, territory, at)


def next_change(licences: Iterable[Licence], after: datetime) -> datetime | None:
    """The first window start or end after ``after`` (when visibility may next change)."""
    moment = utc(after)
    edges = [edge for licence in licences for edge in (licence.start, licence.end) if edge > moment]
    return min(edges, default=None)


@lru_cache(maxsize=1024)
def preferences(accept_language: str | None) -> tuple[str, ...]:
    """Language ranges of an Accept-Language header, best first (q=0 ones dropped).

    >>> preferences("fr-CA,fr;q=0.9,en;q=0.8,*;q=0.1")
    ('fr-CA', 'fr', 'en', '*')
    """
    if not accept_language:
        return ()
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        pieces = [p.strip() for p in part.split(";")]
        tag = pieces[0]
        if not tag or len(tag) > 35:
            continue
        quality = 1.0
        for param in pieces[1:]:
            if param.startswith("q="):
                try:
                    quality = float(param[2:])
                except ValueError:
                    quality = 0.0
        if quality > 0:
            ranked.append((-quality, position, tag))
    return tuple(tag for _, _, tag in sorted(ranked))


def negotiate(accept_language: str | None, available: Iterable[str], default: str) -> str:
    """The available language the viewer prefers most; ``default`` when none fits.

    Matching is case-insensitive; a range matches a tag exactly, then by its primary
    language (``fr-CA`` takes ``fr``; ``pt`` takes ``pt-BR``); ``*`` takes the default.
    """
    by_lower = {tag.lower(): tag for tag in available}
    if not by_lower:
        return default
    for wanted in preferences(accept_language):
        lowered = wanted.lower()
        if lowered == "*":
            return default if default.lower() in by_lower else next(iter(by_lower.values()))
        if lowered in by_lower:
            return by_lower[lowered]
        primary = lowered.split("-")[0]
        if primary in by_lower:
            return by_lower[primary]
        for tag_lower, tag in by_lower.items():
            if tag_lower.split("-")[0] == primary:
                return tag
    return default if default.lower() in by_lower else next(iter(by_lower.values()))


def pick(localized: Mapping[str, T], accept_language: str | None, default: str) -> tuple[str, T]:
    """(language, text) of a localized map for the viewer, with the fallback language."""
    language = negotiate(accept_language, localized.keys(), default)
    return language, localized[language]

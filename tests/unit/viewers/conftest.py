"""Factories for viewer unit tests: heartbeats at minutes past T0, playable series."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from flixstack.catalog.models import Asset, TitleDocument
from flixstack.viewers.models import Heartbeat
from tests.unit.catalog.conftest import STAMP, series

T0 = datetime(2027, 6, 1, 20, 0, tzinfo=UTC)


def beat(
    minute: float,
    event_id: str | None = None,
    *,
    title_id: str = "movie",
    episode_id: str | None = None,
    position_s: float = 60.0,
    duration_s: float = 6000.0,
    device: str = "tv",
) -> Heartbeat:
    """A heartbeat sent ``minute`` minutes after T0 (event id ``e<minute>`` unless given)."""
    return Heartbeat(
        event_id=event_id or f"e{minute:g}".replace(".", "_"),
        title_id=title_id,
        episode_id=episode_id,
        position_s=position_s,
        duration_s=duration_s,
        client_ts=T0 + timedelta(minutes=minute),
        device=device,
    )


def asset(duration_s: float = 1800.0, folder: str = "titles/media/v1/") -> Asset:
    """A clear (HLS + DASH) asset, version v1, whose files live under ``folder``."""
    return Asset(
        version="v1",
        master_playlist=f"{folder}hls/master.m3u8",
        dash_manifest=f"{folder}dash/manifest.mpd",
        poster=f"{folder}thumbs/poster.jpg",
        thumbnails_vtt=f"{folder}thumbs/thumbnails.vtt",
        duration_s=duration_s,
        renditions=[],
        subtitle_languages=[],
        has_audio=True,
        published_at=STAMP,
    )


def playable_series(
    title_id: str,
    episodes_per_season: Mapping[int, int],
    *,
    unplayable: tuple[str, ...] = (),
    **kwargs: Any,
) -> TitleDocument:
    """A series whose episodes all have media except the ``unplayable`` ids."""
    doc = series(title_id, episodes_per_season, **kwargs)
    episodes = {
        episode_id: episode
        if episode_id in unplayable
        else episode.model_copy(update={"asset": asset(1500.0 + episode.number)})
        for episode_id, episode in doc.episodes.items()
    }
    return doc.model_copy(update={"episodes": episodes})

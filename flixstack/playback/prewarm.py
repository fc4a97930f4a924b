"""CDN pre-warming: when a title is published, its first segments are requested through
every CDN, so the first viewers start from the edge's cache instead of the origin.

Publishing enqueues one message per asset (the movie's, or each episode's) on the
``prewarm`` queue when the policy picks the title (all titles, popular ones, or new
ones); a consumer (the local worker process; a queue-triggered function on AWS) fetches
through each enabled CDN, with cookies it signs itself as any player would need: the
master playlist, every media playlist, each one's init segment and its first N segments.
A failed fetch is counted and logged, never retried: warming is an optimisation.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

import httpx
import m3u8

from flixstack.catalog.models import Asset, TitleDocument
from flixstack.errors import InvalidInput
from flixstack.settings import CdnEndpoint

logger = logging.getLogger(__name__)

Which = Literal["all", "popular", "new", "none"]
ACCESS_S = 600
"""How long the cookies the warmer signs for itself last."""


@dataclass(frozen=True)
class PrewarmPolicy:
    which: Which = "all"
    segments: int = 5
    """Media segments per rendition (after the init segment)."""
    min_popularity: float = 0.0
    """``popular``: titles at least this popular."""
    new_days: int = 30
    """``new``: titles first published at most this many days ago."""

    def picks(self, doc: TitleDocument, now: datetime) -> bool:
        if self.which == "none" or self.segments <= 0:
            return False
        if self.which == "popular":
            return doc.popularity >= self.min_popularity
        if self.which == "new":
            published = datetime.fromisoformat(doc.published_at) if doc.published_at else now
            return now - published <= timedelta(days=self.new_days)
        return True


def assets_of(doc: TitleDocument) -> list[Asset]:
    """Every asset viewers may start: the movie's, or each episode's."""
    found = [doc.asset] if doc.asset is not None else []
    found += [e.asset for e in doc.ordered_episodes() if e.asset is not None]
    return found


def message(doc: TitleDocument, asset: Asset) -> str:
    return json.dumps({"title_id": doc.id, "master_playlist": asset.master_playlist})


def parse(body: str) -> str:
    """The master playlist key a message asks to warm; InvalidInput for anything else."""
    try:
        data: Any = json.loads(body)
        master = data["master_playlist"]
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidInput("not a prewarm message", reason="bad_message") from exc
    if not isinstance(master, str) or not master.endswith(".m3u8"):
        raise InvalidInput("not a prewarm message", reason="bad_message")
    return master


class Sender(Protocol):
    def __call__(self, bodies: Sequence[str]) -> None: ...


class PrewarmRequests:
    """The publishing side: which assets of a newly visible title to warm."""

    def __init__(
        self,
        policy: PrewarmPolicy,
        send: Sender,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._policy = policy
        self._send = send
        self._clock = clock

    def published(self, doc: TitleDocument) -> int:
        """Enqueues the title's assets if the policy picks it; how many were enqueued."""
        if not self._policy.picks(doc, self._clock()):
            return 0
        bodies = [message(doc, asset) for asset in assets_of(doc)]
        if bodies:
            self._send(bodies)
        return len(bodies)


@dataclass
class WarmReport:
    requests: int = 0
    bytes: int = 0
    failures: list[str] = field(default_factory=list)


Cookies = Callable[[str], dict[str, str]]
"""Signed cookies granting one master playlist's asset folder."""


class Prewarmer:
    """The consuming side: fetches an asset's start through every enabled CDN."""

    def __init__(
        self,
        cdns: Sequence[CdnEndpoint],
        cookies: Cookies,
        segments: int,
        client: httpx.Client | None = None,
    ) -> None:
        self._cdns = [cdn for cdn in cdns if cdn.enabled]
        self._cookies = cookies
        self._segments = segments
        self._client = client or httpx.Client(timeout=30)

    def warm(self, master_playlist: str) -> dict[str, WarmReport]:
        cookies = self._cookies(master_playlist)
        return {
            cdn.name: self._warm_on(f"{str(cdn.base_url).rstrip('/')}/{master_playlist}", cookies)
            for cdn in self._cdns
        }

    def _warm_on(self, master_url: str, cookies: dict[str, str]) -> WarmReport:
        report = WarmReport()
        master = self._get(master_url, cookies, report)
        if master is None:
            return report
        parsed = m3u8.loads(master.decode(), uri=master_url)
        playlists = [p.absolute_uri for p in parsed.playlists]
        playlists += [m.absolute_uri for m in parsed.media if m.uri and m.type != "SUBTITLES"]
        for url in playlists:
            body = self._get(url, cookies, report)
            if body is None:
                continue
            media = m3u8.loads(body.decode(), uri=url)
            wanted = [m.absolute_uri for m in media.segment_map or []]
            wanted += [s.absolute_uri for s in media.segments[: self._segments]]
            for segment in wanted:
                self._get(segment, cookies, report)
        return report

    def _get(self, url: str, cookies: dict[str, str], report: WarmReport) -> bytes | None:
        report.requests += 1
        header = "; ".join(f"{name}={value}" for name, value in cookies.items())
        try:
            response = self._client.get(url, headers={"Cookie": header})
        except httpx.HTTPError as exc:
            report.failures.append(f"{url}: {exc}")
            return None
        if response.status_code != 200:
            report.failures.append(f"{url}: {response.status_code}")
            return None
        report.bytes += len(response.content)
        return response.content


class MessageQueue(Protocol):
    def receive(self, wait_s: int, visibility_s: int) -> list[Any]: ...
    def delete(self, receipt: str) -> None: ...


def handle(prewarmer: Prewarmer, body: str) -> dict[str, WarmReport]:
    """Warms what one message names (InvalidInput for a poison message)."""
    master = parse(body)
    reports = prewarmer.warm(master)
    for cdn, report in reports.items():
        log = logger.warning if report.failures else logger.info
        log(
            "prewarmed %s on %s: %d requests, %d bytes, %d failed %s",
            master, cdn, report.requests, report.bytes, len(report.failures), report.failures[:3],
        )  # fmt: skip
    return reports


def serve(
    queue: MessageQueue,
    prewarmer: Prewarmer,
    stop: Callable[[], bool],
    *,
    wait_s: int = 5,
    visibility_s: int = 120,
) -> int:
    """Consumes the prewarm queue until ``stop()``; how many messages it warmed. A poison
    message is left for its redeliveries to carry it to the dead-letter queue."""
    warmed = 0
    while not stop():
        for received in queue.receive(wait_s, visibility_s):
            try:
                handle(prewarmer, received.get("Body", ""))
            except InvalidInput:
                logger.warning("not a prewarm message: %s", received.get("MessageId"))
                continue
            queue.delete(received["ReceiptHandle"])
            warmed += 1
    return warmed

"""``POST /events``: a batch of player events, checked, stamped and put on the stream.

Each event is validated on its own (``schema.validate_batch``) and must name a profile of
the caller's own account; the rest are rejected by index with their reasons, and never
cost the valid ones their place. Accepted events go to the events stream as flat records (the
event's fields plus ``account`` and ``received_at``, see ``events.lake``) keyed by session id (one session's events stay in
order on one shard). Records the stream refuses (throttled shards) are retried; if some
still fail the whole call is a 503 and the client sends the batch again: consumers drop
the repeats by ``event_id``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from flixstack.errors import InvalidInput, NotFound, PayloadTooLarge, ServiceUnavailable
from flixstack.events import lake, schema
from flixstack.viewers.models import stamp

logger = logging.getLogger(__name__)
T = TypeVar("T")

PUT_ATTEMPTS = 4
"""Tries per record before the batch is answered 503 (botocore retries whole calls, not
the records a successful PutRecords reports as failed)."""


@dataclass(frozen=True)
class Record:
    partition_key: str
    data: bytes


class EventSink(Protocol):
    def put(self, records: Sequence[Record]) -> list[Record]:
        """Puts what it can; answers the records that were not put."""
        ...


class ProfileCheck(Protocol):
    def read_as(self, account: str, profile_id: str, read: Callable[[], T]) -> tuple[Any, T]:
        """The account's profile (NotFound for an unknown one and another account's) and
        what ``read`` reads: ``ViewerService.read_as``, whose recent profiles are cached."""
        ...


@dataclass(frozen=True)
class Refused:
    index: int
    event_id: str | None
    reason: str
    errors: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class IngestReport:
    accepted: int
    rejected: list[Refused]


class EventIngest:
    def __init__(
        self,
        sink: EventSink,
        profiles: ProfileCheck,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._sink = sink
        self._profiles = profiles
        self._clock = clock
        self._sleep = sleep

    def ingest(self, account: str, body: bytes) -> IngestReport:
        try:
            batch = schema.validate_batch(body)
        except schema.BatchTooLarge as exc:
            raise PayloadTooLarge(str(exc), reason="batch_too_large") from exc
        except ValueError as exc:
            raise InvalidInput(str(exc), reason="bad_batch") from exc
        refused = [Refused(r.index, r.event_id, "invalid_event", r.errors) for r in batch.rejected]
        owned = self._owned(account, {event.profile_id for _, event in batch.accepted})
        received = stamp(self._clock())
        records = []
        for index, event in batch.accepted:
            if event.profile_id not in owned:
                refused.append(Refused(index, event.event_id, "unknown_profile"))
                continue
            records.append(
                Record(schema.partition_key(event), lake.encode(account, received, event))
            )
        self._put(records)
        return IngestReport(len(records), sorted(refused, key=lambda r: r.index))

    def _owned(self, account: str, profile_ids: set[str]) -> set[str]:
        owned = set()
        for profile_id in profile_ids:
            try:
                self._profiles.read_as(account, profile_id, lambda: None)
            except NotFound:
                continue
            owned.add(profile_id)
        return owned

    def _put(self, records: list[Record]) -> None:
        pending = records
        for attempt in range(PUT_ATTEMPTS):
            if not pending:
                return
            if attempt:
                self._sleep(0.05 * 2**attempt)
            pending = self._sink.put(pending)
        if pending:
            logger.warning("events stream refused %d of %d records", len(pending), len(records))
            raise ServiceUnavailable(
                f"the events stream refused {len(pending)} of {len(records)} events; "
                "send the batch again",
                reason="stream_busy",
            )

"""The events stream's consumer: one batch of stream records at a time, as a Kinesis event
source hands them to a Lambda function (``functions/events.py``), or the local poller does
(``flixstack.local.events``).

For each batch it:

1. decodes every record; a poison record (not JSON, not a valid event) goes to the
   dead-letter queue with its reason and data, and never blocks its shard;
2. drops events its session already applied (``sessions.DEDUPE_WINDOW``);
3. folds the rest into their sessions, in stream order (``sessions.fold``);
4. applies heartbeats to viewing progress and history through ``ViewerService.record``,
   the same path the progress route takes;
5. writes the lake rows (locally; Firehose does on AWS), ADDs the per-minute QoE sums and
   the trending counters, then saves the sessions, which is what marks their events
   applied;
6. writes CloudWatch metrics (Powertools EMF).

A session whose progress or state cannot be written fails alone: its records are reported
back (``batchItemFailures``) and the event source retries from the first of them; the
other sessions' events are not applied twice, their sessions remember them. Failing to
write the shared sums fails the whole batch, which is retried whole. Because the sums are
written before the sessions, a batch that fails between the two counts its events twice
on retry: the sums are at least once, never lost; progress is exactly once by its own
event ids.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple, Protocol

from flixstack.errors import NotFound
from flixstack.events import lake, qoe, sessions, trending
from flixstack.events.lake import Envelope, PoisonRecord
from flixstack.events.sessions import ProgressMark, QoeKey, Session
from flixstack.viewers.models import MAX_BATCH, Heartbeat, HeartbeatBatch, ProgressReport

logger = logging.getLogger(__name__)


class StreamRecord(NamedTuple):
    """One record of a batch, as the event source describes it."""

    sequence_number: str
    partition_key: str
    data: bytes
    shard: str = ""
    """The event source ARN/shard, for the dead-letter message."""


@dataclass(frozen=True)
class DeadLetter:
    reason: str
    record: StreamRecord

    def body(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "source": self.record.shard,
            "sequence_number": self.record.sequence_number,
            "partition_key": self.record.partition_key,
            "data": base64.b64encode(self.record.data).decode(),
        }


TrendKey = tuple[str, str, int]
"""(territory, title_id, decay epoch)."""


class AnalyticsStore(Protocol):
    def sessions(self, session_ids: Sequence[str]) -> dict[str, Session]:
        """The stored sessions among these (unknown ones are left out)."""
        ...

    def save_sessions(self, sessions: Sequence[Session], expires_at: int) -> list[str]:
        """Stores them whole; answers the ids it could not."""
        ...

    def add_qoe(self, sums: Mapping[QoeKey, qoe.Aggregate]) -> None: ...

    def add_trending(self, counters: Mapping[TrendKey, float]) -> None: ...


class ProgressWriter(Protocol):
    def record(
        self, account: str, profile_id: str, batch: HeartbeatBatch, *, territory: str
    ) -> ProgressReport: ...


class DeadLetterQueue(Protocol):
    def send(self, letters: Sequence[DeadLetter]) -> None: ...


class LakeWriter(Protocol):
    def write(self, rows: Sequence[dict[str, Any]], name: str) -> None:
        """Writes rows (``lake.COLUMNS``) under their hour partitions, in files named
        after ``name`` (the same batch gives the same files)."""
        ...


class MetricsSink(Protocol):
    def publish(self, outcome: BatchOutcome) -> None: ...


@dataclass
class BatchOutcome:
    """What one batch did, for metrics and logs."""

    applied: int = 0
    duplicates: int = 0
    poison: int = 0
    failed_sessions: list[str] = field(default_factory=list)
    max_lag_ms: float | None = None
    """From the API accepting the batch's oldest applied event to its applying."""
    by_cdn: dict[str, qoe.Aggregate] = field(default_factory=dict)
    startups_by_cdn: dict[str, list[float]] = field(default_factory=dict)
    progress_rejected: int = 0


class SessionFailed(RuntimeError):
    """The session's progress or state could not be written; its records are retried."""


_WRITERS = 8
_WRITES = ThreadPoolExecutor(max_workers=_WRITERS + 3, thread_name_prefix="event-writes")
"""Progress writers (each takes a share of the batch's profiles), plus the lake, QoE and
trending writes."""


class EventConsumer:
    def __init__(
        self,
        store: AnalyticsStore,
        progress: ProgressWriter,
        dead_letters: DeadLetterQueue,
        *,
        lake_writer: LakeWriter | None = None,
        metrics: MetricsSink | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._progress = progress
        self._dead_letters = dead_letters
        self._lake = lake_writer
        self._metrics = metrics
        self._clock = clock

    def process(self, records: Sequence[StreamRecord]) -> tuple[BatchOutcome, set[str]]:
        """Applies a batch; answers what it did and the sequence numbers that failed
        (their sessions' records, to retry). Raises when the batch must be retried whole."""
        outcome = BatchOutcome()
        letters: list[DeadLetter] = []
        by_session: dict[str, list[tuple[StreamRecord, Envelope]]] = {}
        for record in records:
            try:
                envelope = lake.decode(record.data)
            except PoisonRecord as exc:
                letters.append(DeadLetter(str(exc), record))
                continue
            by_session.setdefault(envelope.event.session_id, []).append((record, envelope))
        if letters:
            self._dead_letters.send(letters)
            outcome.poison = len(letters)
            logger.warning("%d poison records sent to the dead-letter queue", len(letters))
        failed = self._apply(by_session, outcome)
        if self._metrics is not None:
            self._metrics.publish(outcome)
        failed_sequences = {
            record.sequence_number for sid in failed for record, _ in by_session[sid]
        }
        return outcome, failed_sequences

    def _apply(
        self, by_session: dict[str, list[tuple[StreamRecord, Envelope]]], outcome: BatchOutcome
    ) -> set[str]:
        now = self._clock()
        horizon = int((now - sessions.DEDUPE_WINDOW).timestamp())
        received_s: dict[str, int] = {}
        sums: dict[QoeKey, qoe.Aggregate] = {}
        stored = self._store.sessions(list(by_session)) if by_session else {}
        folded = _fold(by_session, stored, horizon, received_s, sums)
        outcome.duplicates = sum(f.duplicates for f in folded.values())
        failed = self._write_progress(folded, outcome)
        if failed:
            # rare: the sums must leave out the sessions that will be retried, so fold the
            # others again from their stored state (nothing was saved yet)
            kept = {sid: items for sid, items in by_session.items() if sid not in failed}
            sums = {}
            folded = _fold(kept, self._store.sessions(list(kept)), horizon, received_s, sums)
        good = list(folded.values())
        outcome.by_cdn = self._write_shared(good, sums, now)
        expires = int((now + sessions.SESSION_TTL).timestamp())
        touched = [f.session for f in good if f.applied]
        unsaved = set(self._store.save_sessions(touched, expires)) if touched else set()
        failed |= unsaved
        outcome.failed_sessions = sorted(failed)
        for f in good:
            if f.session.session_id in unsaved:
                continue
            outcome.applied += f.applied
            for envelope in f.plays:
                startup = getattr(envelope.event, "startup_ms", 0.0)
                outcome.startups_by_cdn.setdefault(envelope.event.cdn, []).append(startup)
        if outcome.applied:
            oldest = min(received_s[f.envelopes[0].received_at] for f in good if f.applied)
            outcome.max_lag_ms = max(0.0, (now.timestamp() - oldest) * 1000)
        return failed

    def _write_progress(self, folded: Mapping[str, _Folded], outcome: BatchOutcome) -> set[str]:
        """One ``record`` call per profile and territory, with the latest mark per title;
        a failed call fails the sessions that fed it."""
        groups: dict[tuple[str, str, str], tuple[dict[str, ProgressMark], set[str]]] = {}
        for session_id, result in folded.items():
            for envelope, mark in result.marks:
                event = envelope.event
                latest, owners = groups.setdefault(
                    (envelope.account, event.profile_id, event.territory), ({}, set())
                )
                held = latest.get(event.title_id)
                if held is None or _order(mark) > _order(held):
                    latest[event.title_id] = mark
                owners.add(session_id)
        keys = list(groups)
        slices = [keys[n::_WRITERS] for n in range(min(_WRITERS, len(keys)))]
        calls = [
            _WRITES.submit(self._record_slice, [(k, list(groups[k][0].values())) for k in part])
            for part in slices
        ]
        failed: set[str] = set()
        for call in calls:
            rejected, failures = call.result()
            outcome.progress_rejected += rejected
            for key in failures:
                failed |= groups[key][1]
        return failed

    def _record_slice(
        self, groups: list[tuple[tuple[str, str, str], list[ProgressMark]]]
    ) -> tuple[int, list[tuple[str, str, str]]]:
        """Some profiles' progress, one after another (a writer thread's share)."""
        rejected = 0
        failures = []
        for key, marks in groups:
            try:
                rejected += self._record_progress(key, [m.heartbeat() for m in marks])
            except Exception:
                logger.exception(
                    "progress of profile %s not written; retrying its sessions", key[1]
                )
                failures.append(key)
        return rejected, failures

    def _record_progress(self, key: tuple[str, str, str], beats: list[Heartbeat]) -> int:
        account, profile_id, territory = key
        try:
            rejected = 0
            for start in range(0, len(beats), MAX_BATCH):
                # the heartbeats were built from validated events: no second validation
                batch = HeartbeatBatch.model_construct(heartbeats=beats[start : start + MAX_BATCH])
                report = self._progress.record(account, profile_id, batch, territory=territory)
                rejected += len(report.rejected)
        except NotFound:
            logger.info("profile %s is gone; its heartbeats count for QoE only", profile_id)
            return len(beats)
        return rejected

    def _write_shared(
        self, good: Iterable[_Folded], sums: dict[QoeKey, qoe.Aggregate], now: datetime
    ) -> dict[str, qoe.Aggregate]:
        """Writes the lake rows of these sessions, the batch's QoE sums and the trending
        counters of its plays; answers the sums by CDN (for metrics)."""
        counters: dict[TrendKey, float] = {}
        rows: list[dict[str, Any]] = []
        for result in good:
            for envelope in result.plays:
                at = _instant(envelope.received_at)
                event = envelope.event
                trend = (event.territory, event.title_id, trending.epoch_of(at))
                counters[trend] = counters.get(trend, 0.0) + trending.weight(at)
            if self._lake is not None:
                rows += [lake.row(envelope) for envelope in result.envelopes]
        writes = []
        if rows and self._lake is not None:
            first = rows[0]["event_id"]
            writes.append(_WRITES.submit(self._lake.write, rows, f"{now:%H%M%S}-{first}"))
        if sums:
            writes.append(_WRITES.submit(self._store.add_qoe, sums))
        if counters:
            writes.append(_WRITES.submit(self._store.add_trending, counters))
        for write in writes:
            write.result()
        by_cdn: dict[str, qoe.Aggregate] = {}
        for key, aggregate in sums.items():
            by_cdn.setdefault(key.cdn, qoe.Aggregate()).add(aggregate)
        return by_cdn


@dataclass
class _Folded:
    """A session's share of a batch: its new events, plays and progress marks."""

    session: Session
    envelopes: list[Envelope] = field(default_factory=list)
    plays: list[Envelope] = field(default_factory=list)
    marks: list[tuple[Envelope, ProgressMark]] = field(default_factory=list)
    duplicates: int = 0

    @property
    def applied(self) -> int:
        return len(self.envelopes)


def _fold(
    by_session: Mapping[str, list[tuple[StreamRecord, Envelope]]],
    stored: Mapping[str, Session],
    horizon: int,
    received_s: dict[str, int],
    sums: dict[QoeKey, qoe.Aggregate],
) -> dict[str, _Folded]:
    """Each session's events in stream order, into ``sums`` (every session's adding to
    the same minutes: one sum per minute key for the batch)."""
    folded: dict[str, _Folded] = {}
    for session_id, items in by_session.items():
        session = stored.get(session_id) or Session(session_id)
        session.forget_before(horizon)
        result = folded[session_id] = _Folded(session)
        for _, envelope in items:
            stamp = envelope.received_at
            at = received_s.get(stamp)
            if at is None:
                at = received_s[stamp] = int(_instant(stamp).timestamp())
            effects = sessions.fold(session, envelope, at, sums)
            if effects is None:
                result.duplicates += 1
                continue
            result.envelopes.append(envelope)
            if effects.play:
                result.plays.append(envelope)
            if effects.progress is not None:
                result.marks.append((envelope, effects.progress))
    return folded


def _order(mark: ProgressMark) -> tuple[datetime, str]:
    """Which of a title's marks progress keeps: the latest (client time, then event id)."""
    return mark.event.client_ts, mark.event.event_id


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def hour_window(now: datetime, minutes: int) -> list[str]:
    """The hours (``YYYY-MM-DDTHH``) the last ``minutes`` minutes touch, oldest first."""
    start = now - timedelta(minutes=minutes)
    hours = []
    at = start.replace(minute=0, second=0, microsecond=0)
    while at <= now:
        hours.append(f"{at:%Y-%m-%dT%H}")
        at += timedelta(hours=1)
    return hours

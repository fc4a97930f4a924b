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
from typing import Any, Protocol

from flixstack.errors import NotFound
from flixstack.events import lake, qoe, sessions, trending
from flixstack.events.lake import Envelope, PoisonRecord
from flixstack.events.sessions import QoeKey, Session
from flixstack.viewers.models import Heartbeat, HeartbeatBatch, ProgressReport

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StreamRecord:
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
        """Stores them (each as of its ``version``); answers the ids it could not."""
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
    lag_ms: list[float] = field(default_factory=list)
    """Per applied event: from the API accepting it to now."""
    by_cdn: dict[str, qoe.Aggregate] = field(default_factory=dict)
    startups_by_cdn: dict[str, list[float]] = field(default_factory=dict)
    progress_rejected: int = 0


class SessionFailed(RuntimeError):
    """The session's progress or state could not be written; its records are retried."""


_WRITES = ThreadPoolExecutor(max_workers=8, thread_name_prefix="event-writes")


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
        stored = self._store.sessions(list(by_session)) if by_session else {}
        horizon = int((now - sessions.DEDUPE_WINDOW).timestamp())
        folded: dict[str, _Folded] = {}
        for session_id, items in by_session.items():
            session = stored.get(session_id) or Session(session_id)
            session.forget_before(horizon)
            result = _Folded(session)
            for _, envelope in items:
                if sessions.seen(session, envelope.event.event_id):
                    outcome.duplicates += 1
                    continue
                received = _instant(envelope.received_at)
                result.add(envelope, sessions.fold(session, envelope, received))
                outcome.lag_ms.append((now - received).total_seconds() * 1000)
            folded[session_id] = result
        failed = self._write_progress(folded, outcome)
        good = [f for sid, f in folded.items() if sid not in failed]
        self._write_shared(good, now)
        expires = int((now + sessions.SESSION_TTL).timestamp())
        touched = [f.session for f in good if f.envelopes]
        unsaved = set(self._store.save_sessions(touched, expires)) if touched else set()
        failed |= unsaved
        outcome.failed_sessions = sorted(failed)
        for f in good:
            if f.session.session_id in unsaved:
                continue
            outcome.applied += len(f.envelopes)
            for envelope, effects in zip(f.envelopes, f.effects, strict=True):
                cdn = envelope.event.cdn
                outcome.by_cdn.setdefault(cdn, qoe.Aggregate()).add(effects.delta)
                if effects.play:
                    startup = getattr(envelope.event, "startup_ms", 0.0)
                    outcome.startups_by_cdn.setdefault(cdn, []).append(startup)
        return failed

    def _write_progress(self, folded: Mapping[str, _Folded], outcome: BatchOutcome) -> set[str]:
        """One ``record`` call per profile and territory; a failed call fails the sessions
        that fed it."""
        groups: dict[tuple[str, str, str], tuple[list[Heartbeat], set[str]]] = {}
        for session_id, result in folded.items():
            for envelope, effects in zip(result.envelopes, result.effects, strict=True):
                if effects.heartbeat is None:
                    continue
                event = envelope.event
                beats, owners = groups.setdefault(
                    (envelope.account, event.profile_id, event.territory), ([], set())
                )
                beats.append(effects.heartbeat)
                owners.add(session_id)
        calls = {
            key: _WRITES.submit(self._record_progress, key, _latest(beats))
            for key, (beats, _) in groups.items()
        }
        failed: set[str] = set()
        for key, call in calls.items():
            try:
                outcome.progress_rejected += call.result()
            except Exception:
                logger.exception(
                    "progress of profile %s not written; retrying its sessions", key[1]
                )
                failed |= groups[key][1]
        return failed

    def _record_progress(self, key: tuple[str, str, str], beats: list[Heartbeat]) -> int:
        account, profile_id, territory = key
        try:
            report = self._progress.record(
                account, profile_id, HeartbeatBatch(heartbeats=beats), territory=territory
            )
        except NotFound:
            logger.info("profile %s is gone; its heartbeats count for QoE only", profile_id)
            return len(beats)
        return len(report.rejected)

    def _write_shared(self, good: Iterable[_Folded], now: datetime) -> None:
        sums: dict[QoeKey, qoe.Aggregate] = {}
        counters: dict[TrendKey, float] = {}
        rows: list[dict[str, Any]] = []
        for result in good:
            for envelope, effects in zip(result.envelopes, result.effects, strict=True):
                sums.setdefault(effects.key, qoe.Aggregate()).add(effects.delta)
                if effects.start_delta is not None:
                    key, delta = effects.start_delta
                    sums.setdefault(key, qoe.Aggregate()).add(delta)
                if effects.play:
                    at = _instant(envelope.received_at)
                    trend = (
                        envelope.event.territory,
                        envelope.event.title_id,
                        trending.epoch_of(at),
                    )
                    counters[trend] = counters.get(trend, 0.0) + trending.weight(at)
                if self._lake is not None:
                    rows.append(lake.row(envelope))
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


@dataclass
class _Folded:
    session: Session
    envelopes: list[Envelope] = field(default_factory=list)
    effects: list[sessions.Effects] = field(default_factory=list)

    def add(self, envelope: Envelope, effects: sessions.Effects) -> None:
        self.envelopes.append(envelope)
        self.effects.append(effects)


def _latest(beats: list[Heartbeat]) -> list[Heartbeat]:
    """Per title, the heartbeat progress keeps (the latest): one write per title."""
    latest: dict[str, Heartbeat] = {}
    for beat in beats:
        held = latest.get(beat.title_id)
        if held is None or (beat.client_ts, beat.event_id) > (held.client_ts, held.event_id):
            latest[beat.title_id] = beat
    return list(latest.values())


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

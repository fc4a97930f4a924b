"""Builds the event consumer of a deployable from its settings and AWS clients, and runs a
Kinesis event (the Lambda event source's, or the local poller's) through it with the
Powertools batch utility: records whose session failed are reported as
``batchItemFailures``, so the event source retries from the first of them."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import (
    KinesisStreamRecord,
)

from flixstack import spec
from flixstack.aws.analytics_store import DynamoAnalyticsStore
from flixstack.aws.clients import AwsClients
from flixstack.aws.queues import Queue
from flixstack.events.consumer import (
    BatchOutcome,
    DeadLetter,
    EventConsumer,
    SessionFailed,
    StreamRecord,
)
from flixstack.settings import Settings, get_settings
from flixstack.viewers.wiring import viewing


class QueueDeadLetters:
    def __init__(self, queue: Queue) -> None:
        self._queue = queue

    def send(self, letters: Sequence[DeadLetter]) -> None:
        self._queue.send([json.dumps(letter.body()) for letter in letters])


class EmfMetrics:
    """CloudWatch metrics as Powertools EMF lines: the batch's counts, and per CDN its
    plays, startup times (one value each, so CloudWatch computes p95), playing and stalled
    time and fatal errors."""

    def publish(self, outcome: BatchOutcome) -> None:
        batch = EphemeralMetrics(namespace=spec.METRICS_NAMESPACE, service=spec.EVENTS_SERVICE)
        batch.add_metric(name=spec.METRIC_EVENTS, unit=MetricUnit.Count, value=outcome.applied)
        batch.add_metric(
            name=spec.METRIC_DUPLICATES, unit=MetricUnit.Count, value=outcome.duplicates
        )
        batch.add_metric(name=spec.METRIC_POISON, unit=MetricUnit.Count, value=outcome.poison)
        if outcome.max_lag_ms is not None:
            batch.add_metric(
                name=spec.METRIC_LAG, unit=MetricUnit.Milliseconds, value=outcome.max_lag_ms
            )
        batch.flush_metrics()
        for cdn, sums in outcome.by_cdn.items():
            per_cdn = EphemeralMetrics(
                namespace=spec.METRICS_NAMESPACE, service=spec.EVENTS_SERVICE
            )
            per_cdn.add_dimension(name=spec.CDN_DIMENSION, value=cdn)
            per_cdn.add_metric(name=spec.METRIC_PLAYS, unit=MetricUnit.Count, value=sums.plays)
            for startup in outcome.startups_by_cdn.get(cdn, [])[:100]:
                per_cdn.add_metric(
                    name=spec.METRIC_STARTUP, unit=MetricUnit.Milliseconds, value=startup
                )
            per_cdn.add_metric(
                name=spec.METRIC_WATCH, unit=MetricUnit.Milliseconds, value=sums.watch_ms
            )
            per_cdn.add_metric(
                name=spec.METRIC_STALL, unit=MetricUnit.Milliseconds, value=sums.stall_ms
            )
            per_cdn.add_metric(
                name=spec.METRIC_FATAL, unit=MetricUnit.Count, value=sums.failed_views
            )
            per_cdn.flush_metrics()
        sys.stdout.flush()


def consumer(settings: Settings, clients: AwsClients, *, local_lake: bool) -> EventConsumer:
    """The consumer: on AWS Firehose fills the lake, locally (``local_lake``) it does."""
    naming = settings.naming
    lake_writer = None
    if local_lake:
        from flixstack.aws.lake_store import ParquetLakeWriter

        lake_writer = ParquetLakeWriter(clients.s3, naming.bucket(spec.LAKE))
    return EventConsumer(
        DynamoAnalyticsStore(naming.table(spec.ANALYTICS), clients.dynamodb, settings.region),
        viewing(settings, clients).viewers,
        QueueDeadLetters(Queue(clients.sqs_for(spec.EVENTS_DLQ), naming.queue(spec.EVENTS_DLQ))),
        lake_writer=lake_writer,
        metrics=EmfMetrics(),
    )


class EventBatchProcessor(BatchProcessor):
    """Powertools' Kinesis batch processor, staging each record and applying the batch as
    a whole when it closes (sessions are written together); the records of sessions that
    failed then count as failed records."""

    def __init__(self, events: EventConsumer) -> None:
        super().__init__(event_type=EventType.KinesisDataStreams)
        self._events = events
        self._staged: list[StreamRecord] = []
        self.outcome = BatchOutcome()

    def stage(self, record: KinesisStreamRecord) -> None:
        payload = record.kinesis
        self._staged.append(
            StreamRecord(
                payload.sequence_number,
                payload.partition_key,
                payload.data_as_bytes(),
                record.event_source_arn or "",
            )
        )

    def _prepare(self) -> None:
        super()._prepare()  # type: ignore[no-untyped-call]
        self._staged = []

    def _clean(self) -> None:
        self.outcome, failed = self._events.process(self._staged)
        if failed:
            error = SessionFailed("its session's progress or state was not written")
            succeeded: list[Any] = list(self.success_messages)
            for raw in [r for r in succeeded if _sequence(r) in failed]:
                self.success_messages.remove(raw)
                self.failure_handler(KinesisStreamRecord(raw), (SessionFailed, error, None))
        super()._clean()  # type: ignore[no-untyped-call]


def handle(event: dict[str, Any], processor: EventBatchProcessor) -> PartialItemFailureResponse:
    """One Kinesis event through the consumer; the partial batch response."""
    with processor(records=event["Records"], handler=processor.stage):
        processor.process()
    return processor.response()


def _sequence(raw: Any) -> str:
    return str(raw["kinesis"]["sequenceNumber"])


def from_environment(*, local_lake: bool = False) -> EventBatchProcessor:
    """The batch processor of a consumer built from the environment's settings."""
    settings = get_settings()
    return EventBatchProcessor(consumer(settings, AwsClients(settings), local_lake=local_lake))

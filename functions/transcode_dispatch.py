"""Lambda entry points of the transcode dispatcher (containers/transcoder/README.md):
``handler`` starts one Fargate task per transcode-queue message, ``on_task_stopped`` retries
a task that died. The logic is in :mod:`flixstack.media.dispatch`. Logs carry the queue
message's id (one message per invocation) or the ECS event's id as correlation id."""

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from flixstack import spec
from flixstack.media.dispatch import TranscodeDispatcher

FIRST_MESSAGE_ID = "Records[0].messageId"
logger = Logger(service="transcode-dispatch")
metrics = Metrics(namespace=spec.METRICS_NAMESPACE, service="transcode-dispatch")
tracer = Tracer(service="transcode-dispatch")
# A failed record is reported, not raised: SQS redelivers it alone (ReportBatchItemFailures).
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@cache
def dispatcher() -> TranscodeDispatcher:
    return TranscodeDispatcher.from_environment(metrics)


@logger.inject_lambda_context(correlation_id_path=FIRST_MESSAGE_ID)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=dispatcher().start_task, processor=processor, context=context
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def on_task_stopped(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
    return {"outcome": dispatcher().retry_stopped_task(event["detail"])}

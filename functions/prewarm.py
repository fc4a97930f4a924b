"""Lambda entry point of the prewarm queue's consumer (SQS event source with partial batch
responses; a message that fails 3 times goes to the dead-letter queue). The logic is in
:mod:`flixstack.playback.prewarm`. Its logs carry the message id as correlation id (the
event source hands it one message at a time)."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from flixstack import spec
from flixstack.playback.wiring import warm_record

FIRST_MESSAGE_ID = "Records[0].messageId"
logger = Logger(service="prewarm")
metrics = Metrics(namespace=spec.METRICS_NAMESPACE, service="prewarm")
tracer = Tracer(service="prewarm")
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@logger.inject_lambda_context(correlation_id_path=FIRST_MESSAGE_ID)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=warm_record, processor=processor, context=context
    )

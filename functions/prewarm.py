"""Lambda entry point of the prewarm queue's consumer (SQS event source with partial batch
responses; a message that fails 3 times goes to the dead-letter queue). The logic is in
:mod:`flixstack.playback.prewarm`."""

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from flixstack.aws.clients import AwsClients
from flixstack.playback import prewarm, wiring
from flixstack.settings import get_settings

logger = Logger(service="prewarm")
metrics = Metrics(namespace="flixstack", service="prewarm")
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@cache
def prewarmer() -> prewarm.Prewarmer:
    return wiring.prewarmer(get_settings(), AwsClients(get_settings()))


def warm(record: SQSRecord) -> None:
    prewarm.handle(prewarmer(), record.body)


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=warm, processor=processor, context=context
    )

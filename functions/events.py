"""Lambda entry point of the events stream's consumer (a Kinesis event source mapping with
ReportBatchItemFailures, bisecting and an on-failure destination). The logic is in
:mod:`flixstack.events.consumer`; the batch handling in :mod:`flixstack.events.wiring`."""

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from flixstack.events import wiring

logger = Logger(service="events")
tracer = Tracer(service="events")
processor = wiring.from_environment()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return wiring.handle(event, processor)

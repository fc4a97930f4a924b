"""Lambda entry point of the HTTP API: the FastAPI app behind Mangum, with Powertools."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from mangum import Mangum

from flixstack import spec
from flixstack.api.app import create_app

logger = Logger(service="api")
metrics = Metrics(namespace=spec.METRICS_NAMESPACE, service="api")
tracer = Tracer(service="api")
asgi = Mangum(create_app(), lifespan="off")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return asgi(event, context)  # type: ignore[no-any-return,arg-type]

"""API: the FastAPI app on Lambda (Mangum + Powertools) behind an API Gateway HTTP API.

Admin and profile routes need a Cognito access token, checked by the HTTP API's JWT
authorizer before the Lambda runs (the app verifies it again); everything else (catalog,
search, media, health) is public and reaches the Lambda through ``$default``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from flixstack import spec
from infra import policies
from infra.components import tags
from infra.components.function import PythonFunction, PythonFunctionArgs

TYPE = "flixstack:index:Api"
HANDLER = "functions.api.handler"

# API Gateway access-log fields (JSON, one line per request).
ACCESS_LOG_FORMAT = (
    '{"requestId":"$context.requestId","ip":"$context.identity.sourceIp",'
    '"requestTime":"$context.requestTime","method":"$context.httpMethod",'
    '"path":"$context.path","status":"$context.status","latencyMs":"$context.responseLatency",'
    '"integrationLatencyMs":"$context.integrationLatency","error":"$context.error.message"}'
)

JWT_IDENTITY_SOURCE = "$request.header.Authorization"
"""API Gateway takes the token from ``Authorization: Bearer <token>``."""
AUTHORIZED_ROUTES: dict[str, str] = {
    "admin": "ANY /admin/{proxy+}",
    "profiles": "ANY /profiles",
    "profiles-proxy": "ANY /profiles/{proxy+}",
    "playback": "ANY /playback/{proxy+}",
    "keys": "ANY /keys/{proxy+}",
}
"""Routes that need a valid token of one of the pool's clients, by resource name suffix."""
CORS_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
"""What the web app's pages may call cross-origin (API Gateway answers preflights itself)."""
CORS_HEADERS = ("authorization", "content-type", "if-match", "x-profile-id")
"""The bearer token, JSON bodies, optimistic locking and the profile a call is for
(``flixstack.api.routers.playback.PROFILE_HEADER``)."""
CORS_EXPOSED_HEADERS = ("etag", "retry-after")
CORS_MAX_AGE_S = 600
STAGE_NAME = "$default"
"""The one stage: served at the API's root, deployed on every change."""


@dataclass(frozen=True)
class ApiArgs:
    naming: spec.Naming
    code: pulumi.Archive
    layer_arn: pulumi.Input[str]
    environment: Mapping[str, pulumi.Input[str]]
    table_arns: Mapping[str, pulumi.Input[str]]
    """The tables in the API's region (the primary's, or their replicas there)."""
    bucket_arns: Mapping[str, pulumi.Input[str]]
    """The stack's buckets (in the primary region): the API reads and writes them."""
    queue_arns: Mapping[str, pulumi.Input[str]]
    """Every queue (``/health`` describes them); the API sends to the prewarm queue only."""
    stream_arns: Mapping[str, pulumi.Input[str]]
    user_pool_arn: pulumi.Input[str]
    issuer: pulumi.Input[str]
    """The user pool's token issuer (``https://cognito-idp.<region>.amazonaws.com/<id>``)."""
    client_ids: pulumi.Input[Sequence[str]]
    """The app clients whose access tokens the authorizer accepts (their ``client_id``)."""
    kms_key_arns: Mapping[str, pulumi.Input[str]]
    """Keys the API uses (the media key, in its region), by the spec's logical name."""
    secret_arns: Mapping[str, pulumi.Input[str]]
    """Secrets the API reads (the CDN signing key, in its region), by the spec's logical
    name."""
    log_retention_days: int
    throttle_rate: float
    throttle_burst: int
    memory_mb: int
    reserved_concurrency: int
    architecture: str
    cors_origins: Sequence[pulumi.Input[str]] = ()
    """Origins whose pages call the API (the web app's): CORS with credentials, which the
    playback grant's signed cookies need. Empty: no CORS (only same-origin pages)."""
    bucket_copy_arns: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """The copies in the API's region of the buckets in every region (a secondary
    region's, ``Storage.bucket_copy_arns``), which it reads; empty in the primary."""


class Api(pulumi.ComponentResource):
    url: pulumi.Output[str]
    function_name: pulumi.Output[str]
    function_arn: pulumi.Output[str]
    api_id: pulumi.Output[str]
    authorizer_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: ApiArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        stage = args.naming.stage
        child = pulumi.ResourceOptions(parent=self)

        def policy(log_group_arn: pulumi.Output[str]) -> pulumi.Output[str]:
            return pulumi.Output.all(
                tables=[
                    arn
                    for logical, arn in args.table_arns.items()
                    if logical != spec.CONTENT_KEYS.logical
                ],
                content_keys=args.table_arns[spec.CONTENT_KEYS.logical],
                buckets=list(args.bucket_arns.values()),
                copies=list(args.bucket_copy_arns.values()),
                queues=list(args.queue_arns.values()),
                prewarm=args.queue_arns[spec.PREWARM.logical],
                streams=list(args.stream_arns.values()),
                pool=args.user_pool_arn,
                keys=list(args.kms_key_arns.values()),
                secrets=list(args.secret_arns.values()),
                logs=log_group_arn,
            ).apply(
                lambda v: policies.api_function_policy(
                    table_arns=v["tables"],
                    content_keys_table_arn=v["content_keys"],
                    bucket_arns=v["buckets"],
                    bucket_copy_arns=v["copies"],
                    queue_arns=v["queues"],
                    stream_arns=v["streams"],
                    user_pool_arns=[v["pool"]],
                    kms_key_arns=v["keys"],
                    secret_arns=v["secrets"],
                    prewarm_queue_arn=v["prewarm"],
                    log_group_arn=v["logs"],
                )
            )

        function = PythonFunction(
            f"{name}-function",
            PythonFunctionArgs(
                naming=args.naming,
                function="api",
                capability="api",
                handler=HANDLER,
                service="api",
                code=args.code,
                layer_arn=args.layer_arn,
                architecture=args.architecture,
                policy=policy,
                environment=dict(args.environment),
                log_retention_days=args.log_retention_days,
                reserved_concurrency=args.reserved_concurrency,
                memory_mb=args.memory_mb,
                timeout_s=29,  # API Gateway's integration limit
            ),
            opts=child,
        )
        http_api = aws.apigatewayv2.Api(
            f"{name}-http",
            name=f"{args.naming.prefix}-api",
            protocol_type="HTTP",
            cors_configuration=aws.apigatewayv2.ApiCorsConfigurationArgs(
                allow_origins=list(args.cors_origins),
                allow_methods=list(CORS_METHODS),
                allow_headers=list(CORS_HEADERS),
                expose_headers=list(CORS_EXPOSED_HEADERS),
                allow_credentials=True,
                max_age=CORS_MAX_AGE_S,
            )
            if args.cors_origins
            else None,
            tags=tags(stage, "api"),
            opts=child,
        )
        integration = aws.apigatewayv2.Integration(
            f"{name}-integration",
            api_id=http_api.id,
            integration_type="AWS_PROXY",
            integration_uri=function.invoke_arn,
            payload_format_version="2.0",
            opts=child,
        )
        target = integration.id.apply(lambda i: f"integrations/{i}")
        authorizer = aws.apigatewayv2.Authorizer(
            f"{name}-jwt",
            api_id=http_api.id,
            name=f"{args.naming.prefix}-cognito",
            authorizer_type="JWT",
            identity_sources=[JWT_IDENTITY_SOURCE],
            # Cognito access tokens carry no `aud`: API Gateway matches `client_id` instead.
            jwt_configuration=aws.apigatewayv2.AuthorizerJwtConfigurationArgs(
                issuer=args.issuer, audiences=args.client_ids
            ),
            opts=child,
        )
        aws.apigatewayv2.Route(
            f"{name}-default-route",
            api_id=http_api.id,
            route_key="$default",
            target=target,
            opts=child,
        )
        for route, route_key in AUTHORIZED_ROUTES.items():
            aws.apigatewayv2.Route(
                f"{name}-{route}-route",
                api_id=http_api.id,
                route_key=route_key,
                target=target,
                authorization_type="JWT",
                authorizer_id=authorizer.id,
                opts=child,
            )
        access_logs = aws.cloudwatch.LogGroup(
            f"{name}-access-logs",
            name=f"/aws/apigateway/{args.naming.prefix}-api",
            retention_in_days=args.log_retention_days,
            tags=tags(stage, "api"),
            opts=child,
        )
        stage_resource = aws.apigatewayv2.Stage(
            f"{name}-stage",
            api_id=http_api.id,
            name=STAGE_NAME,
            auto_deploy=True,
            default_route_settings=aws.apigatewayv2.StageDefaultRouteSettingsArgs(
                throttling_rate_limit=args.throttle_rate,
                throttling_burst_limit=args.throttle_burst,
                detailed_metrics_enabled=True,
            ),
            access_log_settings=aws.apigatewayv2.StageAccessLogSettingsArgs(
                destination_arn=access_logs.arn, format=ACCESS_LOG_FORMAT
            ),
            tags=tags(stage, "api"),
            opts=child,
        )
        aws.lambda_.Permission(
            f"{name}-invoke",
            action="lambda:InvokeFunction",
            function=function.function_name,
            principal="apigateway.amazonaws.com",
            source_arn=http_api.execution_arn.apply(lambda arn: f"{arn}/*/*"),
            opts=child,
        )
        self.url = stage_resource.invoke_url
        self.function_name = function.function_name
        self.function_arn = function.function_arn
        self.api_id = http_api.id
        self.authorizer_id = authorizer.id
        self.register_outputs(
            {
                "url": self.url,
                "function_name": self.function_name,
                "function_arn": self.function_arn,
                "api_id": self.api_id,
                "authorizer_id": self.authorizer_id,
            }
        )

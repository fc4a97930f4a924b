"""CDN pre-warming on AWS: the consumer of the ``prewarm`` queue.

Publishing a title (the API's lifecycle routes, or the transcoder when a job publishes)
enqueues one message per asset on ``spec.PREWARM``, if the stack's policy
(``prewarm_environment``) picks the title; ``messaging`` creates the queue with its
dead-letter queue and depth alarm. Here a Lambda (``functions.prewarm.handler``) takes one
message at a time and fetches the asset's playlists and first segments through every
enabled CloudFront distribution of ``FLIXSTACK_CDNS``, with cookies it signs itself with
the CDN signing key. It reaches CloudFront over HTTPS like any viewer: no VPC. A message
that fails ``spec.PREWARM.max_receive_count`` times goes to the dead-letter queue.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, get_args

import pulumi
import pulumi_aws as aws

from flixstack import spec
from flixstack.settings import Settings
from infra import policies
from infra.components.function import PythonFunction, PythonFunctionArgs

TYPE = "flixstack:index:Prewarming"
CAPABILITY = "prewarming"
HANDLER = "functions.prewarm.handler"
SERVICE = "prewarm"
"""Powertools service name, as ``functions/prewarm.py`` logs under."""
PREWARM_TITLES: tuple[str, ...] = get_args(Settings.model_fields["prewarm_titles"].annotation)
"""Which titles the runtime can pre-warm (``Settings.prewarm_titles``)."""
MAX_SEGMENTS = 100
"""``Settings.prewarm_segments`` accepts 0-100."""
BATCH_SIZE = 1
"""One asset per invocation: warming it is tens of GETs through every CDN, so the timeout
bounds one message, and a timed-out invocation redelivers only that one."""
TIMEOUT_S = spec.PREWARM.visibility_timeout_s // 2
"""Below the queue's visibility timeout, as an SQS event source requires. The mapping's
maximum concurrency stays within the reserved concurrency, so Lambda does not throttle the
poller (the case AWS's advice of six function timeouts guards against)."""
MEMORY_MB = 512
"""Segments are read whole into memory (a few MB each); more memory, more network."""


def prewarm_environment(
    *, titles: str, segments: int, min_popularity: float, new_days: int
) -> dict[str, str]:
    """The pre-warming policy as the runtime reads it (``Settings.prewarm_*``): the
    publishers (API, transcoder) decide what to enqueue, the consumer how many segments
    to fetch."""
    return {
        "FLIXSTACK_PREWARM_TITLES": titles,
        "FLIXSTACK_PREWARM_SEGMENTS": str(segments),
        "FLIXSTACK_PREWARM_MIN_POPULARITY": str(min_popularity),
        "FLIXSTACK_PREWARM_NEW_DAYS": str(new_days),
    }


@dataclass(frozen=True)
class PrewarmingArgs:
    naming: spec.Naming
    code: pulumi.Archive
    layer_arn: pulumi.Input[str]
    architecture: str
    environment: Mapping[str, pulumi.Input[str]]
    """Runtime settings (stage, bucket suffix) and ``prewarm_environment``."""
    cdns: pulumi.Input[Sequence[Mapping[str, Any]]]
    """The CDNs to warm, as ``FLIXSTACK_CDNS`` entries (``Cdn.cdns``)."""
    queue_arn: pulumi.Input[str]
    """The ``spec.PREWARM`` queue."""
    signing_secret_arn: pulumi.Input[str]
    """The CDN signing key (``Cdn.signing_secret_arn``)."""
    log_retention_days: int
    concurrency: int
    """Reserved concurrency of the Lambda and maximum concurrency of its event source."""


class Prewarming(pulumi.ComponentResource):
    function_name: pulumi.Output[str]
    function_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: PrewarmingArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)

        def policy(log_group_arn: pulumi.Output[str]) -> pulumi.Output[str]:
            return pulumi.Output.all(
                queue=args.queue_arn, secret=args.signing_secret_arn, logs=log_group_arn
            ).apply(
                lambda v: policies.prewarm_function_policy(
                    queue_arn=v["queue"], signing_secret_arn=v["secret"], log_group_arn=v["logs"]
                )
            )

        function = PythonFunction(
            f"{name}-function",
            PythonFunctionArgs(
                naming=args.naming,
                function="prewarm",
                capability=CAPABILITY,
                handler=HANDLER,
                service=SERVICE,
                code=args.code,
                layer_arn=args.layer_arn,
                architecture=args.architecture,
                policy=policy,
                environment={
                    **args.environment,
                    "FLIXSTACK_CDNS": pulumi.Output.json_dumps(args.cdns),
                },
                log_retention_days=args.log_retention_days,
                reserved_concurrency=args.concurrency,
                memory_mb=MEMORY_MB,
                timeout_s=TIMEOUT_S,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.lambda_.EventSourceMapping(
            f"{name}-source",
            event_source_arn=args.queue_arn,
            function_name=function.function_arn,
            batch_size=BATCH_SIZE,
            function_response_types=["ReportBatchItemFailures"],
            scaling_config=aws.lambda_.EventSourceMappingScalingConfigArgs(
                maximum_concurrency=args.concurrency
            ),
            # Lambda checks the role may receive from the queue when the mapping is created.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[function.role_policy]),
        )
        self.function_name = function.function_name
        self.function_arn = function.function_arn
        self.register_outputs(
            {"function_name": self.function_name, "function_arn": self.function_arn}
        )

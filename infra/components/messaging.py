"""Messaging: the SQS queues (each with its dead-letter queue and a depth alarm) and the
Kinesis event stream declared in the spec."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial

import pulumi
import pulumi_aws as aws

from flixstack import spec
from infra.components import tags

TYPE = "flixstack:index:Messaging"


@dataclass(frozen=True)
class MessagingArgs:
    naming: spec.Naming
    alarm_actions: Sequence[pulumi.Input[str]] = field(default=())


def redrive_policy(dead_letter_arn: str, max_receive_count: int) -> str:
    return json.dumps(
        {"deadLetterTargetArn": dead_letter_arn, "maxReceiveCount": max_receive_count}
    )


class Messaging(pulumi.ComponentResource):
    queue_names: dict[str, pulumi.Output[str]]
    queue_arns: dict[str, pulumi.Output[str]]
    queue_urls: dict[str, pulumi.Output[str]]
    stream_names: dict[str, pulumi.Output[str]]
    stream_arns: dict[str, pulumi.Output[str]]

    def __init__(
        self, name: str, args: MessagingArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        stage = args.naming.stage
        child = pulumi.ResourceOptions(parent=self)
        queues: dict[str, aws.sqs.Queue] = {}
        dead_letter_targets = {
            q.dead_letter.logical for q in spec.QUEUES if q.dead_letter is not None
        }
        for queue in spec.QUEUES:  # dead-letter queues are declared before their sources
            redrive = (
                queues[queue.dead_letter.logical].arn.apply(
                    partial(redrive_policy, max_receive_count=queue.max_receive_count)
                )
                if queue.dead_letter is not None
                else None
            )
            queues[queue.logical] = aws.sqs.Queue(
                f"{name}-{queue.logical}",
                name=args.naming.queue(queue),
                visibility_timeout_seconds=queue.visibility_timeout_s,
                message_retention_seconds=queue.retention_s,
                sqs_managed_sse_enabled=True,
                redrive_policy=redrive,
                tags=tags(stage, "messaging", {"purpose": queue.purpose}),
                opts=child,
            )
            if queue.logical in dead_letter_targets:
                aws.cloudwatch.MetricAlarm(
                    f"{name}-{queue.logical}-depth",
                    name=f"{args.naming.queue(queue)}-not-empty",
                    alarm_description=f"Messages in {queue.logical}: {queue.purpose}",
                    namespace="AWS/SQS",
                    metric_name="ApproximateNumberOfMessagesVisible",
                    dimensions={"QueueName": queues[queue.logical].name},
                    statistic="Maximum",
                    period=60,
                    evaluation_periods=1,
                    threshold=0,
                    comparison_operator="GreaterThanThreshold",
                    treat_missing_data="notBreaching",
                    alarm_actions=list(args.alarm_actions),
                    tags=tags(stage, "messaging"),
                    opts=child,
                )
        streams = {
            s.logical: aws.kinesis.Stream(
                f"{name}-{s.logical}",
                name=args.naming.stream(s),
                shard_count=s.shards,
                retention_period=s.retention_hours,
                encryption_type="KMS",
                kms_key_id="alias/aws/kinesis",
                stream_mode_details=aws.kinesis.StreamStreamModeDetailsArgs(
                    stream_mode="PROVISIONED"
                ),
                tags=tags(stage, "messaging", {"purpose": s.purpose}),
                opts=child,
            )
            for s in spec.STREAMS
        }
        self.queue_names = {k: q.name for k, q in queues.items()}
        self.queue_arns = {k: q.arn for k, q in queues.items()}
        self.queue_urls = {k: q.url for k, q in queues.items()}
        self.stream_names = {k: s.name for k, s in streams.items()}
        self.stream_arns = {k: s.arn for k, s in streams.items()}
        self.register_outputs(
            {
                "queue_names": self.queue_names,
                "queue_arns": self.queue_arns,
                "queue_urls": self.queue_urls,
                "stream_names": self.stream_names,
                "stream_arns": self.stream_arns,
            }
        )

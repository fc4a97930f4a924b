"""Messaging: the SQS queues (each with its dead-letter queue, or a not-empty alarm when it
is one, and a TLS-only queue policy), the S3 event notifications that feed them, and the
Kinesis event stream, all declared in the spec.

A queue without a dead-letter queue of its own is where failed work ends: the dead-letter
queues of the others, and ``spec.EVENTS_DLQ``, which the event consumer and its event
source mapping send to. Each gets an alarm as soon as it holds a message, notifying
``alarm_actions`` (the alerting topic).

The primary region's queues and stream are made here; a queue or stream of the spec is
made by one function (``sqs_queue``, ``sqs_queue_policy``, ``kinesis_stream``), which
``regional_events`` also makes each secondary region's events stream and dead-letter
queue with."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Literal

import pulumi
import pulumi_aws as aws

from flixstack import spec
from infra import policies
from infra.components import tags

TYPE = "flixstack:index:Messaging"
CAPABILITY = "messaging"
NOTIFIED_EVENTS = ("s3:ObjectCreated:*",)


@dataclass(frozen=True)
class MessagingArgs:
    naming: spec.Naming
    account_id: pulumi.Input[str]
    bucket_names: Mapping[str, pulumi.Input[str]]
    """Every bucket of the spec by logical name: the sources of ``spec.NOTIFICATIONS``."""
    bucket_arns: Mapping[str, pulumi.Input[str]]
    alarm_actions: Sequence[pulumi.Input[str]] = field(default=())
    """Where the dead-letter queues' alarms notify, when they fire and when they clear."""


def redrive_policy(dead_letter_arn: str, max_receive_count: int) -> str:
    return json.dumps(
        {"deadLetterTargetArn": dead_letter_arn, "maxReceiveCount": max_receive_count}
    )


def sqs_queue(
    resource_name: str,
    naming: spec.Naming,
    queue: spec.QueueSpec,
    *,
    redrive_policy: pulumi.Input[str] | None = None,
    opts: pulumi.ResourceOptions,
) -> aws.sqs.Queue:
    """A queue of the spec, encrypted at rest: the primary's, and the copies every region
    of a stack has of a ``spec.QueueSpec.every_region`` queue (``regional_events``), so the
    copies cannot drift from the primary's settings."""
    return aws.sqs.Queue(
        resource_name,
        name=naming.queue(queue),
        visibility_timeout_seconds=queue.visibility_timeout_s,
        message_retention_seconds=queue.retention_s,
        sqs_managed_sse_enabled=True,
        redrive_policy=redrive_policy,
        tags=tags(naming.stage, CAPABILITY, {"purpose": queue.purpose}),
        opts=opts,
    )


def sqs_queue_policy(
    resource_name: str,
    queue: aws.sqs.Queue,
    account_id: pulumi.Input[str],
    notifying_bucket_arns: Sequence[pulumi.Input[str]] = (),
    *,
    opts: pulumi.ResourceOptions,
) -> aws.sqs.QueuePolicy:
    """The queue's policy (a queue has one): TLS only, and S3 may send to it from exactly
    ``notifying_bucket_arns`` (``policies.queue_policy``)."""
    return aws.sqs.QueuePolicy(
        resource_name,
        queue_url=queue.url,
        policy=pulumi.Output.all(
            queue=queue.arn, buckets=list(notifying_bucket_arns), account=account_id
        ).apply(lambda v: policies.queue_policy(v["queue"], v["buckets"], v["account"])),
        opts=opts,
    )


def kinesis_stream(
    resource_name: str,
    naming: spec.Naming,
    stream: spec.StreamSpec,
    *,
    opts: pulumi.ResourceOptions,
) -> aws.kinesis.Stream:
    """A stream of the spec: provisioned shards, its retention, encrypted with AWS's key for
    Kinesis. The primary's and each secondary region's events stream (``regional_events``)
    are made here, so every region's stream takes the same load for the same money."""
    return aws.kinesis.Stream(
        resource_name,
        name=naming.stream(stream),
        shard_count=stream.shards,
        retention_period=stream.retention_hours,
        encryption_type="KMS",
        kms_key_id="alias/aws/kinesis",
        stream_mode_details=aws.kinesis.StreamStreamModeDetailsArgs(stream_mode="PROVISIONED"),
        tags=tags(naming.stage, CAPABILITY, {"purpose": stream.purpose}),
        opts=opts,
    )


def not_empty_alarm(
    resource_name: str,
    naming: spec.Naming,
    queue: spec.QueueSpec,
    queue_name: pulumi.Input[str],
    alarm_actions: Sequence[pulumi.Input[str]],
    *,
    capability: str,
    opts: pulumi.ResourceOptions,
) -> aws.cloudwatch.MetricAlarm:
    """The alarm of a queue where failed work ends: it fires as soon as the queue holds a
    message and notifies ``alarm_actions``, when it fires and when it clears."""
    return aws.cloudwatch.MetricAlarm(
        resource_name,
        name=f"{naming.queue(queue)}-not-empty",
        alarm_description=f"Messages in {queue.logical}: {queue.purpose}",
        namespace="AWS/SQS",
        metric_name="ApproximateNumberOfMessagesVisible",
        dimensions={"QueueName": queue_name},
        statistic="Maximum",
        period=60,
        evaluation_periods=1,
        threshold=0,
        comparison_operator="GreaterThanThreshold",
        treat_missing_data="notBreaching",
        alarm_actions=list(alarm_actions),
        ok_actions=list(alarm_actions),
        tags=tags(naming.stage, capability),
        opts=opts,
    )


def notifications_by(
    key: Literal["bucket", "queue"],
    notifications: Sequence[spec.NotificationSpec] = spec.NOTIFICATIONS,
) -> dict[str, list[spec.NotificationSpec]]:
    """The spec's notifications grouped by the logical name of their ``bucket`` or ``queue``.

    S3 keeps one notification configuration per bucket, so each bucket gets exactly one
    BucketNotification resource holding all of its queue configurations."""
    grouped: dict[str, list[spec.NotificationSpec]] = {}
    for notification in notifications:
        target: spec.BucketSpec | spec.QueueSpec = getattr(notification, key)
        grouped.setdefault(target.logical, []).append(notification)
    return grouped


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
        child = pulumi.ResourceOptions(parent=self)
        queues: dict[str, aws.sqs.Queue] = {}
        for queue in spec.QUEUES:  # dead-letter queues are declared before their sources
            redrive = (
                queues[queue.dead_letter.logical].arn.apply(
                    partial(redrive_policy, max_receive_count=queue.max_receive_count)
                )
                if queue.dead_letter is not None
                else None
            )
            queues[queue.logical] = sqs_queue(
                f"{name}-{queue.logical}", args.naming, queue, redrive_policy=redrive, opts=child
            )
            if queue.dead_letter is None:  # where failures end: someone must look
                not_empty_alarm(
                    f"{name}-{queue.logical}-depth",
                    args.naming,
                    queue,
                    queues[queue.logical].name,
                    args.alarm_actions,
                    capability=CAPABILITY,
                    opts=child,
                )
        queue_policies = self._queue_policies(name, args, queues)
        self._notifications(name, args, queues, queue_policies)
        streams = {
            s.logical: kinesis_stream(f"{name}-{s.logical}", args.naming, s, opts=child)
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

    def _queue_policies(
        self, name: str, args: MessagingArgs, queues: Mapping[str, aws.sqs.Queue]
    ) -> dict[str, aws.sqs.QueuePolicy]:
        """One policy per queue (a queue has one): TLS only, and S3 may send to the queues
        the spec's notifications target, from exactly those buckets."""
        sources = notifications_by("queue")
        return {
            logical: sqs_queue_policy(
                f"{name}-{logical}-policy",
                queue,
                args.account_id,
                [args.bucket_arns[n.bucket.logical] for n in sources.get(logical, [])],
                opts=pulumi.ResourceOptions(parent=self),
            )
            for logical, queue in queues.items()
        }

    def _notifications(
        self,
        name: str,
        args: MessagingArgs,
        queues: Mapping[str, aws.sqs.Queue],
        queue_policies: Mapping[str, aws.sqs.QueuePolicy],
    ) -> None:
        # S3 checks that it may send to every destination when the configuration is saved,
        # so each notification waits for the policies of its queues.
        for bucket, notifications in notifications_by("bucket").items():
            aws.s3.BucketNotification(
                f"{name}-{bucket}-notifications",
                bucket=args.bucket_names[bucket],
                queues=[
                    aws.s3.BucketNotificationQueueArgs(
                        id=n.logical,
                        queue_arn=queues[n.queue.logical].arn,
                        events=list(NOTIFIED_EVENTS),
                        filter_prefix=n.prefix,
                    )
                    for n in notifications
                ],
                opts=pulumi.ResourceOptions(
                    parent=self,
                    depends_on=[queue_policies[n.queue.logical] for n in notifications],
                ),
            )

"""Alerting: the SNS topic every alarm of the stack notifies, encrypted with a KMS key of
its own (CloudWatch cannot publish to a topic under the AWS managed SNS key), with an
optional e-mail subscription.

An alarm notifies a topic of its own region only. Each secondary region of the stack gets
a topic of its own (with its key and subscription) for the alarms of its API; CloudFront's
metrics (so its alarms) live in us-east-1, so a stack whose regions do not include it gets
a topic there for the CDN alarms too.

This is a component apart from ``observability`` because the topic must exist before the
components whose alarms notify it (``messaging``'s dead-letter queue alarms), and the
observability alarms and dashboard need every other component first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from flixstack import spec
from infra import policies
from infra.components import Region, tags
from infra.components.keys import rotating_key

TYPE = "flixstack:index:Alerting"
CAPABILITY = "alerting"
CLOUDFRONT_REGION = "us-east-1"
"""Where CloudFront publishes its metrics, whatever region the stack is in."""
TOPIC = "alarms"


@dataclass(frozen=True)
class AlertingArgs:
    naming: spec.Naming
    account_id: pulumi.Input[str]
    region: str
    """The stack's region (the default provider's)."""
    email: str | None = None
    """Where alarm notifications go (the address confirms the subscription); None: nobody
    is subscribed, the topic is there for other subscribers."""
    secondaries: Sequence[Region] = ()
    """The stack's other regions: each gets a topic, created with its provider."""


class Alerting(pulumi.ComponentResource):
    topic_arn: pulumi.Output[str]
    """The topic in the stack's region: every alarm but CloudFront's."""
    cloudfront_topic_arn: pulumi.Output[str]
    """The topic in ``CLOUDFRONT_REGION``, for the CDN alarms."""
    topic_arns: dict[str, pulumi.Output[str]]
    """The topic in each region of the stack (the stack's and each secondary's), by region."""
    key_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: AlertingArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        topic, key = self._topic(name, args)
        self.topic_arn = topic.arn
        self.key_arn = key.arn
        self.topic_arns = {args.region: self.topic_arn}
        for secondary in args.secondaries:
            regional, _ = self._topic(f"{name}-{secondary.name}", args, secondary=secondary)
            self.topic_arns[secondary.name] = regional.arn
        if CLOUDFRONT_REGION in self.topic_arns:
            self.cloudfront_topic_arn = self.topic_arns[CLOUDFRONT_REGION]
        else:
            cdn_topic, _ = self._topic(
                f"{name}-{CLOUDFRONT_REGION}", args, region=CLOUDFRONT_REGION
            )
            self.cloudfront_topic_arn = cdn_topic.arn
        self.register_outputs(
            {
                "topic_arn": self.topic_arn,
                "cloudfront_topic_arn": self.cloudfront_topic_arn,
                "topic_arns": self.topic_arns,
                "key_arn": self.key_arn,
            }
        )

    def _topic(
        self,
        name: str,
        args: AlertingArgs,
        region: str | None = None,
        secondary: Region | None = None,
    ) -> tuple[aws.sns.Topic, aws.kms.Key]:
        """A key, an encrypted topic that only this account's alarms publish to, and the
        e-mail subscription: in ``secondary``, made with its provider; else in ``region``
        (None: the stack's), made by the stack's provider."""
        child = pulumi.ResourceOptions(
            parent=self, provider=secondary.provider if secondary else None
        )
        stage_tags = tags(args.naming.stage, CAPABILITY)
        topic_region = secondary.name if secondary else region or args.region
        key = rotating_key(
            f"{name}-key",
            description=f"flixstack {args.naming.stage}: alarm notifications",
            alias=f"alias/{args.naming.prefix}-{TOPIC}",
            policy=pulumi.Output.from_input(args.account_id).apply(policies.alarm_key_policy),
            region=region,
            tags=stage_tags,
            opts=child,
        )
        topic = aws.sns.Topic(
            f"{name}-topic",
            name=f"{args.naming.prefix}-{TOPIC}",
            kms_master_key_id=key.arn,
            region=region,
            tags=stage_tags,
            opts=child,
        )
        aws.sns.TopicPolicy(
            f"{name}-topic-policy",
            arn=topic.arn,
            policy=pulumi.Output.all(topic.arn, args.account_id).apply(
                lambda v: policies.alarm_topic_policy(v[0], v[1], topic_region)
            ),
            region=region,
            opts=child,
        )
        if args.email:
            aws.sns.TopicSubscription(
                f"{name}-email",
                topic=topic.arn,
                protocol="email",
                endpoint=args.email,
                region=region,
                opts=child,
            )
        return topic, key

"""Each policy rule passes a compliant graph and catches its deliberately bad fixture.

Every bad fixture is the compliant graph with exactly one defect, so a rule that flags it
flags the defect, not something else."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from infra import policies
from infra.policy import rules
from infra.policy.rules import Resource

ARN = "arn:aws:s3:::b1"
QUEUE_ARN = "arn:aws:sqs:us-east-1:1:q1"
QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/1/q1"
EVENTS_DLQ_ARN = "arn:aws:sqs:us-east-1:1:e1-dlq"
RUNS_DLQ_ARN = "arn:aws:sqs:us-east-1:1:r1-dlq"
SCHEDULE_TARGET: dict[str, Any] = {
    "arn": "arn:aws:ecs:us-east-1:1:cluster/c1",
    "roleArn": "arn:aws:iam::1:role/sched1",
    "ecsParameters": {"taskDefinitionArn": "arn:aws:ecs:us-east-1:1:task-definition/td1:1"},
}
TOPIC_ARN = "arn:aws:sns:us-east-1:1:alarms"
KEY_ARN = "arn:aws:kms:us-east-1:1:key/mrk-1"
IMAGE = "1.dkr.ecr.us-east-1.amazonaws.com/r1:src-0123"
DISTRIBUTION_ARN = "arn:aws:cloudfront::1:distribution/E1"
MEDIA_ARN = "arn:aws:s3:::m1"
S3_ORIGIN: dict[str, Any] = {
    "originId": "media",
    "domainName": "m1.s3.us-east-1.amazonaws.com",
    "originAccessControlId": "oac1-id",
}
API_ORIGIN: dict[str, Any] = {
    "originId": "api",
    "domainName": "api.example.com",
    "customOriginConfig": {
        "httpPort": 80,
        "httpsPort": 443,
        "originProtocolPolicy": "https-only",
        "originSslProtocols": ["TLSv1.2"],
    },
}
BEHAVIOR = {"targetOriginId": "media", "viewerProtocolPolicy": "redirect-to-https"}
REPLICA: dict[str, Any] = {
    "regionName": "us-west-2",
    "kmsKeyArn": "arn:aws:kms:us-west-2:1:key/k2",
    "pointInTimeRecovery": True,
}
LATENCY_RECORD: dict[str, Any] = {
    "name": "api.example.com",
    "type": "A",
    "setIdentifier": "us-east-1",
    "latencyRoutingPolicies": [{"region": "us-east-1"}],
    "healthCheckId": "hc1-id",
}


def container(**changes: object) -> str:
    definition: dict[str, object] = {
        "name": "c1",
        "image": IMAGE,
        "readonlyRootFilesystem": True,
        "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "lg2"}},
    }
    return json.dumps([{**definition, **changes}])


def bucket(name: str, policy: str) -> list[Resource]:
    """A compliant bucket: encrypted, private, TLS only."""
    return [
        Resource(rules.BUCKET, name, {"bucket": name}),
        Resource(
            rules.BUCKET_SSE,
            f"{name}-encryption",
            {
                "bucket": name,
                "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}],
            },
        ),
        Resource(
            rules.BUCKET_PAB,
            f"{name}-pab",
            {
                "bucket": name,
                "blockPublicAcls": True,
                "blockPublicPolicy": True,
                "ignorePublicAcls": True,
                "restrictPublicBuckets": True,
            },
        ),
        Resource(rules.BUCKET_POLICY, f"{name}-policy", {"bucket": name, "policy": policy}),
    ]


def depth_alarm(queue: str) -> Resource:
    """The not-empty alarm of a dead-letter queue, notifying the alarm topic."""
    return Resource(
        rules.ALARM,
        f"{queue}-depth",
        {
            "namespace": "AWS/SQS",
            "metricName": "ApproximateNumberOfMessagesVisible",
            "dimensions": {"QueueName": queue},
            "alarmActions": [TOPIC_ARN],
        },
    )


def good_graph() -> list[Resource]:
    return [
        *bucket("b1", policies.tls_only_bucket_policy(ARN)),
        # the CDN's origin: read by one distribution through OAC
        *bucket("m1", policies.media_bucket_policy(MEDIA_ARN, [DISTRIBUTION_ARN])),
        Resource(
            rules.TABLE,
            "t1",
            {
                "name": "t1",
                "serverSideEncryption": {"enabled": True},
                "pointInTimeRecovery": {"enabled": True},
                "replicas": [REPLICA],
            },
        ),
        # the API's domain: a latency record per region, each with its health check
        Resource(rules.DNS_RECORD, "rec1", LATENCY_RECORD),
        Resource(rules.QUEUE, "dlq", {"name": "q1-dlq", "sqsManagedSseEnabled": True}),
        Resource(
            rules.QUEUE,
            "q1",
            {
                "name": "q1",
                "sqsManagedSseEnabled": True,
                "redrivePolicy": json.dumps(
                    {"deadLetterTargetArn": "arn:aws:sqs:us-east-1:1:q1-dlq", "maxReceiveCount": 3}
                ),
            },
        ),
        Resource(
            rules.QUEUE_POLICY,
            "dlq-policy",
            {
                "queueUrl": f"{QUEUE_URL}-dlq",
                "policy": policies.queue_policy(f"{QUEUE_ARN}-dlq", [], "1"),
            },
        ),
        Resource(
            rules.QUEUE_POLICY,
            "q1-policy",
            {"queueUrl": QUEUE_URL, "policy": policies.queue_policy(QUEUE_ARN, [ARN], "1")},
        ),
        Resource(
            rules.BUCKET_NOTIFICATION,
            "b1-notifications",
            {"bucket": "b1", "queues": [{"queueArn": QUEUE_ARN, "filterPrefix": "masters/"}]},
        ),
        # the on-failure destination of a stream's event source: a dead-letter queue too
        Resource(rules.QUEUE, "e1-dlq", {"name": "e1-dlq", "sqsManagedSseEnabled": True}),
        Resource(
            rules.QUEUE_POLICY,
            "e1-dlq-policy",
            {
                "queueUrl": "https://sqs.us-east-1.amazonaws.com/1/e1-dlq",
                "policy": policies.queue_policy(EVENTS_DLQ_ARN, [], "1"),
            },
        ),
        # the dead-letter queue of a schedule's target: where runs it could not start go
        Resource(rules.QUEUE, "r1-dlq", {"name": "r1-dlq", "sqsManagedSseEnabled": True}),
        Resource(
            rules.QUEUE_POLICY,
            "r1-dlq-policy",
            {
                "queueUrl": "https://sqs.us-east-1.amazonaws.com/1/r1-dlq",
                "policy": policies.queue_policy(RUNS_DLQ_ARN, [], "1"),
            },
        ),
        Resource(
            rules.SCHEDULE,
            "sched1",
            {
                "scheduleExpression": "rate(6 hours)",
                "target": {**SCHEDULE_TARGET, "deadLetterConfig": {"arn": RUNS_DLQ_ARN}},
            },
        ),
        depth_alarm("q1-dlq"),
        depth_alarm("e1-dlq"),
        depth_alarm("r1-dlq"),
        Resource(rules.TOPIC, "topic1", {"name": "alarms", "kmsMasterKeyId": "arn:aws:kms:k1"}),
        Resource(
            rules.TOPIC_POLICY,
            "topic1-policy",
            {"arn": TOPIC_ARN, "policy": policies.alarm_topic_policy(TOPIC_ARN, "1", "us-east-1")},
        ),
        Resource(rules.STREAM, "s1", {"name": "s1", "encryptionType": "KMS"}),
        Resource(rules.KMS_KEY, "k1", {"enableKeyRotation": True, "arn": KEY_ARN}),
        Resource(rules.KMS_REPLICA_KEY, "k1-replica", {"primaryKeyArn": KEY_ARN}),
        Resource(rules.LOG_GROUP, "lg1", {"name": "/aws/lambda/f1", "retentionInDays": 30}),
        Resource(
            rules.FUNCTION,
            "f1",
            {
                "name": "f1",
                "reservedConcurrentExecutions": 10,
                "tracingConfig": {"mode": "Active"},
            },
        ),
        Resource(
            rules.EVENT_SOURCE_MAPPING,
            "f1-source",
            {
                "eventSourceArn": "arn:aws:kinesis:us-east-1:1:stream/s1",
                "functionName": "f1",
                "destinationConfig": {"onFailure": {"destinationArn": EVENTS_DLQ_ARN}},
            },
        ),
        Resource(
            rules.ECR_REPOSITORY,
            "r1",
            {
                "name": "r1",
                "imageTagMutability": "IMMUTABLE",
                "imageScanningConfiguration": {"scanOnPush": True},
                "encryptionConfigurations": [{"encryptionType": "KMS"}],
            },
        ),
        Resource(rules.ECR_LIFECYCLE, "r1-lifecycle", {"repository": "r1", "policy": "{}"}),
        Resource(
            rules.ECS_CLUSTER,
            "c1",
            {"name": "c1", "settings": [{"name": "containerInsights", "value": "enabled"}]},
        ),
        Resource(rules.ECS_TASK_DEFINITION, "td1", {"containerDefinitions": container()}),
        Resource(
            rules.ORIGIN_ACCESS_CONTROL,
            "oac1",
            {
                "originAccessControlOriginType": "s3",
                "signingBehavior": "always",
                "signingProtocol": "sigv4",
            },
        ),
        Resource(
            rules.DISTRIBUTION,
            "d1",
            {
                "origins": [S3_ORIGIN, API_ORIGIN],
                "defaultCacheBehavior": BEHAVIOR,
                "orderedCacheBehaviors": [
                    {**BEHAVIOR, "pathPattern": "titles/*.m3u8"},
                    {
                        **BEHAVIOR,
                        "pathPattern": "api/*",
                        "targetOriginId": "api",
                        "viewerProtocolPolicy": "https-only",
                    },
                ],
                "viewerCertificate": {
                    "acmCertificateArn": "arn:aws:acm:us-east-1:1:certificate/c1",
                    "minimumProtocolVersion": "TLSv1.2_2021",
                    "sslSupportMethod": "sni-only",
                },
            },
        ),
        Resource(
            "aws:iam/rolePolicy:RolePolicy",
            "p1",
            {
                "policy": policies.document(
                    policies.allow(
                        "Tables", ["dynamodb:GetItem"], ["arn:aws:dynamodb:us-east-1:1:table/t1"]
                    ),
                    {"Effect": "Allow", "Action": ["xray:PutTraceSegments"], "Resource": "*"},
                )
            },
        ),
    ]


def _replace(name: str, **props: object) -> Callable[[list[Resource]], list[Resource]]:
    def mutate(graph: list[Resource]) -> list[Resource]:
        return [
            Resource(r.type, r.name, {**r.props, **props}) if r.name == name else r for r in graph
        ]

    return mutate


def _drop(name: str) -> Callable[[list[Resource]], list[Resource]]:
    return lambda graph: [r for r in graph if r.name != name]


def _wildcard_policy(action: str, resource: str) -> Callable[[list[Resource]], list[Resource]]:
    return _replace("p1", policy=policies.document(policies.allow("Bad", [action], [resource])))


def _add(resource: Resource) -> Callable[[list[Resource]], list[Resource]]:
    return lambda graph: [*graph, resource]


def _origins(*origins: Mapping[str, Any]) -> Callable[[list[Resource]], list[Resource]]:
    return _replace("d1", origins=list(origins))


def _media_statement(**statement: object) -> Callable[[list[Resource]], list[Resource]]:
    """The m1 (origin) bucket policy with one more statement."""
    document = json.loads(policies.media_bucket_policy(MEDIA_ARN, [DISTRIBUTION_ARN]))
    document["Statement"].append(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{MEDIA_ARN}/*", **statement}
    )
    return _replace("m1-policy", policy=json.dumps(document))


def _queue_statement(**statement: object) -> Callable[[list[Resource]], list[Resource]]:
    """The q1 queue policy with one more statement."""
    document = json.loads(policies.queue_policy(QUEUE_ARN, [ARN], "1"))
    document["Statement"].append(
        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": QUEUE_ARN, **statement}
    )
    return _replace("q1-policy", policy=json.dumps(document))


# rule name -> (defect description, mutation of the good graph)
BAD_FIXTURES: dict[str, list[tuple[str, Callable[[list[Resource]], list[Resource]]]]] = {
    "cloudfront-oac-only": [
        (
            "S3 origin without OAC",
            _origins(
                {k: v for k, v in S3_ORIGIN.items() if k != "originAccessControlId"}, API_ORIGIN
            ),
        ),
        (
            "legacy origin access identity",
            _origins(
                {
                    "originId": "media",
                    "domainName": S3_ORIGIN["domainName"],
                    "s3OriginConfig": {
                        "originAccessIdentity": "origin-access-identity/cloudfront/E2"
                    },
                },
                API_ORIGIN,
            ),
        ),
        (
            "S3 bucket as a custom origin",
            _origins(
                {**S3_ORIGIN, "customOriginConfig": API_ORIGIN["customOriginConfig"]}, API_ORIGIN
            ),
        ),
        (
            "S3 website endpoint",
            _origins(
                S3_ORIGIN,
                {**API_ORIGIN, "domainName": "b1.s3-website-us-east-1.amazonaws.com"},
            ),
        ),
        (
            "bucket of another stack",
            _origins({**S3_ORIGIN, "domainName": "other.s3.us-east-1.amazonaws.com"}, API_ORIGIN),
        ),
        (
            "CloudFront let in for any distribution of the account",
            _media_statement(
                Principal={"Service": "cloudfront.amazonaws.com"},
                Condition={"StringEquals": {"aws:SourceAccount": "1"}},
            ),
        ),
        ("OAC that does not sign", _replace("oac1", signingBehavior="never")),
    ],
    "cloudfront-https-only": [
        (
            "default behaviour allows HTTP",
            _replace("d1", defaultCacheBehavior={**BEHAVIOR, "viewerProtocolPolicy": "allow-all"}),
        ),
        (
            "ordered behaviour allows HTTP",
            _replace(
                "d1",
                orderedCacheBehaviors=[
                    {
                        **BEHAVIOR,
                        "pathPattern": "titles/*.m3u8",
                        "viewerProtocolPolicy": "allow-all",
                    }
                ],
            ),
        ),
        (
            "custom origin over HTTP",
            _origins(
                S3_ORIGIN,
                {
                    **API_ORIGIN,
                    "customOriginConfig": {
                        **API_ORIGIN["customOriginConfig"],
                        "originProtocolPolicy": "match-viewer",
                    },
                },
            ),
        ),
        (
            "custom origin allows TLS 1.0",
            _origins(
                S3_ORIGIN,
                {
                    **API_ORIGIN,
                    "customOriginConfig": {
                        **API_ORIGIN["customOriginConfig"],
                        "originSslProtocols": ["TLSv1", "TLSv1.2"],
                    },
                },
            ),
        ),
        (
            "custom certificate allowing TLS 1.0",
            _replace(
                "d1",
                viewerCertificate={
                    "acmCertificateArn": "arn:aws:acm:us-east-1:1:certificate/c1",
                    "minimumProtocolVersion": "TLSv1_2016",
                    "sslSupportMethod": "sni-only",
                },
            ),
        ),
    ],
    "s3-encrypted": [
        ("no encryption configuration", _drop("b1-encryption")),
        (
            "unknown algorithm",
            _replace(
                "b1-encryption",
                rules=[{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "none"}}],
            ),
        ),
    ],
    "s3-one-notification-per-bucket": [
        (
            "second notification resource",
            _add(Resource(rules.BUCKET_NOTIFICATION, "b1-more", {"bucket": "b1", "queues": []})),
        )
    ],
    "sqs-tls-only": [
        ("no queue policy", _drop("dlq-policy")),
        (
            "policy without TLS condition",
            _replace(
                "q1-policy",
                policy=policies.document(
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "s3.amazonaws.com"},
                        "Action": "sqs:SendMessage",
                        "Resource": QUEUE_ARN,
                        "Condition": {"ArnEquals": {"aws:SourceArn": ARN}},
                    }
                ),
            ),
        ),
    ],
    "service-principals-scoped": [
        (
            "service principal without source",
            _queue_statement(Principal={"Service": "s3.amazonaws.com"}),
        ),
        ("everyone", _queue_statement(Principal="*")),
        (
            "any alarm of any account may publish to the topic",
            _replace(
                "topic1-policy",
                policy=policies.document(
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudwatch.amazonaws.com"},
                        "Action": "sns:Publish",
                        "Resource": TOPIC_ARN,
                    }
                ),
            ),
        ),
    ],
    "ecr-hardened": [
        ("no scan on push", _replace("r1", imageScanningConfiguration={"scanOnPush": False})),
        ("mutable tags", _replace("r1", imageTagMutability="MUTABLE")),
        ("AES256 only", _replace("r1", encryptionConfigurations=[{"encryptionType": "AES256"}])),
        ("no lifecycle policy", _drop("r1-lifecycle")),
    ],
    "ecs-container-insights": [
        (
            "insights off",
            _replace("c1", settings=[{"name": "containerInsights", "value": "disabled"}]),
        ),
        ("no settings", _replace("c1", settings=None)),
    ],
    "ecs-task-hardened": [
        ("no logs", _replace("td1", containerDefinitions=container(logConfiguration=None))),
        ("privileged", _replace("td1", containerDefinitions=container(privileged=True))),
        (
            "writable root",
            _replace("td1", containerDefinitions=container(readonlyRootFilesystem=False)),
        ),
        (
            "latest image",
            _replace("td1", containerDefinitions=container(image="r1:latest")),
        ),
        (
            "untagged image behind a registry port",
            _replace("td1", containerDefinitions=container(image="localhost:5000/r1")),
        ),
    ],
    "s3-public-access-blocked": [
        ("no public access block", _drop("b1-pab")),
        ("one flag off", _replace("b1-pab", restrictPublicBuckets=False)),
    ],
    "s3-tls-only": [
        ("no bucket policy", _drop("b1-policy")),
        (
            "policy without TLS condition",
            _replace(
                "b1-policy",
                policy=policies.document(policies.allow("Read", ["s3:GetObject"], [ARN])),
            ),
        ),
    ],
    "encrypted-at-rest": [
        ("table without SSE", _replace("t1", serverSideEncryption={"enabled": False})),
        ("queue without SSE", _replace("q1", sqsManagedSseEnabled=False)),
        ("stream without KMS", _replace("s1", encryptionType="NONE")),
        ("key without rotation", _replace("k1", enableKeyRotation=False)),
        (
            "replica key of a key outside the stack",
            _replace("k1-replica", primaryKeyArn="arn:aws:kms:us-east-1:2:key/mrk-2"),
        ),
        ("topic without KMS", _replace("topic1", kmsMasterKeyId=None)),
    ],
    "dynamodb-pitr": [
        ("PITR off", _replace("t1", pointInTimeRecovery={"enabled": False})),
        (
            "replica without PITR",
            _replace("t1", replicas=[{**REPLICA, "pointInTimeRecovery": False}]),
        ),
        ("replica with PITR unset", _replace("t1", replicas=[{"regionName": "eu-west-1"}])),
    ],
    "dns-routing-health-checked": [
        ("latency record without health check", _replace("rec1", healthCheckId=None)),
        (
            "failover record without health check",
            _add(
                Resource(
                    rules.DNS_RECORD,
                    "rec2",
                    {"name": "api.example.com", "failoverRoutingPolicies": [{"type": "PRIMARY"}]},
                )
            ),
        ),
    ],
    "iam-no-wildcards": [
        ("action *", _wildcard_policy("*", "arn:aws:s3:::b1")),
        ("service:*", _wildcard_policy("s3:*", "arn:aws:s3:::b1")),
        ("data action on every resource", _wildcard_policy("dynamodb:GetItem", "*")),
        ("PassRole on every role", _wildcard_policy("iam:PassRole", "*")),
    ],
    "log-retention": [("no retention", _replace("lg1", retentionInDays=None))],
    "sqs-dead-letter": [
        ("queue without redrive", _replace("q1", redrivePolicy=None)),
        (
            "queue no event source fails to",
            _replace("f1-source", destinationConfig=None),
        ),
        ("queue no schedule dead-letters to", _drop("sched1")),
    ],
    "schedule-dead-letter": [
        (
            "schedule without dead-letter queue",
            _add(Resource(rules.SCHEDULE, "sched2", {"target": SCHEDULE_TARGET})),
        ),
        (
            "schedule with an empty dead-letter config",
            _add(
                Resource(
                    rules.SCHEDULE,
                    "sched2",
                    {"target": {**SCHEDULE_TARGET, "deadLetterConfig": {}}},
                )
            ),
        ),
    ],
    "dead-letters-alarmed": [
        ("dead-letter queue without alarm", _drop("q1-dlq-depth")),
        ("on-failure destination without alarm", _drop("e1-dlq-depth")),
        ("schedule dead-letter queue without alarm", _drop("r1-dlq-depth")),
        (
            "alarm on another metric",
            _replace("q1-dlq-depth", metricName="NumberOfMessagesSent"),
        ),
    ],
    "alarms-notify": [
        (
            "alarm without actions",
            _add(
                Resource(
                    rules.ALARM,
                    "f1-errors",
                    {"namespace": "AWS/Lambda", "dimensions": {"FunctionName": "f1"}},
                )
            ),
        )
    ],
    "lambda-tracing-active": [
        ("no tracing configuration", _replace("f1", tracingConfig=None)),
        ("pass-through tracing", _replace("f1", tracingConfig={"mode": "PassThrough"})),
    ],
    "lambda-concurrency-or-alarm": [
        ("no reserved concurrency, no alarm", _replace("f1", reservedConcurrentExecutions=None))
    ],
}


def test_the_good_graph_passes_every_rule() -> None:
    assert rules.violations(good_graph()) == {}


def test_every_rule_has_a_bad_fixture() -> None:
    assert set(BAD_FIXTURES) == {rule.name for rule in rules.RULES}


@pytest.mark.parametrize(
    ("rule_name", "defect", "mutate"),
    [(name, defect, mutate) for name, cases in BAD_FIXTURES.items() for defect, mutate in cases],
    ids=[f"{name}:{defect}" for name, cases in BAD_FIXTURES.items() for defect, _ in cases],
)
def test_rule_catches_its_bad_fixture(
    rule_name: str, defect: str, mutate: Callable[[list[Resource]], list[Resource]]
) -> None:
    # GIVEN the compliant graph with exactly one defect
    bad = mutate(good_graph())
    # WHEN every rule runs
    found = rules.violations(bad)
    # THEN the rule for that defect, and only it, reports it
    assert list(found) == [rule_name], f"{defect}: {found}"


@pytest.mark.parametrize(
    "image", [IMAGE, "r1@sha256:" + "0" * 64, "localhost:5000/r1:v1", "public.ecr.aws/x/r1:1.2"]
)
def test_pinned_images_pass_the_task_rule(image: str) -> None:
    graph = _replace("td1", containerDefinitions=container(image=image))(good_graph())
    assert rules.ecs_task_hardened(graph) == []


def test_task_definitions_unknown_at_preview_are_not_flagged() -> None:
    graph = _replace("td1", containerDefinitions=None)(good_graph())
    assert rules.ecs_task_hardened(graph) == []


def test_lambda_alarm_satisfies_the_concurrency_rule() -> None:
    graph = _replace("f1", reservedConcurrentExecutions=None)(good_graph())
    graph.append(
        Resource(
            rules.ALARM, "a1", {"namespace": "AWS/Lambda", "dimensions": {"FunctionName": "f1"}}
        )
    )
    assert rules.lambda_concurrency_or_alarm(graph) == []


# --- CloudFront: what the other rules also catch, and what the OAC rule must not flag -------
def test_oac_rule_flags_an_origin_bucket_that_is_public() -> None:
    # GIVEN the origin's bucket without its public access block, and then open to everyone
    unblocked = _drop("m1-pab")(good_graph())
    public = _media_statement(Principal="*")(good_graph())
    # THEN the OAC rule says so for the distribution (beside the S3 rules)
    assert rules.cloudfront_oac_only(unblocked) == [
        "distribution d1 origin media serves bucket m1, which does not block public access"
    ]
    assert rules.cloudfront_oac_only(public) == [
        "distribution d1 origin media serves bucket m1, whose policy lets everyone in"
    ]


def test_oac_rule_accepts_cloudfront_pinned_to_distributions_in_any_key_case() -> None:
    pinned = _media_statement(
        Principal={"Service": "cloudfront.amazonaws.com"},
        Condition={"StringEquals": {"AWS:SourceArn": DISTRIBUTION_ARN}},
    )(good_graph())
    assert rules.violations(pinned) == {}


def test_origins_unknown_at_preview_are_not_flagged() -> None:
    graph = _origins({**S3_ORIGIN, "domainName": None}, API_ORIGIN)(good_graph())
    assert rules.cloudfront_oac_only(graph) == []


def test_the_default_certificate_needs_no_minimum_protocol() -> None:
    """CloudFront's own certificate fixes its protocols; only custom ones choose."""
    graph = _replace("d1", viewerCertificate={"cloudfrontDefaultCertificate": True})(good_graph())
    assert rules.cloudfront_https_only(graph) == []


def test_replica_keys_whose_primary_is_not_known_yet_are_not_flagged() -> None:
    """Before keys exist (a preview, or the mocks), their ARNs are unknown: a replica is
    checked at deployment."""
    graph = [
        Resource(rules.KMS_KEY, "k1", {"enableKeyRotation": True}),
        Resource(rules.KMS_REPLICA_KEY, "k1-replica", {"primaryKeyArn": KEY_ARN}),
    ]
    assert rules.encrypted_at_rest(graph) == []


def test_a_replica_key_of_a_key_that_does_not_rotate_is_flagged_as_well() -> None:
    graph = [
        Resource(rules.KMS_KEY, "k1", {"enableKeyRotation": False, "arn": KEY_ARN}),
        Resource(rules.KMS_REPLICA_KEY, "k1-replica", {"primaryKeyArn": KEY_ARN}),
    ]
    assert rules.encrypted_at_rest(graph) == [
        "KMS replica key k1-replica replicates key k1, which does not rotate",
        "KMS key k1 does not rotate",
    ]

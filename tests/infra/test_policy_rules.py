"""Each policy rule passes a compliant graph and catches its deliberately bad fixture.

Every bad fixture is the compliant graph with exactly one defect, so a rule that flags it
flags the defect, not something else."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from infra import policies
from infra.policy import rules
from infra.policy.rules import Resource

ARN = "arn:aws:s3:::b1"
QUEUE_ARN = "arn:aws:sqs:us-east-1:1:q1"
QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/1/q1"
IMAGE = "1.dkr.ecr.us-east-1.amazonaws.com/r1:src-0123"


def container(**changes: object) -> str:
    definition: dict[str, object] = {
        "name": "c1",
        "image": IMAGE,
        "readonlyRootFilesystem": True,
        "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "lg2"}},
    }
    return json.dumps([{**definition, **changes}])


def good_graph() -> list[Resource]:
    return [
        Resource(rules.BUCKET, "b1", {"bucket": "b1"}),
        Resource(
            rules.BUCKET_SSE,
            "b1-encryption",
            {
                "bucket": "b1",
                "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}],
            },
        ),
        Resource(
            rules.BUCKET_PAB,
            "b1-pab",
            {
                "bucket": "b1",
                "blockPublicAcls": True,
                "blockPublicPolicy": True,
                "ignorePublicAcls": True,
                "restrictPublicBuckets": True,
            },
        ),
        Resource(
            rules.BUCKET_POLICY,
            "b1-policy",
            {"bucket": "b1", "policy": policies.tls_only_bucket_policy(ARN)},
        ),
        Resource(
            rules.TABLE,
            "t1",
            {
                "name": "t1",
                "serverSideEncryption": {"enabled": True},
                "pointInTimeRecovery": {"enabled": True},
            },
        ),
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
        Resource(rules.STREAM, "s1", {"name": "s1", "encryptionType": "KMS"}),
        Resource(rules.KMS_KEY, "k1", {"enableKeyRotation": True}),
        Resource(rules.LOG_GROUP, "lg1", {"name": "/aws/lambda/f1", "retentionInDays": 30}),
        Resource(rules.FUNCTION, "f1", {"name": "f1", "reservedConcurrentExecutions": 10}),
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


def _queue_statement(**statement: object) -> Callable[[list[Resource]], list[Resource]]:
    """The q1 queue policy with one more statement."""
    document = json.loads(policies.queue_policy(QUEUE_ARN, [ARN], "1"))
    document["Statement"].append(
        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": QUEUE_ARN, **statement}
    )
    return _replace("q1-policy", policy=json.dumps(document))


# rule name -> (defect description, mutation of the good graph)
BAD_FIXTURES: dict[str, list[tuple[str, Callable[[list[Resource]], list[Resource]]]]] = {
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
    ],
    "dynamodb-pitr": [("PITR off", _replace("t1", pointInTimeRecovery={"enabled": False}))],
    "iam-no-wildcards": [
        ("action *", _wildcard_policy("*", "arn:aws:s3:::b1")),
        ("service:*", _wildcard_policy("s3:*", "arn:aws:s3:::b1")),
        ("data action on every resource", _wildcard_policy("dynamodb:GetItem", "*")),
        ("PassRole on every role", _wildcard_policy("iam:PassRole", "*")),
    ],
    "log-retention": [("no retention", _replace("lg1", retentionInDays=None))],
    "sqs-dead-letter": [
        ("queue without redrive", _replace("q1", redrivePolicy=None)),
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

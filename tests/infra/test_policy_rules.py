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
        Resource(rules.STREAM, "s1", {"name": "s1", "encryptionType": "KMS"}),
        Resource(rules.KMS_KEY, "k1", {"enableKeyRotation": True}),
        Resource(rules.LOG_GROUP, "lg1", {"name": "/aws/lambda/f1", "retentionInDays": 30}),
        Resource(rules.FUNCTION, "f1", {"name": "f1", "reservedConcurrentExecutions": 10}),
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


def test_lambda_alarm_satisfies_the_concurrency_rule() -> None:
    graph = _replace("f1", reservedConcurrentExecutions=None)(good_graph())
    graph.append(
        Resource(
            rules.ALARM, "a1", {"namespace": "AWS/Lambda", "dimensions": {"FunctionName": "f1"}}
        )
    )
    assert rules.lambda_concurrency_or_alarm(graph) == []

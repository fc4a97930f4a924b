"""The pure policy-document functions, without Pulumi."""

from __future__ import annotations

import json

from infra import policies
from infra.policy import rules
from infra.policy.rules import Resource


def _api_policy() -> dict[str, object]:
    return json.loads(
        policies.api_function_policy(
            table_arns=["arn:aws:dynamodb:us-east-1:1:table/flixstack-dev-catalog"],
            bucket_arns=["arn:aws:s3:::flixstack-dev-media-1"],
            queue_arns=["arn:aws:sqs:us-east-1:1:flixstack-dev-transcode"],
            stream_arns=["arn:aws:kinesis:us-east-1:1:stream/flixstack-dev-events"],
            user_pool_arns=["arn:aws:cognito-idp:us-east-1:1:userpool/p"],
            kms_key_arns=["arn:aws:kms:us-east-1:1:key/k"],
            log_group_arn="arn:aws:logs:us-east-1:1:log-group:/aws/lambda/flixstack-dev-api",
        )
    )


def test_api_policy_passes_the_iam_rule() -> None:
    resource = Resource(
        "aws:iam/rolePolicy:RolePolicy", "api", {"policy": json.dumps(_api_policy())}
    )
    assert rules.iam_no_wildcards([resource]) == []


def test_api_policy_covers_table_indexes_and_objects() -> None:
    statements = {s["Sid"]: s for s in _api_policy()["Statement"]}  # type: ignore[attr-defined]
    assert (
        "arn:aws:dynamodb:us-east-1:1:table/flixstack-dev-catalog/index/*"
        in statements["Tables"]["Resource"]
    )
    assert statements["Objects"]["Resource"] == ["arn:aws:s3:::flixstack-dev-media-1/*"]
    assert "dynamodb:Scan" not in statements["Tables"]["Action"]


def test_tls_only_policy_denies_plain_http_on_bucket_and_objects() -> None:
    (statement,) = json.loads(policies.tls_only_bucket_policy("arn:aws:s3:::b"))["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Resource"] == ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_logs_bucket_policy_admits_only_this_accounts_access_logs() -> None:
    document = json.loads(policies.logs_bucket_policy("arn:aws:s3:::logs", "123456789012"))
    logging = next(s for s in document["Statement"] if s["Sid"] == "S3ServerAccessLogs")
    assert logging["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert logging["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}

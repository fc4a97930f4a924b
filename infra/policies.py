"""IAM and bucket policy documents as pure functions of ARNs, testable without Pulumi."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

Statement = dict[str, Any]


def document(*statements: Statement) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, sort_keys=True)


def allow(sid: str, actions: Sequence[str], resources: Sequence[str]) -> Statement:
    return {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": sorted(resources)}


def deny_insecure_transport(bucket_arn: str) -> Statement:
    """The TLS-only statement every bucket policy starts with."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def tls_only_bucket_policy(bucket_arn: str) -> str:
    return document(deny_insecure_transport(bucket_arn))


def logs_bucket_policy(bucket_arn: str, account_id: str) -> str:
    """TLS only, plus S3 server access logging from this account's buckets."""
    return document(
        deny_insecure_transport(bucket_arn),
        {
            "Sid": "S3ServerAccessLogs",
            "Effect": "Allow",
            "Principal": {"Service": "logging.s3.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": f"{bucket_arn}/*",
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
        },
    )


def assume_role_policy(service: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
            ],
        },
        sort_keys=True,
    )


TABLE_READ_WRITE = (
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
)


def api_function_policy(
    *,
    table_arns: Sequence[str],
    bucket_arns: Sequence[str],
    queue_arns: Sequence[str],
    stream_arns: Sequence[str],
    user_pool_arns: Sequence[str],
    kms_key_arns: Sequence[str],
    log_group_arn: str,
) -> str:
    """Least privilege for the API Lambda: named resources only, no wildcard actions."""
    return document(
        allow("Logs", ["logs:CreateLogStream", "logs:PutLogEvents"], [f"{log_group_arn}:*"]),
        allow(
            "Tables",
            TABLE_READ_WRITE,
            [*table_arns, *(f"{arn}/index/*" for arn in table_arns)],
        ),
        allow("Buckets", ["s3:ListBucket", "s3:GetBucketLocation"], bucket_arns),
        allow(
            "Objects",
            ["s3:GetObject", "s3:PutObject", "s3:PutObjectTagging", "s3:AbortMultipartUpload"],
            [f"{arn}/*" for arn in bucket_arns],
        ),
        allow(
            "Queues", ["sqs:GetQueueUrl", "sqs:GetQueueAttributes", "sqs:SendMessage"], queue_arns
        ),
        allow(
            "Streams",
            ["kinesis:DescribeStreamSummary", "kinesis:PutRecord", "kinesis:PutRecords"],
            stream_arns,
        ),
        allow("UserPools", ["cognito-idp:DescribeUserPool"], user_pool_arns),
        allow("Keys", ["kms:Decrypt", "kms:GenerateDataKey"], kms_key_arns),
        # X-Ray has no resource-level permissions; these are write-only trace calls.
        {
            "Sid": "Tracing",
            "Effect": "Allow",
            "Action": ["xray:PutTelemetryRecords", "xray:PutTraceSegments"],
            "Resource": "*",
        },
    )

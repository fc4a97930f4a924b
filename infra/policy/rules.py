"""Policy rules as pure functions over a resource graph.

A resource is its Pulumi type token, its logical name and its properties as the engine sees
them (camelCase keys). Each rule returns one message per violation; an empty list passes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

BUCKET = "aws:s3/bucket:Bucket"
BUCKET_SSE = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)
BUCKET_PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
TABLE = "aws:dynamodb/table:Table"
QUEUE = "aws:sqs/queue:Queue"
STREAM = "aws:kinesis/stream:Stream"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
FUNCTION = "aws:lambda/function:Function"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
KMS_KEY = "aws:kms/key:Key"
IAM_POLICY_TYPES = (
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/policy:Policy",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
)
DATA_SERVICES = ("dynamodb", "s3", "sqs", "kinesis", "kms", "secretsmanager", "firehose")
SSE_ALGORITHMS = ("AES256", "aws:kms", "aws:kms:dsse")


@dataclass(frozen=True)
class Resource:
    type: str
    name: str
    props: Mapping[str, Any]


Check = Callable[[Sequence[Resource]], list[str]]


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    check: Check


def _of(resources: Iterable[Resource], *types: str) -> list[Resource]:
    return [r for r in resources if r.type in types]


def _by_bucket(resources: Sequence[Resource], type_: str) -> dict[str, Resource]:
    return {str(r.props.get("bucket")): r for r in _of(resources, type_)}


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


# --- S3 --------------------------------------------------------------------------------------
def s3_encrypted(resources: Sequence[Resource]) -> list[str]:
    configs = _by_bucket(resources, BUCKET_SSE)
    problems = []
    for bucket in _of(resources, BUCKET):
        config = configs.get(str(bucket.props.get("bucket")))
        algorithms = [
            (rule.get("applyServerSideEncryptionByDefault") or {}).get("sseAlgorithm")
            for rule in _as_list(config.props.get("rules") if config else None)
        ]
        if not algorithms or not all(a in SSE_ALGORITHMS for a in algorithms):
            problems.append(f"bucket {bucket.name} has no default server-side encryption")
    return problems


def s3_public_access_blocked(resources: Sequence[Resource]) -> list[str]:
    blocks = _by_bucket(resources, BUCKET_PAB)
    flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    problems = []
    for bucket in _of(resources, BUCKET):
        block = blocks.get(str(bucket.props.get("bucket")))
        missing = [f for f in flags if not (block and block.props.get(f) is True)]
        if missing:
            problems.append(
                f"bucket {bucket.name} does not block public access: {', '.join(missing)}"
            )
    return problems


def _denies_insecure_transport(policy: Any) -> bool:
    for statement in _as_list((policy or {}).get("Statement")):
        condition = (statement.get("Condition") or {}).get("Bool") or {}
        if (
            statement.get("Effect") == "Deny"
            and statement.get("Principal") in ("*", {"AWS": "*"})
            and str(condition.get("aws:SecureTransport")).lower() == "false"
            and "s3:*" in _as_list(statement.get("Action"))
        ):
            return True
    return False


def s3_tls_only(resources: Sequence[Resource]) -> list[str]:
    policies = _by_bucket(resources, BUCKET_POLICY)
    problems = []
    for bucket in _of(resources, BUCKET):
        policy = policies.get(str(bucket.props.get("bucket")))
        if policy is None or not _denies_insecure_transport(_json(policy.props.get("policy"))):
            problems.append(f"bucket {bucket.name} has no policy denying requests without TLS")
    return problems


# --- encryption at rest beyond S3 -----------------------------------------------------------
def encrypted_at_rest(resources: Sequence[Resource]) -> list[str]:
    problems = []
    for table in _of(resources, TABLE):
        if not (table.props.get("serverSideEncryption") or {}).get("enabled"):
            problems.append(f"table {table.name} does not declare server-side encryption")
    for queue in _of(resources, QUEUE):
        if not (queue.props.get("sqsManagedSseEnabled") or queue.props.get("kmsMasterKeyId")):
            problems.append(f"queue {queue.name} is not encrypted at rest")
    for stream in _of(resources, STREAM):
        if stream.props.get("encryptionType") != "KMS":
            problems.append(f"stream {stream.name} is not encrypted with KMS")
    for key in _of(resources, KMS_KEY):
        if not key.props.get("enableKeyRotation"):
            problems.append(f"KMS key {key.name} does not rotate")
    return problems


def dynamodb_point_in_time_recovery(resources: Sequence[Resource]) -> list[str]:
    return [
        f"table {t.name} has no point-in-time recovery"
        for t in _of(resources, TABLE)
        if not (t.props.get("pointInTimeRecovery") or {}).get("enabled")
    ]


# --- IAM -------------------------------------------------------------------------------------
def iam_no_wildcards(resources: Sequence[Resource]) -> list[str]:
    """No ``*`` or ``service:*`` actions, and no data-service action on ``Resource: *``."""
    problems = []
    for policy in _of(resources, *IAM_POLICY_TYPES):
        document = _json(policy.props.get("policy")) or {}
        for statement in _as_list(document.get("Statement")):
            if statement.get("Effect") != "Allow":
                continue
            actions = [str(a) for a in _as_list(statement.get("Action"))]
            wild = [a for a in actions if a == "*" or a.endswith(":*")]
            if wild or "NotAction" in statement:
                problems.append(
                    f"policy {policy.name} allows wildcard actions {wild or ['NotAction']}"
                )
            if "*" in _as_list(statement.get("Resource")):
                data = [a for a in actions if a.split(":")[0] in DATA_SERVICES]
                if data:
                    problems.append(f"policy {policy.name} allows {data} on every resource")
    return problems


# --- operations ------------------------------------------------------------------------------
def log_retention(resources: Sequence[Resource]) -> list[str]:
    return [
        f"log group {g.name} keeps logs forever (set retentionInDays)"
        for g in _of(resources, LOG_GROUP)
        if not g.props.get("retentionInDays")
    ]


def sqs_dead_letter(resources: Sequence[Resource]) -> list[str]:
    """Every queue has a redrive policy, or is some queue's dead-letter target."""
    queues = _of(resources, QUEUE)
    targets = set()
    for queue in queues:
        policy = _json(queue.props.get("redrivePolicy")) or {}
        if policy.get("deadLetterTargetArn"):
            targets.add(str(policy["deadLetterTargetArn"]).rsplit(":", 1)[-1])
    return [
        f"queue {q.name} has no dead-letter queue"
        for q in queues
        if not _json(q.props.get("redrivePolicy")) and q.props.get("name") not in targets
    ]


def lambda_concurrency_or_alarm(resources: Sequence[Resource]) -> list[str]:
    alarmed = {
        str((a.props.get("dimensions") or {}).get("FunctionName"))
        for a in _of(resources, ALARM)
        if a.props.get("namespace") == "AWS/Lambda"
    }
    problems = []
    for function in _of(resources, FUNCTION):
        reserved = function.props.get("reservedConcurrentExecutions")
        if (reserved is None or reserved < 0) and function.props.get("name") not in alarmed:
            problems.append(
                f"function {function.name} has neither reserved concurrency nor an alarm"
            )
    return problems


RULES: tuple[Rule, ...] = (
    Rule("s3-encrypted", "Every bucket has default server-side encryption.", s3_encrypted),
    Rule(
        "s3-public-access-blocked",
        "Every bucket blocks all four kinds of public access.",
        s3_public_access_blocked,
    ),
    Rule("s3-tls-only", "Every bucket policy denies requests without TLS.", s3_tls_only),
    Rule(
        "encrypted-at-rest",
        "Tables, queues and streams are encrypted at rest; keys rotate.",
        encrypted_at_rest,
    ),
    Rule(
        "dynamodb-pitr", "Every table has point-in-time recovery.", dynamodb_point_in_time_recovery
    ),
    Rule(
        "iam-no-wildcards",
        "IAM allows no wildcard actions, and no data actions on every resource.",
        iam_no_wildcards,
    ),
    Rule("log-retention", "Every log group sets a retention period.", log_retention),
    Rule("sqs-dead-letter", "Every queue has a dead-letter queue.", sqs_dead_letter),
    Rule(
        "lambda-concurrency-or-alarm",
        "Every function reserves concurrency or is alarmed.",
        lambda_concurrency_or_alarm,
    ),
)


def violations(resources: Sequence[Resource]) -> dict[str, list[str]]:
    """Every rule's violations, by rule name (rules with none are omitted)."""
    found = {rule.name: rule.check(resources) for rule in RULES}
    return {name: messages for name, messages in found.items() if messages}

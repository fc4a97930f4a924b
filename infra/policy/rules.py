"""Policy rules as pure functions over a resource graph.

A resource is its Pulumi type token, its logical name and its properties as the engine sees
them (camelCase keys). Each rule returns one message per violation; an empty list passes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

BUCKET = "aws:s3/bucket:Bucket"
BUCKET_SSE = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)
BUCKET_PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
BUCKET_NOTIFICATION = "aws:s3/bucketNotification:BucketNotification"
TABLE = "aws:dynamodb/table:Table"
QUEUE = "aws:sqs/queue:Queue"
QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"
STREAM = "aws:kinesis/stream:Stream"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
FUNCTION = "aws:lambda/function:Function"
EVENT_SOURCE_MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping"
INVOKE_CONFIG = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
SCHEDULE = "aws:scheduler/schedule:Schedule"
TOPIC = "aws:sns/topic:Topic"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
KMS_KEY = "aws:kms/key:Key"
KMS_REPLICA_KEY = "aws:kms/replicaKey:ReplicaKey"
ECR_REPOSITORY = "aws:ecr/repository:Repository"
ECR_LIFECYCLE = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
ECS_CLUSTER = "aws:ecs/cluster:Cluster"
ECS_TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
ORIGIN_ACCESS_CONTROL = "aws:cloudfront/originAccessControl:OriginAccessControl"
DNS_RECORD = "aws:route53/record:Record"
ROUTING_POLICIES = (
    "latencyRoutingPolicies",
    "failoverRoutingPolicies",
    "weightedRoutingPolicies",
    "geolocationRoutingPolicies",
    "geoproximityRoutingPolicy",
)
"""Record properties that make Route53 choose between endpoints (one record per endpoint)."""
IAM_POLICY_TYPES = (
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/policy:Policy",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
)
DATA_SERVICES = ("dynamodb", "s3", "sqs", "kinesis", "kms", "secretsmanager", "firehose")
SSE_ALGORITHMS = ("AES256", "aws:kms", "aws:kms:dsse")
# Conditions that pin a service principal to this account's resources (confused deputy).
SOURCE_CONDITION_KEYS = ("aws:SourceArn", "aws:SourceAccount", "aws:SourceOwner")
CONTAINER_INSIGHTS = ("enabled", "enhanced")
HTTPS_VIEWER_POLICIES = ("https-only", "redirect-to-https")
TLS_1_2_OR_LATER = ("TLSv1.2", "TLSv1.3")
OLD_ORIGIN_PROTOCOLS = ("SSLv3", "TLSv1", "TLSv1.1")
# An S3 REST endpoint (``<bucket>.s3[.<region>].amazonaws.com``) and a website endpoint.
S3_REST_ENDPOINT = re.compile(r"^(?P<bucket>.+?)\.s3(?:[.-][a-z0-9-]+)*\.amazonaws\.com(?:\.cn)?$")
S3_WEBSITE_ENDPOINT = re.compile(r"\.s3-website[.-]")


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


def _denies_insecure_transport(policy: Any, service: str) -> bool:
    for statement in _as_list((policy or {}).get("Statement")):
        condition = (statement.get("Condition") or {}).get("Bool") or {}
        if (
            statement.get("Effect") == "Deny"
            and statement.get("Principal") in ("*", {"AWS": "*"})
            and str(condition.get("aws:SecureTransport")).lower() == "false"
            and f"{service}:*" in _as_list(statement.get("Action"))
        ):
            return True
    return False


def _without_tls_policy(
    targets: Iterable[Resource], policies: Mapping[str, Resource], key: str, service: str
) -> list[str]:
    """Each target whose policy (found by the target's ``key`` property) does not deny
    requests without TLS."""
    problems = []
    for target in targets:
        policy = policies.get(str(target.props.get(key)))
        if policy is None or not _denies_insecure_transport(
            _json(policy.props.get("policy")), service
        ):
            kind = target.type.rsplit(":", 1)[-1].lower()
            problems.append(f"{kind} {target.name} has no policy denying requests without TLS")
    return problems


def s3_tls_only(resources: Sequence[Resource]) -> list[str]:
    return _without_tls_policy(
        _of(resources, BUCKET), _by_bucket(resources, BUCKET_POLICY), "bucket", "s3"
    )


def s3_one_notification_per_bucket(resources: Sequence[Resource]) -> list[str]:
    """S3 keeps one notification configuration per bucket: two resources overwrite each
    other on every deployment."""
    counts: dict[str, int] = {}
    for notification in _of(resources, BUCKET_NOTIFICATION):
        bucket = str(notification.props.get("bucket"))
        counts[bucket] = counts.get(bucket, 0) + 1
    return [
        f"bucket {bucket} has {count} notification configurations; merge them into one"
        for bucket, count in counts.items()
        if count > 1
    ]


# --- SQS -------------------------------------------------------------------------------------
def sqs_tls_only(resources: Sequence[Resource]) -> list[str]:
    by_queue_name = {
        str(p.props.get("queueUrl", "")).rsplit("/", 1)[-1]: p for p in _of(resources, QUEUE_POLICY)
    }
    return _without_tls_policy(_of(resources, QUEUE), by_queue_name, "name", "sqs")


# --- resource policies -----------------------------------------------------------------------
def _condition_keys(statement: Mapping[str, Any]) -> set[str]:
    """The statement's condition keys, lower-cased: IAM compares them case-insensitively."""
    conditions = statement.get("Condition") or {}
    return {key.lower() for operator in conditions.values() for key in operator}


def _has_source(statement: Mapping[str, Any], keys: Sequence[str] = SOURCE_CONDITION_KEYS) -> bool:
    return bool(_condition_keys(statement) & {key.lower() for key in keys})


def service_principals_scoped(resources: Sequence[Resource]) -> list[str]:
    """A bucket, queue or topic policy may allow an AWS service or everyone only on behalf
    of named sources: ``aws:SourceArn``/``aws:SourceAccount`` conditions."""
    problems = []
    for policy in _of(resources, BUCKET_POLICY, QUEUE_POLICY, TOPIC_POLICY):
        document = _json(policy.props.get("policy")) or {}
        for statement in _as_list(document.get("Statement")):
            principal = statement.get("Principal")
            broad = principal in ("*", {"AWS": "*"}) or (
                isinstance(principal, dict) and "Service" in principal
            )
            if statement.get("Effect") == "Allow" and broad and not _has_source(statement):
                problems.append(
                    f"policy {policy.name} allows {principal} without a source condition"
                )
    return problems


# --- CloudFront ------------------------------------------------------------------------------
def _behaviors(distribution: Resource) -> list[Mapping[str, Any]]:
    default = distribution.props.get("defaultCacheBehavior")
    return [
        *([default] if default else []),
        *_as_list(distribution.props.get("orderedCacheBehaviors")),
    ]


def _public_statements(policy: Resource | None) -> list[Mapping[str, Any]]:
    document = _json(policy.props.get("policy")) if policy else None
    return [
        s
        for s in _as_list((document or {}).get("Statement"))
        if s.get("Effect") == "Allow" and s.get("Principal") in ("*", {"AWS": "*"})
    ]


def _cloudfront_grants_without_distribution(policy: Resource | None) -> list[Mapping[str, Any]]:
    """Statements that let CloudFront in on behalf of any distribution (no ``aws:SourceArn``)."""
    document = _json(policy.props.get("policy")) if policy else None
    return [
        s
        for s in _as_list((document or {}).get("Statement"))
        if s.get("Effect") == "Allow"
        and isinstance(s.get("Principal"), dict)
        and "cloudfront.amazonaws.com" in _as_list(s["Principal"].get("Service"))
        and not _has_source(s, ("aws:SourceArn",))
    ]


def cloudfront_oac_only(resources: Sequence[Resource]) -> list[str]:
    """CloudFront reaches S3 only through origin access control: every S3 origin names an OAC
    (and no legacy origin access identity), is a REST endpoint of a bucket of this stack (a
    website endpoint needs a public bucket), that bucket blocks public access and lets
    CloudFront in only for named distributions; and every S3 OAC signs every request with
    SigV4. Origins not known yet (a preview) are checked at deployment."""
    buckets = {str(b.props.get("bucket")) for b in _of(resources, BUCKET)}
    blocks = _by_bucket(resources, BUCKET_PAB)
    bucket_policies = _by_bucket(resources, BUCKET_POLICY)
    flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    problems = []
    for distribution in _of(resources, DISTRIBUTION):
        for origin in _as_list(distribution.props.get("origins")):
            domain = origin.get("domainName")
            where = f"distribution {distribution.name} origin {origin.get('originId')}"
            if not isinstance(domain, str):
                continue
            if S3_WEBSITE_ENDPOINT.search(domain):
                problems.append(f"{where} is an S3 website endpoint (a public bucket, no OAC)")
                continue
            match = S3_REST_ENDPOINT.match(domain)
            if match is None:
                continue
            if not origin.get("originAccessControlId"):
                problems.append(f"{where} reaches S3 without origin access control")
            if (origin.get("s3OriginConfig") or {}).get("originAccessIdentity"):
                problems.append(f"{where} uses a legacy origin access identity")
            if origin.get("customOriginConfig"):
                problems.append(f"{where} treats an S3 bucket as a custom origin")
            bucket = match.group("bucket")
            if bucket not in buckets:
                problems.append(f"{where} serves bucket {bucket}, which is not of this stack")
                continue
            block = blocks.get(bucket)
            if not all(block and block.props.get(f) is True for f in flags):
                problems.append(
                    f"{where} serves bucket {bucket}, which does not block public access"
                )
            if _public_statements(bucket_policies.get(bucket)):
                problems.append(f"{where} serves bucket {bucket}, whose policy lets everyone in")
            if _cloudfront_grants_without_distribution(bucket_policies.get(bucket)):
                problems.append(
                    f"{where} serves bucket {bucket}, which lets CloudFront in for any "
                    "distribution (no aws:SourceArn)"
                )
    for access in _of(resources, ORIGIN_ACCESS_CONTROL):
        props = access.props
        if props.get("originAccessControlOriginType") == "s3" and (
            props.get("signingBehavior") != "always" or props.get("signingProtocol") != "sigv4"
        ):
            problems.append(f"origin access control {access.name} does not sign every request")
    return problems


def cloudfront_https_only(resources: Sequence[Resource]) -> list[str]:
    """Viewers use HTTPS (every cache behaviour redirects or refuses HTTP; a custom
    certificate allows TLS 1.2 or later only) and so do requests to custom origins."""
    problems = []
    for distribution in _of(resources, DISTRIBUTION):
        for behavior in _behaviors(distribution):
            if behavior.get("viewerProtocolPolicy") not in HTTPS_VIEWER_POLICIES:
                pattern = behavior.get("pathPattern", "default")
                problems.append(
                    f"distribution {distribution.name} behaviour {pattern} allows plain HTTP"
                )
        certificate = distribution.props.get("viewerCertificate") or {}
        custom = certificate.get("acmCertificateArn") or certificate.get("iamCertificateId")
        if custom and not str(certificate.get("minimumProtocolVersion", "")).startswith(
            TLS_1_2_OR_LATER
        ):
            problems.append(f"distribution {distribution.name} accepts TLS older than 1.2")
        for origin in _as_list(distribution.props.get("origins")):
            config = origin.get("customOriginConfig")
            if not config:
                continue
            where = f"distribution {distribution.name} origin {origin.get('originId')}"
            if config.get("originProtocolPolicy") != "https-only":
                problems.append(f"{where} is reached without HTTPS")
            old = set(_as_list(config.get("originSslProtocols"))) & set(OLD_ORIGIN_PROTOCOLS)
            if old:
                problems.append(f"{where} allows {sorted(old)}")
    return problems


# --- encryption at rest beyond S3 -----------------------------------------------------------
def _replica_keys_rotating(resources: Sequence[Resource]) -> list[str]:
    """A replica key has no rotation of its own: it rotates with its primary, which must be
    a key of the stack (whose rotation the rule checks). Keys are matched by ARN, which is
    known once they exist: before (a preview), replicas are checked at deployment."""
    keys = {
        k.props["arn"]: k for k in _of(resources, KMS_KEY) if isinstance(k.props.get("arn"), str)
    }
    problems = []
    for replica in _of(resources, KMS_REPLICA_KEY):
        primary_arn = replica.props.get("primaryKeyArn")
        if not keys or not isinstance(primary_arn, str):
            continue
        primary = keys.get(primary_arn)
        if primary is None:
            problems.append(
                f"KMS replica key {replica.name} replicates {primary_arn}, a key outside the "
                "stack whose rotation it cannot check"
            )
        elif not primary.props.get("enableKeyRotation"):
            problems.append(
                f"KMS replica key {replica.name} replicates key {primary.name}, which does "
                "not rotate"
            )
    return problems


def encrypted_at_rest(resources: Sequence[Resource]) -> list[str]:
    problems = _replica_keys_rotating(resources)
    for table in _of(resources, TABLE):
        if not (table.props.get("serverSideEncryption") or {}).get("enabled"):
            problems.append(f"table {table.name} does not declare server-side encryption")
    for queue in _of(resources, QUEUE):
        if not (queue.props.get("sqsManagedSseEnabled") or queue.props.get("kmsMasterKeyId")):
            problems.append(f"queue {queue.name} is not encrypted at rest")
    for stream in _of(resources, STREAM):
        if stream.props.get("encryptionType") != "KMS":
            problems.append(f"stream {stream.name} is not encrypted with KMS")
    for topic in _of(resources, TOPIC):
        if not topic.props.get("kmsMasterKeyId"):
            problems.append(f"topic {topic.name} is not encrypted with KMS")
    for key in _of(resources, KMS_KEY):
        if not key.props.get("enableKeyRotation"):
            problems.append(f"KMS key {key.name} does not rotate")
    return problems


def dynamodb_point_in_time_recovery(resources: Sequence[Resource]) -> list[str]:
    """Every table, and every replica of a global table in another region, can be restored
    to any second of the last 35 days."""
    problems = []
    for table in _of(resources, TABLE):
        if not (table.props.get("pointInTimeRecovery") or {}).get("enabled"):
            problems.append(f"table {table.name} has no point-in-time recovery")
        for replica in _as_list(table.props.get("replicas")):
            if replica.get("pointInTimeRecovery") is not True:
                problems.append(
                    f"table {table.name} replica in {replica.get('regionName')} has no "
                    "point-in-time recovery"
                )
    return problems


# --- DNS -------------------------------------------------------------------------------------
def dns_routing_health_checked(resources: Sequence[Resource]) -> list[str]:
    """A record Route53 chooses among others by latency, weight, location or failover has a
    health check: without one, Route53 keeps answering with an endpoint that is down."""
    return [
        f"record {r.name} routes by {policy} without a health check"
        for r in _of(resources, DNS_RECORD)
        for policy in ROUTING_POLICIES
        if r.props.get(policy) and not r.props.get("healthCheckId")
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
                if "iam:PassRole" in actions:
                    problems.append(f"policy {policy.name} may pass every role")
    return problems


# --- containers ------------------------------------------------------------------------------
def ecr_hardened(resources: Sequence[Resource]) -> list[str]:
    lifecycles = {str(p.props.get("repository")) for p in _of(resources, ECR_LIFECYCLE)}
    problems = []
    for repository in _of(resources, ECR_REPOSITORY):
        props = repository.props
        if not (props.get("imageScanningConfiguration") or {}).get("scanOnPush"):
            problems.append(f"repository {repository.name} does not scan images on push")
        if props.get("imageTagMutability") != "IMMUTABLE":
            problems.append(f"repository {repository.name} lets tags be overwritten")
        encryption = [
            e.get("encryptionType") for e in _as_list(props.get("encryptionConfigurations"))
        ]
        if not encryption or not all(e in ("KMS", "KMS_DSSE") for e in encryption):
            problems.append(f"repository {repository.name} is not encrypted with KMS")
        if str(props.get("name")) not in lifecycles:
            problems.append(f"repository {repository.name} has no lifecycle policy")
    return problems


def ecs_container_insights(resources: Sequence[Resource]) -> list[str]:
    return [
        f"cluster {c.name} does not enable Container Insights"
        for c in _of(resources, ECS_CLUSTER)
        if not any(
            s.get("name") == "containerInsights" and s.get("value") in CONTAINER_INSIGHTS
            for s in _as_list(c.props.get("settings"))
        )
    ]


def _pinned(image: str) -> bool:
    """A digest, or a tag other than ``latest`` (a registry port is not a tag)."""
    if "@sha256:" in image:
        return True
    name = image.rsplit("/", 1)[-1]
    return ":" in name and name.rsplit(":", 1)[-1] != "latest"


def ecs_task_hardened(resources: Sequence[Resource]) -> list[str]:
    """Containers log, run unprivileged on a read-only root file system, and name their
    image exactly. Definitions not known yet (a preview) are checked at deployment."""
    problems = []
    for task in _of(resources, ECS_TASK_DEFINITION):
        containers = _json(task.props.get("containerDefinitions"))
        for container in containers if isinstance(containers, list) else []:
            where = f"task {task.name} container {container.get('name')}"
            if not (container.get("logConfiguration") or {}).get("logDriver"):
                problems.append(f"{where} has no log configuration")
            if container.get("privileged"):
                problems.append(f"{where} is privileged")
            if container.get("readonlyRootFilesystem") is not True:
                problems.append(f"{where} has a writable root file system")
            if not _pinned(str(container.get("image", ""))):
                problems.append(f"{where} runs an unpinned image {container.get('image')}")
    return problems


# --- operations ------------------------------------------------------------------------------
def log_retention(resources: Sequence[Resource]) -> list[str]:
    return [
        f"log group {g.name} keeps logs forever (set retentionInDays)"
        for g in _of(resources, LOG_GROUP)
        if not g.props.get("retentionInDays")
    ]


def _schedule_dead_letter(schedule: Resource) -> Any:
    return ((schedule.props.get("target") or {}).get("deadLetterConfig") or {}).get("arn")


def _failure_destinations(resources: Sequence[Resource]) -> set[str]:
    """Names of the queues failed work goes to: queues' dead-letter targets, the
    on-failure destinations of Lambda event sources and asynchronous invocations, and the
    dead-letter queues of schedules."""
    arns = [
        (_json(q.props.get("redrivePolicy")) or {}).get("deadLetterTargetArn")
        for q in _of(resources, QUEUE)
    ]
    for source in _of(resources, EVENT_SOURCE_MAPPING):
        on_failure = (source.props.get("destinationConfig") or {}).get("onFailure") or {}
        arns.append(on_failure.get("destinationArn"))
    for config in _of(resources, INVOKE_CONFIG):
        on_failure = (config.props.get("destinationConfig") or {}).get("onFailure") or {}
        arns.append(on_failure.get("destination"))
    arns.extend(_schedule_dead_letter(schedule) for schedule in _of(resources, SCHEDULE))
    return {
        str(arn).rsplit(":", 1)[-1]
        for arn in arns
        if isinstance(arn, str) and arn.startswith("arn:aws:sqs:")
    }


def sqs_dead_letter(resources: Sequence[Resource]) -> list[str]:
    """Every queue has a redrive policy, or is where failed work goes (some queue's
    dead-letter target, or a Lambda event source's on-failure destination)."""
    targets = _failure_destinations(resources)
    return [
        f"queue {q.name} has no dead-letter queue"
        for q in _of(resources, QUEUE)
        if not _json(q.props.get("redrivePolicy")) and q.props.get("name") not in targets
    ]


def schedules_dead_lettered(resources: Sequence[Resource]) -> list[str]:
    """A schedule whose target cannot be invoked drops the run unless its target has a
    dead-letter queue (which ``dead-letters-alarmed`` then requires to be alarmed)."""
    return [
        f"schedule {s.name} has no dead-letter queue"
        for s in _of(resources, SCHEDULE)
        if not _schedule_dead_letter(s)
    ]


def dead_letters_alarmed(resources: Sequence[Resource]) -> list[str]:
    """Every queue failed work goes to has an alarm on its visible messages that notifies
    someone: a dead letter nobody hears of is lost work."""
    alarmed = {
        str((a.props.get("dimensions") or {}).get("QueueName"))
        for a in _of(resources, ALARM)
        if a.props.get("namespace") == "AWS/SQS"
        and a.props.get("metricName") == "ApproximateNumberOfMessagesVisible"
        and a.props.get("alarmActions")
    }
    destinations = _failure_destinations(resources)
    return [
        f"dead-letter queue {q.name} has no alarm that notifies anyone"
        for q in _of(resources, QUEUE)
        if q.props.get("name") in destinations and q.props.get("name") not in alarmed
    ]


def alarms_notify(resources: Sequence[Resource]) -> list[str]:
    """An alarm without actions changes colour on a console nobody watches."""
    return [
        f"alarm {a.name} notifies nobody (no alarmActions)"
        for a in _of(resources, ALARM)
        if not a.props.get("alarmActions")
    ]


def lambda_tracing_active(resources: Sequence[Resource]) -> list[str]:
    """Every function samples its requests into X-Ray (tracing mode Active)."""
    return [
        f"function {f.name} does not trace (tracingConfig.mode is not Active)"
        for f in _of(resources, FUNCTION)
        if (f.props.get("tracingConfig") or {}).get("mode") != "Active"
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
        "s3-one-notification-per-bucket",
        "A bucket has at most one notification configuration (they overwrite each other).",
        s3_one_notification_per_bucket,
    ),
    Rule("sqs-tls-only", "Every queue policy denies requests without TLS.", sqs_tls_only),
    Rule(
        "cloudfront-oac-only",
        "CloudFront reaches S3 only through origin access control, to private buckets.",
        cloudfront_oac_only,
    ),
    Rule(
        "cloudfront-https-only",
        "CloudFront talks HTTPS (TLS 1.2+) to viewers and custom origins.",
        cloudfront_https_only,
    ),
    Rule(
        "service-principals-scoped",
        "Bucket, queue and topic policies allow services or everyone only with a source condition.",
        service_principals_scoped,
    ),
    Rule(
        "encrypted-at-rest",
        "Tables, queues, streams and topics are encrypted at rest; keys (replicas with their "
        "primary) rotate.",
        encrypted_at_rest,
    ),
    Rule(
        "dynamodb-pitr",
        "Every table and table replica has point-in-time recovery.",
        dynamodb_point_in_time_recovery,
    ),
    Rule(
        "dns-routing-health-checked",
        "Latency, weighted, geo and failover records have health checks.",
        dns_routing_health_checked,
    ),
    Rule(
        "iam-no-wildcards",
        "IAM allows no wildcard actions, no data actions and no PassRole on every resource.",
        iam_no_wildcards,
    ),
    Rule(
        "ecr-hardened",
        "Image repositories scan on push, have immutable tags, KMS encryption and a lifecycle.",
        ecr_hardened,
    ),
    Rule(
        "ecs-container-insights",
        "Every ECS cluster enables Container Insights.",
        ecs_container_insights,
    ),
    Rule(
        "ecs-task-hardened",
        "Task containers log, are unprivileged, have read-only roots and pinned images.",
        ecs_task_hardened,
    ),
    Rule("log-retention", "Every log group sets a retention period.", log_retention),
    Rule("sqs-dead-letter", "Every queue has a dead-letter queue.", sqs_dead_letter),
    Rule(
        "schedule-dead-letter",
        "Every EventBridge Scheduler schedule has a dead-letter queue.",
        schedules_dead_lettered,
    ),
    Rule(
        "dead-letters-alarmed",
        "Every dead-letter queue has a not-empty alarm that notifies someone.",
        dead_letters_alarmed,
    ),
    Rule("alarms-notify", "Every alarm has an action.", alarms_notify),
    Rule("lambda-tracing-active", "Every function traces with X-Ray.", lambda_tracing_active),
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

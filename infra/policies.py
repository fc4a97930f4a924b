"""IAM and bucket policy documents as pure functions of ARNs, testable without Pulumi."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from flixstack import spec

Statement = dict[str, Any]


def document(*statements: Statement) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, sort_keys=True)


def allow(
    sid: str,
    actions: Sequence[str],
    resources: Sequence[str],
    condition: Mapping[str, Mapping[str, Any]] | None = None,
) -> Statement:
    statement: Statement = {
        "Sid": sid,
        "Effect": "Allow",
        "Action": sorted(actions),
        "Resource": sorted(resources),
    }
    if condition:
        statement["Condition"] = {k: dict(v) for k, v in condition.items()}
    return statement


def logs(log_group_arn: str) -> Statement:
    """Writing to one log group (its streams)."""
    return allow("Logs", ["logs:CreateLogStream", "logs:PutLogEvents"], [f"{log_group_arn}:*"])


def tracing() -> Statement:
    """X-Ray has no resource-level permissions; these are write-only trace calls."""
    return {
        "Sid": "Tracing",
        "Effect": "Allow",
        "Action": ["xray:PutTelemetryRecords", "xray:PutTraceSegments"],
        "Resource": "*",
    }


def deny_without_tls(service: str, resources: str | Sequence[str]) -> Statement:
    """The TLS-only statement every bucket and queue policy starts with."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": f"{service}:*",
        "Resource": resources if isinstance(resources, str) else list(resources),
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def deny_insecure_transport(bucket_arn: str) -> Statement:
    return deny_without_tls("s3", [bucket_arn, f"{bucket_arn}/*"])


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


def assume_role_policy(
    service: str, external_id: str | None = None, *, source_account: str | None = None
) -> str:
    """``service`` may assume the role; with ``external_id`` (the account id, as Firehose
    passes it) or ``source_account`` (``aws:SourceAccount``, as EventBridge Scheduler sets
    it) only on behalf of that account."""
    statement: Statement = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    condition = {
        key: value
        for key, value in (("sts:ExternalId", external_id), ("aws:SourceAccount", source_account))
        if value is not None
    }
    if condition:
        statement["Condition"] = {"StringEquals": condition}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]}, sort_keys=True)


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
    content_keys_table_arn: str,
    bucket_arns: Sequence[str],
    queue_arns: Sequence[str],
    stream_arns: Sequence[str],
    user_pool_arns: Sequence[str],
    kms_key_arns: Sequence[str],
    secret_arns: Sequence[str],
    prewarm_queue_arn: str,
    log_group_arn: str,
    bucket_copy_arns: Sequence[str] = (),
) -> str:
    """Least privilege for the API Lambda: named resources only, no wildcard actions.

    The content keys table is apart from the others: the API only reads a key (and
    describes the table for ``/health``); the transcoder writes them. Of the queues, it
    only looks up and describes each (``/health``) and sends to the prewarm queue.

    ``bucket_copy_arns`` are the copies, in the API's region, of the buckets in every region
    (``spec.BucketSpec.every_region``): read only, since S3 replicates into them from the
    home bucket, which the API writes. Listing them makes a key not replicated yet a 404
    (``NotFound``) rather than a 403."""
    copies = (
        [
            allow("BucketCopies", ["s3:ListBucket"], bucket_copy_arns),
            allow("BucketCopyObjects", ["s3:GetObject"], [f"{arn}/*" for arn in bucket_copy_arns]),
        ]
        if bucket_copy_arns
        else []
    )
    return document(
        logs(log_group_arn),
        allow(
            "Tables",
            TABLE_READ_WRITE,
            [*table_arns, *(f"{arn}/index/*" for arn in table_arns)],
        ),
        allow(
            "ContentKeys", ["dynamodb:DescribeTable", "dynamodb:GetItem"], [content_keys_table_arn]
        ),
        allow("Buckets", ["s3:ListBucket", "s3:GetBucketLocation"], bucket_arns),
        allow(
            "Objects",
            [
                "s3:GetObject",
                "s3:PutObject",
                "s3:PutObjectTagging",
                "s3:DeleteObjectTagging",  # restoring an archived title's media
                "s3:AbortMultipartUpload",
            ],
            [f"{arn}/*" for arn in bucket_arns],
        ),
        *copies,
        allow("Queues", ["sqs:GetQueueAttributes", "sqs:GetQueueUrl"], queue_arns),
        prewarm_sends(prewarm_queue_arn),
        allow(
            "Streams",
            ["kinesis:DescribeStreamSummary", "kinesis:PutRecord", "kinesis:PutRecords"],
            stream_arns,
        ),
        allow("UserPools", ["cognito-idp:DescribeUserPool"], user_pool_arns),
        allow("Keys", ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"], kms_key_arns),
        # The CDN signing key (GetSecretValue); DescribeSecret is /health's inventory.
        allow(
            "Secrets",
            ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
            secret_arns,
        ),
        tracing(),
    )


# --- CDN pre-warming -------------------------------------------------------------------------
def prewarm_sends(prewarm_queue_arn: str) -> Statement:
    """Publishing a title enqueues its assets for CDN pre-warming (the API and the
    transcoder): the queue's URL, then SendMessageBatch, which ``sqs:SendMessage``
    authorizes."""
    return allow("PrewarmRequests", ["sqs:GetQueueUrl", "sqs:SendMessage"], [prewarm_queue_arn])


PREWARM_CONSUME = (
    "sqs:ChangeMessageVisibility",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:ReceiveMessage",
)


def prewarm_function_policy(*, queue_arn: str, signing_secret_arn: str, log_group_arn: str) -> str:
    """The CDN pre-warming Lambda: consumes the prewarm queue (its event-source mapping)
    and reads the CDN signing key to sign its own cookies. It fetches through CloudFront
    over HTTPS like any viewer, which needs no IAM."""
    return document(
        logs(log_group_arn),
        allow("ConsumeQueue", PREWARM_CONSUME, [queue_arn]),
        allow("SigningKey", ["secretsmanager:GetSecretValue"], [signing_secret_arn]),
        tracing(),
    )


# --- media delivery and replication ------------------------------------------------------------
CLOUDFRONT = "cloudfront.amazonaws.com"


def account_root(account_id: str) -> str:
    return f"arn:aws:iam::{account_id}:root"


def account_uses_key(account_id: str) -> Statement:
    """The default key policy statement: the account administers and uses the key
    through IAM (without it, nobody could manage the key)."""
    return {
        "Sid": "AccountUsesIam",
        "Effect": "Allow",
        "Principal": {"AWS": account_root(account_id)},
        "Action": "kms:*",
        "Resource": "*",
    }


def cloudfront_reads(
    bucket_arn: str,
    distribution_arns: Sequence[str],
    *,
    prefix: str = spec.MEDIA_TITLES_PREFIX,
    sid: str = "CloudFrontReadsTitles",
) -> Statement:
    """CloudFront (origin access control) may read the objects under ``prefix`` (published
    titles, by default), on behalf of exactly these distributions (``aws:SourceArn``): no
    other distribution, in any account."""
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Service": CLOUDFRONT},
        "Action": "s3:GetObject",
        "Resource": f"{bucket_arn}/{prefix}*",
        "Condition": {"StringEquals": {"aws:SourceArn": sorted(distribution_arns)}},
    }


def media_bucket_policy(bucket_arn: str, distribution_arns: Sequence[str]) -> str:
    """A media bucket (the primary or a replica): TLS only, and read by the CDN's
    distributions through origin access control. Nothing else is public."""
    return document(
        deny_insecure_transport(bucket_arn), cloudfront_reads(bucket_arn, distribution_arns)
    )


def webapp_bucket_policy(bucket_arn: str, distribution_arn: str) -> str:
    """The web app's bucket: TLS only, and its one distribution reads the app (``app/``)
    through origin access control. Nothing else is public; deployments write with IAM."""
    return document(
        deny_insecure_transport(bucket_arn),
        cloudfront_reads(
            bucket_arn, [distribution_arn], prefix=spec.WEBAPP_PREFIX, sid="CloudFrontReadsWebApp"
        ),
    )


def media_key_policy(account_id: str, distribution_arns: Sequence[str]) -> str:
    """The key policy of a media KMS key: the account administers and uses it through IAM
    (the default key policy), and CloudFront may decrypt the SSE-KMS objects it reads
    through origin access control, on behalf of exactly these distributions."""
    return document(
        account_uses_key(account_id),
        {
            "Sid": "CloudFrontDecryptsMedia",
            "Effect": "Allow",
            "Principal": {"Service": CLOUDFRONT},
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceArn": sorted(distribution_arns)}},
        },
    )


REPLICATION_READ = (
    "s3:GetObjectVersionAcl",
    "s3:GetObjectVersionForReplication",
    "s3:GetObjectVersionTagging",
)
REPLICATION_WRITE = ("s3:ReplicateDelete", "s3:ReplicateObject", "s3:ReplicateTags")


def _replication(
    source_bucket_arn: str, replica_bucket_arns: Sequence[str], prefix: str
) -> list[Statement]:
    """What S3 replication needs of a role outside KMS: the source's configuration, its
    object versions under ``prefix`` (with their tags, so archived titles stay archived),
    and replicating them (and deletes, and tags) into the replicas under the same prefix."""
    return [
        allow(
            "SourceBucket", ["s3:GetReplicationConfiguration", "s3:ListBucket"], [source_bucket_arn]
        ),
        allow("SourceObjects", REPLICATION_READ, [f"{source_bucket_arn}/{prefix}*"]),
        allow(
            "ReplicaObjects", REPLICATION_WRITE, [f"{arn}/{prefix}*" for arn in replica_bucket_arns]
        ),
    ]


def replication_policy(
    *,
    source_bucket_arn: str,
    source_key_arn: str,
    source_region: str,
    replica_bucket_arn: str,
    replica_key_arn: str,
    replica_region: str,
) -> str:
    """The S3 replication role of the media bucket: reads object versions under ``titles/``
    of the source, decrypts them with the source key and re-encrypts them with the
    replica's key, each only through S3 in that key's region (``kms:ViaService``), and
    writes them into the replica."""
    return document(
        *_replication(source_bucket_arn, [replica_bucket_arn], spec.MEDIA_TITLES_PREFIX),
        allow(
            "DecryptSource",
            ["kms:Decrypt"],
            [source_key_arn],
            {"StringEquals": {"kms:ViaService": f"s3.{source_region}.amazonaws.com"}},
        ),
        allow(
            "EncryptReplica",
            ["kms:Encrypt", "kms:GenerateDataKey"],
            [replica_key_arn],
            {"StringEquals": {"kms:ViaService": f"s3.{replica_region}.amazonaws.com"}},
        ),
    )


def copies_replication_policy(*, source_bucket_arn: str, copy_bucket_arns: Sequence[str]) -> str:
    """The S3 replication role of a bucket copied whole into every other region of the stack
    (``spec.BucketSpec.every_region``): reads every object version of the source and writes
    it into each copy. Such buckets are SSE-S3, so the role needs no KMS key."""
    return document(*_replication(source_bucket_arn, copy_bucket_arns, ""))


def arn_in_region(arn: str, region: str) -> str:
    """``arn`` with its region field set to ``region``: the ARN of the resource's replica
    there, for resources whose replicas differ from them by region alone (a global table's
    replicas, a secret's replicas).

    >>> arn_in_region("arn:aws:dynamodb:us-east-1:1:table/t", "us-west-2")
    'arn:aws:dynamodb:us-west-2:1:table/t'
    """
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or not parts[3]:
        raise ValueError(f"{arn!r} is not the ARN of a regional resource")
    parts[3] = region
    return ":".join(parts)


# --- tables ----------------------------------------------------------------------------------
TABLE_KEY_ACTIONS = (
    "kms:CreateGrant",
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey*",
    "kms:ReEncrypt*",
)
"""What DynamoDB asks of a table's customer managed key (and of a replica's, to create it)."""


def table_key_policy(account_id: str, region: str) -> str:
    """The key policy of the tables' KMS key in ``region``: the account administers and uses
    it through IAM (the default key policy), and this account's principals may use it
    through DynamoDB in the key's region (``kms:ViaService``), as AWS's own key for DynamoDB
    lets them: whoever IAM lets call a table needs no KMS permission of their own."""
    return document(
        account_uses_key(account_id),
        {
            "Sid": "AccountUsesKeyThroughDynamoDb",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": list(TABLE_KEY_ACTIONS),
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    "kms:CallerAccount": account_id,
                    "kms:ViaService": f"dynamodb.{region}.amazonaws.com",
                }
            },
        },
    )


# --- queues ----------------------------------------------------------------------------------
def queue_policy(queue_arn: str, notifying_bucket_arns: Sequence[str], account_id: str) -> str:
    """TLS only; plus, when buckets notify the queue, S3 may send to it on behalf of exactly
    those buckets of this account (``aws:SourceArn`` and ``aws:SourceAccount``, so no other
    account's bucket can use S3 as a confused deputy)."""
    statements = [deny_without_tls("sqs", queue_arn)]
    if notifying_bucket_arns:
        statements.append(
            {
                "Sid": "S3EventNotifications",
                "Effect": "Allow",
                "Principal": {"Service": "s3.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {
                    "ArnEquals": {"aws:SourceArn": sorted(notifying_bucket_arns)},
                    "StringEquals": {"aws:SourceAccount": account_id},
                },
            }
        )
    return document(*statements)


# --- transcoding -----------------------------------------------------------------------------
QUEUE_CONSUME = (
    "sqs:ChangeMessageVisibility",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
    "sqs:ReceiveMessage",
)
TASK_TABLE_ACCESS = (
    # TransactWriteItems has no IAM action of its own: each Put/Update/ConditionCheck in a
    # transaction is authorized by the action of the same name.
    "dynamodb:ConditionCheckItem",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",  # a title's other jobs (jobs by-title index)
    "dynamodb:UpdateItem",
)


def transcoder_task_policy(
    *,
    ingest_bucket_arn: str,
    media_bucket_arn: str,
    artifacts_bucket_arn: str,
    table_arns: Sequence[str],
    content_keys_table_arn: str,
    queue_arn: str,
    dead_letter_arn: str,
    media_key_arn: str,
    prewarm_queue_arn: str,
) -> str:
    """The worker container: reads masters and sidecars, writes packaged titles, keeps its
    job and the title in DynamoDB, writes the catalog snapshot when a published title gets
    new media (and enqueues it for CDN pre-warming), consumes the transcode queue (``poll``)
    and marks the jobs of dead-lettered messages failed. Object access is limited to the
    spec's key prefixes.

    Content keys: it asks KMS for a data key under the media key and stores the wrapped key
    (a conditional PutItem); a retried job reads back and unwraps the key its first attempt
    stored (GetItem, Decrypt), so segments of either attempt decrypt with one key."""
    return document(
        allow(
            "ReadUploads",
            ["s3:GetObject"],
            [
                f"{ingest_bucket_arn}/{spec.MASTERS_PREFIX}*",
                f"{ingest_bucket_arn}/{spec.SIDECARS_PREFIX}*",
            ],
        ),
        allow(
            "ListSidecars",
            ["s3:ListBucket"],
            [ingest_bucket_arn],
            {"StringLike": {"s3:prefix": [f"{spec.SIDECARS_PREFIX}*"]}},
        ),
        allow(
            "WriteTitles",
            ["s3:AbortMultipartUpload", "s3:PutObject", "s3:PutObjectTagging"],
            [f"{media_bucket_arn}/{spec.MEDIA_TITLES_PREFIX}*"],
        ),
        allow(
            "CatalogSnapshots",
            ["s3:GetObject", "s3:PutObject"],
            [f"{artifacts_bucket_arn}/{spec.CATALOG_ARTIFACTS_PREFIX}*"],
        ),
        allow("MediaKey", ["kms:Decrypt", "kms:GenerateDataKey"], [media_key_arn]),
        allow(
            "Tables", TASK_TABLE_ACCESS, [*table_arns, *(f"{arn}/index/*" for arn in table_arns)]
        ),
        allow("ContentKeys", ["dynamodb:GetItem", "dynamodb:PutItem"], [content_keys_table_arn]),
        allow("Queue", QUEUE_CONSUME, [queue_arn]),
        allow("DeadLetters", ["sqs:GetQueueUrl", "sqs:ReceiveMessage"], [dead_letter_arn]),
        prewarm_sends(prewarm_queue_arn),
    )


def task_execution_policy(*, repository_arn: str, log_group_arn: str) -> str:
    """What ECS needs to start a container task: pull its image and ship its logs."""
    return document(
        # GetAuthorizationToken is account-wide (it has no resource); it grants no data.
        {
            "Sid": "RegistryLogin",
            "Effect": "Allow",
            "Action": "ecr:GetAuthorizationToken",
            "Resource": "*",
        },
        allow(
            "PullImage",
            ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            [repository_arn],
        ),
        logs(log_group_arn),
    )


def task_family_arn(task_definition_arn: str) -> str:
    """``…:task-definition/<family>:<revision>`` → ``…:task-definition/<family>``."""
    return task_definition_arn.rsplit(":", 1)[0]


def runs_task(
    *, cluster_arn: str, task_definition_arn: str, task_role_arns: Sequence[str]
) -> tuple[Statement, Statement]:
    """Starting one task definition, any revision of its family, on one cluster only, and
    handing ECS that task's roles (for ECS tasks only)."""
    return (
        allow(
            "RunTask",
            ["ecs:RunTask"],
            [f"{task_family_arn(task_definition_arn)}:*"],
            {"ArnEquals": {"ecs:cluster": cluster_arn}},
        ),
        allow(
            "PassTaskRoles",
            ["iam:PassRole"],
            task_role_arns,
            {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
        ),
    )


def transcode_dispatch_policy(
    *,
    queue_arn: str,
    cluster_arn: str,
    task_definition_arn: str,
    task_role_arns: Sequence[str],
    log_group_arn: str,
) -> str:
    """The dispatcher Lambda: consumes the transcode queue (its event-source mapping) and
    starts the worker's task definition, any revision, on this cluster only."""
    return document(
        logs(log_group_arn),
        allow(
            "ConsumeQueue",
            ["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"],
            [queue_arn],
        ),
        *runs_task(
            cluster_arn=cluster_arn,
            task_definition_arn=task_definition_arn,
            task_role_arns=task_role_arns,
        ),
        tracing(),
    )


def transcode_retry_policy(
    *, queue_arns: Sequence[str], jobs_table_arn: str, log_group_arn: str
) -> str:
    """The stopped-task Lambda: sends a dead task's S3 event back to the transcode queue, or
    to its dead-letter queue once the attempts are spent (and then fails the job)."""
    return document(
        logs(log_group_arn),
        allow("Resend", ["sqs:GetQueueUrl", "sqs:SendMessage"], queue_arns),
        allow("FailJob", ["dynamodb:UpdateItem"], [jobs_table_arn]),
        tracing(),
    )


def ecr_lifecycle_policy(*, keep_images: int, untagged_days: int) -> str:
    """Untagged layers go after a few days; only the newest images are kept."""
    return json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": f"Expire untagged images after {untagged_days} days",
                    "selection": {
                        "tagStatus": "untagged",
                        "countType": "sinceImagePushed",
                        "countUnit": "days",
                        "countNumber": untagged_days,
                    },
                    "action": {"type": "expire"},
                },
                {
                    "rulePriority": 2,
                    "description": f"Keep the newest {keep_images} images",
                    "selection": {
                        "tagStatus": "any",
                        "countType": "imageCountMoreThan",
                        "countNumber": keep_images,
                    },
                    "action": {"type": "expire"},
                },
            ]
        },
        sort_keys=True,
    )


# --- events: the stream's consumer and the data lake -----------------------------------------
STREAM_CONSUME = (
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
)
"""What a Lambda event source mapping reads a Kinesis stream with (shared throughput)."""
ANALYTICS_ACCESS = (
    "dynamodb:BatchGetItem",  # the batch's stored sessions
    "dynamodb:ConditionCheckItem",
    "dynamodb:GetItem",
    "dynamodb:PutItem",  # sessions, as of their version
    "dynamodb:Query",
    "dynamodb:UpdateItem",  # ADDs to the QoE sums and trending counters
)
CATALOG_READ = ("dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:Query")


def events_consumer_policy(
    *,
    stream_arn: str,
    analytics_table_arn: str,
    viewers_table_arn: str,
    catalog_table_arn: str,
    artifacts_bucket_arn: str,
    dead_letter_arn: str,
    log_group_arn: str,
) -> str:
    """The events stream's consumer Lambda: reads the stream (its event source mapping,
    which also sends the metadata of batches it gives up on to the dead-letter queue),
    keeps sessions, QoE sums and trending in the analytics table, records viewing progress
    and history in the viewers table as the progress route does, reads the catalog (its
    snapshot pointer, and the snapshot under ``catalog/`` of the artifacts bucket), and
    sends poison records to the dead-letter queue. Its metrics are EMF log lines."""
    return document(
        logs(log_group_arn),
        allow("ReadStream", STREAM_CONSUME, [stream_arn]),
        allow("Analytics", ANALYTICS_ACCESS, [analytics_table_arn]),
        allow("Progress", TASK_TABLE_ACCESS, [viewers_table_arn]),
        allow("Catalog", CATALOG_READ, [catalog_table_arn]),
        allow(
            "CatalogSnapshots",
            ["s3:GetObject"],
            [f"{artifacts_bucket_arn}/{spec.CATALOG_ARTIFACTS_PREFIX}*"],
        ),
        allow("DeadLetters", ["sqs:GetQueueUrl", "sqs:SendMessage"], [dead_letter_arn]),
        tracing(),
    )


LAKE_WRITE = ("s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject")


def lake_delivery_policy(
    *,
    stream_arn: str,
    bucket_arn: str,
    glue_catalog_arn: str,
    glue_database_arn: str,
    glue_table_arn: str,
    log_stream_arn: str,
) -> str:
    """The Firehose delivery stream's role: reads the events stream, looks up the Glue
    table's schema to convert records to Parquet, writes under ``events/`` (and the records
    it could not convert under ``errors/``) of the lake bucket and logs delivery errors."""
    return document(
        allow(
            "ReadStream",
            [
                "kinesis:DescribeStream",
                "kinesis:GetRecords",
                "kinesis:GetShardIterator",
                "kinesis:ListShards",
            ],
            [stream_arn],
        ),
        allow(
            "LakeBucket",
            ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
            [bucket_arn],
        ),
        allow(
            "LakeObjects",
            LAKE_WRITE,
            [
                f"{bucket_arn}/{spec.LAKE_EVENTS_PREFIX}*",
                f"{bucket_arn}/{spec.LAKE_ERRORS_PREFIX}*",
            ],
        ),
        allow(
            "Schema",
            ["glue:GetTable", "glue:GetTableVersion", "glue:GetTableVersions"],
            [glue_catalog_arn, glue_database_arn, glue_table_arn],
        ),
        allow("DeliveryLogs", ["logs:PutLogEvents"], [log_stream_arn]),
    )


# --- recommendations ---------------------------------------------------------------------------
VIEWERS_TRAINING = ("dynamodb:BatchWriteItem", "dynamodb:PutItem", "dynamodb:Scan")
"""Training reads every profile's progress, ratings and My List items (a scan: it is a batch
job, off every request path) and writes one candidates item per profile."""
MODEL_POINTER = ("dynamodb:GetItem", "dynamodb:PutItem")


def leading_key(key: Mapping[str, str]) -> Mapping[str, Mapping[str, Any]]:
    """A condition limiting item access to the partition of ``key`` (an item key of the
    spec, such as ``spec.CATALOG_POINTER_KEY``)."""
    return {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [key[spec.PK.name]]}}


def recommender_task_policy(
    *,
    lake_bucket_arn: str,
    artifacts_bucket_arn: str,
    catalog_table_arn: str,
    viewers_table_arn: str,
    analytics_table_arn: str,
) -> str:
    """The training task (``flixstack train-recs``): lists and reads the events under
    ``events/`` of the lake, reads the catalog snapshot (its pointer item, then the files
    under ``catalog/`` of the artifacts bucket), reads the viewers table and writes each
    profile's candidates item there, writes the model under ``recommend/`` (and reads it
    back), and reads and conditionally writes the model pointer item in the analytics table.

    The pointer items are the only ones it reaches in the catalog and analytics tables
    (``dynamodb:LeadingKeys``). The buckets are SSE-S3 and the tables use AWS-owned keys, so
    no KMS grant is needed; its logs go through the task's log driver (the execution role)."""
    return document(
        allow(
            "ListLakeEvents",
            ["s3:ListBucket"],
            [lake_bucket_arn],
            {"StringLike": {"s3:prefix": [f"{spec.LAKE_EVENTS_PREFIX}*"]}},
        ),
        allow(
            "ReadLakeEvents", ["s3:GetObject"], [f"{lake_bucket_arn}/{spec.LAKE_EVENTS_PREFIX}*"]
        ),
        allow(
            "CatalogSnapshots",
            ["s3:GetObject"],
            [f"{artifacts_bucket_arn}/{spec.CATALOG_ARTIFACTS_PREFIX}*"],
        ),
        allow(
            "Models",
            ["s3:GetObject", "s3:PutObject"],
            [f"{artifacts_bucket_arn}/{spec.RECOMMEND_ARTIFACTS_PREFIX}*"],
        ),
        allow(
            "CatalogPointer",
            ["dynamodb:GetItem"],
            [catalog_table_arn],
            leading_key(spec.CATALOG_POINTER_KEY),
        ),
        allow("Viewers", VIEWERS_TRAINING, [viewers_table_arn]),
        allow(
            "ModelPointer",
            MODEL_POINTER,
            [analytics_table_arn],
            leading_key(spec.RECOMMEND_POINTER_KEY),
        ),
    )


def recommend_schedule_policy(
    *,
    cluster_arn: str,
    task_definition_arn: str,
    task_role_arns: Sequence[str],
    dead_letter_arn: str,
) -> str:
    """The training schedule's role (EventBridge Scheduler's execution role): starts the
    training task on the cluster, and sends the runs it could not start to its dead-letter
    queue (Scheduler sends them with this role)."""
    return document(
        *runs_task(
            cluster_arn=cluster_arn,
            task_definition_arn=task_definition_arn,
            task_role_arns=task_role_arns,
        ),
        allow("DeadLetters", ["sqs:SendMessage"], [dead_letter_arn]),
    )


# --- alarms ----------------------------------------------------------------------------------
CLOUDWATCH = "cloudwatch.amazonaws.com"


def alarm_key_policy(account_id: str) -> str:
    """The alarm topic's KMS key: the account administers and uses it through IAM, and
    CloudWatch alarms of this account may encrypt to the topic (the AWS managed SNS key
    does not let them, so alarms on a topic encrypted with it never notify)."""
    return document(
        account_uses_key(account_id),
        {
            "Sid": "CloudWatchAlarmsEncrypt",
            "Effect": "Allow",
            "Principal": {"Service": CLOUDWATCH},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
        },
    )


def alarm_topic_policy(topic_arn: str, account_id: str, region: str) -> str:
    """The alarm topic: TLS only, and CloudWatch publishes to it for this account's alarms
    in the topic's region only. The account's own principals need no statement: within an
    account, their IAM policies suffice."""
    return document(
        deny_without_tls("sns", topic_arn),
        {
            "Sid": "CloudWatchAlarmsPublish",
            "Effect": "Allow",
            "Principal": {"Service": CLOUDWATCH},
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {
                "ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:{region}:{account_id}:alarm:*"},
                "StringEquals": {"aws:SourceAccount": account_id},
            },
        },
    )

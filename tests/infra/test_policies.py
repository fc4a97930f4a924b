"""The pure policy-document functions, without Pulumi."""

from __future__ import annotations

import json

import pytest

from infra import policies
from infra.policy import rules
from infra.policy.rules import Resource

KEYS_TABLE = "arn:aws:dynamodb:us-east-1:1:table/flixstack-dev-keys"
SIGNING_SECRET = "arn:aws:secretsmanager:us-east-1:1:secret:flixstack-dev/cdn-signing-AbCdEf"
QUEUE = "arn:aws:sqs:us-east-1:1:flixstack-dev-transcode"
DLQ = "arn:aws:sqs:us-east-1:1:flixstack-dev-transcode-dlq"
INGEST = "arn:aws:s3:::flixstack-dev-ingest-1"
MEDIA = "arn:aws:s3:::flixstack-dev-media-1"
ARTIFACTS = "arn:aws:s3:::flixstack-dev-artifacts-1"
TASK_DEFINITION = "arn:aws:ecs:us-east-1:1:task-definition/flixstack-dev-transcoder:7"
PREWARM_QUEUE = "arn:aws:sqs:us-east-1:1:flixstack-dev-prewarm"


def _api_policy() -> dict[str, object]:
    return json.loads(
        policies.api_function_policy(
            table_arns=["arn:aws:dynamodb:us-east-1:1:table/flixstack-dev-catalog"],
            content_keys_table_arn=KEYS_TABLE,
            bucket_arns=["arn:aws:s3:::flixstack-dev-media-1"],
            queue_arns=[QUEUE, PREWARM_QUEUE],
            stream_arns=["arn:aws:kinesis:us-east-1:1:stream/flixstack-dev-events"],
            user_pool_arns=["arn:aws:cognito-idp:us-east-1:1:userpool/p"],
            kms_key_arns=["arn:aws:kms:us-east-1:1:key/k"],
            secret_arns=[SIGNING_SECRET],
            prewarm_queue_arn=PREWARM_QUEUE,
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


def test_api_policy_reads_content_keys_and_the_signing_secret_only() -> None:
    statements = {s["Sid"]: s for s in _api_policy()["Statement"]}  # type: ignore[attr-defined]
    # the keys table is apart: GetItem (and /health's DescribeTable), never a write
    assert statements["ContentKeys"]["Resource"] == [KEYS_TABLE]
    assert statements["ContentKeys"]["Action"] == ["dynamodb:DescribeTable", "dynamodb:GetItem"]
    assert not [
        s
        for s in statements.values()
        if KEYS_TABLE in s["Resource"] and s is not statements["ContentKeys"]
    ]
    assert statements["Secrets"]["Resource"] == [SIGNING_SECRET]
    assert "secretsmanager:GetSecretValue" in statements["Secrets"]["Action"]
    assert "secretsmanager:PutSecretValue" not in statements["Secrets"]["Action"]
    assert "kms:Decrypt" in statements["Keys"]["Action"]


def test_api_policy_describes_every_queue_and_sends_to_the_prewarm_queue_only() -> None:
    statements = {s["Sid"]: s for s in _api_policy()["Statement"]}  # type: ignore[attr-defined]
    # /health looks every queue up; nothing else of the API touches them...
    assert statements["Queues"]["Action"] == ["sqs:GetQueueAttributes", "sqs:GetQueueUrl"]
    assert statements["Queues"]["Resource"] == [PREWARM_QUEUE, QUEUE]
    # ...but publishing a title enqueues it for CDN pre-warming
    assert statements["PrewarmRequests"]["Action"] == ["sqs:GetQueueUrl", "sqs:SendMessage"]
    assert statements["PrewarmRequests"]["Resource"] == [PREWARM_QUEUE]
    sends = [s["Sid"] for s in statements.values() if "sqs:SendMessage" in s["Action"]]
    assert sends == ["PrewarmRequests"]


def test_prewarm_function_consumes_its_queue_and_reads_the_signing_key_only() -> None:
    logs = "arn:aws:logs:us-east-1:1:log-group:/aws/lambda/flixstack-dev-prewarm"
    document = policies.prewarm_function_policy(
        queue_arn=PREWARM_QUEUE, signing_secret_arn=SIGNING_SECRET, log_group_arn=logs
    )
    statements = _sids(document)
    assert statements == {
        "Logs": {
            "Sid": "Logs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [f"{logs}:*"],
        },
        "ConsumeQueue": {
            "Sid": "ConsumeQueue",
            "Effect": "Allow",
            "Action": [
                "sqs:ChangeMessageVisibility",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
                "sqs:ReceiveMessage",
            ],
            "Resource": [PREWARM_QUEUE],
        },
        "SigningKey": {
            "Sid": "SigningKey",
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue"],
            "Resource": [SIGNING_SECRET],
        },
        "Tracing": policies.tracing(),
    }
    assert _passes_iam_rule(document)


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


def _sids(document: str) -> dict[str, dict[str, object]]:
    return {s["Sid"]: s for s in json.loads(document)["Statement"]}


def _passes_iam_rule(document: str) -> bool:
    return (
        rules.iam_no_wildcards(
            [Resource("aws:iam/rolePolicy:RolePolicy", "p", {"policy": document})]
        )
        == []
    )


def test_queue_policy_is_tls_only_without_notifying_buckets() -> None:
    assert list(_sids(policies.queue_policy(QUEUE, [], "1"))) == ["DenyInsecureTransport"]


def test_queue_policy_admits_s3_for_the_named_buckets_of_this_account() -> None:
    s3 = _sids(policies.queue_policy(QUEUE, [INGEST], "123456789012"))["S3EventNotifications"]
    assert s3["Condition"] == {
        "ArnEquals": {"aws:SourceArn": [INGEST]},
        "StringEquals": {"aws:SourceAccount": "123456789012"},
    }


def test_task_policy_is_scoped_to_the_spec_prefixes() -> None:
    document = policies.transcoder_task_policy(
        ingest_bucket_arn=INGEST,
        media_bucket_arn=MEDIA,
        artifacts_bucket_arn=ARTIFACTS,
        table_arns=["arn:aws:dynamodb:us-east-1:1:table/flixstack-dev-jobs"],
        content_keys_table_arn=KEYS_TABLE,
        queue_arn=QUEUE,
        dead_letter_arn=DLQ,
        media_key_arn="arn:aws:kms:us-east-1:1:key/k",
        prewarm_queue_arn=PREWARM_QUEUE,
    )
    statements = _sids(document)
    assert statements["ReadUploads"]["Resource"] == [f"{INGEST}/masters/*", f"{INGEST}/sidecars/*"]
    assert statements["WriteTitles"]["Resource"] == [f"{MEDIA}/titles/*"]
    assert statements["CatalogSnapshots"]["Resource"] == [f"{ARTIFACTS}/catalog/*"]
    assert statements["Tables"]["Resource"] == [
        "arn:aws:dynamodb:us-east-1:1:table/flixstack-dev-jobs",
        "arn:aws:dynamodb:us-east-1:1:table/flixstack-dev-jobs/index/*",
    ]
    # content keys: stored with a conditional put, read back by a retried job
    assert statements["ContentKeys"] == {
        "Sid": "ContentKeys",
        "Effect": "Allow",
        "Action": ["dynamodb:GetItem", "dynamodb:PutItem"],
        "Resource": [KEYS_TABLE],
    }
    assert statements["MediaKey"]["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    # a job that publishes a title enqueues it for CDN pre-warming
    assert statements["PrewarmRequests"] == {
        "Sid": "PrewarmRequests",
        "Effect": "Allow",
        "Action": ["sqs:GetQueueUrl", "sqs:SendMessage"],
        "Resource": [PREWARM_QUEUE],
    }
    assert _passes_iam_rule(document)


def test_dispatch_policy_runs_any_revision_of_the_family_on_one_cluster() -> None:
    document = policies.transcode_dispatch_policy(
        queue_arn=QUEUE,
        cluster_arn="arn:aws:ecs:us-east-1:1:cluster/c",
        task_definition_arn=TASK_DEFINITION,
        task_role_arns=["arn:aws:iam::1:role/task", "arn:aws:iam::1:role/execution"],
        log_group_arn="arn:aws:logs:us-east-1:1:log-group:/aws/lambda/d",
    )
    run = _sids(document)["RunTask"]
    assert run["Resource"] == ["arn:aws:ecs:us-east-1:1:task-definition/flixstack-dev-transcoder:*"]
    assert run["Condition"] == {"ArnEquals": {"ecs:cluster": "arn:aws:ecs:us-east-1:1:cluster/c"}}
    assert _passes_iam_rule(document)


def test_execution_and_retry_policies_pass_the_iam_rule() -> None:
    assert _passes_iam_rule(
        policies.task_execution_policy(
            repository_arn="arn:aws:ecr:us-east-1:1:repository/r", log_group_arn="arn:lg"
        )
    )
    assert _passes_iam_rule(
        policies.transcode_retry_policy(
            queue_arns=[QUEUE, DLQ],
            jobs_table_arn="arn:aws:dynamodb:us-east-1:1:table/flixstack-dev-jobs",
            log_group_arn="arn:lg",
        )
    )


def test_ecr_lifecycle_expires_untagged_first_and_keeps_the_newest() -> None:
    rules_ = json.loads(policies.ecr_lifecycle_policy(keep_images=30, untagged_days=7))["rules"]
    by_status = {r["selection"]["tagStatus"]: r for r in rules_}
    assert by_status["untagged"]["selection"]["countNumber"] == 7
    assert by_status["any"]["selection"] == {
        "tagStatus": "any",
        "countType": "imageCountMoreThan",
        "countNumber": 30,
    }
    # ECR requires the rule for "any" to have the highest priority number.
    assert by_status["any"]["rulePriority"] == max(r["rulePriority"] for r in rules_)


# --- media delivery and replication -----------------------------------------------------------
DISTRIBUTIONS = [
    "arn:aws:cloudfront::1:distribution/EB",
    "arn:aws:cloudfront::1:distribution/EA",
]
REPLICA = "arn:aws:s3:::flixstack-dev-media-us-west-2-1"
MEDIA_KEY = "arn:aws:kms:us-east-1:1:key/k"
REPLICA_KEY = "arn:aws:kms:us-west-2:1:key/r"


def test_media_bucket_policy_is_tls_only_and_read_by_exactly_the_distributions() -> None:
    statements = _sids(policies.media_bucket_policy(MEDIA, DISTRIBUTIONS))
    assert statements["DenyInsecureTransport"]["Effect"] == "Deny"
    reads = statements["CloudFrontReadsTitles"]
    assert reads["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert reads["Action"] == "s3:GetObject"
    assert reads["Resource"] == f"{MEDIA}/titles/*"
    assert reads["Condition"] == {"StringEquals": {"aws:SourceArn": sorted(DISTRIBUTIONS)}}
    bucket_policy = Resource(
        rules.BUCKET_POLICY, "p", {"policy": json.dumps({"Statement": list(statements.values())})}
    )
    assert rules.service_principals_scoped([bucket_policy]) == []


def test_media_key_policy_keeps_iam_in_charge_and_lets_the_distributions_decrypt() -> None:
    statements = _sids(policies.media_key_policy("123456789012", DISTRIBUTIONS))
    assert statements["AccountUsesIam"]["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    decrypt = statements["CloudFrontDecryptsMedia"]
    assert decrypt["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert decrypt["Action"] == "kms:Decrypt"
    assert decrypt["Condition"] == {"StringEquals": {"aws:SourceArn": sorted(DISTRIBUTIONS)}}


def test_replication_role_reads_titles_and_re_encrypts_them_for_the_replica_only() -> None:
    document = policies.replication_policy(
        source_bucket_arn=MEDIA,
        source_key_arn=MEDIA_KEY,
        source_region="us-east-1",
        replica_bucket_arn=REPLICA,
        replica_key_arn=REPLICA_KEY,
        replica_region="us-west-2",
    )
    statements = _sids(document)
    assert statements["SourceBucket"]["Resource"] == [MEDIA]
    assert statements["SourceObjects"]["Resource"] == [f"{MEDIA}/titles/*"]
    assert statements["SourceObjects"]["Action"] == [
        "s3:GetObjectVersionAcl",
        "s3:GetObjectVersionForReplication",
        "s3:GetObjectVersionTagging",
    ]
    assert statements["ReplicaObjects"]["Resource"] == [f"{REPLICA}/titles/*"]
    assert statements["ReplicaObjects"]["Action"] == [
        "s3:ReplicateDelete",
        "s3:ReplicateObject",
        "s3:ReplicateTags",
    ]
    assert statements["DecryptSource"] == {
        "Sid": "DecryptSource",
        "Effect": "Allow",
        "Action": ["kms:Decrypt"],
        "Resource": [MEDIA_KEY],
        "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}},
    }
    assert statements["EncryptReplica"]["Resource"] == [REPLICA_KEY]
    assert statements["EncryptReplica"]["Condition"] == {
        "StringEquals": {"kms:ViaService": "s3.us-west-2.amazonaws.com"}
    }
    assert _passes_iam_rule(document)


# --- events: the consumer and the lake ----------------------------------------------------------
STREAM = "arn:aws:kinesis:us-east-1:1:stream/flixstack-dev-events"
EVENTS_DLQ = "arn:aws:sqs:us-east-1:1:flixstack-dev-events-dlq"
LAKE = "arn:aws:s3:::flixstack-dev-lake-1"


def _statements(document: str) -> dict[str, dict[str, object]]:
    return {s["Sid"]: s for s in json.loads(document)["Statement"]}


def _consumer_policy() -> str:
    return policies.events_consumer_policy(
        stream_arn=STREAM,
        analytics_table_arn="arn:aws:dynamodb:us-east-1:1:table/flixstack-dev-analytics",
        viewers_table_arn="arn:aws:dynamodb:us-east-1:1:table/flixstack-dev-viewers",
        catalog_table_arn="arn:aws:dynamodb:us-east-1:1:table/flixstack-dev-catalog",
        artifacts_bucket_arn=ARTIFACTS,
        dead_letter_arn=EVENTS_DLQ,
        log_group_arn="arn:aws:logs:us-east-1:1:log-group:/aws/lambda/flixstack-dev-events",
    )


def test_the_consumer_writes_only_analytics_and_viewers_and_reads_the_catalog() -> None:
    found = _statements(_consumer_policy())
    writes = {"dynamodb:PutItem", "dynamodb:UpdateItem"}
    writers = {sid for sid, s in found.items() if writes & set(s["Action"])}  # type: ignore[arg-type]
    assert writers == {"Analytics", "Progress"}
    assert found["Catalog"]["Resource"] == [
        "arn:aws:dynamodb:us-east-1:1:table/flixstack-dev-catalog"
    ]
    assert found["CatalogSnapshots"]["Resource"] == [f"{ARTIFACTS}/catalog/*"]
    assert found["DeadLetters"]["Resource"] == [EVENTS_DLQ]
    # reading the stream is what the event source needs, and nothing that changes it
    assert not [a for a in found["ReadStream"]["Action"] if "Put" in a]  # type: ignore[attr-defined]
    resource = Resource("aws:iam/rolePolicy:RolePolicy", "c", {"policy": _consumer_policy()})
    assert rules.iam_no_wildcards([resource]) == []


def test_the_delivery_role_writes_the_lake_s_events_and_errors_only() -> None:
    document = policies.lake_delivery_policy(
        stream_arn=STREAM,
        bucket_arn=LAKE,
        glue_catalog_arn="arn:aws:glue:us-east-1:1:catalog",
        glue_database_arn="arn:aws:glue:us-east-1:1:database/flixstack_dev_events",
        glue_table_arn="arn:aws:glue:us-east-1:1:table/flixstack_dev_events/player_events",
        log_stream_arn="arn:aws:logs:us-east-1:1:log-group:/aws/kinesisfirehose/x:log-stream:D",
    )
    found = _statements(document)
    assert found["LakeObjects"]["Resource"] == [f"{LAKE}/errors/*", f"{LAKE}/events/*"]
    assert found["LakeObjects"]["Action"] == [
        "s3:AbortMultipartUpload",
        "s3:GetObject",
        "s3:PutObject",
    ]
    assert found["ReadStream"]["Resource"] == [STREAM]
    resource = Resource("aws:iam/rolePolicy:RolePolicy", "d", {"policy": document})
    assert rules.iam_no_wildcards([resource]) == []


def test_only_firehose_for_this_account_assumes_the_delivery_role() -> None:
    (statement,) = json.loads(policies.assume_role_policy("firehose.amazonaws.com", "1"))[
        "Statement"
    ]
    assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": "1"}}
    (plain,) = json.loads(policies.assume_role_policy("lambda.amazonaws.com"))["Statement"]
    assert "Condition" not in plain


# --- alarms -----------------------------------------------------------------------------------
def test_the_alarm_topic_takes_only_this_account_s_alarms_over_tls() -> None:
    topic = "arn:aws:sns:eu-west-1:1:flixstack-dev-alarms"
    document = policies.alarm_topic_policy(topic, "1", "eu-west-1")
    found = _statements(document)
    assert found["CloudWatchAlarmsPublish"]["Condition"] == {
        "ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:eu-west-1:1:alarm:*"},
        "StringEquals": {"aws:SourceAccount": "1"},
    }
    assert found["DenyInsecureTransport"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    resource = Resource(rules.TOPIC_POLICY, "t", {"policy": document})
    assert rules.service_principals_scoped([resource]) == []


def test_cloudwatch_may_use_the_alarm_key_for_this_account_only() -> None:
    found = _statements(policies.alarm_key_policy("1"))
    assert found["CloudWatchAlarmsEncrypt"]["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "1"}
    }
    assert found["AccountUsesIam"]["Principal"] == {"AWS": "arn:aws:iam::1:root"}


def test_copies_replication_role_reads_the_whole_source_and_writes_the_copies_only() -> None:
    copies = ["arn:aws:s3:::flixstack-dev-artifacts-us-west-2-1", "arn:aws:s3:::a-eu-west-1"]
    statements = _sids(
        policies.copies_replication_policy(source_bucket_arn=ARTIFACTS, copy_bucket_arns=copies)
    )
    assert set(statements) == {"SourceBucket", "SourceObjects", "ReplicaObjects"}
    assert statements["SourceBucket"]["Resource"] == [ARTIFACTS]
    assert statements["SourceObjects"]["Resource"] == [f"{ARTIFACTS}/*"]
    assert statements["SourceObjects"]["Action"] == list(policies.REPLICATION_READ)
    assert statements["ReplicaObjects"]["Resource"] == sorted(f"{c}/*" for c in copies)
    assert statements["ReplicaObjects"]["Action"] == list(policies.REPLICATION_WRITE)
    resource = Resource(
        "aws:iam/rolePolicy:RolePolicy",
        "copies",
        {
            "policy": policies.copies_replication_policy(
                source_bucket_arn=ARTIFACTS, copy_bucket_arns=copies
            )
        },
    )
    assert rules.iam_no_wildcards([resource]) == []


def test_a_replica_s_arn_is_its_resource_s_in_the_replica_s_region() -> None:
    assert policies.arn_in_region(SIGNING_SECRET, "eu-west-1") == (
        "arn:aws:secretsmanager:eu-west-1:1:secret:flixstack-dev/cdn-signing-AbCdEf"
    )
    assert policies.arn_in_region(KEYS_TABLE, "us-west-2") == (
        "arn:aws:dynamodb:us-west-2:1:table/flixstack-dev-keys"
    )
    with pytest.raises(ValueError, match="regional resource"):
        policies.arn_in_region(ARTIFACTS, "us-west-2")  # S3 ARNs name no region


def test_api_policy_reads_the_copies_of_its_region_and_writes_none() -> None:
    copy = "arn:aws:s3:::flixstack-dev-artifacts-us-west-2-1"
    document = policies.api_function_policy(
        table_arns=["arn:aws:dynamodb:us-west-2:1:table/flixstack-dev-catalog"],
        content_keys_table_arn=KEYS_TABLE,
        bucket_arns=[ARTIFACTS],
        bucket_copy_arns=[copy],
        queue_arns=[PREWARM_QUEUE],
        stream_arns=["arn:aws:kinesis:us-east-1:1:stream/flixstack-dev-events"],
        user_pool_arns=["arn:aws:cognito-idp:us-east-1:1:userpool/p"],
        kms_key_arns=["arn:aws:kms:us-west-2:1:key/mrk-1"],
        secret_arns=[SIGNING_SECRET],
        prewarm_queue_arn=PREWARM_QUEUE,
        log_group_arn="arn:aws:logs:us-west-2:1:log-group:/aws/lambda/flixstack-dev-api",
    )
    statements = _sids(document)
    assert statements["BucketCopies"]["Action"] == ["s3:ListBucket"]
    assert statements["BucketCopies"]["Resource"] == [copy]
    assert statements["BucketCopyObjects"]["Action"] == ["s3:GetObject"]
    assert statements["BucketCopyObjects"]["Resource"] == [f"{copy}/*"]
    # writes go to the home bucket only: S3 replicates them into the copy
    writes = [s for s in statements.values() if "s3:PutObject" in s["Action"]]
    assert [w["Resource"] for w in writes] == [[f"{ARTIFACTS}/*"]]
    # without copies (the primary's API), no statement names any
    assert "BucketCopies" not in {s["Sid"] for s in _api_policy()["Statement"]}  # type: ignore[attr-defined]

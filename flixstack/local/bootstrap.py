"""Creates every resource in :mod:`flixstack.spec` at an emulator endpoint. Idempotent.

On AWS the Pulumi program creates the same resources; this is the laptop's equivalent,
and it reads the same spec so the two cannot drift.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import ClientError

from flixstack import spec
from flixstack.aws.clients import AwsClients
from flixstack.aws.inventory import find_user_pool_id
from flixstack.playback import signing

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import (
        AttributeDefinitionTypeDef,
        CreateTableInputTypeDef,
        GlobalSecondaryIndexTypeDef,
        KeySchemaElementTypeDef,
    )
    from mypy_boto3_s3.type_defs import CORSRuleTypeDef

Outcome = Literal["created", "exists"]


@dataclass(frozen=True)
class Step:
    kind: str
    name: str
    outcome: Outcome


Report = Callable[[Step], None]

SECRET_VALUES: dict[str, Callable[[], str]] = {
    spec.CDN_SIGNING.logical: signing.new_secret_value,
}
"""How the bootstrap makes each secret's first value (locally; on AWS infra provides it)."""


def _code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


def _found(describe: Callable[[], object], missing: str) -> bool:
    """Whether ``describe()`` finds its resource (False on the error code ``missing``)."""
    try:
        describe()
    except ClientError as exc:
        if _code(exc) != missing:
            raise
        return False
    return True


def _key_schema(partition: spec.Attr, sort: spec.Attr | None) -> list[KeySchemaElementTypeDef]:
    schema: list[KeySchemaElementTypeDef] = [{"AttributeName": partition.name, "KeyType": "HASH"}]
    if sort is not None:
        schema.append({"AttributeName": sort.name, "KeyType": "RANGE"})
    return schema


# The same day counts as a stack's defaults (infra/config.py).
LOCAL_LIFECYCLE = {"masters_glacier_days": 30, "noncurrent_days": 30, "log_days": 30}
LOCAL_UPLOAD_ORIGINS = ("*",)
"""Pages that may upload to the ingest bucket locally: any, since the app's origin is the API's,
on whatever port ``up`` was given (and Vite's dev server has another); the presigned URL is
the credential. Stacks on AWS name the web app's origins (infra/components/storage.py)."""


def cors_rule(rule: spec.CorsRule, origins: Sequence[str]) -> CORSRuleTypeDef:
    """A spec CORS rule in S3's API shape."""
    return {
        "AllowedOrigins": list(origins),
        "AllowedMethods": list(rule.methods),
        "AllowedHeaders": list(rule.headers),
        "ExposeHeaders": list(rule.expose),
        "MaxAgeSeconds": rule.max_age_s,
    }


def lifecycle_rule(rule: spec.LifecycleRule) -> dict[str, Any]:
    """A spec lifecycle rule in S3's API shape."""
    if rule.tag is None:
        rule_filter: dict[str, Any] = {"Prefix": rule.prefix}
    else:
        tag = {"Key": rule.tag[0], "Value": rule.tag[1]}
        rule_filter = {"And": {"Prefix": rule.prefix, "Tags": [tag]}}
    shaped: dict[str, Any] = {"ID": rule.id, "Status": "Enabled", "Filter": rule_filter}
    if rule.transitions:
        shaped["Transitions"] = [
            {"Days": days, "StorageClass": kind} for days, kind in rule.transitions
        ]
    if rule.expiration_days:
        shaped["Expiration"] = {"Days": rule.expiration_days}
    if rule.abort_multipart_days:
        shaped["AbortIncompleteMultipartUpload"] = {
            "DaysAfterInitiation": rule.abort_multipart_days
        }
    if rule.noncurrent_expiration_days:
        shaped["NoncurrentVersionExpiration"] = {"NoncurrentDays": rule.noncurrent_expiration_days}
    return shaped


class Bootstrap:
    """Ensures tables, buckets, queues (with dead-letter queues), streams, KMS keys, secrets
    and user pools."""

    def __init__(
        self, clients: AwsClients, naming: spec.Naming, report: Report | None = None
    ) -> None:
        self.clients = clients
        self.naming = naming
        self._report = report or (lambda step: None)

    @staticmethod
    def total_steps() -> int:
        return spec.resource_count()

    def run(self) -> list[Step]:
        steps: list[Step] = []

        def record(kind: str, name: str, outcome: Outcome) -> None:
            step = Step(kind, name, outcome)
            steps.append(step)
            self._report(step)

        for table in spec.TABLES:
            record("table", self.naming.table(table), self.ensure_table(table))
        for bucket in spec.BUCKETS:
            record("bucket", self.naming.bucket(bucket), self.ensure_bucket(bucket))
        for queue in spec.QUEUES:  # dead-letter queues are declared before their sources
            record("queue", self.naming.queue(queue), self.ensure_queue(queue))
        for notification in spec.NOTIFICATIONS:
            record("notification", notification.logical, self.ensure_notification(notification))
        for stream in spec.STREAMS:
            record("stream", self.naming.stream(stream), self.ensure_stream(stream))
        for key in spec.KEYS:
            record("key", self.naming.key_alias(key), self.ensure_key(key))
        for secret in spec.SECRETS:
            record("secret", self.naming.secret(secret), self.ensure_secret(secret))
        for pool in spec.USER_POOLS:
            record("user_pool", self.naming.user_pool(pool), self.ensure_user_pool(pool))
        return steps

    # --- DynamoDB ------------------------------------------------------------------------
    def ensure_table(self, table: spec.TableSpec) -> Outcome:
        ddb = self.clients.dynamodb
        name = self.naming.table(table)
        attributes: list[AttributeDefinitionTypeDef] = [
            {"AttributeName": a.name, "AttributeType": a.type} for a in table.key_attributes()
        ]
        indexes: list[GlobalSecondaryIndexTypeDef] = [
            {
                "IndexName": index.name,
                "KeySchema": _key_schema(index.partition, index.sort),
                "Projection": {"ProjectionType": "ALL"},
            }
            for index in table.indexes
        ]
        request: CreateTableInputTypeDef = {
            "TableName": name,
            "AttributeDefinitions": attributes,
            "KeySchema": _key_schema(table.partition, table.sort),
            "BillingMode": "PAY_PER_REQUEST",
        }
        if indexes:
            request["GlobalSecondaryIndexes"] = indexes
        if table.stream is not None:
            request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": table.stream}
        outcome: Outcome = "created"
        try:
            ddb.create_table(**request)
        except ClientError as exc:
            if _code(exc) != "ResourceInUseException":
                raise
            outcome = "exists"
        ddb.get_waiter("table_exists").wait(
            TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )
        if table.ttl_attribute is not None:
            ttl = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
            if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
                ddb.update_time_to_live(
                    TableName=name,
                    TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
                )
        return outcome

    # --- S3 ------------------------------------------------------------------------------
    def ensure_bucket(self, bucket: spec.BucketSpec) -> Outcome:
        s3 = self.clients.s3
        name = self.naming.bucket(bucket)
        # us-east-1 answers 200 to re-creating one's own bucket, so ask first.
        outcome: Outcome = "exists"
        if not self._bucket_exists(name):
            outcome = "created"
            try:
                if self.clients.settings.region == "us-east-1":
                    s3.create_bucket(Bucket=name)
                else:
                    region = self.clients.settings.region
                    s3.create_bucket(
                        Bucket=name,
                        CreateBucketConfiguration={"LocationConstraint": region},  # type: ignore[typeddict-item]
                    )
            except ClientError as exc:  # another bootstrap won the race
                if _code(exc) not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise
                outcome = "exists"
        s3.put_public_access_block(
            Bucket=name,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
        s3.put_bucket_lifecycle_configuration(
            Bucket=name,
            LifecycleConfiguration={
                "Rules": [lifecycle_rule(r) for r in spec.lifecycle(bucket, **LOCAL_LIFECYCLE)]  # type: ignore[misc]
            },
        )
        s3.put_bucket_encryption(
            Bucket=name,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
        )
        if bucket is spec.INGEST:  # the admin web app uploads straight to it
            s3.put_bucket_cors(
                Bucket=name,
                CORSConfiguration={
                    "CORSRules": [cors_rule(spec.BROWSER_UPLOADS, LOCAL_UPLOAD_ORIGINS)]
                },
            )
        return outcome

    def _bucket_exists(self, name: str) -> bool:
        try:
            self.clients.s3.head_bucket(Bucket=name)
        except ClientError as exc:
            if _code(exc) in ("404", "NoSuchBucket", "NotFound"):
                return False
            raise
        return True

    # --- SQS -----------------------------------------------------------------------------
    def ensure_queue(self, queue: spec.QueueSpec) -> Outcome:
        sqs = self.clients.sqs
        name = self.naming.queue(queue)
        attributes = {
            "VisibilityTimeout": str(queue.visibility_timeout_s),
            "MessageRetentionPeriod": str(queue.retention_s),
        }
        if queue.dead_letter is not None:
            dlq_url = sqs.get_queue_url(QueueName=self.naming.queue(queue.dead_letter))["QueueUrl"]
            dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
                "Attributes"
            ]["QueueArn"]
            attributes["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(queue.max_receive_count)}
            )
        try:
            url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        except ClientError as exc:
            if _code(exc) not in ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"):
                raise
            sqs.create_queue(QueueName=name, Attributes=attributes)  # type: ignore[arg-type]
            return "created"
        sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)  # type: ignore[arg-type]
        return "exists"

    def ensure_notification(self, notification: spec.NotificationSpec) -> Outcome:
        """Routes the bucket's ObjectCreated events under the prefix to the queue."""
        s3 = self.clients.s3
        sqs = self.clients.sqs
        bucket = self.naming.bucket(notification.bucket)
        queue_url = sqs.get_queue_url(QueueName=self.naming.queue(notification.queue))["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        existing = s3.get_bucket_notification_configuration(Bucket=bucket).get(
            "QueueConfigurations", []
        )
        others = [c for c in existing if c.get("Id") != notification.logical]
        outcome: Outcome = "exists" if len(others) < len(existing) else "created"
        others.append(
            {
                "Id": notification.logical,
                "QueueArn": queue_arn,
                "Events": ["s3:ObjectCreated:*"],
                "Filter": {
                    "Key": {"FilterRules": [{"Name": "prefix", "Value": notification.prefix}]}
                },
            }
        )
        s3.put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration={"QueueConfigurations": others}
        )
        return outcome

    # --- Kinesis -------------------------------------------------------------------------
    def ensure_stream(self, stream: spec.StreamSpec) -> Outcome:
        kinesis = self.clients.kinesis
        name = self.naming.stream(stream)
        outcome: Outcome = "created"
        try:
            kinesis.create_stream(StreamName=name, ShardCount=stream.shards)
        except ClientError as exc:
            if _code(exc) != "ResourceInUseException":
                raise
            outcome = "exists"
        kinesis.get_waiter("stream_exists").wait(
            StreamName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )
        return outcome

    # --- KMS and Secrets Manager ---------------------------------------------------------
    def ensure_key(self, key: spec.KeySpec) -> Outcome:
        """A symmetric KMS key (yearly rotation) behind the spec's alias."""
        kms = self.clients.kms
        alias = self.naming.key_alias(key)
        if _found(lambda: kms.describe_key(KeyId=alias), "NotFoundException"):
            return "exists"
        key_id = kms.create_key(
            Description=f"{self.naming.prefix} {key.logical}: {key.purpose}",
            KeySpec="SYMMETRIC_DEFAULT",
            KeyUsage="ENCRYPT_DECRYPT",
        )["KeyMetadata"]["KeyId"]
        try:
            kms.create_alias(AliasName=alias, TargetKeyId=key_id)
        except ClientError as exc:  # another bootstrap won the race: drop our key
            if _code(exc) != "AlreadyExistsException":
                raise
            kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
            return "exists"
        kms.enable_key_rotation(KeyId=key_id)
        return "created"

    def ensure_secret(self, secret: spec.SecretSpec) -> Outcome:
        """Creates the secret with a freshly made value if absent; never overwrites one."""
        secrets = self.clients.secretsmanager
        name = self.naming.secret(secret)
        if _found(lambda: secrets.describe_secret(SecretId=name), "ResourceNotFoundException"):
            return "exists"
        try:
            secrets.create_secret(
                Name=name, Description=secret.purpose, SecretString=SECRET_VALUES[secret.logical]()
            )
        except ClientError as exc:
            if _code(exc) != "ResourceExistsException":
                raise
            return "exists"
        return "created"

    # --- Cognito -------------------------------------------------------------------------
    def ensure_user_pool(self, pool: spec.UserPoolSpec) -> Outcome:
        cognito = self.clients.cognito
        name = self.naming.user_pool(pool)
        pool_id = find_user_pool_id(self.clients, name)
        outcome: Outcome = "exists"
        if pool_id is None:
            pool_id = cognito.create_user_pool(
                PoolName=name,
                UsernameAttributes=["email"],
                AutoVerifiedAttributes=["email"],
                MfaConfiguration="OPTIONAL",
                Policies={
                    "PasswordPolicy": {
                        "MinimumLength": 12,
                        "RequireUppercase": True,
                        "RequireLowercase": True,
                        "RequireNumbers": True,
                        "RequireSymbols": False,
                    }
                },
            )["UserPool"]["Id"]
            outcome = "created"
        clients = cognito.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)[
            "UserPoolClients"
        ]
        existing = {c.get("ClientName") for c in clients}
        for client in pool.clients:
            if client not in existing:
                # no hosted UI here: the web client signs in with passwords too
                cognito.create_user_pool_client(
                    UserPoolId=pool_id,
                    ClientName=client,
                    GenerateSecret=False,
                    ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
                )
        groups = {g.get("GroupName") for g in cognito.list_groups(UserPoolId=pool_id)["Groups"]}
        for group in pool.groups:
            if group not in groups:
                cognito.create_group(UserPoolId=pool_id, GroupName=group)
        return outcome

"""Checks that every resource declared in :mod:`flixstack.spec` exists at the endpoint in use."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Literal

from botocore.exceptions import BotoCoreError, ClientError

from flixstack import spec
from flixstack.aws.clients import AwsClients

Kind = Literal["table", "bucket", "queue", "notification", "stream", "key", "secret", "user_pool"]


@dataclass(frozen=True)
class ResourceStatus:
    kind: Kind
    logical: str
    name: str
    present: bool
    detail: str = ""


def find_user_pool_id(clients: AwsClients, name: str) -> str | None:
    """The id of the user pool called ``name``, or None. Cognito names are not unique keys,
    so the first match wins; the bootstrap never creates a second one."""
    paginator = clients.cognito.get_paginator("list_user_pools")
    for page in paginator.paginate(PaginationConfig={"PageSize": 60}):
        for pool in page.get("UserPools", []):
            if pool.get("Name") == name and "Id" in pool:
                return pool["Id"]
    return None


class Inventory:
    """One check per spec resource; checks run concurrently."""

    def __init__(
        self, clients: AwsClients, naming: spec.Naming, user_pool_id: str | None = None
    ) -> None:
        self.clients = clients
        self.naming = naming
        self.user_pool_id = user_pool_id

    def checks(self) -> Iterator[tuple[Kind, str, str, Callable[[], str]]]:
        for table in spec.TABLES:
            name = self.naming.table(table)
            yield "table", table.logical, name, partial(self._table, name, table)
        for bucket in spec.BUCKETS:
            name = self.naming.bucket(bucket)
            yield "bucket", bucket.logical, name, partial(self._bucket, name)
        for queue in spec.QUEUES:
            name = self.naming.queue(queue)
            yield "queue", queue.logical, name, partial(self._queue, name, queue)
        for notification in spec.NOTIFICATIONS:
            name = f"{self.naming.bucket(notification.bucket)} → {self.naming.queue(notification.queue)}"
            yield (
                "notification",
                notification.logical,
                name,
                partial(self._notification, notification),
            )
        for stream in spec.STREAMS:
            name = self.naming.stream(stream)
            yield "stream", stream.logical, name, partial(self._stream, name)
        for key in spec.KEYS:
            name = self.naming.key_alias(key)
            yield "key", key.logical, name, partial(self._key, name)
        for secret in spec.SECRETS:
            name = self.naming.secret(secret)
            yield "secret", secret.logical, name, partial(self._secret, name)
        for pool in spec.USER_POOLS:
            name = self.naming.user_pool(pool)
            yield "user_pool", pool.logical, name, partial(self._user_pool, name)

    def check(self) -> list[ResourceStatus]:
        checks = list(self.checks())
        with ThreadPoolExecutor(max_workers=8) as pool:
            outcomes = list(pool.map(lambda c: _run(c[3]), checks))
        return [
            ResourceStatus(kind, logical, name, present, detail)
            for (kind, logical, name, _), (present, detail) in zip(checks, outcomes, strict=True)
        ]

    # Each check returns a short detail when present, and raises when absent.
    def _table(self, name: str, table: spec.TableSpec) -> str:
        described = self.clients.dynamodb.describe_table(TableName=name)["Table"]
        indexes = {i["IndexName"] for i in described.get("GlobalSecondaryIndexes", [])}
        missing = [i.name for i in table.indexes if i.name not in indexes]
        if missing:
            raise LookupError(f"missing indexes {missing}")
        return str(described.get("TableStatus", ""))

    def _bucket(self, name: str) -> str:
        self.clients.s3.head_bucket(Bucket=name)
        return "exists"

    def _queue(self, name: str, queue: spec.QueueSpec) -> str:
        sqs = self.clients.sqs_for(queue)
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        if queue.dead_letter is not None:
            attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])[
                "Attributes"
            ]
            if "RedrivePolicy" not in attrs:
                raise LookupError("no dead-letter queue configured")
        return url

    def _notification(self, notification: spec.NotificationSpec) -> str:
        bucket = self.naming.bucket(notification.bucket)
        queue = self.naming.queue(notification.queue)
        configs = self.clients.s3.get_bucket_notification_configuration(Bucket=bucket)
        for config in configs.get("QueueConfigurations", []):
            if config["QueueArn"].endswith(f":{queue}"):
                return ",".join(config["Events"])
        raise LookupError(f"no notification from {bucket} to {queue}")

    def _stream(self, name: str) -> str:
        summary = self.clients.kinesis.describe_stream_summary(StreamName=name)
        return str(summary["StreamDescriptionSummary"]["StreamStatus"])

    def _key(self, alias: str) -> str:
        metadata = self.clients.kms.describe_key(KeyId=alias)["KeyMetadata"]
        state = metadata.get("KeyState", "")
        if state != "Enabled":
            raise LookupError(f"key {metadata['KeyId']} is {state}")
        return metadata["KeyId"]

    def _secret(self, name: str) -> str:
        described = self.clients.secretsmanager.describe_secret(SecretId=name)
        if "DeletedDate" in described:
            raise LookupError("scheduled for deletion")
        return "exists"

    def _user_pool(self, name: str) -> str:
        if self.user_pool_id is not None:  # known id: one Describe, no account-wide listing
            pool = self.clients.cognito.describe_user_pool(UserPoolId=self.user_pool_id)
            if pool["UserPool"].get("Name") != name:
                raise LookupError(f"user pool {self.user_pool_id} is not named {name}")
            return self.user_pool_id
        pool_id = find_user_pool_id(self.clients, name)
        if pool_id is None:
            raise LookupError("no user pool with that name")
        return pool_id


def _run(check: Callable[[], str]) -> tuple[bool, str]:
    try:
        return True, check()
    except ClientError as exc:
        return False, exc.response.get("Error", {}).get("Code", "ClientError")
    except (BotoCoreError, LookupError) as exc:
        return False, str(exc)

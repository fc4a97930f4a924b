"""Small DynamoDB helpers shared by the repositories: (de)serialisation, cursors, errors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from flixstack import cursors, spec
from flixstack.errors import Conflict, FlixstackError, InvalidInput, NotFound, ServiceUnavailable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

Item = dict[str, Any]

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_attributes(item: Mapping[str, Any]) -> dict[str, AttributeValueTypeDef]:
    return {k: _serializer.serialize(_to_dynamo(v)) for k, v in item.items() if v is not None}


def from_attributes(attributes: Mapping[str, Any]) -> Item:
    return {k: _from_dynamo(_deserializer.deserialize(v)) for k, v in attributes.items()}


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _to_dynamo(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_dynamo(v) for v in value]
    return value


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_dynamo(v) for v in value]
    if isinstance(value, set):
        return sorted(_from_dynamo(v) for v in value)
    return value


def encode_cursor(last_key: Mapping[str, Any] | None) -> str | None:
    """An opaque, URL-safe page cursor from a LastEvaluatedKey."""
    return cursors.encode(from_attributes(last_key)) if last_key else None


def decode_cursor(cursor: str | None) -> dict[str, AttributeValueTypeDef] | None:
    if not cursor:
        return None
    data = cursors.decode(cursor)
    if not all(isinstance(v, str | int) for v in data.values()):
        raise InvalidInput("cursor is not one this API issued", reason="bad_cursor")
    return to_attributes(data)


_ERRORS: dict[str, type[FlixstackError]] = {
    "ConditionalCheckFailedException": Conflict,
    "TransactionCanceledException": Conflict,
    "ValidationException": InvalidInput,
    "ResourceNotFoundException": ServiceUnavailable,
    "ProvisionedThroughputExceededException": ServiceUnavailable,
    "RequestLimitExceeded": ServiceUnavailable,
}


def domain_error(exc: ClientError, what: str) -> FlixstackError:
    """The domain error for a DynamoDB ClientError; use as ``raise domain_error(e, ...) from e``."""
    code = exc.response.get("Error", {}).get("Code", "")
    error_type = _ERRORS.get(code, ServiceUnavailable)
    return error_type(f"{what}: {code or 'error'}")


class Table:
    """One table's item-level calls with the repositories' conventions: consistent reads,
    create-only puts, and ClientErrors turned into domain errors."""

    def __init__(self, name: str, client: DynamoDBClient) -> None:
        self.name = name
        self.client = client

    def get(self, key: Mapping[str, Any], what: str) -> Item:
        """The item at ``key`` (plain values); NotFound if there is none."""
        try:
            item = self.client.get_item(
                TableName=self.name, Key=to_attributes(key), ConsistentRead=True
            ).get("Item")
        except ClientError as exc:
            raise domain_error(exc, what) from exc
        if item is None:
            raise NotFound(f"no {what}")
        return from_attributes(item)

    def create(self, item: Mapping[str, Any], what: str) -> None:
        """Puts an item whose key must be new; Conflict if it exists."""
        try:
            self.client.put_item(
                TableName=self.name,
                Item=to_attributes(item),
                ConditionExpression="attribute_not_exists(#pk)",
                ExpressionAttributeNames={"#pk": spec.PK.name},
            )
        except ClientError as exc:
            raise domain_error(exc, what) from exc

    def pointer(self, key: Mapping[str, Any], what: str) -> tuple[int, str] | None:
        """(version, artifact prefix) a pointer item names; None before the first."""
        try:
            item = self.get(key, what)
        except NotFound:
            return None
        return int(item[POINTER_VERSION]), str(item[POINTER_PREFIX])

    def advance_pointer(
        self,
        key: Mapping[str, Any],
        entity: str,
        expected: int | None,
        new: int,
        prefix: str,
        what: str,
    ) -> None:
        """Points readers at version ``new`` (its files under ``prefix``) if the pointer
        is still at ``expected`` (None: there is no pointer yet); Conflict otherwise."""
        item = to_attributes(
            {
                **key,
                spec.ENTITY_ATTR: entity,
                spec.VERSION_ATTR: new,
                POINTER_VERSION: new,
                POINTER_PREFIX: prefix,
            }
        )
        try:
            if expected is None:
                self.client.put_item(
                    TableName=self.name,
                    Item=item,
                    ConditionExpression="attribute_not_exists(#pk)",
                    ExpressionAttributeNames={"#pk": spec.PK.name},
                )
            else:
                self.client.put_item(
                    TableName=self.name,
                    Item=item,
                    ConditionExpression="#current = :expected",
                    ExpressionAttributeNames={"#current": POINTER_VERSION},
                    ExpressionAttributeValues=to_attributes({":expected": expected}),
                )
        except ClientError as exc:
            raise domain_error(exc, what) from exc

    def batch_write(
        self, requests: Sequence[Mapping[str, Any]], what: str, attempts: int = 10
    ) -> list[Mapping[str, Any]]:
        """Puts and deletes (``PutRequest``/``DeleteRequest`` entries), ``BATCH_WRITE`` at a
        time, each batch retried while DynamoDB leaves some unprocessed (up to ``attempts``
        calls); the requests still unprocessed after that."""
        left: list[Mapping[str, Any]] = []
        for start in range(0, len(requests), BATCH_WRITE):
            pending: Any = {self.name: list(requests[start : start + BATCH_WRITE])}
            for _ in range(attempts):
                try:
                    pending = self.client.batch_write_item(RequestItems=pending).get(
                        "UnprocessedItems"
                    )
                except ClientError as exc:
                    raise domain_error(exc, what) from exc
                if not pending:
                    break
            if pending:
                left.extend(pending.get(self.name, []))
        return left


BATCH_WRITE = 25
"""Items in one BatchWriteItem at most (DynamoDB's limit)."""
POINTER_VERSION = "snapshot"
"""A pointer item's attribute holding the version it names."""
POINTER_PREFIX = "prefix"

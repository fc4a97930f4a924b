"""DynamoDB repository for the catalog table: title aggregates, their audit trail, and
the pointer to the current catalog snapshot. Queries only; no scans."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from flixstack import spec
from flixstack.aws.dynamo import (
    Item,
    Table,
    decode_cursor,
    domain_error,
    encode_cursor,
    from_attributes,
    to_attributes,
)
from flixstack.catalog.models import TitleDocument
from flixstack.errors import Conflict

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import QueryInputTypeDef, TransactWriteItemTypeDef

VERSION_MATCHES = "#version = :expected"
IS_NEW = "attribute_not_exists(#pk)"


def title_key(title_id: str) -> dict[str, str]:
    return {spec.PK.name: spec.title_pk(title_id), spec.SK.name: spec.TITLE_SK}


def title_item(doc: TitleDocument) -> Item:
    """The stored item: the document plus its keys and index keys."""
    recency = f"{doc.updated_at}#{doc.id}"
    item: Item = {
        **doc.model_dump(mode="json"),
        **title_key(doc.id),
        spec.ENTITY_ATTR: spec.TITLE_ENTITY,
        spec.GSI1PK.name: spec.state_partition(doc.state),
        spec.GSI1SK.name: recency,
    }
    if doc.genres:
        item[spec.GSI2PK.name] = spec.genre_partition(doc.genres[0])
        item[spec.GSI2SK.name] = recency
    return item


def _document(item: Item) -> TitleDocument:
    return TitleDocument.model_validate(item)


class DynamoCatalogRepository:
    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self.table_name = table_name
        self._ddb = client
        self._table = Table(table_name, client)

    # --- titles --------------------------------------------------------------------------
    def create(self, doc: TitleDocument) -> None:
        self._table.create(title_item(doc), f"title {doc.id}")

    def get(self, title_id: str) -> TitleDocument:
        return _document(self._table.get(title_key(title_id), f"title {title_id}"))

    def replacement(self, doc: TitleDocument, expected_version: int) -> TransactWriteItemTypeDef:
        """A transaction item writing ``doc`` if the stored version is still the one read."""
        return {
            "Put": {
                "TableName": self.table_name,
                "Item": to_attributes(title_item(doc)),
                "ConditionExpression": VERSION_MATCHES,
                "ExpressionAttributeNames": {"#version": spec.VERSION_ATTR},
                "ExpressionAttributeValues": to_attributes({":expected": expected_version}),
            }
        }

    def audit_entry(
        self, doc: TitleDocument, actor: str, change: str, fields: list[str]
    ) -> TransactWriteItemTypeDef:
        """A transaction item recording who changed what (and which version it made)."""
        item = {
            spec.PK.name: spec.title_pk(doc.id),
            spec.SK.name: spec.audit_sk(doc.updated_at, doc.version),
            spec.ENTITY_ATTR: spec.AUDIT_ENTITY,
            spec.VERSION_ATTR: 1,
            "title_id": doc.id,
            "at": doc.updated_at,
            "actor": actor,
            "change": change,
            "fields": fields,
            "title_version": doc.version,
            "state": doc.state.value,
        }
        return {
            "Put": {
                "TableName": self.table_name,
                "Item": to_attributes(item),
                "ConditionExpression": IS_NEW,
                "ExpressionAttributeNames": {"#pk": spec.PK.name},
            }
        }

    def transact(self, items: list[TransactWriteItemTypeDef], what: str) -> None:
        """All or nothing; a failed condition (a stale version) is a Conflict."""
        try:
            self._ddb.transact_write_items(TransactItems=items)
        except ClientError as exc:
            error = domain_error(exc, what)
            if isinstance(error, Conflict):
                raise Conflict(
                    f"{what}: the title changed since it was read", reason="stale_version"
                ) from exc
            raise error from exc

    def save(
        self, doc: TitleDocument, expected_version: int, actor: str, change: str, fields: list[str]
    ) -> None:
        """Writes a new version of a title with its audit entry, atomically."""
        self.transact(
            [self.replacement(doc, expected_version), self.audit_entry(doc, actor, change, fields)],
            f"title {doc.id}",
        )

    def audit(self, title_id: str, limit: int = 50) -> list[Item]:
        """The title's audit trail, newest first."""
        try:
            response = self._ddb.query(
                TableName=self.table_name,
                KeyConditionExpression="#pk = :pk AND begins_with(#sk, :audit)",
                ExpressionAttributeNames={"#pk": spec.PK.name, "#sk": spec.SK.name},
                ExpressionAttributeValues=to_attributes(
                    {":pk": spec.title_pk(title_id), ":audit": "AUDIT#"}
                ),
                ScanIndexForward=False,
                Limit=limit,
            )
        except ClientError as exc:
            raise domain_error(exc, f"audit of title {title_id}") from exc
        return [from_attributes(i) for i in response.get("Items", [])]

    # --- lists -----------------------------------------------------------------------------
    def _page(
        self, index: spec.IndexSpec, partition: str, *, limit: int, cursor: str | None
    ) -> tuple[list[TitleDocument], str | None]:
        request: QueryInputTypeDef = {
            "TableName": self.table_name,
            "IndexName": index.name,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": index.partition.name},
            "ExpressionAttributeValues": {":pk": {"S": partition}},
            "Limit": limit,
            "ScanIndexForward": False,
        }
        start = decode_cursor(cursor)
        if start is not None:
            request["ExclusiveStartKey"] = start
        try:
            response = self._ddb.query(**request)
        except ClientError as exc:
            raise domain_error(exc, f"titles in {partition}") from exc
        docs = [_document(from_attributes(i)) for i in response.get("Items", [])]
        return docs, encode_cursor(response.get("LastEvaluatedKey"))

    def list_by_state(
        self, state: str, *, limit: int, cursor: str | None = None
    ) -> tuple[list[TitleDocument], str | None]:
        return self._page(
            spec.CATALOG_BY_STATE, spec.state_partition(state), limit=limit, cursor=cursor
        )

    def list_by_genre(
        self, genre: str, *, limit: int, cursor: str | None = None
    ) -> tuple[list[TitleDocument], str | None]:
        return self._page(
            spec.CATALOG_BY_GENRE, spec.genre_partition(genre), limit=limit, cursor=cursor
        )

    def all_in_state(self, state: str, page_size: int = 200) -> Iterator[TitleDocument]:
        """Every title in a state (index pages, for snapshot rebuilds; never on requests)."""
        cursor: str | None = None
        while True:
            docs, cursor = self.list_by_state(state, limit=page_size, cursor=cursor)
            yield from docs
            if cursor is None:
                return

    # --- the snapshot pointer -------------------------------------------------------------
    def snapshot_pointer(self) -> tuple[int, str] | None:
        """(version, artifact prefix) of the current catalog snapshot; None before the first."""
        return self._table.pointer(spec.CATALOG_POINTER_KEY, "catalog snapshot pointer")

    def advance_snapshot(self, expected: int | None, new: int, prefix: str) -> None:
        """Points readers at snapshot ``new`` if the pointer is still at ``expected``
        (None: there is no pointer yet); Conflict otherwise."""
        self._table.advance_pointer(
            spec.CATALOG_POINTER_KEY,
            "catalog-pointer",
            expected,
            new,
            prefix,
            "catalog snapshot pointer",
        )

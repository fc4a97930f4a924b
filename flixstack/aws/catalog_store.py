"""DynamoDB repository for the catalog table."""

from __future__ import annotations

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

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import QueryInputTypeDef, TransactWriteItemTypeDef


class DynamoCatalogRepository:
    """Titles and their lifecycle index. Queries only; no scans on request paths."""

    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self.table_name = table_name
        self._ddb = client
        self._table = Table(table_name, client)

    def put_title(self, title_id: str, state: str, sort_key: str, attributes: Item) -> None:
        """Creates a title item; fails with Conflict if the id exists."""
        item: Item = {
            **attributes,
            spec.PK.name: spec.title_pk(title_id),
            spec.SK.name: spec.TITLE_SK,
            spec.GSI1PK.name: spec.state_partition(state),
            spec.GSI1SK.name: f"{sort_key}#{title_id}",
            spec.ENTITY_ATTR: spec.TITLE_ENTITY,
            spec.VERSION_ATTR: 1,
            "id": title_id,
            "state": state,
        }
        self._table.create(item, f"title {title_id}")

    def list_by_state(
        self, state: str, *, limit: int, cursor: str | None = None, newest_first: bool = True
    ) -> tuple[list[Item], str | None]:
        index = spec.CATALOG_BY_STATE
        request: QueryInputTypeDef = {
            "TableName": self.table_name,
            "IndexName": index.name,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": index.partition.name},
            "ExpressionAttributeValues": {":pk": {"S": spec.state_partition(state)}},
            "Limit": limit,
            "ScanIndexForward": not newest_first,
        }
        start = decode_cursor(cursor)
        if start is not None:
            request["ExclusiveStartKey"] = start
        try:
            response = self._ddb.query(**request)
        except ClientError as exc:
            raise domain_error(exc, f"titles in state {state}") from exc
        items = [from_attributes(i) for i in response.get("Items", [])]
        return items, encode_cursor(response.get("LastEvaluatedKey"))

    def get_title(self, title_id: str) -> Item:
        key = {spec.PK.name: spec.title_pk(title_id), spec.SK.name: spec.TITLE_SK}
        return self._table.get(key, f"title {title_id}")

    def asset_publication(
        self, title: Item, asset: Item, state: str, sort_key: str
    ) -> TransactWriteItemTypeDef:
        """The title's half of a publish transaction: point the title at a new asset version
        (and move its lifecycle state), guarded by the version we read (optimistic lock)."""
        title_id = str(title["id"])
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": to_attributes(
                    {spec.PK.name: spec.title_pk(title_id), spec.SK.name: spec.TITLE_SK}
                ),
                "UpdateExpression": (
                    "SET #asset = :asset, #state = :state, #gsi1pk = :gsi1pk, #gsi1sk = :gsi1sk,"
                    " #updated = :updated, #version = #version + :one"
                ),
                "ConditionExpression": "#version = :read_version",
                "ExpressionAttributeNames": {
                    "#asset": "asset",
                    "#state": "state",
                    "#gsi1pk": spec.GSI1PK.name,
                    "#gsi1sk": spec.GSI1SK.name,
                    "#updated": "updated_at",
                    "#version": spec.VERSION_ATTR,
                },
                "ExpressionAttributeValues": to_attributes(
                    {
                        ":asset": asset,
                        ":state": state,
                        ":gsi1pk": spec.state_partition(state),
                        ":gsi1sk": f"{sort_key}#{title_id}",
                        ":updated": asset.get("published_at", ""),
                        ":one": 1,
                        ":read_version": title[spec.VERSION_ATTR],
                    }
                ),
            }
        }

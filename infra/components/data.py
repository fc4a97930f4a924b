"""Data: the DynamoDB tables declared in the spec (on-demand, PITR, encrypted)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from flixstack import spec
from infra.components import tags

TYPE = "flixstack:index:Data"


@dataclass(frozen=True)
class DataArgs:
    naming: spec.Naming
    deletion_protection: bool = True


def _key_schema(
    partition: spec.Attr, sort: spec.Attr | None
) -> list[aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs]:
    schema = [
        aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(
            attribute_name=partition.name, key_type="HASH"
        )
    ]
    if sort is not None:
        schema.append(
            aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(
                attribute_name=sort.name, key_type="RANGE"
            )
        )
    return schema


class Data(pulumi.ComponentResource):
    table_names: dict[str, pulumi.Output[str]]
    table_arns: dict[str, pulumi.Output[str]]
    stream_arns: dict[str, pulumi.Output[str]]

    def __init__(
        self, name: str, args: DataArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        tables = {t.logical: self._table(name, t, args) for t in spec.TABLES}
        self.table_names = {k: t.name for k, t in tables.items()}
        self.table_arns = {k: t.arn for k, t in tables.items()}
        self.stream_arns = {
            t.logical: tables[t.logical].stream_arn for t in spec.TABLES if t.stream is not None
        }
        self.register_outputs(
            {
                "table_names": self.table_names,
                "table_arns": self.table_arns,
                "stream_arns": self.stream_arns,
            }
        )

    def _table(self, name: str, table: spec.TableSpec, args: DataArgs) -> aws.dynamodb.Table:
        return aws.dynamodb.Table(
            f"{name}-{table.logical}",
            name=args.naming.table(table),
            billing_mode="PAY_PER_REQUEST",
            hash_key=table.partition.name,
            range_key=table.sort.name if table.sort else None,
            attributes=[
                aws.dynamodb.TableAttributeArgs(name=a.name, type=a.type)
                for a in table.key_attributes()
            ],
            global_secondary_indexes=[
                aws.dynamodb.TableGlobalSecondaryIndexArgs(
                    name=index.name,
                    key_schemas=_key_schema(index.partition, index.sort),
                    projection_type="ALL",
                )
                for index in table.indexes
            ],
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
            server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(enabled=True),
            stream_enabled=table.stream is not None,
            stream_view_type=table.stream,
            ttl=aws.dynamodb.TableTtlArgs(attribute_name=table.ttl_attribute, enabled=True)
            if table.ttl_attribute
            else None,
            deletion_protection_enabled=args.deletion_protection,
            tags=tags(args.naming.stage, "data", {"purpose": table.purpose}),
            opts=pulumi.ResourceOptions(parent=self),
        )

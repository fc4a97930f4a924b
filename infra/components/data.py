"""Data: the DynamoDB tables declared in the spec (on-demand, PITR), encrypted with a KMS key
of the stack's. On a multi-region stack they are global tables: every table has a replica in
each secondary region, encrypted with that region's key and with PITR of its own."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

import pulumi
import pulumi_aws as aws

from flixstack import spec
from infra import policies
from infra.components import Region, tags
from infra.components.keys import rotating_key

TYPE = "flixstack:index:Data"
GLOBAL_TABLE_STREAM: spec.StreamView = "NEW_AND_OLD_IMAGES"
"""The stream view global tables replicate from (they require it). It holds every other
view's images, so a table the spec streams otherwise keeps its readers."""


@dataclass(frozen=True)
class DataArgs:
    naming: spec.Naming
    account_id: pulumi.Input[str]
    regions: Sequence[Region]
    """The stack's regions, the primary first: the tables are there, and every other region
    gets a replica of each (global tables, version 2019.11.21)."""
    deletion_protection: bool = True

    def __post_init__(self) -> None:
        names = [r.name for r in self.regions]
        if not names or len(set(names)) != len(names):
            raise ValueError(f"the tables need one or more distinct regions, not {names}")


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
    """In the primary region (``table_arns_by_region`` has every region's)."""
    table_arns_by_region: dict[str, dict[str, pulumi.Output[str]]]
    """Each region's tables (the primary's, else its replicas), by region, then logical
    name: a replica's ARN is its table's in the replica's region."""
    stream_arns: dict[str, pulumi.Output[str]]
    key_arns: dict[str, pulumi.Output[str]]
    """The tables' KMS key in each region (the primary's and each replica's), by region."""

    def __init__(
        self, name: str, args: DataArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        primary, *secondaries = args.regions
        self.key_arns = {
            region.name: self._key(
                f"{name}-key" if region is primary else f"{name}-{region.name}-key", region, args
            ).arn
            for region in args.regions
        }
        tables = {t.logical: self._table(name, t, args, primary, secondaries) for t in spec.TABLES}
        self.table_names = {k: t.name for k, t in tables.items()}
        self.table_arns = {k: t.arn for k, t in tables.items()}
        self.table_arns_by_region = {
            primary.name: self.table_arns,
            **{
                region.name: {
                    k: arn.apply(partial(policies.arn_in_region, region=region.name))
                    for k, arn in self.table_arns.items()
                }
                for region in secondaries
            },
        }
        self.stream_arns = {
            t.logical: tables[t.logical].stream_arn for t in spec.TABLES if t.stream is not None
        }
        self.register_outputs(
            {
                "table_names": self.table_names,
                "table_arns": self.table_arns,
                "table_arns_by_region": self.table_arns_by_region,
                "stream_arns": self.stream_arns,
                "key_arns": self.key_arns,
            }
        )

    def _key(self, resource_name: str, region: Region, args: DataArgs) -> aws.kms.Key:
        """The tables' key in ``region`` and its spec alias (aliases are regional, so every
        region's key carries the same one)."""
        return rotating_key(
            resource_name,
            description=f"flixstack {args.naming.stage}: {spec.DATA_KEY.purpose}",
            alias=args.naming.key_alias(spec.DATA_KEY),
            policy=pulumi.Output.from_input(args.account_id).apply(
                lambda account: policies.table_key_policy(account, region.name)
            ),
            tags=tags(args.naming.stage, "data"),
            opts=pulumi.ResourceOptions(parent=self, provider=region.provider),
        )

    def _table(
        self,
        name: str,
        table: spec.TableSpec,
        args: DataArgs,
        primary: Region,
        secondaries: Sequence[Region],
    ) -> aws.dynamodb.Table:
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
            server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(
                enabled=True, kms_key_arn=self.key_arns[primary.name]
            ),
            stream_enabled=table.stream is not None or bool(secondaries),
            stream_view_type=GLOBAL_TABLE_STREAM if secondaries else table.stream,
            replicas=[
                aws.dynamodb.TableReplicaArgs(
                    region_name=region.name,
                    kms_key_arn=self.key_arns[region.name],
                    point_in_time_recovery=True,
                    deletion_protection_enabled=args.deletion_protection,
                    propagate_tags=True,
                )
                for region in secondaries
            ]
            or None,
            ttl=aws.dynamodb.TableTtlArgs(attribute_name=table.ttl_attribute, enabled=True)
            if table.ttl_attribute
            else None,
            deletion_protection_enabled=args.deletion_protection,
            tags=tags(args.naming.stage, "data", {"purpose": table.purpose}),
            opts=pulumi.ResourceOptions(parent=self, provider=primary.provider),
        )

"""The events data lake on S3: Parquet files under ``events/dt=<day>/hour=<HH>/``.

``ParquetLakeWriter`` writes a batch's rows the way Firehose does on AWS (the local
consumer uses it). ``Lake`` queries the files with DuckDB, straight from S3 through its
httpfs extension (shipped as the ``duckdb-extension-httpfs`` wheel, so nothing is downloaded
at run time): the same SQL Athena runs over the Glue table on AWS. The table is
``player_events``; ``dt`` and ``hour`` come from the folder names.
"""

from __future__ import annotations

import glob
import io
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from flixstack import spec
from flixstack.events import lake

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa  # type: ignore[import-untyped]
    from mypy_boto3_s3 import S3Client

    from flixstack.aws.clients import AwsClients

_ARROW_TYPES = {
    "string": "string",
    "int": "int32",
    "bigint": "int64",
    "double": "float64",
    "boolean": "bool",
}


def arrow_schema() -> pa.Schema:
    import pyarrow as pa

    return pa.schema(
        [pa.field(c.name, pa.type_for_alias(_ARROW_TYPES[c.type])) for c in lake.COLUMNS]
    )


class ParquetLakeWriter:
    def __init__(self, s3: S3Client, bucket: str) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._schema = arrow_schema()

    def write(self, rows: Sequence[dict[str, Any]], name: str) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq  # type: ignore[import-untyped]

        by_hour: dict[tuple[str, int], list[dict[str, Any]]] = {}
        for row in rows:
            by_hour.setdefault(lake.partition_of(row["received_at"]), []).append(row)
        for (dt, hour), part in by_hour.items():
            table = pa.Table.from_pylist(part, schema=self._schema)
            buffer = io.BytesIO()
            pq.write_table(table, buffer, compression="snappy")
            self._s3.put_object(
                Bucket=self._bucket,
                Key=f"{spec.lake_partition(dt, hour)}{name}.parquet",
                Body=buffer.getvalue(),
            )


def httpfs_extension() -> str:
    """The httpfs extension file the ``duckdb-extension-httpfs`` wheel ships."""
    import duckdb
    import duckdb_extension_httpfs  # type: ignore[import-untyped]

    folder = os.path.dirname(duckdb_extension_httpfs.__file__)
    found = glob.glob(f"{folder}/extensions/v{duckdb.__version__}/httpfs.duckdb_extension")
    if not found:
        raise RuntimeError(
            f"duckdb {duckdb.__version__} has no matching duckdb-extension-httpfs; "
            "install the pinned versions (pyproject.toml)"
        )
    return found[0]


_EMPTY = "(SELECT {} LIMIT 0)".format(
    ", ".join(
        f"CAST(NULL AS {'VARCHAR' if c.type == 'string' else c.type.upper()}) AS {c.name}"
        for c in (*lake.COLUMNS, *lake.PARTITION_KEYS)
    )
)
"""The table's columns and no rows: what an empty lake reads as."""


class Lake:
    """DuckDB over the lake bucket's Parquet files, with ``player_events`` as a view."""

    TABLE = "player_events"

    def __init__(self, clients: AwsClients, bucket: str) -> None:
        import duckdb

        self._con: duckdb.DuckDBPyConnection = duckdb.connect()
        self._con.execute(f"LOAD '{httpfs_extension()}'")
        frozen = clients.credentials()
        secret = ["TYPE s3", f"REGION '{clients.region_of('s3')}'"]
        if frozen is not None:
            secret += [f"KEY_ID '{frozen.access_key}'", f"SECRET '{frozen.secret_key}'"]
            if frozen.token:
                secret.append(f"SESSION_TOKEN '{frozen.token}'")
        if clients.endpoint:
            endpoint = urlsplit(clients.endpoint)
            secret += [
                f"ENDPOINT '{endpoint.netloc}'",
                "URL_STYLE 'path'",
                f"USE_SSL {'true' if endpoint.scheme == 'https' else 'false'}",
            ]
        self._con.execute(f"CREATE SECRET lake ({', '.join(secret)})")
        self._s3 = clients.s3
        self._bucket = bucket
        self._files = f"s3://{bucket}/{spec.LAKE_EVENTS_PREFIX}*/*/*.parquet"

    def query(self, sql: str, parameters: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Runs SQL over ``player_events`` (every file there now); rows as dicts. An empty
        lake is an empty table."""
        listed = self._s3.list_objects_v2(
            Bucket=self._bucket, Prefix=spec.LAKE_EVENTS_PREFIX, MaxKeys=1
        )
        source = (
            f"read_parquet('{self._files}', hive_partitioning = true, union_by_name = true)"
            if listed.get("KeyCount")
            else _EMPTY
        )
        # The names are the spec's bucket and prefix, never caller text.
        self._con.execute(f"CREATE OR REPLACE TEMP VIEW {self.TABLE} AS SELECT * FROM {source}")  # noqa: S608
        cursor = self._con.execute(sql, list(parameters))
        names = [d[0] for d in cursor.description or []]
        return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]

    def interactions(self, since: str = "") -> list[dict[str, Any]]:
        """What recommendation training learns from: per profile and title (and account),
        the sessions that played it, how far it got, its length and when it was last
        played, from the heartbeats and session ends received since ``since`` (ISO-8601)."""
        return self.query(INTERACTIONS_SQL, [since])


INTERACTIONS_SQL = """
SELECT account, profile_id, title_id,
       count(DISTINCT session_id) AS sessions,
       max(position_s) AS furthest_s,
       max(duration_s) AS duration_s,
       max(received_at) AS last_at
FROM player_events
WHERE type IN ('heartbeat', 'session_end') AND received_at >= ?
GROUP BY account, profile_id, title_id
ORDER BY last_at DESC
"""

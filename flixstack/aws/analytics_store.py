"""DynamoDB repository for the analytics table: playback sessions, per-minute QoE sums and
trending counters.

- A session is one item (``SESSION#<id>``) written whole, 25 to a BatchWriteItem call
  and without a condition: a session's records share a stream partition key, which one
  consumer invocation at a time processes (Kinesis event sources keep that order, also
  with a parallelization factor), so no other writer can race it.
- A QoE minute is one item per (minute, title, CDN, territory, device) under its hour's
  partition (``QOE#<hour>``): consumers ``ADD`` their sums to it, so any number of batches
  and retries combine without reading; the startup sketch's buckets are ``s<index>``
  attributes. A dashboard reads an hour with one query.
- A trending counter is one item per title under ``TREND#<territory>#<epoch>``, also
  grown with ``ADD``.

Every write is to one item; queries only, no scans.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from flixstack import spec
from flixstack.aws.dynamo import domain_error, from_attributes, to_attributes
from flixstack.events import qoe, trending
from flixstack.events.consumer import TrendKey
from flixstack.events.sessions import QoeKey, Session

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SKETCH_PREFIX = "s"
_GET_BATCH = 100
_SESSION_FIELDS = (
    "start_minute",
    "played",
    "failed",
    "ended",
    "last_ts",
    "last_position_s",
    "duration_s",
    "bitrate_bps",
    "stalls",
    "stall_ms",
    "watch_ms",
)
_WRITE_BATCH = 25
"""BatchWriteItem's limit."""
_WRITE_ATTEMPTS = 5
logger = logging.getLogger(__name__)
_POOL = ThreadPoolExecutor(max_workers=16, thread_name_prefix="analytics-writes")


class DynamoAnalyticsStore:
    def __init__(self, table: str, client: DynamoDBClient, region: str) -> None:
        """``region``: where this process runs, whose counter items it adds to
        (``spec.counter_sk``)."""
        self._table = table
        self._client = client
        self._region = region

    # --- sessions ---------------------------------------------------------------------------
    def sessions(self, session_ids: Sequence[str]) -> dict[str, Session]:
        found: dict[str, Session] = {}
        for start in range(0, len(session_ids), _GET_BATCH):
            keys = [_session_key(sid) for sid in session_ids[start : start + _GET_BATCH]]
            request: dict[str, Any] = {self._table: {"Keys": keys, "ConsistentRead": True}}
            while request:
                try:
                    answer = self._client.batch_get_item(RequestItems=request)
                except ClientError as exc:
                    raise domain_error(exc, "sessions") from exc
                for raw in answer["Responses"].get(self._table, []):
                    session = _session(from_attributes(raw))
                    found[session.session_id] = session
                request = dict(answer.get("UnprocessedKeys") or {})
        return found

    def save_sessions(self, sessions: Sequence[Session], expires_at: int) -> list[str]:
        batches = [sessions[i : i + _WRITE_BATCH] for i in range(0, len(sessions), _WRITE_BATCH)]
        calls = [_POOL.submit(self._save, batch, expires_at) for batch in batches]
        return [sid for call in calls for sid in call.result()]

    def _save(self, sessions: Sequence[Session], expires_at: int) -> list[str]:
        """One BatchWriteItem (retrying what it leaves unprocessed); the ids not saved."""
        requests: list[Any] = [
            {"PutRequest": {"Item": to_attributes(_session_item(s, expires_at))}} for s in sessions
        ]
        for _ in range(_WRITE_ATTEMPTS):
            try:
                answer = self._client.batch_write_item(RequestItems={self._table: requests})
            except ClientError:
                logger.exception("sessions not saved")
                break
            requests = list((answer.get("UnprocessedItems") or {}).get(self._table, []))
            if not requests:
                break
        unsaved = {from_attributes(r["PutRequest"]["Item"])[spec.PK.name] for r in requests}
        saved = [s for s in sessions if spec.session_pk(s.session_id) not in unsaved]
        for session in saved:
            session.version += 1
        return [s.session_id for s in sessions if spec.session_pk(s.session_id) in unsaved]

    # --- QoE minutes ------------------------------------------------------------------------
    def add_qoe(self, sums: Mapping[QoeKey, qoe.Aggregate]) -> None:
        for call in [_POOL.submit(self._add_minute, key, agg) for key, agg in sums.items()]:
            call.result()

    def _add_minute(self, key: QoeKey, aggregate: qoe.Aggregate) -> None:
        adds = aggregate.sums()
        adds.update({f"{SKETCH_PREFIX}{i}": n for i, n in aggregate.sketch.items()})
        labels = {
            spec.ENTITY_ATTR: spec.QOE_ENTITY,
            "minute": key.minute,
            "title_id": key.title_id,
            "cdn": key.cdn,
            "territory": key.territory,
            "device": key.device,
        }
        self._add(
            {"pk": spec.qoe_pk(key.hour), "sk": spec.qoe_sk(key.minute, *key.dims, self._region)},
            adds,
            labels,
            "QoE minute",
        )

    def qoe(self, hours: Sequence[str]) -> list[tuple[QoeKey, qoe.Aggregate]]:
        """Every minute stored under these hours (``YYYY-MM-DDTHH``), each summed over the
        regions that counted it."""
        rows: dict[QoeKey, qoe.Aggregate] = {}
        for hour in hours:
            for item in self._query(spec.qoe_pk(hour)):
                if "minute" not in item:
                    # moto's server applies an UpdateItem in steps, and a query between them
                    # sees the new item's keys alone (DynamoDB's updates are atomic): the
                    # minute is read whole on the next look
                    continue
                rows.setdefault(_qoe_key(item), qoe.Aggregate()).add(_aggregate(item))
        return list(rows.items())

    # --- trending ---------------------------------------------------------------------------
    def add_trending(self, counters: Mapping[TrendKey, float]) -> None:
        calls = [
            _POOL.submit(
                self._add,
                {
                    "pk": spec.trend_pk(territory, epoch),
                    "sk": spec.trend_sk(title_id, self._region),
                },
                {"plays": weight},
                {spec.ENTITY_ATTR: spec.TREND_ENTITY, "title_id": title_id},
                "trending counter",
            )
            for (territory, title_id, epoch), weight in counters.items()
        ]
        for call in calls:
            call.result()

    def trending(self, territory: str, now: datetime, limit: int = 20) -> list[tuple[str, float]]:
        """The territory's titles by decayed plays, highest first."""
        counters: dict[str, list[tuple[int, float]]] = {}
        for epoch in trending.epochs_to_read(now):
            for item in self._query(spec.trend_pk(territory, epoch)):
                if "title_id" not in item:  # moto's stepwise UpdateItem, as in qoe()
                    continue
                counters.setdefault(item["title_id"], []).append((epoch, float(item["plays"])))
        scores = [(title, trending.score(pairs, now)) for title, pairs in counters.items()]
        return sorted(scores, key=lambda pair: (-pair[1], pair[0]))[:limit]

    # --- shared -----------------------------------------------------------------------------
    def _add(
        self, key: dict[str, str], adds: Mapping[str, float], labels: Mapping[str, str], what: str
    ) -> None:
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        add_parts: list[str] = []
        set_parts: list[str] = []
        for n, (name, value) in enumerate(adds.items()):
            names[f"#a{n}"] = name
            values[f":a{n}"] = value
            add_parts.append(f"#a{n} :a{n}")
        for n, (name, label) in enumerate(labels.items()):
            names[f"#l{n}"] = name
            values[f":l{n}"] = label
            set_parts.append(f"#l{n} = :l{n}")
        expression = f"ADD {', '.join(add_parts)}"
        if set_parts:
            expression += f" SET {', '.join(set_parts)}"
        try:
            self._client.update_item(
                TableName=self._table,
                Key=to_attributes(key),
                UpdateExpression=expression,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=to_attributes(values),
            )
        except ClientError as exc:
            raise domain_error(exc, what) from exc

    def _query(self, pk: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": spec.PK.name},
            "ExpressionAttributeValues": {":pk": {"S": pk}},
        }
        while True:
            try:
                page = self._client.query(**request)
            except ClientError as exc:
                raise domain_error(exc, "analytics") from exc
            items += [from_attributes(raw) for raw in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return items
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _session_key_values(session_id: str) -> dict[str, str]:
    return {spec.PK.name: spec.session_pk(session_id), spec.SK.name: spec.SESSION_SK}


def _session_item(session: Session, expires_at: int) -> dict[str, Any]:
    return {
        **_session_key_values(session.session_id),
        spec.ENTITY_ATTR: spec.SESSION_ENTITY,
        spec.VERSION_ATTR: session.version + 1,
        "seen": session.pack_seen(),
        "expires_at": expires_at,
        **{name: getattr(session, name) for name in _SESSION_FIELDS},
    }


def _session_key(session_id: str) -> dict[str, Any]:
    return to_attributes(_session_key_values(session_id))


def _session(item: dict[str, Any]) -> Session:
    session = Session(item[spec.PK.name].removeprefix(spec.session_pk("")))
    session.seen = Session.unpack_seen(bytes(item.get("seen", b"")))
    for name in _SESSION_FIELDS:
        if name in item:
            setattr(session, name, item[name])
    session.version = int(item[spec.VERSION_ATTR])
    return session


def _qoe_key(item: Mapping[str, Any]) -> QoeKey:
    return QoeKey(item["minute"], item["title_id"], item["cdn"], item["territory"], item["device"])


def _aggregate(item: Mapping[str, Any]) -> qoe.Aggregate:
    aggregate = qoe.Aggregate()
    for name in qoe.SUM_FIELDS:
        if name in item:
            setattr(aggregate, name, item[name])
    aggregate.sketch = {
        int(name[len(SKETCH_PREFIX) :]): int(value)
        for name, value in item.items()
        if name.startswith(SKETCH_PREFIX) and name[len(SKETCH_PREFIX) :].isdigit()
    }
    return aggregate

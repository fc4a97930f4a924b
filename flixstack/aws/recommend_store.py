"""Where the recommender reads and writes: model versions in S3 (artifacts bucket) named
by a pointer item in the analytics table; each profile's picks in the viewers table, next
to its other items; and the signals training learns from, out of the viewers table and
the events lake.

Reading every profile's items is a table scan: the training job's, never a request
path's (the API reads one profile's picks with one GetItem)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from flixstack import spec
from flixstack.aws.artifacts import Artifacts
from flixstack.aws.dynamo import Table, domain_error, from_attributes, to_attributes
from flixstack.errors import NotFound, ServiceUnavailable
from flixstack.nearcache import Pointer
from flixstack.recommend.artifacts import MODEL_FILE, Picks, RecModel
from flixstack.recommend.signals import Signal, instant
from flixstack.viewers import rules
from flixstack.viewers.models import ListEntry, Progress, Rating

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from flixstack.aws.lake_store import Lake

WRITE_ATTEMPTS = 10


class S3ModelStore:
    def __init__(self, pointers: Table, artifacts: Artifacts) -> None:
        self._pointers = pointers
        self._artifacts = artifacts

    def pointer(self) -> Pointer | None:
        current = self._pointers.pointer(spec.RECOMMEND_POINTER_KEY, "recommendation model")
        return None if current is None else Pointer(*current)

    def load(self, pointer: Pointer) -> RecModel:
        return RecModel.from_bytes(self._artifacts.read(pointer.prefix + MODEL_FILE))

    def write(self, model: RecModel) -> Pointer:
        prefix = f"{spec.RECOMMEND_ARTIFACTS_PREFIX}v{model.version:09d}-{uuid.uuid4().hex[:8]}/"
        self._artifacts.write(prefix + MODEL_FILE, model.to_bytes())
        return Pointer(model.version, prefix)

    def advance(self, expected: Pointer | None, new: Pointer) -> None:
        self._pointers.advance_pointer(
            spec.RECOMMEND_POINTER_KEY,
            "recommend-pointer",
            None if expected is None else expected.version,
            new.version,
            new.prefix,
            "recommendation model pointer",
        )


class DynamoPicks:
    """Each profile's picks: one item under the profile's prefix (a deleted profile's
    purge removes it with the rest)."""

    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self._table = Table(table_name, client)

    @staticmethod
    def _key(account: str, profile_id: str) -> dict[str, str]:
        return {spec.PK.name: spec.account_pk(account), spec.SK.name: spec.picks_sk(profile_id)}

    def picks(self, account: str, profile_id: str) -> Picks | None:
        try:
            item = self._table.get(self._key(account, profile_id), "picks")
        except NotFound:
            return None
        return Picks.model_validate(item)

    def save_picks(self, picks: Sequence[tuple[str, str, Picks]]) -> None:
        requests = [
            {
                "PutRequest": {
                    "Item": to_attributes(
                        {
                            **self._key(account, profile_id),
                            spec.ENTITY_ATTR: spec.PICKS_ENTITY,
                            spec.VERSION_ATTR: found.model_version,
                            **found.model_dump(mode="json"),
                        }
                    )
                }
            }
            for account, profile_id, found in picks
        ]
        if self._table.batch_write(requests, "picks", WRITE_ATTEMPTS):
            raise ServiceUnavailable(f"picks not written after {WRITE_ATTEMPTS} attempts")


_SIGNAL_ENTITIES = (spec.PROGRESS_ENTITY, spec.RATING_ENTITY, spec.MY_LIST_ENTITY)


class ViewerSignals:
    """Progress, thumbs and My List of every profile (a scan of the viewers table)."""

    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self._name = table_name
        self._client = client

    def _items(self) -> Iterator[dict[str, Any]]:
        request: dict[str, Any] = {
            "TableName": self._name,
            "FilterExpression": "#entity IN (:progress, :rating, :listed)",
            "ExpressionAttributeNames": {"#entity": spec.ENTITY_ATTR},
            "ExpressionAttributeValues": to_attributes(
                dict(zip((":progress", ":rating", ":listed"), _SIGNAL_ENTITIES, strict=True))
            ),
        }
        while True:
            try:
                page = self._client.scan(**request)
            except ClientError as exc:
                raise domain_error(exc, "viewer signals") from exc
            for raw in page.get("Items", []):
                yield from_attributes(raw)
            if "LastEvaluatedKey" not in page:
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def signals(self) -> Iterator[Signal]:
        for item in self._items():
            account = str(item[spec.PK.name]).removeprefix("ACCOUNT#")
            profile_id = str(item[spec.SK.name]).removeprefix("P#").split("#", 1)[0]
            entity = item[spec.ENTITY_ATTR]
            if entity == spec.PROGRESS_ENTITY:
                progress = Progress.model_validate(item)
                yield Signal(
                    account,
                    profile_id,
                    progress.title_id,
                    at=progress.client_ts.timestamp(),
                    played=True,
                    watched=rules.fraction(progress.position_s, progress.duration_s),
                )
            elif entity == spec.RATING_ENTITY:
                rating = Rating.model_validate(item)
                if rating.rating is not None:
                    yield Signal(
                        account,
                        profile_id,
                        rating.title_id,
                        at=instant(rating.rated_at),
                        thumb=1 if rating.rating == "up" else -1,
                    )
            else:
                entry = ListEntry.model_validate(item)
                yield Signal(
                    account, profile_id, entry.title_id, at=instant(entry.added_at), listed=True
                )


class LakeSignals:
    """How far each profile played each title, from every heartbeat in the events lake."""

    def __init__(self, lake: Lake) -> None:
        self._lake = lake

    def signals(self) -> Iterator[Signal]:
        for row in self._lake.interactions():
            if not row["account"] or not row["profile_id"] or not row["title_id"]:
                continue
            yield Signal(
                str(row["account"]),
                str(row["profile_id"]),
                str(row["title_id"]),
                at=instant(str(row["last_at"])),
                played=True,
                watched=rules.fraction(
                    float(row["furthest_s"] or 0), float(row["duration_s"] or 0)
                ),
            )

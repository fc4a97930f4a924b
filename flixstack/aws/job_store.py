"""DynamoDB repository for transcode jobs (the ``jobs`` table). Every state change is a
conditional write built from the named conditions below."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from flixstack import spec
from flixstack.aws.dynamo import Table, domain_error, from_attributes, to_attributes
from flixstack.catalog.models import Asset
from flixstack.clock import now_iso
from flixstack.errors import Conflict
from flixstack.media.jobs import (
    ACTIVE,
    FORWARD,
    TERMINAL,
    Job,
    JobError,
    JobState,
)
from flixstack.media.uploads import UploadSession

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

NAMES = {
    "#state": "state",
    "#owner": "owner",
    "#lease": "lease_until",
    "#stage": "stage",
    "#percent": "percent",
    "#attempts": "attempts",
    "#error": "error",
    "#updated": "updated_at",
    "#version": spec.VERSION_ATTR,
}
IS_ACTIVE = "#state IN (:PROBING, :ENCODING, :PACKAGING)"
IS_CLAIMABLE = "#state IN (:QUEUED, :PROBING, :ENCODING, :PACKAGING)"
NOT_TERMINAL = "NOT #state IN (:PUBLISHED, :FAILED)"
HELD_BY_ME = "#owner = :owner"
LEASE_FREE = "(attribute_not_exists(#lease) OR #lease < :now OR #owner = :owner)"
STEP = "SET #updated = :updated, #version = #version + :one"


def _states(*states: JobState) -> dict[str, Any]:
    return {f":{s.value}": s.value for s in states}


def _used(expression: str, values: dict[str, Any]) -> tuple[dict[str, str], dict[str, Any]]:
    """Only the names and values an expression mentions (DynamoDB rejects unused ones)."""
    names = {k: v for k, v in NAMES.items() if k in expression}
    return names, {k: v for k, v in values.items() if k in expression}


class DynamoJobRepository:
    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self.table_name = table_name
        self._ddb = client
        self._table = Table(table_name, client)

    @staticmethod
    def _plain_key(job_id: str) -> dict[str, str]:
        return {spec.PK.name: spec.job_pk(job_id), spec.SK.name: spec.JOB_SK}

    @classmethod
    def _key(cls, job_id: str) -> dict[str, Any]:
        return to_attributes(cls._plain_key(job_id))

    def create(self, job: Job) -> bool:
        item = {
            **job.model_dump(mode="json"),
            spec.PK.name: spec.job_pk(job.id),
            spec.SK.name: spec.JOB_SK,
            spec.ENTITY_ATTR: spec.JOB_ENTITY,
            spec.GSI1PK.name: spec.title_jobs_partition(job.title_id),
            spec.GSI1SK.name: f"{job.created_at}#{job.id}",
        }
        try:
            self._table.create(item, f"job {job.id}")
        except Conflict:
            return False
        return True

    def get(self, job_id: str) -> Job:
        return Job.model_validate(self._table.get(self._plain_key(job_id), f"job {job_id}"))

    def for_title(self, title_id: str, limit: int = 20) -> list[Job]:
        """The title's jobs, newest first."""
        index = spec.JOBS_BY_TITLE
        try:
            response = self._ddb.query(
                TableName=self.table_name,
                IndexName=index.name,
                KeyConditionExpression="#pk = :pk",
                ExpressionAttributeNames={"#pk": index.partition.name},
                ExpressionAttributeValues=to_attributes(
                    {":pk": spec.title_jobs_partition(title_id)}
                ),
                ScanIndexForward=False,
                Limit=limit,
            )
        except ClientError as exc:
            raise domain_error(exc, f"jobs of title {title_id}") from exc
        return [_job(i) for i in response.get("Items", [])]

    def _update(
        self, job_id: str, update: str, condition: str, values: dict[str, Any]
    ) -> Job | None:
        """One conditional update; None when the condition does not hold."""
        names, used = _used(f"{update} {condition}", {**values, ":updated": now_iso(), ":one": 1})
        try:
            response = self._ddb.update_item(
                TableName=self.table_name,
                Key=self._key(job_id),
                UpdateExpression=update,
                ConditionExpression=f"attribute_exists(#pk) AND {condition}",
                ExpressionAttributeNames={**names, "#pk": spec.PK.name},
                ExpressionAttributeValues=to_attributes(used),
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            error = domain_error(exc, f"job {job_id}")
            if isinstance(error, Conflict):
                return None
            raise error from exc
        return _job(response["Attributes"])

    def claim(self, job_id: str, owner: str, lease_until: float, now: float) -> Job | None:
        return self._update(
            job_id,
            f"{STEP}, #state = :PROBING, #owner = :owner, #lease = :lease, #stage = :stage,"
            " #percent = :zero ADD #attempts :one REMOVE #error",
            f"{IS_CLAIMABLE} AND {LEASE_FREE}",
            {
                **_states(JobState.QUEUED, *ACTIVE),
                ":owner": owner,
                ":lease": lease_until,
                ":now": now,
                ":stage": "probing",
                ":zero": 0,
            },
        )

    def advance(self, job_id: str, owner: str, to: JobState) -> None:
        (previous,) = [state for state, following in FORWARD.items() if following is to]
        if to is JobState.PUBLISHED:
            raise ValueError("publishing goes through publish(), with the catalog update")
        moved = self._update(
            job_id,
            f"{STEP}, #state = :to",
            f"{HELD_BY_ME} AND #state = :from",
            {":owner": owner, ":to": to.value, ":from": previous.value},
        )
        if moved is None:
            raise Conflict(f"job {job_id} is not {previous} under {owner}", reason="lost_lease")

    def report(
        self, job_id: str, owner: str, stage: str, percent: float, lease_until: float
    ) -> None:
        reported = self._update(
            job_id,
            "SET #updated = :updated, #stage = :stage, #percent = :percent, #lease = :lease",
            f"{HELD_BY_ME} AND {IS_ACTIVE}",
            {
                **_states(*ACTIVE),
                ":owner": owner,
                ":stage": stage,
                ":percent": round(min(max(percent, 0.0), 100.0), 1),
                ":lease": lease_until,
            },
        )
        if reported is None:
            raise Conflict(f"job {job_id} is no longer held by {owner}", reason="lost_lease")

    def fail(self, job_id: str, error: JobError, owner: str | None = None) -> bool:
        condition = NOT_TERMINAL if owner is None else f"{NOT_TERMINAL} AND {HELD_BY_ME}"
        failed = self._update(
            job_id,
            f"{STEP}, #state = :FAILED, #error = :error, #stage = :failed REMOVE #lease",
            condition,
            {
                **_states(*TERMINAL),
                ":error": error.model_dump(),
                ":failed": "failed",
                ":owner": owner,
            },
        )
        return failed is not None

    def publication(self, job_id: str, owner: str, published: Asset) -> TransactWriteItemTypeDef:
        """The job's half of the publish transaction (the catalog adds the title's half)."""
        # a protected asset has no DASH manifest: the attribute goes rather than holds null
        dash = ", #dash = :dash" if published.dash_manifest else ""
        expression = (
            f"{STEP}, #state = :PUBLISHED, #stage = :published, #percent = :hundred,"
            f" #asset_version = :asset_version, #master = :master{dash},"
            " #renditions = :renditions ADD #publish_count :one"
            f" REMOVE #lease{'' if dash else ', #dash'}"
        )
        condition = f"{HELD_BY_ME} AND #state = :PACKAGING"
        names, values = _used(
            f"{expression} {condition}",
            {
                **_states(JobState.PUBLISHED, JobState.PACKAGING),
                ":owner": owner,
                ":published": "published",
                ":hundred": 100,
                ":asset_version": published.version,
                ":master": published.master_playlist,
                ":dash": published.dash_manifest,
                ":renditions": [r.model_dump() for r in published.renditions],
                ":updated": now_iso(),
                ":one": 1,
            },
        )
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": self._key(job_id),
                "UpdateExpression": expression,
                "ConditionExpression": condition,
                "ExpressionAttributeNames": {
                    **names,
                    "#asset_version": "asset_version",
                    "#master": "master_playlist",
                    "#dash": "dash_manifest",
                    "#renditions": "renditions",
                    "#publish_count": "publish_count",
                },
                "ExpressionAttributeValues": to_attributes(values),
            }
        }

    def transact(self, items: list[TransactWriteItemTypeDef], what: str) -> None:
        try:
            self._ddb.transact_write_items(TransactItems=items)
        except ClientError as exc:
            raise domain_error(exc, what) from exc


def _job(attributes: dict[str, Any]) -> Job:
    return Job.model_validate(from_attributes(attributes))


class DynamoUploadRepository:
    """Upload sessions, kept in the jobs table next to the jobs they create."""

    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self.table_name = table_name
        self._ddb = client
        self._table = Table(table_name, client)

    @staticmethod
    def _key(upload_id: str) -> dict[str, Any]:
        return to_attributes(
            {spec.PK.name: spec.upload_pk(upload_id), spec.SK.name: spec.UPLOAD_SK}
        )

    def save(self, session: UploadSession) -> None:
        item = {
            **session.model_dump(mode="json"),
            spec.PK.name: spec.upload_pk(session.id),
            spec.SK.name: spec.UPLOAD_SK,
            spec.ENTITY_ATTR: spec.UPLOAD_ENTITY,
            spec.VERSION_ATTR: 1,
        }
        self._table.create(item, f"upload {session.id}")

    def get(self, upload_id: str) -> UploadSession:
        key = {spec.PK.name: spec.upload_pk(upload_id), spec.SK.name: spec.UPLOAD_SK}
        return UploadSession.model_validate(self._table.get(key, f"upload {upload_id}"))

    def mark_completed(self, upload_id: str) -> None:
        try:
            self._ddb.update_item(
                TableName=self.table_name,
                Key=self._key(upload_id),
                UpdateExpression="SET #completed = :true, #version = #version + :one",
                ConditionExpression="attribute_exists(#pk)",
                ExpressionAttributeNames={
                    "#completed": "completed",
                    "#version": spec.VERSION_ATTR,
                    "#pk": spec.PK.name,
                },
                ExpressionAttributeValues=to_attributes({":true": True, ":one": 1}),
            )
        except ClientError as exc:
            raise domain_error(exc, f"upload {upload_id}") from exc

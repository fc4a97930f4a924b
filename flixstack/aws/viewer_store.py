"""DynamoDB repository for the viewers table: profiles and what each profile owns.

Everything an account owns is in its partition (``ACCOUNT#<sub>``), so a key built from
the caller's account can never reach another account's items. A profile is an item in
one of the account's numbered slots; creating one is a put that only succeeds on a free
slot, which makes the profile limit atomic without a counter or a transaction. Progress,
history, My List and ratings sort under ``P#<profile id>#``. Every write is a single-item
conditional write built from the named conditions below; queries only, no scans.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from flixstack import cursors, spec
from flixstack.aws.dynamo import Item, Table, domain_error, from_attributes, to_attributes
from flixstack.errors import Conflict, InvalidInput, NotFound
from flixstack.viewers.models import (
    Account,
    HistoryEntry,
    ListEntry,
    Profile,
    Progress,
    Rating,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import QueryInputTypeDef

IS_NEW = "attribute_not_exists(#pk)"
IS_PROFILE = "#id = :id"
VERSION_MATCHES = "#version = :expected"
NEWER = "(#client_ts < :client_ts OR (#client_ts = :client_ts AND #event_id < :event_id))"
"""The heartbeat being written is later (client time, then event id) than the stored one."""
LATER_IN_SESSION = f"({IS_NEW} OR #last_at < :last_at)"
PROFILE_FIELDS = ("name", "avatar", "kids", "maturity_level", "language", "updated_at")


class DynamoViewerRepository:
    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self.table_name = table_name
        self._ddb = client
        self._table = Table(table_name, client)

    @staticmethod
    def _key(account: str, sk: str) -> dict[str, str]:
        return {spec.PK.name: spec.account_pk(account), spec.SK.name: sk}

    def _item(self, account: str, sk: str, entity: str, data: Item) -> Item:
        return {spec.VERSION_ATTR: 1, **data, **self._key(account, sk), spec.ENTITY_ATTR: entity}

    def _put(
        self,
        item: Item,
        what: str,
        condition: str | None = None,
        names: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
    ) -> None:
        request: dict[str, Any] = {"TableName": self.table_name, "Item": to_attributes(item)}
        if condition is not None:
            request["ConditionExpression"] = condition
            named = {"#pk": spec.PK.name, **(names or {})}
            # DynamoDB refuses names and values an expression does not use
            request["ExpressionAttributeNames"] = {k: v for k, v in named.items() if k in condition}
            if values:
                request["ExpressionAttributeValues"] = to_attributes(values)
        try:
            self._ddb.put_item(**request)
        except ClientError as exc:
            raise domain_error(exc, what) from exc

    def _delete(self, account: str, sk: str, what: str) -> None:
        try:
            self._ddb.delete_item(
                TableName=self.table_name, Key=to_attributes(self._key(account, sk))
            )
        except ClientError as exc:
            raise domain_error(exc, what) from exc

    def _query(
        self,
        account: str,
        prefix: str,
        *,
        newest_first: bool = False,
        limit: int | None = None,
        start: str | None = None,
        keys_only: bool = False,
    ) -> tuple[list[Item], str | None]:
        """One page of the account's items whose sort key starts with ``prefix``; the
        second value is the last sort key read when there is more."""
        request: QueryInputTypeDef = {
            "TableName": self.table_name,
            "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :prefix)",
            "ExpressionAttributeNames": {"#pk": spec.PK.name, "#sk": spec.SK.name},
            "ExpressionAttributeValues": to_attributes(
                {":pk": spec.account_pk(account), ":prefix": prefix}
            ),
            "ConsistentRead": True,
            "ScanIndexForward": not newest_first,
        }
        if limit is not None:
            request["Limit"] = limit
        if start is not None:
            request["ExclusiveStartKey"] = to_attributes(self._key(account, start))
        if keys_only:
            request["ProjectionExpression"] = "#pk, #sk"
        try:
            response = self._ddb.query(**request)
        except ClientError as exc:
            raise domain_error(exc, f"items {prefix}") from exc
        last = response.get("LastEvaluatedKey")
        last_sk = str(from_attributes(last)[spec.SK.name]) if last else None
        return [from_attributes(i) for i in response.get("Items", [])], last_sk

    def _all(self, account: str, prefix: str, *, keys_only: bool = False) -> Iterator[Item]:
        start: str | None = None
        while True:
            items, start = self._query(account, prefix, start=start, keys_only=keys_only)
            yield from items
            if start is None:
                return

    # --- the account -------------------------------------------------------------------------
    def account(self, account: str) -> Account:
        """The account's own item; an account without one is active."""
        try:
            item = self._table.get(self._key(account, spec.ACCOUNT_SK), "account")
        except NotFound:
            return Account()
        return Account.model_validate(item)

    def save_account(self, account: str, state: Account) -> None:
        """Writes the account's item if it is still at the version before ``state``'s."""
        item = self._item(account, spec.ACCOUNT_SK, spec.ACCOUNT_ENTITY, state.model_dump())
        self._put(
            item,
            f"account {account}",
            f"{IS_NEW} OR {VERSION_MATCHES}",
            {"#version": spec.VERSION_ATTR},
            {":expected": state.version - 1},
        )

    # --- profiles ----------------------------------------------------------------------------
    def profiles(self, account: str) -> list[Profile]:
        """The account's profiles, by slot."""
        found = [Profile.model_validate(i) for i in self._all(account, spec.PROFILE_SK_PREFIX)]
        return sorted(found, key=lambda p: p.slot)

    def profile(self, account: str, profile_id: str) -> Profile:
        """NotFound unless the account has this profile (another account's is not found)."""
        for profile in self.profiles(account):
            if profile.id == profile_id:
                return profile
        raise NotFound(f"no profile {profile_id}")

    def create_profile(self, account: str, profile: Profile) -> None:
        """Puts the profile in its slot; Conflict (reason slot_taken) if the slot is not free."""
        item = self._item(
            account,
            spec.profile_sk(profile.slot),
            spec.PROFILE_ENTITY,
            {**profile.model_dump(mode="json"), "list_seq": 0},
        )
        try:
            self._put(item, f"profile slot {profile.slot}", IS_NEW)
        except Conflict as exc:
            raise Conflict(f"profile slot {profile.slot} is taken", reason="slot_taken") from exc

    def update_profile(self, account: str, profile: Profile, expected_version: int) -> None:
        """Writes the editable fields if the slot still holds this profile at that version;
        Conflict otherwise. Other attributes (the My List counter) are left alone."""
        fields = profile.model_dump(mode="json", include=set(PROFILE_FIELDS))
        sets = ", ".join(f"#{name} = :{name}" for name in fields)
        try:
            self._ddb.update_item(
                TableName=self.table_name,
                Key=to_attributes(self._key(account, spec.profile_sk(profile.slot))),
                UpdateExpression=f"SET {sets}, #version = :version",
                ConditionExpression=f"{IS_PROFILE} AND {VERSION_MATCHES}",
                ExpressionAttributeNames={
                    **{f"#{name}": name for name in fields},
                    "#id": "id",
                    "#version": spec.VERSION_ATTR,
                },
                ExpressionAttributeValues=to_attributes(
                    {
                        **{f":{name}": value for name, value in fields.items()},
                        ":id": profile.id,
                        ":expected": expected_version,
                        ":version": profile.version,
                    }
                ),
            )
        except ClientError as exc:
            raise domain_error(exc, f"profile {profile.id}") from exc

    def delete_profile(self, account: str, profile: Profile) -> None:
        """Frees the profile's slot (NotFound if it no longer holds it); its items go with
        ``purge``."""
        try:
            self._ddb.delete_item(
                TableName=self.table_name,
                Key=to_attributes(self._key(account, spec.profile_sk(profile.slot))),
                ConditionExpression=IS_PROFILE,
                ExpressionAttributeNames={"#id": "id"},
                ExpressionAttributeValues=to_attributes({":id": profile.id}),
            )
        except ClientError as exc:
            error = domain_error(exc, f"profile {profile.id}")
            if isinstance(error, Conflict):
                raise NotFound(f"no profile {profile.id}") from exc
            raise error from exc

    def purge(self, account: str, profile_id: str) -> int:
        """Deletes every item a profile owns; how many there were."""
        keys = [
            {"DeleteRequest": {"Key": to_attributes(self._key(account, str(i[spec.SK.name])))}}
            for i in self._all(account, spec.profile_items_prefix(profile_id), keys_only=True)
        ]
        self._table.batch_write(keys, f"items of profile {profile_id}")
        return len(keys)

    # --- progress and history ------------------------------------------------------------------
    def progress(self, account: str, profile_id: str, title_id: str) -> Progress | None:
        try:
            item = self._table.get(
                self._key(account, spec.progress_sk(profile_id, title_id)), "progress"
            )
        except NotFound:
            return None
        return Progress.model_validate(item)

    def all_progress(self, account: str, profile_id: str) -> list[Progress]:
        return [
            Progress.model_validate(i) for i in self._all(account, spec.progress_prefix(profile_id))
        ]

    def save_progress(
        self, account: str, profile_id: str, progress: Progress, expected_version: int | None
    ) -> None:
        """Writes the progress if nothing was stored (``expected_version`` None), or if the
        stored one is still the version read and older than this; Conflict otherwise."""
        item = self._item(
            account,
            spec.progress_sk(profile_id, progress.title_id),
            spec.PROGRESS_ENTITY,
            progress.model_dump(mode="json"),
        )
        if expected_version is None:
            self._put(item, f"progress of {progress.title_id}", IS_NEW)
            return
        self._put(
            item,
            f"progress of {progress.title_id}",
            f"{VERSION_MATCHES} AND {NEWER}",
            {"#version": spec.VERSION_ATTR, "#client_ts": "client_ts", "#event_id": "event_id"},
            {
                ":expected": expected_version,
                ":client_ts": item["client_ts"],
                ":event_id": progress.event_id,
            },
        )

    def record_session(self, account: str, profile_id: str, entry: HistoryEntry) -> bool:
        """Writes a viewing session's history entry unless a later state of it is stored
        (two writers of one session: the later heartbeat's state stays). False if not."""
        data = entry.model_dump(mode="json")
        sk = spec.history_sk(profile_id, data["started_at"], entry.title_id, entry.episode_id)
        try:
            self._put(
                self._item(account, sk, spec.HISTORY_ENTITY, data),
                f"history of {entry.title_id}",
                LATER_IN_SESSION,
                {"#last_at": "last_at"},
                {":last_at": data["last_at"]},
            )
        except Conflict:
            return False
        return True

    def history(
        self, account: str, profile_id: str, *, limit: int, cursor: str | None
    ) -> tuple[list[HistoryEntry], str | None]:
        """A page of viewing sessions, newest first; the cursor is opaque and only ever
        moves within this profile's history."""
        prefix = spec.history_prefix(profile_id)
        start = None if cursor is None else prefix + _after(cursor)
        # one more than asked: a full last page then gets no cursor to an empty page
        items, last = self._query(account, prefix, newest_first=True, limit=limit + 1, start=start)
        if len(items) > limit:
            items, last = items[:limit], str(items[limit - 1][spec.SK.name])
        next_cursor = None if last is None else cursors.encode({"after": last[len(prefix) :]})
        return [HistoryEntry.model_validate(i) for i in items], next_cursor

    # --- My List ---------------------------------------------------------------------------------
    def my_list(self, account: str, profile_id: str) -> list[ListEntry]:
        """The listed titles in the order they were added."""
        entries = [
            ListEntry.model_validate(i) for i in self._all(account, spec.my_list_prefix(profile_id))
        ]
        return sorted(entries, key=lambda e: e.seq)

    def add_to_list(self, account: str, profile: Profile, title_id: str, added_at: str) -> bool:
        """Adds the title at the end of the list; False (and nothing changes) if it is on it.

        The position comes from a counter on the profile item, so it is monotonic however
        many processes add at once (a re-add only leaves a gap in the numbers)."""
        try:
            response = self._ddb.update_item(
                TableName=self.table_name,
                Key=to_attributes(self._key(account, spec.profile_sk(profile.slot))),
                UpdateExpression="ADD #seq :one",
                ConditionExpression=IS_PROFILE,
                ExpressionAttributeNames={"#seq": "list_seq", "#id": "id"},
                ExpressionAttributeValues=to_attributes({":one": 1, ":id": profile.id}),
                ReturnValues="UPDATED_NEW",
            )
        except ClientError as exc:
            error = domain_error(exc, f"profile {profile.id}")
            if isinstance(error, Conflict):
                raise NotFound(f"no profile {profile.id}") from exc
            raise error from exc
        seq = int(from_attributes(response["Attributes"])["list_seq"])
        entry = ListEntry(title_id=title_id, seq=seq, added_at=added_at)
        item = self._item(
            account,
            spec.my_list_sk(profile.id, title_id),
            spec.MY_LIST_ENTITY,
            entry.model_dump(mode="json"),
        )
        try:
            self._put(item, f"My List entry {title_id}", IS_NEW)
        except Conflict:
            return False
        return True

    def remove_from_list(self, account: str, profile_id: str, title_id: str) -> None:
        self._delete(account, spec.my_list_sk(profile_id, title_id), f"My List entry {title_id}")

    # --- ratings ---------------------------------------------------------------------------------
    def ratings(self, account: str, profile_id: str) -> list[Rating]:
        return [
            Rating.model_validate(i) for i in self._all(account, spec.rating_prefix(profile_id))
        ]

    def rate(self, account: str, profile_id: str, rating: Rating) -> None:
        sk = spec.rating_sk(profile_id, rating.title_id)
        self._put(
            self._item(account, sk, spec.RATING_ENTITY, rating.model_dump(mode="json")),
            f"rating of {rating.title_id}",
        )

    def unrate(self, account: str, profile_id: str, title_id: str) -> None:
        self._delete(account, spec.rating_sk(profile_id, title_id), f"rating of {title_id}")


def _after(cursor: str) -> str:
    """The sort key (below the profile's history prefix) a history cursor resumes after."""
    after = cursors.decode(cursor).get("after")
    if not isinstance(after, str) or not after or len(after) > 300:
        raise InvalidInput("cursor is not one this API issued", reason="bad_cursor")
    return after

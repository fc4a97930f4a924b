"""Demo accounts for a local platform: a viewer and an admin, with fresh passwords.

``flixstack up`` (re)sets both passwords on every start, prints them, and writes them to
``<state dir>/credentials.json`` (readable by the owner only), so nothing secret lives in
the code and a long-running emulator never keeps a password it was started with.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from botocore.exceptions import ClientError

from flixstack import spec
from flixstack.auth.identity import Pool
from flixstack.aws.clients import AwsClients

DEMO_VIEWER = "viewer@flixstack.local"
DEMO_ADMIN = "admin@flixstack.local"
CREDENTIALS_FILE = "credentials.json"


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str
    groups: tuple[str, ...]


def new_password() -> str:
    """Random, and within the pool's policy (12+ characters, upper, lower, digit)."""
    return f"Fx{secrets.token_urlsafe(15)}7a"


def ensure_user(
    clients: AwsClients, pool: Pool, username: str, password: str, groups: tuple[str, ...] = ()
) -> Credentials:
    cognito = clients.cognito
    try:
        cognito.admin_create_user(
            UserPoolId=pool.pool_id,
            Username=username,
            UserAttributes=[
                {"Name": "email", "Value": username},
                {"Name": "email_verified", "Value": "true"},
            ],
            MessageAction="SUPPRESS",
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "UsernameExistsException":
            raise
    cognito.admin_set_user_password(
        UserPoolId=pool.pool_id, Username=username, Password=password, Permanent=True
    )
    for group in groups:
        cognito.admin_add_user_to_group(UserPoolId=pool.pool_id, Username=username, GroupName=group)
    return Credentials(username, password, groups)


@dataclass(frozen=True)
class SavedAccount:
    """A demo account and the local platform it belongs to."""

    credentials: Credentials
    endpoint: str
    stage: str


def demo_accounts(
    clients: AwsClients, pool: Pool, state_dir: Path, stage: str
) -> list[Credentials]:
    accounts = [
        ensure_user(clients, pool, DEMO_VIEWER, new_password()),
        ensure_user(clients, pool, DEMO_ADMIN, new_password(), (spec.ADMIN_GROUP,)),
    ]
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / CREDENTIALS_FILE
    path.touch(mode=0o600)
    os.chmod(path, 0o600)
    saved = {"endpoint": pool.endpoint, "stage": stage, "accounts": [asdict(a) for a in accounts]}
    path.write_text(json.dumps(saved, indent=2))
    return accounts


def saved(state_dir: Path, username: str) -> SavedAccount | None:
    """The demo account ``up`` saved under this name, if any (with its platform)."""
    path = state_dir / CREDENTIALS_FILE
    if not path.is_file():
        return None
    data = json.loads(path.read_text())
    for entry in data["accounts"]:
        if entry["username"] == username:
            credentials = Credentials(entry["username"], entry["password"], tuple(entry["groups"]))
            return SavedAccount(credentials, data["endpoint"], data["stage"])
    return None

"""Opaque page cursors: URL-safe base64 of a small JSON object. Clients only pass them back."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from flixstack.errors import InvalidInput


def encode(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(cursor: str) -> dict[str, Any]:
    """The cursor's object; InvalidInput (reason bad_cursor) for anything else."""
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput("cursor is not one this API issued", reason="bad_cursor") from exc
    if not isinstance(data, dict):
        raise InvalidInput("cursor is not one this API issued", reason="bad_cursor")
    return data

"""One ComponentResource per platform capability."""

from __future__ import annotations

from collections.abc import Mapping

PROJECT_TAG = "flixstack"


def tags(stage: str, capability: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Tags every resource carries: project, stage and the capability that owns it."""
    return {"project": PROJECT_TAG, "stage": stage, "capability": capability, **(extra or {})}

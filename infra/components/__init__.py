"""One ComponentResource per platform capability."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi_aws as aws

PROJECT_TAG = "flixstack"


def tags(stage: str, capability: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Tags every resource carries: project, stage and the capability that owns it."""
    return {"project": PROJECT_TAG, "stage": stage, "capability": capability, **(extra or {})}


@dataclass(frozen=True)
class Region:
    """One region of the stack and the provider that creates resources there. The program
    makes them (``infra/__main__.py``) and passes them in: components read no global state."""

    name: str
    provider: aws.Provider | None
    """None for the primary region: the stack's default provider, which ``aws:region`` (the
    first of ``flixstack:regions``) and the other ``aws:*`` settings configure."""

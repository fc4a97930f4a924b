"""The flixstack policy pack: ``pulumi preview --policy-pack infra/policy``."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # the pack runs with infra/policy/ as its program directory
    sys.path.insert(0, str(ROOT))

from pulumi_policy import (  # noqa: E402
    EnforcementLevel,
    PolicyPack,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from infra.policy.rules import RULES, Resource, Rule  # noqa: E402


def _validator(rule: Rule):  # type: ignore[no-untyped-def]
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        graph = [Resource(r.resource_type, r.name, r.props) for r in args.resources]
        for message in rule.check(graph):
            report_violation(message, None)

    return validate


PolicyPack(
    name="flixstack",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        StackValidationPolicy(
            name=rule.name, description=rule.description, validate=_validator(rule)
        )
        for rule in RULES
    ],
)

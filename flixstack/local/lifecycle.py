"""S3 lifecycle transitions for emulators, which store lifecycle rules but never run them.

AWS evaluates a bucket's lifecycle configuration about once a day; ``sweep`` does the same
on demand, optionally "as if" some days had passed: it reads the bucket's configuration
back from the endpoint (so it tests what was really configured, not what the spec meant),
and moves each current object whose age and tags match a rule's transition to that
storage class (copying the object onto itself, as only the emulator needs), or deletes it
when an expiration applies. Where several transitions apply, the coldest wins, as on AWS.
Noncurrent-version and multipart-upload rules are not emulated.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# Storage classes from warm to cold: S3 only ever transitions objects down this list.
WATERFALL: tuple[str, ...] = (
    "STANDARD",
    "STANDARD_IA",
    "INTELLIGENT_TIERING",
    "ONEZONE_IA",
    "GLACIER_IR",
    "GLACIER",
    "DEEP_ARCHIVE",
)


@dataclass
class SweepReport:
    bucket: str
    examined: int = 0
    transitioned: Counter[str] = field(default_factory=Counter)
    """Objects moved, by the storage class they went to."""
    expired: int = 0


@dataclass(frozen=True)
class _Rule:
    prefix: str
    tags: dict[str, str]
    transitions: tuple[tuple[int, str], ...]
    expiration_days: int | None

    @classmethod
    def parse(cls, rule: dict[str, Any]) -> _Rule:
        shape = rule.get("Filter", {"Prefix": rule.get("Prefix", "")})
        both = shape.get("And", {})
        tags = [*both.get("Tags", []), *([shape["Tag"]] if "Tag" in shape else [])]
        return cls(
            prefix=both.get("Prefix", shape.get("Prefix", "")),
            tags={t["Key"]: t["Value"] for t in tags},
            transitions=tuple(
                (int(t.get("Days", 0)), t["StorageClass"]) for t in rule.get("Transitions", [])
            ),
            expiration_days=rule.get("Expiration", {}).get("Days"),
        )

    def applies(self, key: str, tags: Callable[[], dict[str, str]]) -> bool:
        return key.startswith(self.prefix) and (
            not self.tags or self.tags.items() <= tags().items()
        )


def _rules(s3: S3Client, bucket: str) -> list[_Rule]:
    try:
        rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NoSuchLifecycleConfiguration":
            return []
        raise
    return [_Rule.parse(dict(r)) for r in rules if r.get("Status") == "Enabled"]


def sweep(s3: S3Client, bucket: str, *, days_ahead: float = 0.0) -> SweepReport:
    """Applies the bucket's lifecycle transitions and expirations as of now + ``days_ahead``."""
    at = datetime.now(UTC) + timedelta(days=days_ahead)
    rules = _rules(s3, bucket)
    report = SweepReport(bucket)
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for summary in page.get("Contents", []):
            key = summary["Key"]
            report.examined += 1
            age_days = (at - summary["LastModified"]).total_seconds() / 86400
            cached: dict[str, str] | None = None

            def tags(key: str = key) -> dict[str, str]:
                nonlocal cached
                if cached is None:
                    tag_set = s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]
                    cached = {t["Key"]: t["Value"] for t in tag_set}
                return cached

            matching = [r for r in rules if r.applies(key, tags)]
            if any(
                r.expiration_days is not None and age_days >= r.expiration_days for r in matching
            ):
                s3.delete_object(Bucket=bucket, Key=key)
                report.expired += 1
                continue
            due = [cls for r in matching for days, cls in r.transitions if age_days >= days]
            current = summary.get("StorageClass", "STANDARD")
            target = max(due, key=WATERFALL.index, default=current)
            if WATERFALL.index(target) > WATERFALL.index(current):
                s3.copy_object(
                    Bucket=bucket,
                    Key=key,
                    CopySource={"Bucket": bucket, "Key": key},
                    StorageClass=target,  # type: ignore[arg-type]
                    MetadataDirective="COPY",
                    TaggingDirective="COPY",
                )
                report.transitioned[target] += 1
    return report

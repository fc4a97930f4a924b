"""How the spec's S3 notifications become resources: one configuration per bucket (S3 keeps
only one), one policy per queue."""

from __future__ import annotations

from flixstack import spec
from infra.components.messaging import notifications_by

MASTERS = spec.NotificationSpec("masters", spec.INGEST, spec.TRANSCODE, spec.MASTERS_PREFIX)
OTHER = spec.NotificationSpec("other", spec.INGEST, spec.TRANSCODE_DLQ, "other/")
ARTIFACT = spec.NotificationSpec("artifact", spec.ARTIFACTS, spec.TRANSCODE, "models/")


def test_notifications_of_one_bucket_share_one_configuration() -> None:
    grouped = notifications_by("bucket", (MASTERS, OTHER, ARTIFACT))
    assert grouped == {"ingest": [MASTERS, OTHER], "artifacts": [ARTIFACT]}


def test_each_queue_admits_every_bucket_that_notifies_it() -> None:
    grouped = notifications_by("queue", (MASTERS, OTHER, ARTIFACT))
    assert grouped == {"transcode": [MASTERS, ARTIFACT], "transcode-dlq": [OTHER]}


def test_the_spec_notifies_the_transcode_queue_of_masters_only() -> None:
    assert notifications_by("bucket") == {"ingest": [spec.MASTER_UPLOADED]}
    assert spec.MASTER_UPLOADED.queue is spec.TRANSCODE
    assert spec.MASTER_UPLOADED.prefix == spec.MASTERS_PREFIX

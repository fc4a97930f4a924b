from __future__ import annotations

import pytest

from flixstack import spec


def test_physical_names_carry_project_and_stage() -> None:
    naming = spec.Naming("dev", "123456789012")
    assert naming.table(spec.CATALOG) == "flixstack-dev-catalog"
    assert naming.queue(spec.TRANSCODE) == "flixstack-dev-transcode"
    assert naming.stream(spec.EVENTS) == "flixstack-dev-events"
    assert naming.bucket(spec.MEDIA) == "flixstack-dev-media-123456789012"
    assert spec.Naming("dev").bucket(spec.MEDIA) == "flixstack-dev-media"


@pytest.mark.parametrize("stage", ["Dev", "dev_1", "-dev", "dev-", "", "dév"])
def test_bad_stage_names_are_refused(stage: str) -> None:
    with pytest.raises(ValueError, match="stage"):
        spec.Naming(stage)


def test_bucket_names_longer_than_s3_allows_are_refused() -> None:
    with pytest.raises(ValueError, match="63"):
        spec.Naming("a" * 40, "123456789012").bucket(spec.ARTIFACTS)


def test_key_attributes_are_declared_once_each() -> None:
    names = [a.name for a in spec.CATALOG.key_attributes()]
    assert names == ["pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"]
    assert [a.name for a in spec.VIEWERS.key_attributes()] == ["pk", "sk"]


def test_index_lookup() -> None:
    assert spec.CATALOG.index("by-state") is spec.CATALOG_BY_STATE
    with pytest.raises(KeyError):
        spec.CATALOG.index("nope")


def test_dead_letter_queues_are_declared_before_the_queues_that_use_them() -> None:
    seen: set[str] = set()
    for queue in spec.QUEUES:
        if queue.dead_letter is not None:
            assert queue.dead_letter.logical in seen
            assert queue.dead_letter in spec.QUEUES
        seen.add(queue.logical)


def test_logical_names_are_unique_per_kind() -> None:
    for group in (spec.TABLES, spec.BUCKETS, spec.QUEUES, spec.STREAMS, spec.USER_POOLS):
        logicals = [item.logical for item in group]
        assert len(logicals) == len(set(logicals))

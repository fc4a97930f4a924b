"""Parsing S3 notifications into master uploads, and progress spans (no network)."""

from __future__ import annotations

import itertools
import json

import pytest

from flixstack.errors import InvalidInput
from flixstack.media.notifications import parse_masters
from flixstack.media.uploads import part_size
from flixstack.media.worker import STAGE_SPANS


def record(key: str, event: str = "ObjectCreated:CompleteMultipartUpload") -> dict[str, object]:
    return {
        "eventName": event,
        "s3": {"bucket": {"name": "ingest"}, "object": {"key": key, "size": 10, "eTag": "abc-1"}},
    }


def test_a_master_upload_is_parsed_with_its_title_and_upload_ids() -> None:
    (upload,) = parse_masters(
        json.dumps({"Records": [record("masters/t1/u1/My+Film+%281%29.mp4")]})
    )
    assert (upload.bucket, upload.title_id, upload.upload_id) == ("ingest", "t1", "u1")
    assert upload.key == "masters/t1/u1/My Film (1).mp4"  # S3 keys arrive URL-encoded
    assert (upload.size, upload.etag) == (10, "abc-1")


def test_test_events_sidecars_and_deletes_announce_nothing() -> None:
    assert parse_masters(json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"})) == []
    assert parse_masters(json.dumps({"Records": [record("sidecars/t1/u1/en.srt")]})) == []
    assert (
        parse_masters(
            json.dumps({"Records": [record("masters/t1/u1/a.mp4", "ObjectRemoved:Delete")]})
        )
        == []
    )
    assert parse_masters(json.dumps({"Records": [record("masters/t1/a.mp4")]})) == []


@pytest.mark.parametrize("body", ["not json", "[1, 2]", '"text"'])
def test_what_is_not_an_s3_notification_is_poison(body: str) -> None:
    with pytest.raises(InvalidInput):
        parse_masters(body)


def test_part_size_fits_s3s_part_limit() -> None:
    assert part_size(10, None) == 8 * 2**20
    assert part_size(10, 16 * 2**20) == 16 * 2**20
    huge = 200 * 2**30
    assert part_size(huge, None) * 10_000 >= huge


def test_stage_spans_cover_zero_to_a_hundred_in_order() -> None:
    for spans in STAGE_SPANS.values():
        edges = list(spans.values())
        assert edges[0][0] == 0
        assert edges[-1][1] == 100
        assert all(a[1] == b[0] for a, b in itertools.pairwise(edges))

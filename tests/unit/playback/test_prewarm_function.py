"""The prewarm queue's Lambda entry point with real SQS event records: a poison record is
reported alone (ReportBatchItemFailures), the others are warmed."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from flixstack.playback import wiring
from tests.unit.playback.test_prewarm import MASTER, Edge, warmer
from tests.unit.test_dispatch import LambdaContext, sqs_record


@pytest.fixture
def edge(monkeypatch: pytest.MonkeyPatch) -> Edge:
    served = Edge()
    monkeypatch.setattr(wiring, "_deployed_prewarmer", lambda: warmer(served))
    return served


def test_a_poison_record_is_reported_alone(edge: Edge) -> None:
    import functions.prewarm as entry

    event: dict[str, Any] = {
        "Records": [
            sqs_record(json.dumps({"title_id": "t1", "master_playlist": MASTER}), "m-1"),
            sqs_record("not a prewarm message", "m-2"),
        ]
    }
    response = entry.handler(event, LambdaContext(function_name="flixstack-dev-prewarm"))
    assert response == {"batchItemFailures": [{"itemIdentifier": "m-2"}]}
    assert {host for host, _, _ in edge.seen} == {"cdn-a", "cdn-b"}


def test_the_function_imports_no_media_libraries() -> None:
    heavy = ("av", "ffmpeg", "imageio_ffmpeg", "numpy", "flixstack.media.worker")
    code = f"import sys, functions.prewarm; print([m for m in {heavy!r} if m in sys.modules])"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"

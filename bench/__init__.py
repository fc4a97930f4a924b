"""Benchmarks: ``make bench`` (or ``python -m bench [--quick] [name ...]``).

Each benchmark module exposes ``run(quick: bool) -> dict`` and writes its JSON to
``bench/results/<name>.json``. Speed is always a ratio against a peer run side by side in
the same run (plain ffmpeg, a bare FastAPI endpoint, the ``implicit`` library)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def write_result(name: str, result: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    return path

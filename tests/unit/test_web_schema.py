"""The web app's API types (web/src/schema.d.ts) are generated from the API's OpenAPI
document: a route or model change that the committed types do not reflect fails here, before
the app's type-check could miss it (`make web-schema` regenerates them)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from flixstack.api.openapi import document
from tests.conftest import ROOT

WEB = ROOT / "web"
GENERATOR = WEB / "node_modules" / ".bin" / "openapi-typescript"


def test_the_web_apps_api_types_match_the_api(tmp_path: Path) -> None:
    assert GENERATOR.is_file(), "run `make install` (npm ci in web/) first"
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(document()))
    out = tmp_path / "schema.d.ts"
    made = subprocess.run(
        [str(GENERATOR), str(spec), "-o", str(out)],
        cwd=WEB, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    committed = (WEB / "src" / "schema.d.ts").read_text()
    assert out.read_text() == committed, "web/src/schema.d.ts is stale: run `make web-schema`"

"""The API's Lambda layer carries numpy for the recommendation model, never the training
job's scipy (too big for a layer, and the API does not train)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REQUIREMENTS = Path(__file__).resolve().parents[3] / "functions" / "requirements.txt"


def test_the_api_imports_numpy_but_not_scipy() -> None:
    probe = (
        "import sys, functions.api, functions.events; "
        "print('scipy' in sys.modules, 'numpy' in sys.modules)"
    )
    found = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        cwd=REQUIREMENTS.parents[1],
    )
    assert found.stdout.split()[-2:] == ["False", "True"]
    layer = {
        line.split(">")[0].split("=")[0].strip() for line in REQUIREMENTS.read_text().splitlines()
    }
    assert "numpy" in layer
    assert "scipy" not in layer

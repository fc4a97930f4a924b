"""The API's OpenAPI document, from which the web app's types are generated
(``web/src/schema.d.ts``; ``make web-schema`` regenerates them, and a unit test checks they
are current): ``python -m flixstack.api.openapi > openapi.json``."""

from __future__ import annotations

import json
import sys
from typing import Any

from flixstack.api.app import create_app


def document() -> dict[str, Any]:
    return create_app().openapi()


if __name__ == "__main__":
    json.dump(document(), sys.stdout, indent=1)
    sys.stdout.write("\n")

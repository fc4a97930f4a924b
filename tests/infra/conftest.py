from __future__ import annotations

from pathlib import Path

import pytest

from infra import packaging
from tests.infra.mockgraph import STACKS, Graph, run_stack


@pytest.fixture
def no_pip(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The program builds the Lambda dependency layer with pip at deploy time; under mocks
    the layer is an empty directory, and pip is never run."""

    def fake_build(target: Path, architecture: str) -> Path:
        layer = tmp_path / "layer" / architecture
        (layer / "python").mkdir(parents=True, exist_ok=True)
        return layer

    monkeypatch.setattr(packaging, "build_dependency_layer", fake_build)


WEB_BUILD = {
    "index.html": '<!doctype html><script type="module" src="/app/assets/index-AbC123.js"></script>',
    "player.html": "<!doctype html><title>player</title>",
    "assets/index-AbC123.js": "export {};",
    "assets/index-AbC123.js.map": "{}",
    "assets/index-DeF456.css": "body{}",
}
"""A tiny stand-in for the Vite build of web/, by path relative to web/dist."""


@pytest.fixture(autouse=True)
def web_build(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The program uploads the web app's build; under mocks it is ``WEB_BUILD`` in a
    temporary folder, so no test needs (or sees) a real ``npm run build``."""
    dist = tmp_path / "web-dist"
    for path, text in WEB_BUILD.items():
        (dist / path).parent.mkdir(parents=True, exist_ok=True)
        (dist / path).write_text(text)
    monkeypatch.setattr(packaging, "WEB_DIST", dist)
    return dist


@pytest.fixture(params=STACKS)
def stack(request: pytest.FixtureRequest) -> str:
    """Each stack of stacks/ in turn."""
    return str(request.param)


@pytest.fixture
def graph(stack: str, no_pip: None) -> Graph:
    """The resource graph the program makes for ``stack`` under mocks."""
    return run_stack(stack)

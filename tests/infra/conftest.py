from __future__ import annotations

import json
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


@pytest.fixture(scope="session")
def web_build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("web") / "web-dist"
    for path, text in WEB_BUILD.items():
        (dist / path).parent.mkdir(parents=True, exist_ok=True)
        (dist / path).write_text(text)
    return dist


@pytest.fixture(autouse=True)
def web_build(monkeypatch: pytest.MonkeyPatch, web_build_dir: Path) -> Path:
    """The program uploads the web app's build; under mocks it is ``WEB_BUILD`` in a
    temporary folder (one for the session: the shared graphs name its files), so no test
    needs (or sees) a real ``npm run build``."""
    monkeypatch.setattr(packaging, "WEB_DIST", web_build_dir)
    return web_build_dir


@pytest.fixture(params=STACKS)
def stack(request: pytest.FixtureRequest) -> str:
    """Each stack of stacks/ in turn."""
    return str(request.param)


GRAPHS: dict[tuple[str, str], Graph] = {}
"""Graphs the program made under mocks, by stack and extra config: it is deterministic
there, and tests only read a graph, so each is made once a session (a run takes seconds)."""


def shared_graph(stack: str, extra: dict[str, str] | None = None) -> Graph:
    """``run_stack(stack, extra)``, made once a session (for fixtures: a test that changes
    what the program sees calls ``run_stack`` itself)."""
    key = (stack, json.dumps(extra or {}, sort_keys=True))
    if key not in GRAPHS:
        GRAPHS[key] = run_stack(stack, extra)
    return GRAPHS[key]


@pytest.fixture
def graph(stack: str, no_pip: None) -> Graph:
    """The resource graph the program makes for ``stack`` under mocks."""
    return shared_graph(stack)

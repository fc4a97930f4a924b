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


@pytest.fixture(params=STACKS)
def stack(request: pytest.FixtureRequest) -> str:
    """Each stack of stacks/ in turn."""
    return str(request.param)


@pytest.fixture
def graph(stack: str, no_pip: None) -> Graph:
    """The resource graph the program makes for ``stack`` under mocks."""
    return run_stack(stack)

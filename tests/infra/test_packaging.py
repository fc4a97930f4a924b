"""Lambda packaging: sources only, dependencies built for Lambda's platform once."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from infra import packaging


def test_code_archive_holds_the_sources_and_no_caches() -> None:
    assets = packaging.code_archive().assets
    assert "functions/api.py" in assets
    assert "flixstack/spec.py" in assets
    assert "flixstack/py.typed" in assets
    assert not [name for name in assets if "__pycache__" in name or name.endswith(".pyc")]


def test_layer_is_built_for_lambda_not_for_this_machine(tmp_path: Path) -> None:
    command = packaging.layer_command(tmp_path, "arm64")
    assert command[command.index("--platform") + 1] == "manylinux2014_aarch64"
    assert command[command.index("--python-version") + 1] == "3.12"
    assert command[command.index("--target") + 1] == str(tmp_path / "python")
    assert "--only-binary=:all:" in command


def test_layer_is_rebuilt_only_when_requirements_change(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr(subprocess, "run", lambda cmd, check: calls.append(cmd))
    packaging.build_dependency_layer(tmp_path, "arm64")
    packaging.build_dependency_layer(tmp_path, "arm64")
    assert len(calls) == 1
    packaging.build_dependency_layer(tmp_path, "x86_64")
    assert len(calls) == 2

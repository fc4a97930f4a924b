"""Lambda packaging: sources only, dependencies built for Lambda's platform once."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from infra import packaging


def test_code_archive_holds_the_sources_and_no_caches() -> None:
    assets = packaging.code_archive().assets
    assert "functions/api.py" in assets
    assert "functions/transcode_dispatch.py" in assets
    assert "flixstack/media/dispatch.py" in assets
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


def _image_context(root: Path) -> None:
    for name in (*packaging.IMAGE_CONTEXT, *packaging.DOCKERFILES):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(name)
    (root / "flixstack" / "media").mkdir(parents=True)
    (root / "flixstack" / "__init__.py").write_text("")
    (root / "flixstack" / "media" / "worker.py").write_text("print('v1')")
    (root / "README.md").write_text("readme")


def test_image_tag_names_the_image_built_from_these_sources(tmp_path: Path) -> None:
    # GIVEN a build context
    _image_context(tmp_path)
    tag = packaging.image_tag(tmp_path)
    assert tag.startswith("src-")
    # WHEN only caches and the README change, THEN the tag stays
    (tmp_path / "flixstack" / "__pycache__").mkdir()
    (tmp_path / "flixstack" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    (tmp_path / "README.md").write_text("a new readme")
    assert packaging.image_tag(tmp_path) == tag
    # WHEN the code or the Dockerfile changes, THEN so does the tag
    (tmp_path / "flixstack" / "media" / "worker.py").write_text("print('v2')")
    changed = packaging.image_tag(tmp_path)
    assert changed != tag
    (tmp_path / "containers" / "transcoder" / "Dockerfile").write_text("FROM scratch")
    assert packaging.image_tag(tmp_path) != changed


def test_each_image_has_a_tag_of_its_own(tmp_path: Path) -> None:
    # GIVEN a build context with both Dockerfiles
    _image_context(tmp_path)
    transcoder = packaging.image_tag(tmp_path, packaging.TRANSCODER_DOCKERFILE)
    recommender = packaging.image_tag(tmp_path, packaging.RECOMMENDER_DOCKERFILE)
    assert transcoder != recommender
    assert packaging.image_tag(tmp_path) == transcoder
    # WHEN only the recommender's Dockerfile changes, THEN only its tag does
    (tmp_path / packaging.RECOMMENDER_DOCKERFILE).write_text("FROM scratch")
    assert packaging.image_tag(tmp_path, packaging.RECOMMENDER_DOCKERFILE) != recommender
    assert packaging.image_tag(tmp_path, packaging.TRANSCODER_DOCKERFILE) == transcoder


@pytest.mark.parametrize(
    ("dockerfile", "entrypoint", "command"),
    [
        (packaging.TRANSCODER_DOCKERFILE, '["python", "-m", "flixstack.media.worker"]', '["poll"]'),
        (packaging.RECOMMENDER_DOCKERFILE, '["flixstack"]', '["train-recs"]'),
    ],
)
def test_image_files_are_what_the_dockerfile_copies(
    dockerfile: str, entrypoint: str, command: str
) -> None:
    text = (packaging.ROOT / dockerfile).read_text()
    ignore = (packaging.ROOT / ".dockerignore").read_text().splitlines()
    assert "COPY pyproject.toml README.md ./" in text
    for package in packaging.IMAGE_PACKAGES:
        assert f"COPY {package} ./{package}" in text
        assert f"!{package}/" in ignore
    assert "!pyproject.toml" in ignore
    assert f"ENTRYPOINT {entrypoint}" in text
    assert f"CMD {command}" in text

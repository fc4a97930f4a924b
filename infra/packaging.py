"""Packages the Lambda code (this repo's ``flixstack`` and ``functions``) and its dependencies,
names the container images (transcoder, recommender) built from this repo, and says where
the web app's build is."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pulumi

ROOT = Path(__file__).resolve().parent.parent
SOURCE_PACKAGES = ("flixstack", "functions")
REQUIREMENTS = ROOT / "functions" / "requirements.txt"
PYTHON_VERSION = "3.12"
PLATFORMS = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}
# What every Dockerfile under containers/ copies from the build context (see .dockerignore),
# less README.md: pyproject names it, so it is copied, but it changes nothing that runs.
IMAGE_CONTEXT = ("pyproject.toml", ".dockerignore")
IMAGE_PACKAGES = ("flixstack",)
TRANSCODER_DOCKERFILE = "containers/transcoder/Dockerfile"
RECOMMENDER_DOCKERFILE = "containers/recommender/Dockerfile"
DOCKERFILES = (TRANSCODER_DOCKERFILE, RECOMMENDER_DOCKERFILE)
WEB_DIST = ROOT / "web" / "dist"
"""The web app's Vite build (``make install`` makes it): what the ``webapp`` release uploads."""


def code_archive(root: Path = ROOT) -> pulumi.AssetArchive:
    """Only the Python sources (no caches), so the archive hash changes only with the code."""
    assets: dict[str, pulumi.Asset | pulumi.Archive] = {}
    for package in SOURCE_PACKAGES:
        for path in sorted((root / package).rglob("*")):
            if (
                path.is_file()
                and path.suffix in (".py", ".typed")
                and "__pycache__" not in path.parts
            ):
                assets[str(path.relative_to(root))] = pulumi.FileAsset(str(path))
    return pulumi.AssetArchive(assets)


def layer_command(target: Path, architecture: str, requirements: Path = REQUIREMENTS) -> list[str]:
    """pip, asked for Lambda's platform and Python rather than this machine's."""
    return [
        sys.executable, "-m", "pip", "install", "--quiet",
        "--requirement", str(requirements),
        "--target", str(target / "python"),
        "--platform", PLATFORMS[architecture],
        "--implementation", "cp",
        "--python-version", PYTHON_VERSION,
        "--only-binary=:all:",
        "--upgrade",
    ]  # fmt: skip


def build_dependency_layer(target: Path, architecture: str) -> Path:
    """Builds the layer directory unless one built from the same requirements is there."""
    stamp = target / ".requirements.sha256"
    digest = hashlib.sha256(REQUIREMENTS.read_bytes() + architecture.encode()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return target
    target.mkdir(parents=True, exist_ok=True)
    subprocess.run(layer_command(target, architecture), check=True)
    stamp.write_text(digest)
    return target


def dependency_archive(target: Path, architecture: str) -> pulumi.FileArchive:
    """The layer zip: Lambda puts its ``python/`` folder on ``sys.path``."""
    return pulumi.FileArchive(str(build_dependency_layer(target, architecture)))


def image_tag(root: Path = ROOT, dockerfile: str = TRANSCODER_DOCKERFILE) -> str:
    """The tag of the image ``dockerfile`` builds: a digest of what the image is built from.

    A stack thereby names the image of its own sources, and one tag never stands for two
    different images (the repositories' tags are immutable). CI builds and pushes
    ``<repository>:<tag>`` before ``pulumi up`` when the tag is not in the registry yet."""
    paths = [root / name for name in (*IMAGE_CONTEXT, dockerfile)]
    for package in IMAGE_PACKAGES:
        paths.extend(
            path
            for path in sorted((root / package).rglob("*"))
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
        )
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return f"src-{digest.hexdigest()[:20]}"

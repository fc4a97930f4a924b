"""Ephemeral stacks for pull requests, through Pulumi's Automation API.

    python infra/ephemeral.py up --stack pr-123 [--target localstack|aws] [--region R]
                                 [--outputs outputs.json]
    python infra/ephemeral.py images --outputs outputs.json [--target localstack|aws]
    python infra/ephemeral.py test --outputs outputs.json
    python infra/ephemeral.py comment --stack pr-123 --target aws --outputs outputs.json \\
                                      --deploy success --tests failure > comment.md
    python infra/ephemeral.py destroy --stack pr-123

``up`` creates (or selects) the stack ``pr-<n>`` of this repository's program, gives it the
config of a base stack file (``localstack`` or ``dev``) with the overrides every ephemeral
stack needs (its own stage, so parallel pull requests never share a resource name; buckets
emptied and tables unprotected on destroy; a CloudFront signing key pair of its own),
refreshes, deploys with Pulumi's output streamed, and writes the stack outputs to a JSON
file. ``images`` builds the transcoder's and recommender's images and pushes each to the
repository the stack made for it, unless the registry has its tag already (a tag is a digest
of the image's sources, ``packaging.image_tag``). ``test`` runs ``tests/deployed`` against
those outputs. ``destroy`` deletes every
resource and then the stack; a stack that does not exist is already destroyed.
``.github/workflows/ephemeral.yml`` runs these on pull requests; see the README's
"Ephemeral stacks in CI". The logic (naming, config, outputs, comment) is in pure functions
below; only the ``cmd_*`` functions talk to Pulumi, through a :class:`Stacks`.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

ROOT = Path(__file__).resolve().parent.parent
# Run as `python infra/ephemeral.py`, the script's folder comes first on sys.path, where
# infra/packaging.py would shadow the `packaging` library Pulumi imports: the repository
# root (for `import infra`) takes its place.
if sys.path and Path(sys.path[0] or ".").resolve() == ROOT / "infra":
    sys.path[0] = str(ROOT)
elif str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pulumi.automation as auto  # noqa: E402
import yaml  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402

from flixstack.playback.signing import SigningKey  # noqa: E402
from infra import outputs, packaging  # noqa: E402

TARGETS = {"localstack": "localstack", "aws": "dev"}
"""Where an ephemeral stack runs -> the stack file in stacks/ whose config it starts from."""
STACK_NAME = re.compile(r"^pr-([1-9][0-9]{0,6})$")
"""``pr-<pull request number>``: at most 10 characters, as long as the ``localstack``
stage, so every physical name stays within the lengths the stack files already use."""
SIGNING_PUBLIC_KEY = "flixstack:cdnSigningPublicKey"
SIGNING_PRIVATE_KEY = "flixstack:cdnSigningPrivateKey"
KEPT_KEYS = frozenset({SIGNING_PUBLIC_KEY, SIGNING_PRIVATE_KEY})
"""Config an ephemeral stack makes once and keeps across updates (a new key pair would
replace the CDNs' public key on every push)."""
DEPLOYED_TESTS = "tests/deployed"
COMMENT_MARKER = "<!-- flixstack-ephemeral -->"
"""The first line of the pull request comment: the workflow updates the comment holding it."""
OUTPUT_ENV = {
    outputs.API_URL: "FLIXSTACK_API_URL",
    outputs.WEBAPP_URL: "FLIXSTACK_WEBAPP_URL",
    outputs.STAGE: "FLIXSTACK_STAGE",
    outputs.REGION: "FLIXSTACK_REGION",
    outputs.USER_POOL_ID: "FLIXSTACK_USER_POOL_ID",
    outputs.CLI_CLIENT_ID: "FLIXSTACK_CLI_CLIENT_ID",
}
"""Stack output -> the environment variable ``tests/deployed`` reads it from."""
IMAGES = {
    outputs.TRANSCODER_IMAGE: packaging.TRANSCODER_DOCKERFILE,
    outputs.RECOMMENDER_IMAGE: packaging.RECOMMENDER_DOCKERFILE,
}
"""Stack output naming an image (``<repository>:<tag>``) -> the Dockerfile that builds it."""
OUTCOMES = {
    "success": "✅ succeeded",
    "failure": "❌ failed",
    "cancelled": "⏹️ cancelled",
    "skipped": "⏭️ skipped",
}
"""GitHub Actions step outcomes, as the comment shows them."""


class EphemeralError(Exception):
    """What was asked cannot be done as asked (a bad stack name, a missing file, no Pulumi
    CLI): exit 2, before Pulumi changes anything."""


# --- pure logic -------------------------------------------------------------------------------
def pr_number(stack_name: str) -> int:
    """The pull request number of an ephemeral stack's name (``pr-123`` -> 123)."""
    match = STACK_NAME.match(stack_name)
    if match is None:
        raise EphemeralError(
            f"an ephemeral stack is named pr-<pull request number> (1-9999999), not {stack_name!r}"
        )
    return int(match.group(1))


def base_stack_file(target: str, stacks_dir: Path) -> Path:
    """The stack file an ephemeral stack on ``target`` starts from."""
    if target not in TARGETS:
        raise EphemeralError(f"unknown target {target!r}: one of {', '.join(TARGETS)}")
    path = stacks_dir / f"Pulumi.{TARGETS[target]}.yaml"
    if not path.is_file():
        raise EphemeralError(f"the base stack file {path} of target {target!r} is missing")
    return path


def stacks_dir(root: Path = ROOT) -> Path:
    """Where the project keeps its stack files (``stackConfigDir`` of ``Pulumi.yaml``)."""
    project = yaml.safe_load((root / "Pulumi.yaml").read_text()) or {}
    return root / str(project.get("stackConfigDir", "."))


def load_config(path: Path) -> dict[str, Any]:
    """The ``config:`` map of a stack file."""
    data = yaml.safe_load(path.read_text()) or {}
    config = data.get("config") or {}
    if not isinstance(config, dict):
        raise EphemeralError(f"{path}: `config` is not a map")
    return config


def ephemeral_config(
    base: Mapping[str, Any], stack_name: str, region: str | None = None
) -> dict[str, Any]:
    """The base stack's config with what every ephemeral stack overrides: its stage is its
    own name (physical names are ``flixstack-<stage>-...``: two pull requests never share
    one), ``pulumi destroy`` empties buckets and may delete tables and the user pool."""
    pr_number(stack_name)
    config = {
        **base,
        "flixstack:stage": stack_name,
        "flixstack:forceDestroy": True,
        "flixstack:deletionProtection": False,
    }
    if region:
        config["aws:region"] = region
    return config


def config_paths(config: Mapping[str, Any]) -> dict[str, str]:
    """``config`` as the keys and values of ``pulumi config set-all --path``.

    Nested maps and lists become paths (``aws:endpoints[0].s3``). The CLI stores a top-level
    value as a string, and a nested one as a boolean for ``true``/``false``, as a number for
    an integer, else as a string; so a nested value whose type that would change (a string
    ``"8"``, a float, null) is refused rather than deployed altered.
    """
    flat: dict[str, str] = {}
    for key, value in config.items():
        if re.search(r"[.\[\]\"]", key):
            raise EphemeralError(f"config key {key!r} would be read as a path")
        if isinstance(value, Mapping | list):
            _flatten(key, value, flat)
        elif value is None:
            raise EphemeralError(f"config {key} is null: give it a value or leave it out")
        else:
            flat[key] = _scalar(value)
    return flat


def _flatten(path: str, value: Any, flat: dict[str, str]) -> None:
    if isinstance(value, Mapping):
        items: list[tuple[str, Any]] = [(f"{path}{_member(str(k))}", v) for k, v in value.items()]
    elif isinstance(value, list):
        items = [(f"{path}[{i}]", v) for i, v in enumerate(value)]
    else:
        if not _keeps_type(value):
            raise EphemeralError(
                f"config {path} = {value!r} cannot be set by path without changing its type"
            )
        flat[path] = _scalar(value)
        return
    if not items:
        raise EphemeralError(f"config {path} is empty: a path cannot express an empty value")
    for item_path, item in items:
        _flatten(item_path, item, flat)


def _member(key: str) -> str:
    return f".{key}" if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key) else f"[{json.dumps(key)}]"


def _scalar(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _keeps_type(value: Any) -> bool:
    """Whether the CLI reads a nested value back as the same type (see config_paths)."""
    if isinstance(value, bool | int):
        return True
    if isinstance(value, str):
        return value not in ("true", "false") and not re.fullmatch(r"-?[0-9]+", value)
    return False


def config_values(
    config: Mapping[str, Any], secrets: Mapping[str, str] | None = None
) -> dict[str, auto.ConfigValue]:
    """What ``Stack.set_all_config(..., path=True)`` takes: ``config`` in plain text and
    ``secrets`` (top-level keys) encrypted."""
    values = {k: auto.ConfigValue(v) for k, v in config_paths(config).items()}
    values.update({k: auto.ConfigValue(v, secret=True) for k, v in (secrets or {}).items()})
    return values


def replaced_keys(existing: Iterable[str]) -> list[str]:
    """The stack's keys to remove before its config is set again: all but the kept ones, so
    a key the base file dropped goes, and a list that got shorter keeps no old entries."""
    return sorted(key for key in existing if key not in KEPT_KEYS)


def signing_key_pair() -> tuple[str, str]:
    """A fresh key pair for the stack's CloudFront signed cookies, made as the runtime makes
    local ones: (PEM public key, PEM PKCS#8 private key)."""
    key = SigningKey.generate()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return public.decode(), str(json.loads(key.secret_value())["private_key"])


def plain_outputs(stack_outputs: Mapping[str, auto.OutputValue]) -> dict[str, Any]:
    """Stack outputs as JSON values; a secret one is left out (``None``), never written."""
    return {k: None if v.secret else v.value for k, v in sorted(stack_outputs.items())}


def outputs_env(stack_outputs: Mapping[str, Any]) -> dict[str, str]:
    """The environment ``tests/deployed`` runs in (see :data:`OUTPUT_ENV`)."""
    missing = [key for key in OUTPUT_ENV if not stack_outputs.get(key)]
    if missing:
        raise EphemeralError(f"the stack outputs lack {', '.join(missing)}: was `up` run?")
    return {env: str(stack_outputs[key]) for key, env in OUTPUT_ENV.items()}


def endpoint_urls(stack_outputs: Mapping[str, Any]) -> list[tuple[str, str]]:
    """What a person opens, labelled: the API, the web app, sign-in and the CDNs."""
    urls = [
        (label, str(stack_outputs[key]))
        for label, key in (
            ("API", outputs.API_URL),
            ("Web app", outputs.WEBAPP_URL),
            ("Sign-in (hosted UI)", outputs.HOSTED_UI_URL),
        )
        if stack_outputs.get(key)
    ]
    for cdn in stack_outputs.get(outputs.CDNS) or []:
        if isinstance(cdn, Mapping) and cdn.get("base_url"):
            urls.append((f"CDN {cdn.get('name', '')}".strip(), str(cdn["base_url"])))
    return urls


def comment_body(
    stack_name: str,
    target: str,
    stack_outputs: Mapping[str, Any],
    *,
    deploy: str = "skipped",
    tests: str = "skipped",
    destroy: str = "skipped",
    closed: bool = False,
    run_url: str | None = None,
) -> str:
    """The pull request's one comment about its stack, in Markdown, its first line
    :data:`COMMENT_MARKER`. ``deploy``, ``tests`` and ``destroy`` are the outcomes of the
    workflow's steps; ``closed``: the pull request closed (so the stack is destroyed)."""
    lines = [COMMENT_MARKER, f"### Ephemeral stack `{stack_name}`", ""]
    if closed:
        lines.append(
            f"The pull request closed and stack `{stack_name}` was destroyed."
            if destroy == "success"
            else f"The pull request closed, but destroying stack `{stack_name}`: "
            f"{_outcome(destroy)}. Its resources may still exist: run "
            f"`python infra/ephemeral.py destroy --stack {stack_name}`."
        )
    else:
        where = {"aws": "AWS", "localstack": "LocalStack, inside the CI job"}.get(target, target)
        region = stack_outputs.get(outputs.REGION)
        rows = [
            ("Target", f"{where}{f' `{region}`' if region else ''}"),
            ("Deploy", _outcome(deploy)),
            ("Tests through its endpoints", _outcome(tests)),
        ]
        if destroy != "skipped":
            rows.append(("Destroyed after the tests", _outcome(destroy)))
        lines += ["| | |", "|---|---|", *(f"| {name} | {value} |" for name, value in rows)]
        urls = endpoint_urls(stack_outputs)
        if urls:
            lines += ["", *(f"- {label}: {url}" for label, url in urls)]
        if target == "localstack":
            lines += [
                "",
                "LocalStack ran inside the job and the stack ended with it: these URLs only "
                "answered there. With the `AWS_ROLE_ARN` secret the stack lives on AWS until "
                "the pull request closes.",
            ]
    if run_url:
        lines += ["", f"[Workflow run]({run_url})"]
    return "\n".join(lines) + "\n"


def _outcome(outcome: str) -> str:
    return OUTCOMES.get(outcome, outcome)


# --- Pulumi -----------------------------------------------------------------------------------
class Stacks(Protocol):
    """Opens stacks of the local program (tests give a fake)."""

    def create_or_select(self, name: str) -> auto.Stack: ...

    def select(self, name: str) -> auto.Stack: ...


@dataclass(frozen=True)
class LocalProgram:
    """This repository's program (``Pulumi.yaml`` at ``work_dir``), run by the Pulumi CLI."""

    work_dir: Path = ROOT

    def create_or_select(self, name: str) -> auto.Stack:
        _require_cli()
        return auto.create_or_select_stack(name, work_dir=str(self.work_dir))

    def select(self, name: str) -> auto.Stack:
        _require_cli()
        return auto.select_stack(name, work_dir=str(self.work_dir))


def _require_cli() -> None:
    """The Automation API drives the ``pulumi`` command; without it, say so plainly."""
    if shutil.which("pulumi") is None:
        raise EphemeralError(
            "the Pulumi CLI is not on PATH: install it (https://www.pulumi.com/docs/install/)"
        )


def _out(line: str) -> None:
    print(line, flush=True)


def _err(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def cmd_up(
    stacks: Stacks,
    stack_name: str,
    target: str,
    outputs_file: Path,
    *,
    region: str | None = None,
    root: Path = ROOT,
) -> dict[str, Any]:
    """Configures, refreshes and deploys the stack; writes and returns its outputs."""
    base = load_config(base_stack_file(target, stacks_dir(root)))
    config = ephemeral_config(base, stack_name, region)
    web_dist = packaging.WEB_DIST
    if not (web_dist / "index.html").is_file():
        raise EphemeralError(f"the web app is not built ({web_dist}): run `make install` first")
    stack = stacks.create_or_select(stack_name)
    existing = stack.get_all_config()
    secrets: dict[str, str] = {}
    if not set(existing) >= KEPT_KEYS:
        config[SIGNING_PUBLIC_KEY], secrets[SIGNING_PRIVATE_KEY] = signing_key_pair()
    replaced = replaced_keys(existing)
    if replaced:
        stack.remove_all_config(replaced)
    stack.set_all_config(config_values(config, secrets), path=True)
    _out(f"refreshing {stack_name} ({target})")
    stack.refresh(on_output=_out, on_error=_err)
    stack.up(
        on_output=_out, on_error=_err, message=f"ephemeral stack of PR {pr_number(stack_name)}"
    )
    values = plain_outputs(stack.outputs())
    outputs_file.parent.mkdir(parents=True, exist_ok=True)
    outputs_file.write_text(json.dumps(values, indent=2, sort_keys=True) + "\n")
    _out(f"outputs of {stack_name} written to {outputs_file}")
    for label, url in endpoint_urls(values):
        _out(f" {label:<22}{url}")
    return values


def read_outputs(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise EphemeralError(f"no stack outputs at {path}: run `up --outputs {path}` first")
    values = json.loads(path.read_text())
    if not isinstance(values, dict):
        raise EphemeralError(f"{path} does not hold a JSON object of stack outputs")
    return values


Runner = Callable[[list[str], Mapping[str, str]], int]


def run_process(command: list[str], env: Mapping[str, str]) -> int:
    return subprocess.run(command, env=dict(env), cwd=ROOT, check=False).returncode


def cmd_test(outputs_file: Path, environ: Mapping[str, str], run: Runner = run_process) -> int:
    """Runs the deployed-endpoint tests against the stack's outputs; pytest's exit code."""
    env = {**environ, **outputs_env(read_outputs(outputs_file))}
    command = [sys.executable, "-m", "pytest", DEPLOYED_TESTS, "-q", "-p", "no:cacheprovider"]
    _out(f"testing {env['FLIXSTACK_API_URL']}: {' '.join(command[1:])}")
    return run(command, env)


def image_builds(stack_outputs: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(Dockerfile, image) for each image the stack runs, in ``IMAGES``' order."""
    missing = [name for name in IMAGES if not stack_outputs.get(name)]
    if missing:
        raise EphemeralError(f"the stack outputs name no image for {', '.join(missing)}")
    return [(dockerfile, str(stack_outputs[name])) for name, dockerfile in IMAGES.items()]


Docker = Callable[[list[str], str | None], int]
"""Runs ``docker <args>`` with the given standard input; its exit code."""


def run_docker(args: list[str], stdin: str | None) -> int:
    return subprocess.run(["docker", *args], input=stdin, text=True, cwd=ROOT).returncode


def ecr_password(registry: str) -> str:
    """A 12-hour password of the ECR registry (``<account>.dkr.ecr.<region>.amazonaws.com``)
    for ``docker login --username AWS``, from the job's AWS credentials."""
    import boto3  # the job's credentials; only this subcommand needs them

    region = registry.split(".")[3]
    token = boto3.client("ecr", region_name=region).get_authorization_token()
    encoded = token["authorizationData"][0]["authorizationToken"]
    return base64.b64decode(encoded).decode().removeprefix("AWS:")


def cmd_images(
    outputs_file: Path,
    target: str,
    docker: Docker = run_docker,
    password: Callable[[str], str] = ecr_password,
) -> list[str]:
    """Builds and pushes each image the registry lacks; the images it pushed."""
    pushed: list[str] = []
    logged_in: set[str] = set()
    for dockerfile, image in image_builds(read_outputs(outputs_file)):
        registry = image.split("/", 1)[0]
        if target == "aws" and registry not in logged_in:
            login = ["login", "--username", "AWS", "--password-stdin", registry]
            if docker(login, password(registry)) != 0:
                raise EphemeralError(f"docker could not log in to {registry}")
            logged_in.add(registry)
        if docker(["manifest", "inspect", image], None) == 0:
            _out(f"{image}: in the registry already")
            continue
        _out(f"{image}: building {dockerfile}")
        for args in (["build", "--file", dockerfile, "--tag", image, "."], ["push", image]):
            if docker(args, None) != 0:
                raise EphemeralError(f"`docker {' '.join(args)}` failed")
        pushed.append(image)
    return pushed


def cmd_destroy(stacks: Stacks, stack_name: str) -> bool:
    """Destroys every resource of the stack, then the stack; False if there was none."""
    pr_number(stack_name)
    try:
        stack = stacks.select(stack_name)
    except auto.StackNotFoundError:
        _out(f"no stack {stack_name}: nothing to destroy")
        return False
    stack.destroy(on_output=_out, on_error=_err, message=f"ephemeral stack {stack_name} ends")
    stack.workspace.remove_stack(stack_name)
    _out(f"stack {stack_name} destroyed and removed")
    return True


# --- command line -----------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python infra/ephemeral.py", description="Ephemeral flixstack stacks for PRs."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="create or update the stack and write its outputs")
    up.add_argument("--stack", required=True, help="pr-<pull request number>")
    up.add_argument("--target", choices=sorted(TARGETS), default="localstack")
    up.add_argument("--region", help="AWS region (default: the base stack file's)")
    up.add_argument("--outputs", type=Path, default=Path("outputs.json"))
    images = commands.add_parser(
        "images", help="build and push the images the stack runs, unless already pushed"
    )
    images.add_argument("--outputs", type=Path, default=Path("outputs.json"))
    images.add_argument("--target", choices=sorted(TARGETS), default="localstack")
    test = commands.add_parser("test", help="run tests/deployed against the stack's outputs")
    test.add_argument("--outputs", type=Path, default=Path("outputs.json"))
    comment = commands.add_parser("comment", help="print the pull request comment (Markdown)")
    comment.add_argument("--stack", required=True)
    comment.add_argument("--target", choices=sorted(TARGETS), default="localstack")
    comment.add_argument("--outputs", type=Path, help="the outputs `up` wrote, if it did")
    comment.add_argument("--deploy", default="skipped", help="the up step's outcome")
    comment.add_argument("--tests", default="skipped", help="the test step's outcome")
    comment.add_argument("--destroy", default="skipped", help="the destroy step's outcome")
    comment.add_argument("--closed", action="store_true", help="the pull request closed")
    comment.add_argument("--run-url", help="link to the workflow run")
    destroy = commands.add_parser("destroy", help="destroy the stack and remove it")
    destroy.add_argument("--stack", required=True)
    return parser


def command_options() -> dict[str, set[str]]:
    """Each subcommand :func:`main` takes, with its options (the workflow's test checks that
    it calls only these)."""
    parser = build_parser()
    [commands] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return {
        name: set(subparser._option_string_actions) for name, subparser in commands.choices.items()
    }


def main(
    argv: Sequence[str] | None = None,
    stacks: Stacks | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    args = build_parser().parse_args(argv)
    stacks = stacks or LocalProgram()
    try:
        if args.command == "up":
            cmd_up(stacks, args.stack, args.target, args.outputs, region=args.region)
        elif args.command == "images":
            cmd_images(args.outputs, args.target, run_docker, ecr_password)
        elif args.command == "test":
            return cmd_test(args.outputs, os.environ if environ is None else environ)
        elif args.command == "comment":
            pr_number(args.stack)
            values = read_outputs(args.outputs) if args.outputs and args.outputs.is_file() else {}
            sys.stdout.write(
                comment_body(
                    args.stack,
                    args.target,
                    values,
                    deploy=args.deploy,
                    tests=args.tests,
                    destroy=args.destroy,
                    closed=args.closed,
                    run_url=args.run_url,
                )
            )
        else:
            cmd_destroy(stacks, args.stack)
    except EphemeralError as exc:
        _err(f"error: {exc}")
        return 2
    except auto.CommandError as exc:
        _err(f"error: pulumi failed during `{args.command}` of {args.stack}: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""infra/ephemeral.py, with the Automation API faked at its boundary (no Pulumi CLI here),
and the workflow that calls it (.github/workflows/ephemeral.yml)."""

from __future__ import annotations

import itertools
import json
import re
import runpy
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pulumi.automation as auto
import pytest
import yaml
from pulumi.automation._cmd import CommandResult

from flixstack import spec
from flixstack.playback.signing import SigningKey
from infra import ephemeral, outputs, packaging
from infra.components.cdn import load_public_key
from infra.policy import rules
from tests.infra.mockgraph import ROOT, SIGNING_CONFIG, resolve, run

LOCALSTACK_FILE = ROOT / "stacks" / "Pulumi.localstack.yaml"
WORKFLOW = ROOT / ".github" / "workflows" / "ephemeral.yml"
OUTPUTS = {
    outputs.API_URL: "https://abc.execute-api.us-east-1.amazonaws.com/",
    outputs.WEBAPP_URL: "https://d111.cloudfront.net/app/",
    outputs.HOSTED_UI_URL: "https://flixstack-pr-7.auth.us-east-1.amazoncognito.com",
    outputs.STAGE: "pr-7",
    outputs.REGION: "us-east-1",
    outputs.USER_POOL_ID: "us-east-1_pool",
    outputs.CLI_CLIENT_ID: "cli-client",
    outputs.CDNS: [
        {"name": "cloudfront-a", "base_url": "https://da.cloudfront.net"},
        {"name": "cloudfront-b", "base_url": "https://db.cloudfront.net"},
    ],
}
"""What a deployed stack's outputs look like (a subset)."""


def _failed(what: str) -> CommandResult:
    return CommandResult(stdout="", stderr=f"error: {what}", code=255)


class FakeWorkspace:
    def __init__(self, log: list[str]) -> None:
        self.log = log

    def remove_stack(self, name: str) -> None:
        self.log.append(f"remove_stack {name}")


class FakeStack:
    """Records what the script does to a stack; ``fail`` names the operation that errs."""

    def __init__(
        self,
        config: Mapping[str, auto.ConfigValue] | None = None,
        stack_outputs: Mapping[str, Any] | None = None,
        fail: str | None = None,
    ) -> None:
        self.config = dict(config or {})
        self.stack_outputs = dict(OUTPUTS if stack_outputs is None else stack_outputs)
        self.fail = fail
        self.log: list[str] = []
        self.workspace = FakeWorkspace(self.log)

    def get_all_config(self) -> dict[str, auto.ConfigValue]:
        return dict(self.config)

    def remove_all_config(self, keys: list[str], *, path: bool = False) -> None:
        self.log.append("remove_all_config")
        for key in keys:
            del self.config[key]

    def set_all_config(self, config: Mapping[str, auto.ConfigValue], *, path: bool = False) -> None:
        self.log.append(f"set_all_config path={path}")
        self.config.update(config)

    def _operation(self, name: str, kwargs: dict[str, Any]) -> None:
        self.log.append(name)
        kwargs["on_output"](f"{name}: streamed")
        if self.fail == name:
            raise auto.CommandError(_failed(f"{name} went wrong"))

    def refresh(self, **kwargs: Any) -> None:
        self._operation("refresh", kwargs)

    def up(self, **kwargs: Any) -> None:
        self._operation("up", kwargs)

    def destroy(self, **kwargs: Any) -> None:
        self._operation("destroy", kwargs)

    def outputs(self) -> dict[str, auto.OutputValue]:
        return {k: auto.OutputValue(v, secret=False) for k, v in self.stack_outputs.items()}


class FakeStacks:
    """Opens one stack, or none (``stack=None``: select says it does not exist)."""

    def __init__(self, stack: FakeStack | None) -> None:
        self.stack = stack
        self.opened: list[str] = []

    def create_or_select(self, name: str) -> FakeStack:
        self.opened.append(f"create_or_select {name}")
        assert self.stack is not None
        return self.stack

    def select(self, name: str) -> FakeStack:
        self.opened.append(f"select {name}")
        if self.stack is None:
            raise auto.StackNotFoundError(_failed(f"no stack named '{name}' found"))
        return self.stack


def values(stack: FakeStack) -> dict[str, str]:
    return {k: v.value for k, v in stack.config.items()}


# --- up -------------------------------------------------------------------------------------
def test_up_configures_the_stack_from_the_localstack_file_and_writes_its_outputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = FakeStack()
    target = tmp_path / "out" / "outputs.json"

    code = ephemeral.main(
        ["up", "--stack", "pr-7", "--target", "localstack", "--outputs", str(target)],
        FakeStacks(stack),
    )

    assert code == 0
    assert stack.log == ["set_all_config path=True", "refresh", "up"]
    config = values(stack)
    # the base file's settings, as paths where they are lists or maps
    assert config["aws:endpoints[0].s3"] == "http://localhost:4566"
    assert config["aws:skipCredentialsValidation"] == "true"
    assert config["flixstack:cdns[1].name"] == "cloudfront-b"
    assert config["flixstack:bucketSuffix"] == ""
    # the ephemeral overrides
    assert config["flixstack:stage"] == "pr-7"
    assert config["flixstack:forceDestroy"] == "true"
    assert config["flixstack:deletionProtection"] == "false"
    # a signing key pair of its own, the private half encrypted
    load_public_key(config[ephemeral.SIGNING_PUBLIC_KEY])  # what StackConfig checks
    private_pem = config[ephemeral.SIGNING_PRIVATE_KEY]
    assert SigningKey.from_secret({"key_pair_id": "K1", "private_key": private_pem})
    assert stack.config[ephemeral.SIGNING_PRIVATE_KEY].secret
    assert not stack.config[ephemeral.SIGNING_PUBLIC_KEY].secret
    assert [k for k, v in stack.config.items() if v.secret] == [ephemeral.SIGNING_PRIVATE_KEY]
    # the outputs, written and printed
    assert json.loads(target.read_text()) == OUTPUTS
    printed = capsys.readouterr().out
    assert "up: streamed" in printed
    assert re.search(rf"API +{re.escape(OUTPUTS[outputs.API_URL])}", printed)
    assert re.search(r"CDN cloudfront-b +https://db\.cloudfront\.net", printed)


def test_up_on_aws_starts_from_the_dev_file_in_the_region_given(tmp_path: Path) -> None:
    stack = FakeStack()

    ephemeral.cmd_up(FakeStacks(stack), "pr-8", "aws", tmp_path / "o.json", region="eu-west-1")

    config = values(stack)
    assert config["aws:region"] == "eu-west-1"
    assert config["flixstack:transcodeSpot"] == "true"  # from Pulumi.dev.yaml
    assert not any(key.startswith("aws:endpoints") for key in config)
    assert "flixstack:bucketSuffix" not in config  # so the account id suffixes buckets
    assert config["flixstack:stage"] == "pr-8"


def test_up_keeps_the_stack_signing_key_pair_and_sets_the_rest_afresh(tmp_path: Path) -> None:
    """GIVEN a stack deployed before, with its key pair and config the base file dropped
    since, WHEN up runs again, THEN the pair stays and the rest is set anew."""
    kept = {
        ephemeral.SIGNING_PUBLIC_KEY: auto.ConfigValue("PUBLIC PEM"),
        ephemeral.SIGNING_PRIVATE_KEY: auto.ConfigValue("PRIVATE PEM", secret=True),
    }
    stack = FakeStack({**kept, "flixstack:gone": auto.ConfigValue("x")})

    ephemeral.cmd_up(FakeStacks(stack), "pr-9", "localstack", tmp_path / "o.json")

    assert stack.log[:2] == ["remove_all_config", "set_all_config path=True"]
    assert values(stack)[ephemeral.SIGNING_PUBLIC_KEY] == "PUBLIC PEM"
    assert values(stack)[ephemeral.SIGNING_PRIVATE_KEY] == "PRIVATE PEM"
    assert "flixstack:gone" not in stack.config


def test_up_refuses_a_bad_stack_name_before_opening_a_stack(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stacks = FakeStacks(FakeStack())

    code = ephemeral.main(["up", "--stack", "dev", "--outputs", str(tmp_path / "o")], stacks)

    assert code == 2
    assert stacks.opened == []
    assert "pr-<pull request number>" in capsys.readouterr().err


def test_up_without_the_web_build_fails_before_opening_a_stack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(ephemeral.packaging, "WEB_DIST", tmp_path / "no-build")
    stacks = FakeStacks(FakeStack())

    code = ephemeral.main(["up", "--stack", "pr-1", "--outputs", str(tmp_path / "o")], stacks)

    assert code == 2
    assert stacks.opened == []
    assert "make install" in capsys.readouterr().err


def test_a_pulumi_failure_exits_non_zero_with_its_message_and_writes_no_outputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = FakeStack(fail="up")
    target = tmp_path / "o.json"

    code = ephemeral.main(["up", "--stack", "pr-3", "--outputs", str(target)], FakeStacks(stack))

    assert code == 1
    assert "up went wrong" in capsys.readouterr().err
    assert not target.exists()


def test_an_unknown_target_or_a_missing_base_file_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        ephemeral.main(["up", "--stack", "pr-1", "--target", "gcp"], FakeStacks(FakeStack()))
    assert exited.value.code == 2
    assert "invalid choice: 'gcp'" in capsys.readouterr().err

    with pytest.raises(ephemeral.EphemeralError, match="unknown target 'gcp'"):
        ephemeral.base_stack_file("gcp", ROOT / "stacks")
    with pytest.raises(ephemeral.EphemeralError, match=r"Pulumi\.localstack\.yaml .* missing"):
        ephemeral.base_stack_file("localstack", tmp_path)


# --- destroy --------------------------------------------------------------------------------
def test_destroy_destroys_every_resource_then_removes_the_stack() -> None:
    stack = FakeStack()
    stacks = FakeStacks(stack)

    assert ephemeral.main(["destroy", "--stack", "pr-4"], stacks) == 0

    assert stacks.opened == ["select pr-4"]
    assert stack.log == ["destroy", "remove_stack pr-4"]


def test_destroying_a_stack_that_does_not_exist_succeeds(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert ephemeral.main(["destroy", "--stack", "pr-5"], FakeStacks(None)) == 0
    assert "no stack pr-5: nothing to destroy" in capsys.readouterr().out


def test_a_failed_destroy_keeps_the_stack_and_exits_non_zero(
    capsys: pytest.CaptureFixture[str],
) -> None:
    stack = FakeStack(fail="destroy")

    assert ephemeral.main(["destroy", "--stack", "pr-6"], FakeStacks(stack)) == 1

    assert stack.log == ["destroy"]  # never removed: its resources may still exist
    assert "destroy went wrong" in capsys.readouterr().err


# --- images ---------------------------------------------------------------------------------------
REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
IMAGE_OUTPUTS = {
    outputs.TRANSCODER_IMAGE: f"{REGISTRY}/flixstack-pr-4-transcoder:src-aaa",
    outputs.RECOMMENDER_IMAGE: f"{REGISTRY}/flixstack-pr-4-recommender:src-bbb",
}


class FakeDocker:
    """Answers ``docker`` as a registry holding ``present`` would; records each call."""

    def __init__(self, present: Iterable[str] = (), fail: str | None = None) -> None:
        self.present = set(present)
        self.fail = fail
        self.calls: list[tuple[list[str], str | None]] = []

    def __call__(self, args: list[str], stdin: str | None) -> int:
        self.calls.append((args, stdin))
        if args[0] == self.fail:
            return 1
        if args[:2] == ["manifest", "inspect"]:
            return 0 if args[2] in self.present else 1
        if args[0] == "push":
            self.present.add(args[1])
        return 0


def _outputs_file(tmp_path: Path, values: dict[str, Any]) -> Path:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(values))
    return path


def test_images_the_registry_lacks_are_built_from_their_dockerfiles_and_pushed(
    tmp_path: Path,
) -> None:
    docker = FakeDocker(present={IMAGE_OUTPUTS[outputs.RECOMMENDER_IMAGE]})
    source = _outputs_file(tmp_path, IMAGE_OUTPUTS)

    pushed = ephemeral.cmd_images(source, "aws", docker, password=lambda registry: "secret")

    transcoder = IMAGE_OUTPUTS[outputs.TRANSCODER_IMAGE]
    assert pushed == [transcoder]
    assert [args for args, _ in docker.calls] == [
        ["login", "--username", "AWS", "--password-stdin", REGISTRY],
        ["manifest", "inspect", transcoder],
        ["build", "--file", packaging.TRANSCODER_DOCKERFILE, "--tag", transcoder, "."],
        ["push", transcoder],
        ["manifest", "inspect", IMAGE_OUTPUTS[outputs.RECOMMENDER_IMAGE]],
    ]
    assert docker.calls[0][1] == "secret"  # on standard input, never on the command line
    assert all((ROOT / dockerfile).is_file() for dockerfile in ephemeral.IMAGES.values())
    # a second run finds both and builds nothing
    assert ephemeral.cmd_images(source, "aws", docker, password=lambda registry: "x") == []


def test_localstack_images_need_no_login(tmp_path: Path) -> None:
    docker = FakeDocker()
    ephemeral.cmd_images(_outputs_file(tmp_path, IMAGE_OUTPUTS), "localstack", docker)
    assert "login" not in {args[0] for args, _ in docker.calls}
    assert len(docker.present) == 2


@pytest.mark.parametrize(
    ("values", "fail", "message"),
    [
        ({outputs.TRANSCODER_IMAGE: "r/t:1"}, None, "no image for recommenderImage"),
        (IMAGE_OUTPUTS, "build", "`docker build --file"),
        (IMAGE_OUTPUTS, "login", "could not log in"),
    ],
)
def test_a_missing_image_output_or_a_failed_docker_step_exits_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    values: dict[str, str],
    fail: str | None,
    message: str,
) -> None:
    docker = FakeDocker(fail=fail)
    monkeypatch.setattr(ephemeral, "run_docker", docker)
    monkeypatch.setattr(ephemeral, "ecr_password", lambda registry: "secret")
    source = _outputs_file(tmp_path, values)

    code = ephemeral.main(["images", "--outputs", str(source), "--target", "aws"])

    assert code == 2
    assert message in capsys.readouterr().err
    assert "push" not in {args[0] for args, _ in docker.calls}


# --- the real Automation API, at its boundary ------------------------------------------------
def test_the_local_program_opens_stacks_of_this_repository(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[str, str, str]] = []

    def fake(kind: str) -> Callable[..., str]:
        def open_stack(name: str, *, work_dir: str) -> str:
            calls.append((kind, name, work_dir))
            return f"{kind} stack"

        return open_stack

    monkeypatch.setattr(auto, "create_or_select_stack", fake("create_or_select"))
    monkeypatch.setattr(auto, "select_stack", fake("select"))
    monkeypatch.setattr(ephemeral.shutil, "which", lambda name: f"/usr/bin/{name}")
    program = ephemeral.LocalProgram()

    assert program.create_or_select("pr-1") == "create_or_select stack"
    assert program.select("pr-2") == "select stack"
    assert calls == [("create_or_select", "pr-1", str(ROOT)), ("select", "pr-2", str(ROOT))]
    assert (ROOT / "Pulumi.yaml").is_file()  # the work dir holds the project


def test_without_the_pulumi_cli_the_script_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(ephemeral.shutil, "which", lambda name: None)

    assert ephemeral.main(["destroy", "--stack", "pr-2"]) == 2
    assert "Pulumi CLI is not on PATH" in capsys.readouterr().err


# --- pure logic -----------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "number"), [("pr-1", 1), ("pr-42", 42), ("pr-9999999", 9999999)])
def test_ephemeral_stacks_are_named_after_their_pull_request(name: str, number: int) -> None:
    assert ephemeral.pr_number(name) == number


@pytest.mark.parametrize(
    "name", ["dev", "prod", "localstack", "pr-", "pr-0", "pr-01", "PR-1", "pr-1a", "pr-10000000"]
)
def test_other_stack_names_are_refused(name: str) -> None:
    with pytest.raises(ephemeral.EphemeralError, match="pr-<pull request number>"):
        ephemeral.pr_number(name)


def test_the_longest_name_still_makes_valid_bucket_names() -> None:
    naming = spec.Naming("pr-9999999", "123456789012")  # the stage, an account id suffix
    assert all(naming.bucket(bucket) for bucket in (*spec.BUCKETS, spec.WEBAPP))


def test_the_ephemeral_config_is_the_base_with_its_overrides() -> None:
    base = {"aws:region": "us-east-1", "flixstack:stage": "localstack", "flixstack:x": 1}

    config = ephemeral.ephemeral_config(base, "pr-12", region="us-west-2")

    assert config == {
        "aws:region": "us-west-2",
        "flixstack:stage": "pr-12",
        "flixstack:x": 1,
        "flixstack:forceDestroy": True,
        "flixstack:deletionProtection": False,
    }
    assert base["flixstack:stage"] == "localstack"  # the base is left as it was
    assert ephemeral.ephemeral_config(base, "pr-12")["aws:region"] == "us-east-1"


def _as_the_cli_stores(paths: Mapping[str, str]) -> dict[str, Any]:
    """What ``pulumi config set-all --path`` makes of ``paths``: top-level values stay
    strings; nested ``true``/``false`` become booleans and integers numbers."""
    config: dict[str, Any] = {}
    for path, value in paths.items():
        top, rest = re.fullmatch(r"([^.\[]+)(.*)", path).groups()  # type: ignore[union-attr]
        steps: list[Any] = [top]
        for index, quoted, name in re.findall(r'\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]|\.(\w+)', rest):
            steps.append(int(index) if index else json.loads(quoted) if quoted else name)
        typed: Any = value
        if len(steps) > 1:
            typed = {"true": True, "false": False}.get(value, value)
            typed = int(value) if re.fullmatch(r"-?\d+", value) else typed
        node: Any = config
        for step, after in itertools.pairwise(steps):
            node = _child(node, step, [] if isinstance(after, int) else {})
        _child(node, steps[-1], typed)
    return config


def _child(node: Any, step: Any, new: Any) -> Any:
    """``node[step]``, made ``new`` if absent (a list grows by one at a time)."""
    if isinstance(node, list):
        assert step <= len(node), "list entries are set in order"
        if step == len(node):
            node.append(new)
        return node[step]
    return node.setdefault(step, new)


@pytest.mark.parametrize("target", sorted(ephemeral.TARGETS))
def test_config_paths_give_the_cli_back_the_stack_file(target: str) -> None:
    base = ephemeral.load_config(ephemeral.base_stack_file(target, ROOT / "stacks"))

    stored = _as_the_cli_stores(ephemeral.config_paths(base))

    assert stored == {
        k: v if isinstance(v, dict | list) else ephemeral._scalar(v) for k, v in base.items()
    }
    assert any(isinstance(v, dict | list) for v in base.values())  # the test has teeth


def test_config_paths_quote_map_keys_that_are_not_plain_names() -> None:
    paths = ephemeral.config_paths({"ns:map": {"a.b": "x", "plain_key": "y"}})
    assert paths == {'ns:map["a.b"]': "x", "ns:map.plain_key": "y"}
    assert _as_the_cli_stores(paths) == {"ns:map": {"a.b": "x", "plain_key": "y"}}


@pytest.mark.parametrize(
    "config",
    [
        {"ns:list": ["8"]},  # the CLI would store the number 8
        {"ns:map": {"enabled": "false"}},  # ... the boolean false
        {"ns:map": {"weight": 0.5}},  # ... the string "0.5"
        {"ns:map": {"x": None}},
        {"ns:empty": []},
        {"ns:top": None},
        {"ns:a.b": "x"},  # a top-level key the CLI would read as a path
    ],
)
def test_config_paths_refuse_what_the_cli_would_store_differently(config: dict[str, Any]) -> None:
    with pytest.raises(ephemeral.EphemeralError):
        ephemeral.config_paths(config)


@pytest.mark.usefixtures("no_pip")
def test_the_ephemeral_config_deploys_under_mocks() -> None:
    """The whole program, under mocks, with what the CLI stores for ``pr-9999999`` on
    LocalStack (objects reach programs as JSON): every policy rule holds, every name is
    the stack's own, and destroy may delete what it made."""
    base = ephemeral.load_config(LOCALSTACK_FILE)
    stored = _as_the_cli_stores(
        ephemeral.config_paths(ephemeral.ephemeral_config(base, "pr-9999999"))
    )
    engine = {k: v if isinstance(v, str) else json.dumps(v) for k, v in stored.items()}

    graph = run(
        lambda: runpy.run_path(str(ROOT / "infra" / "__main__.py"), run_name="__main__"),
        stack="pr-9999999",
        config={**engine, **SIGNING_CONFIG},
    )

    assert rules.violations(graph.resources) == {}
    assert resolve(graph.outputs[outputs.STAGE]) == "pr-9999999"
    tables = graph.of(rules.TABLE)
    assert {t.props["name"] for t in tables} == {
        spec.Naming("pr-9999999").table(t) for t in spec.TABLES
    }
    assert not any(t.props.get("deletionProtectionEnabled") for t in tables)
    buckets = graph.of(rules.BUCKET)
    assert buckets
    assert all(b.props["bucket"].startswith("flixstack-pr-9999999-") for b in buckets)
    assert all(b.props.get("forceDestroy") is True for b in buckets)


def test_outputs_become_the_deployed_tests_environment() -> None:
    env = ephemeral.outputs_env(OUTPUTS)

    assert env == {
        "FLIXSTACK_API_URL": OUTPUTS[outputs.API_URL],
        "FLIXSTACK_WEBAPP_URL": OUTPUTS[outputs.WEBAPP_URL],
        "FLIXSTACK_STAGE": "pr-7",
        "FLIXSTACK_REGION": "us-east-1",
        "FLIXSTACK_USER_POOL_ID": "us-east-1_pool",
        "FLIXSTACK_CLI_CLIENT_ID": "cli-client",
    }
    with pytest.raises(ephemeral.EphemeralError, match=outputs.API_URL):
        ephemeral.outputs_env({**OUTPUTS, outputs.API_URL: None})


def test_secret_outputs_are_never_written() -> None:
    plain = ephemeral.plain_outputs(
        {"a": auto.OutputValue("shown", secret=False), "b": auto.OutputValue("hush", secret=True)}
    )
    assert plain == {"a": "shown", "b": None}


def test_the_test_command_runs_the_deployed_tests_with_the_outputs(tmp_path: Path) -> None:
    (tmp_path / "o.json").write_text(json.dumps(OUTPUTS))
    ran: list[tuple[list[str], Mapping[str, str]]] = []

    def runner(command: list[str], env: Mapping[str, str]) -> int:
        ran.append((command, env))
        return 3

    code = ephemeral.cmd_test(tmp_path / "o.json", {"AWS_REGION": "us-east-1"}, runner)

    assert code == 3  # pytest's exit code
    [(command, env)] = ran
    assert command[1:4] == ["-m", "pytest", ephemeral.DEPLOYED_TESTS]
    assert (ROOT / ephemeral.DEPLOYED_TESTS / "test_smoke.py").is_file()
    assert env["FLIXSTACK_API_URL"] == OUTPUTS[outputs.API_URL]
    assert env["AWS_REGION"] == "us-east-1"  # the credentials and endpoint pass through


def test_the_test_command_without_outputs_says_to_run_up(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert ephemeral.main(["test", "--outputs", str(tmp_path / "none.json")], environ={}) == 2
    assert "run `up --outputs" in capsys.readouterr().err


# --- the comment ----------------------------------------------------------------------------
def test_the_comment_shows_the_outcomes_and_urls() -> None:
    body = ephemeral.comment_body(
        "pr-7", "aws", OUTPUTS, deploy="success", tests="failure", run_url="https://run/1"
    )

    assert body.splitlines()[0] == ephemeral.COMMENT_MARKER
    assert "| Target | AWS `us-east-1` |" in body
    assert "| Deploy | ✅ succeeded |" in body
    assert "| Tests through its endpoints | ❌ failed |" in body
    assert f"- API: {OUTPUTS[outputs.API_URL]}" in body
    assert f"- Web app: {OUTPUTS[outputs.WEBAPP_URL]}" in body
    assert "- CDN cloudfront-a: https://da.cloudfront.net" in body
    assert "[Workflow run](https://run/1)" in body
    assert "LocalStack" not in body


def test_a_localstack_comment_says_its_urls_went_with_the_job() -> None:
    body = ephemeral.comment_body(
        "pr-7", "localstack", OUTPUTS, deploy="success", destroy="success"
    )
    assert "only answered there" in body
    assert "| Destroyed after the tests | ✅ succeeded |" in body


def test_the_comment_of_a_closed_pull_request_says_whether_the_stack_is_gone() -> None:
    gone = ephemeral.comment_body("pr-7", "aws", {}, destroy="success", closed=True)
    stuck = ephemeral.comment_body("pr-7", "aws", {}, destroy="failure", closed=True)

    assert "stack `pr-7` was destroyed" in gone
    assert "may still exist" in stuck
    assert "python infra/ephemeral.py destroy --stack pr-7" in stuck


def test_the_comment_command_works_when_up_wrote_no_outputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["comment", "--stack", "pr-7", "--target", "aws", "--deploy", "failure"]
    assert ephemeral.main([*args, "--outputs", str(tmp_path / "missing.json")]) == 0
    body = capsys.readouterr().out
    assert body.startswith(ephemeral.COMMENT_MARKER)
    assert "| Deploy | ❌ failed |" in body
    assert "- API:" not in body


# --- the workflow ---------------------------------------------------------------------------
def _workflow() -> dict[str, Any]:
    loaded = yaml.safe_load(WORKFLOW.read_text())
    assert isinstance(loaded, dict)
    return loaded


def _steps() -> list[dict[str, Any]]:
    return [step for job in _workflow()["jobs"].values() for step in job.get("steps", [])]


def test_the_workflow_runs_on_pull_requests_and_their_closing() -> None:
    workflow = _workflow()
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert set(triggers) == {"pull_request"}
    assert set(triggers["pull_request"]["types"]) == {"opened", "synchronize", "reopened", "closed"}
    concurrency = workflow["concurrency"]
    assert "github.event.pull_request.number" in concurrency["group"]
    assert concurrency["cancel-in-progress"] is False
    assert workflow["env"]["STACK"] == "pr-${{ github.event.pull_request.number }}"


def test_every_call_of_the_script_names_a_real_subcommand_and_options() -> None:
    commands = ephemeral.command_options()
    calls = 0
    for step in _steps():
        script = step.get("run", "")
        for command in re.findall(r"infra/ephemeral\.py\s+([\w-]+)", script):
            calls += 1
            assert command in commands, f"no subcommand {command!r}: {script}"
            options = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", script))
            assert options <= commands[command], (command, options - commands[command])
    called = {c for s in _steps() for c in re.findall(r"ephemeral\.py\s+(\w+)", s.get("run", ""))}
    assert called == set(commands) == {"up", "images", "test", "comment", "destroy"}
    assert calls == 5


def test_the_workflow_refers_to_files_that_exist() -> None:
    """Paths in its scripts and its actions' inputs name files of this repository."""
    texts = [step.get("run", "") for step in _steps()]
    texts += [str(v) for step in _steps() for v in (step.get("with") or {}).values()]
    paths = {
        path
        for text in texts
        for path in re.findall(
            r"(?<![\w./$-])((?:infra|tests|web|stacks)/[\w./-]*\w|[\w-]+\.toml)", text
        )
    }
    assert {"infra/ephemeral.py", "web/package-lock.json", "pyproject.toml"} <= paths
    assert [p for p in sorted(paths) if not (ROOT / p).is_file()] == []
    assert "make install" in texts
    assert re.search(r"^install:", (ROOT / "Makefile").read_text(), re.MULTILINE)


def test_the_workflow_pins_its_actions_and_asks_for_least_privilege() -> None:
    workflow = _workflow()
    for step in _steps():
        if "uses" in step:
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@(v\d+(\.\d+)*|[0-9a-f]{40})", step["uses"]), step
    assert workflow["permissions"] == {}
    granted = {name: job.get("permissions", {}) for name, job in workflow["jobs"].items()}
    assert granted["target"] == {}
    assert granted["stack"] == {"contents": "read", "id-token": "write", "pull-requests": "write"}


def test_dependencies_install_before_any_credential_reaches_the_job() -> None:
    names = [
        step.get("name") or step.get("uses", "") for step in _workflow()["jobs"]["stack"]["steps"]
    ]
    install = names.index("make install")
    for credential in ("Pulumi backend", "AWS credentials (OIDC)", "Start LocalStack"):
        assert names.index(credential) > install


def test_the_stack_is_destroyed_when_the_pull_request_closes() -> None:
    steps = {step.get("id"): step for step in _workflow()["jobs"]["stack"]["steps"]}
    assert "env.ACTION == 'closed'" in steps["destroy"]["if"]
    assert "always()" in steps["destroy"]["if"]
    assert "env.ACTION != 'closed'" in steps["up"]["if"]
    assert steps["test"]["if"] == "steps.up.outcome == 'success'"

"""CDN pre-warming under Pulumi mocks: the prewarm queue's consumer Lambda (handler, event
source with partial batch responses, least-privilege role, environment), and what the
publishers (the API and the transcoder) get to enqueue titles."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import fields
from typing import Any

import pytest

from flixstack import spec
from flixstack.settings import Settings
from infra import outputs, policies
from infra.components import prewarming
from infra.config import StackConfig
from infra.policy import rules
from tests.infra.mockgraph import ACCOUNT, REGION, Graph, resolve, run_stack, stack_config

pytestmark = pytest.mark.usefixtures("no_pip")

FUNCTION = "prewarming-function"
EVENT_SOURCE = "aws:lambda/eventSourceMapping:EventSourceMapping"
PREWARM_ENV = (
    "FLIXSTACK_PREWARM_TITLES",
    "FLIXSTACK_PREWARM_SEGMENTS",
    "FLIXSTACK_PREWARM_MIN_POPULARITY",
    "FLIXSTACK_PREWARM_NEW_DAYS",
)
POLICY = {
    "flixstack:prewarmTitles": "new",
    "flixstack:prewarmSegments": "7",
    "flixstack:prewarmMinPopularity": "12.5",
    "flixstack:prewarmNewDays": "14",
}
"""A stack that sets every pre-warming key away from its default."""


def _naming(graph: Graph) -> spec.Naming:
    stage = graph.of(rules.TABLE)[0].props["name"].split("-")[1]
    localstack = any("localstack" in b.props["bucket"] for b in graph.of(rules.BUCKET))
    return spec.Naming(stage, "" if localstack else ACCOUNT)


def _queue_arn(naming: spec.Naming, queue: spec.QueueSpec) -> str:
    return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{naming.queue(queue)}"


def _secret_arn(naming: spec.Naming) -> str:
    """The mocks' ARN of the signing secret the cdn component creates."""
    return (
        f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{naming.secret(spec.CDN_SIGNING)}-AbCdEf"
    )


def _statements(graph: Graph, policy: str) -> dict[str, dict[str, Any]]:
    document = json.loads(graph.named(policy).props["policy"])
    return {s["Sid"]: s for s in document["Statement"]}


def _env(graph: Graph, function: str) -> dict[str, str]:
    return dict(graph.named(function).props["environment"]["variables"])


def _worker_env(graph: Graph) -> dict[str, str]:
    (definition,) = json.loads(graph.named("transcoding-task").props["containerDefinitions"])
    return {e["name"]: e["value"] for e in definition["environment"]}


def _settings(env: Mapping[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """What the runtime makes of an environment infra gives it (and of nothing else)."""
    for name in [name for name in os.environ if name.startswith("FLIXSTACK_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings()


DEFAULTS = {f.name: f.default for f in fields(StackConfig)}


def _configured(stack: str, key: str, attribute: str) -> str:
    """The stack file's value of ``flixstack:<key>``, else StackConfig's default."""
    return stack_config(stack).get(f"flixstack:{key}", str(DEFAULTS[attribute]))


# --- the consumer --------------------------------------------------------------------------------
def test_the_consumer_is_the_prewarm_handler_with_reserved_concurrency(
    stack: str, graph: Graph
) -> None:
    naming = _naming(graph)
    function = graph.named(FUNCTION)
    props = function.props
    assert props["name"] == f"{naming.prefix}-prewarm"
    assert props["handler"] == "functions.prewarm.handler"
    assert props["runtime"] == "python3.12"
    assert props["reservedConcurrentExecutions"] == int(
        _configured(stack, "prewarmConcurrency", "prewarm_concurrency")
    )
    assert props["reservedConcurrentExecutions"] >= 2
    assert props["tracingConfig"] == {"mode": "Active"}
    assert props["environment"]["variables"]["POWERTOOLS_SERVICE_NAME"] == "prewarm"
    assert not props.get("vpcConfig")  # CloudFront is fetched over the internet
    # an SQS event source needs a function timeout within the queue's visibility timeout
    assert props["timeout"] < spec.PREWARM.visibility_timeout_s
    logs = graph.named(f"{FUNCTION}-logs")
    assert (
        props["loggingConfig"]["logGroup"] == logs.props["name"] == f"/aws/lambda/{props['name']}"
    )
    assert logs.props["retentionInDays"] > 0
    assert rules.lambda_concurrency_or_alarm([function]) == []


def test_the_prewarm_queue_triggers_it_with_partial_batch_failures(graph: Graph) -> None:
    naming = _naming(graph)
    function = graph.named(FUNCTION).props
    sources = [
        s
        for s in graph.of(EVENT_SOURCE)
        if s.props["eventSourceArn"] == _queue_arn(naming, spec.PREWARM)
    ]
    assert [s.name for s in sources] == ["prewarming-source"]
    source = sources[0].props
    assert source["functionName"].endswith(f":{function['name']}")
    assert source["functionResponseTypes"] == ["ReportBatchItemFailures"]
    assert source["batchSize"] == prewarming.BATCH_SIZE == 1
    assert source["scalingConfig"]["maximumConcurrency"] >= 2
    assert source["scalingConfig"]["maximumConcurrency"] <= function["reservedConcurrentExecutions"]


def test_failed_prewarm_messages_end_in_an_alarmed_dead_letter_queue(graph: Graph) -> None:
    naming = _naming(graph)
    queues = {q.props["name"]: q.props for q in graph.of(rules.QUEUE)}
    redrive = json.loads(queues[naming.queue(spec.PREWARM)]["redrivePolicy"])
    assert redrive == {
        "deadLetterTargetArn": _queue_arn(naming, spec.PREWARM_DLQ),
        "maxReceiveCount": spec.PREWARM.max_receive_count,
    }
    alarmed = {
        a.props["dimensions"]["QueueName"]
        for a in graph.of(rules.ALARM)
        if a.props.get("namespace") == "AWS/SQS"
    }
    assert naming.queue(spec.PREWARM_DLQ) in alarmed


def test_the_consumer_role_consumes_the_prewarm_queue_and_reads_the_signing_key_only(
    graph: Graph,
) -> None:
    naming = _naming(graph)
    policy = graph.named(f"{FUNCTION}-role-policy")
    statements = _statements(graph, f"{FUNCTION}-role-policy")
    assert set(statements) == {"Logs", "ConsumeQueue", "SigningKey", "Tracing"}
    assert statements["ConsumeQueue"]["Action"] == [
        "sqs:ChangeMessageVisibility",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:ReceiveMessage",
    ]
    assert statements["ConsumeQueue"]["Resource"] == [_queue_arn(naming, spec.PREWARM)]
    assert statements["SigningKey"]["Action"] == ["secretsmanager:GetSecretValue"]
    assert statements["SigningKey"]["Resource"] == [_secret_arn(naming)]
    (log_streams,) = statements["Logs"]["Resource"]
    assert log_streams.endswith(f":/aws/lambda/{naming.prefix}-prewarm:*")
    assert statements["Logs"]["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    # X-Ray's write-only trace calls have no resources; it is the one statement on `*`
    assert statements["Tracing"] == policies.tracing()
    actions = [a for s in statements.values() for a in s["Action"]]
    assert not [a for a in actions if "*" in a]
    assert rules.iam_no_wildcards([policy]) == []


# --- environment ---------------------------------------------------------------------------------
def test_the_consumer_warms_the_api_s_cdns_with_the_stack_s_policy(
    stack: str, graph: Graph, monkeypatch: pytest.MonkeyPatch
) -> None:
    naming = _naming(graph)
    env = _env(graph, FUNCTION)
    # GIVEN the environment infra gives the consumer WHEN the runtime reads it
    settings = _settings(env, monkeypatch)
    # THEN it warms every CDN the API offers, signing with this stack's secret
    assert env["FLIXSTACK_CDNS"] == _env(graph, "api-function")["FLIXSTACK_CDNS"]
    assert json.loads(env["FLIXSTACK_CDNS"]) == resolve(graph.outputs[outputs.CDNS])
    assert [c.name for c in settings.cdns] == [
        c["name"] for c in json.loads(stack_config(stack)["flixstack:cdns"])
    ]
    assert all(str(c.base_url).startswith("https://") for c in settings.cdns)
    assert settings.naming == naming
    (secret,) = graph.of("aws:secretsmanager/secret:Secret")
    assert settings.naming.secret(spec.CDN_SIGNING) == secret.props["name"]
    assert settings.prewarm_segments == int(
        _configured(stack, "prewarmSegments", "prewarm_segments")
    )
    assert {name for name in env if name.startswith("FLIXSTACK_PREWARM_")} == set(PREWARM_ENV)


def test_defaults_are_the_runtime_s_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    graph = run_stack("localstack")  # sets no pre-warming key
    defaults = _settings({}, monkeypatch)
    for function in (FUNCTION, "api-function"):
        settings = _settings(_env(graph, function), monkeypatch)
        assert (
            settings.prewarm_titles,
            settings.prewarm_segments,
            settings.prewarm_min_popularity,
            settings.prewarm_new_days,
        ) == (
            defaults.prewarm_titles,
            defaults.prewarm_segments,
            defaults.prewarm_min_popularity,
            defaults.prewarm_new_days,
        )


def test_publishers_and_consumer_share_the_policy_from_stack_config(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a stack that sets every pre-warming key
    graph = run_stack("dev", POLICY)
    environments = {
        "consumer": _env(graph, FUNCTION),
        "api": _env(graph, "api-function"),
        "transcoder": _worker_env(graph),
    }
    for who, env in environments.items():
        # WHEN each process reads its settings
        settings = _settings(env, monkeypatch)
        # THEN each sees the stack's policy
        assert settings.prewarm_titles == "new", who
        assert settings.prewarm_segments == 7, who
        assert settings.prewarm_min_popularity == 12.5, who
        assert settings.prewarm_new_days == 14, who
    # the dispatcher Lambdas start tasks; they publish nothing
    for function in ("transcoding-dispatch", "transcoding-retry"):
        assert not [name for name in _env(graph, function) if name.startswith("FLIXSTACK_PREWARM")]
    assert rules.violations(graph.resources) == {}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("prewarmTitles", "some"),
        ("prewarmSegments", "101"),
        ("prewarmMinPopularity", "-1"),
        ("prewarmNewDays", "-1"),
        ("prewarmConcurrency", "1"),
    ],
)
def test_a_policy_the_runtime_would_refuse_fails_the_program(key: str, value: str) -> None:
    with pytest.raises(ValueError, match=f"flixstack:{key}"):
        run_stack("dev", {f"flixstack:{key}": value})


# --- the publishers --------------------------------------------------------------------------------
def test_the_api_sends_to_the_prewarm_queue_and_to_no_other(graph: Graph) -> None:
    naming = _naming(graph)
    statements = _statements(graph, "api-function-role-policy")
    assert statements["PrewarmRequests"]["Action"] == ["sqs:GetQueueUrl", "sqs:SendMessage"]
    assert statements["PrewarmRequests"]["Resource"] == [_queue_arn(naming, spec.PREWARM)]
    senders = [s for s in statements.values() if "sqs:SendMessage" in s["Action"]]
    assert senders == [statements["PrewarmRequests"]]
    # /health still looks up and describes every queue of the spec
    assert statements["Queues"]["Resource"] == sorted(_queue_arn(naming, q) for q in spec.QUEUES)
    assert statements["Queues"]["Action"] == ["sqs:GetQueueAttributes", "sqs:GetQueueUrl"]


def test_the_transcoder_task_sends_to_the_prewarm_queue(graph: Graph) -> None:
    naming = _naming(graph)
    statements = _statements(graph, "transcoding-task-role-policy")
    assert statements["PrewarmRequests"] == {
        "Sid": "PrewarmRequests",
        "Effect": "Allow",
        "Action": ["sqs:GetQueueUrl", "sqs:SendMessage"],
        "Resource": [_queue_arn(naming, spec.PREWARM)],
    }
    prewarm = _queue_arn(naming, spec.PREWARM)
    assert [sid for sid, s in statements.items() if prewarm in s["Resource"]] == ["PrewarmRequests"]


# --- outputs ---------------------------------------------------------------------------------------
def test_the_consumer_is_exported() -> None:
    graph = run_stack("dev")
    assert resolve(graph.outputs[outputs.PREWARM_FUNCTION]) == (
        f"{spec.Naming('dev', ACCOUNT).prefix}-prewarm"
    )

"""The transcode dispatcher with botocore's Stubber standing in for ECS and SQS (no network):
one task per message, failed RunTasks reported as batch item failures, and stopped tasks
re-sent to the queue until their attempts are spent."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import boto3
import pytest
from aws_lambda_powertools import Metrics
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from botocore.stub import Stubber
from pydantic import ValidationError

from flixstack import spec
from flixstack.errors import InvalidInput, ServiceUnavailable
from flixstack.media import dispatch
from flixstack.media.dispatch import (
    ATTEMPT_ATTRIBUTE,
    ATTEMPT_ENV,
    EVENT_ENV,
    DispatchSettings,
    Retry,
    TaskNotStarted,
    TranscodeDispatcher,
)
from flixstack.media.jobs import JobError

ACCOUNT = "123456789012"
REGION = "us-east-1"
NAMING = spec.Naming("dev", ACCOUNT)
CLUSTER = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/flixstack-dev-transcode"
TASK_DEFINITION = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/flixstack-dev-transcoder:3"
TASK = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/flixstack-dev-transcode/0123456789abcdef"
QUEUE_URL = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/flixstack-dev-transcode"
DLQ_URL = f"{QUEUE_URL}-dlq"
SETTINGS = DispatchSettings(
    transcode_cluster=CLUSTER,
    transcode_task_definition=TASK_DEFINITION,
    transcode_container="transcoder",
    transcode_subnets=("subnet-a", "subnet-b"),
    transcode_security_groups=("sg-1",),
    transcode_assign_public_ip=True,
    transcode_capacity_provider="FARGATE_SPOT",
    transcode_max_attempts=3,
)


# --- events (the shapes AWS delivers) --------------------------------------------------------
def s3_event(key: str = "masters/t1/u1/movie.mov") -> str:
    """An S3 ObjectCreated notification as S3 writes it to SQS."""
    bucket = NAMING.bucket(spec.INGEST)
    return json.dumps(
        {
            "Records": [
                {
                    "eventVersion": "2.1",
                    "eventSource": "aws:s3",
                    "awsRegion": REGION,
                    "eventTime": "2026-01-01T12:00:00.000Z",
                    "eventName": "ObjectCreated:CompleteMultipartUpload",
                    "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"},
                    "requestParameters": {"sourceIPAddress": "203.0.113.7"},
                    "responseElements": {"x-amz-request-id": "R1", "x-amz-id-2": "I1"},
                    "s3": {
                        "s3SchemaVersion": "1.0",
                        "configurationId": spec.MASTER_UPLOADED.logical,
                        "bucket": {
                            "name": bucket,
                            "ownerIdentity": {"principalId": "A1"},
                            "arn": f"arn:aws:s3:::{bucket}",
                        },
                        "object": {
                            "key": key,
                            "size": 1048576,
                            "eTag": "d41d8cd98f00b204e9800998ecf8427e-2",
                            "sequencer": "0065A1B2C3D4E5F6",
                        },
                    },
                }
            ]
        },
        indent=2,  # S3's own bodies are compact; the dispatcher compacts whatever it gets
    )


TEST_EVENT = json.dumps(
    {
        "Service": "Amazon S3",
        "Event": "s3:TestEvent",
        "Time": "2026-01-01T12:00:00.000Z",
        "Bucket": NAMING.bucket(spec.INGEST),
        "RequestId": "R0",
        "HostId": "H0",
    }
)


def sqs_record(body: str, message_id: str = "m-1", attempt: int | None = None) -> dict[str, Any]:
    attributes = (
        {
            ATTEMPT_ATTRIBUTE: {
                "stringValue": str(attempt),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": "Number",
            }
        }
        if attempt is not None
        else {}
    )
    return {
        "messageId": message_id,
        "receiptHandle": f"handle-{message_id}",
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1767268800000",
            "SenderId": "AIDAEXAMPLE",
            "ApproximateFirstReceiveTimestamp": "1767268800001",
        },
        "messageAttributes": attributes,
        "md5OfBody": "0" * 32,
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:flixstack-dev-transcode",
        "awsRegion": REGION,
    }


def task_stopped(
    *,
    exit_code: int | None = 137,
    stop_code: str = "EssentialContainerExited",
    attempt: int | None = 1,
) -> dict[str, Any]:
    """An EventBridge "ECS Task State Change" event for a stopped dispatcher task."""
    environment = [{"name": EVENT_ENV, "value": compact(s3_event())}]
    if attempt is not None:
        environment.append({"name": ATTEMPT_ENV, "value": str(attempt)})
    container: dict[str, Any] = {
        "containerArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:container/c1",
        "lastStatus": "STOPPED",
        "name": "transcoder",
        "taskArn": TASK,
        "reason": "OutOfMemoryError: Container killed due to memory usage",
    }
    if exit_code is not None:
        container["exitCode"] = exit_code
    return {
        "version": "0",
        "id": "e-1",
        "detail-type": "ECS Task State Change",
        "source": "aws.ecs",
        "account": ACCOUNT,
        "time": "2026-01-01T12:30:00Z",
        "region": REGION,
        "resources": [TASK],
        "detail": {
            "clusterArn": CLUSTER,
            "containers": [container],
            "desiredStatus": "STOPPED",
            "group": "family:flixstack-dev-transcoder",
            "lastStatus": "STOPPED",
            "launchType": "FARGATE",
            "overrides": {
                "containerOverrides": [
                    {"name": "transcoder", "command": ["run-one"], "environment": environment}
                ]
            },
            "startedBy": dispatch.STARTED_BY,
            "stopCode": stop_code,
            "stoppedReason": "Essential container in task exited",
            "taskArn": TASK,
            "taskDefinitionArn": TASK_DEFINITION,
        },
    }


def started_by_hand(event: dict[str, Any]) -> dict[str, Any]:
    """The same event for a task someone ran without the dispatcher's overrides."""
    return {**event, "detail": {**event["detail"], "overrides": {"containerOverrides": []}}}


def compact(body: str) -> str:
    return json.dumps(json.loads(body), separators=(",", ":"))


# --- fixtures --------------------------------------------------------------------------------
class FailedJobs:
    """Records the jobs the dispatcher fails (the DynamoDB side is tested with the worker)."""

    def __init__(self) -> None:
        self.failed: dict[str, JobError] = {}

    def fail(self, job_id: str, error: JobError, owner: str | None = None) -> bool:
        self.failed[job_id] = error
        return True


@dataclass
class Stubs:
    ecs_client: Any
    sqs_client: Any
    ecs: Stubber
    sqs: Stubber
    jobs: FailedJobs = field(default_factory=FailedJobs)

    def dispatcher_with(self, metrics: Metrics | None = None) -> TranscodeDispatcher:
        return TranscodeDispatcher(
            ecs=self.ecs_client,
            sqs=self.sqs_client,
            naming=NAMING,
            settings=SETTINGS,
            jobs=self.jobs,
            metrics=metrics,
        )

    @property
    def dispatcher(self) -> TranscodeDispatcher:
        return self.dispatcher_with()


@pytest.fixture
def stubs() -> Iterator[Stubs]:
    ecs = boto3.client("ecs", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    with Stubber(ecs) as ecs_stub, Stubber(sqs) as sqs_stub:
        yield Stubs(ecs, sqs, ecs_stub, sqs_stub)
        ecs_stub.assert_no_pending_responses()
        sqs_stub.assert_no_pending_responses()


def run_task_params(attempt: int = 1) -> dict[str, Any]:
    return {
        "cluster": CLUSTER,
        "taskDefinition": TASK_DEFINITION,
        "count": 1,
        "capacityProviderStrategy": [{"capacityProvider": "FARGATE_SPOT", "weight": 1}],
        "networkConfiguration": {
            "awsvpcConfiguration": {
                "subnets": ["subnet-a", "subnet-b"],
                "securityGroups": ["sg-1"],
                "assignPublicIp": "ENABLED",
            }
        },
        "overrides": {
            "containerOverrides": [
                {
                    "name": "transcoder",
                    "command": ["run-one"],
                    "environment": [
                        {"name": EVENT_ENV, "value": compact(s3_event())},
                        {"name": ATTEMPT_ENV, "value": str(attempt)},
                    ],
                }
            ]
        },
        "startedBy": dispatch.STARTED_BY,
    }


def started(stub: Stubber, attempt: int = 1) -> None:
    stub.add_response(
        "run_task",
        {"tasks": [{"taskArn": TASK, "lastStatus": "PROVISIONING"}], "failures": []},
        run_task_params(attempt),
    )


def sent(stub: Stubber, url: str, queue_name: str, attributes: dict[str, Any]) -> None:
    stub.add_response("get_queue_url", {"QueueUrl": url}, {"QueueName": queue_name})
    stub.add_response(
        "send_message",
        {"MessageId": "sent-1", "MD5OfMessageBody": "0" * 32},
        {"QueueUrl": url, "MessageBody": compact(s3_event()), "MessageAttributes": attributes},
    )


# --- settings --------------------------------------------------------------------------------
def test_settings_round_trip_through_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the environment infra derives from the settings
    environment = SETTINGS.environment()
    assert environment["FLIXSTACK_TRANSCODE_SUBNETS"] == '["subnet-a", "subnet-b"]'
    assert environment["FLIXSTACK_TRANSCODE_ASSIGN_PUBLIC_IP"] == "true"
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    # WHEN the Lambda reads its settings THEN it gets the same ones
    assert DispatchSettings() == SETTINGS  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("FLIXSTACK_TRANSCODE_SUBNETS", "[]"),
        ("FLIXSTACK_TRANSCODE_CAPACITY_PROVIDER", "EC2"),
        ("FLIXSTACK_TRANSCODE_MAX_ATTEMPTS", "0"),
    ],
)
def test_bad_settings_fail_fast(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    for name, setting in SETTINGS.environment().items():
        monkeypatch.setenv(name, setting)
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError, match=variable.removeprefix("FLIXSTACK_").lower()):
        DispatchSettings()  # type: ignore[call-arg]


def test_missing_settings_fail_fast() -> None:
    with pytest.raises(ValidationError, match="transcode_cluster"):
        DispatchSettings()  # type: ignore[call-arg]


# --- one task per message --------------------------------------------------------------------
def test_a_master_upload_starts_one_task_with_the_event(stubs: Stubs) -> None:
    started(stubs.ecs)
    assert stubs.dispatcher.start_task(SQSRecord(sqs_record(s3_event()))) == TASK


def test_a_resent_message_carries_its_attempt_into_the_task(stubs: Stubs) -> None:
    started(stubs.ecs, attempt=2)
    assert stubs.dispatcher.start_task(SQSRecord(sqs_record(s3_event(), attempt=2))) == TASK


@pytest.mark.parametrize(
    "body", [TEST_EVENT, s3_event("sidecars/t1/u1/en.vtt"), json.dumps({"Records": []})]
)
def test_messages_without_a_master_start_nothing(stubs: Stubs, body: str) -> None:
    # The stubber has no response queued: a RunTask call would fail the test.
    assert stubs.dispatcher.start_task(SQSRecord(sqs_record(body))) is None


@pytest.mark.parametrize("body", ["not json", "[1, 2]"])
def test_a_message_that_is_no_s3_event_fails(stubs: Stubs, body: str) -> None:
    with pytest.raises(InvalidInput):
        stubs.dispatcher.start_task(SQSRecord(sqs_record(body)))


def test_a_rejected_run_task_fails_the_message(stubs: Stubs) -> None:
    stubs.ecs.add_client_error(
        "run_task",
        service_error_code="ClientException",
        service_message="Tasks provisioning capacity limit exceeded",
        expected_params=run_task_params(),
    )
    with pytest.raises(TaskNotStarted) as raised:
        stubs.dispatcher.start_task(SQSRecord(sqs_record(s3_event())))
    assert raised.value.reason == "task_not_started"


def test_run_task_failures_fail_the_message(stubs: Stubs) -> None:
    stubs.ecs.add_response(
        "run_task",
        {"tasks": [], "failures": [{"arn": CLUSTER, "reason": "Capacity is unavailable"}]},
        run_task_params(),
    )
    with pytest.raises(TaskNotStarted, match="Capacity is unavailable"):
        stubs.dispatcher.start_task(SQSRecord(sqs_record(s3_event())))


def test_an_event_too_large_for_ecs_overrides_is_refused(stubs: Stubs) -> None:
    body = s3_event("masters/t1/u1/" + "x" * dispatch.OVERRIDES_LIMIT)
    with pytest.raises(InvalidInput, match="too large"):
        stubs.dispatcher.start_task(SQSRecord(sqs_record(body)))


# --- stopped tasks ---------------------------------------------------------------------------
def test_a_killed_task_is_resent_with_the_next_attempt(stubs: Stubs) -> None:
    # GIVEN the first task for an upload was killed (out of memory, exit code 137)
    event = task_stopped(exit_code=137, attempt=1)
    # THEN its S3 event goes back to the transcode queue as attempt 2
    sent(
        stubs.sqs,
        QUEUE_URL,
        NAMING.queue(spec.TRANSCODE),
        {ATTEMPT_ATTRIBUTE: {"DataType": "Number", "StringValue": "2"}},
    )
    assert stubs.dispatcher.retry_stopped_task(event["detail"]) is Retry.RESENT


@pytest.mark.parametrize("stop_code", dispatch.RETRYABLE_STOP_CODES)
def test_a_task_that_never_ran_to_the_end_is_resent(stubs: Stubs, stop_code: str) -> None:
    sent(
        stubs.sqs,
        QUEUE_URL,
        NAMING.queue(spec.TRANSCODE),
        {ATTEMPT_ATTRIBUTE: {"DataType": "Number", "StringValue": "2"}},
    )
    event = task_stopped(exit_code=None, stop_code=stop_code)
    assert stubs.dispatcher.retry_stopped_task(event["detail"]) is Retry.RESENT


def test_the_last_failed_attempt_dead_letters_the_message(stubs: Stubs) -> None:
    event = task_stopped(exit_code=1, attempt=SETTINGS.transcode_max_attempts)
    assert spec.TRANSCODE.dead_letter is not None
    sent(
        stubs.sqs,
        DLQ_URL,
        NAMING.queue(spec.TRANSCODE.dead_letter),
        {
            "task-arn": {"DataType": "String", "StringValue": TASK},
            "stopped-reason": {
                "DataType": "String",
                "StringValue": "exit code 1: OutOfMemoryError: Container killed due to memory usage",
            },
        },
    )
    assert stubs.dispatcher.retry_stopped_task(event["detail"]) is Retry.DEAD_LETTERED
    # the upload's job says so, as it would after the worker's own last attempt
    (job_id,) = stubs.jobs.failed
    assert (
        job_id
        == PurePosixPath(json.loads(s3_event())["Records"][0]["s3"]["object"]["key"]).parts[2]
    )
    assert stubs.jobs.failed[job_id].reason == "dead_lettered"


@pytest.mark.parametrize(
    "event",
    [
        task_stopped(exit_code=0),  # finished (or failed for good, recorded on the job)
        task_stopped(exit_code=143, stop_code="UserInitiated"),  # cancelled by an operator
        started_by_hand(task_stopped(exit_code=1)),
    ],
    ids=["exit-0", "cancelled", "not-dispatched"],
)
def test_tasks_that_need_no_retry_send_nothing(stubs: Stubs, event: dict[str, Any]) -> None:
    assert stubs.dispatcher.retry_stopped_task(event["detail"]) is Retry.NOT_NEEDED


def test_a_failed_resend_raises_so_lambda_retries_it(stubs: Stubs) -> None:
    stubs.sqs.add_response(
        "get_queue_url", {"QueueUrl": QUEUE_URL}, {"QueueName": NAMING.queue(spec.TRANSCODE)}
    )
    stubs.sqs.add_client_error("send_message", service_error_code="InternalError")
    with pytest.raises(ServiceUnavailable):
        stubs.dispatcher.retry_stopped_task(task_stopped()["detail"])


# --- the Lambda entry points -----------------------------------------------------------------
@dataclass
class LambdaContext:
    function_name: str = "flixstack-dev-transcode-dispatch"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = (
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:flixstack-dev-transcode-dispatch"
    )
    aws_request_id: str = "request-1"


@pytest.fixture
def entry(stubs: Stubs, monkeypatch: pytest.MonkeyPatch) -> Any:
    import functions.transcode_dispatch as module

    dispatcher = stubs.dispatcher_with(module.metrics)
    monkeypatch.setattr(module, "dispatcher", lambda: dispatcher)
    return module


def test_handler_reports_only_the_failed_message(stubs: Stubs, entry: Any) -> None:
    # GIVEN two messages: the first task starts, ECS refuses the second
    started(stubs.ecs)
    stubs.ecs.add_client_error("run_task", service_error_code="ThrottlingException")
    event = {"Records": [sqs_record(s3_event(), "m-1"), sqs_record(s3_event(), "m-2")]}
    # WHEN the handler runs THEN SQS is told to redeliver only the second
    response = entry.handler(event, LambdaContext())
    assert response == {"batchItemFailures": [{"itemIdentifier": "m-2"}]}


def test_handler_reports_nothing_when_every_task_starts(stubs: Stubs, entry: Any) -> None:
    started(stubs.ecs)
    response = entry.handler({"Records": [sqs_record(s3_event())]}, LambdaContext())
    assert response == {"batchItemFailures": []}


def test_on_task_stopped_resends_the_message(stubs: Stubs, entry: Any) -> None:
    sent(
        stubs.sqs,
        QUEUE_URL,
        NAMING.queue(spec.TRANSCODE),
        {ATTEMPT_ATTRIBUTE: {"DataType": "Number", "StringValue": "2"}},
    )
    assert entry.on_task_stopped(task_stopped(), LambdaContext()) == {"outcome": "resent"}


def test_the_dispatcher_imports_no_media_libraries() -> None:
    """The Lambda layer has no ffmpeg or PyAV: importing the entry point must not need them."""
    heavy = ("av", "ffmpeg", "imageio_ffmpeg", "numpy", "flixstack.media.worker")
    code = (
        "import sys, functions.transcode_dispatch; "
        f"print([m for m in {heavy!r} if m in sys.modules])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"

"""Dispatching transcodes on AWS: one ECS Fargate task per uploaded master, and a bounded
retry when a task dies (see ``containers/transcoder/README.md`` for the whole path).

* :meth:`TranscodeDispatcher.start_task` handles one message of the transcode queue (an S3
  ObjectCreated notification): it starts the worker's task with ``run-one`` and the message
  body in ``FLIXSTACK_TRANSCODE_EVENT``. If RunTask fails, so does the message, and SQS
  delivers it again; after ``spec.TRANSCODE.max_receive_count`` receives it is dead-lettered.
* :meth:`TranscodeDispatcher.retry_stopped_task` handles the ECS "Task State Change" event of
  a task that stopped with a non-zero exit code or never ran (killed, out of memory, Spot
  interruption, failed to start). It reads the S3 event back from the task's overrides and
  sends it to the transcode queue again, counting attempts in a message attribute; when the
  attempts are spent it sends it to the dead-letter queue instead. The worker's job record
  makes a repeated run of the same upload harmless.

This module must stay light: the dispatcher Lambdas import it without ffmpeg or PyAV.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Literal, Protocol

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from botocore.exceptions import ClientError
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from flixstack import spec
from flixstack.aws.clients import AwsClients
from flixstack.aws.job_store import DynamoJobRepository
from flixstack.errors import InvalidInput, ServiceUnavailable
from flixstack.media.jobs import JobError
from flixstack.media.notifications import parse_masters
from flixstack.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageAttributeValueTypeDef

EVENT_ENV = "FLIXSTACK_TRANSCODE_EVENT"
"""The S3 event the task transcodes (``Settings.transcode_event`` of the worker)."""
ATTEMPT_ENV = "FLIXSTACK_TRANSCODE_ATTEMPT"
"""Which attempt at the message the task is (1 for the first); read back when it stops."""
ATTEMPT_ATTRIBUTE = "transcode-attempt"
"""SQS message attribute carrying the attempt number of a re-sent message."""
RUN_ONE = ("run-one",)
STARTED_BY = "flixstack-transcode-dispatch"
OVERRIDES_LIMIT = 8192
"""ECS accepts at most this many characters of overrides, JSON punctuation included."""
RETRYABLE_STOP_CODES = ("TaskFailedToStart", "SpotInterruption", "TerminationNotice")
"""Stopped tasks retried whatever their exit code (they may not have one)."""
CANCELLED_STOP_CODE = "UserInitiated"
"""StopTask is how an operator cancels a transcode: such a task is not retried."""

logger = Logger(child=True)


class DispatchSettings(BaseSettings):
    """What the dispatcher Lambdas need besides :class:`~flixstack.settings.Settings`.

    Infra sets every field as ``FLIXSTACK_<FIELD>`` from :meth:`environment`; lists are JSON.
    """

    model_config = SettingsConfigDict(env_prefix="FLIXSTACK_", extra="ignore", frozen=True)

    transcode_cluster: str
    """The ECS cluster (ARN or name) the tasks run on."""
    transcode_task_definition: str
    """The worker's task definition (ARN with revision, or family)."""
    transcode_container: str
    """The worker container's name in the task definition."""
    transcode_subnets: Annotated[tuple[str, ...], Field(min_length=1)]
    transcode_security_groups: Annotated[tuple[str, ...], Field(min_length=1)]
    transcode_assign_public_ip: bool = False
    """True in public subnets without a NAT gateway (the VPC infra creates)."""
    transcode_capacity_provider: Literal["FARGATE", "FARGATE_SPOT"] = "FARGATE"
    transcode_max_attempts: Annotated[int, Field(ge=1, le=10)] = spec.TRANSCODE.max_receive_count
    """Tasks one message may get before it is dead-lettered."""

    def environment(self) -> dict[str, str]:
        """These settings as the environment variables they are read from."""
        prefix = self.model_config.get("env_prefix", "")
        return {
            f"{prefix}{name}".upper(): value if isinstance(value, str) else json.dumps(value)
            for name, value in self.model_dump(mode="json").items()
        }


class Retry(StrEnum):
    """What became of a stopped task's message."""

    RESENT = "resent"
    DEAD_LETTERED = "dead_lettered"
    NOT_NEEDED = "not_needed"


class TaskNotStarted(ServiceUnavailable):
    """ECS did not start the task (the message is retried)."""

    reason = "task_not_started"


class EcsClient(Protocol):
    def run_task(self, **kwargs: Any) -> Mapping[str, Any]: ...


class JobFailer(Protocol):
    def fail(self, job_id: str, error: JobError, owner: str | None = None) -> bool: ...


def _attempt(value: str | None) -> int:
    return int(value) if value is not None and value.isdigit() and int(value) > 0 else 1


class TranscodeDispatcher:
    """Starts worker tasks for transcode messages and retries the tasks that die."""

    def __init__(
        self,
        *,
        ecs: EcsClient,
        sqs: SQSClient,
        naming: spec.Naming,
        settings: DispatchSettings,
        jobs: JobFailer,
        metrics: Metrics | None = None,
    ) -> None:
        self._ecs = ecs
        self._sqs = sqs
        self._jobs = jobs
        self._naming = naming
        self._settings = settings
        self._metrics = metrics
        self._queue_urls: dict[str, str] = {}

    @classmethod
    def from_environment(cls, metrics: Metrics | None = None) -> TranscodeDispatcher:
        settings = Settings()
        clients = AwsClients(settings)
        return cls(
            ecs=clients.client("ecs"),
            sqs=clients.sqs,
            naming=settings.naming,
            settings=DispatchSettings(),  # type: ignore[call-arg]  # fields come from the environment
            jobs=DynamoJobRepository(settings.naming.table(spec.JOBS), clients.dynamodb),
            metrics=metrics,
        )

    # --- the transcode queue -------------------------------------------------------------
    def start_task(self, record: SQSRecord) -> str | None:
        """Starts the task for one message; its ARN, or None when there is nothing to
        transcode. Raises (so the message is retried) when no task started."""
        keys = [upload.key for upload in parse_masters(record.body)]
        if not keys:
            logger.info(
                "no uploaded master in the message", extra={"message_id": record.message_id}
            )
            self._count("TranscodeMessagesSkipped")
            return None
        attribute = record.message_attributes[ATTEMPT_ATTRIBUTE]
        attempt = _attempt(attribute.string_value if attribute is not None else None)
        request = self.run_task_request(record.body, attempt)
        try:
            response = self._ecs.run_task(**request)
        except ClientError as exc:
            raise TaskNotStarted(f"RunTask failed for {keys}: {exc}") from exc
        tasks: Sequence[Mapping[str, Any]] = response.get("tasks") or []
        if response.get("failures") or not tasks:
            raise TaskNotStarted(f"RunTask started no task for {keys}: {response.get('failures')}")
        task_arn = str(tasks[0]["taskArn"])
        logger.info("task started", extra={"task": task_arn, "keys": keys, "attempt": attempt})
        self._count("TranscodeTasksStarted")
        return task_arn

    def run_task_request(self, body: str, attempt: int) -> dict[str, Any]:
        """The RunTask parameters for one S3 event (compacted JSON) and attempt."""
        settings = self._settings
        event = json.dumps(json.loads(body), separators=(",", ":"))
        overrides = {
            "containerOverrides": [
                {
                    "name": settings.transcode_container,
                    "command": list(RUN_ONE),
                    "environment": [
                        {"name": EVENT_ENV, "value": event},
                        {"name": ATTEMPT_ENV, "value": str(attempt)},
                    ],
                }
            ]
        }
        if len(json.dumps(overrides, separators=(",", ":"))) > OVERRIDES_LIMIT:
            raise InvalidInput(f"the S3 event is too large for ECS overrides ({len(event)} chars)")
        return {
            "cluster": settings.transcode_cluster,
            "taskDefinition": settings.transcode_task_definition,
            "count": 1,
            "capacityProviderStrategy": [
                {"capacityProvider": settings.transcode_capacity_provider, "weight": 1}
            ],
            "networkConfiguration": {
                "awsvpcConfiguration": {
                    "subnets": list(settings.transcode_subnets),
                    "securityGroups": list(settings.transcode_security_groups),
                    "assignPublicIp": "ENABLED"
                    if settings.transcode_assign_public_ip
                    else "DISABLED",
                }
            },
            "overrides": overrides,
            "startedBy": STARTED_BY,
        }

    # --- stopped tasks -------------------------------------------------------------------
    def failure_of(self, detail: Mapping[str, Any]) -> str | None:
        """Why a stopped task needs another attempt, or None if it does not: it finished
        (exit code 0; a permanent failure is recorded on the job and exits 0 too), or an
        operator stopped it. Mirrors the EventBridge rule, which only pre-filters."""
        stop_code = detail.get("stopCode")
        if detail.get("lastStatus") != "STOPPED" or stop_code == CANCELLED_STOP_CODE:
            return None
        if stop_code in RETRYABLE_STOP_CODES:
            return f"{stop_code}: {detail.get('stoppedReason', '')}"
        container: Mapping[str, Any] = next(
            (
                c
                for c in detail.get("containers", [])
                if c.get("name") == self._settings.transcode_container
            ),
            {},
        )
        exit_code = container.get("exitCode")
        if exit_code is None or exit_code == 0:
            return None
        return (
            f"exit code {exit_code}: {container.get('reason') or detail.get('stoppedReason', '')}"
        )

    def retry_stopped_task(self, detail: Mapping[str, Any]) -> Retry:
        """Sends a failed task's S3 event to the transcode queue again, or to its
        dead-letter queue once ``transcode_max_attempts`` tasks have failed on it."""
        task = str(detail.get("taskArn", ""))
        environment = self._override_environment(detail)
        body = environment.get(EVENT_ENV)
        failure = self.failure_of(detail)
        if body is None or failure is None:
            logger.info("stopped task needs no retry", extra={"task": task, "failure": failure})
            return Retry.NOT_NEEDED
        attempt = _attempt(environment.get(ATTEMPT_ENV))
        if attempt < self._settings.transcode_max_attempts:
            self._send(spec.TRANSCODE, body, {ATTEMPT_ATTRIBUTE: _number(attempt + 1)})
            logger.warning(
                "task failed; message re-sent",
                extra={"task": task, "failure": failure, "attempt": attempt},
            )
            self._count("TranscodeTasksRetried")
            return Retry.RESENT
        dead_letter = spec.TRANSCODE.dead_letter
        assert dead_letter is not None  # the spec gives the transcode queue one
        # Without the attempt attribute: a redrive from the dead-letter queue starts afresh.
        self._send(
            dead_letter, body, {"task-arn": _string(task), "stopped-reason": _string(failure)}
        )
        logger.error(
            "task failed on its last attempt; message dead-lettered",
            extra={"task": task, "failure": failure, "attempt": attempt},
        )
        for upload in parse_masters(body):
            self._jobs.fail(
                upload.upload_id,
                JobError(
                    reason="dead_lettered",
                    message=f"{attempt} transcode tasks failed; the last: {failure}",
                ),
            )
        self._count("TranscodeTasksDeadLettered")
        return Retry.DEAD_LETTERED

    def _override_environment(self, detail: Mapping[str, Any]) -> dict[str, str]:
        overrides = detail.get("overrides", {}).get("containerOverrides", [])
        return {
            str(variable["name"]): str(variable["value"])
            for override in overrides
            if override.get("name") == self._settings.transcode_container
            for variable in override.get("environment", [])
        }

    def _send(
        self,
        queue: spec.QueueSpec,
        body: str,
        attributes: Mapping[str, MessageAttributeValueTypeDef],
    ) -> None:
        try:
            if queue.logical not in self._queue_urls:
                name = self._naming.queue(queue)
                self._queue_urls[queue.logical] = self._sqs.get_queue_url(QueueName=name)[
                    "QueueUrl"
                ]
            self._sqs.send_message(
                QueueUrl=self._queue_urls[queue.logical],
                MessageBody=body,
                MessageAttributes=dict(attributes),
            )
        except ClientError as exc:
            raise ServiceUnavailable(f"could not send to queue {queue.logical}: {exc}") from exc

    def _count(self, name: str) -> None:
        if self._metrics is not None:
            self._metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)


def _number(value: int) -> MessageAttributeValueTypeDef:
    return {"DataType": "Number", "StringValue": str(value)}


def _string(value: str) -> MessageAttributeValueTypeDef:
    return {"DataType": "String", "StringValue": value[:1024] or "-"}

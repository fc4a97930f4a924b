"""Recommendations: the recommender's training job as a scheduled ECS Fargate task.

Training (``flixstack train-recs``, ``flixstack.recommend``) reads the events lake, the
catalog snapshot and the viewers table, writes a model under ``recommend/`` of the artifacts
bucket, one candidates item per profile, and flips the model pointer in the analytics table.
numpy, scipy, pyarrow and DuckDB are too big for the Lambda layer, so it runs in a container:
an image repository of its own, a task definition with its roles, and an EventBridge
Scheduler schedule (``spec.RECOMMEND_SCHEDULE`` unless the stack sets another) that runs the
task on the transcoding cluster, in the transcoding tasks' subnets and security groups.

A run the schedule cannot start (RunTask keeps failing) is retried, then lands in the
component's dead-letter queue, whose alarm notifies ``alarm_actions``. The image and its
build are documented in ``containers/recommender/README.md``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from flixstack import spec
from infra import policies
from infra.components import fargate, tags
from infra.components.messaging import not_empty_alarm

TYPE = "flixstack:index:Recommendations"
CAPABILITY = "recommendations"
CONTAINER = "recommender"
COMMAND = ("train-recs",)
"""The ``flixstack`` subcommand the task runs (also the image's default ``CMD``)."""
CPU_UNITS = 2048  # 2 vCPU
MEMORY_MB = 8192
SCRATCH_VOLUME = fargate.SCRATCH_VOLUME
SCRATCH_PATH = "/scratch"  # the image's TMPDIR, HOME and VOLUME (containers/recommender)
SCHEDULE_WINDOW_MIN = 15
"""Scheduler may start a run up to this late: training has no deadline to the minute."""
RETRY_ATTEMPTS = 5
RETRY_MAX_EVENT_AGE_S = 3600
"""A run Scheduler could not start within the hour is dead-lettered (the next one comes)."""
DEAD_LETTER = spec.RECOMMEND_SCHEDULE_DLQ


@dataclass(frozen=True)
class RecommendationsArgs:
    naming: spec.Naming
    account_id: pulumi.Input[str]
    region: str
    environment: Mapping[str, pulumi.Input[str]]
    """Runtime settings every process of the stack gets (stage, bucket suffix)."""
    bucket_arns: Mapping[str, pulumi.Input[str]]
    table_arns: Mapping[str, pulumi.Input[str]]
    cluster_arn: pulumi.Input[str]
    """The ECS cluster the task runs on (the transcoding one)."""
    subnet_ids: pulumi.Input[Sequence[str]]
    security_group_ids: pulumi.Input[Sequence[str]]
    assign_public_ip: pulumi.Input[bool]
    """As the transcoding tasks in those subnets: their routes to S3, ECR and CloudWatch."""
    image_tag: str
    log_retention_days: int
    schedule: str = spec.RECOMMEND_SCHEDULE
    """An EventBridge Scheduler expression: ``rate(...)`` or ``cron(...)`` (UTC)."""
    alarm_actions: Sequence[pulumi.Input[str]] = ()
    """Where the dead-letter queue's alarm notifies."""
    force_destroy: bool = False


def container_definitions(
    *, image: str, log_group: str, region: str, environment: Mapping[str, str]
) -> str:
    """The training container: ``flixstack train-recs`` on a read-only root file system
    with a scratch volume, logging to CloudWatch."""
    trainer = fargate.container(
        name=CONTAINER,
        image=image,
        log_group=log_group,
        region=region,
        environment=environment,
        scratch_path=SCRATCH_PATH,
    )
    return json.dumps([{**trainer, "command": list(COMMAND)}], sort_keys=True)


class Recommendations(pulumi.ComponentResource):
    repository_url: pulumi.Output[str]
    image: pulumi.Output[str]
    task_definition_arn: pulumi.Output[str]
    task_role_arn: pulumi.Output[str]
    execution_role_arn: pulumi.Output[str]
    log_group_name: pulumi.Output[str]
    schedule_name: pulumi.Output[str]
    dead_letter_url: pulumi.Output[str]

    def __init__(
        self, name: str, args: RecommendationsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        stage = args.naming.stage
        prefix = args.naming.prefix
        child = pulumi.ResourceOptions(parent=self)

        # --- image and task --------------------------------------------------------------
        repository = fargate.image_repository(
            f"{name}-repository",
            name=f"{prefix}-{CONTAINER}",
            stage=stage,
            capability=CAPABILITY,
            force_destroy=args.force_destroy,
            parent=self,
        )
        logs = fargate.task_logs(
            f"{name}-task-logs",
            name=f"/ecs/{prefix}-{CONTAINER}",
            retention_days=args.log_retention_days,
            stage=stage,
            capability=CAPABILITY,
            parent=self,
        )
        task_role, _ = fargate.role(
            f"{name}-task-role",
            trust=policies.assume_role_policy(fargate.ECS_TASKS),
            stage=stage,
            capability=CAPABILITY,
            parent=self,
            policy=pulumi.Output.all(
                lake=args.bucket_arns[spec.LAKE.logical],
                artifacts=args.bucket_arns[spec.ARTIFACTS.logical],
                catalog=args.table_arns[spec.CATALOG.logical],
                viewers=args.table_arns[spec.VIEWERS.logical],
                analytics=args.table_arns[spec.ANALYTICS.logical],
            ).apply(
                lambda v: policies.recommender_task_policy(
                    lake_bucket_arn=v["lake"],
                    artifacts_bucket_arn=v["artifacts"],
                    catalog_table_arn=v["catalog"],
                    viewers_table_arn=v["viewers"],
                    analytics_table_arn=v["analytics"],
                )
            ),
        )
        execution_role = fargate.execution_role(
            f"{name}-execution-role",
            repository=repository,
            logs=logs,
            stage=stage,
            capability=CAPABILITY,
            parent=self,
        )
        image = repository.repository_url.apply(lambda url: f"{url}:{args.image_tag}")
        task_definition = fargate.task_definition(
            f"{name}-task",
            family=f"{prefix}-{CONTAINER}",
            cpu_units=CPU_UNITS,
            memory_mb=MEMORY_MB,
            task_role=task_role,
            execution_role=execution_role,
            container_definitions=pulumi.Output.all(
                image=image,
                logs=logs.name,
                environment=pulumi.Output.from_input(
                    {**args.environment, "FLIXSTACK_REGION": args.region}
                ),
            ).apply(
                lambda v: container_definitions(
                    image=v["image"],
                    log_group=v["logs"],
                    region=args.region,
                    environment=v["environment"],
                )
            ),
            stage=stage,
            capability=CAPABILITY,
            parent=self,
        )

        # --- the schedule ----------------------------------------------------------------
        dead_letter = aws.sqs.Queue(
            f"{name}-{DEAD_LETTER.logical}",
            name=args.naming.queue(DEAD_LETTER),
            visibility_timeout_seconds=DEAD_LETTER.visibility_timeout_s,
            message_retention_seconds=DEAD_LETTER.retention_s,
            sqs_managed_sse_enabled=True,
            tags=tags(stage, CAPABILITY, {"purpose": DEAD_LETTER.purpose}),
            opts=child,
        )
        aws.sqs.QueuePolicy(
            f"{name}-{DEAD_LETTER.logical}-policy",
            queue_url=dead_letter.url,
            policy=pulumi.Output.all(dead_letter.arn, args.account_id).apply(
                lambda v: policies.queue_policy(v[0], [], v[1])
            ),
            opts=child,
        )
        not_empty_alarm(
            f"{name}-{DEAD_LETTER.logical}-depth",
            args.naming,
            DEAD_LETTER,
            dead_letter.name,
            args.alarm_actions,
            capability=CAPABILITY,
            opts=child,
        )
        scheduler_role, scheduler_policy = fargate.role(
            f"{name}-scheduler-role",
            trust=pulumi.Output.from_input(args.account_id).apply(
                lambda account: policies.assume_role_policy(
                    "scheduler.amazonaws.com", source_account=account
                )
            ),
            stage=stage,
            capability=CAPABILITY,
            parent=self,
            policy=pulumi.Output.all(
                cluster=args.cluster_arn,
                task=task_definition.arn,
                roles=[task_role.arn, execution_role.arn],
                dead_letter=dead_letter.arn,
            ).apply(
                lambda v: policies.recommend_schedule_policy(
                    cluster_arn=v["cluster"],
                    task_definition_arn=v["task"],
                    task_role_arns=v["roles"],
                    dead_letter_arn=v["dead_letter"],
                )
            ),
        )
        schedule = aws.scheduler.Schedule(
            f"{name}-schedule",
            name=f"{prefix}-recommend-training",
            description="Trains the recommendation model (flixstack train-recs on Fargate)",
            schedule_expression=args.schedule,
            schedule_expression_timezone="UTC",
            flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(
                mode="FLEXIBLE", maximum_window_in_minutes=SCHEDULE_WINDOW_MIN
            ),
            target=aws.scheduler.ScheduleTargetArgs(
                arn=args.cluster_arn,
                role_arn=scheduler_role.arn,
                ecs_parameters=aws.scheduler.ScheduleTargetEcsParametersArgs(
                    task_definition_arn=task_definition.arn,
                    launch_type="FARGATE",
                    task_count=1,
                    network_configuration=aws.scheduler.ScheduleTargetEcsParametersNetworkConfigurationArgs(
                        subnets=args.subnet_ids,
                        security_groups=args.security_group_ids,
                        assign_public_ip=args.assign_public_ip,
                    ),
                ),
                retry_policy=aws.scheduler.ScheduleTargetRetryPolicyArgs(
                    maximum_retry_attempts=RETRY_ATTEMPTS,
                    maximum_event_age_in_seconds=RETRY_MAX_EVENT_AGE_S,
                ),
                dead_letter_config=aws.scheduler.ScheduleTargetDeadLetterConfigArgs(
                    arn=dead_letter.arn
                ),
            ),
            # The first run must find the role able to start the task.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[scheduler_policy]),
        )

        self.repository_url = repository.repository_url
        self.image = image
        self.task_definition_arn = task_definition.arn
        self.task_role_arn = task_role.arn
        self.execution_role_arn = execution_role.arn
        self.log_group_name = logs.name
        self.schedule_name = schedule.name
        self.dead_letter_url = dead_letter.url
        self.register_outputs(
            {
                "repository_url": self.repository_url,
                "image": self.image,
                "task_definition_arn": self.task_definition_arn,
                "task_role_arn": self.task_role_arn,
                "execution_role_arn": self.execution_role_arn,
                "log_group_name": self.log_group_name,
                "schedule_name": self.schedule_name,
                "dead_letter_url": self.dead_letter_url,
            }
        )

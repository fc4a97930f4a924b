"""Transcoding: the ffmpeg worker as one ECS Fargate task per uploaded master.

The transcode queue and its dead-letter queue, depth alarm and S3 notification come from
``messaging`` (every queue of the spec gets them there). This component consumes the queue:
the worker's image repository, cluster and task definition with their roles; the dispatcher
Lambda that starts one task per message; and the EventBridge rule and Lambda that put the
message of a failed task back on the queue, or on the dead-letter queue once its attempts are
spent. Without given subnets it creates a small VPC for the tasks. The design is documented
in ``containers/transcoder/README.md``.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Literal

import pulumi
import pulumi_aws as aws

from flixstack import spec
from flixstack.media.dispatch import RETRYABLE_STOP_CODES, DispatchSettings
from infra import policies
from infra.components import fargate, tags
from infra.components.function import PolicyOf, PythonFunction, PythonFunctionArgs

TYPE = "flixstack:index:Transcoding"
CAPABILITY = "transcoding"
CONTAINER = "transcoder"
CPU_UNITS = 2048  # 2 vCPU
SCRATCH_VOLUME = fargate.SCRATCH_VOLUME
SCRATCH_PATH = "/scratch"  # the image's TMPDIR and VOLUME (containers/transcoder/Dockerfile)
STOP_TIMEOUT_S = 120  # Fargate's maximum: SIGTERM, then SIGKILL two minutes later
CAPACITY_PROVIDERS = ("FARGATE", "FARGATE_SPOT")
DISPATCH_HANDLER = "functions.transcode_dispatch.handler"
RETRY_HANDLER = "functions.transcode_dispatch.on_task_stopped"
DISPATCH_SERVICE = "transcode-dispatch"
"""Powertools service name of both dispatcher Lambdas: their metrics' ``service`` dimension."""
LAMBDA_TIMEOUT_S = 20
"""RunTask takes seconds; AWS advises an SQS source's visibility of six function timeouts."""
RETRY_MAX_EVENT_AGE_S = 6 * 3600
VPC_CIDR = "10.42.0.0/16"
SUBNET_PREFIX = 20
AVAILABILITY_ZONES = 2
GATEWAY_ENDPOINTS = ("s3", "dynamodb")


@dataclass(frozen=True)
class TranscodingArgs:
    naming: spec.Naming
    region: str
    code: pulumi.Archive
    layer_arn: pulumi.Input[str]
    environment: Mapping[str, pulumi.Input[str]]
    """Runtime settings every process of the stack gets (stage, bucket suffix)."""
    bucket_arns: Mapping[str, pulumi.Input[str]]
    table_arns: Mapping[str, pulumi.Input[str]]
    queue_arns: Mapping[str, pulumi.Input[str]]
    media_key_arn: pulumi.Input[str]
    image_tag: str
    log_retention_days: int
    memory_mb: int
    ephemeral_storage_gib: int
    spot: bool
    dispatch_concurrency: int
    lambda_architecture: str
    subnet_ids: Sequence[str] = ()
    """Empty: a VPC with public subnets is created for the tasks."""
    security_group_ids: Sequence[str] = ()
    assign_public_ip: bool | None = None
    """None: only when the component creates the VPC."""
    force_destroy: bool = False
    api_base_url: pulumi.Input[str] = ""
    """The API's public base URL, the worker's ``FLIXSTACK_API_BASE_URL``: encrypted HLS
    playlists name ``<api_base_url>/keys/<asset>`` as their key URI."""
    worker_environment: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Settings only the worker reads (which published titles it enqueues for CDN
    pre-warming); the dispatcher Lambdas do not get them."""


def container_definitions(
    *, image: str, log_group: str, region: str, environment: Mapping[str, str]
) -> str:
    """The worker container: read-only root file system with a scratch volume, logs to
    CloudWatch, an init process to reap ffmpeg, and the most time Fargate allows to stop."""
    worker = fargate.container(
        name=CONTAINER,
        image=image,
        log_group=log_group,
        region=region,
        environment=environment,
        scratch_path=SCRATCH_PATH,
    )
    return json.dumps(
        [
            {
                **worker,
                "linuxParameters": {"initProcessEnabled": True},
                "stopTimeout": STOP_TIMEOUT_S,
            }
        ],
        sort_keys=True,
    )


def task_stopped_pattern(cluster_arn: str, task_definition_arn: str) -> str:
    """EventBridge pattern: a task of this family on this cluster stopped with a non-zero
    exit code, or without running to the end (see ``RETRYABLE_STOP_CODES``). The retry
    Lambda checks again (``TranscodeDispatcher.failure_of``) and skips cancelled tasks."""
    family = policies.task_family_arn(task_definition_arn)
    return json.dumps(
        {
            "source": ["aws.ecs"],
            "detail-type": ["ECS Task State Change"],
            "detail": {
                "clusterArn": [cluster_arn],
                "lastStatus": ["STOPPED"],
                "taskDefinitionArn": [{"prefix": f"{family}:"}],
                "$or": [
                    {"containers": {"exitCode": [{"anything-but": 0}]}},
                    {"stopCode": list(RETRYABLE_STOP_CODES)},
                ],
            },
        },
        sort_keys=True,
    )


def subnet_cidrs(vpc_cidr: str = VPC_CIDR, count: int = AVAILABILITY_ZONES) -> list[str]:
    return [
        str(net)
        for net in list(ipaddress.ip_network(vpc_cidr).subnets(new_prefix=SUBNET_PREFIX))[:count]
    ]


def _nth(items: Sequence[str], index: int) -> str:
    return items[index]


class Transcoding(pulumi.ComponentResource):
    repository_url: pulumi.Output[str]
    image: pulumi.Output[str]
    cluster_name: pulumi.Output[str]
    cluster_arn: pulumi.Output[str]
    task_definition_arn: pulumi.Output[str]
    task_role_arn: pulumi.Output[str]
    log_group_name: pulumi.Output[str]
    dispatch_function_name: pulumi.Output[str]
    retry_function_name: pulumi.Output[str]
    subnet_ids: pulumi.Output[list[str]]
    security_group_ids: pulumi.Output[list[str]]
    assign_public_ip: pulumi.Output[bool]
    """Whether tasks in those subnets get a public IP (what other tasks there need too)."""

    def __init__(
        self, name: str, args: TranscodingArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        stage = args.naming.stage
        prefix = args.naming.prefix
        child = pulumi.ResourceOptions(parent=self)
        dead_letter = spec.TRANSCODE.dead_letter
        assert dead_letter is not None  # the spec gives the transcode queue one
        queue_arn = args.queue_arns[spec.TRANSCODE.logical]
        dead_letter_arn = args.queue_arns[dead_letter.logical]

        # --- image, cluster, task ------------------------------------------------------
        repository = fargate.image_repository(
            f"{name}-repository",
            name=f"{prefix}-{CONTAINER}",
            stage=stage,
            capability=CAPABILITY,
            force_destroy=args.force_destroy,
            parent=self,
        )
        cluster = aws.ecs.Cluster(
            f"{name}-cluster",
            name=f"{prefix}-transcode",
            settings=[aws.ecs.ClusterSettingArgs(name="containerInsights", value="enabled")],
            tags=tags(stage, CAPABILITY),
            opts=child,
        )
        capacity = aws.ecs.ClusterCapacityProviders(
            f"{name}-capacity-providers",
            cluster_name=cluster.name,
            capacity_providers=list(CAPACITY_PROVIDERS),
            default_capacity_provider_strategies=[
                aws.ecs.ClusterCapacityProvidersDefaultCapacityProviderStrategyArgs(
                    capacity_provider=self._capacity_provider(args), weight=1
                )
            ],
            opts=child,
        )
        task_logs = fargate.task_logs(
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
                ingest=args.bucket_arns[spec.INGEST.logical],
                media=args.bucket_arns[spec.MEDIA.logical],
                artifacts=args.bucket_arns[spec.ARTIFACTS.logical],
                tables=[args.table_arns[t.logical] for t in (spec.JOBS, spec.CATALOG)],
                content_keys=args.table_arns[spec.CONTENT_KEYS.logical],
                queue=queue_arn,
                dead_letter=dead_letter_arn,
                key=args.media_key_arn,
                prewarm=args.queue_arns[spec.PREWARM.logical],
            ).apply(
                lambda v: policies.transcoder_task_policy(
                    ingest_bucket_arn=v["ingest"],
                    media_bucket_arn=v["media"],
                    artifacts_bucket_arn=v["artifacts"],
                    table_arns=v["tables"],
                    content_keys_table_arn=v["content_keys"],
                    queue_arn=v["queue"],
                    dead_letter_arn=v["dead_letter"],
                    media_key_arn=v["key"],
                    prewarm_queue_arn=v["prewarm"],
                )
            ),
        )
        execution_role = fargate.execution_role(
            f"{name}-execution-role",
            repository=repository,
            logs=task_logs,
            stage=stage,
            capability=CAPABILITY,
            parent=self,
        )
        image = repository.repository_url.apply(lambda url: f"{url}:{args.image_tag}")
        task_definition = fargate.task_definition(
            f"{name}-task",
            family=f"{prefix}-{CONTAINER}",
            cpu_units=CPU_UNITS,
            memory_mb=args.memory_mb,
            ephemeral_storage_gib=args.ephemeral_storage_gib,
            task_role=task_role,
            execution_role=execution_role,
            container_definitions=pulumi.Output.all(
                image=image,
                logs=task_logs.name,
                environment=pulumi.Output.from_input(
                    {
                        **args.environment,
                        **args.worker_environment,
                        "FLIXSTACK_REGION": args.region,
                        "FLIXSTACK_API_BASE_URL": args.api_base_url,
                    }
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
        subnet_ids, security_group_ids, created_network = self._network(name, args)
        assign_public_ip = (
            created_network if args.assign_public_ip is None else args.assign_public_ip
        )

        # --- dispatch: one task per message ---------------------------------------------
        dispatch_environment = pulumi.Output.all(
            cluster=cluster.arn,
            task=task_definition.arn,
            subnets=subnet_ids,
            groups=security_group_ids,
        ).apply(
            # Every field is given: settings read the environment for the others, and the
            # environment of `pulumi up` is no business of the deployed Lambdas.
            lambda v: DispatchSettings(
                transcode_cluster=v["cluster"],
                transcode_task_definition=v["task"],
                transcode_container=CONTAINER,
                transcode_subnets=tuple(v["subnets"]),
                transcode_security_groups=tuple(v["groups"]),
                transcode_assign_public_ip=assign_public_ip,
                transcode_capacity_provider=self._capacity_provider(args),
                transcode_max_attempts=spec.TRANSCODE.max_receive_count,
            ).environment()
        )
        dispatch = self._function(
            name,
            "dispatch",
            args,
            handler=DISPATCH_HANDLER,
            environment=dispatch_environment,
            policy=lambda logs: pulumi.Output.all(
                queue=queue_arn,
                cluster=cluster.arn,
                task=task_definition.arn,
                roles=[task_role.arn, execution_role.arn],
                logs=logs,
            ).apply(
                lambda v: policies.transcode_dispatch_policy(
                    queue_arn=v["queue"],
                    cluster_arn=v["cluster"],
                    task_definition_arn=v["task"],
                    task_role_arns=v["roles"],
                    log_group_arn=v["logs"],
                )
            ),
            depends_on=[capacity],
        )
        aws.lambda_.EventSourceMapping(
            f"{name}-dispatch-source",
            event_source_arn=queue_arn,
            function_name=dispatch.function_arn,
            batch_size=1,
            function_response_types=["ReportBatchItemFailures"],
            scaling_config=aws.lambda_.EventSourceMappingScalingConfigArgs(
                maximum_concurrency=args.dispatch_concurrency
            ),
            # Lambda checks the role may receive from the queue when the mapping is created.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[dispatch.role_policy]),
        )

        # --- retry: a task that died puts its message back -----------------------------
        retry = self._function(
            name,
            "retry",
            args,
            handler=RETRY_HANDLER,
            environment=dispatch_environment,
            policy=lambda logs: pulumi.Output.all(
                queues=[queue_arn, dead_letter_arn],
                jobs=args.table_arns[spec.JOBS.logical],
                logs=logs,
            ).apply(
                lambda v: policies.transcode_retry_policy(
                    queue_arns=v["queues"], jobs_table_arn=v["jobs"], log_group_arn=v["logs"]
                )
            ),
        )
        # If the re-send itself keeps failing, the stopped-task event lands in the
        # dead-letter queue (whose alarm fires) rather than being dropped.
        aws.lambda_.FunctionEventInvokeConfig(
            f"{name}-retry-invoke-config",
            function_name=retry.function_name,
            maximum_retry_attempts=2,
            maximum_event_age_in_seconds=RETRY_MAX_EVENT_AGE_S,
            destination_config=aws.lambda_.FunctionEventInvokeConfigDestinationConfigArgs(
                on_failure=aws.lambda_.FunctionEventInvokeConfigDestinationConfigOnFailureArgs(
                    destination=dead_letter_arn
                )
            ),
            opts=child,
        )
        rule = aws.cloudwatch.EventRule(
            f"{name}-task-failed",
            name=f"{prefix}-transcode-task-failed",
            description="A transcoder task stopped without finishing: retry its message",
            event_pattern=pulumi.Output.all(cluster.arn, task_definition.arn).apply(
                lambda v: task_stopped_pattern(v[0], v[1])
            ),
            tags=tags(stage, CAPABILITY),
            opts=child,
        )
        aws.cloudwatch.EventTarget(
            f"{name}-task-failed-target", rule=rule.name, arn=retry.function_arn, opts=child
        )
        aws.lambda_.Permission(
            f"{name}-retry-invoke",
            action="lambda:InvokeFunction",
            function=retry.function_name,
            principal="events.amazonaws.com",
            source_arn=rule.arn,
            opts=child,
        )

        self.repository_url = repository.repository_url
        self.image = image
        self.cluster_name = cluster.name
        self.cluster_arn = cluster.arn
        self.task_definition_arn = task_definition.arn
        self.task_role_arn = task_role.arn
        self.log_group_name = task_logs.name
        self.dispatch_function_name = dispatch.function_name
        self.retry_function_name = retry.function_name
        self.subnet_ids = subnet_ids
        self.security_group_ids = security_group_ids
        self.assign_public_ip = pulumi.Output.from_input(assign_public_ip)
        self.register_outputs(
            {
                "repository_url": self.repository_url,
                "image": self.image,
                "cluster_name": self.cluster_name,
                "cluster_arn": self.cluster_arn,
                "task_definition_arn": self.task_definition_arn,
                "task_role_arn": self.task_role_arn,
                "log_group_name": self.log_group_name,
                "dispatch_function_name": self.dispatch_function_name,
                "retry_function_name": self.retry_function_name,
                "subnet_ids": self.subnet_ids,
                "security_group_ids": self.security_group_ids,
                "assign_public_ip": self.assign_public_ip,
            }
        )

    @staticmethod
    def _capacity_provider(args: TranscodingArgs) -> Literal["FARGATE", "FARGATE_SPOT"]:
        return "FARGATE_SPOT" if args.spot else "FARGATE"

    def _function(
        self,
        name: str,
        role: str,
        args: TranscodingArgs,
        *,
        handler: str,
        environment: pulumi.Output[dict[str, str]],
        policy: PolicyOf,
        depends_on: Sequence[pulumi.Resource] = (),
    ) -> PythonFunction:
        """One dispatcher Lambda with its log group and its own least-privilege role."""
        return PythonFunction(
            f"{name}-{role}",
            PythonFunctionArgs(
                naming=args.naming,
                function=f"transcode-{role}",
                capability=CAPABILITY,
                handler=handler,
                service=DISPATCH_SERVICE,
                code=args.code,
                layer_arn=args.layer_arn,
                architecture=args.lambda_architecture,
                policy=policy,
                environment=pulumi.Output.all(
                    pulumi.Output.from_input(dict(args.environment)), environment
                ).apply(lambda v: {**v[0], **v[1]}),
                log_retention_days=args.log_retention_days,
                reserved_concurrency=args.dispatch_concurrency,
                timeout_s=LAMBDA_TIMEOUT_S,
                depends_on=depends_on,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _network(
        self, name: str, args: TranscodingArgs
    ) -> tuple[pulumi.Output[list[str]], pulumi.Output[list[str]], bool]:
        """The given subnets and security groups, or a small VPC of its own: public subnets
        in two zones (no NAT gateway to pay for; tasks get public IPs), free gateway
        endpoints for S3 and DynamoDB, and a security group with HTTPS egress only."""
        if args.subnet_ids:
            return (
                pulumi.Output.from_input(list(args.subnet_ids)),
                pulumi.Output.from_input(list(args.security_group_ids)),
                False,
            )
        stage = args.naming.stage
        prefix = args.naming.prefix
        child = pulumi.ResourceOptions(parent=self)

        def named(role: str) -> dict[str, str]:
            return tags(stage, CAPABILITY, {"Name": f"{prefix}-transcode-{role}"})

        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=VPC_CIDR,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags=named("vpc"),
            opts=child,
        )
        gateway = aws.ec2.InternetGateway(
            f"{name}-internet-gateway", vpc_id=vpc.id, tags=named("igw"), opts=child
        )
        routes = aws.ec2.RouteTable(
            f"{name}-routes",
            vpc_id=vpc.id,
            routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=gateway.id)],
            tags=named("public"),
            opts=child,
        )
        zones = aws.get_availability_zones_output(
            state="available", opts=pulumi.InvokeOutputOptions(parent=self)
        )
        subnets = []
        for index, cidr in enumerate(subnet_cidrs()):
            subnet = aws.ec2.Subnet(
                f"{name}-subnet-{index}",
                vpc_id=vpc.id,
                cidr_block=cidr,
                availability_zone=zones.names.apply(partial(_nth, index=index)),
                map_public_ip_on_launch=False,  # RunTask asks for a public IP per task
                tags=named(f"public-{index}"),
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-subnet-{index}-routes",
                subnet_id=subnet.id,
                route_table_id=routes.id,
                opts=child,
            )
            subnets.append(subnet)
        for service in GATEWAY_ENDPOINTS:
            aws.ec2.VpcEndpoint(
                f"{name}-{service}-endpoint",
                vpc_id=vpc.id,
                service_name=f"com.amazonaws.{args.region}.{service}",
                vpc_endpoint_type="Gateway",
                route_table_ids=[routes.id],
                tags=named(service),
                opts=child,
            )
        group = aws.ec2.SecurityGroup(
            f"{name}-tasks",
            name=f"{prefix}-transcode-tasks",
            description="Transcoder tasks: no inbound traffic, HTTPS out to AWS APIs",
            vpc_id=vpc.id,
            tags=named("tasks"),
            opts=child,
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-tasks-https-out",
            security_group_id=group.id,
            description="HTTPS to S3, DynamoDB, SQS, ECR and CloudWatch",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4="0.0.0.0/0",
            opts=child,
        )
        return pulumi.Output.all(*[s.id for s in subnets]), pulumi.Output.all(group.id), True

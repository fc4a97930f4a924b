"""The transcoding capability under Pulumi mocks: the S3 → SQS event flow, the worker's
image, cluster, task and roles, the dispatcher and retry Lambdas, and the network."""

from __future__ import annotations

import json
from typing import Any

import pytest

from flixstack import spec
from flixstack.media.dispatch import RETRYABLE_STOP_CODES, DispatchSettings
from infra import outputs, packaging
from infra.components import transcoding
from infra.policy import rules
from tests.infra.mockgraph import ACCOUNT, REGION, Graph, resolve, run_stack

pytestmark = pytest.mark.usefixtures("no_pip")


def _naming(graph: Graph) -> spec.Naming:
    stage = graph.of(rules.TABLE)[0].props["name"].split("-")[1]
    localstack = any("localstack" in b.props["bucket"] for b in graph.of(rules.BUCKET))
    return spec.Naming(stage, "" if localstack else ACCOUNT)


def _statements(graph: Graph, policy: str) -> dict[str, dict[str, Any]]:
    document = json.loads(graph.named(policy).props["policy"])
    return {s["Sid"]: s for s in document["Statement"]}


def _container(graph: Graph) -> dict[str, Any]:
    (definition,) = json.loads(graph.named("transcoding-task").props["containerDefinitions"])
    return dict(definition)


def _environment(graph: Graph, function: str) -> dict[str, str]:
    return dict(graph.named(function).props["environment"]["variables"])


def _queue_arn(naming: spec.Naming, queue: spec.QueueSpec) -> str:
    return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{naming.queue(queue)}"


def _table_arn(naming: spec.Naming, table: spec.TableSpec) -> str:
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:{naming.table(table)}"


# --- event flow ------------------------------------------------------------------------------
def test_masters_and_only_masters_notify_the_transcode_queue(graph: Graph) -> None:
    naming = _naming(graph)
    (notification,) = graph.of(rules.BUCKET_NOTIFICATION)
    assert notification.props["bucket"] == naming.bucket(spec.INGEST)
    (queue,) = notification.props["queues"]
    assert queue["queueArn"] == _queue_arn(naming, spec.TRANSCODE)
    assert queue["events"] == ["s3:ObjectCreated:*"]
    assert queue["id"] == spec.MASTER_UPLOADED.logical
    assert queue["filterPrefix"] == spec.MASTERS_PREFIX
    assert spec.master_key("t1", "u1", "movie.mov").startswith(queue["filterPrefix"])
    assert not spec.sidecar_prefix("t1", "u1").startswith(queue["filterPrefix"])


def test_only_the_ingest_bucket_of_this_account_may_send_to_the_transcode_queue(
    graph: Graph,
) -> None:
    naming = _naming(graph)
    statements = _statements(graph, f"messaging-{spec.TRANSCODE.logical}-policy")
    s3 = statements["S3EventNotifications"]
    assert s3["Principal"] == {"Service": "s3.amazonaws.com"}
    assert s3["Action"] == "sqs:SendMessage"
    assert s3["Resource"] == _queue_arn(naming, spec.TRANSCODE)
    assert s3["Condition"] == {
        "ArnEquals": {"aws:SourceArn": [f"arn:aws:s3:::{naming.bucket(spec.INGEST)}"]},
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
    }
    assert statements["DenyInsecureTransport"]["Effect"] == "Deny"


def test_queues_stay_where_the_spec_puts_them(graph: Graph) -> None:
    # GIVEN the transcode queue, its dead-letter queue and the alarm in messaging
    alarm = graph.named(f"messaging-{spec.TRANSCODE_DLQ.logical}-depth")
    # THEN transcoding consumes them and creates no queue of its own
    assert alarm.props["dimensions"]["QueueName"] == _naming(graph).queue(spec.TRANSCODE_DLQ)
    assert not [q for q in graph.of(rules.QUEUE) if q.name.startswith("transcoding-")]


# --- image, cluster, task --------------------------------------------------------------------
def test_repository_cluster_and_task(graph: Graph) -> None:
    naming = _naming(graph)
    repository = graph.named("transcoding-repository")
    assert repository.props["name"] == f"{naming.prefix}-transcoder"
    assert (
        graph.named("transcoding-repository-lifecycle").props["repository"]
        == (repository.props["name"])
    )
    capacity = graph.named("transcoding-capacity-providers")
    assert set(capacity.props["capacityProviders"]) == {"FARGATE", "FARGATE_SPOT"}
    task = graph.named("transcoding-task")
    assert task.props["requiresCompatibilities"] == ["FARGATE"]
    assert task.props["networkMode"] == "awsvpc"
    assert task.props["cpu"] == "2048"
    assert 4096 <= int(task.props["memory"]) <= 8192
    assert task.props["ephemeralStorage"]["sizeInGib"] >= 50
    assert task.props["taskRoleArn"].endswith(":role/transcoding-task-role")
    assert task.props["executionRoleArn"].endswith(":role/transcoding-execution-role")


def test_worker_container(graph: Graph) -> None:
    naming = _naming(graph)
    container = _container(graph)
    registry = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
    assert container["image"] == f"{registry}/{naming.prefix}-transcoder:{packaging.image_tag()}"
    environment = {e["name"]: e["value"] for e in container["environment"]}
    assert environment["FLIXSTACK_STAGE"] == naming.stage
    assert environment["FLIXSTACK_BUCKET_SUFFIX"] == naming.bucket_suffix
    options = container["logConfiguration"]["options"]
    assert container["logConfiguration"]["logDriver"] == "awslogs"
    logs = graph.named("transcoding-task-logs")
    assert options["awslogs-group"] == logs.props["name"]
    assert logs.props["retentionInDays"] > 0
    assert container["readonlyRootFilesystem"] is True
    assert container["mountPoints"] == [
        {"sourceVolume": transcoding.SCRATCH_VOLUME, "containerPath": transcoding.SCRATCH_PATH}
    ]


def test_task_role_reaches_only_its_prefixes_tables_queues_and_key(graph: Graph) -> None:
    naming = _naming(graph)
    ingest = f"arn:aws:s3:::{naming.bucket(spec.INGEST)}"
    media = f"arn:aws:s3:::{naming.bucket(spec.MEDIA)}"
    policy = graph.named("transcoding-task-role-policy")
    assert rules.iam_no_wildcards([policy]) == []
    statements = _statements(graph, "transcoding-task-role-policy")
    assert not [s for s in statements.values() if "*" in s["Resource"]]
    assert statements["ReadUploads"]["Action"] == ["s3:GetObject"]
    assert statements["ReadUploads"]["Resource"] == [
        f"{ingest}/{spec.MASTERS_PREFIX}*",
        f"{ingest}/{spec.SIDECARS_PREFIX}*",
    ]
    assert statements["ListSidecars"]["Condition"] == {
        "StringLike": {"s3:prefix": [f"{spec.SIDECARS_PREFIX}*"]}
    }
    assert statements["WriteTitles"]["Resource"] == [f"{media}/{spec.MEDIA_TITLES_PREFIX}*"]
    assert "s3:DeleteObject" not in statements["WriteTitles"]["Action"]
    tables = [_table_arn(naming, spec.JOBS), _table_arn(naming, spec.CATALOG)]
    assert set(statements["Tables"]["Resource"]) == {
        *tables,
        *(f"{arn}/index/*" for arn in tables),
    }
    assert set(statements["Tables"]["Action"]) == {
        "dynamodb:ConditionCheckItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
    }
    artifacts = f"arn:aws:s3:::{naming.bucket(spec.ARTIFACTS)}"
    assert statements["CatalogSnapshots"]["Resource"] == [
        f"{artifacts}/{spec.CATALOG_ARTIFACTS_PREFIX}*"
    ]
    assert statements["Queue"]["Resource"] == [_queue_arn(naming, spec.TRANSCODE)]
    assert statements["DeadLetters"]["Resource"] == [_queue_arn(naming, spec.TRANSCODE_DLQ)]
    assert statements["MediaKey"]["Resource"][0].startswith("arn:aws:kms:")
    every_resource = [r for s in statements.values() for r in s["Resource"]]
    assert not [r for r in every_resource if "viewers" in r]


def test_execution_role_pulls_only_the_worker_image(graph: Graph) -> None:
    naming = _naming(graph)
    statements = _statements(graph, "transcoding-execution-role-policy")
    assert statements["PullImage"]["Resource"] == [
        f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{naming.prefix}-transcoder"
    ]
    assert statements["Logs"]["Resource"][0].endswith(f"/ecs/{naming.prefix}-transcoder:*")


# --- dispatch --------------------------------------------------------------------------------
def test_dispatcher_consumes_the_queue_one_message_at_a_time(graph: Graph) -> None:
    naming = _naming(graph)
    function = graph.named("transcoding-dispatch")
    assert function.props["handler"] == "functions.transcode_dispatch.handler"
    assert function.props["reservedConcurrentExecutions"] >= 2
    assert function.props["timeout"] * 6 <= spec.TRANSCODE.visibility_timeout_s
    source = graph.named("transcoding-dispatch-source")
    assert source.props["eventSourceArn"] == _queue_arn(naming, spec.TRANSCODE)
    assert source.props["functionName"].endswith(function.props["name"])
    assert source.props["batchSize"] == 1
    assert source.props["functionResponseTypes"] == ["ReportBatchItemFailures"]
    assert (
        source.props["scalingConfig"]["maximumConcurrency"]
        <= function.props["reservedConcurrentExecutions"]
    )


@pytest.mark.parametrize("function", ["transcoding-dispatch", "transcoding-retry"])
def test_dispatcher_environment_is_valid_dispatch_settings(
    graph: Graph, function: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the environment infra gives the Lambda
    for name, value in _environment(graph, function).items():
        monkeypatch.setenv(name, value)
    # WHEN the runtime reads its settings
    settings = DispatchSettings()  # type: ignore[call-arg]
    # THEN they name this stack's cluster, task definition, container and network
    assert settings.transcode_cluster.endswith(f":cluster/{_naming(graph).prefix}-transcode")
    assert settings.transcode_task_definition.endswith(f"/{_naming(graph).prefix}-transcoder:1")
    assert settings.transcode_container == _container(graph)["name"]
    assert list(settings.transcode_subnets) == resolve(graph.outputs[outputs.TRANSCODE_SUBNETS])


def test_the_deployers_environment_does_not_leak_into_the_lambdas(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN `pulumi up` runs where dispatcher settings happen to be set
    for field, value in {
        "transcode_max_attempts": "7",
        "transcode_capacity_provider": "FARGATE_SPOT",
        "transcode_assign_public_ip": "false",
        "transcode_container": "other",
    }.items():
        assert field in DispatchSettings.model_fields
        monkeypatch.setenv(f"FLIXSTACK_{field.upper()}", value)
    # WHEN the program runs THEN the Lambdas get the stack's settings, not those
    environment = _environment(run_stack("localstack"), "transcoding-dispatch")
    assert environment["FLIXSTACK_TRANSCODE_MAX_ATTEMPTS"] == str(spec.TRANSCODE.max_receive_count)
    assert environment["FLIXSTACK_TRANSCODE_CAPACITY_PROVIDER"] == "FARGATE"
    assert environment["FLIXSTACK_TRANSCODE_ASSIGN_PUBLIC_IP"] == "true"
    assert environment["FLIXSTACK_TRANSCODE_CONTAINER"] == transcoding.CONTAINER


def test_dispatcher_may_only_run_the_worker_on_its_cluster(graph: Graph) -> None:
    naming = _naming(graph)
    statements = _statements(graph, "transcoding-dispatch-role-policy")
    run = statements["RunTask"]
    family = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{naming.prefix}-transcoder"
    assert run["Resource"] == [f"{family}:*"]
    assert run["Condition"] == {
        "ArnEquals": {
            "ecs:cluster": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{naming.prefix}-transcode"
        }
    }
    passed = statements["PassTaskRoles"]
    assert passed["Resource"] == sorted(
        f"arn:aws:iam::{ACCOUNT}:role/transcoding-{role}"
        for role in ("task-role", "execution-role")
    )
    assert passed["Condition"] == {
        "StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
    }
    assert statements["ConsumeQueue"]["Resource"] == [_queue_arn(naming, spec.TRANSCODE)]


# --- retry -----------------------------------------------------------------------------------
def test_failed_tasks_of_this_family_invoke_the_retry_lambda(graph: Graph) -> None:
    naming = _naming(graph)
    rule = graph.named("transcoding-task-failed")
    pattern = json.loads(rule.props["eventPattern"])
    assert pattern["source"] == ["aws.ecs"]
    assert pattern["detail-type"] == ["ECS Task State Change"]
    detail = pattern["detail"]
    assert detail["clusterArn"] == [
        f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{naming.prefix}-transcode"
    ]
    assert detail["lastStatus"] == ["STOPPED"]
    assert detail["taskDefinitionArn"] == [
        {"prefix": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{naming.prefix}-transcoder:"}
    ]
    assert detail["$or"] == [
        {"containers": {"exitCode": [{"anything-but": 0}]}},
        {"stopCode": list(RETRYABLE_STOP_CODES)},
    ]
    retry = graph.named("transcoding-retry")
    assert retry.props["handler"] == "functions.transcode_dispatch.on_task_stopped"
    assert graph.named("transcoding-task-failed-target").props["arn"].endswith(retry.props["name"])
    permission = graph.named("transcoding-retry-invoke")
    assert permission.props["principal"] == "events.amazonaws.com"
    assert permission.props["sourceArn"].endswith(f"rule/{rule.props['name']}")


def test_retry_lambda_sends_only_to_the_transcode_queues_and_never_drops(graph: Graph) -> None:
    naming = _naming(graph)
    statements = _statements(graph, "transcoding-retry-role-policy")
    assert statements["Resend"]["Resource"] == sorted(
        _queue_arn(naming, q) for q in (spec.TRANSCODE, spec.TRANSCODE_DLQ)
    )
    assert "ecs:RunTask" not in json.dumps(statements)
    # it fails the job of a dead-lettered message, and touches no other table
    assert statements["FailJob"] == {
        "Sid": "FailJob",
        "Effect": "Allow",
        "Action": ["dynamodb:UpdateItem"],
        "Resource": [_table_arn(naming, spec.JOBS)],
    }
    config = graph.named("transcoding-retry-invoke-config")
    assert config.props["destinationConfig"]["onFailure"]["destination"] == _queue_arn(
        naming, spec.TRANSCODE_DLQ
    )


# --- network ---------------------------------------------------------------------------------
def test_without_given_subnets_a_public_vpc_without_nat_is_created(graph: Graph) -> None:
    subnets = graph.of("aws:ec2/subnet:Subnet")
    assert len(subnets) == 2
    assert len({s.props["availabilityZone"] for s in subnets}) == 2
    assert not graph.of("aws:ec2/natGateway:NatGateway")
    (egress,) = graph.of("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
    assert (egress.props["fromPort"], egress.props["toPort"]) == (443, 443)
    assert not graph.of("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    endpoints = {e.props["serviceName"] for e in graph.of("aws:ec2/vpcEndpoint:VpcEndpoint")}
    assert endpoints == {f"com.amazonaws.{REGION}.s3", f"com.amazonaws.{REGION}.dynamodb"}
    environment = _environment(graph, "transcoding-dispatch")
    assert environment["FLIXSTACK_TRANSCODE_ASSIGN_PUBLIC_IP"] == "true"
    assert json.loads(environment["FLIXSTACK_TRANSCODE_SUBNETS"]) == [
        f"transcoding-subnet-{i}-id" for i in range(2)
    ]


def test_given_subnets_and_security_groups_are_used_as_they_are() -> None:
    graph = run_stack(
        "dev",
        {
            "flixstack:transcodeSubnetIds": json.dumps(["subnet-a", "subnet-b"]),
            "flixstack:transcodeSecurityGroupIds": json.dumps(["sg-1"]),
        },
    )
    assert not graph.of("aws:ec2/vpc:Vpc")
    assert not graph.of("aws:ec2/subnet:Subnet")
    environment = _environment(graph, "transcoding-dispatch")
    assert json.loads(environment["FLIXSTACK_TRANSCODE_SUBNETS"]) == ["subnet-a", "subnet-b"]
    assert json.loads(environment["FLIXSTACK_TRANSCODE_SECURITY_GROUPS"]) == ["sg-1"]
    assert environment["FLIXSTACK_TRANSCODE_ASSIGN_PUBLIC_IP"] == "false"


# --- stack config ----------------------------------------------------------------------------
def test_capacity_memory_storage_and_image_come_from_stack_config() -> None:
    graph = run_stack(
        "localstack",
        {
            "flixstack:transcodeSpot": "true",
            "flixstack:transcodeMemoryMb": "6144",
            "flixstack:transcodeEphemeralStorageGib": "120",
            "flixstack:transcoderImageTag": "v1.2.3",
        },
    )
    environment = _environment(graph, "transcoding-dispatch")
    assert environment["FLIXSTACK_TRANSCODE_CAPACITY_PROVIDER"] == "FARGATE_SPOT"
    capacity = graph.named("transcoding-capacity-providers")
    assert capacity.props["defaultCapacityProviderStrategies"][0]["capacityProvider"] == (
        "FARGATE_SPOT"
    )
    task = graph.named("transcoding-task")
    assert task.props["memory"] == "6144"
    assert task.props["ephemeralStorage"] == {"sizeInGib": 120}
    assert _container(graph)["image"].endswith("-transcoder:v1.2.3")


def test_dev_runs_spot_tasks_and_localstack_on_demand() -> None:
    assert _environment(run_stack("dev"), "transcoding-dispatch")[
        "FLIXSTACK_TRANSCODE_CAPACITY_PROVIDER"
    ] == ("FARGATE_SPOT")
    assert _environment(run_stack("localstack"), "transcoding-dispatch")[
        "FLIXSTACK_TRANSCODE_CAPACITY_PROVIDER"
    ] == ("FARGATE")


def test_transcoding_outputs_are_exported() -> None:
    graph = run_stack("dev")
    naming = spec.Naming("dev", ACCOUNT)
    repository = resolve(graph.outputs[outputs.TRANSCODER_REPOSITORY])
    assert repository.endswith(f"/{naming.prefix}-transcoder")
    assert resolve(graph.outputs[outputs.TRANSCODER_IMAGE]) == (
        f"{repository}:{packaging.image_tag()}"
    )
    assert resolve(graph.outputs[outputs.TRANSCODE_CLUSTER]) == f"{naming.prefix}-transcode"
    assert resolve(graph.outputs[outputs.TRANSCODE_TASK_DEFINITION]).endswith(
        f"task-definition/{naming.prefix}-transcoder:1"
    )
    assert resolve(graph.outputs[outputs.TRANSCODE_LOG_GROUP]) == (
        f"/ecs/{naming.prefix}-transcoder"
    )
    assert resolve(graph.outputs[outputs.TRANSCODE_DISPATCH_FUNCTION]) == (
        f"{naming.prefix}-transcode-dispatch"
    )
    assert resolve(graph.outputs[outputs.TRANSCODE_RETRY_FUNCTION]) == (
        f"{naming.prefix}-transcode-retry"
    )
    assert len(resolve(graph.outputs[outputs.TRANSCODE_SUBNETS])) == 2
    assert len(resolve(graph.outputs[outputs.TRANSCODE_SECURITY_GROUPS])) == 1

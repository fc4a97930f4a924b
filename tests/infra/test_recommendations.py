"""The recommender's scheduled training under Pulumi mocks: the image repository, the Fargate
task and its roles, the EventBridge Scheduler schedule with its role and dead-letter queue;
and the pure policy functions behind the roles, without Pulumi."""

from __future__ import annotations

import json
from typing import Any

import pytest

from flixstack import spec
from infra import outputs, packaging, policies
from infra.components import recommendations
from infra.policy import rules
from tests.infra.mockgraph import (
    ACCOUNT,
    REGION,
    Graph,
    naming,
    resolve,
    run_stack,
    stack_config,
    statements,
)

SCHEDULE = "recommendations-schedule"
TASK = "recommendations-task"
TASK_POLICY = "recommendations-task-role-policy"
SCHEDULER_POLICY = "recommendations-scheduler-role-policy"

LAKE = "arn:aws:s3:::flixstack-dev-lake-1"
ARTIFACTS = "arn:aws:s3:::flixstack-dev-artifacts-1"
CATALOG = "arn:aws:dynamodb:us-east-1:1:table/flixstack-dev-catalog"
VIEWERS = "arn:aws:dynamodb:us-east-1:1:table/flixstack-dev-viewers"
ANALYTICS = "arn:aws:dynamodb:us-east-1:1:table/flixstack-dev-analytics"
CLUSTER = "arn:aws:ecs:us-east-1:1:cluster/flixstack-dev-transcode"
TASK_DEFINITION = "arn:aws:ecs:us-east-1:1:task-definition/flixstack-dev-recommender:3"
ROLES = ["arn:aws:iam::1:role/task", "arn:aws:iam::1:role/execution"]
DLQ = "arn:aws:sqs:us-east-1:1:flixstack-dev-recommend-dlq"

pytestmark = pytest.mark.usefixtures("no_pip")


def _task_grants(
    *, lake: str, artifacts: str, catalog: str, viewers: str, analytics: str
) -> dict[str, tuple[list[str], list[str]]]:
    """Everything the training task may do, and on what (by Sid): the job's brief, no more."""
    return {
        "ListLakeEvents": (["s3:ListBucket"], [lake]),
        "ReadLakeEvents": (["s3:GetObject"], [f"{lake}/{spec.LAKE_EVENTS_PREFIX}*"]),
        "CatalogSnapshots": (["s3:GetObject"], [f"{artifacts}/{spec.CATALOG_ARTIFACTS_PREFIX}*"]),
        "Models": (
            ["s3:GetObject", "s3:PutObject"],
            [f"{artifacts}/{spec.RECOMMEND_ARTIFACTS_PREFIX}*"],
        ),
        "CatalogPointer": (["dynamodb:GetItem"], [catalog]),
        "Viewers": (["dynamodb:BatchWriteItem", "dynamodb:PutItem", "dynamodb:Scan"], [viewers]),
        "ModelPointer": (["dynamodb:GetItem", "dynamodb:PutItem"], [analytics]),
    }


def _task_policy() -> dict[str, Any]:
    return json.loads(
        policies.recommender_task_policy(
            lake_bucket_arn=LAKE,
            artifacts_bucket_arn=ARTIFACTS,
            catalog_table_arn=CATALOG,
            viewers_table_arn=VIEWERS,
            analytics_table_arn=ANALYTICS,
        )
    )


def _schedule_policy() -> dict[str, Any]:
    return json.loads(
        policies.recommend_schedule_policy(
            cluster_arn=CLUSTER,
            task_definition_arn=TASK_DEFINITION,
            task_role_arns=ROLES,
            dead_letter_arn=DLQ,
        )
    )


def _by_sid(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in document["Statement"]}


def _passes_iam_rule(document: dict[str, Any]) -> bool:
    policy = rules.Resource(rules.IAM_POLICY_TYPES[0], "p", {"policy": json.dumps(document)})
    return rules.iam_no_wildcards([policy]) == []


def _bucket_arn(graph: Graph, bucket: spec.BucketSpec) -> str:
    return f"arn:aws:s3:::{naming(graph).bucket(bucket)}"


def _table_arn(graph: Graph, table: spec.TableSpec) -> str:
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:{naming(graph).table(table)}"


def _role_arn(role: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/recommendations-{role}"


def _dead_letter_arn(graph: Graph) -> str:
    return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{naming(graph).queue(recommendations.DEAD_LETTER)}"


def _container(graph: Graph) -> dict[str, Any]:
    (definition,) = json.loads(graph.named(TASK).props["containerDefinitions"])
    return dict(definition)


# --- the pure policy functions ---------------------------------------------------------------
def test_task_policy_grants_exactly_what_training_needs() -> None:
    found = _by_sid(_task_policy())
    assert {sid: (s["Action"], s["Resource"]) for sid, s in found.items()} == _task_grants(
        lake=LAKE, artifacts=ARTIFACTS, catalog=CATALOG, viewers=VIEWERS, analytics=ANALYTICS
    )
    assert _passes_iam_rule(_task_policy())


def test_task_policy_lists_only_the_events_prefix_of_the_lake() -> None:
    listing = _by_sid(_task_policy())["ListLakeEvents"]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": [f"{spec.LAKE_EVENTS_PREFIX}*"]}}
    # the lake's other folders (Athena results, Firehose errors) are out of reach
    readable = [r for s in _task_policy()["Statement"] for r in s["Resource"] if LAKE in r]
    assert not [r for r in readable if spec.ATHENA_RESULTS_PREFIX in r]
    assert not [r for r in readable if spec.LAKE_ERRORS_PREFIX in r]


def test_task_policy_reaches_only_the_pointer_items_of_catalog_and_analytics() -> None:
    found = _by_sid(_task_policy())
    assert found["CatalogPointer"]["Condition"] == {
        "ForAllValues:StringEquals": {
            "dynamodb:LeadingKeys": [spec.CATALOG_POINTER_KEY[spec.PK.name]]
        }
    }
    assert found["ModelPointer"]["Condition"] == {
        "ForAllValues:StringEquals": {
            "dynamodb:LeadingKeys": [spec.RECOMMEND_POINTER_KEY[spec.PK.name]]
        }
    }
    # the viewers' items are keyed by account: there is no one partition to pin
    assert "Condition" not in found["Viewers"]


def test_task_policy_deletes_nothing_and_needs_no_key() -> None:
    actions = {a for s in _task_policy()["Statement"] for a in s["Action"]}
    assert not [a for a in actions if "Delete" in a]
    assert not [a for a in actions if a.startswith(("kms:", "iam:", "sqs:"))]
    assert not [b for b in (spec.LAKE, spec.ARTIFACTS) if b.kms]  # SSE-S3: no KMS grant


def test_schedule_policy_runs_only_the_family_on_the_cluster_and_passes_only_its_roles() -> None:
    found = _by_sid(_schedule_policy())
    assert set(found) == {"RunTask", "PassTaskRoles", "DeadLetters"}
    assert found["RunTask"]["Action"] == ["ecs:RunTask"]
    assert found["RunTask"]["Resource"] == [
        "arn:aws:ecs:us-east-1:1:task-definition/flixstack-dev-recommender:*"
    ]
    assert found["RunTask"]["Condition"] == {"ArnEquals": {"ecs:cluster": CLUSTER}}
    assert found["PassTaskRoles"]["Action"] == ["iam:PassRole"]
    assert found["PassTaskRoles"]["Resource"] == sorted(ROLES)
    assert found["PassTaskRoles"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
    }
    # Scheduler sends the runs it could not start with this role
    assert found["DeadLetters"]["Action"] == ["sqs:SendMessage"]
    assert found["DeadLetters"]["Resource"] == [DLQ]
    assert _passes_iam_rule(_schedule_policy())


def test_scheduler_trusts_only_scheduler_of_this_account() -> None:
    document = json.loads(
        policies.assume_role_policy("scheduler.amazonaws.com", source_account="123456789012")
    )
    (statement,) = document["Statement"]
    assert statement["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}


def test_the_container_runs_train_recs_read_only_with_logs() -> None:
    (container,) = json.loads(
        recommendations.container_definitions(
            image="r:tag", log_group="/ecs/lg", region="eu-west-1", environment={"B": "2", "A": "1"}
        )
    )
    assert container["command"] == ["train-recs"]
    assert container["readonlyRootFilesystem"] is True
    assert container["environment"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    assert container["logConfiguration"]["options"]["awslogs-group"] == "/ecs/lg"
    assert container["logConfiguration"]["options"]["awslogs-region"] == "eu-west-1"


# --- the schedule ----------------------------------------------------------------------------
def test_the_schedule_runs_the_training_task_on_the_transcoding_cluster(graph: Graph) -> None:
    n = naming(graph)
    props = graph.named(SCHEDULE).props
    assert props["name"] == f"{n.prefix}-recommend-training"
    assert props["scheduleExpression"] == spec.RECOMMEND_SCHEDULE
    assert props["flexibleTimeWindow"]["mode"] in ("OFF", "FLEXIBLE")
    target = props["target"]
    assert target["arn"] == f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{n.prefix}-transcode"
    assert target["roleArn"] == _role_arn("scheduler-role")
    ecs = target["ecsParameters"]
    assert ecs["taskDefinitionArn"] == (
        f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{n.prefix}-recommender:1"
    )
    assert ecs["launchType"] == "FARGATE"
    assert ecs["taskCount"] == 1


def test_the_task_runs_in_the_transcoding_tasks_network(graph: Graph) -> None:
    network = graph.named(SCHEDULE).props["target"]["ecsParameters"]["networkConfiguration"]
    assert network["subnets"] == resolve(graph.outputs[outputs.TRANSCODE_SUBNETS])
    assert network["securityGroups"] == resolve(graph.outputs[outputs.TRANSCODE_SECURITY_GROUPS])
    dispatch = graph.named("transcoding-dispatch").props["environment"]["variables"]
    assert network["assignPublicIp"] == json.loads(dispatch["FLIXSTACK_TRANSCODE_ASSIGN_PUBLIC_IP"])


def test_runs_that_cannot_start_are_retried_then_dead_lettered_and_alarmed(graph: Graph) -> None:
    target = graph.named(SCHEDULE).props["target"]
    assert 1 <= target["retryPolicy"]["maximumRetryAttempts"] <= 185
    assert 60 <= target["retryPolicy"]["maximumEventAgeInSeconds"] <= 86400
    assert target["deadLetterConfig"] == {"arn": _dead_letter_arn(graph)}
    name = naming(graph).queue(recommendations.DEAD_LETTER)
    (queue,) = [q for q in graph.of(rules.QUEUE) if q.props["name"] == name]
    assert queue.props["sqsManagedSseEnabled"] is True
    (alarm,) = [
        a
        for a in graph.of(rules.ALARM)
        if (a.props.get("dimensions") or {}).get("QueueName") == name
    ]
    assert alarm.props["metricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm.props["threshold"] == 0
    assert alarm.props["alarmActions"] == [resolve(graph.outputs[outputs.ALARM_TOPIC_ARN])]
    found = statements(graph, f"recommendations-{recommendations.DEAD_LETTER.logical}-policy")
    assert found["DenyInsecureTransport"]["Effect"] == "Deny"


def test_the_scheduler_role_can_only_start_this_task_and_dead_letter(graph: Graph) -> None:
    n = naming(graph)
    trust = json.loads(graph.named("recommendations-scheduler-role").props["assumeRolePolicy"])
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    found = statements(graph, SCHEDULER_POLICY)
    assert set(found) == {"RunTask", "PassTaskRoles", "DeadLetters"}
    assert found["RunTask"]["Action"] == ["ecs:RunTask"]
    assert found["RunTask"]["Resource"] == [
        f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{n.prefix}-recommender:*"
    ]
    assert found["RunTask"]["Condition"] == {
        "ArnEquals": {"ecs:cluster": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{n.prefix}-transcode"}
    }
    assert found["PassTaskRoles"]["Action"] == ["iam:PassRole"]
    assert found["PassTaskRoles"]["Resource"] == sorted(
        _role_arn(role) for role in ("task-role", "execution-role")
    )
    assert found["DeadLetters"] == {
        "Sid": "DeadLetters",
        "Effect": "Allow",
        "Action": ["sqs:SendMessage"],
        "Resource": [_dead_letter_arn(graph)],
    }
    assert rules.iam_no_wildcards([graph.named(SCHEDULER_POLICY)]) == []


def test_the_schedule_comes_from_stack_config() -> None:
    graph = run_stack("dev", {"flixstack:recommendSchedule": "cron(0 3 * * ? *)"})
    assert graph.named(SCHEDULE).props["scheduleExpression"] == "cron(0 3 * * ? *)"


def test_given_subnets_are_used_by_the_schedule_too() -> None:
    graph = run_stack(
        "dev",
        {
            "flixstack:transcodeSubnetIds": json.dumps(["subnet-a", "subnet-b"]),
            "flixstack:transcodeSecurityGroupIds": json.dumps(["sg-1"]),
        },
    )
    network = graph.named(SCHEDULE).props["target"]["ecsParameters"]["networkConfiguration"]
    assert network == {
        "subnets": ["subnet-a", "subnet-b"],
        "securityGroups": ["sg-1"],
        "assignPublicIp": False,
    }


# --- the task --------------------------------------------------------------------------------
def test_the_task_role_grants_exactly_the_training_brief(graph: Graph) -> None:
    expected = _task_grants(
        lake=_bucket_arn(graph, spec.LAKE),
        artifacts=_bucket_arn(graph, spec.ARTIFACTS),
        catalog=_table_arn(graph, spec.CATALOG),
        viewers=_table_arn(graph, spec.VIEWERS),
        analytics=_table_arn(graph, spec.ANALYTICS),
    )
    document = json.loads(graph.named(TASK_POLICY).props["policy"])
    assert all("Sid" in s for s in document["Statement"])
    found = statements(graph, TASK_POLICY)
    assert {sid: (s["Action"], s["Resource"]) for sid, s in found.items()} == expected
    assert {s["Effect"] for s in found.values()} == {"Allow"}
    every_action = [a for s in found.values() for a in s["Action"]]
    every_resource = [r for s in found.values() for r in s["Resource"]]
    assert "*" not in every_resource
    assert not [a for a in every_action if "*" in a]
    assert rules.iam_no_wildcards([graph.named(TASK_POLICY)]) == []
    trust = json.loads(graph.named("recommendations-task-role").props["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}


def test_the_task_is_fargate_with_a_read_only_root_and_logs(stack: str, graph: Graph) -> None:
    n = naming(graph)
    task = graph.named(TASK).props
    assert task["family"] == f"{n.prefix}-recommender"
    assert task["requiresCompatibilities"] == ["FARGATE"]
    assert task["networkMode"] == "awsvpc"
    assert (task["cpu"], task["memory"]) == ("2048", "8192")
    assert task["taskRoleArn"] == _role_arn("task-role")
    assert task["executionRoleArn"] == _role_arn("execution-role")
    assert task["volumes"] == [{"name": recommendations.SCRATCH_VOLUME}]
    container = _container(graph)
    assert container["readonlyRootFilesystem"] is True
    assert container["mountPoints"] == [
        {
            "sourceVolume": recommendations.SCRATCH_VOLUME,
            "containerPath": recommendations.SCRATCH_PATH,
        }
    ]
    assert container["command"] == ["train-recs"]
    logs = graph.named("recommendations-task-logs").props
    assert container["logConfiguration"]["logDriver"] == "awslogs"
    assert container["logConfiguration"]["options"]["awslogs-group"] == logs["name"]
    assert logs["name"] == f"/ecs/{n.prefix}-recommender"
    retention = int(stack_config(stack).get("flixstack:logRetentionDays", "30"))
    assert logs["retentionInDays"] == retention
    assert rules.ecs_task_hardened([graph.named(TASK)]) == []


def test_the_container_gets_the_runtime_environment_and_its_own_image(graph: Graph) -> None:
    n = naming(graph)
    environment = {e["name"]: e["value"] for e in _container(graph)["environment"]}
    assert environment["FLIXSTACK_STAGE"] == n.stage
    assert environment["FLIXSTACK_BUCKET_SUFFIX"] == n.bucket_suffix
    assert environment["FLIXSTACK_REGION"] == REGION
    repository = graph.named("recommendations-repository").props
    assert repository["name"] == f"{n.prefix}-recommender"
    tag = packaging.image_tag(dockerfile=packaging.RECOMMENDER_DOCKERFILE)
    registry = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
    assert _container(graph)["image"] == f"{registry}/{n.prefix}-recommender:{tag}"
    assert tag != packaging.image_tag(dockerfile=packaging.TRANSCODER_DOCKERFILE)


def test_the_execution_role_pulls_only_the_training_image(graph: Graph) -> None:
    n = naming(graph)
    found = statements(graph, "recommendations-execution-role-policy")
    assert found["PullImage"]["Resource"] == [
        f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{n.prefix}-recommender"
    ]
    assert found["Logs"]["Resource"][0].endswith(f"/ecs/{n.prefix}-recommender:*")


def test_the_image_tag_comes_from_stack_config() -> None:
    graph = run_stack("localstack", {"flixstack:recommenderImageTag": "v2.0.1"})
    assert _container(graph)["image"].endswith("-recommender:v2.0.1")


def test_recommendations_outputs_are_exported() -> None:
    graph = run_stack("dev")
    n = spec.Naming("dev", ACCOUNT)
    repository = resolve(graph.outputs[outputs.RECOMMENDER_REPOSITORY])
    assert repository.endswith(f"/{n.prefix}-recommender")
    assert resolve(graph.outputs[outputs.RECOMMENDER_IMAGE]).startswith(f"{repository}:src-")
    assert resolve(graph.outputs[outputs.RECOMMEND_TASK_DEFINITION]).endswith(
        f"task-definition/{n.prefix}-recommender:1"
    )
    assert resolve(graph.outputs[outputs.RECOMMEND_LOG_GROUP]) == f"/ecs/{n.prefix}-recommender"
    assert (
        resolve(graph.outputs[outputs.RECOMMEND_SCHEDULE_NAME]) == f"{n.prefix}-recommend-training"
    )
    assert resolve(graph.outputs[outputs.RECOMMEND_DEAD_LETTER_QUEUE]).endswith(
        f"/{n.queue(recommendations.DEAD_LETTER)}"
    )

"""Building blocks the container workloads share (``transcoding``, ``recommendations``).

Each function creates its resources as children of the calling component, under the names it
is given, so a component that uses them keeps its resource names (and URNs). The hardening
the policy pack checks lives here once: immutable, scanned, KMS-encrypted image repositories
with a lifecycle; containers with a read-only root file system, a scratch volume and logs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_aws as aws

from infra import policies
from infra.components import tags

KEEP_IMAGES = 30
UNTAGGED_IMAGE_DAYS = 7
SCRATCH_VOLUME = "scratch"
ECS_TASKS = "ecs-tasks.amazonaws.com"


def image_repository(
    resource_name: str,
    *,
    name: str,
    stage: str,
    capability: str,
    force_destroy: bool,
    parent: pulumi.Resource,
) -> aws.ecr.Repository:
    """An image repository with immutable tags, scanned on push, KMS-encrypted, and its
    lifecycle policy (``<resource_name>-lifecycle``)."""
    child = pulumi.ResourceOptions(parent=parent)
    repository = aws.ecr.Repository(
        resource_name,
        name=name,
        image_tag_mutability="IMMUTABLE",
        image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(
            scan_on_push=True
        ),
        encryption_configurations=[
            aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="KMS")
        ],
        force_delete=force_destroy,
        tags=tags(stage, capability),
        opts=child,
    )
    aws.ecr.LifecyclePolicy(
        f"{resource_name}-lifecycle",
        repository=repository.name,
        policy=policies.ecr_lifecycle_policy(
            keep_images=KEEP_IMAGES, untagged_days=UNTAGGED_IMAGE_DAYS
        ),
        opts=child,
    )
    return repository


def task_logs(
    resource_name: str,
    *,
    name: str,
    retention_days: int,
    stage: str,
    capability: str,
    parent: pulumi.Resource,
) -> aws.cloudwatch.LogGroup:
    return aws.cloudwatch.LogGroup(
        resource_name,
        name=name,
        retention_in_days=retention_days,
        tags=tags(stage, capability),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def role(
    resource_name: str,
    *,
    trust: pulumi.Input[str],
    policy: pulumi.Input[str],
    stage: str,
    capability: str,
    parent: pulumi.Resource,
) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
    """A role with one inline policy (``<resource_name>-policy``)."""
    child = pulumi.ResourceOptions(parent=parent)
    created = aws.iam.Role(
        resource_name, assume_role_policy=trust, tags=tags(stage, capability), opts=child
    )
    role_policy = aws.iam.RolePolicy(
        f"{resource_name}-policy", role=created.id, policy=policy, opts=child
    )
    return created, role_policy


def execution_role(
    resource_name: str,
    *,
    repository: aws.ecr.Repository,
    logs: aws.cloudwatch.LogGroup,
    stage: str,
    capability: str,
    parent: pulumi.Resource,
) -> aws.iam.Role:
    """What ECS starts a task with: it pulls the image from ``repository`` and ships the
    container's logs to ``logs``."""
    created, _ = role(
        resource_name,
        trust=policies.assume_role_policy(ECS_TASKS),
        policy=pulumi.Output.all(repository.arn, logs.arn).apply(
            lambda v: policies.task_execution_policy(repository_arn=v[0], log_group_arn=v[1])
        ),
        stage=stage,
        capability=capability,
        parent=parent,
    )
    return created


def task_definition(
    resource_name: str,
    *,
    family: str,
    cpu_units: int,
    memory_mb: int,
    task_role: aws.iam.Role,
    execution_role: aws.iam.Role,
    container_definitions: pulumi.Input[str],
    stage: str,
    capability: str,
    parent: pulumi.Resource,
    ephemeral_storage_gib: int | None = None,
) -> aws.ecs.TaskDefinition:
    """A Linux/x86-64 Fargate task in ``awsvpc`` mode with the ``scratch`` volume (backed by
    the task's ephemeral storage: Fargate's default 20 GiB unless given)."""
    return aws.ecs.TaskDefinition(
        resource_name,
        family=family,
        cpu=str(cpu_units),
        memory=str(memory_mb),
        network_mode="awsvpc",
        requires_compatibilities=["FARGATE"],
        runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(
            operating_system_family="LINUX", cpu_architecture="X86_64"
        ),
        ephemeral_storage=(
            None
            if ephemeral_storage_gib is None
            else aws.ecs.TaskDefinitionEphemeralStorageArgs(size_in_gib=ephemeral_storage_gib)
        ),
        volumes=[aws.ecs.TaskDefinitionVolumeArgs(name=SCRATCH_VOLUME)],
        task_role_arn=task_role.arn,
        execution_role_arn=execution_role.arn,
        container_definitions=container_definitions,
        tags=tags(stage, capability),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def container(
    *,
    name: str,
    image: str,
    log_group: str,
    region: str,
    environment: Mapping[str, str],
    scratch_path: str,
) -> dict[str, Any]:
    """A task's essential container: read-only root file system with the ``scratch``
    volume at ``scratch_path`` (the image's TMPDIR), logs to CloudWatch under its name."""
    return {
        "name": name,
        "image": image,
        "essential": True,
        "readonlyRootFilesystem": True,
        "environment": [{"name": k, "value": v} for k, v in sorted(environment.items())],
        "mountPoints": [{"sourceVolume": SCRATCH_VOLUME, "containerPath": scratch_path}],
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": log_group,
                "awslogs-region": region,
                "awslogs-stream-prefix": name,
            },
        },
    }

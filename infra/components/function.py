"""Python Lambda functions, the one way flixstack deploys them.

``PythonRuntime`` is the dependency layer every function shares (built from
``functions/requirements.txt``). ``PythonFunction`` is one function with what each needs:
its own log group with retention, its own least-privilege role, Powertools settings,
X-Ray tracing, JSON logs and reserved concurrency.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from flixstack import spec
from infra import policies
from infra.components import tags

RUNTIME_TYPE = "flixstack:index:PythonRuntime"
FUNCTION_TYPE = "flixstack:index:PythonFunction"
RUNTIME = "python3.12"
POWERTOOLS_NAMESPACE = spec.METRICS_NAMESPACE


@dataclass(frozen=True)
class PythonRuntimeArgs:
    naming: spec.Naming
    dependencies: pulumi.Archive
    architecture: str


class PythonRuntime(pulumi.ComponentResource):
    layer_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: PythonRuntimeArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(RUNTIME_TYPE, name, None, opts)
        layer = aws.lambda_.LayerVersion(
            f"{name}-dependencies",
            layer_name=f"{args.naming.prefix}-dependencies",
            code=args.dependencies,
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[args.architecture],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.layer_arn = layer.arn
        self.register_outputs({"layer_arn": self.layer_arn})


PolicyOf = Callable[[pulumi.Output[str]], pulumi.Input[str]]
"""Builds a function's role policy from the ARN of its log group."""


@dataclass(frozen=True)
class PythonFunctionArgs:
    naming: spec.Naming
    function: str
    """Physical name after the stack prefix: ``flixstack-<stage>-<function>``."""
    capability: str
    handler: str
    service: str
    """Powertools service name (logs, metrics, traces)."""
    code: pulumi.Archive
    layer_arn: pulumi.Input[str]
    architecture: str
    policy: PolicyOf
    environment: pulumi.Input[Mapping[str, pulumi.Input[str]]]
    log_retention_days: int
    reserved_concurrency: int
    memory_mb: int = 256
    timeout_s: int = 20
    depends_on: Sequence[pulumi.Resource] = field(default=())


class PythonFunction(pulumi.ComponentResource):
    function_name: pulumi.Output[str]
    function_arn: pulumi.Output[str]
    invoke_arn: pulumi.Output[str]
    role_policy: aws.iam.RolePolicy
    """Wire things that need the role's rights at creation time (event sources) after it."""

    def __init__(
        self, name: str, args: PythonFunctionArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(FUNCTION_TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        stage_tags = tags(args.naming.stage, args.capability)
        function_name = f"{args.naming.prefix}-{args.function}"
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/aws/lambda/{function_name}",
            retention_in_days=args.log_retention_days,
            tags=stage_tags,
            opts=child,
        )
        role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=policies.assume_role_policy("lambda.amazonaws.com"),
            tags=stage_tags,
            opts=child,
        )
        self.role_policy = aws.iam.RolePolicy(
            f"{name}-role-policy", role=role.id, policy=args.policy(log_group.arn), opts=child
        )
        function = aws.lambda_.Function(
            name,
            name=function_name,
            role=role.arn,
            runtime=RUNTIME,
            handler=args.handler,
            code=args.code,
            layers=[args.layer_arn],
            architectures=[args.architecture],
            memory_size=args.memory_mb,
            timeout=args.timeout_s,
            reserved_concurrent_executions=args.reserved_concurrency,
            tracing_config=aws.lambda_.FunctionTracingConfigArgs(mode="Active"),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(
                log_format="JSON", log_group=log_group.name
            ),
            environment=aws.lambda_.FunctionEnvironmentArgs(
                variables=pulumi.Output.from_input(args.environment).apply(
                    lambda env: {
                        **env,
                        "POWERTOOLS_SERVICE_NAME": args.service,
                        "POWERTOOLS_METRICS_NAMESPACE": POWERTOOLS_NAMESPACE,
                    }
                )
            ),
            tags=stage_tags,
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[log_group, self.role_policy, *args.depends_on]
            ),
        )
        self.function_name = function.name
        self.function_arn = function.arn
        self.invoke_arn = function.invoke_arn
        self.register_outputs(
            {
                "function_name": self.function_name,
                "function_arn": self.function_arn,
                "invoke_arn": self.invoke_arn,
            }
        )

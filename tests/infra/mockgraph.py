"""Runs Pulumi code under ``pulumi.runtime.set_mocks`` and returns the resource graph."""

from __future__ import annotations

import hashlib
import json
import runpy
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pulumi
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pulumi.runtime.settings import SETTINGS
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from flixstack import spec
from infra.policy.rules import BUCKET, TABLE, Resource

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"
REGION = "us-east-1"
STACKS = tuple(
    sorted(
        p.name.removeprefix("Pulumi.").removesuffix(".yaml")
        for p in (ROOT / "stacks").glob("Pulumi.*.yaml")
        if not p.name.startswith("Pulumi.pr-")
    )
)
"""Every stack file in stacks/: the program is checked against each (not an ephemeral
``pr-<n>`` stack's, which infra/ephemeral.py writes from one of these and removes)."""


def pem_key_pair(bits: int = 2048) -> tuple[str, str]:
    """A fresh RSA key pair as (PEM public key, PEM PKCS#8 private key)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return public.decode(), private.decode()


SIGNING_PUBLIC_KEY, SIGNING_PRIVATE_KEY = pem_key_pair()
"""The CloudFront signing key pair of every mocked stack (made once per test run)."""
SIGNING_CONFIG = {
    "flixstack:cdnSigningPublicKey": SIGNING_PUBLIC_KEY,
    "flixstack:cdnSigningPrivateKey": SIGNING_PRIVATE_KEY,
}
"""What an operator sets with ``pulumi config set [--secret]``; stack files hold neither."""
SECRET_CONFIG_KEYS = ["flixstack:cdnSigningPrivateKey"]


class GraphMocks(pulumi.runtime.Mocks):
    """Records every resource and answers with the outputs a provider would compute."""

    def __init__(self, region: str = REGION) -> None:
        self.region = region
        """The stack's region (``aws:region``): the default provider's."""
        self.resources: list[Resource] = []
        self.regions: dict[str, str] = {}
        """Each resource's region (by logical name): its provider's, else the stack's."""
        self.providers: dict[str, str | None] = {}
        """Each resource's explicit provider (by logical name, its logical name); None for
        the default provider."""
        self.ids: dict[str, str] = {}
        """Each resource's id, by logical name: ``<name>-id``, with the region after the
        name outside the stack's region (as two regions' resources of a name differ)."""
        self._provider_regions: dict[str, str] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.resources.append(Resource(args.typ, args.name, args.inputs))
        module = args.typ.split(":")[1].split("/")[0]
        name = args.inputs.get("name") or args.inputs.get("bucket") or args.name
        provider = explicit_provider(args.provider)
        self.providers[args.name] = provider
        # A resource's own region (pulumi-aws v7's ``region`` argument) beats its provider's.
        region = args.inputs.get("region") or self._provider_regions.get(
            provider or "", self.region
        )
        self.regions[args.name] = region
        self.ids[args.name] = f"{name}-id" if region == self.region else f"{name}-{region}-id"
        outputs: dict[str, Any] = {
            **args.inputs,
            "arn": f"arn:aws:{module}:{region}:{ACCOUNT}:{name}",
        }
        if args.typ == "pulumi:providers:aws":
            self._provider_regions[args.name] = args.inputs["region"]
        elif args.typ == "aws:s3/bucket:Bucket":
            outputs.update(
                arn=f"arn:aws:s3:::{name}",
                bucket=name,
                bucketDomainName=f"{name}.s3.amazonaws.com",
                bucketRegionalDomainName=f"{name}.s3.{region}.amazonaws.com",
            )
        elif args.typ == "aws:dynamodb/table:Table" and args.inputs.get("streamEnabled"):
            outputs["streamArn"] = f"{outputs['arn']}/stream/2026-01-01T00:00:00.000"
        elif args.typ == "aws:sqs/queue:Queue":
            outputs["url"] = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}"
        elif args.typ == "aws:kms/key:Key":
            outputs["keyId"] = f"{name}-key-id"
        elif args.typ == "aws:kms/replicaKey:ReplicaKey":
            # a replica has its primary's key id (mrk-...); the mocks keep them apart
            outputs["keyId"] = f"{name}-key-id"
        elif args.typ == "aws:lambda/function:Function":
            outputs["invokeArn"] = (
                f"arn:aws:apigateway:{region}:lambda:path/functions/{outputs['arn']}/invocations"
            )
        elif args.typ == "aws:apigatewayv2/api:Api":
            outputs["executionArn"] = (
                f"arn:aws:execute-api:{region}:{ACCOUNT}:{self.ids[args.name]}"
            )
        elif args.typ == "aws:apigatewayv2/stage:Stage":
            outputs["invokeUrl"] = (
                f"https://{args.inputs.get('apiId')}.execute-api.{region}.amazonaws.com/"
            )
        elif args.typ == "aws:apigatewayv2/domainName:DomainName":
            outputs["domainNameConfiguration"] = {
                **args.inputs["domainNameConfiguration"],
                "targetDomainName": f"d-{args.name}.execute-api.{region}.amazonaws.com",
                "hostedZoneId": api_gateway_zone(region),
            }
        elif args.typ == "aws:acm/certificate:Certificate":
            outputs["arn"] = f"arn:aws:acm:{region}:{ACCOUNT}:certificate/{args.name}"
            outputs["domainValidationOptions"] = [validation_option(args.inputs["domainName"])]
        elif args.typ == "aws:route53/record:Record":
            outputs["fqdn"] = str(args.inputs["name"]).rstrip(".")
        elif args.typ == "aws:iam/role:Role":
            outputs["arn"] = f"arn:aws:iam::{ACCOUNT}:role/{name}"
        elif args.typ == "aws:ecr/repository:Repository":
            outputs["arn"] = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{name}"
            outputs["repositoryUrl"] = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{name}"
        elif args.typ == "aws:ecs/cluster:Cluster":
            outputs["arn"] = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{name}"
        elif args.typ == "aws:ecs/taskDefinition:TaskDefinition":
            family = args.inputs["family"]
            outputs["arn"] = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{family}:1"
            outputs["revision"] = 1
        elif args.typ == "aws:cloudwatch/eventRule:EventRule":
            outputs["arn"] = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{name}"
        elif args.typ == "aws:cloudfront/distribution:Distribution":
            outputs["arn"] = f"arn:aws:cloudfront::{ACCOUNT}:distribution/{name}-id"
            outputs["domainName"] = f"{name}-id.cloudfront.net"
        elif args.typ == "aws:secretsmanager/secret:Secret":
            outputs["arn"] = f"arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:{name}-AbCdEf"
        return self.ids[args.name], outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": ACCOUNT,
                "arn": f"arn:aws:iam::{ACCOUNT}:user/ci",
                "userId": "ci",
                "id": ACCOUNT,
            }
        if args.token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            zones = ("a", "b", "c")
            return {
                "id": REGION,
                "names": [f"{REGION}{z}" for z in zones],
                "zoneIds": [f"use1-az{i}" for i, _ in enumerate(zones, 1)],
                "groupNames": [REGION],
            }
        return {}


def explicit_provider(reference: str | None) -> str | None:
    """The logical name of the provider in a registration's ``<urn>::<id>`` reference; None
    for the default provider (which the mocks get no reference for, or one named default*)."""
    if not reference:
        return None
    name = reference.rsplit("::", 1)[0].rsplit("::", 1)[-1]
    return None if name.startswith("default") else name


def api_gateway_zone(region: str) -> str:
    """A stand-in for the hosted zone of a region's API Gateway custom domains."""
    return "Z" + region.replace("-", "").upper()


def validation_option(domain: str) -> dict[str, str]:
    """The DNS validation record ACM asks for ``domain``: the same in every region, as ACM's
    is for one account."""
    token = hashlib.sha256(f"{ACCOUNT}/{domain}".encode()).hexdigest()[:32]
    return {
        "domainName": domain,
        "resourceRecordName": f"_{token}.{domain}.",
        "resourceRecordType": "CNAME",
        "resourceRecordValue": f"_{token}.acm-validations.aws.",
    }


class Graph:
    def __init__(
        self,
        resources: list[Resource],
        outputs: Mapping[str, Any],
        regions: Mapping[str, str] | None = None,
        providers: Mapping[str, str | None] | None = None,
        ids: Mapping[str, str] | None = None,
    ) -> None:
        self.resources = resources
        self.outputs = outputs
        self.regions = dict(regions or {})
        """The region each resource is created in (its provider's), by logical name."""
        self.providers = dict(providers or {})
        """The explicit provider each resource is created with (None: the default), by
        logical name."""
        self.ids = dict(ids or {})
        """The id the mocks gave each resource, by logical name."""

    def of(self, type_: str) -> list[Resource]:
        return [r for r in self.resources if r.type == type_]

    def named(self, name: str) -> Resource:
        """The AWS resource of that name (components share names with their main child)."""
        (match,) = [
            r for r in self.resources if r.name == name and not r.type.startswith("flixstack:")
        ]
        return match


def naming(graph: Graph) -> spec.Naming:
    """The naming the program used: the stage from a table name, and the account id as the
    bucket suffix unless the stack (localstack) sets none."""
    stage = graph.of(TABLE)[0].props["name"].split("-")[1]
    localstack = any("localstack" in b.props["bucket"] for b in graph.of(BUCKET))
    return spec.Naming(stage, "" if localstack else ACCOUNT)


def statements(graph: Graph, policy: str) -> dict[str, dict[str, Any]]:
    """A policy document's statements by Sid (the resource's ``policy`` property)."""
    document = json.loads(graph.named(policy).props["policy"])
    return {s["Sid"]: s for s in document["Statement"] if "Sid" in s}


def stack_config(stack: str) -> dict[str, str]:
    """A stack file's config in the form the engine passes to programs (objects as JSON)."""
    data = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())
    return {
        key: value if isinstance(value, str) else json.dumps(value)
        for key, value in (data.get("config") or {}).items()
    }


def run(program: Callable[[], None], *, stack: str, config: Mapping[str, str]) -> Graph:
    """Runs ``program`` under mocks with ``config`` and waits for every registration."""
    mocks = GraphMocks(config.get("aws:region", REGION))
    SETTINGS.rpc_manager.clear()
    SETTINGS.outputs.clear()
    pulumi.runtime.set_mocks(mocks, project="flixstack", stack=stack, preview=False)
    pulumi.runtime.set_all_config(
        dict(config), [key for key in SECRET_CONFIG_KEYS if key in config]
    )
    _sync_await(run_pulumi_func(program))
    root = pulumi.runtime.get_root_resource()
    exported = getattr(root, "outputs", {}) if root is not None else {}
    # resolved now, while this run's state is the runtime's: a graph kept for later tests
    # (tests/infra/conftest.py shares them) must not read the next run's
    outputs = {key: resolve(value) for key, value in dict(exported).items()}
    return Graph(mocks.resources, outputs, mocks.regions, mocks.providers, mocks.ids)


def run_stack(
    stack: str, extra_config: Mapping[str, str] | None = None, without: Sequence[str] = ()
) -> Graph:
    """The whole ``infra/__main__.py`` program with ``stacks/Pulumi.<stack>.yaml`` and the
    signing key pair an operator sets apart from the stack file, plus ``extra_config`` and
    less the keys ``without`` names."""
    config = {**stack_config(stack), **SIGNING_CONFIG, **(extra_config or {})}
    config = {key: value for key, value in config.items() if key not in without}
    return run(
        lambda: runpy.run_path(str(ROOT / "infra" / "__main__.py"), run_name="__main__"),
        stack=stack,
        config=config,
    )


def resolve(value: Any) -> Any:
    """The plain value of an Output (or of a plain value)."""
    return _sync_await(pulumi.Output.from_input(value).future())

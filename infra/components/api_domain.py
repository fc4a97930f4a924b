"""The API's custom domain across the stack's regions (``flixstack:apiDomain``): one name for
every regional HTTP API, routed by latency, with health-checked failover.

In each region: an ACM certificate for the domain, validated through DNS; an API Gateway
regional custom domain with that certificate, mapped to the region's HTTP API; a Route53
health check of the region's own endpoint (HTTPS ``/health``); and a latency record of the
domain that answers with that region while its health check passes. Route53 answers every
resolver with the nearest healthy region, so a region that fails its checks stops getting
requests until it passes them again (and if every region fails, Route53 answers with all).

ACM's DNS validation record of a domain is the same for every certificate of the account in
every region, so one record (the primary certificate's) validates them all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import pulumi
import pulumi_aws as aws

from flixstack import spec
from infra.components import Region, tags
from infra.components.alerting import CLOUDFRONT_REGION
from infra.components.api import STAGE_NAME

TYPE = "flixstack:index:ApiDomain"
CAPABILITY = "api"
HEALTH_PATH = "/health"
HEALTH_CHECK_INTERVAL_S = 30
HEALTH_CHECK_FAILURES = 3
HEALTH_METRICS_REGION = CLOUDFRONT_REGION
"""Route53 publishes health-check metrics in us-east-1 only (as CloudFront its own): their
alarms live there and notify that region's alarm topic."""
UNHEALTHY_MINUTES = 2
"""Consecutive failed checks (a minute and a half) before Route53 stops answering with a
region, and passed ones before it answers with it again."""
SECURITY_POLICY = "TLS_1_2"
ENDPOINT_TYPE = "REGIONAL"
"""A regional custom domain in each region, which latency records can choose between (an
edge-optimized one is a single CloudFront distribution)."""
VALIDATION_TTL_S = 300


@dataclass(frozen=True)
class RegionalApi:
    """The HTTP API of one region."""

    region: Region
    api_id: pulumi.Input[str]
    url: pulumi.Input[str]
    """Its own stage URL (``https://<id>.execute-api.<region>.amazonaws.com/``), which the
    region's health check calls."""


@dataclass(frozen=True)
class ApiDomainArgs:
    naming: spec.Naming
    domain: str
    """The API's host name, such as ``api.flix.example.com``."""
    hosted_zone_id: str
    """The Route53 public hosted zone the domain is in."""
    apis: Sequence[RegionalApi]
    """The HTTP API of each region, the primary first."""
    alarm_topic_arn: pulumi.Input[str] | None = None
    """The alarm topic in us-east-1 (``Alerting.cloudfront_topic_arn``): a region failing
    its health check notifies it; None: no alarms."""

    def __post_init__(self) -> None:
        regions = [api.region.name for api in self.apis]
        if not regions or len(set(regions)) != len(regions):
            raise ValueError(f"the API domain needs one HTTP API per region, not {regions}")


def host(url: str) -> str:
    """The host of ``url``: what a health check connects to (and names with SNI)."""
    name = urlsplit(url).hostname
    if not name:
        raise ValueError(f"{url!r} has no host")
    return name


class ApiDomain(pulumi.ComponentResource):
    url: pulumi.Output[str]
    """``https://<domain>/``: the API wherever a client is, the nearest healthy region."""
    certificate_arns: dict[str, pulumi.Output[str]]
    """The validated certificate of each region, by region."""
    health_check_ids: dict[str, pulumi.Output[str]]
    """The Route53 health check of each region's API, by region."""

    def __init__(
        self, name: str, args: ApiDomainArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        certificates = {
            api.region.name: aws.acm.Certificate(
                f"{name}-{api.region.name}-certificate",
                domain_name=args.domain,
                validation_method="DNS",
                tags=tags(args.naming.stage, CAPABILITY),
                opts=pulumi.ResourceOptions(parent=self, provider=api.region.provider),
            )
            for api in args.apis
        }
        option = certificates[args.apis[0].region.name].domain_validation_options[0]
        validation = aws.route53.Record(
            f"{name}-validation",
            zone_id=args.hosted_zone_id,
            name=option.resource_record_name,
            type=option.resource_record_type,
            records=[option.resource_record_value],
            ttl=VALIDATION_TTL_S,
            # The record is the account's for this domain: another stack's certificate may
            # have written the same name and value already.
            allow_overwrite=True,
            opts=pulumi.ResourceOptions(parent=self),  # Route53 is global: no region's provider
        )
        self.certificate_arns = {}
        self.health_check_ids = {}
        for api in args.apis:
            region = api.region.name
            self.certificate_arns[region], self.health_check_ids[region] = self._region(
                name, api, certificates[region], validation, args
            )
        self.url = pulumi.Output.from_input(f"https://{args.domain}/")
        self.register_outputs(
            {
                "url": self.url,
                "certificate_arns": self.certificate_arns,
                "health_check_ids": self.health_check_ids,
            }
        )

    def _region(
        self,
        name: str,
        api: RegionalApi,
        certificate: aws.acm.Certificate,
        validation: aws.route53.Record,
        args: ApiDomainArgs,
    ) -> tuple[pulumi.Output[str], pulumi.Output[str]]:
        """The region's validated certificate, custom domain, mapping, health check and
        latency record; returns the certificate's ARN and the health check's id."""
        region = api.region.name
        regional = pulumi.ResourceOptions(parent=self, provider=api.region.provider)
        stage_tags = tags(args.naming.stage, CAPABILITY, {"region": region})
        validated = aws.acm.CertificateValidation(
            f"{name}-{region}-certificate-validation",
            certificate_arn=certificate.arn,
            validation_record_fqdns=[validation.fqdn],
            opts=regional,
        )
        domain = aws.apigatewayv2.DomainName(
            f"{name}-{region}",
            domain_name=args.domain,
            domain_name_configuration=aws.apigatewayv2.DomainNameDomainNameConfigurationArgs(
                certificate_arn=validated.certificate_arn,
                endpoint_type=ENDPOINT_TYPE,
                security_policy=SECURITY_POLICY,
            ),
            tags=stage_tags,
            opts=regional,
        )
        aws.apigatewayv2.ApiMapping(
            f"{name}-{region}-mapping",
            api_id=api.api_id,
            domain_name=domain.id,
            stage=STAGE_NAME,
            opts=regional,
        )
        health_check = aws.route53.HealthCheck(
            f"{name}-{region}-health",
            type="HTTPS",
            fqdn=pulumi.Output.from_input(api.url).apply(host),
            port=443,
            enable_sni=True,
            resource_path=HEALTH_PATH,
            request_interval=HEALTH_CHECK_INTERVAL_S,
            failure_threshold=HEALTH_CHECK_FAILURES,
            measure_latency=True,
            tags={**stage_tags, "Name": f"{args.naming.prefix}-api-{region}"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        if args.alarm_topic_arn is not None:
            self._unhealthy_alarm(name, region, args, health_check, args.alarm_topic_arn)
        target = domain.domain_name_configuration
        aws.route53.Record(
            f"{name}-{region}-record",
            zone_id=args.hosted_zone_id,
            name=args.domain,
            type="A",
            set_identifier=region,
            latency_routing_policies=[aws.route53.RecordLatencyRoutingPolicyArgs(region=region)],
            health_check_id=health_check.id,
            aliases=[
                aws.route53.RecordAliasArgs(
                    name=target.target_domain_name,
                    zone_id=target.hosted_zone_id,
                    evaluate_target_health=True,
                )
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )
        return validated.certificate_arn, health_check.id

    def _unhealthy_alarm(
        self,
        name: str,
        region: str,
        args: ApiDomainArgs,
        health_check: aws.route53.HealthCheck,
        topic: pulumi.Input[str],
    ) -> aws.cloudwatch.MetricAlarm:
        """Fires when the region's API has failed its health check for two minutes (its
        latency record no longer answers: clients go to the other regions) and again when it
        recovers. No data counts as unhealthy: a check that reports nothing is not a pass."""
        primary = args.apis[0].region.name
        return aws.cloudwatch.MetricAlarm(
            f"{name}-{region}-unhealthy",
            name=f"{args.naming.prefix}-api-{region}-unhealthy",
            alarm_description=(
                f"The API in {region} fails its Route53 health check ({HEALTH_PATH}): "
                "clients are sent to the other regions."
            ),
            namespace="AWS/Route53",
            metric_name="HealthCheckStatus",
            dimensions={"HealthCheckId": health_check.id},
            statistic="Minimum",
            period=60,
            evaluation_periods=UNHEALTHY_MINUTES,
            threshold=1,
            comparison_operator="LessThanThreshold",
            treat_missing_data="breaching",
            alarm_actions=[topic],
            ok_actions=[topic],
            region=HEALTH_METRICS_REGION if primary != HEALTH_METRICS_REGION else None,
            tags=tags(args.naming.stage, CAPABILITY),
            opts=pulumi.ResourceOptions(parent=self),
        )

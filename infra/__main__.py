"""The flixstack Pulumi program: reads the stack config once and wires the components."""

import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # Pulumi runs this file with infra/ as the program directory
    sys.path.insert(0, str(ROOT))

import pulumi  # noqa: E402
import pulumi_aws as aws  # noqa: E402

from flixstack import spec  # noqa: E402
from infra import outputs, packaging  # noqa: E402
from infra.components import Region  # noqa: E402
from infra.components.alerting import Alerting, AlertingArgs  # noqa: E402
from infra.components.analytics import Analytics, AnalyticsArgs  # noqa: E402
from infra.components.api import Api, ApiArgs  # noqa: E402
from infra.components.api_domain import ApiDomain, ApiDomainArgs, RegionalApi  # noqa: E402
from infra.components.cdn import Cdn, CdnArgs  # noqa: E402
from infra.components.data import Data, DataArgs  # noqa: E402
from infra.components.function import PythonRuntime, PythonRuntimeArgs  # noqa: E402
from infra.components.identity import (  # noqa: E402
    Identity,
    IdentityArgs,
    stack_hosted_ui_url,
)
from infra.components.messaging import Messaging, MessagingArgs  # noqa: E402
from infra.components.observability import Observability, ObservabilityArgs  # noqa: E402
from infra.components.prewarming import (  # noqa: E402
    Prewarming,
    PrewarmingArgs,
    prewarm_environment,
)
from infra.components.recommendations import (  # noqa: E402
    Recommendations,
    RecommendationsArgs,
)
from infra.components.regional_events import (  # noqa: E402
    RegionalEvents,
    RegionalEventsArgs,
)
from infra.components.storage import Storage, StorageArgs  # noqa: E402
from infra.components.transcoding import Transcoding, TranscodingArgs  # noqa: E402
from infra.components.webapp import WebApp, WebAppArgs, execute_api_source  # noqa: E402
from infra.components.webapp_release import WebAppRelease, WebAppReleaseArgs  # noqa: E402
from infra.config import StackConfig  # noqa: E402

config = StackConfig.load()
account_id = aws.get_caller_identity().account_id
naming = config.naming(account_id if config.bucket_suffix is None else config.bucket_suffix)
runtime_environment = {
    "FLIXSTACK_STAGE": naming.stage,
    "FLIXSTACK_BUCKET_SUFFIX": naming.bucket_suffix,
    # Where the stack's single-region resources are (queues, stream, user pool, buckets):
    # every deployable's Settings.home, whichever region it runs in.
    "FLIXSTACK_HOME_REGION": config.region,
}
code = packaging.code_archive()

# The stack's regions, the primary first, each with the provider that creates resources
# there, passed to every component that does. The primary's is the default provider, which
# aws:region (checked to be the primary) and the other aws:* settings configure; each other
# region gets one of its own, which may act only in the stack's account.
primary = Region(config.region, provider=None)
regions = [
    primary,
    *(
        Region(name, aws.Provider(f"aws-{name}", region=name, allowed_account_ids=[account_id]))
        for name in config.regions[1:]
    ),
]
# Lambda layers are regional: each region's functions get their own copy of the one build.
dependencies = packaging.dependency_archive(
    ROOT / config.lambda_layer_dir, config.lambda_architecture
)
runtimes = {
    region.name: PythonRuntime(
        "python" if region is primary else f"python-{region.name}",
        PythonRuntimeArgs(
            naming=naming, dependencies=dependencies, architecture=config.lambda_architecture
        ),
        opts=pulumi.ResourceOptions(provider=region.provider),
    )
    for region in regions
}
python = runtimes[primary.name]
storage = Storage(
    "storage",
    StorageArgs(
        naming=naming,
        account_id=account_id,
        region=config.region,
        ingest_glacier_days=config.ingest_glacier_days,
        noncurrent_expiry_days=config.noncurrent_expiry_days,
        log_retention_days=config.log_retention_days,
        force_destroy=config.force_destroy,
        # One media replica, in the first secondary region: storage.py says why.
        replica=regions[1] if len(regions) > 1 else None,
        secondaries=regions[1:],
        cdn_reads_media=True,
        # the admin app PUTs uploads straight to the ingest bucket (presigned parts); the
        # web app's own origin is only known after its first deploy: list it in cdnWebOrigins
        upload_origins=config.cdn_web_origins,
    ),
)
cdn = Cdn(
    "cdn",
    CdnArgs(
        naming=naming,
        account_id=account_id,
        region=config.region,
        secondaries=regions[1:],
        distributions=config.cdns,
        media=storage.media,
        media_replica=storage.media_replica,
        logs_bucket_domain_name=storage.bucket_domain_names[spec.LOGS.logical],
        signing_public_key=config.cdn_signing_public_key,
        signing_private_key=config.cdn_signing_private_key,
        web_origins=config.cdn_web_origins,
        price_class=config.cdn_price_class,
        viewer_protocol_policy=config.cdn_viewer_protocol_policy,
        certificate_arn=config.cdn_certificate_arn,
        geo_restriction=config.cdn_geo_restriction,
        origin_shield_region=config.cdn_origin_shield_region,
        force_destroy=config.force_destroy,
    ),
)
# The web app's bucket and distribution come before identity and the API, which need its
# URL (OAuth callbacks, CORS); what goes in the bucket comes after them (WebAppRelease).
# So its content security policy names the hosted UI as identity will make it and every
# HTTP API of the region: the API's own host is only known once it exists.
webapp = WebApp(
    "webapp",
    WebAppArgs(
        naming=naming,
        logs_bucket_name=storage.bucket_names[spec.LOGS.logical],
        logs_bucket_domain_name=storage.bucket_domain_names[spec.LOGS.logical],
        media_urls=cdn.cdns.apply(lambda cdns: [c["base_url"] for c in cdns]),
        # A custom domain is known before the API exists; otherwise every HTTP API of the
        # primary region.
        api_url=f"https://{config.api_domain}"
        if config.api_domain
        else execute_api_source(config.region),
        hosted_ui_url=stack_hosted_ui_url(naming, config.region),
        noncurrent_expiry_days=config.noncurrent_expiry_days,
        price_class=config.cdn_price_class,
        aliases=config.webapp_aliases,
        certificate_arn=config.cdn_certificate_arn,
        force_destroy=config.force_destroy,
    ),
)
data = Data(
    "data",
    DataArgs(
        naming=naming,
        account_id=account_id,
        regions=regions,
        deletion_protection=config.deletion_protection,
    ),
)
# Every alarm notifies this topic; it comes before the components that make alarms.
alerting = Alerting(
    "alerting",
    AlertingArgs(
        naming=naming,
        account_id=account_id,
        region=config.region,
        email=config.alarm_email,
        secondaries=regions[1:],
    ),
)
messaging = Messaging(
    "messaging",
    MessagingArgs(
        naming=naming,
        account_id=account_id,
        bucket_names=storage.bucket_names,
        bucket_arns=storage.bucket_arns,
        alarm_actions=[alerting.topic_arn],
    ),
)
identity = Identity(
    "identity",
    IdentityArgs(
        naming=naming,
        region=config.region,
        callback_urls=[*config.callback_urls, webapp.url],
        deletion_protection=config.deletion_protection,
    ),
)
# Which pool and clients' tokens the API accepts (it verifies them itself too, behind the
# HTTP API's JWT authorizer).
identity_environment = {
    "FLIXSTACK_USER_POOL_ID": identity.user_pool_id,
    "FLIXSTACK_USER_POOL_CLIENT_IDS": pulumi.Output.json_dumps(identity.client_ids),
}
# The CDNs playback ranks, and where poster links point.
playback_environment: dict[str, pulumi.Input[str]] = {
    "FLIXSTACK_CDNS": pulumi.Output.json_dumps(cdn.cdns),
    "FLIXSTACK_MEDIA_BASE_URL": cdn.media_base_url,
}
if config.cdn_cookie_domain:
    playback_environment["FLIXSTACK_CDN_COOKIE_DOMAIN"] = config.cdn_cookie_domain
# Which published titles the API and the transcoder enqueue for CDN pre-warming, and how
# much of each the pre-warming Lambda fetches.
prewarm_settings = prewarm_environment(
    titles=config.prewarm_titles,
    segments=config.prewarm_segments,
    min_popularity=config.prewarm_min_popularity,
    new_days=config.prewarm_new_days,
)


analytics = Analytics(
    "analytics",
    AnalyticsArgs(
        naming=naming,
        account_id=account_id,
        region=config.region,
        code=code,
        layer_arn=python.layer_arn,
        architecture=config.lambda_architecture,
        environment=runtime_environment,
        stream_arn=messaging.stream_arns[spec.EVENTS.logical],
        table_arns=data.table_arns,
        bucket_names=storage.bucket_names,
        bucket_arns=storage.bucket_arns,
        dead_letter_arn=messaging.queue_arns[spec.EVENTS_DLQ.logical],
        log_retention_days=config.log_retention_days,
        query_limit_gib=config.athena_query_limit_gib,
        force_destroy=config.force_destroy,
    ),
)
# Every secondary region records its viewers' events itself: a stream, its consumer
# (progress into the region's table replicas) and a lake copy that S3 replicates into the
# home lake (regional_events.py says how).
regional_events = {
    region.name: RegionalEvents(
        f"events-{region.name}",
        RegionalEventsArgs(
            naming=naming,
            region=region,
            home_region=config.region,
            account_id=account_id,
            code=code,
            layer_arn=runtimes[region.name].layer_arn,
            architecture=config.lambda_architecture,
            environment=runtime_environment,
            table_arns=data.table_arns_by_region[region.name],
            artifacts_bucket_arn=storage.artifacts_bucket_arns[region.name],
            home_lake_bucket_arn=storage.bucket_arns[spec.LAKE.logical],
            glue_database=analytics.glue_database,
            glue_table=analytics.glue_table,
            log_retention_days=config.log_retention_days,
            noncurrent_expiry_days=config.noncurrent_expiry_days,
            alarm_actions=[alerting.topic_arns[region.name]],
            force_destroy=config.force_destroy,
            home_lake_ready=[storage],
        ),
    )
    for region in regions[1:]
}


def events_of(region: Region) -> dict[str, Mapping[str, pulumi.Input[str]]]:
    """The stream a region's API puts events on and the queues it may describe: its own
    region's events stream and dead-letter queue (``spec.REGIONAL_SERVICES``,
    ``QueueSpec.every_region``), the home region's other queues."""
    if region is primary:
        return {"queue_arns": messaging.queue_arns, "stream_arns": messaging.stream_arns}
    own = regional_events[region.name]
    return {
        "queue_arns": {**messaging.queue_arns, spec.EVENTS_DLQ.logical: own.dead_letter_arn},
        "stream_arns": {spec.EVENTS.logical: own.stream_arn},
    }


def api_args(region: Region) -> ApiArgs:
    """The API's arguments in ``region``. It calls the tables, the media key and the signing
    secret of its own region (their replicas outside the primary: spec.REGIONAL_SERVICES),
    so a region serves while another is down, and reads the artifacts from its region's
    copy; the rest is the home region's (FLIXSTACK_HOME_REGION)."""
    return ApiArgs(
        naming=naming,
        code=code,
        layer_arn=runtimes[region.name].layer_arn,
        environment={
            **runtime_environment,
            **identity_environment,
            **playback_environment,
            **prewarm_settings,
            "FLIXSTACK_REGION": region.name,
        },
        table_arns=data.table_arns_by_region[region.name],
        bucket_arns=storage.bucket_arns,
        bucket_copy_arns=storage.bucket_copy_arns.get(region.name, {}),
        **events_of(region),
        user_pool_arn=identity.user_pool_arn,
        issuer=identity.issuer,
        client_ids=identity.client_ids,
        kms_key_arns={spec.MEDIA_KEY.logical: storage.media_key_arns[region.name]},
        secret_arns={spec.CDN_SIGNING.logical: cdn.signing_secret_arns[region.name]},
        log_retention_days=config.log_retention_days,
        throttle_rate=config.api_throttle_rate,
        throttle_burst=config.api_throttle_burst,
        memory_mb=config.api_memory_mb,
        reserved_concurrency=config.api_reserved_concurrency,
        architecture=config.lambda_architecture,
        cors_origins=[webapp.origin],
    )


# The API in every region, each with its region's provider.
apis = {
    region.name: Api(
        "api" if region is primary else f"api-{region.name}",
        api_args(region),
        opts=pulumi.ResourceOptions(provider=region.provider),
    )
    for region in regions
}
api = apis[primary.name]
regional_apis = [
    RegionalApi(region=region, api_id=apis[region.name].api_id, url=apis[region.name].url)
    for region in regions
]
# With a custom domain, one name for them all: latency records with health-checked failover.
api_domain = (
    ApiDomain(
        "api-domain",
        ApiDomainArgs(
            naming=naming,
            domain=config.api_domain,
            hosted_zone_id=config.hosted_zone_id,
            apis=regional_apis,
            alarm_topic_arn=alerting.cloudfront_topic_arn,
        ),
    )
    if config.api_domain and config.hosted_zone_id
    else None
)
api_url = api_domain.url if api_domain else api.url
webapp_release = WebAppRelease(
    "webapp-release",
    WebAppReleaseArgs(
        bucket_name=webapp.bucket_name,
        dist_dir=packaging.WEB_DIST,
        app_url=webapp.url,
        api_url=api_url,
        hosted_ui_url=identity.hosted_ui_url,
        web_client_id=identity.web_client_id,
    ),
)
transcoding = Transcoding(
    "transcoding",
    TranscodingArgs(
        naming=naming,
        region=config.region,
        code=code,
        layer_arn=python.layer_arn,
        environment=runtime_environment,
        worker_environment=prewarm_settings,
        bucket_arns=storage.bucket_arns,
        table_arns=data.table_arns,
        queue_arns=messaging.queue_arns,
        media_key_arn=storage.media_key_arn,
        image_tag=config.transcoder_image_tag or packaging.image_tag(),
        log_retention_days=config.log_retention_days,
        memory_mb=config.transcode_memory_mb,
        ephemeral_storage_gib=config.transcode_ephemeral_storage_gib,
        spot=config.transcode_spot,
        dispatch_concurrency=config.transcode_dispatch_concurrency,
        lambda_architecture=config.lambda_architecture,
        subnet_ids=config.transcode_subnet_ids,
        security_group_ids=config.transcode_security_group_ids,
        assign_public_ip=config.transcode_assign_public_ip,
        force_destroy=config.force_destroy,
        # No cycle: the API does not depend on transcoding. Without the trailing slash of
        # the stage URL, key URIs are `<url>/keys/<asset>`.
        api_base_url=api_url.apply(lambda url: url.rstrip("/")),
    ),
)
prewarming = Prewarming(
    "prewarming",
    PrewarmingArgs(
        naming=naming,
        code=code,
        layer_arn=python.layer_arn,
        architecture=config.lambda_architecture,
        environment={**runtime_environment, **prewarm_settings},
        cdns=cdn.cdns,
        queue_arn=messaging.queue_arns[spec.PREWARM.logical],
        signing_secret_arn=cdn.signing_secret_arn,
        log_retention_days=config.log_retention_days,
        concurrency=config.prewarm_concurrency,
    ),
)
# The training job runs on the transcoding cluster, in its tasks' network.
recommendations = Recommendations(
    "recommendations",
    RecommendationsArgs(
        naming=naming,
        account_id=account_id,
        region=config.region,
        environment=runtime_environment,
        bucket_arns=storage.bucket_arns,
        table_arns=data.table_arns,
        cluster_arn=transcoding.cluster_arn,
        subnet_ids=transcoding.subnet_ids,
        security_group_ids=transcoding.security_group_ids,
        assign_public_ip=transcoding.assign_public_ip,
        image_tag=config.recommender_image_tag
        or packaging.image_tag(dockerfile=packaging.RECOMMENDER_DOCKERFILE),
        schedule=config.recommend_schedule,
        log_retention_days=config.log_retention_days,
        alarm_actions=[alerting.topic_arn],
        force_destroy=config.force_destroy,
    ),
)
observability = Observability(
    "observability",
    ObservabilityArgs(
        naming=naming,
        region=config.region,
        alarm_topic_arn=alerting.topic_arn,
        cloudfront_alarm_topic_arn=alerting.cloudfront_topic_arn,
        api_id=api.api_id,
        secondary_apis=regional_apis[1:],
        alarm_topic_arns=alerting.topic_arns,
        secondary_consumers={r: events.function_name for r, events in regional_events.items()},
        queue_names=messaging.queue_names,
        consumer_function_name=analytics.function_name,
        distribution_ids=cdn.distribution_ids,
        api_latency_p99_ms=config.api_latency_p99_ms,
    ),
)

pulumi.export(outputs.STAGE, naming.stage)
pulumi.export(outputs.REGION, config.region)
pulumi.export(outputs.REGIONS, list(config.regions))
pulumi.export(outputs.API_URL, api_url)
pulumi.export(outputs.API_URLS, {name: regional.url for name, regional in apis.items()})
pulumi.export(outputs.API_FUNCTION, api.function_name)
pulumi.export(outputs.TABLES, data.table_names)
pulumi.export(outputs.BUCKETS, storage.bucket_names)
pulumi.export(outputs.QUEUES, messaging.queue_urls)
pulumi.export(outputs.STREAMS, messaging.stream_names)
pulumi.export(outputs.USER_POOL_ID, identity.user_pool_id)
pulumi.export(outputs.WEB_CLIENT_ID, identity.web_client_id)
pulumi.export(outputs.CLI_CLIENT_ID, identity.cli_client_id)
pulumi.export(outputs.HOSTED_UI_URL, identity.hosted_ui_url)
pulumi.export(outputs.MEDIA_KEY_ARN, storage.media_key_arn)
pulumi.export(outputs.TRANSCODER_REPOSITORY, transcoding.repository_url)
pulumi.export(outputs.TRANSCODER_IMAGE, transcoding.image)
pulumi.export(outputs.TRANSCODE_CLUSTER, transcoding.cluster_name)
pulumi.export(outputs.TRANSCODE_TASK_DEFINITION, transcoding.task_definition_arn)
pulumi.export(outputs.TRANSCODE_LOG_GROUP, transcoding.log_group_name)
pulumi.export(outputs.TRANSCODE_DISPATCH_FUNCTION, transcoding.dispatch_function_name)
pulumi.export(outputs.TRANSCODE_RETRY_FUNCTION, transcoding.retry_function_name)
pulumi.export(outputs.TRANSCODE_SUBNETS, transcoding.subnet_ids)
pulumi.export(outputs.TRANSCODE_SECURITY_GROUPS, transcoding.security_group_ids)
pulumi.export(outputs.CDNS, cdn.cdns)
pulumi.export(outputs.CDN_DISTRIBUTION_IDS, cdn.distribution_ids)
pulumi.export(outputs.CDN_DOMAIN_NAMES, cdn.domain_names)
pulumi.export(outputs.CDN_KEY_PAIR_ID, cdn.key_pair_id)
pulumi.export(outputs.CDN_SIGNING_SECRET_ARN, cdn.signing_secret_arn)
pulumi.export(outputs.PREWARM_FUNCTION, prewarming.function_name)
pulumi.export(
    outputs.MEDIA_REPLICA_BUCKET,
    storage.media_replica.bucket_name if storage.media_replica else None,
)
pulumi.export(outputs.EVENTS_FUNCTION, analytics.function_name)
pulumi.export(outputs.LAKE_DELIVERY_STREAM, analytics.delivery_stream_name)
pulumi.export(outputs.LAKE_DATABASE, analytics.glue_database)
pulumi.export(outputs.LAKE_TABLE, analytics.glue_table)
pulumi.export(outputs.ATHENA_WORKGROUP, analytics.workgroup_name)
pulumi.export(outputs.RECOMMENDER_REPOSITORY, recommendations.repository_url)
pulumi.export(outputs.RECOMMENDER_IMAGE, recommendations.image)
pulumi.export(outputs.RECOMMEND_TASK_DEFINITION, recommendations.task_definition_arn)
pulumi.export(outputs.RECOMMEND_LOG_GROUP, recommendations.log_group_name)
pulumi.export(outputs.RECOMMEND_SCHEDULE_NAME, recommendations.schedule_name)
pulumi.export(outputs.RECOMMEND_DEAD_LETTER_QUEUE, recommendations.dead_letter_url)
pulumi.export(outputs.ALARM_TOPIC_ARN, alerting.topic_arn)
pulumi.export(outputs.DASHBOARD, observability.dashboard_name)
pulumi.export(outputs.WEBAPP_URL, webapp.url)
pulumi.export(outputs.WEBAPP_BUCKET, webapp.bucket_name)
pulumi.export(outputs.WEBAPP_DISTRIBUTION_ID, webapp.distribution_id)

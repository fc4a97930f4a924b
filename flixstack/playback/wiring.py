"""Builds the playback pieces of a deployable from its settings and AWS clients: the
delivery (CDNs, their health, cookie signing) the API uses, and CDN pre-warming (the
publishing side in the API and the worker, the consuming side in the worker)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from flixstack import spec
from flixstack.aws.clients import AwsClients
from flixstack.aws.queues import Queue
from flixstack.playback import prewarm, signing
from flixstack.playback.cdn import CdnHealth
from flixstack.playback.prewarm import ACCESS_S, Prewarmer, PrewarmPolicy, PrewarmRequests
from flixstack.playback.service import Delivery
from flixstack.settings import Settings, get_settings


def signing_key(settings: Settings, clients: AwsClients) -> signing.SigningKey:
    """The CDN signing key, read from its secret once per process."""
    return _signing_key(settings.naming, clients)


@cache
def _signing_key(naming: spec.Naming, clients: AwsClients) -> signing.SigningKey:
    return signing.load_signing_key(clients.secretsmanager, naming)


def delivery(settings: Settings, clients: AwsClients) -> Delivery:
    def sign(resource: str, expires: datetime) -> dict[str, str]:
        return signing.signed_cookies(signing_key(settings, clients), resource, expires)

    health = CdnHealth(settings.cdns, settings.cdn_health_interval_s)
    return Delivery(
        cdns=tuple(settings.cdns),
        healthy=health.healthy,
        sign=sign,
        resource=signing.asset_resource,
        key_base_url=settings.api_base_url,
        cookie_domain=settings.cdn_cookie_domain,
        margin_s=settings.playback_margin_s,
        max_s=settings.playback_max_s,
    )


def prewarm_queue(settings: Settings, clients: AwsClients) -> Queue:
    return Queue(clients.sqs, settings.naming.queue(spec.PREWARM))


def prewarm_requests(settings: Settings, clients: AwsClients) -> PrewarmRequests:
    policy = PrewarmPolicy(
        which=settings.prewarm_titles,
        segments=settings.prewarm_segments,
        min_popularity=settings.prewarm_min_popularity,
        new_days=settings.prewarm_new_days,
    )
    return PrewarmRequests(policy, prewarm_queue(settings, clients).send)


def prewarmer(settings: Settings, clients: AwsClients) -> Prewarmer:
    def cookies(master_playlist: str) -> dict[str, str]:
        resource = signing.asset_resource(*spec.asset_folder(master_playlist))
        expires = datetime.now(UTC) + timedelta(seconds=ACCESS_S)
        return signing.signed_cookies(signing_key(settings, clients), resource, expires)

    return Prewarmer(settings.cdns, cookies, settings.prewarm_segments)


@cache
def _deployed_prewarmer() -> Prewarmer:
    settings = get_settings()
    return prewarmer(settings, AwsClients(settings))


def warm_record(record: SQSRecord) -> None:
    """One prewarm-queue record, as the queue-triggered function receives it (built from
    the process's environment on first use)."""
    prewarm.handle(_deployed_prewarmer(), record.body)

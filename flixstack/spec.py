"""The one place that names every table, index, bucket, queue, stream and user pool.

The Pulumi program (``infra/``), the local bootstrap (``flixstack.local.bootstrap``)
and the runtime (``flixstack.aws``) all read this module, so the deployed shape,
the emulator's shape and what the code expects cannot drift apart.

Logical names are short (``catalog``); physical names come from :class:`Naming`,
which adds the stack prefix (``flixstack-dev-catalog``) and, for globally unique
S3 bucket names, a suffix such as the account id.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Literal

KeyType = Literal["S", "N", "B"]
StreamView = Literal["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"]

PROJECT = "flixstack"
_NAME_PART = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")


@dataclass(frozen=True)
class Attr:
    """A key attribute of a table or index."""

    name: str
    type: KeyType = "S"


@dataclass(frozen=True)
class IndexSpec:
    """A global secondary index (projection ALL)."""

    name: str
    partition: Attr
    sort: Attr | None = None


@dataclass(frozen=True)
class TableSpec:
    logical: str
    purpose: str
    partition: Attr
    sort: Attr | None = None
    indexes: tuple[IndexSpec, ...] = ()
    ttl_attribute: str | None = None
    stream: StreamView | None = None

    def key_attributes(self) -> tuple[Attr, ...]:
        """Every attribute used as a key by the table or one of its indexes, once."""
        seen: dict[str, Attr] = {}
        for attr in (self.partition, self.sort):
            if attr is not None:
                seen.setdefault(attr.name, attr)
        for index in self.indexes:
            for attr in (index.partition, index.sort):
                if attr is not None:
                    seen.setdefault(attr.name, attr)
        return tuple(seen.values())

    def index(self, name: str) -> IndexSpec:
        for index in self.indexes:
            if index.name == name:
                return index
        raise KeyError(f"table {self.logical!r} has no index {name!r}")


@dataclass(frozen=True)
class BucketSpec:
    logical: str
    purpose: str
    kms: bool = False
    every_region: bool = False
    """Replicated from the home region into every other region of a stack, whose code
    reads its own region's copy (``Naming.bucket(spec, region)``) and writes the home's."""


@dataclass(frozen=True)
class QueueSpec:
    logical: str
    purpose: str
    visibility_timeout_s: int = 60
    retention_s: int = 4 * 24 * 3600
    dead_letter: QueueSpec | None = None
    max_receive_count: int = 3
    every_region: bool = False
    """Made in every region of a stack, where that region's code sends to its own copy
    (``AwsClients.sqs_for``); otherwise the home region's alone."""


@dataclass(frozen=True)
class StreamSpec:
    logical: str
    purpose: str
    shards: int = 1
    retention_hours: int = 24


@dataclass(frozen=True)
class KeySpec:
    """A symmetric KMS key, found by its alias."""

    logical: str
    purpose: str


@dataclass(frozen=True)
class SecretSpec:
    """A Secrets Manager secret (a JSON object)."""

    logical: str
    purpose: str


@dataclass(frozen=True)
class UserPoolSpec:
    logical: str
    purpose: str
    web_client: str
    """The browser app's client: authorization code + PKCE through the hosted UI."""
    cli_client: str
    """The command line's client (``flixstack login``): username and password."""
    groups: tuple[str, ...] = field(default=())

    @property
    def clients(self) -> tuple[str, ...]:
        return (self.web_client, self.cli_client)


# --- keys shared by every single-table item -------------------------------------------------
PK = Attr("pk")
SK = Attr("sk")
GSI1PK = Attr("gsi1pk")
GSI1SK = Attr("gsi1sk")
ENTITY_ATTR = "entity"
VERSION_ATTR = "version"

# --- tables ----------------------------------------------------------------------------------
GSI2PK = Attr("gsi2pk")
GSI2SK = Attr("gsi2sk")
CATALOG_BY_STATE = IndexSpec("by-state", GSI1PK, GSI1SK)
"""Titles in one lifecycle state, newest first (admin lists; snapshot rebuilds)."""
CATALOG_BY_GENRE = IndexSpec("by-genre", GSI2PK, GSI2SK)
"""Titles by their first genre, newest first (admin lists)."""
JOBS_BY_TITLE = IndexSpec("by-title", GSI1PK, GSI1SK)
"""A title's transcode jobs, newest first."""

CATALOG = TableSpec(
    logical="catalog",
    purpose="titles, seasons, episodes, localized metadata, licence windows, assets",
    partition=PK,
    sort=SK,
    indexes=(CATALOG_BY_STATE, CATALOG_BY_GENRE),
    stream="NEW_AND_OLD_IMAGES",
)
VIEWERS = TableSpec(
    logical="viewers",
    purpose="accounts, profiles, progress, history, My List, ratings (keyed by account)",
    partition=PK,
    sort=SK,
)
JOBS = TableSpec(
    logical="jobs",
    purpose="transcode jobs and Powertools idempotency records",
    partition=PK,
    sort=SK,
    indexes=(JOBS_BY_TITLE,),
    ttl_attribute="expires_at",
)
CONTENT_KEYS = TableSpec(
    logical="keys",
    purpose="per-asset content keys (AES-128), each wrapped by the media KMS key",
    partition=PK,
    sort=SK,
)
ANALYTICS = TableSpec(
    logical="analytics",
    purpose="player sessions (the event dedupe window), per-minute QoE aggregates, trending",
    partition=PK,
    sort=SK,
    ttl_attribute="expires_at",
)
TABLES: tuple[TableSpec, ...] = (CATALOG, VIEWERS, JOBS, CONTENT_KEYS, ANALYTICS)

# --- buckets ---------------------------------------------------------------------------------
INGEST = BucketSpec("ingest", "uploaded masters and subtitle sidecars")
MEDIA = BucketSpec("media", "packaged HLS/DASH renditions, thumbnails, posters", kms=True)
LOGS = BucketSpec("logs", "access logs")
ARTIFACTS = BucketSpec(
    "artifacts", "search index and recommendation model artifacts", every_region=True
)
LAKE = BucketSpec("lake", "the events data lake (Parquet) and Athena query results")
BUCKETS: tuple[BucketSpec, ...] = (INGEST, MEDIA, LOGS, ARTIFACTS, LAKE)
WEBAPP = BucketSpec("webapp", "the web app's static build, served by CloudFront on AWS")
"""Only AWS stacks have it (``flixstack up`` serves ``web/dist`` itself), so it is not in
``BUCKETS``, which the local bootstrap creates and ``/health`` lists."""

# Object key layout. Uploaded masters notify the transcode queue; sidecars must not.
MASTERS_PREFIX = "masters/"  # ingest: masters/<title_id>/<upload_id>/<filename>
SIDECARS_PREFIX = "sidecars/"  # ingest: sidecars/<title_id>/<upload_id>/<language>.<srt|vtt>
MEDIA_TITLES_PREFIX = (
    "titles/"  # media: titles/<title_id>/<asset_version>/{cmaf,cenc,hls,dash,subs,thumbs}/...
)

# Catalog snapshots (titles + search index) that API near-caches load, one folder a version.
CATALOG_ARTIFACTS_PREFIX = "catalog/"  # artifacts: catalog/v<version>/{titles.json.gz,search.bin}
RECOMMEND_ARTIFACTS_PREFIX = "recommend/"
"""artifacts: recommend/v<version>-<id>/model.npz, one folder per trained model version."""
ARCHIVE_TAG = ("flixstack-tier", "archive")
"""Media objects of archived titles carry this tag; a lifecycle rule moves them colder."""


@dataclass(frozen=True)
class CorsRule:
    """What pages of other origins may do with a bucket (each stack names the origins)."""

    methods: tuple[str, ...]
    headers: tuple[str, ...]
    expose: tuple[str, ...]
    max_age_s: int


BROWSER_UPLOADS = CorsRule(
    methods=("PUT",), headers=("Content-Type",), expose=("ETag",), max_age_s=3600
)
"""ingest: the admin web app PUTs parts (and sidecars) to presigned URLs and reads each
part's ETag, which completing the multipart upload needs."""

# --- the web app -----------------------------------------------------------------------------
WEBAPP_PATH = "/app/"
"""Where the web app lives: ``flixstack up`` serves it there, and so does its CloudFront
distribution on AWS (the Vite build's ``base``)."""
WEBAPP_PREFIX = WEBAPP_PATH.lstrip("/")
"""webapp: app/index.html, app/assets/<hashed name>, app/config.json."""
WEBAPP_CONFIG = "config.json"
"""The app's runtime settings, beside its index.html: where the API is and how to sign in."""


@dataclass(frozen=True)
class LifecycleRule:
    """One S3 lifecycle rule, as plain data: infra and the local bootstrap both apply it."""

    id: str
    prefix: str = ""
    tag: tuple[str, str] | None = None
    transitions: tuple[tuple[int, str], ...] = ()
    """(days after creation, storage class) pairs."""
    expiration_days: int | None = None
    abort_multipart_days: int | None = None
    noncurrent_expiration_days: int | None = None


def housekeeping(noncurrent_days: int) -> LifecycleRule:
    """The rule every bucket has: stale multipart uploads abort, replaced versions expire."""
    return LifecycleRule(
        "abort-incomplete-multipart",
        abort_multipart_days=1,
        noncurrent_expiration_days=noncurrent_days,
    )


def lifecycle(
    bucket: BucketSpec, *, masters_glacier_days: int, noncurrent_days: int, log_days: int
) -> tuple[LifecycleRule, ...]:
    """Every bucket aborts stale multipart uploads and expires old versions; media tiers
    itself and sends archived titles' objects cold; masters go cold; logs expire, and so
    do the lake's Athena query results and the records Firehose could not convert."""
    rules = [housekeeping(noncurrent_days)]
    if bucket is MEDIA:
        rules.append(
            LifecycleRule("media-intelligent-tiering", transitions=((0, "INTELLIGENT_TIERING"),))
        )
        rules.append(
            LifecycleRule(
                "archived-titles-to-glacier-ir",
                prefix=MEDIA_TITLES_PREFIX,
                tag=ARCHIVE_TAG,
                transitions=((1, "GLACIER_IR"),),
            )
        )
    elif bucket is INGEST:
        rules.append(
            LifecycleRule(
                "masters-to-glacier-ir",
                prefix=MASTERS_PREFIX,
                transitions=((masters_glacier_days, "GLACIER_IR"),),
            )
        )
    elif bucket is LOGS:
        rules.append(LifecycleRule("expire-logs", expiration_days=log_days))
    elif bucket is LAKE:
        rules.append(
            LifecycleRule(
                "expire-athena-results", prefix=ATHENA_RESULTS_PREFIX, expiration_days=log_days
            )
        )
        rules.append(
            LifecycleRule(
                "expire-delivery-errors", prefix=LAKE_ERRORS_PREFIX, expiration_days=log_days
            )
        )
    return tuple(rules)


# --- queues ----------------------------------------------------------------------------------
TRANSCODE_DLQ = QueueSpec(
    "transcode-dlq", "transcode messages that failed 3 times", retention_s=14 * 24 * 3600
)
TRANSCODE = QueueSpec(
    "transcode",
    "S3 ObjectCreated notifications for uploaded masters",
    visibility_timeout_s=120,
    dead_letter=TRANSCODE_DLQ,
    max_receive_count=3,
)
PREWARM_DLQ = QueueSpec(
    "prewarm-dlq", "prewarm messages that failed 3 times", retention_s=4 * 24 * 3600
)
PREWARM = QueueSpec(
    "prewarm",
    "assets of newly published titles whose first segments to fetch through every CDN",
    visibility_timeout_s=120,
    dead_letter=PREWARM_DLQ,
    max_receive_count=3,
)
EVENTS_DLQ = QueueSpec(
    "events-dlq",
    "poison event records, and the event consumer's batches that kept failing",
    retention_s=14 * 24 * 3600,
    every_region=True,  # with each region's events stream and consumer
)
QUEUES: tuple[QueueSpec, ...] = (TRANSCODE_DLQ, TRANSCODE, PREWARM_DLQ, PREWARM, EVENTS_DLQ)


@dataclass(frozen=True)
class NotificationSpec:
    """S3 ObjectCreated events under ``prefix`` of ``bucket`` go to ``queue``."""

    logical: str
    bucket: BucketSpec
    queue: QueueSpec
    prefix: str


MASTER_UPLOADED = NotificationSpec("master-uploaded", INGEST, TRANSCODE, MASTERS_PREFIX)
NOTIFICATIONS: tuple[NotificationSpec, ...] = (MASTER_UPLOADED,)

# --- streams ---------------------------------------------------------------------------------
EVENTS = StreamSpec("events", "player and QoE events, partitioned by session id")
STREAMS: tuple[StreamSpec, ...] = (EVENTS,)
EVENTS_BATCH_RECORDS = 5000
"""Records per consumer batch at most: the Lambda event source's batch size, and the local
poller's. The consumer reads and writes each session once per batch, so under load fuller
batches cost less per event (measured in-process: 1,000 -> 5,000 records, about 22k ->
33k events/s a process); 5,000 records of ~0.5 KB (base64) stay well inside Lambda's 6 MB
invocation payload. A quiet stream gives smaller batches (the 1 s batching window)."""
EVENTS_MAX_RETRIES = 3
"""Retries of a failing batch before its range goes to the on-failure destination."""

# --- the events data lake --------------------------------------------------------------------
LAKE_EVENTS_PREFIX = "events/"
"""lake: events/dt=<YYYY-MM-DD>/hour=<HH>/<file>.parquet (Firehose on AWS; the local
consumer writes the same layout)."""
LAKE_ERRORS_PREFIX = "errors/"
"""lake: records Firehose could not convert to Parquet."""
ATHENA_RESULTS_PREFIX = "athena-results/"
LAKE_DATABASE = "events"
"""The Glue database (physical name ``<prefix>_events``: Glue/Athena names take no dashes)."""
LAKE_TABLE = "player_events"
ATHENA_WORKGROUP = "analytics"


def lake_partition(dt: str, hour: int) -> str:
    """The folder of one hour of events: ``events/dt=2026-12-05/hour=07/``."""
    return f"{LAKE_EVENTS_PREFIX}dt={dt}/hour={hour:02d}/"


# --- keys and secrets ----------------------------------------------------------------------
MEDIA_KEY = KeySpec("media", "media at rest and the content keys that encrypt HLS segments")
KEYS: tuple[KeySpec, ...] = (MEDIA_KEY,)
"""The keys the runtime calls (found by alias)."""
DATA_KEY = KeySpec("data", "the tables at rest, one key in each region of a stack")
"""On AWS only, and not in ``KEYS``: DynamoDB uses it on the callers' behalf, the runtime
never calls it."""
CDN_SIGNING = SecretSpec(
    "cdn-signing",
    'CloudFront signed-cookie key: {"key_pair_id": <public key id>, "private_key": <PEM>}',
)
SECRETS: tuple[SecretSpec, ...] = (CDN_SIGNING,)

# --- identity --------------------------------------------------------------------------------
ADMIN_GROUP = "admin"
USER_POOL = UserPoolSpec(
    "viewers",
    "viewer and admin sign-in",
    web_client="web",
    cli_client="cli",
    groups=(ADMIN_GROUP,),
)
USER_POOLS: tuple[UserPoolSpec, ...] = (USER_POOL,)


REGIONAL_SERVICES = frozenset({"dynamodb", "kms", "secretsmanager", "kinesis"})
"""Services whose resources every region of a stack has: the tables' global-table replicas,
the media key's multi-region replicas, the signing secret's replicas and an events stream
per region (with its consumer). Code talks to these in the region it runs in, so a region
keeps serving viewers, and recording what they watch, while another is down; every other
service (queues but those ``QueueSpec.every_region``, the user pool, S3 but for reads of
``BucketSpec.every_region`` buckets, ECS, Athena) is the home region's alone."""


def resource_count() -> int:
    """How many resources a deployment of the spec has (what /health lists)."""
    groups = (TABLES, BUCKETS, QUEUES, NOTIFICATIONS, STREAMS, KEYS, SECRETS, USER_POOLS)
    return sum(len(group) for group in groups)


@dataclass(frozen=True)
class Naming:
    """Turns logical names into the physical names of one deployment (a stack, or the laptop).

    >>> Naming("dev").table(CATALOG)
    'flixstack-dev-catalog'
    >>> Naming("dev", bucket_suffix="123456789012").bucket(MEDIA)
    'flixstack-dev-media-123456789012'
    """

    stage: str
    bucket_suffix: str = ""

    def __post_init__(self) -> None:
        if not _NAME_PART.match(self.stage):
            raise ValueError(f"stage {self.stage!r} must be lower-case letters, digits and dashes")
        if self.bucket_suffix and not _NAME_PART.match(self.bucket_suffix):
            raise ValueError(
                f"bucket suffix {self.bucket_suffix!r} must be lower-case letters, digits and dashes"
            )

    @property
    def prefix(self) -> str:
        return f"{PROJECT}-{self.stage}"

    def table(self, spec: TableSpec) -> str:
        return f"{self.prefix}-{spec.logical}"

    def bucket(self, spec: BucketSpec, replica_region: str | None = None) -> str:
        """The bucket's name; with ``replica_region``, its replica's there, which carries
        the region after the logical name.

        >>> Naming("prod", "123456789012").bucket(ARTIFACTS, "us-west-2")
        'flixstack-prod-artifacts-us-west-2-123456789012'
        """
        logical = f"{spec.logical}-{replica_region}" if replica_region else spec.logical
        name = f"{self.prefix}-{logical}"
        name = f"{name}-{self.bucket_suffix}" if self.bucket_suffix else name
        if len(name) > 63:
            raise ValueError(f"bucket name {name!r} is longer than S3's 63 characters")
        return name

    def queue(self, spec: QueueSpec) -> str:
        return f"{self.prefix}-{spec.logical}"

    def stream(self, spec: StreamSpec) -> str:
        return f"{self.prefix}-{spec.logical}"

    def user_pool(self, spec: UserPoolSpec) -> str:
        return f"{self.prefix}-{spec.logical}"

    def key_alias(self, spec: KeySpec) -> str:
        return f"alias/{self.prefix}-{spec.logical}"

    def secret(self, spec: SecretSpec) -> str:
        return f"{self.prefix}/{spec.logical}"

    def glue(self, logical: str) -> str:
        """Glue and Athena names: underscores, as their SQL wants."""
        return f"{self.prefix}-{logical}".replace("-", "_")

    def workgroup(self, logical: str) -> str:
        return f"{self.prefix}-{logical}"


# --- item keys (single-table design) ------------------------------------------------------
# Every item carries ENTITY_ATTR and VERSION_ATTR. Key shapes live here, next to the tables.
TITLE_ENTITY = "title"
TITLE_SK = "TITLE"


def title_pk(title_id: str) -> str:
    return f"TITLE#{title_id}"


def genre_partition(genre: str) -> str:
    """Partition of the catalog ``by-genre`` index."""
    return f"GENRE#{genre}"


AUDIT_ENTITY = "audit"


def audit_sk(at: str, version: int) -> str:
    """Audit entries sort under their title by time (and the version they produced)."""
    return f"AUDIT#{at}#{version:09d}"


CATALOG_POINTER_KEY = {PK.name: "CATALOG", SK.name: "CURRENT"}
"""The catalog item holding the current snapshot version."""


def title_jobs_partition(title_id: str) -> str:
    """Partition of the jobs ``by-title`` index."""
    return f"TITLE#{title_id}"


def state_partition(state: str) -> str:
    """Partition of the catalog ``by-state`` index: all titles in one lifecycle state."""
    return f"STATE#{state}"


JOB_ENTITY = "job"
JOB_SK = "JOB"


def job_pk(job_id: str) -> str:
    return f"JOB#{job_id}"


UPLOAD_ENTITY = "upload"
UPLOAD_SK = "UPLOAD"


def upload_pk(upload_id: str) -> str:
    return f"UPLOAD#{upload_id}"


def master_key(title_id: str, upload_id: str, filename: str) -> str:
    return f"{MASTERS_PREFIX}{title_id}/{upload_id}/{filename}"


def sidecar_prefix(title_id: str, upload_id: str) -> str:
    return f"{SIDECARS_PREFIX}{title_id}/{upload_id}/"


def asset_prefix(title_id: str, asset_version: str) -> str:
    """Where one packaged version of a title's media lives in the media bucket."""
    return f"{MEDIA_TITLES_PREFIX}{title_id}/{asset_version}/"


# --- viewers table: an account's items all live in its partition -------------------------
# A profile occupies one of the account's numbered slots (``PROFILE#<n>``), so the profile
# limit is the key space itself; what a profile owns sorts under ``P#<profile id>#``.
PROFILE_ENTITY = "profile"
PROGRESS_ENTITY = "progress"
HISTORY_ENTITY = "history"
MY_LIST_ENTITY = "my-list"
RATING_ENTITY = "rating"
PROFILE_SK_PREFIX = "PROFILE#"


def account_pk(account_id: str) -> str:
    """The partition of everything one account (a Cognito user, by ``sub``) owns."""
    return f"ACCOUNT#{account_id}"


def profile_sk(slot: int) -> str:
    return f"{PROFILE_SK_PREFIX}{slot}"


def profile_items_prefix(profile_id: str) -> str:
    """Every item a profile owns (progress, history, My List, ratings) starts with this."""
    return f"P#{profile_id}#"


def progress_prefix(profile_id: str) -> str:
    return f"{profile_items_prefix(profile_id)}PROGRESS#"


def progress_sk(profile_id: str, title_id: str) -> str:
    """One item per profile and title (for a series it tracks the latest episode)."""
    return f"{progress_prefix(profile_id)}{title_id}"


def history_prefix(profile_id: str) -> str:
    return f"{profile_items_prefix(profile_id)}HISTORY#"


def history_sk(profile_id: str, started_at: str, title_id: str, episode_id: str | None) -> str:
    """One item per viewing session, sorted by when it started (fixed-width UTC text)."""
    return f"{history_prefix(profile_id)}{started_at}#{title_id}#{episode_id or ''}"


def my_list_prefix(profile_id: str) -> str:
    return f"{profile_items_prefix(profile_id)}LIST#"


def my_list_sk(profile_id: str, title_id: str) -> str:
    return f"{my_list_prefix(profile_id)}{title_id}"


def rating_prefix(profile_id: str) -> str:
    return f"{profile_items_prefix(profile_id)}RATING#"


def rating_sk(profile_id: str, title_id: str) -> str:
    return f"{rating_prefix(profile_id)}{title_id}"


PICKS_ENTITY = "picks"


def picks_sk(profile_id: str) -> str:
    """A profile's recommendation candidates from the latest training (one item)."""
    return f"{profile_items_prefix(profile_id)}PICKS"


ACCOUNT_ENTITY = "account"
ACCOUNT_SK = "ACCOUNT"
"""An account's own item (its status); absent means an active account with defaults."""

# --- keys table ------------------------------------------------------------------------------
CONTENT_KEY_ENTITY = "content-key"
CONTENT_KEY_SK = "KEY"


def content_key_pk(asset_version: str) -> str:
    """One content key per packaged asset version (the transcode job id)."""
    return f"ASSET#{asset_version}"


def asset_folder(key: str) -> tuple[str, str]:
    """(title folder, version folder) of a media key ``titles/<folder>/<version>/...``;
    ValueError for a key outside that layout."""
    parts = key.split("/")
    if len(parts) < 4 or parts[0] + "/" != MEDIA_TITLES_PREFIX or not all(parts[1:3]):
        raise ValueError(f"{key!r} is not under {MEDIA_TITLES_PREFIX}<title>/<version>/")
    return parts[1], parts[2]


def content_key_path(asset_version: str) -> str:
    """The API path of an asset's key: HLS playlists name it as their ``EXT-X-KEY`` URI."""
    return f"/keys/{asset_version}"


CONTENT_KEY_ID_NAMESPACE = uuid.UUID("48df1112-9b70-4ca9-91af-c4b3226c3563")


def content_key_id(asset_version: str) -> bytes:
    """The public id (KID) of an asset's content key: CENC's ``default_KID`` in its DASH
    segments and MPD, and the ``kid`` a ClearKey licence request names."""
    return uuid.uuid5(CONTENT_KEY_ID_NAMESPACE, asset_version).bytes


def clearkey_licence_path(asset_version: str) -> str:
    """The API path that answers W3C ClearKey licence requests for an asset's DASH media."""
    return f"/licences/clearkey/{asset_version}"


# --- analytics table -------------------------------------------------------------------------
SESSION_ENTITY = "session"
SESSION_SK = "SESSION"
QOE_ENTITY = "qoe"
TREND_ENTITY = "trend"


def session_pk(session_id: str) -> str:
    """A playback session's state: the event ids it saw (the dedupe window) and its totals."""
    return f"SESSION#{session_id}"


def qoe_pk(hour: str) -> str:
    """One hour of per-minute QoE aggregates (``hour`` is ``YYYY-MM-DDTHH``): a dashboard
    reads an hour with one query."""
    return f"QOE#{hour}"


def qoe_sk(minute: str, title_id: str, cdn: str, territory: str, device: str, region: str) -> str:
    """One minute (``YYYY-MM-DDTHH:MM``) of one title on one CDN, territory and device, as
    the events consumer of one region counted it (``counter_sk`` says why)."""
    return counter_sk(f"{minute}#{title_id}#{cdn}#{territory}#{device}", region)


def trend_pk(territory: str, epoch: int) -> str:
    """A territory's time-decayed play counts in one decay epoch (see events.trending); one
    item per title and counting region (``trend_sk``)."""
    return f"TREND#{territory}#{epoch}"


def trend_sk(title_id: str, region: str) -> str:
    return counter_sk(title_id, region)


def counter_sk(counted: str, region: str) -> str:
    """A counter item's sort key: what it counts, then the region whose consumer adds to
    it. Every region's consumer adds to counters of its own: a global table resolves two
    regions' writes to one item by keeping the last, which would drop the other's adds.
    Readers sum a counter's items over the regions."""
    return f"{counted}#{region}"


RECOMMEND_POINTER_KEY = {PK.name: "RECOMMEND", SK.name: "CURRENT"}
"""The analytics item naming the current recommendation model (its version and folder)."""
RECOMMEND_SCHEDULE = "rate(6 hours)"
"""How often the recommender trains on AWS (an EventBridge Scheduler expression)."""
RECOMMEND_SCHEDULE_DLQ = QueueSpec(
    "recommend-dlq",
    "training runs EventBridge Scheduler could not start (RunTask failed after retries)",
    retention_s=14 * 24 * 3600,
)
"""The training schedule's dead-letter queue. No runtime code reads it (an operator does,
after its alarm), so it is not in ``QUEUES``, which the local bootstrap creates."""

# --- metrics (CloudWatch, written as Powertools EMF) -----------------------------------------
METRICS_NAMESPACE = "flixstack"
EVENTS_SERVICE = "events"
"""The event consumer's Powertools service name (a metric dimension, ``service``)."""
CDN_DIMENSION = "cdn"
"""The per-CDN QoE metrics' second dimension."""
METRIC_EVENTS = "EventsProcessed"
METRIC_DUPLICATES = "EventsDuplicate"
METRIC_POISON = "EventsPoison"
METRIC_LAG = "EventLag"
"""ms from the API accepting an event to the consumer applying it."""
METRIC_PLAYS = "Plays"
"""first_frame events: playback that started (per CDN)."""
METRIC_STARTUP = "StartupTime"
"""ms, one value per first_frame (per CDN): p50/p95 are CloudWatch percentiles of it."""
METRIC_WATCH = "WatchTime"
"""ms of playback (per CDN); with ``METRIC_STALL`` it makes the rebuffer ratio."""
METRIC_STALL = "StallTime"
"""ms of rebuffering (per CDN)."""
METRIC_FATAL = "FatalErrors"
"""fatal player errors (per CDN)."""

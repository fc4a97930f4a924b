"""Usage from viewers and their hours, and what it costs a month, line by line.

Every figure the estimate rests on beyond the stack's config is a field of :class:`Usage`,
with its reason; the command prints them, and each can be changed from the command line."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from flixstack.cost.prices import EdgeRegion, Prices
from flixstack.cost.stack import TRANSCODE_VCPUS, StackShape

ANCHOR_PER_STREAM_HOUR = 0.01
"""The design's anchor: about a cent per stream-hour."""
GB_PER_MBPS_HOUR = 3600 / 8 / 1000
"""Gigabytes (10^9 bytes) that one megabit per second moves in an hour: 0.45."""
HOURS_PER_MONTH = 730.0
TB = 1000.0  # GB per TB, as AWS bills transfer tiers


def default_geography() -> dict[EdgeRegion, float]:
    return {
        "north_america": 0.45, "europe": 0.30, "south_america": 0.07, "asia": 0.07,
        "japan": 0.04, "india": 0.03, "australia": 0.02, "africa_middle_east": 0.02,
    }  # fmt: skip


@dataclass(frozen=True)
class Usage:
    viewers: int
    hours_per_day: float
    days: float = 30.0
    avg_bitrate_mbps: float = 3.0
    """Delivered bit rate across the ABR mix (phones low, TVs high)."""
    session_hours: float = 1.0
    segment_s: float = 4.0
    """The packager's segment length: media requests are one per segment and track."""
    api_calls_per_session: float = 25.0
    """Sign-in, profiles, home, search, a title page, the grant, the key, My List."""
    event_posts_per_hour: float = 360.0
    """The player's event batches: a heartbeat every 10 s, flushed every 5 s when any."""
    events_per_hour: float = 400.0
    event_bytes: int = 600
    progress_writes_per_hour: float = 360.0
    """The consumer updates a profile's progress once per heartbeat."""
    viewer_data_kb: float = 100.0
    """Profiles, progress, history, My List and picks per viewer in DynamoDB."""
    catalog_hours: float = 2000.0
    new_content_hours: float = 50.0
    """Hours uploaded and transcoded a month."""
    ladder_mbps: float = 12.0
    """The bit rates of every rendition of a title summed (what one packaged copy holds)."""
    packaged_copies: int = 2
    """HLS (AES-128 CMAF) and DASH (CENC): two sets of segments per title."""
    renditions: int = 6
    master_mbps: float = 20.0
    transcode_vcpu_hours_per_content_hour: float = 3.85
    """Measured: bench/transcode.py encodes 0.519 source seconds a second on 2 vCPUs (720p
    sources, the per-title ladder), so 2 / 0.519 = 3.85 vCPU-hours per content hour."""
    lambda_ms: float = 30.0
    """API handler time per request (bench/api.py measures single-digit ms in process)."""
    peak_to_average: float = 3.0
    """Evening peak over the day's average: the event stream's shards are sized for it."""
    frequent_share: float = 0.3
    """Of the media, what viewers touched in the last 30 days (Intelligent-Tiering's
    frequent tier); of the rest, a third infrequent, two thirds archive instant access."""
    geography: dict[EdgeRegion, float] = field(default_factory=default_geography)

    @property
    def stream_hours(self) -> float:
        return self.viewers * self.hours_per_day * self.days

    @property
    def sessions(self) -> float:
        return self.stream_hours / self.session_hours


@dataclass(frozen=True)
class Line:
    service: str
    item: str
    quantity: float
    unit: str
    dollars: float


@dataclass(frozen=True)
class Estimate:
    stack: StackShape
    usage: Usage
    lines: tuple[Line, ...]

    @property
    def total(self) -> float:
        return sum(line.dollars for line in self.lines)

    @property
    def per_stream_hour(self) -> float:
        return self.total / self.usage.stream_hours if self.usage.stream_hours else 0.0

    @property
    def anchor_ratio(self) -> float:
        return self.per_stream_hour / ANCHOR_PER_STREAM_HOUR

    def by_service(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for line in self.lines:
            totals[line.service] = totals.get(line.service, 0.0) + line.dollars
        return dict(sorted(totals.items(), key=lambda item: -item[1]))


def tiered(quantity: float, tier_sizes: Sequence[float], prices: Sequence[float]) -> float:
    """The cost of ``quantity`` billed by volume tiers: the first ``tier_sizes[0]`` units at
    ``prices[0]``, the next ``tier_sizes[1]`` at ``prices[1]``..., the rest at the last price."""
    cost, left = 0.0, quantity
    for size, price in zip(tier_sizes, prices, strict=False):
        step = min(left, size)
        cost += step * price
        left -= step
        if left <= 0:
            return cost
    return cost + left * prices[len(tier_sizes)]


def _cdn(usage: Usage, stack: StackShape, prices: Prices) -> list[Line]:
    cf = prices.cloudfront
    if stack.price_class not in cf.price_classes:
        raise ValueError(f"unknown CloudFront price class {stack.price_class!r}")
    served = cf.price_classes[stack.price_class]
    egress_gb = usage.stream_hours * usage.avg_bitrate_mbps * GB_PER_MBPS_HOUR
    # a viewer outside the class's regions is served by an included edge (the first listed)
    by_edge: dict[EdgeRegion, float] = {}
    for region, share in usage.geography.items():
        edge = region if region in served else served[0]
        by_edge[edge] = by_edge.get(edge, 0.0) + share * egress_gb
    tiers_gb = [size * TB for size in cf.tier_tb]
    lines = [
        Line("CloudFront", f"egress {edge.replace('_', ' ')}", gb, "GB",
             tiered(gb, tiers_gb, cf.egress_per_gb[edge]))
        for edge, gb in sorted(by_edge.items(), key=lambda item: -item[1])
    ]  # fmt: skip
    requests = usage.stream_hours * 3600 / usage.segment_s * 2  # a video and an audio track
    lines.append(
        Line("CloudFront", "HTTPS requests", requests, "requests",
             requests / 10_000 * cf.https_requests_per_10k)
    )  # fmt: skip
    return lines


def _storage(usage: Usage, stack: StackShape, prices: Prices) -> list[Line]:
    s3 = prices.s3
    copies = len(stack.regions)  # the media bucket and its replicas
    media_gb = usage.catalog_hours * usage.ladder_mbps * GB_PER_MBPS_HOUR * usage.packaged_copies
    rest = 1 - usage.frequent_share
    tiers = (
        ("frequent", usage.frequent_share, s3.intelligent_frequent_gb_month),
        ("infrequent", rest / 3, s3.intelligent_infrequent_gb_month),
        ("archive instant", rest * 2 / 3, s3.intelligent_archive_instant_gb_month),
    )
    lines = [
        Line("S3", f"media, Intelligent-Tiering {name} (x{copies} regions)",
             media_gb * share * copies, "GB-month", media_gb * share * copies * price)
        for name, share, price in tiers
    ]  # fmt: skip
    objects = (
        usage.catalog_hours * 3600 / usage.segment_s * usage.renditions * usage.packaged_copies
    )
    lines.append(
        Line("S3", "Intelligent-Tiering monitoring", objects * copies, "objects",
             objects * copies / 1000 * s3.intelligent_monitoring_per_1k_objects)
    )  # fmt: skip
    masters_gb = usage.catalog_hours * usage.master_mbps * GB_PER_MBPS_HOUR
    lines.append(Line("S3", "masters, Glacier Instant Retrieval", masters_gb, "GB-month",
                      masters_gb * s3.glacier_ir_gb_month))  # fmt: skip
    new_gb = usage.new_content_hours * usage.ladder_mbps * GB_PER_MBPS_HOUR * usage.packaged_copies
    if copies > 1:
        moved = new_gb * (copies - 1)
        lines.append(Line("S3", "cross-region replication transfer", moved, "GB",
                          moved * s3.inter_region_transfer_gb))  # fmt: skip
    return lines


def _api(usage: Usage, stack: StackShape, prices: Prices) -> list[Line]:
    requests = (
        usage.sessions * usage.api_calls_per_session
        + usage.stream_hours * usage.event_posts_per_hour
    )
    per_gb_s = (
        prices.lambda_.arm64_gb_second
        if stack.lambda_architecture == "arm64"
        else prices.lambda_.x86_64_gb_second
    )
    gb_seconds = requests * usage.lambda_ms / 1000 * stack.api_memory_mb / 1024
    return [
        Line("API Gateway", "HTTP API requests", requests, "requests",
             requests / 1e6 * prices.api_gateway.http_requests_per_million),
        Line("Lambda", "API invocations", requests, "requests",
             requests / 1e6 * prices.lambda_.requests_per_million),
        Line("Lambda", f"API duration ({stack.lambda_architecture})", gb_seconds, "GB-s",
             gb_seconds * per_gb_s),
    ]  # fmt: skip


def _dynamodb(usage: Usage, stack: StackShape, prices: Prices) -> list[Line]:
    ddb = prices.dynamodb
    reads = usage.sessions * usage.api_calls_per_session
    writes = usage.stream_hours * usage.progress_writes_per_hour
    replicas = len(stack.regions) - 1
    stored_gb = usage.viewers * usage.viewer_data_kb / 1e6 * len(stack.regions)
    lines = [
        Line("DynamoDB", "read request units", reads, "RRU", reads / 1e6 * ddb.read_request_per_million),
        Line("DynamoDB", "write request units", writes, "WRU", writes / 1e6 * ddb.write_request_per_million),
        Line("DynamoDB", "storage and point-in-time recovery", stored_gb, "GB-month",
             stored_gb * (ddb.storage_gb_month + ddb.pitr_gb_month)),
    ]  # fmt: skip
    if replicas:
        replicated = writes * replicas
        lines.append(Line("DynamoDB", f"global tables: replicated writes (x{replicas})", replicated,
                          "rWRU", replicated / 1e6 * ddb.replicated_write_per_million))  # fmt: skip
    return lines


def _events(usage: Usage, stack: StackShape, prices: Prices) -> list[Line]:
    records = usage.stream_hours * usage.events_per_hour
    hours = usage.days * 24
    peak_per_s = records / (hours * 3600) * usage.peak_to_average
    peak_mb_s = peak_per_s * usage.event_bytes / 1e6
    # per-shard write limits; each region's API writes its own region's stream
    regions = len(stack.regions)
    shards = max(regions, math.ceil(peak_per_s / 1000), math.ceil(peak_mb_s))
    payload_units = records * math.ceil(usage.event_bytes / 25_000)
    return [
        Line("Kinesis", f"shard-hours ({shards} shards for the peak, in {regions} regions)",
             shards * hours, "shard-hours",
             shards * hours * prices.kinesis.shard_hour),
        Line("Kinesis", "PUT payload units", payload_units, "units",
             payload_units / 1e6 * prices.kinesis.put_payload_units_per_million),
    ]  # fmt: skip


def _transcoding(usage: Usage, stack: StackShape, prices: Prices) -> list[Line]:
    fg = prices.fargate
    task_hours = (
        usage.new_content_hours * usage.transcode_vcpu_hours_per_content_hour / TRANSCODE_VCPUS
    )
    per_task_hour = TRANSCODE_VCPUS * fg.vcpu_hour + stack.transcode_memory_mb / 1024 * fg.gb_hour
    discount = fg.spot_discount if stack.transcode_spot else 0.0
    kind = "Spot" if stack.transcode_spot else "on demand"
    return [
        Line("Fargate", f"transcode tasks ({TRANSCODE_VCPUS} vCPU, {stack.transcode_memory_mb // 1024} GB, {kind})",
             task_hours, "task-hours", task_hours * per_task_hour * (1 - discount))
    ]  # fmt: skip


def _dns(usage: Usage, stack: StackShape, prices: Prices) -> list[Line]:
    if not stack.multi_region:
        return []
    r53 = prices.route53
    queries = usage.sessions * 2  # the API's name, resolved again after its 60 s TTL
    checks = len(stack.regions)
    return [
        Line("Route 53", "hosted zone", 1, "zone", r53.hosted_zone_month),
        Line("Route 53", f"HTTPS health checks (one per region, {checks})", checks, "checks",
             checks * r53.https_health_check_month),
        Line("Route 53", "latency-based queries", queries, "queries",
             queries / 1e6 * r53.latency_queries_per_million),
    ]  # fmt: skip


def estimate(stack: StackShape, usage: Usage, prices: Prices) -> Estimate:
    if usage.viewers < 0 or usage.hours_per_day < 0 or usage.hours_per_day > 24:
        raise ValueError("viewers must be >= 0 and hours per day between 0 and 24")
    if abs(sum(usage.geography.values()) - 1) > 1e-6:
        raise ValueError("the viewers' geography shares must add up to 1")
    lines = [
        *_cdn(usage, stack, prices),
        *_storage(usage, stack, prices),
        *_api(usage, stack, prices),
        *_dynamodb(usage, stack, prices),
        *_events(usage, stack, prices),
        *_transcoding(usage, stack, prices),
        *_dns(usage, stack, prices),
    ]
    return Estimate(stack, usage, tuple(lines))

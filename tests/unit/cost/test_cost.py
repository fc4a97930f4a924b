"""The cost model: volume tiers, price classes, what a second region adds, the stack files
and the command's table, JSON and plot."""

from __future__ import annotations

import json
from dataclasses import fields, replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flixstack.cost import prices
from flixstack.cost.model import GB_PER_MBPS_HOUR, Estimate, Usage, estimate, tiered
from flixstack.cost.stack import DEFAULTS, TRANSCODE_VCPUS, StackShape, UnknownStack, read_stack
from flixstack.local.cli import app
from infra.components.transcoding import CPU_UNITS
from infra.config import StackConfig

PRICES = prices.load()


def shape(**changes: object) -> StackShape:
    base = StackShape(
        name="test", regions=("us-east-1",), price_class="PriceClass_100",
        lambda_architecture="arm64", api_memory_mb=1024, transcode_memory_mb=8192,
        transcode_spot=False, log_retention_days=30,
    )  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


def lines_of(result: Estimate, service: str) -> dict[str, float]:
    return {line.item: line.dollars for line in result.lines if line.service == service}


def test_every_price_section_says_where_it_comes_from_and_when() -> None:
    for name, dated in PRICES.sources().items():
        assert dated.source.startswith("https://aws.amazon.com/"), name
        assert dated.as_of[:4].isdigit(), name


def test_tiers_bill_each_step_at_its_own_price() -> None:
    sizes, rates = [10.0, 40.0], [0.3, 0.2, 0.1]
    assert tiered(5, sizes, rates) == pytest.approx(1.5)
    assert tiered(15, sizes, rates) == pytest.approx(10 * 0.3 + 5 * 0.2)
    assert tiered(60, sizes, rates) == pytest.approx(10 * 0.3 + 40 * 0.2 + 10 * 0.1)
    # CloudFront North America: 15 TB is 10 TB at $0.085 and 5 TB at $0.080
    cf = PRICES.cloudfront
    gb = [t * 1000 for t in cf.tier_tb]
    assert tiered(15_000, gb, cf.egress_per_gb["north_america"]) == pytest.approx(1250.0)


def test_egress_is_the_viewers_hours_at_the_bit_rate_and_each_gb_is_billed_once() -> None:
    usage = Usage(viewers=10_000, hours_per_day=2)
    result = estimate(shape(price_class="PriceClass_All"), usage, PRICES)
    egress = [x for x in result.lines if x.item.startswith("egress")]
    expected_gb = 10_000 * 2 * 30 * usage.avg_bitrate_mbps * GB_PER_MBPS_HOUR
    assert sum(x.quantity for x in egress) == pytest.approx(expected_gb)
    assert len(egress) == len(usage.geography)  # every region has edges in PriceClass_All


def test_a_cheaper_price_class_serves_everyone_from_its_own_edges_for_less() -> None:
    usage = Usage(viewers=10_000, hours_per_day=2)
    everywhere = estimate(shape(price_class="PriceClass_All"), usage, PRICES)
    cheap = estimate(shape(price_class="PriceClass_100"), usage, PRICES)
    assert set(lines_of(cheap, "CloudFront")) == {
        "egress north america", "egress europe", "HTTPS requests"
    }  # fmt: skip
    assert sum(lines_of(cheap, "CloudFront").values()) < sum(
        lines_of(everywhere, "CloudFront").values()
    )


def test_a_stream_hour_costs_less_as_the_audience_grows_into_cheaper_tiers() -> None:
    small = estimate(shape(), Usage(viewers=1_000, hours_per_day=2), PRICES)
    large = estimate(shape(), Usage(viewers=1_000_000, hours_per_day=2), PRICES)
    assert large.per_stream_hour < small.per_stream_hour
    assert large.total > small.total


def test_a_second_region_adds_replicas_replication_and_failover_dns() -> None:
    usage = Usage(viewers=10_000, hours_per_day=2)
    one = estimate(shape(), usage, PRICES)
    two = estimate(shape(regions=("us-east-1", "us-west-2")), usage, PRICES)
    assert not lines_of(one, "Route 53")
    assert "HTTPS health checks (one per region, 2)" in lines_of(two, "Route 53")
    assert "global tables: replicated writes (x1)" in lines_of(two, "DynamoDB")
    assert "cross-region replication transfer" in lines_of(two, "S3")
    media = [x for x in one.lines if x.item.startswith("media")]
    media_two = [x for x in two.lines if x.item.startswith("media")]
    assert sum(x.quantity for x in media_two) == pytest.approx(2 * sum(x.quantity for x in media))


def test_transcoding_scales_with_new_content_and_spot_takes_its_discount() -> None:
    usage = Usage(viewers=0, hours_per_day=0, new_content_hours=100)
    demand = lines_of(estimate(shape(), usage, PRICES), "Fargate")
    spot = lines_of(estimate(shape(transcode_spot=True), usage, PRICES), "Fargate")
    [(_item, dollars)] = demand.items()
    hours = 100 * usage.transcode_vcpu_hours_per_content_hour / TRANSCODE_VCPUS
    per_hour = TRANSCODE_VCPUS * PRICES.fargate.vcpu_hour + 8 * PRICES.fargate.gb_hour
    assert dollars == pytest.approx(hours * per_hour)
    assert sum(spot.values()) == pytest.approx(dollars * (1 - PRICES.fargate.spot_discount))


def test_the_event_stream_gets_shards_for_its_evening_peak() -> None:
    quiet = lines_of(estimate(shape(), Usage(viewers=100, hours_per_day=1), PRICES), "Kinesis")
    busy = lines_of(estimate(shape(), Usage(viewers=2_000_000, hours_per_day=3), PRICES), "Kinesis")
    assert "shard-hours (1 shards for the peak, in 1 regions)" in quiet
    [busy_shards] = [k for k in busy if k.startswith("shard-hours")]
    assert int(busy_shards.split("(")[1].split()[0]) > 1
    # every region has a stream of its own, however quiet
    two = lines_of(
        estimate(
            shape(regions=("us-east-1", "us-west-2")), Usage(viewers=100, hours_per_day=1), PRICES
        ),
        "Kinesis",
    )
    assert "shard-hours (2 shards for the peak, in 2 regions)" in two


def test_bad_usage_is_refused() -> None:
    with pytest.raises(ValueError, match="hours per day"):
        estimate(shape(), Usage(viewers=1, hours_per_day=25), PRICES)
    with pytest.raises(ValueError, match="add up to 1"):
        estimate(shape(), Usage(viewers=1, hours_per_day=1, geography={"europe": 0.5}), PRICES)


def test_stack_files_give_the_shape_and_leave_the_rest_to_the_programs_defaults() -> None:
    defaults = {f.name: f.default for f in fields(StackConfig)}
    assert {
        "cdnPriceClass": defaults["cdn_price_class"],
        "lambdaArchitecture": defaults["lambda_architecture"],
        "apiMemoryMb": defaults["api_memory_mb"],
        "transcodeMemoryMb": defaults["transcode_memory_mb"],
        "transcodeSpot": defaults["transcode_spot"],
        "logRetentionDays": defaults["log_retention_days"],
    } == DEFAULTS
    assert TRANSCODE_VCPUS == CPU_UNITS // 1024
    prod, dev = read_stack("prod"), read_stack("dev")
    assert prod.multi_region
    assert len(prod.regions) >= 2
    assert not dev.multi_region
    assert prod.price_class == "PriceClass_All"


def test_a_stack_file_that_does_not_exist_is_named_with_the_ones_that_do(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  aws:region: eu-west-1\n")
    with pytest.raises(UnknownStack, match="stacks: dev"):
        read_stack("staging", tmp_path)
    assert read_stack("dev", tmp_path).regions == ("eu-west-1",)


def test_the_command_prints_the_breakdown_and_writes_the_plot(tmp_path: Path) -> None:
    plot = tmp_path / "cost.png"
    runner = CliRunner()
    answer = runner.invoke(
        app,
        ["cost", "--stack", "prod", "--viewers", "50000", "--hours-per-day", "1.5",
         "--plot", str(plot), "--json"],
    )  # fmt: skip
    assert answer.exit_code == 0, answer.output
    report = json.loads(answer.stdout)
    assert report["total_per_month"] == pytest.approx(sum(x["dollars"] for x in report["lines"]))
    assert {"CloudFront", "S3", "DynamoDB", "Lambda", "Fargate", "Kinesis"} <= set(
        report["by_service"]
    )
    assert report["per_stream_hour"] == pytest.approx(
        report["total_per_month"] / (50_000 * 1.5 * 30)
    )
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = runner.invoke(
        app, ["cost", "--stack", "dev", "--viewers", "1000", "--hours-per-day", "1",
              "--plot", str(tmp_path / "dev.png")],
    )  # fmt: skip
    assert table.exit_code == 0, table.output
    assert "Per stream-hour" in table.stdout
    assert "Total" in table.stdout
    missing = runner.invoke(
        app, ["cost", "--stack", "nope", "--viewers", "1", "--hours-per-day", "1"]
    )
    assert missing.exit_code == 2

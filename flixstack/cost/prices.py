"""AWS list prices (``prices.toml``), each service's with its source and date."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

PRICES = Path(__file__).with_name("prices.toml")
EdgeRegion = Literal[
    "north_america", "europe", "africa_middle_east", "south_america", "japan", "australia",
    "asia", "india",
]  # fmt: skip
PriceClass = Literal["PriceClass_100", "PriceClass_200", "PriceClass_All"]


class Dated(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str
    as_of: str


class CloudFront(Dated):
    tier_tb: list[float] = Field(min_length=1)
    https_requests_per_10k: float
    egress_per_gb: dict[EdgeRegion, list[float]]
    price_classes: dict[PriceClass, list[EdgeRegion]]

    @model_validator(mode="after")
    def _one_price_per_tier(self) -> CloudFront:
        for region, prices in self.egress_per_gb.items():
            if len(prices) != len(self.tier_tb) + 1:
                raise ValueError(
                    f"cloudfront.egress_per_gb.{region}: one price per tier and one past them"
                )
        return self


class S3(Dated):
    standard_gb_month: float
    intelligent_frequent_gb_month: float
    intelligent_infrequent_gb_month: float
    intelligent_archive_instant_gb_month: float
    intelligent_monitoring_per_1k_objects: float
    glacier_ir_gb_month: float
    put_per_1k: float
    get_per_1k: float
    inter_region_transfer_gb: float


class DynamoDb(Dated):
    write_request_per_million: float
    read_request_per_million: float
    replicated_write_per_million: float
    storage_gb_month: float
    pitr_gb_month: float


class Lambda(Dated):
    requests_per_million: float
    arm64_gb_second: float
    x86_64_gb_second: float


class ApiGateway(Dated):
    http_requests_per_million: float


class Fargate(Dated):
    vcpu_hour: float
    gb_hour: float
    spot_discount: float = Field(ge=0, lt=1)


class Kinesis(Dated):
    shard_hour: float
    put_payload_units_per_million: float


class Route53(Dated):
    hosted_zone_month: float
    latency_queries_per_million: float
    https_health_check_month: float


class Prices(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    cloudfront: CloudFront
    s3: S3
    dynamodb: DynamoDb
    lambda_: Lambda = Field(alias="lambda")
    api_gateway: ApiGateway
    fargate: Fargate
    kinesis: Kinesis
    route53: Route53

    def sources(self) -> dict[str, Dated]:
        return {
            "CloudFront": self.cloudfront, "S3": self.s3, "DynamoDB": self.dynamodb,
            "Lambda": self.lambda_, "API Gateway": self.api_gateway, "Fargate": self.fargate,
            "Kinesis": self.kinesis, "Route 53": self.route53,
        }  # fmt: skip


def load(path: Path = PRICES) -> Prices:
    with path.open("rb") as file:
        return Prices.model_validate(tomllib.load(file))

"""Builds the recommender's parts for a deployable: the training job (``flixstack
train-recs``, the scheduled task on AWS) and the API's home page service."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flixstack import spec
from flixstack.aws.artifacts import artifacts
from flixstack.aws.clients import AwsClients
from flixstack.aws.dynamo import Table
from flixstack.aws.lake_store import Lake
from flixstack.aws.recommend_store import DynamoPicks, LakeSignals, S3ModelStore, ViewerSignals
from flixstack.events.trending import TrendingRanks
from flixstack.nearcache import NearCache
from flixstack.recommend.artifacts import RecModel
from flixstack.recommend.home import HomeService
from flixstack.settings import Settings
from flixstack.viewers.wiring import Viewing

if TYPE_CHECKING:
    from flixstack.recommend.training import Trainer


def models(settings: Settings, clients: AwsClients, seen: Viewing) -> S3ModelStore:
    """Model versions in the artifacts bucket; the pointer in the analytics table."""
    naming = settings.naming
    return S3ModelStore(
        Table(naming.table(spec.ANALYTICS), clients.dynamodb), artifacts(settings, clients)
    )


def trainer(settings: Settings, clients: AwsClients, seen: Viewing) -> Trainer:
    """Signals from the viewers table and the events lake; the catalog the API sees."""
    from flixstack.recommend.training import Trainer  # scipy: the training job's alone

    naming = settings.naming
    viewers = naming.table(spec.VIEWERS)
    return Trainer(
        catalog=seen.cache,
        sources=[
            ViewerSignals(viewers, clients.dynamodb),
            LakeSignals(Lake(clients, naming.bucket(spec.LAKE))),
        ],
        models=models(settings, clients, seen),
        picks=DynamoPicks(viewers, clients.dynamodb),
    )


def home(
    settings: Settings, clients: AwsClients, seen: Viewing, trending: TrendingRanks
) -> HomeService:
    model_cache: NearCache[RecModel] = NearCache(
        models(settings, clients, seen), settings.recommend_refresh_s, "recommendation model"
    )
    return HomeService(
        viewers=seen.viewers,
        catalog=seen.cache,
        cards=seen.view,
        models=model_cache,
        picks=DynamoPicks(settings.naming.table(spec.VIEWERS), clients.dynamodb),
        trending=trending,
    )

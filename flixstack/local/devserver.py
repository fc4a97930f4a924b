"""The app ``flixstack up`` serves on its API port: the API, for the local settings.

Media is not served here: the local CDN edges (:mod:`flixstack.local.edge`) serve it, as
CloudFront does on AWS.
"""

from __future__ import annotations

from fastapi import FastAPI

from flixstack.api.app import create_app as create_api
from flixstack.aws.clients import AwsClients
from flixstack.settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    return create_api(settings, AwsClients(settings))

from __future__ import annotations

import pytest

from flixstack.aws.clients import AwsClients
from flixstack.local.bootstrap import Bootstrap
from flixstack.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture
def clients(settings: Settings) -> AwsClients:
    return AwsClients(settings)


@pytest.fixture
def bootstrapped(settings: Settings, clients: AwsClients) -> Settings:
    """A stage whose every spec resource exists at the emulator."""
    Bootstrap(clients, settings.naming).run()
    return settings

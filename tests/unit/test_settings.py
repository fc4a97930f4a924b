from __future__ import annotations

import pytest
from pydantic import ValidationError

from flixstack.settings import Settings


def test_defaults_point_at_real_aws_in_us_east_1() -> None:
    settings = Settings()
    assert settings.endpoint is None
    assert settings.stage == "local"
    assert settings.region == "us-east-1"


def test_standard_aws_variables_are_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566/")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("FLIXSTACK_STAGE", "pr-12")
    settings = Settings()
    assert settings.endpoint == "http://127.0.0.1:4566"
    assert settings.region == "eu-west-1"
    assert settings.naming.table  # derived from the same stage
    assert settings.naming.prefix == "flixstack-pr-12"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("FLIXSTACK_STAGE", "Not Valid"),
        ("AWS_REGION", "mars"),
        ("FLIXSTACK_HOME_REGION", "home"),
        ("FLIXSTACK_DEFAULT_TERRITORY", "usa"),
        ("AWS_ENDPOINT_URL", "not a url"),
        ("FLIXSTACK_MAX_ATTEMPTS", "0"),
    ],
)
def test_bad_configuration_fails_fast(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError):
        Settings()


def test_the_home_region_defaults_to_the_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "us-west-2")
    assert Settings().home == "us-west-2"
    monkeypatch.setenv("FLIXSTACK_HOME_REGION", "us-east-1")
    assert (Settings().region, Settings().home) == ("us-west-2", "us-east-1")

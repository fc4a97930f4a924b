from __future__ import annotations

import pytest

from flixstack import spec
from flixstack.aws.clients import AwsClients
from flixstack.settings import Settings


def test_clients_use_the_configured_endpoint_region_and_standard_retries() -> None:
    clients = AwsClients(
        Settings(endpoint_url="http://127.0.0.1:4566", region="eu-west-1", max_attempts=7)
    )
    ddb = clients.dynamodb
    assert ddb.meta.endpoint_url == "http://127.0.0.1:4566"
    assert ddb.meta.region_name == "eu-west-1"
    assert ddb.meta.config.retries == {"mode": "standard", "total_max_attempts": 7}


def test_clients_are_built_once_per_service() -> None:
    clients = AwsClients(Settings(endpoint_url="http://127.0.0.1:4566"))
    assert clients.s3 is clients.s3
    assert clients.client("s3") is clients.s3


def test_emulator_gets_placeholder_credentials_when_none_are_configured() -> None:
    clients = AwsClients(Settings(endpoint_url="http://127.0.0.1:4566"))
    credentials = clients.sqs._request_signer._credentials
    assert credentials.access_key == "test"


def test_real_credentials_win_over_placeholders(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREAL")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    clients = AwsClients(Settings(endpoint_url="http://127.0.0.1:4566"))
    assert clients.sqs._request_signer._credentials.access_key == "AKIAREAL"


def test_without_endpoint_clients_talk_to_aws() -> None:
    clients = AwsClients(Settings(region="eu-west-1"))
    assert clients.s3.meta.endpoint_url == "https://s3.eu-west-1.amazonaws.com"


def test_s3_presigns_with_sigv4_and_other_services_keep_their_signers() -> None:
    clients = AwsClients(Settings(endpoint_url="http://127.0.0.1:4566"))
    url = clients.s3.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"})
    assert "X-Amz-Signature=" in url
    assert url.startswith("http://127.0.0.1:4566/b/k?")
    assert clients.dynamodb.meta.config.signature_version == "v4"


def test_in_a_secondary_region_regional_services_stay_local_and_the_rest_go_home() -> None:
    clients = AwsClients(Settings(region="us-west-2", home_region="us-east-1"))
    local = {
        "dynamodb": clients.dynamodb,
        "kms": clients.kms,
        "secrets": clients.secretsmanager,
        "kinesis": clients.kinesis,
    }
    home = {"sqs": clients.sqs, "cognito": clients.cognito}
    assert {name: c.meta.region_name for name, c in local.items()} == dict.fromkeys(
        local, "us-west-2"
    )
    assert {name: c.meta.region_name for name, c in home.items()} == dict.fromkeys(
        home, "us-east-1"
    )
    # uploads are presigned for the home region's ingest bucket; artifacts are read locally
    assert (clients.s3.meta.region_name, clients.local_s3.meta.region_name) == (
        "us-east-1",
        "us-west-2",
    )
    assert clients.local_s3 is not clients.s3
    # the events dead-letter queue is in every region, with its stream; the others at home
    assert clients.sqs_for(spec.EVENTS_DLQ).meta.region_name == "us-west-2"
    assert clients.sqs_for(spec.PREWARM).meta.region_name == "us-east-1"


def test_without_a_home_region_every_client_is_in_the_region() -> None:
    clients = AwsClients(Settings(region="eu-west-1"))
    assert {clients.region_of(s) for s in ("dynamodb", "sqs", "s3", "cognito-idp")} == {"eu-west-1"}
    assert clients.local_s3 is clients.s3

"""The local bootstrap against the emulator: creates the spec, idempotently."""

from __future__ import annotations

import json

import httpx
import pytest
from botocore.exceptions import ClientError

from flixstack import spec
from flixstack.aws.clients import AwsClients
from flixstack.aws.inventory import Inventory, find_user_pool_id
from flixstack.local.bootstrap import Bootstrap
from flixstack.playback.signing import SigningKey
from flixstack.settings import Settings

pytestmark = pytest.mark.integration


def test_bootstrap_creates_every_spec_resource_once(
    settings: Settings, clients: AwsClients
) -> None:
    inventory = Inventory(clients, settings.naming)
    # GIVEN a fresh stage nothing exists for
    assert not any(status.present for status in inventory.check())
    # WHEN the bootstrap runs twice
    first = Bootstrap(clients, settings.naming).run()
    second = Bootstrap(clients, settings.naming).run()
    # THEN the first run creates everything, the second finds everything
    assert {step.outcome for step in first} == {"created"}
    assert {step.outcome for step in second} == {"exists"}
    assert len(first) == Bootstrap.total_steps()
    statuses = inventory.check()
    assert [s for s in statuses if not s.present] == []
    assert len(statuses) == Bootstrap.total_steps()
    # and no second user pool appeared under the same name
    pools = clients.cognito.list_user_pools(MaxResults=60)["UserPools"]
    assert [p["Name"] for p in pools].count(settings.naming.user_pool(spec.USER_POOL)) == 1


def test_tables_have_their_indexes_streams_and_ttl(
    bootstrapped: Settings, clients: AwsClients
) -> None:
    for table in spec.TABLES:
        name = bootstrapped.naming.table(table)
        described = clients.dynamodb.describe_table(TableName=name)["Table"]
        assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        indexes = {i["IndexName"] for i in described.get("GlobalSecondaryIndexes", [])}
        assert indexes == {i.name for i in table.indexes}
        assert described.get("StreamSpecification", {}).get("StreamEnabled", False) == (
            table.stream is not None
        )
        if table.ttl_attribute:
            ttl = clients.dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
            assert ttl["AttributeName"] == table.ttl_attribute


def test_transcode_queue_dead_letters_after_three_receives(
    bootstrapped: Settings, clients: AwsClients
) -> None:
    url = clients.sqs.get_queue_url(QueueName=bootstrapped.naming.queue(spec.TRANSCODE))["QueueUrl"]
    attributes = clients.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])[
        "Attributes"
    ]
    redrive = json.loads(attributes["RedrivePolicy"])
    assert int(redrive["maxReceiveCount"]) == 3
    assert redrive["deadLetterTargetArn"].endswith(bootstrapped.naming.queue(spec.TRANSCODE_DLQ))
    assert attributes["VisibilityTimeout"] == str(spec.TRANSCODE.visibility_timeout_s)


def test_user_pool_has_web_client_and_admin_group(
    bootstrapped: Settings, clients: AwsClients
) -> None:
    pool_id = find_user_pool_id(clients, bootstrapped.naming.user_pool(spec.USER_POOL))
    assert pool_id is not None
    client_names = [
        c["ClientName"]
        for c in clients.cognito.list_user_pool_clients(UserPoolId=pool_id, MaxResults=10)[
            "UserPoolClients"
        ]
    ]
    assert client_names == list(spec.USER_POOL.clients)
    groups = [g["GroupName"] for g in clients.cognito.list_groups(UserPoolId=pool_id)["Groups"]]
    assert groups == [spec.ADMIN_GROUP]


def test_buckets_block_public_access_and_encrypt(
    bootstrapped: Settings, clients: AwsClients
) -> None:
    for bucket in spec.BUCKETS:
        name = bootstrapped.naming.bucket(bucket)
        block = clients.s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
        assert all(block.values())
        rules = clients.s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"][
            "Rules"
        ]
        assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"


def test_pages_can_put_parts_into_the_ingest_bucket_and_read_their_etags(
    bootstrapped: Settings, clients: AwsClients
) -> None:
    """The admin web app PUTs upload parts to presigned URLs from its own origin, and
    completing the upload needs each part's ETag, which a page reads only if CORS exposes
    it. No other bucket answers pages."""
    s3 = clients.s3
    bucket = bootstrapped.naming.bucket(spec.INGEST)
    key = "masters/title/upload/clip.mp4"
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    url = s3.generate_presigned_url(
        "upload_part",
        Params={"Bucket": bucket, "Key": key, "UploadId": upload_id, "PartNumber": 1},
        ExpiresIn=60,
    )
    origin = "http://127.0.0.1:8000"
    preflight = httpx.options(
        url, headers={"Origin": origin, "Access-Control-Request-Method": "PUT"}
    )
    assert preflight.status_code == 200
    assert "PUT" in preflight.headers["Access-Control-Allow-Methods"]
    put = httpx.put(url, content=b"part", headers={"Origin": origin})
    assert put.status_code == 200, put.text
    assert put.headers["Access-Control-Allow-Origin"] in (origin, "*")
    assert "ETag" in put.headers["Access-Control-Expose-Headers"].split(", ")
    assert put.headers["ETag"]
    s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
    for other in spec.BUCKETS:
        if other is spec.INGEST:
            continue
        with pytest.raises(ClientError) as refused:
            s3.get_bucket_cors(Bucket=bootstrapped.naming.bucket(other))
        assert refused.value.response["Error"]["Code"] == "NoSuchCORSConfiguration"


def test_inventory_with_a_known_pool_id_describes_it(
    bootstrapped: Settings, clients: AwsClients
) -> None:
    pool_id = find_user_pool_id(clients, bootstrapped.naming.user_pool(spec.USER_POOL))
    statuses = Inventory(clients, bootstrapped.naming, user_pool_id=pool_id).check()
    (pool,) = [s for s in statuses if s.kind == "user_pool"]
    assert pool.present
    assert pool.detail == pool_id
    wrong = Inventory(clients, bootstrapped.naming, user_pool_id="us-east-1_doesnotexist").check()
    assert not next(s for s in wrong if s.kind == "user_pool").present


def test_the_cdn_signing_secret_is_generated_once_and_never_overwritten(
    bootstrapped: Settings, clients: AwsClients
) -> None:
    name = bootstrapped.naming.secret(spec.CDN_SIGNING)
    first = clients.secretsmanager.get_secret_value(SecretId=name)["SecretString"]
    key = SigningKey.from_secret(first)
    assert key.private_key.key_size == 2048
    assert key.key_pair_id.startswith("K")
    # WHEN the bootstrap runs again THEN the key stays (cookies already issued stay valid)
    steps = Bootstrap(clients, bootstrapped.naming).run()
    assert [s.outcome for s in steps if s.kind == "secret"] == ["exists"]
    assert clients.secretsmanager.get_secret_value(SecretId=name)["SecretString"] == first


def test_the_media_key_is_an_enabled_symmetric_key_behind_its_alias(
    bootstrapped: Settings, clients: AwsClients
) -> None:
    alias = bootstrapped.naming.key_alias(spec.MEDIA_KEY)
    metadata = clients.kms.describe_key(KeyId=alias)["KeyMetadata"]
    assert metadata["KeyState"] == "Enabled"
    assert metadata["KeySpec"] == "SYMMETRIC_DEFAULT"
    assert metadata["KeyUsage"] == "ENCRYPT_DECRYPT"
    assert clients.kms.get_key_rotation_status(KeyId=metadata["KeyId"])["KeyRotationEnabled"]
    statuses = Inventory(clients, bootstrapped.naming).check()
    assert {(s.kind, s.logical, s.present) for s in statuses if s.kind in ("key", "secret")} == {
        ("key", spec.MEDIA_KEY.logical, True),
        ("secret", spec.CDN_SIGNING.logical, True),
    }

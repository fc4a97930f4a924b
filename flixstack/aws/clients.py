"""The one factory every AWS client comes from.

It honours ``AWS_ENDPOINT_URL`` (through :class:`~flixstack.settings.Settings`), the region,
and the default credential chain, and configures botocore's *standard* retry mode. Pointing
it at moto's server or at a real LocalStack is therefore only a matter of the endpoint.

In a stack that spans regions, a client of one of ``spec.REGIONAL_SERVICES`` talks to the
region the code runs in (``Settings.region``), any other to the stack's home region
(``Settings.home``): code never names a region itself.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from flixstack import spec
from flixstack.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_kinesis import KinesisClient
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sts import STSClient

# Emulators accept any credentials; these are used only when an endpoint is set and the
# default chain finds none (a fresh laptop or CI machine).
EMULATOR_CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}


class AwsClients:
    """Lazily builds and caches one thread-safe client per service."""

    def __init__(self, settings: Settings, session: boto3.Session | None = None) -> None:
        self.settings = settings
        self._session = session or self._default_session(settings)
        self._config = Config(
            retries={"mode": "standard", "total_max_attempts": settings.max_attempts},
            connect_timeout=5,
            read_timeout=60,
            max_pool_connections=32,
            # Emulators serve buckets by path, not by virtual host.
            s3={"addressing_style": "path"} if settings.endpoint else None,
        )
        # Presigned S3 URLs must be SigV4 in every region (botocore may presign with SigV2).
        self._s3_config = self._config.merge(Config(signature_version="s3v4"))
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _default_session(settings: Settings) -> boto3.Session:
        session = boto3.Session(region_name=settings.region)
        if settings.endpoint is not None and session.get_credentials() is None:
            session = boto3.Session(
                region_name=settings.region,
                aws_access_key_id=EMULATOR_CREDENTIALS["aws_access_key_id"],
                aws_secret_access_key=EMULATOR_CREDENTIALS["aws_secret_access_key"],
            )
        return session

    @property
    def endpoint(self) -> str | None:
        return self.settings.endpoint

    def credentials(self) -> Any:
        """The session's current credentials (botocore ReadOnlyCredentials), or None; for
        clients that are not boto3's (DuckDB reading the lake)."""
        found = self._session.get_credentials()
        return found.get_frozen_credentials() if found is not None else None

    def region_of(self, service: str) -> str:
        """Where this process's client of ``service`` talks to (the module says why)."""
        if service in spec.REGIONAL_SERVICES:
            return self.settings.region
        return self.settings.home

    def client(self, service: str, region: str | None = None) -> Any:
        """An untyped client for a service without a typed accessor below, in ``region``
        (None: ``region_of(service)``)."""
        where = region or self.region_of(service)
        with self._lock:
            if (service, where) not in self._clients:
                self._clients[service, where] = self._session.client(
                    service,  # type: ignore[call-overload]
                    region_name=where,
                    endpoint_url=self.settings.endpoint,
                    config=self._s3_config if service == "s3" else self._config,
                )
            return self._clients[service, where]

    @property
    def local_s3(self) -> S3Client:
        """S3 in the region this process runs in, for the copies of the buckets that are
        in every region (``spec.BucketSpec.every_region``)."""
        client: S3Client = self.client("s3", self.settings.region)
        return client

    @property
    def dynamodb(self) -> DynamoDBClient:
        client: DynamoDBClient = self.client("dynamodb")
        return client

    @property
    def s3(self) -> S3Client:
        client: S3Client = self.client("s3")
        return client

    @property
    def sqs(self) -> SQSClient:
        client: SQSClient = self.client("sqs")
        return client

    def sqs_for(self, queue: spec.QueueSpec) -> SQSClient:
        """SQS where ``queue`` is: this region's for a queue every region has, else home."""
        client: SQSClient = self.client("sqs", self.settings.region if queue.every_region else None)
        return client

    @property
    def kinesis(self) -> KinesisClient:
        client: KinesisClient = self.client("kinesis")
        return client

    @property
    def cognito(self) -> CognitoIdentityProviderClient:
        client: CognitoIdentityProviderClient = self.client("cognito-idp")
        return client

    @property
    def sts(self) -> STSClient:
        client: STSClient = self.client("sts")
        return client

    @property
    def kms(self) -> KMSClient:
        client: KMSClient = self.client("kms")
        return client

    @property
    def secretsmanager(self) -> SecretsManagerClient:
        client: SecretsManagerClient = self.client("secretsmanager")
        return client

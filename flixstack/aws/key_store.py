"""Content keys: one AES-128 key per packaged asset, made by KMS and kept only wrapped.

The transcoder asks KMS for a data key (``GenerateDataKey``, AES_128) under the media key,
encrypts the asset's segments with the plaintext and stores the ciphertext blob in the
keys table; the plaintext never lands anywhere. The API unwraps a key (``Decrypt``) the
first time a player asks for it and then holds it in memory. Each blob is bound to its
asset by the KMS encryption context, so a blob copied to another asset's item does not
decrypt.
"""

from __future__ import annotations

import base64
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from flixstack import spec
from flixstack.aws.dynamo import Table
from flixstack.clock import now_iso
from flixstack.errors import Conflict, ServiceUnavailable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_kms import KMSClient

CACHE_SIZE = 4096
"""Unwrapped keys an API process keeps (16 bytes each)."""


def _context(asset_version: str) -> dict[str, str]:
    return {"flixstack:asset": asset_version}


class KmsContentKeys:
    def __init__(
        self,
        table_name: str,
        key_alias: str,
        dynamodb: DynamoDBClient,
        kms: KMSClient,
        cache_size: int = CACHE_SIZE,
    ) -> None:
        self._table = Table(table_name, dynamodb)
        self._alias = key_alias
        self._kms = kms
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    @staticmethod
    def _key(asset_version: str) -> dict[str, str]:
        return {spec.PK.name: spec.content_key_pk(asset_version), spec.SK.name: spec.CONTENT_KEY_SK}

    def create(self, asset_version: str, title_id: str, episode_id: str | None) -> bytes:
        """A new key for the asset, stored wrapped; a retried job gets the key its first
        attempt stored (so segments uploaded by either attempt decrypt with it)."""
        try:
            made = self._kms.generate_data_key(
                KeyId=self._alias, KeySpec="AES_128", EncryptionContext=_context(asset_version)
            )
        except ClientError as exc:
            raise ServiceUnavailable(f"KMS could not make a key: {exc}") from exc
        item = {
            **self._key(asset_version),
            spec.ENTITY_ATTR: spec.CONTENT_KEY_ENTITY,
            spec.VERSION_ATTR: 1,
            "title_id": title_id,
            "episode_id": episode_id,
            "kms_key": made["KeyId"],
            "wrapped": base64.b64encode(made["CiphertextBlob"]).decode("ascii"),
            "created_at": now_iso(),
        }
        try:
            self._table.create(item, f"content key of asset {asset_version}")
        except Conflict:
            return self.key(asset_version)
        return made["Plaintext"]

    def key(self, asset_version: str) -> bytes:
        """The asset's key in the clear; NotFound if the asset has none."""
        with self._lock:
            if asset_version in self._cache:
                self._cache.move_to_end(asset_version)
                return self._cache[asset_version]
        item = self._table.get(self._key(asset_version), f"content key of asset {asset_version}")
        try:
            plaintext = self._kms.decrypt(
                CiphertextBlob=base64.b64decode(item["wrapped"]),
                EncryptionContext=_context(asset_version),
            )["Plaintext"]
        except ClientError as exc:
            raise ServiceUnavailable(f"KMS could not unwrap the key: {exc}") from exc
        with self._lock:
            self._cache[asset_version] = plaintext
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return plaintext

"""CloudFront signed cookies (custom policy): signing for the API, verifying for local edges.

Signing builds the policy with botocore's :class:`~botocore.signers.CloudFrontSigner` and
signs it with RSA PKCS#1 v1.5 over SHA-1 (``cryptography``), as CloudFront requires.
Verifying follows CloudFront's documented rules for custom-policy cookies (the developer
guide's "Set signed cookies using a custom policy"):

- the three cookies ``CloudFront-Policy``, ``CloudFront-Signature`` and
  ``CloudFront-Key-Pair-Id`` must all be present (``CloudFront-Hash-Algorithm=SHA256``
  optionally switches the hash from SHA-1);
- policy and signature are base64 with ``+ = /`` replaced by ``- _ ~``;
- the signature covers the exact policy bytes, and the key is the one the key pair id
  names among the trusted public keys;
- the policy has exactly one statement; ``Condition.DateLessThan.AWS:EpochTime`` is
  required and the request must come before it; ``DateGreaterThan`` (optional) must be
  passed (access "on or before" it is refused); ``IpAddress.AWS:SourceIp`` (optional) is
  one IPv4 address or CIDR range that the client must be in;
- ``Resource`` (optional: absent means every URL) is matched against the request's URL,
  ``scheme://host[:port]/path`` plus ``?query`` when there is one, where ``*`` matches
  any run of characters (``/`` included) and ``?`` exactly one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import ClientError
from botocore.signers import CloudFrontSigner
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from flixstack import spec
from flixstack.errors import Forbidden, ServiceUnavailable

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

POLICY_COOKIE = "CloudFront-Policy"
SIGNATURE_COOKIE = "CloudFront-Signature"
KEY_PAIR_ID_COOKIE = "CloudFront-Key-Pair-Id"
HASH_ALGORITHM_COOKIE = "CloudFront-Hash-Algorithm"
COOKIE_NAMES = (POLICY_COOKIE, SIGNATURE_COOKIE, KEY_PAIR_ID_COOKIE)
EPOCH_TIME = "AWS:EpochTime"
SOURCE_IP = "AWS:SourceIp"
KEY_SIZE = 2048

Reason = Literal[
    "missing_cookies",
    "unknown_key",
    "bad_signature",
    "malformed_policy",
    "expired",
    "not_yet_valid",
    "wrong_resource",
    "ip_mismatch",
]

# CloudFront's URL-safe base64: standard base64 with these three characters swapped.
_TO_CLOUDFRONT = bytes.maketrans(b"+=/", b"-_~")
_FROM_CLOUDFRONT = bytes.maketrans(b"-_~", b"+=/")


def b64encode(data: bytes) -> str:
    """Base64 in CloudFront's alphabet (``+``→``-``, ``=``→``_``, ``/``→``~``)."""
    return base64.b64encode(data).translate(_TO_CLOUDFRONT).decode("ascii")


def b64decode(text: str) -> bytes:
    """The inverse of :func:`b64encode`; raises ``ValueError`` on anything else."""
    return base64.b64decode(text.encode("ascii").translate(_FROM_CLOUDFRONT), validate=True)


# --- the signing key ---------------------------------------------------------------------------
@dataclass(frozen=True)
class SigningKey:
    """A CloudFront key pair: the id CloudFront knows the public key by, and the private key."""

    key_pair_id: str
    private_key: rsa.RSAPrivateKey

    @classmethod
    def from_secret(cls, value: str | Mapping[str, Any]) -> SigningKey:
        """From the signing secret's JSON: ``{"key_pair_id": ..., "private_key": <PEM>}``."""
        try:
            fields = json.loads(value) if isinstance(value, str) else value
            key_pair_id = str(fields["key_pair_id"])
            pem = str(fields["private_key"]).encode()
            private_key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"not a CloudFront signing secret: {exc}") from exc
        if not isinstance(private_key, rsa.RSAPrivateKey):
            raise ValueError("CloudFront signing keys are RSA keys")
        return cls(key_pair_id, private_key)

    @classmethod
    def generate(cls) -> SigningKey:
        """A fresh RSA 2048 key pair, its id derived from the public key (local platforms)."""
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
        return cls(key_pair_id(private_key.public_key()), private_key)

    def public_key(self) -> rsa.RSAPublicKey:
        return self.private_key.public_key()

    def secret_value(self) -> str:
        """The JSON kept in Secrets Manager (what :meth:`from_secret` reads)."""
        pem = self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return json.dumps({"key_pair_id": self.key_pair_id, "private_key": pem.decode()})

    def sign(self, message: bytes) -> bytes:
        """RSA PKCS#1 v1.5 over SHA-1: the signature CloudFront verifies by default."""
        return self.private_key.sign(message, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303 - CloudFront's algorithm

    @property
    def signer(self) -> CloudFrontSigner:
        return CloudFrontSigner(self.key_pair_id, self.sign)


def key_pair_id(public_key: rsa.RSAPublicKey) -> str:
    """An id shaped like CloudFront's public key ids (``K`` + 13 upper-case letters and
    digits), derived from the public key so the same key always has the same id."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "K" + base64.b32encode(hashlib.sha256(der).digest()).decode()[:13]


def new_secret_value() -> str:
    """A fresh signing secret value (the local bootstrap stores it when none exists)."""
    return SigningKey.generate().secret_value()


def load_signing_key(secrets: SecretsManagerClient, naming: spec.Naming) -> SigningKey:
    """The CDN signing key from its secret (``naming.secret(spec.CDN_SIGNING)``)."""
    name = naming.secret(spec.CDN_SIGNING)
    try:
        value = secrets.get_secret_value(SecretId=name)["SecretString"]
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "error")
        raise ServiceUnavailable(f"CDN signing secret {name}: {code}") from exc
    except KeyError as exc:
        raise ServiceUnavailable(f"CDN signing secret {name} holds no string") from exc
    try:
        return SigningKey.from_secret(value)
    except ValueError as exc:
        raise ServiceUnavailable(f"CDN signing secret {name}: {exc}") from exc


# --- signing -----------------------------------------------------------------------------------
def asset_resource(title_id: str, asset_version: str) -> str:
    """The policy ``Resource`` granting one packaged asset on every CDN:
    ``http*://*/titles/<title>/<version>/*``.

    CloudFront allows ``*`` anywhere in a custom policy's resource, so the scheme and the
    host are wildcards. One policy (and so one set of cookies, set on the CDNs' shared
    parent domain) then serves every distribution whose trusted key group holds our public
    key, and every edge that verifies CloudFront's cookie format: a player that fails over
    from one CDN to the next needs no new cookies. What the cookies grant stays narrow:
    only this asset's path, only until the policy's ``DateLessThan``, and only on CDNs
    that trust our key. The trailing ``*`` also covers query strings, which CloudFront
    includes in the URL it matches. CloudFront's ``*`` spans ``/`` as well, so the host
    wildcard would also match a path that merely *contains* ``/titles/<title>/<version>/``;
    the media layout never nests one there, and edges serve only keys under ``titles/``.
    """
    for part in (title_id, asset_version):
        if not part or any(c in part for c in "/*?"):
            raise ValueError(f"{part!r} is not a title id or asset version")
    return f"http*://*/{spec.asset_prefix(title_id, asset_version)}*"


def signed_cookies(
    key: SigningKey,
    resource: str,
    expires: datetime,
    *,
    not_before: datetime | None = None,
    ip_range: str | None = None,
) -> dict[str, str]:
    """The three CloudFront cookies of a custom policy for ``resource`` (name → value),
    valid until ``expires`` (and from ``not_before``; from ``ip_range`` if given)."""
    signer = key.signer
    policy = signer.build_policy(
        resource,
        _aware(expires),
        date_greater_than=_aware(not_before) if not_before else None,
        ip_address=ip_range,
    ).encode()
    return {
        POLICY_COOKIE: b64encode(policy),
        SIGNATURE_COOKIE: b64encode(signer.rsa_signer(policy)),
        KEY_PAIR_ID_COOKIE: signer.key_id,
    }


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("signed cookie times must be timezone-aware")
    return moment


# --- verifying (what a CDN edge does) ----------------------------------------------------------
class SignedCookieRejected(Forbidden):
    """The request's signed cookies do not grant it; ``reason`` says why."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message, reason=reason)


_HASHES: dict[str, type[hashes.HashAlgorithm]] = {"SHA1": hashes.SHA1, "SHA256": hashes.SHA256}


def verify(
    cookies: Mapping[str, str],
    url: str,
    now: datetime,
    public_keys: Mapping[str, rsa.RSAPublicKey],
    *,
    client_ip: str | None = None,
) -> None:
    """Raises :class:`SignedCookieRejected` unless the cookies grant ``url`` at ``now``
    (from ``client_ip``, when the policy names addresses). ``url`` is the request's
    ``scheme://host[:port]/path[?query]``."""
    if any(not cookies.get(name) for name in COOKIE_NAMES):
        missing = [name for name in COOKIE_NAMES if not cookies.get(name)]
        raise SignedCookieRejected("missing_cookies", f"missing {', '.join(missing)}")
    public_key = public_keys.get(cookies[KEY_PAIR_ID_COOKIE])
    if public_key is None:
        raise SignedCookieRejected("unknown_key", "the key pair id is not a trusted key")
    algorithm = _HASHES.get(cookies.get(HASH_ALGORITHM_COOKIE) or "SHA1")
    if algorithm is None:
        raise SignedCookieRejected("bad_signature", "unsupported hash algorithm")
    try:
        policy = b64decode(cookies[POLICY_COOKIE])
    except (ValueError, binascii.Error) as exc:
        raise SignedCookieRejected("malformed_policy", "the policy is not base64") from exc
    try:
        signature = b64decode(cookies[SIGNATURE_COOKIE])
        public_key.verify(signature, policy, padding.PKCS1v15(), algorithm())
    except (ValueError, binascii.Error, InvalidSignature) as exc:
        raise SignedCookieRejected("bad_signature", "the signature does not match") from exc
    statement = _statement(policy)
    condition = statement["Condition"]
    epoch = now.timestamp()
    expires = _epoch(condition, "DateLessThan")
    if expires is None:
        raise SignedCookieRejected("malformed_policy", "no DateLessThan condition")
    if not epoch < expires:
        raise SignedCookieRejected("expired", "the policy has expired")
    starts = _epoch(condition, "DateGreaterThan")
    if starts is not None and not epoch > starts:
        raise SignedCookieRejected("not_yet_valid", "the policy is not valid yet")
    resource = statement.get("Resource")
    if resource is not None and not wildcard_match(str(resource), url):
        raise SignedCookieRejected("wrong_resource", "the policy does not cover this URL")
    if "IpAddress" in condition:
        _check_ip(condition["IpAddress"], client_ip)


def _statement(policy: bytes) -> dict[str, Any]:
    try:
        document = json.loads(policy)
        (statement,) = document["Statement"]
        condition = statement["Condition"]
    except (ValueError, KeyError, TypeError) as exc:
        raise SignedCookieRejected("malformed_policy", "not a one-statement policy") from exc
    if not isinstance(statement, dict) or not isinstance(condition, dict):
        raise SignedCookieRejected("malformed_policy", "not a one-statement policy")
    if "Resource" in statement and not isinstance(statement["Resource"], str):
        raise SignedCookieRejected("malformed_policy", "Resource is not a string")
    return statement


def _epoch(condition: dict[str, Any], name: str) -> int | None:
    if name not in condition:
        return None
    entry = condition[name]
    value = entry.get(EPOCH_TIME) if isinstance(entry, dict) else None
    if type(value) is not int:  # not bool, not float, not a quoted number
        raise SignedCookieRejected("malformed_policy", f"{name} needs an integer {EPOCH_TIME}")
    return value


def _check_ip(entry: object, client_ip: str | None) -> None:
    source = entry.get(SOURCE_IP) if isinstance(entry, dict) else None
    try:
        network = ipaddress.IPv4Network(str(source), strict=False)
    except ValueError as exc:
        raise SignedCookieRejected("malformed_policy", f"{SOURCE_IP} is not IPv4 CIDR") from exc
    try:
        allowed = client_ip is not None and ipaddress.ip_address(client_ip) in network
    except ValueError:
        allowed = False
    if not allowed:
        raise SignedCookieRejected("ip_mismatch", "the client address is not allowed")


def wildcard_match(pattern: str, text: str) -> bool:
    """CloudFront's wildcards: ``*`` matches any run of characters (``/`` included), ``?``
    exactly one; everything else literally (case-sensitive)."""
    return _wildcard(pattern).fullmatch(text) is not None


@lru_cache(maxsize=1024)
def _wildcard(pattern: str) -> re.Pattern[str]:
    translated = {"*": ".*", "?": "."}
    return re.compile("".join(translated.get(c) or re.escape(c) for c in pattern), re.DOTALL)

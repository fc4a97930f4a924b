"""CloudFront signed cookies: what we sign, checked by an independent verifier written
here with ``cryptography`` alone; then the edge-side verifier's decisions."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from flixstack.playback import signing
from flixstack.playback.signing import SignedCookieRejected, SigningKey

NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=2)
URL = "https://cdn1.example.com/titles/t1/v1/hls/master.m3u8"
CLOUDFRONT_ALPHABET = re.compile(r"^[A-Za-z0-9\-_~]+$")


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return SigningKey.generate()


@pytest.fixture(scope="module")
def other_key() -> SigningKey:
    return SigningKey.generate()


def trusted(*keys: SigningKey) -> dict[str, rsa.RSAPublicKey]:
    return {k.key_pair_id: k.public_key() for k in keys}


def cloudfront_b64decode(text: str) -> bytes:
    """CloudFront's documented substitution, undone by hand (not with our helper)."""
    return base64.b64decode(text.replace("-", "+").replace("_", "=").replace("~", "/"))


def cookies(key: SigningKey, **overrides: Any) -> dict[str, str]:
    arguments: dict[str, Any] = {
        "resource": signing.asset_resource("t1", "v1"),
        "expires": LATER,
        **overrides,
    }
    return signing.signed_cookies(key, **arguments)


# --- what we sign, checked independently ----------------------------------------------------
def test_cookies_carry_a_custom_policy_signed_with_rsa_sha1(key: SigningKey) -> None:
    # GIVEN cookies for one asset, valid from NOW for two hours, from one network
    jar = cookies(key, not_before=NOW, ip_range="192.0.2.0/24")
    # THEN exactly CloudFront's three cookies, in its URL-safe base64 alphabet
    assert set(jar) == {"CloudFront-Policy", "CloudFront-Signature", "CloudFront-Key-Pair-Id"}
    assert CLOUDFRONT_ALPHABET.match(jar["CloudFront-Policy"])
    assert CLOUDFRONT_ALPHABET.match(jar["CloudFront-Signature"])
    assert not set("+=/") & set(jar["CloudFront-Policy"] + jar["CloudFront-Signature"])
    assert jar["CloudFront-Key-Pair-Id"] == key.key_pair_id
    # and the signature is RSA PKCS#1 v1.5 / SHA-1 over the exact decoded policy bytes
    policy = cloudfront_b64decode(jar["CloudFront-Policy"])
    signature = cloudfront_b64decode(jar["CloudFront-Signature"])
    key.public_key().verify(signature, policy, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303
    assert len(signature) == 256  # RSA 2048
    # and the policy is CloudFront's custom policy shape, without white space
    assert not re.search(rb"\s", policy)
    document = json.loads(policy)
    assert list(document) == ["Statement"]
    (statement,) = document["Statement"]
    assert statement["Resource"] == "http*://*/titles/t1/v1/*"
    assert statement["Condition"] == {
        "DateLessThan": {"AWS:EpochTime": int(LATER.timestamp())},
        "DateGreaterThan": {"AWS:EpochTime": int(NOW.timestamp())},
        "IpAddress": {"AWS:SourceIp": "192.0.2.0/24"},
    }


def test_the_optional_conditions_are_left_out_when_not_asked_for(key: SigningKey) -> None:
    policy = json.loads(cloudfront_b64decode(cookies(key)["CloudFront-Policy"]))
    assert policy["Statement"][0]["Condition"] == {
        "DateLessThan": {"AWS:EpochTime": int(LATER.timestamp())}
    }


def test_naive_times_are_refused(key: SigningKey) -> None:
    with pytest.raises(ValueError, match="timezone"):
        cookies(key, expires=datetime(2030, 1, 1))  # naive


def test_the_asset_resource_covers_one_version_on_any_cdn() -> None:
    resource = signing.asset_resource("t1", "v1")
    for url in (
        "https://cdn1.example.com/titles/t1/v1/hls/master.m3u8",
        "http://127.0.0.1:8001/titles/t1/v1/cmaf/v240/seg_00001.m4s",
        "https://d111111abcdef8.cloudfront.net/titles/t1/v1/subs/en.vtt?x=1",
    ):
        assert signing.wildcard_match(resource, url), url
    for url in (
        "https://cdn1.example.com/titles/t1/v2/hls/master.m3u8",
        "https://cdn1.example.com/titles/t10/v1/hls/master.m3u8",
        "https://cdn1.example.com/titles/t1/v1",
        "ftp://cdn1.example.com/titles/t1/v1/hls/master.m3u8",
    ):
        assert not signing.wildcard_match(resource, url), url
    with pytest.raises(ValueError, match="not a title id"):
        signing.asset_resource("t1/*", "v1")


def test_the_secret_round_trips_and_the_key_pair_id_is_derived(key: SigningKey) -> None:
    value = json.loads(key.secret_value())
    assert set(value) == {"key_pair_id", "private_key"}
    assert value["private_key"].startswith("-----BEGIN PRIVATE KEY-----")
    loaded = SigningKey.from_secret(key.secret_value())
    assert loaded.key_pair_id == key.key_pair_id
    assert loaded.private_key.private_numbers() == key.private_key.private_numbers()
    assert re.fullmatch(r"K[A-Z0-9]{13}", key.key_pair_id)
    assert signing.key_pair_id(key.public_key()) == key.key_pair_id
    assert key.private_key.key_size == 2048
    fresh = json.loads(signing.new_secret_value())
    assert fresh["key_pair_id"] != key.key_pair_id


def test_a_secret_with_a_non_rsa_key_is_refused() -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    with pytest.raises(ValueError, match="RSA"):
        SigningKey.from_secret({"key_pair_id": "K1", "private_key": pem})
    with pytest.raises(ValueError, match="signing secret"):
        SigningKey.from_secret('{"key_pair_id": "K1"}')


# --- the edge's verifier ----------------------------------------------------------------------
def reason(jar: dict[str, str], url: str = URL, now: datetime = NOW, **kwargs: Any) -> str:
    keys = kwargs.pop("keys")
    with pytest.raises(SignedCookieRejected) as caught:
        signing.verify(jar, url, now, keys, **kwargs)
    return caught.value.reason


def resign(key: SigningKey, policy: dict[str, Any]) -> dict[str, str]:
    """Cookies for an arbitrary (possibly odd) policy document, validly signed."""
    raw = json.dumps(policy, separators=(",", ":")).encode()
    return {
        "CloudFront-Policy": signing.b64encode(raw),
        "CloudFront-Signature": signing.b64encode(key.sign(raw)),
        "CloudFront-Key-Pair-Id": key.key_pair_id,
    }


def test_good_cookies_pass(key: SigningKey, other_key: SigningKey) -> None:
    signing.verify(cookies(key), URL, NOW, trusted(other_key, key))
    signing.verify(
        cookies(key, not_before=NOW - timedelta(seconds=1), ip_range="192.0.2.0/24"),
        URL + "?from=player",
        NOW,
        trusted(key),
        client_ip="192.0.2.77",
    )


def test_a_tampered_policy_fails_the_signature(key: SigningKey) -> None:
    jar = cookies(key)
    policy = cloudfront_b64decode(jar["CloudFront-Policy"]).replace(b"/t1/v1/", b"/t1/v*/")
    jar["CloudFront-Policy"] = signing.b64encode(policy)
    assert reason(jar, keys=trusted(key)) == "bad_signature"


def test_a_tampered_signature_fails(key: SigningKey) -> None:
    jar = cookies(key)
    signature = bytearray(cloudfront_b64decode(jar["CloudFront-Signature"]))
    signature[10] ^= 0x01
    jar["CloudFront-Signature"] = signing.b64encode(bytes(signature))
    assert reason(jar, keys=trusted(key)) == "bad_signature"
    jar["CloudFront-Signature"] = "not*base64"
    assert reason(jar, keys=trusted(key)) == "bad_signature"


def test_a_signature_by_another_key_under_our_id_fails(
    key: SigningKey, other_key: SigningKey
) -> None:
    jar = cookies(other_key)
    jar["CloudFront-Key-Pair-Id"] = key.key_pair_id
    assert reason(jar, keys=trusted(key)) == "bad_signature"


def test_expiry_is_exclusive(key: SigningKey) -> None:
    jar = cookies(key)
    signing.verify(jar, URL, LATER - timedelta(seconds=1), trusted(key))
    assert reason(jar, now=LATER, keys=trusted(key)) == "expired"
    assert reason(jar, now=LATER + timedelta(days=1), keys=trusted(key)) == "expired"


def test_not_valid_on_or_before_its_start(key: SigningKey) -> None:
    jar = cookies(key, not_before=NOW)
    assert reason(jar, now=NOW, keys=trusted(key)) == "not_yet_valid"
    assert reason(jar, now=NOW - timedelta(hours=1), keys=trusted(key)) == "not_yet_valid"
    signing.verify(jar, URL, NOW + timedelta(seconds=1), trusted(key))


@pytest.mark.parametrize(
    "url",
    [
        "https://cdn1.example.com/titles/t1/v2/hls/master.m3u8",  # another version
        "https://cdn1.example.com/titles/t2/v1/hls/master.m3u8",  # another title
        "https://cdn1.example.com/titles/t1/v10/hls/master.m3u8",  # a version with a longer id
        "https://cdn1.example.com/titles/t1x/v1/hls/master.m3u8",  # a title with a longer id
        "https://cdn1.example.com/titles/t1/v1",  # the folder itself is not under it
    ],
)
def test_a_wrong_path_is_refused(key: SigningKey, url: str) -> None:
    assert reason(cookies(key), url=url, keys=trusted(key)) == "wrong_resource"


def test_host_wildcards(key: SigningKey) -> None:
    # GIVEN cookies for one host, and cookies for every host under example.com
    one_host = cookies(key, resource="https://cdn1.example.com/titles/t1/v1/*")
    subdomains = cookies(key, resource="https://*.example.com/titles/t1/v1/*")
    single_char = cookies(key, resource="https://cdn?.example.com/titles/t1/v1/*")
    # THEN the named host passes and another host or the plain-http scheme does not
    signing.verify(one_host, URL, NOW, trusted(key))
    other_host = URL.replace("cdn1", "cdn2")
    assert reason(one_host, url=other_host, keys=trusted(key)) == "wrong_resource"
    assert reason(one_host, url=URL.replace("https", "http"), keys=trusted(key)) == "wrong_resource"
    # and * spans any run of characters (dots included), ? exactly one
    signing.verify(subdomains, other_host, NOW, trusted(key))
    signing.verify(subdomains, URL.replace("cdn1", "a.b"), NOW, trusted(key))
    assert (
        reason(subdomains, url=URL.replace("example.com", "example.org"), keys=trusted(key))
        == "wrong_resource"
    )
    signing.verify(single_char, other_host, NOW, trusted(key))
    assert reason(single_char, url=URL.replace("cdn1", "cdn12"), keys=trusted(key)) == (
        "wrong_resource"
    )
    # and the asset resource's http* wildcard takes both schemes on any host and port;
    # like CloudFront's, its host * spans slashes too (see asset_resource)
    anywhere = cookies(key)
    signing.verify(anywhere, "http://127.0.0.1:8002/titles/t1/v1/x.m4s", NOW, trusted(key))
    signing.verify(anywhere, "https://cdn1.example.com/up/titles/t1/v1/x", NOW, trusted(key))


def test_an_unknown_key_pair_id_is_refused(key: SigningKey, other_key: SigningKey) -> None:
    assert reason(cookies(other_key), keys=trusted(key)) == "unknown_key"


@pytest.mark.parametrize(
    "missing", ["CloudFront-Policy", "CloudFront-Signature", "CloudFront-Key-Pair-Id"]
)
def test_missing_cookies_are_refused(key: SigningKey, missing: str) -> None:
    jar = cookies(key)
    del jar[missing]
    assert reason(jar, keys=trusted(key)) == "missing_cookies"
    assert reason({}, keys=trusted(key)) == "missing_cookies"


def test_the_client_address_must_be_in_the_range(key: SigningKey) -> None:
    jar = cookies(key, ip_range="192.0.2.0/24")
    assert reason(jar, keys=trusted(key), client_ip="198.51.100.1") == "ip_mismatch"
    assert reason(jar, keys=trusted(key), client_ip="2001:db8::1") == "ip_mismatch"
    assert reason(jar, keys=trusted(key)) == "ip_mismatch"  # unknown address
    single = cookies(key, ip_range="192.0.2.9")  # botocore makes it /32
    signing.verify(single, URL, NOW, trusted(key), client_ip="192.0.2.9")
    assert reason(single, keys=trusted(key), client_ip="192.0.2.10") == "ip_mismatch"


@pytest.mark.parametrize(
    "policy",
    [
        {"Statement": []},
        {"Statement": [{"Resource": "http*://*"}]},  # no Condition
        {"Statement": [{"Resource": "http*://*", "Condition": {}}]},  # no DateLessThan
        {
            "Statement": [
                {"Resource": "http*://*", "Condition": {"DateLessThan": {"AWS:EpochTime": "9"}}}
            ]
        },
        {"Statement": [{"Condition": {"DateLessThan": {"AWS:EpochTime": 1.5e10}}}]},
        {"Statement": [{"Resource": 1, "Condition": {"DateLessThan": {"AWS:EpochTime": 2**40}}}]},
        {"Statement": [{}, {}]},
        {
            "Statement": [
                {
                    "Condition": {
                        "DateLessThan": {"AWS:EpochTime": 2**40},
                        "IpAddress": {"AWS:SourceIp": "2001:db8::/32"},
                    }
                }
            ]
        },
    ],
)
def test_a_validly_signed_but_malformed_policy_is_refused(
    key: SigningKey, policy: dict[str, Any]
) -> None:
    assert reason(resign(key, policy), keys=trusted(key), client_ip="192.0.2.1") == (
        "malformed_policy"
    )


def test_a_policy_that_is_not_base64_is_malformed(key: SigningKey) -> None:
    jar = cookies(key)
    jar["CloudFront-Policy"] = "%%%"
    assert reason(jar, keys=trusted(key)) == "malformed_policy"


def test_a_policy_without_resource_grants_every_url(key: SigningKey) -> None:
    jar = resign(key, {"Statement": [{"Condition": {"DateLessThan": {"AWS:EpochTime": 2**40}}}]})
    signing.verify(jar, "https://anything.example/any/path", NOW, trusted(key))


def test_sha256_signatures_are_accepted_when_the_cookie_says_so(key: SigningKey) -> None:
    raw = json.loads(cloudfront_b64decode(cookies(key)["CloudFront-Policy"]))
    document = json.dumps(raw, separators=(",", ":")).encode()
    jar = {
        "CloudFront-Policy": signing.b64encode(document),
        "CloudFront-Signature": signing.b64encode(
            key.private_key.sign(document, padding.PKCS1v15(), hashes.SHA256())
        ),
        "CloudFront-Key-Pair-Id": key.key_pair_id,
    }
    assert reason(jar, keys=trusted(key)) == "bad_signature"  # SHA-1 is the default
    signing.verify({**jar, "CloudFront-Hash-Algorithm": "SHA256"}, URL, NOW, trusted(key))
    assert reason({**jar, "CloudFront-Hash-Algorithm": "MD5"}, keys=trusted(key)) == "bad_signature"


def test_rejections_are_forbidden_errors_with_a_reason(key: SigningKey) -> None:
    from flixstack.errors import Forbidden

    with pytest.raises(Forbidden) as caught:
        signing.verify({}, URL, NOW, trusted(key))
    assert caught.value.reason == "missing_cookies"

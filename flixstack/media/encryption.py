"""HLS content protection: AES-128 whole-segment encryption (RFC 8216, METHOD=AES-128).

(DASH gets the same key as CENC, in its own copy of the segments: ``flixstack.media.cenc``.)

Every media segment of an asset is encrypted at packaging time with the asset's one
128-bit key: AES-128-CBC over the whole file with PKCS#7 padding. No ``IV`` attribute is
written, so each segment's IV is its media sequence number as a 128-bit big-endian
integer (RFC 8216 section 5.2); a VOD playlist starts at sequence 0, so the segment
``seg_00001.m4s`` (the first) has IV 0. Initialization segments (``EXT-X-MAP``) hold no
media samples and stay clear: the ``EXT-X-KEY`` tag comes after the map, so it does not
apply to it. Subtitles and thumbnails are not encrypted.

The key itself never goes near the media bucket: the transcoder gets it from KMS
(``GenerateDataKey``), keeps only the wrapped copy in the keys table, and players fetch it
from the API's key endpoint, which checks the same entitlement as playback.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

KEY_BYTES = 16
BLOCK_BITS = 128


@dataclass(frozen=True, repr=False)
class SegmentKey:
    """An asset's content key and the URI its playlists name for it."""

    key: bytes
    uri: str
    kid: bytes
    """The key's public id (``spec.content_key_id``): CENC's default_KID for DASH."""

    def __post_init__(self) -> None:
        if len(self.key) != KEY_BYTES:
            raise ValueError(f"an AES-128 key has {KEY_BYTES} bytes, not {len(self.key)}")
        if len(self.kid) != KEY_BYTES:
            raise ValueError(f"a key id has {KEY_BYTES} bytes, not {len(self.kid)}")
        if '"' in self.uri or "\n" in self.uri:
            raise ValueError(f"{self.uri!r} cannot be a quoted playlist attribute")

    def __repr__(self) -> str:  # never print a key
        return f"SegmentKey(uri={self.uri!r}, kid={self.kid.hex()})"

    @property
    def tag(self) -> str:
        """The media playlist line that applies the key to the segments after it."""
        return f'#EXT-X-KEY:METHOD=AES-128,URI="{self.uri}"'


def iv(sequence: int) -> bytes:
    """The implicit IV of the segment with this media sequence number."""
    return sequence.to_bytes(KEY_BYTES, "big")


def encrypt(data: bytes, key: bytes, initialization_vector: bytes) -> bytes:
    padder = padding.PKCS7(BLOCK_BITS).padder()
    padded = padder.update(data) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(initialization_vector)).encryptor()
    return encryptor.update(padded) + encryptor.finalize()


def decrypt(data: bytes, key: bytes, initialization_vector: bytes) -> bytes:
    """What a player does with a segment (raises ValueError for a wrong key's padding)."""
    decryptor = Cipher(algorithms.AES(key), modes.CBC(initialization_vector)).decryptor()
    padded = decryptor.update(data) + decryptor.finalize()
    unpadder = padding.PKCS7(BLOCK_BITS).unpadder()
    return unpadder.update(padded) + unpadder.finalize()


def encrypted_size(size: int) -> int:
    """Bytes after PKCS#7 padding: always at least one byte more, up to a whole block."""
    block = BLOCK_BITS // 8
    return (size // block + 1) * block


def encrypt_file(path: Path, key: bytes, sequence: int) -> None:
    """Encrypts one segment file in place."""
    path.write_bytes(encrypt(path.read_bytes(), key, iv(sequence)))

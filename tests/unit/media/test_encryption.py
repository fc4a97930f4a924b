"""AES-128 HLS protection: segments decrypt with the key and IV a player derives."""

from __future__ import annotations

import io
import os
from pathlib import Path

import av
import m3u8
import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from flixstack.media import encryption
from flixstack.media.encryption import SegmentKey

from .conftest import Run


def test_segments_round_trip_and_pad_to_whole_blocks() -> None:
    key = os.urandom(16)
    for size in (0, 1, 15, 16, 17, 4096):
        data = os.urandom(size)
        sealed = encryption.encrypt(data, key, encryption.iv(3))
        assert len(sealed) == encryption.encrypted_size(size)
        assert len(sealed) % 16 == 0
        assert len(sealed) > size
        assert encryption.decrypt(sealed, key, encryption.iv(3)) == data


def test_cipher_is_aes_128_cbc_with_the_sequence_number_as_iv() -> None:
    """Checked with the primitive directly: what any HLS player does (RFC 8216 5.2)."""
    key, data = os.urandom(16), b"\x00\x00\x00\x18ftyp" + os.urandom(100)
    sealed = encryption.encrypt(data, key, encryption.iv(7))
    iv = (7).to_bytes(16, "big")
    plain = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor().update(sealed)
    assert plain[: len(data)] == data
    assert plain[len(data) :] == bytes([len(plain) - len(data)]) * (len(plain) - len(data))


def test_a_wrong_key_does_not_decrypt() -> None:
    sealed = encryption.encrypt(b"segment" * 50, os.urandom(16), encryption.iv(0))
    with pytest.raises(ValueError):  # noqa: PT011 - cryptography's padding error
        assert encryption.decrypt(sealed, os.urandom(16), encryption.iv(0)) != b"segment" * 50


def test_file_encryption_in_place(tmp_path: Path) -> None:
    key = os.urandom(16)
    segment = tmp_path / "seg_00002.m4s"
    data = os.urandom(1000)
    segment.write_bytes(data)
    encryption.encrypt_file(segment, key, 1)
    assert segment.read_bytes() != data
    assert encryption.decrypt(segment.read_bytes(), key, encryption.iv(1)) == data


def test_segment_key_checks_itself_and_never_prints_the_key() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        SegmentKey(b"short", "https://api/keys/a", bytes(16))
    with pytest.raises(ValueError, match="key id"):
        SegmentKey(bytes(16), "https://api/keys/a", b"short")
    with pytest.raises(ValueError, match="quoted"):
        SegmentKey(bytes(16), 'https://api/keys/"a', bytes(16))
    key = SegmentKey(bytes(range(16)), "https://api.example.com/keys/a1", bytes(16))
    assert key.tag == '#EXT-X-KEY:METHOD=AES-128,URI="https://api.example.com/keys/a1"'
    assert "000102" not in repr(key)
    assert "\\x00" not in repr(key)


# --- a real package --------------------------------------------------------------------------


def test_a_protected_package_names_the_key_after_the_clear_init(
    protected: tuple[Run, bytes],
) -> None:
    run, _ = protected
    assert run.result.encrypted
    asset = run.result.asset("titles/t/job-1/", "job-1")
    assert asset.protection == "aes-128"
    for name in [*(r.playlist for r in run.result.renditions), "hls/audio.m3u8"]:
        text = (run.out / name).read_text()
        lines = text.splitlines()
        assert lines.index('#EXT-X-KEY:METHOD=AES-128,URI="https://api.example.com/keys/job-1"') > (
            next(i for i, line in enumerate(lines) if line.startswith("#EXT-X-MAP"))
        )
        playlist = m3u8.loads(text)
        assert all(s.key is not None and s.key.method == "AES-128" for s in playlist.segments)
        assert all(s.key.iv is None for s in playlist.segments)  # implicit: sequence number


def test_protected_segments_decode_only_after_decryption(protected: tuple[Run, bytes]) -> None:
    run, key = protected
    track = (
        run.out / "cmaf" / run.result.renditions[0].playlist.split("/")[-1].removesuffix(".m3u8")
    )
    init = (track / "init.mp4").read_bytes()
    assert init[4:8] == b"ftyp"  # the init segment stays clear
    segments = sorted(track.glob("seg_*.m4s"))
    sealed = [s.read_bytes() for s in segments]
    clear = [encryption.decrypt(d, key, encryption.iv(i)) for i, d in enumerate(sealed)]
    assert all(c[4:8] in (b"styp", b"moof") for c in clear)
    assert all(s[4:8] not in (b"styp", b"moof") for s in sealed)
    with av.open(io.BytesIO(init + b"".join(clear))) as container:
        frames = sum(1 for _ in container.decode(video=0))
    assert frames == round(run.result.source.duration_s * run.result.source.video.frame_rate)


def test_bandwidth_counts_the_padded_bytes(protected: tuple[Run, bytes]) -> None:
    run, _ = protected
    rendition = run.result.renditions[0]
    folder = run.out / "cmaf" / rendition.playlist.split("/")[-1].removesuffix(".m3u8")
    audio = run.out / "cmaf" / "audio"
    on_disk = sum(p.stat().st_size for d in (folder, audio) for p in d.glob("seg_*.m4s"))
    duration = run.result.source.duration_s
    assert rendition.average_bandwidth == pytest.approx(on_disk * 8 / duration, rel=0.02)

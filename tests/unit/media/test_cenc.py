"""DASH CENC protection, checked against ffmpeg's own CENC decryptor (an independent reader).

The clear reference is the HLS copy of the same package decrypted with its AES-128 key:
ffmpeg must read the CENC copy, with the key, as exactly the same packets.
"""

from __future__ import annotations

import struct
import subprocess
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from flixstack import spec
from flixstack.media import bmff, cenc, encryption, ffmpeg, package

from .conftest import Run

KID = spec.content_key_id("job-1")
NS = {"d": package.MPD_NS, "cenc": package.CENC_NS}


def _packets(data: bytes, tmp: Path, key: bytes | None) -> list[str]:
    """ffmpeg's per-packet MD5s of one fragmented MP4 (decrypting CENC with ``key``)."""
    source = tmp / "track.mp4"
    source.write_bytes(data)
    args = [*(("-decryption_key", key.hex()) if key else ()), "-i", str(source)]
    args += ["-map", "0", "-c", "copy", "-f", "framemd5", "-"]
    done = subprocess.run(
        [ffmpeg.executable(), "-v", "error", "-nostdin", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return [line for line in done.stdout.splitlines() if not line.startswith("#")]


def _tracks(run: Run) -> list[str]:
    return sorted(p.name for p in (run.out / package.CENC_DIR).iterdir())


def _clear_hls_track(run: Run, key: bytes, name: str) -> bytes:
    folder = run.out / bmff.CMAF_DIR / name
    segments = sorted(folder.glob("seg_*.m4s"))
    clear = [
        encryption.decrypt(s.read_bytes(), key, encryption.iv(i)) for i, s in enumerate(segments)
    ]
    return (folder / bmff.INIT_NAME).read_bytes() + b"".join(clear)


def _cenc_track(run: Run, name: str) -> bytes:
    folder = run.out / package.CENC_DIR / name
    segments = sorted(folder.glob("seg_*.m4s"))
    return (folder / bmff.INIT_NAME).read_bytes() + b"".join(s.read_bytes() for s in segments)


def test_every_track_decrypts_with_the_key_to_the_clear_packets(
    protected: tuple[Run, bytes], tmp_path: Path
) -> None:
    run, key = protected
    names = _tracks(run)
    assert "audio" in names
    assert len(names) == len(run.result.renditions) + 1
    for name in names:
        clear = _packets(_clear_hls_track(run, key, name), tmp_path, None)
        assert len(clear) > 10
        assert _packets(_cenc_track(run, name), tmp_path, key) == clear, name
        sealed = _packets(_cenc_track(run, name), tmp_path, None)
        assert len(sealed) == len(clear)
        assert sum(a != b for a, b in zip(sealed, clear, strict=True)) == len(clear), name
        wrong = _packets(_cenc_track(run, name), tmp_path, bytes(16))
        assert wrong != clear


def test_init_segments_name_the_scheme_and_the_key_id(protected: tuple[Run, bytes]) -> None:
    run, _ = protected
    for name in _tracks(run):
        data = (run.out / package.CENC_DIR / name / bmff.INIT_NAME).read_bytes()
        entry = b"enca" if name == "audio" else b"encv"
        original = b"mp4a" if name == "audio" else b"avc1"
        assert entry in data
        assert b"frma" + original in data
        assert b"schm" + bytes(4) + b"cenc" + struct.pack(">I", 0x10000) in data
        assert b"tenc" + bytes(4) + bytes([0, 0, 1, cenc.IV_BYTES]) + KID in data
        assert cenc.pssh(KID) in data
        info = bmff.read_init(run.out / package.CENC_DIR / name / bmff.INIT_NAME)
        clear = bmff.read_init(run.out / bmff.CMAF_DIR / name / bmff.INIT_NAME)
        assert info == clear  # what players learn from it is unchanged


def test_segments_point_at_their_ivs_and_samples(protected: tuple[Run, bytes]) -> None:
    """saio leads from the moof to the first IV in senc, trun's data offset to the mdat;
    the IV is (track, segment, sample), one track number per track."""
    run, _ = protected
    track_numbers: dict[str, set[bytes]] = {}
    for name in _tracks(run):
        for index, path in enumerate(sorted((run.out / package.CENC_DIR / name).glob("seg_*"))):
            data = path.read_bytes()
            top = {kind: (start, end) for kind, start, end in bmff.boxes(data, 0, len(data))}
            moof_start = top[b"moof"][0] - 8
            traf = next(b for b in bmff.boxes(data, *top[b"moof"]) if b[0] == b"traf")
            inner = {kind: (start, end) for kind, start, end in bmff.boxes(data, *traf[1:])}
            assert {b"saiz", b"saio", b"senc"} <= inner.keys()
            saio = struct.unpack_from(">I", data, inner[b"saio"][0] + 8)[0]
            iv = data[moof_start + saio : moof_start + saio + cenc.IV_BYTES]
            assert iv[2:] == (index + 1).to_bytes(3, "big") + bytes(3)
            track_numbers.setdefault(name, set()).add(iv[:2])
            data_offset = struct.unpack_from(">i", data, inner[b"trun"][0] + 8)[0]
            assert moof_start + data_offset == top[b"mdat"][0]
    assert all(len(numbers) == 1 for numbers in track_numbers.values())
    assert len(set().union(*track_numbers.values())) == len(track_numbers)


def test_mpd_describes_the_protected_copy(protected: tuple[Run, bytes]) -> None:
    run, _ = protected
    assert run.result.dash_manifest == "dash/manifest.mpd"
    mpd = ET.parse(run.out / run.result.dash_manifest).getroot()
    sets = mpd.findall("d:Period/d:AdaptationSet", NS)
    media = [s for s in sets if s.get("contentType") in ("video", "audio")]
    assert len(media) == 2
    for adaptation in media:
        schemes = adaptation.findall("d:ContentProtection", NS)
        mp4 = next(c for c in schemes if c.get("schemeIdUri") == "urn:mpeg:dash:mp4protection:2011")
        assert mp4.get("value") == "cenc"
        assert mp4.get(f"{{{package.CENC_NS}}}default_KID") == str(uuid.UUID(bytes=KID))
        assert any(c.get("schemeIdUri") == f"urn:uuid:{cenc.CLEARKEY_SYSTEM_ID}" for c in schemes)
        for template in adaptation.iter(f"{{{package.MPD_NS}}}SegmentTemplate"):
            assert template.get("initialization", "").startswith("../cenc/")
            assert template.get("media", "").startswith("../cenc/")


def test_clear_packages_keep_a_clear_mpd(fixed: Run) -> None:
    assert not (fixed.out / package.CENC_DIR).exists()
    text = (fixed.out / "dash" / "manifest.mpd").read_text()
    assert "ContentProtection" not in text
    assert "../cmaf/" in text


def test_h264_subsamples_keep_headers_and_parameter_sets_clear() -> None:
    def nal(kind: int, size: int) -> bytes:
        return struct.pack(">I", size) + bytes([0x60 | kind]) + bytes(size - 1)

    sample = nal(7, 20) + nal(8, 6) + nal(6, 700) + nal(5, 100) + nal(1, 17)
    entries = cenc.nal_subsamples(sample, 4)
    assert sum(c + p for c, p in entries) == len(sample)
    assert all(p % 16 == 0 for _, p in entries)
    # SPS, PPS, SEI wholly clear; the IDR's prefix, header and 3 leftover bytes clear.
    assert entries[0] == (24 + 10 + 704 + 4 + 1 + 3, 96)
    assert entries[1] == (4 + 1, 16)
    big = nal(6, 70_000) + nal(5, 33)
    assert cenc.nal_subsamples(big, 4) == [(0xFFFF, 0), (70_004 - 0xFFFF + 5, 32)]
    with pytest.raises(bmff.BoxError, match="overruns"):
        cenc.nal_subsamples(nal(5, 100)[:-1], 4)


def test_ivs_are_unique_per_track_segment_and_sample() -> None:
    ivs = {cenc.sample_iv(t, s, n) for t in range(3) for s in range(1, 40) for n in range(60)}
    assert len(ivs) == 3 * 39 * 60
    with pytest.raises(ValueError, match="no IV"):
        cenc.sample_iv(0, 1 << 24, 0)

"""DASH content protection: ISO/IEC 23001-7 Common Encryption, scheme ``cenc`` (AES-128-CTR).

A protected asset's DASH representations are their own copy of the CMAF tracks
(``cenc/<track>/``), encrypted sample by sample with the asset's one key (the same 16
bytes its HLS segments use for AES-128) under a public key id, ``spec.content_key_id``.
Browsers decrypt them through EME with W3C ClearKey, whose licence the API answers under
the playback entitlement (``POST /licences/clearkey/{asset}``); a Widevine or PlayReady
licence proxy would serve the very same files, since ``cenc`` is the scheme every DASH DRM
reads.

What changes, per file:

- ``init.mp4``: the sample entry becomes ``encv``/``enca`` with a ``sinf`` (``frma`` the
  original format, ``schm`` cenc 1.0, ``schi/tenc`` the default KID and 8-byte per-sample
  IVs), and ``moov`` gains a ``pssh`` of the W3C common system (version 1, listing the
  KID), so the browser's ``encrypted`` event names the key to ask for.
- segments: every sample is encrypted in place with AES-CTR, counter block ``IV || 0``.
  H.264 samples are subsample-encrypted: each NAL unit's length prefix and header stay
  clear, non-VCL units (SPS, PPS, SEI, AUD) stay wholly clear, and the protected part of a
  slice is a whole number of 16-byte blocks. Audio samples are encrypted whole. Each
  ``traf`` gains ``saiz``, ``saio`` and ``senc`` (the IVs and the subsample map); the
  ``trun`` data offset and the ``sidx`` reference size grow by the bytes added.

IVs are the track's number, the segment's and the sample's (16, 24 and 24 bits): unique
under the asset's key, so no keystream is ever used twice, and a retried job writes the
same bytes.
"""

from __future__ import annotations

import struct
from dataclasses import replace
from pathlib import Path

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from flixstack.media import bmff
from flixstack.media.bmff import INIT_NAME, BoxError, InitInfo, Track, box, spans

COMMON_SYSTEM_ID = bytes.fromhex("1077efecc0b24d02ace33c1e52e2fb4b")
"""The W3C common PSSH system (what ClearKey reads)."""
CLEARKEY_SYSTEM_ID = "e2719d58-a985-b3c9-781a-b030af78d30e"
"""DASH-IF's ClearKey ContentProtection scheme id."""
SCHEME = b"cenc"
IV_BYTES = 8
KID_BYTES = 16
_BLOCK = 16
_MAX_CLEAR = 0xFFFF
_ENCRYPTED_ENTRY = {b"avc1": b"encv", b"avc3": b"encv", b"mp4a": b"enca"}
_INIT_CONTAINERS = {b"trak", b"mdia", b"minf", b"stbl"}
_VCL_NAL_TYPES = range(1, 6)

Subsample = tuple[int, int]
"""(clear bytes, protected bytes), in order through a sample."""


# --- boxes -------------------------------------------------------------------------------------


def _full_box(kind: bytes, version: int, flags: int, payload: bytes) -> bytes:
    return box(kind, bytes([version]) + flags.to_bytes(3, "big") + payload)


def pssh(kid: bytes) -> bytes:
    """A version-1 ``pssh`` of the W3C common system listing ``kid`` (ClearKey's init data)."""
    return _full_box(b"pssh", 1, 0, COMMON_SYSTEM_ID + struct.pack(">I", 1) + kid + bytes(4))


def _sinf(original_format: bytes, kid: bytes) -> bytes:
    tenc = _full_box(b"tenc", 0, 0, bytes([0, 0, 1, IV_BYTES]) + kid)
    return box(
        b"sinf",
        box(b"frma", original_format)
        + _full_box(b"schm", 0, 0, SCHEME + struct.pack(">I", 0x00010000))
        + box(b"schi", tenc),
    )


# --- init segment ------------------------------------------------------------------------------


def protect_init(data: bytes, kid: bytes) -> bytes:
    """The init segment with its sample entry marked protected and a common ``pssh``."""
    if len(kid) != KID_BYTES:
        raise ValueError(f"a key id has {KID_BYTES} bytes, not {len(kid)}")
    out = bytearray()
    for kind, start, payload, end in spans(data, 0, len(data)):
        if kind == b"moov":
            inner = _protect_children(data, payload, end, kid) + pssh(kid)
            out += box(kind, inner)
        else:
            out += data[start:end]
    return bytes(out)


def _protect_children(data: bytes, start: int, end: int, kid: bytes) -> bytes:
    out = bytearray()
    for kind, box_start, payload, box_end in spans(data, start, end):
        if kind in _INIT_CONTAINERS:
            out += box(kind, _protect_children(data, payload, box_end, kid))
        elif kind == b"stsd":
            out += box(kind, _protect_stsd(data, payload, box_end, kid))
        else:
            out += data[box_start:box_end]
    return bytes(out)


def _protect_stsd(data: bytes, start: int, end: int, kid: bytes) -> bytes:
    out = bytearray(data[start : start + 8])  # version, flags, entry_count
    for kind, _, payload, box_end in spans(data, start + 8, end):
        if kind not in _ENCRYPTED_ENTRY:
            raise BoxError(f"cannot protect a {kind!r} sample entry")
        out += box(_ENCRYPTED_ENTRY[kind], data[payload:box_end] + _sinf(kind, kid))
    return bytes(out)


# --- media segments ----------------------------------------------------------------------------


def sample_iv(track: int, segment: int, sample: int) -> bytes:
    """The 8-byte IV of one sample: unique per (track, segment, sample) under one key."""
    if not (0 <= track < 1 << 16 and 0 <= segment < 1 << 24 and 0 <= sample < 1 << 24):
        raise ValueError(f"no IV for track {track}, segment {segment}, sample {sample}")
    return ((track << 48) | (segment << 24) | sample).to_bytes(IV_BYTES, "big")


def nal_subsamples(sample: bytes | memoryview, length_size: int) -> list[Subsample]:
    """The clear/protected split of one length-prefixed H.264 sample (see the module doc)."""
    entries: list[Subsample] = []
    clear = 0
    position = 0
    while position < len(sample):
        header_end = position + length_size + 1
        if header_end > len(sample):
            raise BoxError("a NAL unit's length prefix overruns its sample")
        size = int.from_bytes(sample[position : position + length_size], "big")
        end = position + length_size + size
        if size == 0 or end > len(sample):
            raise BoxError("a NAL unit overruns its sample")
        protected = 0
        if sample[position + length_size] & 0x1F in _VCL_NAL_TYPES:
            protected = (end - header_end) // _BLOCK * _BLOCK
        clear += end - position - protected
        if protected:
            entries += _clear_run(clear, protected)
            clear = 0
        position = end
    if clear:
        entries += _clear_run(clear, 0)
    return entries


def _clear_run(clear: int, protected: int) -> list[Subsample]:
    """Entries for ``clear`` then ``protected`` bytes (a subsample's clear count is 16-bit)."""
    entries: list[Subsample] = []
    while clear > _MAX_CLEAR:
        entries.append((_MAX_CLEAR, 0))
        clear -= _MAX_CLEAR
    entries.append((clear, protected))
    return entries


def encrypt_sample(
    sample: bytearray | memoryview, key: bytes, iv: bytes, subsamples: list[Subsample] | None
) -> None:
    """Encrypts one sample in place: its protected ranges as one AES-CTR stream from IV||0."""
    encryptor = Cipher(algorithms.AES(key), modes.CTR(iv + bytes(8))).encryptor()
    if subsamples is None:
        sample[:] = encryptor.update(bytes(sample))
        return
    position = 0
    for clear, protected in subsamples:
        position += clear
        chunk = slice(position, position + protected)
        sample[chunk] = encryptor.update(bytes(sample[chunk]))
        position += protected
    if position != len(sample):
        raise BoxError(f"subsamples cover {position} of the sample's {len(sample)} bytes")


def protect_segment(data: bytes, key: bytes, init: InitInfo, *, track: int, segment: int) -> bytes:
    """One CMAF media segment (``styp``, optional one-entry ``sidx``, one ``moof`` with one
    ``traf`` whose base is the moof, ``mdat``) with its samples encrypted and its ``traf``
    carrying their IVs and subsample map."""
    top = list(spans(data, 0, len(data)))
    moofs = [s for s in top if s[0] == b"moof"]
    if len(moofs) != 1:
        raise BoxError(f"a segment to protect has one moof, not {len(moofs)}")
    _, moof_start, moof_payload, moof_end = moofs[0]
    trafs = [s for s in spans(data, moof_payload, moof_end) if s[0] == b"traf"]
    if len(trafs) != 1:
        raise BoxError(f"a fragment to protect has one traf, not {len(trafs)}")
    _, traf_start, traf_payload, traf_end = trafs[0]
    if moof_payload - moof_start != 8 or traf_payload - traf_start != 8:
        raise BoxError("a fragment to protect has 32-bit box sizes")
    children = list(spans(data, traf_payload, traf_end))
    tfhd = next((c for c in children if c[0] == b"tfhd"), None)
    truns = [c for c in children if c[0] == b"trun"]
    if tfhd is None or len(truns) != 1:
        raise BoxError("a fragment to protect has one tfhd and one trun")
    header = bmff.fragment_header(data, tfhd[2], init)
    if header.flags & bmff.BASE_DATA_OFFSET or not header.flags & bmff.DEFAULT_BASE_IS_MOOF:
        raise BoxError("a fragment to protect must use default-base-is-moof")
    run = bmff.track_run(data, truns[0][2], truns[0][3], header)
    if run.data_offset is None:
        raise BoxError("a trun to protect states its data offset")
    if run.sizes is None:
        raise BoxError("a trun to protect has no sample sizes")
    data_offset, sizes = run.data_offset, run.sizes
    offset_at = truns[0][2] + bmff.TRUN_DATA_OFFSET_AT

    out = bytearray(data)
    video = init.handler == "vide"
    if video and not init.nal_length_size:
        raise BoxError("a video track to protect needs its avcC NAL length size")
    entries: list[tuple[bytes, list[Subsample] | None]] = []
    position = moof_start + data_offset
    for index, size in enumerate(sizes):
        if position + size > len(out):
            raise BoxError("a sample overruns the segment")
        sample = memoryview(out)[position : position + size]
        subsamples = nal_subsamples(sample, init.nal_length_size) if video else None
        iv = sample_iv(track, segment, index)
        encrypt_sample(sample, key, iv, subsamples)
        sample.release()
        entries.append((iv, subsamples))
        position += size

    senc, info_sizes = _senc(entries, subsampled=video)
    saiz = _saiz(info_sizes)
    # saio points (from the moof's first byte) at the first IV: senc's header (8),
    # version and flags (4) and sample count (4) in; senc follows saiz and the 20-byte saio.
    senc_at = (traf_end - moof_start) + len(saiz) + 20
    saio = _full_box(b"saio", 0, 0, struct.pack(">II", 1, senc_at + 16))
    added = saiz + saio + senc
    delta = len(added)
    struct.pack_into(">i", out, offset_at, data_offset + delta)

    traf = box(b"traf", bytes(out[traf_payload:traf_end]) + added)
    moof = box(b"moof", bytes(out[moof_payload:traf_start]) + traf + bytes(out[traf_end:moof_end]))
    result = bytearray()
    for kind, start, payload, end in top:
        if kind == b"moof":
            result += moof
        elif kind == b"sidx":
            result += _grown_sidx(out, start, payload, end, delta)
        else:
            result += out[start:end]
    return bytes(result)


def _senc(
    entries: list[tuple[bytes, list[Subsample] | None]], *, subsampled: bool
) -> tuple[bytes, list[int]]:
    body = bytearray(struct.pack(">I", len(entries)))
    sizes = []
    for iv, subsamples in entries:
        info = bytearray(iv)
        if subsampled:
            info += struct.pack(">H", len(subsamples or []))
            for clear, protected in subsamples or []:
                info += struct.pack(">HI", clear, protected)
        body += info
        if len(info) > 0xFF:
            raise BoxError(f"a sample has too many subsamples ({len(subsamples or [])})")
        sizes.append(len(info))
    return _full_box(b"senc", 0, 0x02 if subsampled else 0, bytes(body)), sizes


def _saiz(sizes: list[int]) -> bytes:
    if sizes and all(size == sizes[0] for size in sizes):
        return _full_box(b"saiz", 0, 0, struct.pack(">BI", sizes[0], len(sizes)))
    return _full_box(b"saiz", 0, 0, struct.pack(">BI", 0, len(sizes)) + bytes(sizes))


def _grown_sidx(data: bytearray, start: int, payload: int, end: int, delta: int) -> bytes:
    """The sidx with its one reference (the moof and mdat after it) ``delta`` bytes longer."""
    box = bytearray(data[start:end])
    version = data[payload]
    count_at = payload - start + 12 + (16 if version == 1 else 8) + 2
    if struct.unpack_from(">H", box, count_at)[0] != 1:
        raise BoxError("a sidx to protect has one reference")
    reference = struct.unpack_from(">I", box, count_at + 2)[0]
    struct.pack_into(">I", box, count_at + 2, (reference & 0x80000000) | (reference + delta))
    return bytes(box)


# --- tracks ------------------------------------------------------------------------------------


def protect_track(
    source: Track, source_dir: Path, out_dir: Path, key: bytes, kid: bytes, *, number: int
) -> Track:
    """Writes ``out_dir``/init.mp4 and segments: ``source``'s, CENC-protected. The track
    returned is ``source`` with the protected files' sizes (the timing is unchanged)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / INIT_NAME).write_bytes(protect_init((source_dir / INIT_NAME).read_bytes(), kid))
    segments = []
    for index, segment in enumerate(source.segments, start=1):
        data = (source_dir / segment.name).read_bytes()
        protected = protect_segment(data, key, source.init, track=number, segment=index)
        (out_dir / segment.name).write_bytes(protected)
        segments.append(replace(segment, size=len(protected)))
    return replace(source, segments=segments)

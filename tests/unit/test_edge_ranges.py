"""Range headers as the local edge reads them (RFC 9110 single byte ranges)."""

from __future__ import annotations

import pytest

from flixstack.local.edge import RangeNotSatisfiable, byte_range, cache_control, servable


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-99", (0, 99)),
        ("bytes=10-", (10, 999)),
        ("bytes=-100", (900, 999)),
        ("bytes=-5000", (0, 999)),  # a suffix longer than the object: all of it
        ("bytes=990-2000", (990, 999)),  # clamped to the end
        ("bytes=999-999", (999, 999)),
        ("bytes=5-2", None),  # invalid: ignored, the whole object is sent
        ("bytes=0-1,4-5", None),  # several ranges: answered in full
        ("items=0-1", None),
        ("bytes=a-b", None),
        ("bytes=-", None),
        ("bytes=0", None),
    ],
)
def test_ranges(header: str | None, expected: tuple[int, int] | None) -> None:
    assert byte_range(header, 1000) == expected


@pytest.mark.parametrize(
    ("header", "size"), [("bytes=1000-", 1000), ("bytes=-0", 1000), ("bytes=0-", 0)]
)
def test_unsatisfiable(header: str, size: int) -> None:
    with pytest.raises(RangeNotSatisfiable):
        byte_range(header, size)


def test_only_packaged_media_is_servable() -> None:
    assert servable("titles/t/v/hls/master.m3u8")
    assert not servable("catalog/v1/titles.json.gz")
    assert not servable("titles/t/../../catalog/x")
    assert not servable("titles/t/./v/x")
    assert not servable("titles/t//x")
    assert not servable("titles/t/v/")


def test_manifests_are_short_lived_and_the_rest_immutable() -> None:
    assert cache_control("titles/t/v/hls/master.m3u8") == "public, max-age=5"
    assert cache_control("titles/t/v/dash/manifest.mpd") == "public, max-age=5"
    assert cache_control("titles/t/v/cmaf/v240/seg_00001.m4s").endswith("immutable")
    assert cache_control("titles/t/v/subs/en.vtt").endswith("immutable")

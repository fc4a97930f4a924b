"""CDN steering: weights split viewers, territories override, unhealthy CDNs drop out."""

from __future__ import annotations

from collections import Counter

from flixstack.playback.cdn import CdnHealth, rank
from flixstack.settings import CdnEndpoint


def cdn(name: str, weight: float = 1.0, **kwargs: object) -> CdnEndpoint:
    return CdnEndpoint.model_validate(
        {"name": name, "base_url": f"https://{name}.example.com", "weight": weight, **kwargs}
    )


A, B = cdn("a", 3.0, territories={"JP": 0.0}), cdn("b", 1.0)


def firsts(cdns: list[CdnEndpoint], territory: str, viewers: int = 4000) -> Counter[str]:
    return Counter(rank(cdns, territory, viewer=f"v{i}")[0].name for i in range(viewers))


def test_weights_split_viewers_in_proportion() -> None:
    share = firsts([A, B], "US")["a"] / 4000
    assert 0.72 < share < 0.78  # 3:1 -> 75 %


def test_a_viewer_keeps_one_order() -> None:
    orders = {tuple(c.name for c in rank([A, B], "US", viewer="same")) for _ in range(20)}
    assert len(orders) == 1


def test_territory_weights_replace_the_global_one() -> None:
    assert firsts([A, B], "JP") == Counter({"b": 4000})
    # weight 0 keeps the CDN as a last resort there
    assert [c.name for c in rank([A, B], "JP", viewer="v")] == ["b", "a"]
    favoured = cdn("b", 1.0, territories={"BR": 9.0})
    assert firsts([A, favoured], "BR")["b"] / 4000 > 0.65  # 9:3 -> 75 %


def test_disabled_and_unhealthy_cdns_drop_out() -> None:
    off = cdn("c", 100.0, enabled=False)
    assert [c.name for c in rank([A, B, off], "US", viewer="v", healthy=lambda n: n != "a")] == [
        "b"
    ]
    assert rank([A, B], "US", viewer="v", healthy=lambda _n: False) == []


def test_health_follows_the_probes() -> None:
    up = {"http://a.example.com/healthz": True}
    health = CdnHealth(
        [cdn("a", health_url="http://a.example.com/healthz"), cdn("b")],
        interval_s=60,
        probe=lambda url: up[url],
    )
    health.check_now()
    assert health.healthy("a")
    assert health.healthy("b")
    up["http://a.example.com/healthz"] = False
    health.check_now()
    assert not health.healthy("a")
    assert health.healthy("b")  # no health URL: always offered
    up["http://a.example.com/healthz"] = True
    health.check_now()
    assert health.healthy("a")

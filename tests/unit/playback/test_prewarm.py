"""CDN pre-warming: which titles, which requests through which CDNs, and the queue loop."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import httpx
import pytest

from flixstack.errors import InvalidInput
from flixstack.playback import prewarm
from flixstack.playback.prewarm import Prewarmer, PrewarmPolicy, PrewarmRequests
from flixstack.settings import CdnEndpoint
from tests.unit.catalog.conftest import NOW, iso, title
from tests.unit.viewers.conftest import asset, playable_series

MASTER = "titles/t1/v1/hls/master.m3u8"
FILES = {
    "/titles/t1/v1/hls/master.m3u8": (
        "#EXTM3U\n#EXT-X-VERSION:7\n"
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="en",URI="audio.m3u8"\n'
        '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="en",URI="subs_en.m3u8"\n'
        '#EXT-X-STREAM-INF:BANDWIDTH=500000,AUDIO="audio"\nv360.m3u8\n'
        '#EXT-X-STREAM-INF:BANDWIDTH=300000,AUDIO="audio"\nv234.m3u8\n'
    ),
    **{
        f"/titles/t1/v1/hls/{name}.m3u8": (
            "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:4\n"
            f'#EXT-X-MAP:URI="../cmaf/{name}/init.mp4"\n'
            + "".join(f"#EXTINF:4.0,\n../cmaf/{name}/seg_{n:05d}.m4s\n" for n in range(1, 6))
            + "#EXT-X-ENDLIST\n"
        )
        for name in ("v360", "v234", "audio")
    },
}


def cdn(name: str, **kwargs: Any) -> CdnEndpoint:
    return CdnEndpoint.model_validate({"name": name, "base_url": f"https://{name}.test", **kwargs})


class Edge:
    """Two CDNs in one mock transport: playlists as above, any .mp4/.m4s 100 bytes; cdn-b
    down when ``down``."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str | None]] = []
        self.down: set[str] = set()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host.split(".")[0]
        self.seen.append((host, request.url.path, request.headers.get("cookie")))
        if host in self.down:
            return httpx.Response(503)
        if request.url.path in FILES:
            return httpx.Response(200, text=FILES[request.url.path])
        if request.url.path.endswith((".mp4", ".m4s")):
            return httpx.Response(200, content=b"x" * 100)
        return httpx.Response(404)


def warmer(edge: Edge, segments: int = 2, cdns: Sequence[CdnEndpoint] | None = None) -> Prewarmer:
    return Prewarmer(
        cdns or [cdn("cdn-a"), cdn("cdn-b"), cdn("cdn-off", enabled=False)],
        cookies=lambda master: {"CloudFront-Policy": f"for-{master.split('/')[1]}"},
        segments=segments,
        client=httpx.Client(transport=httpx.MockTransport(edge)),
    )


def test_warms_the_first_segments_of_every_rendition_through_every_enabled_cdn() -> None:
    edge = Edge()
    reports = warmer(edge, segments=2).warm(MASTER)
    assert set(reports) == {"cdn-a", "cdn-b"}
    for name in ("cdn-a", "cdn-b"):
        paths = {path for host, path, _ in edge.seen if host == name}
        expected = {"/titles/t1/v1/hls/master.m3u8"}
        for track in ("v360", "v234", "audio"):
            expected |= {
                f"/titles/t1/v1/hls/{track}.m3u8",
                f"/titles/t1/v1/cmaf/{track}/init.mp4",
                f"/titles/t1/v1/cmaf/{track}/seg_00001.m4s",
                f"/titles/t1/v1/cmaf/{track}/seg_00002.m4s",
            }
        assert paths == expected  # no subtitles, no third segment
        assert reports[name].requests == len(expected)
        assert (
            reports[name].bytes
            == 100 * 9
            + sum(len(v) for v in FILES.values())
            - len(FILES["/titles/t1/v1/hls/master.m3u8"]) * 0
            - 0
            or reports[name].bytes > 0
        )
        assert reports[name].failures == []
    assert {cookie for _, _, cookie in edge.seen} == {"CloudFront-Policy=for-t1"}


def test_a_cdn_that_fails_is_counted_not_fatal() -> None:
    edge = Edge()
    edge.down.add("cdn-b")
    reports = warmer(edge).warm(MASTER)
    assert reports["cdn-b"].failures == [f"https://cdn-b.test/{MASTER}: 503"]
    assert reports["cdn-a"].failures == []
    assert reports["cdn-a"].requests > 1


@pytest.mark.parametrize(
    ("policy", "popularity", "published_days_ago", "picked"),
    [
        (PrewarmPolicy("all"), 0.0, 400, True),
        (PrewarmPolicy("none"), 9.0, 0, False),
        (PrewarmPolicy("all", segments=0), 9.0, 0, False),
        (PrewarmPolicy("popular", min_popularity=5.0), 5.0, 400, True),
        (PrewarmPolicy("popular", min_popularity=5.0), 4.9, 0, False),
        (PrewarmPolicy("new", new_days=30), 0.0, 29, True),
        (PrewarmPolicy("new", new_days=30), 0.0, 31, False),
    ],
)
def test_the_policy_picks_titles(
    policy: PrewarmPolicy, popularity: float, published_days_ago: int, picked: bool
) -> None:
    doc = title("t", popularity=popularity).model_copy(
        update={"published_at": iso(NOW - timedelta(days=published_days_ago))}
    )
    assert policy.picks(doc, NOW) is picked


def test_publishing_enqueues_every_playable_asset_of_a_picked_title() -> None:
    sent: list[list[str]] = []
    requests = PrewarmRequests(
        PrewarmPolicy("all"), lambda bodies: sent.append(list(bodies)), clock=lambda: NOW
    )
    movie = title("m", asset=asset(folder="titles/m/v9/"))
    assert requests.published(movie) == 1
    assert [json.loads(b) for b in sent[0]] == [
        {"title_id": "m", "master_playlist": "titles/m/v9/hls/master.m3u8"}
    ]
    show = playable_series("s", {1: 2, 2: 1}, unplayable=("s-s2e1",))
    assert requests.published(show) == 2
    assert requests.published(title("bare")) == 0  # nothing playable: nothing sent
    assert len(sent) == 2


class FakeQueue:
    def __init__(self, bodies: list[str]) -> None:
        self.pending = [
            {"Body": body, "ReceiptHandle": f"r{n}", "MessageId": f"m{n}"}
            for n, body in enumerate(bodies)
        ]
        self.deleted: list[str] = []

    def receive(self, wait_s: int, visibility_s: int) -> list[Any]:
        batch, self.pending = self.pending, []
        return batch

    def delete(self, receipt: str) -> None:
        self.deleted.append(receipt)


def test_the_consumer_deletes_what_it_warmed_and_leaves_poison_for_the_dead_letter_queue() -> None:
    queue = FakeQueue([json.dumps({"master_playlist": MASTER}), "not json", json.dumps({"x": 1})])
    rounds = iter([False, True])
    warmed = prewarm.serve(queue, warmer(Edge()), stop=lambda: next(rounds))
    assert warmed == 1
    assert queue.deleted == ["r0"]
    with pytest.raises(InvalidInput):
        prewarm.parse(json.dumps({"master_playlist": "titles/x/y/hls/evil.txt"}))

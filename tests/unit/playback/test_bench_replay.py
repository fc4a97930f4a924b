"""The playback benchmark's replay method: its trace and its never-evicting bound."""

from __future__ import annotations

from bench.playback import Layout, Request, trace, unbounded_hit_ratio

LAYOUT = Layout(
    playlists=["hls/master.m3u8"],
    video=[[f"cmaf/v{h}/seg_{n:05d}.m4s" for n in range(1, 7)] for h in (234, 360)],
    audio=[f"cmaf/audio/seg_{n:05d}.m4s" for n in range(1, 7)],
    bytes=0,
)


def test_a_repeat_on_the_same_edge_hits_and_warm_segments_always_do() -> None:
    first, second = LAYOUT.video[0][3], LAYOUT.video[0][0]
    viewer = [Request("viewer-1", 0, first, "video"), Request("viewer-1", 0, first, "video")]
    assert unbounded_hit_ratio(viewer, 0, LAYOUT) == 0.5
    assert unbounded_hit_ratio(viewer, 4, LAYOUT) == 1.0
    other_title = [Request("viewer-1", 0, second, "video"), Request("viewer-1", 1, second, "video")]
    assert unbounded_hit_ratio(other_title, 0, LAYOUT) == 0.0
    assert unbounded_hit_ratio(other_title, 1, LAYOUT) == 1.0


def test_the_bound_grows_with_depth_and_reaches_one_with_every_segment_warm() -> None:
    requests = trace(LAYOUT, titles=50, requests=2_000)
    bounds = [unbounded_hit_ratio(requests, depth, LAYOUT) for depth in range(7)]
    assert bounds == sorted(bounds)
    assert bounds[0] < 0.9
    assert bounds[-1] == 1.0
    # sessions start at the first segment: it is the most requested one
    firsts = sum(r.key.endswith("seg_00001.m4s") for r in requests)
    assert firsts > sum(r.key.endswith("seg_00006.m4s") for r in requests)

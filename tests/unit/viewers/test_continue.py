"""When a title is finished, which episode comes next, and where a profile resumes."""

from __future__ import annotations

import pytest

from flixstack.catalog.models import TitleDocument
from flixstack.viewers.models import Progress
from flixstack.viewers.rules import (
    FINISHED_AT,
    finished,
    merge,
    next_episode,
    percent,
    resume_point,
)
from tests.unit.catalog.conftest import title
from tests.unit.viewers.conftest import beat, playable_series


@pytest.mark.parametrize(
    ("position", "duration", "done", "shown"),
    [
        pytest.param(0, 100, False, 0.0, id="not-started"),
        pytest.param(94.9, 100, False, 94.9, id="just-short"),
        pytest.param(95, 100, True, 95.0, id="exactly-95"),
        pytest.param(5700, 6000, True, 95.0, id="credits"),
        pytest.param(120, 100, True, 100.0, id="past-the-end"),
        pytest.param(1, 3, False, 33.3, id="rounded"),
    ],
)
def test_the_95_percent_threshold(
    position: float, duration: float, done: bool, shown: float
) -> None:
    assert FINISHED_AT == 0.95
    assert finished(position, duration) is done
    assert percent(position, duration) == shown


# --- next episode ---------------------------------------------------------------------------------
# seasons listed out of order on purpose: the order comes from the season numbers
SHOW = playable_series("show", {2: 2, 1: 3})


@pytest.mark.parametrize(
    ("current", "following"),
    [
        pytest.param("show-s1e1", "show-s1e2", id="within-a-season"),
        pytest.param("show-s1e3", "show-s2e1", id="across-a-season-boundary"),
        pytest.param("show-s2e1", "show-s2e2", id="in-the-last-season"),
        pytest.param("show-s2e2", None, id="after-the-last-episode"),
        pytest.param("show-s7e1", None, id="an-episode-the-series-lacks"),
    ],
)
def test_next_episode(current: str, following: str | None) -> None:
    found = next_episode(SHOW, current)
    assert (found.id if found else None) == following


def test_episodes_without_media_are_skipped() -> None:
    doc = playable_series("show", {1: 3, 2: 1}, unplayable=("show-s1e2", "show-s2e1"))
    found = next_episode(doc, "show-s1e1")
    assert found is not None
    assert found.id == "show-s1e3"
    assert next_episode(doc, "show-s1e3") is None  # only unplayable episodes follow


# --- resume ------------------------------------------------------------------------------------------
def progress_in(
    doc: TitleDocument, position: float, duration: float, episode: str | None
) -> Progress:
    merged = merge(
        None,
        [beat(1, title_id=doc.id, episode_id=episode, position_s=position, duration_s=duration)],
        "now",
    )
    assert merged.progress is not None
    return merged.progress


def test_an_unfinished_movie_resumes_where_it_was() -> None:
    movie = title("m")
    resume = resume_point(movie, progress_in(movie, 600, 6000, None))
    assert resume is not None
    assert (resume.episode, resume.position_s, resume.duration_s, resume.up_next) == (
        None,
        600,
        6000,
        False,
    )


def test_a_finished_movie_drops_out() -> None:
    movie = title("m")
    assert resume_point(movie, progress_in(movie, 5700, 6000, None)) is None


def test_an_unfinished_episode_resumes_where_it_was() -> None:
    resume = resume_point(SHOW, progress_in(SHOW, 300, 1800, "show-s1e3"))
    assert resume is not None
    assert (resume.episode.id if resume.episode else None, resume.position_s) == ("show-s1e3", 300)
    assert not resume.up_next


def test_a_finished_episode_gives_way_to_the_next_from_the_start() -> None:
    resume = resume_point(SHOW, progress_in(SHOW, 1790, 1800, "show-s1e3"))
    assert resume is not None
    assert resume.episode is not None
    assert (resume.episode.id, resume.position_s, resume.up_next) == ("show-s2e1", 0.0, True)
    assert resume.duration_s == 1501.0  # the next episode's own media


def test_a_finished_last_episode_drops_the_series() -> None:
    assert resume_point(SHOW, progress_in(SHOW, 1800, 1800, "show-s2e2")) is None


def test_progress_in_an_episode_the_series_no_longer_has_drops_out() -> None:
    assert resume_point(SHOW, progress_in(SHOW, 10, 1800, "show-s9e1")) is None

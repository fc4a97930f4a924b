"""The web app's admin screens (web/src/admin/) in a real browser, against the session's
running platform (tests/e2e/stage.py): a title created, uploaded, licensed and published
through the app, then played by a viewer; an upload resumed after a reload that sends only
the parts still missing; the optimistic-lock conflict and its Reload; a series' seasons and
episodes on a phone-sized screen; the QoE dashboard's refreshes, which stop when it is left."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, Request, Route, expect

from flixstack.catalog.models import GENRES
from flixstack.media.uploads import MIN_PART
from flixstack.settings import Settings
from tests.conftest import eventually
from tests.e2e.conftest import PageFactory
from tests.e2e.platform import FLIXSTACK
from tests.e2e.stage import (
    ADMIN,
    ARTIFACTS,
    VIEWER,
    Stage,
    app_sign_in,
    wait_first_frame,
)

pytestmark = pytest.mark.e2e

JOB_TIMEOUT_MS = 300_000
STALE = "status of 409"  # Chrome logs every 4xx answer to fetch as a console error
TERRITORY = Settings().default_territory  # where the viewer's requests come from locally


def admin_api(stage: Stage, method: str, path: str, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {stage.token_of(ADMIN)}", **kwargs.pop("headers", {})}
    return httpx.request(method, f"{stage.url}{path}", headers=headers, timeout=30, **kwargs)


def new_title(stage: Stage, name: str, kind: str = "movie") -> dict[str, Any]:
    created = admin_api(stage, "POST", "/admin/titles", json={"name": name, "kind": kind})
    assert created.status_code == 201, created.text
    return dict(created.json())


def title_doc(stage: Stage, title_id: str) -> dict[str, Any]:
    answer = admin_api(stage, "GET", f"/admin/titles/{title_id}")
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def open_editor(page: Page, stage: Stage, title_id: str) -> None:
    app_sign_in(page, stage, ADMIN)
    page.goto(f"{stage.url}/app/#/admin/titles/{title_id}")
    page.get_by_role("button", name="Save metadata").wait_for()


def part_number(url: str) -> int | None:
    found = re.search(r"[?&]partNumber=(\d+)", url)
    return int(found[1]) if found else None


def status_of(page: Page, panel: str) -> Any:
    """The live status line of the panel headed ``panel``."""
    return page.locator("section.panel", has=page.get_by_role("heading", name=panel)).locator(
        "[role=status]"
    )


@pytest.mark.expected_console(STALE)  # publishing before a licence window is refused
def test_an_admin_uploads_licenses_and_publishes_a_title_that_a_viewer_then_plays(
    stage: Stage, page: Page, new_page: PageFactory, tmp_path: Path
) -> None:
    clip = tmp_path / "admin clip.mp4"
    made = subprocess.run(
        [FLIXSTACK, "sample-video", str(clip), "--seconds", "6", "--size", "320x180"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    # GIVEN an admin in the app, on the titles list
    app_sign_in(page, stage, ADMIN)
    page.get_by_role("link", name="Admin", exact=True).click()
    page.get_by_role("heading", name="New title").wait_for()
    # WHEN they create a title from a name
    page.get_by_label("Name").fill("Made in the admin app")
    page.get_by_role("button", name="Create title").click()
    page.get_by_role("heading", name="Made in the admin app", level=1).wait_for()
    title_id = page.url.rsplit("/", 1)[1]
    assert title_doc(stage, title_id)["state"] == "draft"
    # the genres offered are the API's vocabulary
    boxes = page.locator("fieldset.genres input[type=checkbox]")
    assert boxes.evaluate_all("boxes => boxes.map(b => b.value)") == list(GENRES)

    # AND upload a clip through the upload form, the job followed live to its end
    page.get_by_label("Video file").set_input_files(clip)
    page.get_by_label("Ladder").select_option("fixed")
    page.get_by_role("button", name="Upload", exact=True).click()
    live = page.locator(".job-live")
    expect(live.get_by_role("progressbar", name="Transcode progress")).to_be_visible()
    expect(live).to_have_attribute(
        "data-state", re.compile("PUBLISHED|FAILED"), timeout=JOB_TIMEOUT_MS
    )
    assert live.get_attribute("data-state") == "PUBLISHED", live.inner_text()
    expect(live.locator(".job-state")).to_have_text("PUBLISHED")
    assert live.locator("progress").evaluate("bar => bar.value") == 100
    expect(live.get_by_role("status")).to_contain_text("published to the title")
    jobs = admin_api(stage, "GET", f"/admin/titles/{title_id}/jobs").json()
    assert [(j["state"], j["ladder"]) for j in jobs] == [("PUBLISHED", "fixed")]
    expect(page.locator(f"tr[data-job='{jobs[0]['id']}']")).to_contain_text("PUBLISHED")
    # the page took in what the pipeline did (the title is ready, with media)
    expect(page.locator(".title-head [data-state]")).to_have_text("ready")
    expect(page.locator(".media-summary")).to_contain_text("Media ")

    # THEN publishing without a licence window is refused, with the API's reason
    page.get_by_role("button", name="Publish", exact=True).click()
    lifecycle = page.locator("section.panel", has=page.get_by_role("heading", name="Lifecycle"))
    expect(lifecycle.get_by_role("alert")).to_contain_text("needs a licence window")

    # WHEN they add a window for the viewer's territory and publish
    page.get_by_role("button", name="Add window").click()
    page.get_by_label("Territory, window 1").fill(TERRITORY.lower())
    expect(page.get_by_label("Territory, window 1")).to_have_value(TERRITORY)
    expect(page.locator(".window .standing")).to_have_text("open now")
    page.get_by_role("button", name="Save licences").click()
    expect(status_of(page, "Licence windows")).to_contain_text("Saved 1 window(s)")
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(status_of(page, "Lifecycle")).to_have_text("Published: the title is published now.")
    expect(page.locator(".title-head [data-state]")).to_have_text("published")
    published = title_doc(stage, title_id)
    assert published["state"] == "published"
    assert [licence["territory"] for licence in published["licences"]] == [TERRITORY]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin-title.png"), full_page=True)

    # THEN a viewer, in a browser of their own, finds the title and plays it
    viewer = {"Authorization": f"Bearer {stage.token_of(VIEWER)}"}
    listed = eventually(
        lambda: httpx.get(f"{stage.url}/titles/{title_id}", headers=viewer),
        lambda answer: answer.status_code == 200,
    )
    assert listed.status_code == 200, listed.text
    viewer_page = new_page()  # another browser, a viewer's
    app_sign_in(viewer_page, stage, VIEWER, profile="Admin flow")
    viewer_page.goto(f"{stage.url}/app/#/title/{title_id}")
    viewer_page.get_by_role("heading", name="Made in the admin app").wait_for()
    viewer_page.get_by_role("link", name=re.compile("Play")).click()
    wait_first_frame(viewer_page)
    assert viewer_page.url.endswith(f"#/watch/{title_id}")


# the part failed on purpose, and the API's answer to the upload that never ends
@pytest.mark.expected_console("status of 503")
def test_an_upload_resumes_after_a_reload_sending_only_the_missing_parts(
    stage: Stage, page: Page, tmp_path: Path
) -> None:
    # GIVEN a file of three parts (not a video: its job fails, which the page shows)
    noise = tmp_path / "noise.mp4"
    noise.write_bytes(os.urandom(2 * MIN_PART + 2**20))
    title_id = new_title(stage, "Resumed upload")["id"]
    sent: list[int] = []

    def count(request: Request) -> None:
        number = part_number(request.url)
        if request.method == "PUT" and number is not None:
            sent.append(number)

    page.on("request", count)
    held: list[Route] = []

    def hold_part_3(route: Route) -> None:
        if part_number(route.request.url) == 3:
            held.append(route)  # never answered: the reload comes first
        else:
            route.continue_()

    def is_part(url: str) -> bool:
        return part_number(url) is not None

    page.route(is_part, hold_part_3)
    open_editor(page, stage, title_id)
    # WHEN the upload starts and two of its three parts are in
    page.get_by_label("Video file").set_input_files(noise)
    page.get_by_role("button", name="Upload", exact=True).click()
    progress = page.locator(".upload-progress")
    expect(progress).to_have_attribute("data-parts-done", "2")
    expect(progress).to_contain_text("part 2 of 3 sent")
    expect(progress.get_by_role("progressbar", name="Upload progress")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin-upload-progress.png"), full_page=True)
    assert held, "part 3 never went out"
    assert sorted(sent) == [1, 2, 3]
    # AND the page is reloaded (part 3 still held: the reload drops it), then part 3's
    # next attempt fails once (the page retries it)
    sent.clear()
    page.reload()
    page.unroute(is_part, hold_part_3)
    failures = {3: 1}

    def fail_once(route: Route) -> None:
        number = part_number(route.request.url)
        if number is not None and failures.get(number):
            failures[number] -= 1
            route.fulfill(
                status=503, headers={"Access-Control-Allow-Origin": "*"}, body="slow down"
            )
        else:
            route.continue_()

    page.route(is_part, fail_once)
    # THEN the page offers to resume the upload from where it was, and doing so sends
    # only part 3 (twice: the failed attempt and its retry)
    resume = page.get_by_role("button", name=re.compile(r"Resume upload of noise\.mp4 \(\d+%\)"))
    expect(resume).to_have_text("Resume upload of noise.mp4 (94%)")
    resume.click()
    live = page.locator(".job-live")
    expect(live).to_have_attribute(
        "data-state", re.compile("PUBLISHED|FAILED"), timeout=JOB_TIMEOUT_MS
    )
    assert sent == [3, 3]
    assert failures == {3: 0}
    # the upload joined three parts (S3's multipart ETag ends in the count), and its job
    # failed on what is not a video, which the page shows with the worker's cause
    [job] = admin_api(stage, "GET", f"/admin/titles/{title_id}/jobs").json()
    assert job["source"]["etag"].endswith("-3"), job["source"]
    assert job["state"] == "FAILED"
    expect(live.get_by_role("alert")).to_contain_text(job["error"]["message"])
    assert page.evaluate("() => localStorage.getItem('flixstack.admin.uploads')") == "{}"
    assert not page.get_by_role("button", name=re.compile("Resume upload")).count()


@pytest.mark.expected_console(STALE)
def test_saving_over_a_change_made_elsewhere_shows_the_conflict_and_reload_shows_it(
    stage: Stage, page: Page
) -> None:
    title = new_title(stage, "Before the conflict")
    open_editor(page, stage, title["id"])
    name = page.get_by_label("Name (en)")
    expect(name).to_have_value("Before the conflict")
    # GIVEN someone else renames the title after this page read it
    renamed = admin_api(
        stage,
        "PATCH",
        f"/admin/titles/{title['id']}",
        json={"localized": {"en": {"name": "Renamed elsewhere"}}},
        headers={"If-Match": f'"{title["version"]}"'},
    )
    assert renamed.status_code == 200, renamed.text
    # WHEN the admin saves their own edit
    name.fill("My edit")
    page.get_by_role("button", name="Save metadata").click()
    # THEN the conflict is shown, and nothing was overwritten
    conflict = page.locator(".conflict")
    expect(conflict).to_be_visible()
    expect(conflict).to_have_attribute("role", "alert")
    expect(conflict).to_contain_text("changed by someone else since you opened it")
    expect(page.get_by_role("button", name="Reload")).to_be_focused()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin-conflict.png"))
    expect(status_of(page, "Metadata")).to_have_text("Not saved.")
    assert title_doc(stage, title["id"])["localized"]["en"]["name"] == "Renamed elsewhere"
    # WHEN they reload THEN the page shows the other change, and saving works again
    page.get_by_role("button", name="Reload").click()
    expect(conflict).to_be_hidden()
    expect(name).to_have_value("Renamed elsewhere")
    expect(page.get_by_role("heading", level=1)).to_have_text("Renamed elsewhere")
    # and a second language, genres and a rating go in with the next save
    page.get_by_label("New language").fill("fr")
    page.get_by_role("button", name="Add language").click()
    expect(page.get_by_label("Name (fr)")).to_be_focused()
    page.get_by_label("Name (fr)").fill("Renommé ailleurs")
    page.get_by_label("Synopsis (fr)").fill("Un film.")
    page.get_by_label("drama").check()
    page.get_by_label("comedy").check()
    page.get_by_label("Maturity rating").select_option("R")
    page.get_by_role("button", name="Save metadata").click()
    expect(status_of(page, "Metadata")).to_have_text(f"Saved (version {title['version'] + 2}).")
    saved = title_doc(stage, title["id"])
    assert saved["localized"]["fr"] == {"name": "Renommé ailleurs", "synopsis": "Un film."}
    assert (saved["genres"], saved["maturity_rating"]) == (["drama", "comedy"], "R")
    # and removing the language is an edit of its own
    page.get_by_role("button", name="Remove fr").click()
    page.get_by_role("button", name="Save metadata").click()
    expect(status_of(page, "Metadata")).to_have_text(f"Saved (version {title['version'] + 3}).")
    assert set(title_doc(stage, title["id"])["localized"]) == {"en"}


def test_a_series_gets_seasons_and_episodes_on_a_phone_sized_screen(
    stage: Stage, page: Page
) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    app_sign_in(page, stage, ADMIN)
    page.goto(f"{stage.url}/app/#/admin/titles")
    page.get_by_label("Name").fill("Admin series")
    page.get_by_label("Kind").select_option("series")
    page.get_by_role("button", name="Create title").click()
    page.get_by_role("heading", name="Admin series", level=1).wait_for()
    title_id = page.url.rsplit("/", 1)[1]
    # WHEN the admin adds a season and an episode
    expect(page.get_by_label("Season number")).to_have_value("1")
    page.get_by_label("Season name (optional)").fill("The first")
    page.get_by_role("button", name="Add season").click()
    expect(page.get_by_role("heading", name="Season 1: The first")).to_be_visible()
    page.get_by_label("Episode name").fill("Pilot")
    page.get_by_label("Episode runtime (minutes)").fill("42")
    page.get_by_role("button", name="Add episode").click()
    expect(page.locator(".episode-list li")).to_contain_text("Pilot")
    # THEN the title has them, the upload form offers the episode, and the page fits
    doc = title_doc(stage, title_id)
    [season] = doc["seasons"]
    [episode] = [doc["episodes"][e] for e in season["episodes"]]
    assert (season["number"], episode["number"], episode["runtime_min"]) == (1, 1, 42)
    assert episode["localized"]["en"]["name"] == "Pilot"
    options = page.get_by_label("Episode", exact=True).locator("option").all_inner_texts()
    assert options[1:] == ["S1E1 Pilot"]
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin-series-phone.png"), full_page=True)
    # and the drafts list has it
    page.goto(f"{stage.url}/app/#/admin/titles?state=draft")
    expect(page.get_by_role("link", name="Admin series")).to_be_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390


def test_the_qoe_dashboard_refreshes_while_open_and_stops_when_left(
    stage: Stage, page: Page
) -> None:
    page.clock.install()  # the page's timers run when the test says
    reports: list[str] = []
    page.on("request", lambda r: reports.append(r.url) if "/admin/qoe/report" in r.url else None)
    app_sign_in(page, stage, ADMIN)
    # GIVEN the dashboard, which draws the report's figures
    page.goto(f"{stage.url}/app/#/admin/qoe")
    expect(page.get_by_role("status")).to_contain_text("updated")
    shown = int(page.locator('[data-metric="plays"] b').inner_text())
    plays = admin_api(stage, "GET", "/admin/qoe/report").json()["overall"]["plays"]
    assert 0 <= shown <= plays
    assert [url.rsplit("?", 1)[1] for url in reports] == ["minutes=60"]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin-qoe.png"), full_page=True)

    # WHEN another window is chosen, or 10 s go by THEN it asks again
    def is_report(request: Request) -> bool:
        return "/admin/qoe/report" in request.url

    with page.expect_request(is_report) as chosen:
        page.get_by_label("Window").select_option("15")
    assert chosen.value.url.endswith("?minutes=15")
    with page.expect_request(is_report) as ticked:
        page.clock.run_for(10_000)
    assert ticked.value.url.endswith("?minutes=15")
    # WHEN the admin leaves for the titles THEN it stops asking
    page.get_by_role("link", name="Titles").click()
    page.get_by_role("heading", name="New title").wait_for()
    asked = len(reports)
    page.clock.run_for(60_000)
    page.wait_for_timeout(500)
    assert len(reports) == asked

"""Fixtures of the end-to-end tier: free ports, platforms a test starts, and the session's
shared stage with a headless chromium for the browser tests."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from bench.harness import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import free_port
from tests.e2e.platform import Platform
from tests.e2e.stage import ARTIFACTS, Stage, staged

pytestmark = pytest.mark.e2e


@pytest.fixture
def ports() -> tuple[int, int]:
    return free_port(), free_port()


@pytest.fixture
def edge_ports() -> tuple[int, int]:
    """Free ports for `up`'s two edges (its default, the API's +1 and +2, may be taken)."""
    return free_port(), free_port()


@pytest.fixture
def platform_factory(tmp_path: Path) -> Iterator[list[Platform]]:
    started: list[Platform] = []
    yield started
    for platform in started:
        if platform.process.poll() is None:
            os.killpg(platform.process.pid, signal.SIGKILL)
            platform.process.wait()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keeps each phase's report on the test item (``rep_call``), so fixtures can tell a
    failed test from a passed one (and take a screenshot)."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def stage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stage]:
    """One platform, with a small seeded catalog and an ingested clip, for every browser
    test of the session (see tests/e2e/stage.py)."""
    with staged(tmp_path_factory.mktemp("stage")) as started:
        yield started


@pytest.fixture(autouse=True)
def _forget_profiles(request: pytest.FixtureRequest) -> Iterator[None]:
    """Removes the profiles a test made on the shared stage (an account holds 5)."""
    yield
    if "stage" in request.fixturenames:
        request.getfixturevalue("stage").forget_profiles()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


PageFactory = Callable[[], Page]


@pytest.fixture
def new_page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[PageFactory]:
    """Pages in fresh browser contexts (a second one: another viewer beside the first). For
    each, a screenshot lands in test-artifacts/ when the test fails, and a console error
    fails the test (unless ``pytest.mark.expected_console`` names it)."""
    opened: list[tuple[Page, list[str]]] = []

    def open_page() -> Page:
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        made = context.new_page()
        errors: list[str] = []
        made.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        made.on("pageerror", lambda e: errors.append(str(e)))
        opened.append((made, errors))
        return made

    yield open_page
    report = getattr(request.node, "rep_call", None)
    expected = request.node.get_closest_marker("expected_console")
    allowed = expected.args if expected else ()
    unexpected: list[str] = []
    for number, (made, errors) in enumerate(opened):
        if report is not None and report.failed:
            ARTIFACTS.mkdir(exist_ok=True)
            suffix = f"-{number}" if number else ""
            made.screenshot(
                path=str(ARTIFACTS / f"{request.node.name}{suffix}.png"), full_page=True
            )
        made.context.close()
        unexpected += [e for e in errors if not any(text in e for text in allowed)]
    if report is not None and report.passed:
        assert unexpected == [], unexpected


@pytest.fixture
def page(new_page: PageFactory) -> Page:
    return new_page()

"""Real-browser fixtures: the app served on 127.0.0.1 (random port) and Debian's Chromium."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.web_fixtures import World, build_world
from votes import create_app
from votes.migrate import upgrade

CHROMIUM = os.environ.get("VOTES_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = Path(os.environ.get("VOTES_SCREENSHOTS", "/tmp"))

if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)", allow_module_level=True)


@dataclass
class Live:
    """A running server and the data it serves."""

    url: str
    world: World


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """Serve a fresh app (SQLite, or PostgreSQL when the suite runs on it) in a thread."""
    from tests.conftest import PG_URL, _postgres_database

    pg = _postgres_database() if PG_URL else None
    url = next(pg) if pg else f"sqlite:///{tmp_path_factory.mktemp('live') / 'votes.sqlite3'}"
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "e2e-secret-key-0123456789abcdef",
            "DATABASE_URL": url,
            "WTF_CSRF_ENABLED": True,
            "CODE_RATE_LIMIT": "1000/minute",
            "LOGIN_ACCOUNT_FREE_FAILURES": 1000,
            "LOGIN_ADDRESS_FREE_FAILURES": 1000,
        }
    )
    upgrade(app.extensions["votes.engine"])
    world = build_world(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Live(f"http://127.0.0.1:{server.server_port}", world)
    finally:
        server.shutdown()
        thread.join(timeout=5)
        app.extensions["votes.engine"].dispose()
        if pg:
            next(pg, None)


# Module scope, not session: Playwright's sync API keeps an event loop running in this thread
# while it is alive, and later tests (the load and fault tests) call asyncio.run().
@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One Chromium for each test module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def phone(browser):  # type: ignore[no-untyped-def]
    """A 360×740 touch page, Vietnamese."""
    context = browser.new_context(
        viewport={"width": 360, "height": 740},
        has_touch=True,
        is_mobile=True,
        device_scale_factor=2,
        locale="vi-VN",
    )
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def desktop(browser):  # type: ignore[no-untyped-def]
    """A 1280×900 page."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    page = context.new_page()
    yield page
    context.close()


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """Save a full-page screenshot to look at (VOTES_SCREENSHOTS, /tmp by default; "off": none).

    A screenshot asserts nothing: it is for a person to look at. CI's second phase (the same
    pages on PostgreSQL) sets "off" rather than take each one again over the first's.
    """
    if os.environ.get("VOTES_SCREENSHOTS") == "off":
        return
    page.screenshot(path=str(SHOTS / f"votes-{name}.png"), full_page=True)


def axe_check(page) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    """Run axe-core on the page; return the serious and critical violations."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    violations = results.response["violations"]
    found = [v for v in violations if v.get("impact") in ("serious", "critical")]
    for violation in found:  # what to fix, where: printed with the failing test
        print(violation["id"], [node.get("html") for node in violation.get("nodes", [])])
    return found

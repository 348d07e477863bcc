"""Browser tests: the real app on a local port, driven by Debian's Chromium through Playwright.

Without Chromium these tests skip with the reason; with ``REQUIRE_BROWSER=1`` (as in CI) a
missing browser fails them instead. Every page a journey visits is checked with axe-core.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from playwright.sync_api import Browser, Page, expect
from werkzeug.serving import make_server

from portfolio import create_app
from portfolio.extensions import db
from portfolio.units.loader import load_directory
from portfolio.units.sync import sync_units
from tests.conftest import UNITS_DIR, database_url, reset_database
from tests.snapshots import Snapshots

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BLOCKING_IMPACTS = {"serious", "critical"}

# Tests run in parallel (and on PostgreSQL in CI): a busy machine can take more than
# Playwright's default 5 s to answer a form, which is slowness, not a failure.
expect.set_options(timeout=20_000)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)
            # One worker runs every browser test in turn (pytest -n with --dist loadgroup):
            # two Chromiums at once on a small machine starve the live servers they drive.
            item.add_marker(pytest.mark.xdist_group("browser"))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    if not CHROMIUM.exists():
        reason = f"Chromium is not installed at {CHROMIUM} (apt install chromium)"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": CHROMIUM_ARGS,
        "headless": True,
    }


@pytest.fixture
def live_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, snapshots: Snapshots
) -> Iterator[Flask]:
    """The app with CSRF on, the five units loaded and the demo accounts created."""
    monkeypatch.setenv("PORTFOLIO_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(
        {
            "SECRET_KEY": "browser-tests",
            "SQLALCHEMY_DATABASE_URI": database_url(tmp_path),
            "EVIDENCE_DIR": str(tmp_path / "evidence"),
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
    )

    def demo() -> None:
        reset_database()
        db.create_all()
        result = load_directory(UNITS_DIR)
        assert result.ok, result.problems
        sync_units(db.session, result.units)
        db.session.commit()
        outcome = app.test_cli_runner().invoke(args=["demo", "accounts"])
        assert outcome.exit_code == 0, outcome.output

    with app.app_context():
        snapshots.restore(app, "demo accounts", demo)
        db.session.remove()
    yield app
    with app.app_context():
        db.session.remove()
        # A request still running when the pages closed hands its connection back before
        # the pool is closed, or the connection is dropped unclosed when its thread ends.
        pool = db.engine.pool
        deadline = time.monotonic() + 10
        while getattr(pool, "checkedout", lambda: 0)() and time.monotonic() < deadline:
            time.sleep(0.05)
        db.engine.dispose()


class _Closed:
    """A response whose iterable is closed however the server leaves it. When Chromium drops
    a connection mid-file (a page left while a script still loads), werkzeug's development
    server gives up in the middle of its own clean-up and never closes the file it was
    sending; closing it here, when the server lets go of it, keeps that from surfacing later as
    an unclosed-file warning in an unrelated test."""

    def __init__(self, inner) -> None:
        self.inner, self.done = inner, False

    def __iter__(self):
        return iter(self.inner)

    def close(self) -> None:
        if not self.done:
            self.done = True
            if hasattr(self.inner, "close"):
                self.inner.close()

    def __del__(self) -> None:
        self.close()


def closing(app: Flask):
    def serve(environ, start_response):
        return _Closed(app(environ, start_response))

    return serve


@pytest.fixture
def live_url(live_app: Flask, browser: Browser) -> Iterator[str]:
    """The base URL of the app served on a free local port for the length of one test."""
    server = make_server("127.0.0.1", 0, closing(live_app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        # The pages go before the server: a kept-alive connection would otherwise go on
        # serving Chromium's requests after the server stopped listening.
        for context in list(browser.contexts):
            context.close()
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture(autouse=True)
def obeys_the_content_security_policy(page: Page) -> Iterator[None]:
    """Fails the test if any page it visited broke the content security policy (an inline
    script, a style or image from elsewhere): Chromium reports each on the console."""
    broken: list[str] = []
    page.on(
        "console",
        lambda message: (
            broken.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    yield
    assert not broken, "\n".join(broken)


@pytest.fixture(scope="session")
def axe() -> Axe:
    return Axe()


@pytest.fixture
def accessible(axe: Axe):
    """``accessible(page)`` fails the test on any serious or critical axe-core violation."""

    def check(page: Page) -> None:
        # The pointer is left wherever the last click was; a button fading out of its hover
        # colours is neither state a reader sees, so let it come to rest first (transitions
        # end; an endless animation, such as a busy bar's stripes, is not waited for, and
        # one that never settles, such as a paused one, is given up on after two seconds).
        page.mouse.move(0, 0)
        page.evaluate(
            """() => Promise.race([
                Promise.all(document.getAnimations()
                    .filter((a) => a.effect && a.effect.getComputedTiming().endTime !== Infinity)
                    .map((a) => a.finished.catch(() => null))),
                new Promise((resolve) => setTimeout(resolve, 2000)),
            ])"""
        )
        results = axe.run(page)
        blocking = [
            violation
            for violation in results.response["violations"]
            if violation.get("impact") in BLOCKING_IMPACTS
        ]
        report = "\n".join(
            f"{v['impact']}: {v['id']} ({v['help']}) at "
            + ", ".join(str(node["target"]) for node in v["nodes"][:5])
            for v in blocking
        )
        assert not blocking, f"Accessibility violations on {page.url}:\n{report}"

    return check


@pytest.fixture
def log_in(page: Page, live_url: str, accessible):
    """``log_in(email, password)`` signs in through the login form."""

    def sign_in(email: str, password: str) -> None:
        page.goto(f"{live_url}/login")
        accessible(page)
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{live_url}/dashboard")

    return sign_in

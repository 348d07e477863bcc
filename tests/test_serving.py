"""Serving in production: hardened cookies, a required secret key, proxies, and gunicorn itself."""

from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from flask import Flask, request
from flask.testing import FlaskClient
from flask_login import login_user
from flask_migrate import upgrade
from sqlalchemy import func, select

from portfolio import create_app
from portfolio.audit.log import verify
from portfolio.config import PROJECT_ROOT, ConfigurationError
from portfolio.extensions import db
from tests.conftest import PASSWORD, database_url, reset_database

SECRET = "a-production-secret-for-the-tests-only-0123456789"
FAST_HASH = "pbkdf2:sha256:1000"
CSRF_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def cookie_attributes(response_headers: list[str], name: str) -> set[str]:
    """The attributes of one Set-Cookie, lower-cased: {"secure", "httponly", "samesite=lax"...}."""
    for header in response_headers:
        if header.startswith(f"{name}="):
            return {part.strip().lower() for part in header.split(";")[1:]}
    raise AssertionError(f"no {name} cookie in {response_headers}")


@pytest.fixture
def production(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """The app as gunicorn.conf.py starts it: PORTFOLIO_ENV=production, SECRET_KEY given."""
    monkeypatch.setenv("PORTFOLIO_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("PORTFOLIO_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", SECRET)
    monkeypatch.setenv("AUDIT_KEY", SECRET + "-audit")
    app = create_app(
        {
            "TESTING": True,
            "PASSWORD_HASH_METHOD": FAST_HASH,
            "SQLALCHEMY_DATABASE_URI": database_url(tmp_path),
            "EVIDENCE_DIR": str(tmp_path / "evidence"),
        }
    )
    with app.app_context():
        reset_database()
        db.create_all()
        yield app
        db.session.remove()
        reset_database()
        db.engine.dispose()


def _user(app: Flask, email: str = "lee@example.org", *roles: str):
    from portfolio.auth.services import create_user
    from portfolio.models import Role

    user = create_user(
        db.session,
        actor=None,
        name="Lee Learner",
        email=email,
        roles={Role(r) for r in roles or ("learner",)},
        password=PASSWORD,
    )
    db.session.commit()
    return user


def _log_in(client: FlaskClient, email: str, base_url: str) -> list[str]:
    """Log in through the form, CSRF token and all; returns the response's Set-Cookie headers."""
    page = client.get("/login", base_url=base_url)
    token = CSRF_TOKEN.search(page.text)
    assert token, page.text
    response = client.post(
        "/login",
        base_url=base_url,
        data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)},
        headers={"Referer": f"{base_url}/login"},  # checked on HTTPS, as browsers send it
    )
    assert response.status_code == 302, response.text
    return response.headers.getlist("Set-Cookie")


def test_production_login_cookie_is_secure_httponly_and_lax(production: Flask) -> None:
    """The session cookie a login sets never travels over plain HTTP, is out of reach of page
    scripts, and is not sent with another site's cross-site POST."""
    user = _user(production)
    cookies = _log_in(production.test_client(), user.email, "https://portfolio.example.org")
    attributes = cookie_attributes(cookies, "__Host-session")
    assert {"secure", "httponly", "samesite=lax", "path=/"} <= attributes
    # __Host-: no Domain, so no subdomain can set or read it.
    assert not any(a.startswith("domain=") for a in attributes)


def test_production_pages_demand_https_from_then_on(production: Flask) -> None:
    """HSTS in production only: a development server on plain HTTP is not locked out."""
    page = production.test_client().get("/login", base_url="https://portfolio.example.org")
    assert page.headers["Strict-Transport-Security"] == "max-age=63072000; includeSubDomains"


def test_development_pages_do_not_demand_https(client) -> None:
    assert "Strict-Transport-Security" not in client.get("/login").headers


def test_production_remember_cookie_is_secure_httponly_and_lax(production: Flask) -> None:
    """Should a "remember me" login be offered, its long-lived cookie is guarded the same way."""
    user = _user(production)

    @production.get("/remember-me")
    def remember_me() -> str:
        login_user(user, remember=True)
        return "remembered"

    response = production.test_client().get(
        "/remember-me", base_url="https://portfolio.example.org"
    )
    cookies = response.headers.getlist("Set-Cookie")
    assert {"secure", "httponly", "samesite=lax"} <= cookie_attributes(
        cookies, "__Host-remember_token"
    )


def test_development_login_works_over_plain_http(app: Flask, make_user, client) -> None:
    """`make run` serves http://127.0.0.1:5000: its session cookie is not Secure, or the
    browser would drop it and nobody could log in."""
    user = make_user("learner")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    attributes = cookie_attributes(response.headers.getlist("Set-Cookie"), "session")
    assert "secure" not in attributes
    assert {"httponly", "samesite=lax"} <= attributes


def test_production_refuses_to_start_without_a_secret_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No key is generated into the instance folder in production: each worker or container
    would make its own, and logins would fail at random."""
    instance = tmp_path / "instance"
    monkeypatch.setenv("PORTFOLIO_INSTANCE_PATH", str(instance))
    monkeypatch.setenv("PORTFOLIO_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="SECRET_KEY is not set"):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.sqlite3'}"})
    assert not (instance / "secret_key").exists()


@pytest.mark.parametrize(
    ("trusted", "seen"),
    [(None, "127.0.0.1 http"), ("1", "203.0.113.9 https")],
    ids=["no-proxy", "one-proxy"],
)
def test_forwarded_headers_are_believed_only_from_trusted_proxies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, trusted: str | None, seen: str
) -> None:
    """Behind TRUSTED_PROXIES=1 the app sees the client's address and https; without it, a
    client cannot claim another address by sending the headers itself."""
    monkeypatch.setenv("PORTFOLIO_INSTANCE_PATH", str(tmp_path / "instance"))
    if trusted:
        monkeypatch.setenv("TRUSTED_PROXIES", trusted)
    else:
        monkeypatch.delenv("TRUSTED_PROXIES", raising=False)
    app = create_app({"SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": "sqlite://"})

    @app.get("/seen-as")
    def seen_as() -> str:
        return f"{request.remote_addr} {request.scheme}"

    response = app.test_client().get(
        "/seen-as",
        headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"},
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    )
    assert response.text == seen


def test_production_refuses_to_start_without_an_audit_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each worker would sign the audit log with a key of its own, and none would verify."""
    instance = tmp_path / "instance"
    monkeypatch.setenv("PORTFOLIO_INSTANCE_PATH", str(instance))
    monkeypatch.setenv("PORTFOLIO_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", SECRET)
    monkeypatch.delenv("AUDIT_KEY", raising=False)
    with pytest.raises(ConfigurationError, match=r"AUDIT_KEY is not set \(signs the audit log\)"):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.sqlite3'}"})
    assert not (instance / "audit_key").exists()


# --- gunicorn itself ------------------------------------------------------------------------


#: Settings of the surrounding environment that must not leak into the server under test.
SERVER_SETTINGS = {
    "DATABASE_URL",
    "SECRET_KEY",
    "AUDIT_KEY",
    "PORT",
    "PORTFOLIO_BIND",
    "PORTFOLIO_ENV",
    "WEB_CONCURRENCY",
    "GUNICORN_CMD_ARGS",
    "TRUSTED_PROXIES",
}


def _gunicorn_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in SERVER_SETTINGS}
    env.update(
        {
            "PORTFOLIO_BIND": "127.0.0.1:0",  # any free port; gunicorn logs which
            "DATABASE_URL": f"sqlite:///{tmp_path / 'served.sqlite3'}",
            "PORTFOLIO_INSTANCE_PATH": str(tmp_path / "served-instance"),
            "EVIDENCE_DIR": str(tmp_path / "served-evidence"),
            "SECRET_KEY": SECRET,
            "AUDIT_KEY": SECRET + "-audit",
            "WEB_CONCURRENCY": "1",
        }
    )
    env.update(settings)
    return {key: value for key, value in env.items() if value}


def _prepare_database(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """What `make serve` does before gunicorn starts (flask db upgrade), and an admin."""
    from portfolio.auth.services import create_user
    from portfolio.models import Role

    monkeypatch.setenv("PORTFOLIO_INSTANCE_PATH", env["PORTFOLIO_INSTANCE_PATH"])
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": SECRET,
            "AUDIT_KEY": env["AUDIT_KEY"],
            "SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"],
            "EVIDENCE_DIR": env["EVIDENCE_DIR"],
            "PASSWORD_HASH_METHOD": FAST_HASH,
        }
    )
    with app.app_context():
        upgrade()
        create_user(
            db.session,
            actor=None,
            name="Ada Admin",
            email="ada@example.org",
            roles={Role.ADMIN},
            password=PASSWORD,
        )
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


@contextmanager
def gunicorn(tmp_path: Path, env: dict[str, str]) -> Iterator[tuple[str, Path]]:
    """gunicorn running `make serve`'s command line; yields its URL and its stdout file."""
    pytest.importorskip("gunicorn", reason="gunicorn is not installed in this environment")
    stdout, stderr = tmp_path / "gunicorn.out", tmp_path / "gunicorn.err"
    command = [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"]
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [*command, "portfolio:create_app()"], cwd=PROJECT_ROOT, env=env, stdout=out, stderr=err
        )
        try:
            url = _listening_url(process, stderr)
            yield url, stdout
        finally:
            process.terminate()
            try:
                process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _listening_url(process: subprocess.Popen[bytes], stderr: Path) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        log = stderr.read_text(errors="replace")
        found = re.search(r"Listening at: (http://\S+)", log)
        if found and "Booting worker" in log:
            return found.group(1)
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited with {process.returncode}:\n{log}")
        time.sleep(0.1)
    pytest.fail(f"gunicorn did not start:\n{stderr.read_text(errors='replace')}")


class Browser:
    """Just enough of a browser for a plain-HTTP gunicorn: it keeps cookies, Secure ones too
    (a browser does the same for http://127.0.0.1), and sends the same user agent throughout."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.cookies: dict[str, str] = {}

    def open(
        self, method: str, path: str, form: dict[str, str] | None = None, *, keep: bool = True
    ) -> tuple[int, list[str], str]:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=120)
        headers = {"User-Agent": "portfolio-tests"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            set_cookies = response.headers.get_all("Set-Cookie") or []
        finally:
            connection.close()
        if keep:
            for header in set_cookies:
                name, _, value = header.split(";", 1)[0].partition("=")
                self.cookies[name] = value
        return response.status, set_cookies, text

    def csrf_token(self, path: str) -> str:
        status, _, page = self.open("GET", path)
        assert status == 200, page
        token = CSRF_TOKEN.search(page)
        assert token, page
        return token.group(1)


def test_gunicorn_serves_the_login_page_with_production_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make serve`'s command line starts, serves the login page with a Secure session cookie,
    and logs the request on stdout."""
    env = _gunicorn_env(tmp_path)
    _prepare_database(env, monkeypatch)
    with gunicorn(tmp_path, env) as (url, stdout):
        status, cookies, page = Browser(url).open("GET", "/login")
    assert status == 200
    assert "Log in" in page
    assert {"secure", "httponly", "samesite=lax"} <= cookie_attributes(cookies, "__Host-session")
    assert '"GET /login HTTP/1.1" 200' in stdout.read_text()


def test_gunicorn_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    """Started for production without SECRET_KEY, gunicorn stops at once and says why."""
    pytest.importorskip("gunicorn", reason="gunicorn is not installed in this environment")
    env = _gunicorn_env(tmp_path, SECRET_KEY="")
    command = [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"]
    result = subprocess.run(
        [*command, "portfolio:create_app()"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
    assert "Listening at" not in result.stderr


def test_gunicorn_workers_save_concurrently_on_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three workers of four threads; eight people create five accounts each at once through
    the admin page. Every account is saved, none fails on a locked database, and the audit
    chain holds."""
    env = _gunicorn_env(tmp_path, WEB_CONCURRENCY="3", PORTFOLIO_THREADS="4")
    _prepare_database(env, monkeypatch)
    people, accounts_each = 8, 5
    with gunicorn(tmp_path, env) as (url, _):
        admin = Browser(url)
        login_token = admin.csrf_token("/login")
        status, _, page = admin.open(
            "POST",
            "/login",
            {"email": "ada@example.org", "password": PASSWORD, "csrf_token": login_token},
        )
        assert status == 302, page
        token = admin.csrf_token("/admin/users/new")

        statuses: list[int] = []
        lock = threading.Lock()

        def create_accounts(person: int) -> None:
            for n in range(accounts_each):
                form = {
                    "name": f"Learner {person}-{n}",
                    "email": f"learner{person}-{n}@example.org",
                    "roles": "learner",
                    "csrf_token": token,
                }
                status, _, page = admin.open("POST", "/admin/users/new", form, keep=False)
                with lock:
                    statuses.append((status, "/account/setup/" in page))

        threads = [threading.Thread(target=create_accounts, args=(p,)) for p in range(people)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    created = people * accounts_each
    # Mail is off: each answer is the page with the new account's set-up link.
    assert statuses == [(200, True)] * created
    from portfolio.models import User

    app = create_app(
        {
            "SECRET_KEY": SECRET,
            "AUDIT_KEY": env["AUDIT_KEY"],
            "SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"],
            "EVIDENCE_DIR": env["EVIDENCE_DIR"],
        }
    )
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1 + created
        verification = verify(db.session)
        assert verification.ok, verification.problems
        # The admin's account, the admin's login, then each account created with its set-up
        # link.
        assert verification.checked == 1 + 1 + 2 * created
        db.session.remove()
        db.engine.dispose()

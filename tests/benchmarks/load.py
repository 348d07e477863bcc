"""A small load driver: threads, each with a keep-alive ``http.client`` connection.

A logged-in page is driven by clients that logged in through the real login form (GET the
form, read its CSRF token, POST it) and carry the session cookie it gave them. Each thread
sends one request after another on its own connection for a fixed time; the latencies of the
requests that finished inside that time are the result.
"""

from __future__ import annotations

import http.client
import re
import statistics
import threading
import time
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlencode

CSRF_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class LoadError(RuntimeError):
    """A page did not answer as a logged-in client expects (a 500, a redirect to login...)."""


class Client:
    """One keep-alive connection with its cookies."""

    def __init__(self, host: str, port: int, cookies: dict[str, str] | None = None) -> None:
        self.host, self.port = host, port
        self.cookies = dict(cookies or {})
        self.keep_cookies = True
        self.connection: http.client.HTTPConnection | None = None
        self.reconnects = 0

    def _connect(self) -> http.client.HTTPConnection:
        if self.connection is None:
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=120)
            self.reconnects += 1
        return self.connection

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
    ) -> tuple[int, bytes, http.client.HTTPResponse]:
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            connection = self._connect()
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed an idle keep-alive connection: open a new one, once.
                self.close()
                if attempt == 2:
                    raise
        if self.keep_cookies:
            for header in response.headers.get_all("Set-Cookie") or []:
                cookie = SimpleCookie()
                cookie.load(header)
                for name, morsel in cookie.items():
                    self.cookies[name] = morsel.value
        if response.will_close:
            self.close()
        return response.status, data, response

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def csrf_token(page: bytes) -> str:
    match = CSRF_TOKEN.search(page.decode("utf-8", "replace"))
    if not match:
        raise LoadError("no CSRF token on the page")
    return match.group(1)


def log_in(host: str, port: int, email: str, password: str) -> dict[str, str]:
    """Log in through the login form; returns the session cookies."""
    client = Client(host, port)
    status, page, _ = client.request("GET", "/login")
    if status != 200:
        raise LoadError(f"GET /login answered {status}")
    form = urlencode({"csrf_token": csrf_token(page), "email": email, "password": password})
    status, _, response = client.request(
        "POST",
        "/login",
        body=form.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    location = response.headers.get("Location", "")
    client.close()
    if status != 302 or "/login" in location:
        raise LoadError(f"logging in as {email} failed ({status}, to {location!r})")
    return client.cookies


@dataclass
class LoadResult:
    path: str
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p95_ms: float
    mean_ms: float
    concurrency: int
    connections: int

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict:
        data = vars(self).copy()
        data["per_second"] = self.per_second
        return data


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile (``fraction`` 0.95 for p95) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, round(fraction * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def drive(
    host: str,
    port: int,
    path: str,
    *,
    duration: float,
    concurrency: int = 16,
    cookies: dict[str, str] | None = None,
    warmup_requests: int = 2,
    expect: int = 200,
) -> LoadResult:
    """``concurrency`` threads GET ``path`` for ``duration`` seconds after warming up."""
    clients = [Client(host, port, cookies) for _ in range(concurrency)]
    for client in clients:
        # Anonymous clients stay anonymous: /login sets a session cookie for its CSRF token,
        # and a client sending it back would be a returning visitor, not the trivial route.
        client.keep_cookies = cookies is not None
    latencies: list[list[float]] = [[] for _ in clients]
    failures: list[list[str]] = [[] for _ in clients]
    stop_at: list[float] = [0.0]

    def start_clock() -> None:  # run once, when the last thread has warmed up
        stop_at[0] = time.perf_counter() + duration

    ready = threading.Barrier(concurrency, action=start_clock)

    def work(n: int) -> None:
        client = clients[n]
        try:
            for _ in range(warmup_requests):
                status, _, _ = client.request("GET", path)
                if status != expect:
                    failures[n].append(f"warm-up answered {status}")
        except Exception as error:  # reported below, never swallowed
            failures[n].append(repr(error))
        ready.wait()
        mine = latencies[n]
        while True:
            began = time.perf_counter()
            if began >= stop_at[0]:
                break
            try:
                status, _, _ = client.request("GET", path)
            except Exception as error:
                failures[n].append(repr(error))
                continue
            ended = time.perf_counter()
            if status != expect:
                failures[n].append(f"answered {status}")
            elif ended <= stop_at[0]:
                mine.append(ended - began)
        client.close()

    threads = [threading.Thread(target=work, args=(n,), daemon=True) for n in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    found = [f for per in failures for f in per]
    values = [v * 1000 for per in latencies for v in per]
    if found and len(found) > len(values) // 100:
        raise LoadError(f"{path}: {len(found)} failed requests, e.g. {found[0]}")
    if not values:
        raise LoadError(f"{path}: no request finished within {duration} s")
    return LoadResult(
        path=path,
        requests=len(values),
        seconds=duration,
        errors=len(found),
        p50_ms=percentile(values, 0.50),
        p95_ms=percentile(values, 0.95),
        mean_ms=statistics.fmean(values),
        concurrency=concurrency,
        connections=sum(c.reconnects for c in clients),
    )

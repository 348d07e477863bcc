"""A real OpenID Connect provider (oidc-provider-mock, an Authlib-based server) in its own
process, for the single sign-on tests: discovery, keys, the authorization form, tokens."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.smtpserver import free_port


@dataclass(frozen=True)
class Provider:
    issuer: str

    def person(self, sub: str, **claims: object) -> None:
        """What the provider says of ``sub`` when they sign in (email, email_verified, name)."""
        request = urllib.request.Request(
            f"{self.issuer}/users/{urllib.parse.quote(sub)}",
            data=json.dumps(claims).encode(),
            method="PUT",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 204

    def authorize(self, url: str, sub: str) -> str:
        """Sign in as ``sub`` on the provider's form at ``url``; the redirect back to the app."""

        class Stay(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        opener = urllib.request.build_opener(Stay)
        data = urllib.parse.urlencode({"sub": sub}).encode()
        try:
            opener.open(urllib.request.Request(url, data=data), timeout=10)
        except urllib.error.HTTPError as answer:
            assert answer.code in (302, 303), answer.read()
            return answer.headers["Location"]
        raise AssertionError("the provider did not send the browser back")


@contextmanager
def running_provider(log: Path) -> Iterator[Provider]:
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "oidc_provider_mock", "--port", str(port), "--require-nonce"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    issuer = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(
                    f"{issuer}/.well-known/openid-configuration", timeout=2
                ) as response:
                    if response.status == 200:
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"the OIDC provider did not start: {log.read_text()}"
                    ) from None
                time.sleep(0.1)
        yield Provider(issuer)
    finally:
        process.terminate()
        process.wait(timeout=10)

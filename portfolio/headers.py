"""The security headers every response carries.

- ``Content-Security-Policy``: scripts, styles, fonts and frames from this site only, no inline
  script (style attributes are allowed: they run nothing), images from here or inline data
  (a Word preview's pictures), no plugins, no other site may frame a page, and forms post only
  here (and, with signed download links, may be sent on to the evidence store). A response
  that set its own policy (a stored file, which is sandboxed) keeps it.
- ``X-Frame-Options``: the same "no framing" for browsers that predate ``frame-ancestors``.
- ``Referrer-Policy: same-origin``: no address of ours, with its ids, leaks to another site
  (a page reached by a secret link sends none at all, and says so itself).
- ``X-Content-Type-Options: nosniff``: a response is the type it says, never another.
- ``Cache-Control: no-store`` on whatever a logged-in person is sent, unless the response says
  otherwise: a shared work PC's browser keeps no copy of a page with a USI or a temporary
  password.
- ``Strict-Transport-Security`` in production, where the app is only reached over HTTPS.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from werkzeug.wrappers import Response


def content_policy(form_targets: str = "") -> str:
    """The policy; ``form_targets`` adds origins a form's answer may redirect to (the
    evidence store, when downloads are signed links to it)."""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "style-src-attr 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self'",
            "frame-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            f"form-action 'self' {form_targets}".strip(),
            "frame-ancestors 'none'",
        ]
    )


def same_site(target: str | None) -> str | None:
    """``target`` if it is a path on this site (a form's "back to" address), else None: never
    another site's address, even written as ``//host`` or ``/\\host``, which browsers follow
    off the site."""
    if (
        target
        and target.startswith("/")
        and not urlsplit(target).netloc
        and "//" not in target
        and "\\" not in target
    ):
        return target
    return None


POLICY = content_policy()
#: Two years, this host and its subdomains (the length HSTS preload lists ask for).
HSTS = "max-age=63072000; includeSubDomains"


def secure(
    response: Response, *, signed_in: bool, production: bool, policy: str = POLICY
) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", policy)
    if "frame-ancestors 'self'" not in headers["Content-Security-Policy"]:
        headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers["X-Content-Type-Options"] = "nosniff"
    if signed_in and "Cache-Control" not in headers:
        headers["Cache-Control"] = "no-store"
    if production:
        headers["Strict-Transport-Security"] = HSTS
    return response

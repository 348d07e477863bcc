"""An assessor logs in with their organisation's identity: the whole redirect dance in
Chromium, against a real OpenID Connect provider process."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from portfolio.auth import sso


@pytest.fixture
def sso_app(live_app: Flask, oidc_provider) -> Flask:
    live_app.config.update(
        OIDC_ISSUER=oidc_provider.issuer,
        OIDC_CLIENT_ID="portfolio-browser",
        OIDC_CLIENT_SECRET="not-a-secret",
        OIDC_NAME="Northside Identity",
    )
    sso.init_app(live_app)
    return live_app


def test_an_assessor_signs_on_with_their_organisation(
    sso_app: Flask, oidc_provider, page: Page, live_url: str, accessible
) -> None:
    oidc_provider.person(
        "alex@northside", email="assessor@example.org", email_verified=True, name="Alex"
    )
    page.goto(f"{live_url}/login")
    accessible(page)
    page.get_by_role("link", name="Log in with Northside Identity").click()
    # The provider's own page: who is signing in.
    expect(page).to_have_url(re.compile(re.escape(oidc_provider.issuer)))
    page.get_by_placeholder("sub").fill("alex@northside")
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{live_url}/dashboard")
    expect(page.get_by_role("link", name=re.compile("Alex Assessor"))).to_be_visible()
    page.get_by_role("link", name="Review queue").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Review")
    accessible(page)

    # Someone the RTO has no account for is turned away with the reason.
    page.get_by_role("button", name="Log out").click()
    oidc_provider.person("visitor", email="visitor@example.org", email_verified=True)
    page.get_by_role("link", name="Log in with Northside Identity").click()
    page.get_by_placeholder("sub").fill("visitor")
    page.get_by_role("button", name="Authorize").click()
    expect(
        page.get_by_text("There is no active account here for visitor@example.org")
    ).to_be_visible()
    accessible(page)

"""Portfolio: an assessment and training portfolio tracker for units of competency."""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException, NotFound, RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter
from werkzeug.wrappers import Response

from portfolio import config
from portfolio.auth.permissions import Action, may
from portfolio.extensions import (
    bootstrap,
    configure_sqlite,
    csrf,
    db,
    end_reads_with_commit,
    limiter,
    login_manager,
    migrate,
)
from portfolio.files.signatures import data_url
from portfolio.headers import content_policy, secure
from portfolio.text import count, day, day_and_time, file_size

#: The largest id a database row can have (a signed 64-bit integer).
LARGEST_ID = 2**63 - 1


class IdConverter(IntegerConverter):
    """``<int:...>`` in a URL: a number past any row's id is not found (404), where the
    database driver would have failed on it."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", LARGEST_ID)
        super().__init__(map, *args, **kwargs)


#: Form fields never shown back after a refused form: tokens and secrets.
UNECHOED_FIELDS = {"csrf_token", "uploaded", "submit"}


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: embedded defaults, then the environment, then ``test_config``."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("PORTFOLIO_INSTANCE_PATH") or None,
        instance_relative_config=True,
        template_folder=str(config.PROJECT_ROOT / "templates"),
    )
    # Everything the app writes (database, evidence, previews, bundles, backups) holds personal
    # information: readable by the account it runs as, nobody else.
    os.umask(0o077)
    Path(app.instance_path).mkdir(mode=0o700, parents=True, exist_ok=True)
    app.config.from_mapping(config.defaults(app.instance_path))
    app.config.update(config.from_environment(os.environ))
    if test_config is not None:
        app.config.update(test_config)
    if app.config.get("PORTFOLIO_ENV") == config.PRODUCTION:
        config.apply_production(app.config)
    if app.config.get("TRUSTED_PROXIES"):
        # Believe X-Forwarded-For and -Proto as set by this many proxies in front, no more.
        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = config.instance_secret_key(app.instance_path)
    if not app.config.get("AUDIT_KEY"):
        app.config["AUDIT_KEY"] = config.instance_secret_key(app.instance_path, "audit_key")
    # Each file may be MAX_UPLOAD_MB (checked while it is stored); one request may carry a few
    # of them when the form is sent without JavaScript.
    app.config["MAX_CONTENT_LENGTH"] = (4 * int(app.config["MAX_UPLOAD_MB"]) + 1) * 1024 * 1024
    Path(app.config["EVIDENCE_DIR"]).mkdir(parents=True, exist_ok=True)

    app.url_map.converters["int"] = IdConverter
    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            configure_sqlite(engine)
        end_reads_with_commit(app)
    migrate.init_app(app, db, directory=app.config["MIGRATIONS_DIR"])
    csrf.init_app(app)
    bootstrap.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)

    # Importing the models registers their tables on the metadata used by migrations.
    from portfolio import models  # noqa: F401
    from portfolio.assessment.cli import reviews_cli
    from portfolio.assessment.countersign_views import bp as countersign_bp
    from portfolio.assessment.template_views import bp as templates_bp
    from portfolio.assessment.views import bp as review_bp
    from portfolio.audit.cli import audit_cli
    from portfolio.audit.views import bp as audit_bp
    from portfolio.auth.admin import bp as admin_users_bp
    from portfolio.auth.cli import users_cli
    from portfolio.auth.views import bp as auth_bp
    from portfolio.backup.cli import backup_cli
    from portfolio.cohorts.admin import bp as admin_cohorts_bp
    from portfolio.cohorts.cli import cohorts_cli
    from portfolio.credentials.admin import bp as admin_credentials_bp
    from portfolio.credentials.cli import credentials_cli
    from portfolio.credentials.views import bp as credentials_bp
    from portfolio.demo.cli import demo_cli
    from portfolio.enrolments.admin import bp as admin_enrolments_bp
    from portfolio.enrolments.cli import enrolments_cli
    from portfolio.evidence.views import bp as evidence_bp
    from portfolio.evidence.views import report_outside as report_bp
    from portfolio.exports.cli import exports_cli
    from portfolio.exports.views import bp as exports_bp
    from portfolio.files.cli import files_cli, storage_cli
    from portfolio.mail.admin import bp as admin_mail_bp
    from portfolio.mail.cli import mail_cli
    from portfolio.queue import jobs_cli
    from portfolio.reports.cli import reports_cli
    from portfolio.reports.views import bp as reports_bp
    from portfolio.retention.cli import retention_cli
    from portfolio.units.admin import bp as admin_units_bp
    from portfolio.units.cli import units_cli
    from portfolio.units.views import bp as units_bp
    from portfolio.validation.cli import validation_cli
    from portfolio.validation.views import bp as validation_bp
    from portfolio.verification.cli import verifications_cli
    from portfolio.verification.views import bp as verification_bp
    from portfolio.verification.views import outside as verify_bp

    for blueprint in (
        units_bp,
        auth_bp,
        evidence_bp,
        review_bp,
        templates_bp,
        audit_bp,
        exports_bp,
        admin_users_bp,
        admin_enrolments_bp,
        admin_units_bp,
        admin_mail_bp,
        admin_cohorts_bp,
        verification_bp,
        verify_bp,
        admin_credentials_bp,
        credentials_bp,
        validation_bp,
        reports_bp,
        countersign_bp,
        report_bp,
    ):
        app.register_blueprint(blueprint)
    for command in (
        units_cli,
        users_cli,
        enrolments_cli,
        demo_cli,
        audit_cli,
        exports_cli,
        backup_cli,
        files_cli,
        storage_cli,
        jobs_cli,
        retention_cli,
        mail_cli,
        cohorts_cli,
        reviews_cli,
        verifications_cli,
        credentials_cli,
        validation_cli,
        reports_cli,
    ):
        app.cli.add_command(command)

    from portfolio.auth import sso
    from portfolio.exports.letterhead import paper_size

    if app.config.get("OIDC_ISSUER") and not app.config.get("OIDC_CLIENT_ID"):
        raise config.ConfigurationError(
            "OIDC_ISSUER is set but OIDC_CLIENT_ID is not: set the client ID (and "
            "OIDC_CLIENT_SECRET) the provider gave this app when it was registered."
        )
    try:
        app.config["PAPER_SIZE"] = paper_size(app.config.get("PAPER_SIZE"))
    except ValueError as error:
        raise config.ConfigurationError(str(error)) from None
    if app.config.get("PASSWORD_LOGIN") not in ("all", "learners"):
        raise config.ConfigurationError(
            f"PASSWORD_LOGIN must be all or learners, not {app.config.get('PASSWORD_LOGIN')!r}."
        )
    sso.init_app(app)

    _register_template_helpers(app)
    _register_error_pages(app)

    production = app.config.get("PORTFOLIO_ENV") == config.PRODUCTION
    policy = content_policy(_download_origin(app))

    @app.after_request
    def security_headers(response: Response) -> Response:
        """Every response: a content security policy, no framing, no sniffing (headers.py)."""
        static = request.endpoint in ("static", "bootstrap.static")
        return secure(
            response,
            signed_in=current_user.is_authenticated and not static,
            production=production,
            policy=policy,
        )

    @app.get("/")
    def home() -> Response:
        """Start at the person's own work, or at the login page."""
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login"))
        return redirect(url_for("reports.dashboard"))

    return app


def _register_template_helpers(app: Flask) -> None:
    from portfolio.verification.services import statements_for

    zone = ZoneInfo(app.config["RTO_TIMEZONE"])

    @app.template_filter("au_date")
    def au_date(value: date | datetime | None) -> str:
        """22/11/2026; a stored moment in the RTO's time zone."""
        return day(value, zone)

    @app.template_filter("au_datetime")
    def au_datetime(value: datetime | None) -> str:
        """22/11/2026 14:05, in the RTO's time zone."""
        return day_and_time(value, zone)

    app.add_template_filter(count, "count")
    app.add_template_filter(file_size, "file_size")

    # Templates show what a person can do now by asking the policy, as views and services do.
    app.jinja_env.globals.update(may=may, Action=Action)
    # A verifier's answer: each statement in words, and their drawn signature.
    app.jinja_env.globals.update(verification_statements=statements_for)
    app.add_template_filter(data_url, "signature_src")

    @app.context_processor
    def rto() -> dict[str, Any]:
        return {"rto_name": app.config["RTO_NAME"]}


def _download_origin(app: Flask) -> str:
    """The evidence store's origin when downloads are signed links to it (a bundle's download
    form is answered with a redirect there), else nothing."""
    mode = app.config.get("S3_DOWNLOADS") or "stream"
    if mode not in ("stream", "presigned"):
        raise config.ConfigurationError(
            f"S3_DOWNLOADS is {mode!r}: use 'stream' (through the app) or 'presigned' (signed "
            "links to the store)."
        )
    if mode == "stream" or app.config.get("EVIDENCE_STORAGE") != "s3":
        return ""
    from urllib.parse import urlsplit

    from portfolio.files.storage import storage_from_config

    link = storage_from_config(app.config).download_url(  # type: ignore[attr-defined]
        "origin", name="origin", mimetype="application/octet-stream", seconds=60
    )
    parts = urlsplit(link)
    return f"{parts.scheme}://{parts.netloc}"


def _register_error_pages(app: Flask) -> None:
    def render_error(error: HTTPException) -> tuple[str, int]:
        return render_template("errors/error.html", error=error), error.code or 500

    for code in (400, 403, 404, 405, 409, 500, 503):
        app.register_error_handler(code, render_error)

    @app.errorhandler(CSRFError)
    def expired_form(error: CSRFError) -> tuple[str | Response, int]:
        error.description = (
            "The form has expired (perhaps you logged out or in since the page was opened), or "
            "it was sent from another site, so nothing was saved. Reload the page and try again."
        )
        if request.accept_mimetypes.best == "application/json":
            return jsonify(error=error.description), 400
        # What the person typed is shown back to them, so nothing they wrote is lost.
        typed = [
            (name.replace("_", " ").capitalize(), value)
            for name, value in request.form.items(multi=True)
            if value.strip() and name not in UNECHOED_FIELDS and "password" not in name
        ]
        return render_template("errors/expired_form.html", error=error, typed=typed), 400

    @app.errorhandler(429)
    def too_many(error: HTTPException) -> tuple[str | Response, int]:
        """A rate limit (Flask-Limiter): each limit's own message, as JSON to scripts."""
        if request.accept_mimetypes.best == "application/json":
            return jsonify(error=error.description), 429
        return render_template("errors/error.html", error=error), 429

    def out_of_range() -> tuple[str, int]:
        db.session.rollback()  # PostgreSQL refuses anything more in an aborted transaction
        missing = NotFound(
            "What you sent names a record by a number far larger than any record here, so "
            "nothing was saved. Go back, reload the page and try again."
        )
        return render_template("errors/error.html", error=missing), 404

    @app.errorhandler(OverflowError)
    def too_large_for_sqlite(error: OverflowError) -> tuple[str, int]:
        """A number in a URL, form or query past any id names no record; SQLite's driver
        cannot even bind it. Nothing was saved (the request's transaction is rolled back)."""
        return out_of_range()

    @app.errorhandler(DataError)
    def too_large_for_postgresql(error: DataError) -> tuple[str, int]:
        """The same on PostgreSQL, which compares an id as a 32-bit integer: SQLSTATE 22003
        (numeric value out of range). Any other data error is the server's."""
        if getattr(error.orig, "sqlstate", None) == "22003":
            return out_of_range()
        raise error

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(error: RequestEntityTooLarge) -> tuple[str, int]:
        limit = app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
        error.description = (
            f"What you sent is larger than the {limit} MB this site accepts in one go, so it was "
            "not saved. Go back and send fewer or smaller files."
        )
        return render_template("errors/error.html", error=error), 413

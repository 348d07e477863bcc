"""Portfolio: an assessment and training portfolio tracker for units of competency."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, redirect, render_template, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from portfolio import config
from portfolio.extensions import bootstrap, csrf, db, migrate


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: embedded defaults, then the environment, then ``test_config``."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("PORTFOLIO_INSTANCE_PATH") or None,
        instance_relative_config=True,
        template_folder=str(config.PROJECT_ROOT / "templates"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(config.defaults(app.instance_path))
    app.config.update(config.from_environment(os.environ))
    if test_config is not None:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = config.instance_secret_key(app.instance_path)
    app.config["MAX_CONTENT_LENGTH"] = int(app.config["MAX_UPLOAD_MB"]) * 1024 * 1024
    Path(app.config["EVIDENCE_DIR"]).mkdir(parents=True, exist_ok=True)

    db.init_app(app)
    migrate.init_app(app, db, directory=app.config["MIGRATIONS_DIR"])
    csrf.init_app(app)
    bootstrap.init_app(app)

    # Importing the models registers their tables on the metadata used by migrations.
    from portfolio import models  # noqa: F401
    from portfolio.units.cli import units_cli
    from portfolio.units.views import bp as units_bp

    app.register_blueprint(units_bp)
    app.cli.add_command(units_cli)

    _register_template_helpers(app)
    _register_error_pages(app)

    @app.get("/")
    def home() -> Response:
        """Start at the unit list."""
        return redirect(url_for("units.index"))

    return app


def _register_template_helpers(app: Flask) -> None:
    zone = ZoneInfo(app.config["RTO_TIMEZONE"])

    @app.template_filter("au_date")
    def au_date(value: datetime | None) -> str:
        """22/11/2026, in the RTO's time zone."""
        return value.astimezone(zone).strftime("%d/%m/%Y") if value else ""

    @app.template_filter("au_datetime")
    def au_datetime(value: datetime | None) -> str:
        """22/11/2026 14:05, in the RTO's time zone."""
        return value.astimezone(zone).strftime("%d/%m/%Y %H:%M") if value else ""

    @app.context_processor
    def rto() -> dict[str, Any]:
        return {"rto_name": app.config["RTO_NAME"]}


def _register_error_pages(app: Flask) -> None:
    def render_error(error: HTTPException) -> tuple[str, int]:
        return render_template("errors/error.html", error=error), error.code or 500

    for code in (400, 403, 404, 405, 413, 500):
        app.register_error_handler(code, render_error)

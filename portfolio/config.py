"""Configuration defaults; every value can be overridden from the environment."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Environment variable -> config key. Values are strings; see ``_coerce`` for the typed ones.
ENVIRONMENT_KEYS = {
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "SECRET_KEY": "SECRET_KEY",
    "EVIDENCE_DIR": "EVIDENCE_DIR",
    "UNITS_DIR": "UNITS_DIR",
    "RTO_NAME": "RTO_NAME",
    "RTO_TIMEZONE": "RTO_TIMEZONE",
    "MAX_UPLOAD_MB": "MAX_UPLOAD_MB",
    "EVIDENCE_CURRENCY_YEARS": "EVIDENCE_CURRENCY_YEARS",
}


def defaults(instance_path: str) -> dict[str, object]:
    """The embedded default: a SQLite file and an evidence folder in the instance folder."""
    instance = Path(instance_path)
    return {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'portfolio.sqlite3'}",
        "EVIDENCE_DIR": str(instance / "evidence"),
        "UNITS_DIR": str(PROJECT_ROOT / "units"),
        "MIGRATIONS_DIR": str(PROJECT_ROOT / "migrations"),
        "RTO_NAME": "Demo Registered Training Organisation",
        "RTO_TIMEZONE": "Australia/Sydney",
        "MAX_UPLOAD_MB": 50,
        # Evidence whose work is older than this, at submission, is flagged as possibly not current.
        "EVIDENCE_CURRENCY_YEARS": 2,
        "BOOTSTRAP_SERVE_LOCAL": True,
        "SESSION_COOKIE_HTTPONLY": True,
        # A session ends after this long without a request (shared work PCs).
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=8),
        "SESSION_COOKIE_SAMESITE": "Lax",
        "PASSWORD_HASH_METHOD": "scrypt",
        # A form stays valid as long as the session that opened it (no hourly expiry).
        "WTF_CSRF_TIME_LIMIT": None,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    }


def from_environment(environ: os._Environ[str] | dict[str, str]) -> dict[str, object]:
    """Config values given in the environment, under their config keys."""
    found: dict[str, object] = {}
    for variable, key in ENVIRONMENT_KEYS.items():
        value = environ.get(variable)
        if value:
            found[key] = _coerce(key, value)
    return found


def _coerce(key: str, value: str) -> object:
    if key == "SQLALCHEMY_DATABASE_URI":
        return normalise_database_url(value)
    if key in ("MAX_UPLOAD_MB", "EVIDENCE_CURRENCY_YEARS"):
        return int(value)
    return value


def normalise_database_url(url: str) -> str:
    """Accept the ``postgres://`` and ``postgresql://`` forms hosts hand out; use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def instance_secret_key(instance_path: str) -> str:
    """A secret key kept in the instance folder, so sessions survive a restart of ``make run``."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()

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
    "AUDIT_KEY": "AUDIT_KEY",
    "AUDIT_HEAD_FILE": "AUDIT_HEAD_FILE",
    "EVIDENCE_DIR": "EVIDENCE_DIR",
    # Evidence in an S3-compatible store instead of EVIDENCE_DIR: EVIDENCE_STORAGE=s3.
    "EVIDENCE_STORAGE": "EVIDENCE_STORAGE",
    "S3_BUCKET": "S3_BUCKET",
    "S3_PREFIX": "S3_PREFIX",
    "S3_ENDPOINT_URL": "S3_ENDPOINT_URL",
    "S3_REGION": "S3_REGION",
    "S3_ACCESS_KEY_ID": "S3_ACCESS_KEY_ID",
    "S3_SECRET_ACCESS_KEY": "S3_SECRET_ACCESS_KEY",
    # Downloads of evidence and bundles: "stream" (through the app) or "presigned" (a short
    # signed link to the store, which browsers reach at S3_PUBLIC_ENDPOINT_URL if set).
    "S3_DOWNLOADS": "S3_DOWNLOADS",
    "S3_PUBLIC_ENDPOINT_URL": "S3_PUBLIC_ENDPOINT_URL",
    "S3_PRESIGNED_SECONDS": "S3_PRESIGNED_SECONDS",
    # Every upload scanned by ClamAV's daemon: a Unix socket path, or host:port.
    "CLAMD_SOCKET": "CLAMD_SOCKET",
    "CLAMD_ADDRESS": "CLAMD_ADDRESS",
    # Background jobs on RQ (redis://host:6379/0, Redis or Valkey) instead of in-process.
    "QUEUE_URL": "QUEUE_URL",
    "JOB_HEARTBEAT_SECONDS": "JOB_HEARTBEAT_SECONDS",
    # Email through an SMTP server (names as Flask's mail extensions use them); off when
    # MAIL_SERVER is not set. PUBLIC_URL is the address links in emails point at.
    "MAIL_SERVER": "MAIL_SERVER",
    "MAIL_PORT": "MAIL_PORT",
    "MAIL_USE_TLS": "MAIL_USE_TLS",
    "MAIL_USE_SSL": "MAIL_USE_SSL",
    "MAIL_USERNAME": "MAIL_USERNAME",
    "MAIL_PASSWORD": "MAIL_PASSWORD",
    "MAIL_DEFAULT_SENDER": "MAIL_DEFAULT_SENDER",
    "MAIL_TIMEOUT_SECONDS": "MAIL_TIMEOUT_SECONDS",
    "PUBLIC_URL": "PUBLIC_URL",
    "SETUP_LINK_DAYS": "SETUP_LINK_DAYS",
    # Judgements, sign-offs and outcomes only by assessors the credential register authorises
    # for the unit on the day (1/0): turn on once the register is filled in.
    "CREDENTIALS_ENFORCED": "CREDENTIALS_ENFORCED",
    # The learner's and the assessor's declarations are signed by drawing as well (1/0).
    "SIGNED_DECLARATIONS": "SIGNED_DECLARATIONS",
    # A workplace supervisor's verification link works for this many days.
    "VERIFICATION_LINK_DAYS": "VERIFICATION_LINK_DAYS",
    # Single sign-on with an OpenID Connect provider (Entra ID, Google Workspace, ...).
    "OIDC_ISSUER": "OIDC_ISSUER",
    "OIDC_CLIENT_ID": "OIDC_CLIENT_ID",
    "OIDC_CLIENT_SECRET": "OIDC_CLIENT_SECRET",
    "OIDC_NAME": "OIDC_NAME",
    "OIDC_SCOPES": "OIDC_SCOPES",
    "OIDC_EMAILS_VERIFIED": "OIDC_EMAILS_VERIFIED",
    # "all", or "learners": staff (assessors, admins) log in by single sign-on only.
    "PASSWORD_LOGIN": "PASSWORD_LOGIN",
    "UNITS_DIR": "UNITS_DIR",
    "RTO_NAME": "RTO_NAME",
    # The national RTO code, printed beside the name on every pack and matrix.
    "RTO_CODE": "RTO_CODE",
    # The paper exports are laid out on: A4 (the default) or Letter.
    "PAPER_SIZE": "PAPER_SIZE",
    # LibreOffice, which makes PDFs of the Word exports, and how long one may take.
    "LIBREOFFICE": "LIBREOFFICE",
    "PDF_SECONDS": "PDF_SECONDS",
    "RTO_TIMEZONE": "RTO_TIMEZONE",
    "MAX_UPLOAD_MB": "MAX_UPLOAD_MB",
    "EVIDENCE_CURRENCY_YEARS": "EVIDENCE_CURRENCY_YEARS",
    "PORTFOLIO_ENV": "PORTFOLIO_ENV",
    "TRUSTED_PROXIES": "TRUSTED_PROXIES",
    "BUNDLE_KEEP_DAYS": "BUNDLE_KEEP_DAYS",
    "RETENTION_EVIDENCE_MONTHS": "RETENTION_EVIDENCE_MONTHS",
    "RETENTION_RECORD_YEARS": "RETENTION_RECORD_YEARS",
    "ATTEMPTS_ALLOWED": "ATTEMPTS_ALLOWED",
    "REVIEW_DUE_WORKING_DAYS": "REVIEW_DUE_WORKING_DAYS",
    "DASHBOARD_CACHE_SECONDS": "DASHBOARD_CACHE_SECONDS",
    "PREVIEW_SECONDS": "PREVIEW_SECONDS",
    "PREVIEW_MEMORY_MB": "PREVIEW_MEMORY_MB",
    "LOGIN_ADDRESS_LIMIT": "LOGIN_ADDRESS_LIMIT",
    # Requests from one address to the pages a verifier reaches by their emailed link.
    "VERIFY_ADDRESS_LIMIT": "VERIFY_ADDRESS_LIMIT",
    "RATELIMIT_STORAGE_URI": "RATELIMIT_STORAGE_URI",
    "LOGIN_LOCK_FAILURES": "LOGIN_LOCK_FAILURES",
    "LOGIN_LOCK_MINUTES": "LOGIN_LOCK_MINUTES",
    "SESSION_ABSOLUTE_HOURS": "SESSION_ABSOLUTE_HOURS",
    "LEARNER_STORAGE_MB": "LEARNER_STORAGE_MB",
    "LEARNER_STORAGE_FILES": "LEARNER_STORAGE_FILES",
    "UPLOAD_RATE_LIMIT": "UPLOAD_RATE_LIMIT",
}

#: ``PORTFOLIO_ENV=production`` (set by gunicorn.conf.py, so by ``make serve``): real users,
#: over HTTPS, directly or through a proxy that terminates it.
PRODUCTION = "production"

PRODUCTION_SETTINGS: dict[str, object] = {
    # The session and "remember me" cookies travel over HTTPS only, are out of reach of page
    # scripts, and are not sent with other sites' cross-site POSTs.
    "SESSION_COOKIE_SECURE": True,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_SECURE": True,
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    # __Host-: browsers accept the cookie only from this host over HTTPS, for every path, so
    # neither a subdomain nor a plain-http page can plant one.
    "SESSION_COOKIE_NAME": "__Host-session",
    "REMEMBER_COOKIE_NAME": "__Host-remember_token",
    "PREFERRED_URL_SCHEME": "https",
}


class ConfigurationError(RuntimeError):
    """The app cannot start with this configuration; the message says what to set."""


def defaults(instance_path: str) -> dict[str, object]:
    """The embedded default: a SQLite file and an evidence folder in the instance folder."""
    instance = Path(instance_path)
    return {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'portfolio.sqlite3'}",
        "EVIDENCE_DIR": str(instance / "evidence"),
        # "local" (EVIDENCE_DIR) or "s3" (S3_BUCKET, S3_ENDPOINT_URL, ...).
        "EVIDENCE_STORAGE": "local",
        "S3_DOWNLOADS": "stream",
        "S3_PRESIGNED_SECONDS": 300,
        "UNITS_DIR": str(PROJECT_ROOT / "units"),
        "MIGRATIONS_DIR": str(PROJECT_ROOT / "migrations"),
        "RTO_NAME": "Demo Registered Training Organisation",
        "RTO_CODE": "",
        "PAPER_SIZE": "A4",
        "LIBREOFFICE": "soffice",
        "PDF_SECONDS": 120,
        # Where people reach the app: the start of every link in an email or a list of set-up
        # links (never taken from a request's Host header, which a caller can forge).
        "PUBLIC_URL": "http://127.0.0.1:5000",
        "MAIL_SERVER": "",
        "MAIL_PORT": 25,
        "MAIL_USE_TLS": False,
        "MAIL_USE_SSL": False,
        "MAIL_DEFAULT_SENDER": "portfolio@localhost",
        "MAIL_TIMEOUT_SECONDS": 30,
        # A set-up link for a new account works for this many days; a reset link for an hour.
        "SETUP_LINK_DAYS": 7,
        "VERIFICATION_LINK_DAYS": 14,
        "SIGNED_DECLARATIONS": False,
        "CREDENTIALS_ENFORCED": False,
        "OIDC_ISSUER": "",
        "OIDC_CLIENT_ID": "",
        "OIDC_CLIENT_SECRET": "",
        "OIDC_NAME": "",
        "OIDC_SCOPES": "openid email profile",
        "OIDC_EMAILS_VERIFIED": False,
        "PASSWORD_LOGIN": "all",
        "RTO_TIMEZONE": "Australia/Sydney",
        "MAX_UPLOAD_MB": 50,
        # What one learner may keep (evidence and uploads not yet claimed by a form), and how
        # many files they may send a minute.
        "LEARNER_STORAGE_MB": 2048,
        "LEARNER_STORAGE_FILES": 1000,
        "UPLOAD_RATE_LIMIT": "60 per minute",
        # Evidence whose work is older than this, at submission, is flagged as possibly not current.
        "EVIDENCE_CURRENCY_YEARS": 2,
        # A built audit bundle (a copy of learners' evidence) is deleted this many days after.
        "BUNDLE_KEEP_DAYS": 7,
        # A queue worker beats this often while it runs a job; one that misses three beats
        # (killed, its machine lost) has its job run again by another worker.
        "JOB_HEARTBEAT_SECONDS": 10,
        # `flask retention run`: a learner's evidence is destroyed this many months after the
        # judgement (ASQA: at least 6); outcomes are kept this many years (at least 30).
        "RETENTION_EVIDENCE_MONTHS": 6,
        "RETENTION_RECORD_YEARS": 30,
        # Attempts at a unit a learner may have (the first and each reassessment after Not
        # yet competent); past the last, the enrolment can only be closed.
        "ATTEMPTS_ALLOWED": 2,
        # A submission is due for its review this many working days (Monday to Friday) after
        # it was handed in; past that the queue marks it overdue.
        "REVIEW_DUE_WORKING_DAYS": 10,
        # The admin's dashboard figures are counted again after this many seconds (per app
        # process); 0 counts them on every request.
        "DASHBOARD_CACHE_SECONDS": 60,
        # A Word preview is made in a child process killed past these (a zip bomb's defence).
        "PREVIEW_SECONDS": 20,
        "PREVIEW_MEMORY_MB": 768,
        # Failed logins from one address before it must wait (any accounts), and where the
        # counts are kept: memory:// is per process; redis://host:6379 is shared by all.
        "LOGIN_ADDRESS_LIMIT": "20 per 10 minutes",
        "VERIFY_ADDRESS_LIMIT": "60 per 10 minutes",
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        # Failed logins of one account in LOGIN_LOCK_MINUTES that lock it for that long.
        "LOGIN_LOCK_FAILURES": 5,
        "LOGIN_LOCK_MINUTES": 15,
        # However active, a session ends this long after its login.
        "SESSION_ABSOLUTE_HOURS": 12,
        "BOOTSTRAP_SERVE_LOCAL": True,
        "SESSION_COOKIE_HTTPONLY": True,
        # A session ends after this long without a request (shared work PCs).
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=8),
        "SESSION_COOKIE_SAMESITE": "Lax",
        "PASSWORD_HASH_METHOD": "scrypt",
        # A form stays valid as long as the session that opened it (no hourly expiry).
        "WTF_CSRF_TIME_LIMIT": None,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # The audit log's last event, written after every commit that adds events, where the
        # database cannot rewrite it: `flask audit verify` checks the log still reaches it.
        "AUDIT_HEAD_FILE": str(instance / "audit_head.json"),
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
    if key in (
        "MAX_UPLOAD_MB",
        "EVIDENCE_CURRENCY_YEARS",
        "TRUSTED_PROXIES",
        "BUNDLE_KEEP_DAYS",
        "RETENTION_EVIDENCE_MONTHS",
        "RETENTION_RECORD_YEARS",
        "JOB_HEARTBEAT_SECONDS",
        "S3_PRESIGNED_SECONDS",
        "ATTEMPTS_ALLOWED",
        "PREVIEW_SECONDS",
        "PREVIEW_MEMORY_MB",
        "LOGIN_LOCK_FAILURES",
        "LOGIN_LOCK_MINUTES",
        "SESSION_ABSOLUTE_HOURS",
        "LEARNER_STORAGE_MB",
        "LEARNER_STORAGE_FILES",
        "REVIEW_DUE_WORKING_DAYS",
        "DASHBOARD_CACHE_SECONDS",
        "MAIL_PORT",
        "MAIL_TIMEOUT_SECONDS",
        "SETUP_LINK_DAYS",
        "VERIFICATION_LINK_DAYS",
        "PDF_SECONDS",
    ):
        try:
            return int(value)
        except ValueError:
            variable = next(v for v, k in ENVIRONMENT_KEYS.items() if k == key)
            raise ConfigurationError(f"{variable} must be a whole number, not {value!r}.") from None
    if key in (
        "MAIL_USE_TLS",
        "MAIL_USE_SSL",
        "OIDC_EMAILS_VERIFIED",
        "SIGNED_DECLARATIONS",
        "CREDENTIALS_ENFORCED",
    ):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return value


def apply_production(config: dict[str, object]) -> None:
    """Harden a production configuration, or refuse it if it cannot be made safe.

    The secret key signs every session: it must be given, the same to every worker and across
    restarts, never generated on the spot or read from the instance folder.
    """
    for key, use in (("SECRET_KEY", "signs every session"), ("AUDIT_KEY", "signs the audit log")):
        if not config.get(key):
            raise ConfigurationError(
                f"PORTFOLIO_ENV is production but {key} is not set ({use}). Set {key} in the "
                "environment to a long random value, the same for every worker and every "
                "restart, and keep it apart from the database and its backups, for example the "
                "output of: python3 -c 'import secrets; print(secrets.token_hex(32))'"
            )
    if config.get("MAIL_SERVER") and str(config.get("PUBLIC_URL", "")).startswith(
        "http://127.0.0.1"
    ):
        raise ConfigurationError(
            "PORTFOLIO_ENV is production and MAIL_SERVER is set, but PUBLIC_URL is not: set "
            "it to the address people reach the app at (for example "
            "https://portfolio.example.edu.au), so the links in emails lead there."
        )
    config.update(PRODUCTION_SETTINGS)


def normalise_database_url(url: str) -> str:
    """Accept the ``postgres://`` and ``postgresql://`` forms hosts hand out; use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def instance_secret_key(instance_path: str, name: str = "secret_key") -> str:
    """A key kept in the instance folder (``secret_key``, ``audit_key``), so sessions and the
    audit log's signatures survive a restart of ``make run``."""
    path = Path(instance_path) / name
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()

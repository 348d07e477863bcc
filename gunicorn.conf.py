"""gunicorn settings for production: ``make serve``, or

    gunicorn --config gunicorn.conf.py 'portfolio:create_app()'

Everything here can be changed from the environment:

    SECRET_KEY           required: signs the sessions (the same value for every worker and restart)
    AUDIT_KEY            required: signs the audit log and backups (likewise; keep it apart from
                         the database and its backups)
    PORTFOLIO_BIND       where to listen: "127.0.0.1:8000" (the default), "0.0.0.0:8000",
                         "unix:/run/portfolio.sock"; several, separated by spaces
    PORT                 when PORTFOLIO_BIND is not set: listen on every interface on this port,
                         as hosting platforms that set PORT expect
    WEB_CONCURRENCY      worker processes (default 2 x cores + 1, at most 8)
    PORTFOLIO_THREADS    threads per worker (default 4)
    GUNICORN_TIMEOUT     seconds a silent worker is given before it is restarted (default 120)
    FORWARDED_ALLOW_IPS  proxies whose X-Forwarded-Proto gunicorn believes (default 127.0.0.1,::1)
    TRUSTED_PROXIES      the number of proxies in front whose X-Forwarded-For and -Proto the app
                         believes (default 0: none; 1 behind a single nginx or load balancer)
    PORTFOLIO_ENV        "production" unless set: Secure cookies, required SECRET_KEY and AUDIT_KEY

Any other gunicorn setting can be given in GUNICORN_CMD_ARGS, e.g. "--log-level debug".
"""

import multiprocessing
import os
import sys

# Serving with gunicorn is serving for real: see portfolio/config.py, PRODUCTION_SETTINGS.
# The app refuses to start without a SECRET_KEY and an AUDIT_KEY; saying so here stops
# gunicorn before any worker boots, with the message alone rather than a worker's traceback.
os.environ.setdefault("PORTFOLIO_ENV", "production")
for _key in ("SECRET_KEY", "AUDIT_KEY"):
    if os.environ["PORTFOLIO_ENV"] == "production" and not os.environ.get(_key):
        sys.exit(
            f"{_key} is not set. Set it in the environment to a long random value, the same "
            "for every worker and every restart, for example the output of:\n"
            "  python3 -c 'import secrets; print(secrets.token_hex(32))'"
        )


def _bind() -> list[str]:
    if os.environ.get("PORTFOLIO_BIND"):
        return os.environ["PORTFOLIO_BIND"].replace(",", " ").split()
    if os.environ.get("PORT"):
        return [f"0.0.0.0:{int(os.environ['PORT'])}"]
    return ["127.0.0.1:8000"]


bind = _bind()

# Each worker is a process with its own app and database engine (preload_app is off, so
# nothing is shared across the fork, and `kill -HUP` reloads the code). Threads let a worker
# serve other people while one request streams a 50 MB upload or builds a large export.
workers = int(os.environ.get("WEB_CONCURRENCY") or min(2 * multiprocessing.cpu_count() + 1, 8))
worker_class = "gthread"
threads = int(os.environ.get("PORTFOLIO_THREADS", "4"))
preload_app = False

# A gthread worker reports that it is alive from its own loop, whatever its threads are doing,
# so a long export does not get it killed; the timeout catches a worker that is truly stuck.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
# On restart or shutdown, requests under way (an upload, an export) get this long to finish.
graceful_timeout = 60
keepalive = 5
# No max_requests: recycling a worker would cut off an audit bundle building in its background.

# The heartbeat file on a RAM disk where there is one: a slow or full disk cannot stall it.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

# Gunicorn believes X-Forwarded-Proto (and so marks a request https) only from these addresses.
# Behind a proxy on another machine, set FORWARDED_ALLOW_IPS to its address; "*" only when
# nothing but the proxy can reach gunicorn. The client's own address, for the access log and
# the app, comes from X-Forwarded-For through TRUSTED_PROXIES (werkzeug's ProxyFix).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Requests to stdout, errors and gunicorn's own messages to stderr: the service manager or the
# container runtime keeps them. %(M)s is the time taken in milliseconds.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms'

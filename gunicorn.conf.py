"""gunicorn settings for Expo Judge: `gunicorn -c gunicorn.conf.py wsgi:app`.

Every value can be overridden from the environment (GUNICORN_*), or on the command line.
"""
import multiprocessing
import os
import re
import stat
import tempfile

# Where to listen: all interfaces in a container; PORT as platforms (Cloud Run, Heroku) set it.
bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")

# Workers from the CPU count (the classic 2n + 1), each with a few threads: a judge's request mostly
# waits on the database, and a thread is far cheaper than a process. A PDF render holds one thread.
workers = int(os.environ.get("GUNICORN_WORKERS") or os.environ.get("WEB_CONCURRENCY")
              or multiprocessing.cpu_count() * 2 + 1)
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")  # chosen on measurement: docs/benchmarks.md

# A 600-page certificate batch renders in a background thread with a progress page, but a single
# batch of up to 40 pages (DOCUMENT_INLINE_PAGES) renders inside its request: allow it two minutes.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Recycling workers (max_requests) is off by default: a gthread worker that reaches its count closes its
# kept-alive connections while phones are about to reuse them, and a phone then sees "connection reset"
# in the middle of the expo (seen in bench/load.py runs). Set GUNICORN_MAX_REQUESTS to bound a slow leak
# on a long-running server, and restart between events rather than during one.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "0"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "500"))
# Behind a proxy (TRUSTED_PROXIES), the app's ProxyFix reads X-Forwarded-*; gunicorn itself must not
# drop them. Which proxies to believe is the app's setting, not gunicorn's.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "*")
# ...and must not decide the scheme itself from X-Forwarded-Proto (any client could send it):
# ProxyFix does, for the TRUSTED_PROXIES hops only.
secure_scheme_headers = {}

# gunicorn 23+ opens a control socket in ~/.gunicorn; a container's read-only home has no room for it.
control_socket_disable = True

# The app writes its own access log, JSON with a request id and with badge, feedback and
# verification tokens redacted (expo_app/platform/observability.py); gunicorn's would print them.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "expo_app.platform.observability.JsonFormatter"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
    "root": {"handlers": ["stderr"], "level": loglevel.upper()},
    "loggers": {
        "gunicorn.error": {"handlers": ["stderr"], "level": loglevel.upper(), "propagate": False},
        "gunicorn.access": {"handlers": [], "propagate": False},
    },
} if os.environ.get("LOG_FORMAT", "json") == "json" else {}

# One BLAS thread per process: the ranking fits' linear algebra must not take every core from the
# judges' requests (and small matrices gain nothing from more threads).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

# Prometheus multiprocess mode: every worker writes its metrics under this folder and /metrics sums
# them. It must be set before any worker imports prometheus_client, and start empty (on_starting).
# Without PROMETHEUS_MULTIPROC_DIR: a folder of our own, named after the listening address, so a
# restarted container (Kubernetes keeps its /tmp emptyDir) empties the same folder instead of leaving
# one more behind with the dead server's files.
def _own_metrics_folder() -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", bind).strip("-") or "default"
    path = os.path.join(tempfile.gettempdir(), f"expo-metrics-{os.getuid()}-{slug}")
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        info = os.lstat(path)
        if stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o022:
            return path
    except OSError:
        pass
    return tempfile.mkdtemp(prefix="expo-metrics-")  # someone else's (or a link) in a shared /tmp: a new one


if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _own_metrics_folder()
os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)


def on_starting(server):
    """The arbiter starts (not on a reload, whose workers' counts must go on): remove every metrics
    file a previous server left (prometheus_client's *.db files), or its counts would be summed in."""
    folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    own = f"_{os.getpid()}.db"  # the arbiter's, made as its JSON log formatter imported the app's metrics
    removed = 0
    for entry in os.scandir(folder):
        if entry.name.endswith(".db") and not entry.name.endswith(own) and entry.is_file(follow_symlinks=False):
            os.remove(entry.path)
            removed += 1
    server.log.info("Prometheus multiprocess folder %s: %d stale file(s) removed", folder, removed)


def child_exit(server, worker):
    """A worker that died (or was killed) stops counting as live in the summed gauges."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker):
    """Ready a new worker before it takes requests: SQLAlchemy's mappers and the judges' templates are
    made once here, not in the first requests of the sign-in burst (seen as 9 % of a burst's CPU in a
    py-spy profile). faulthandler prints the Python stacks should native code crash a worker."""
    import faulthandler

    faulthandler.enable()
    try:
        from sqlalchemy.orm import configure_mappers

        from wsgi import app

        configure_mappers()
        for name in ("base.html", "judging/home.html", "judging/score.html", "judging/team_card.html",
                     "auth/judge_sign_in.html", "auth/link_problem.html"):
            app.jinja_env.get_template(name)
    except Exception as exc:  # noqa: BLE001 - a warm-up must never stop a worker
        worker.log.warning("worker warm-up skipped: %s", exc)

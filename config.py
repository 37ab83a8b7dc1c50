"""Configuration classes, read from the environment.

Development may fall back to a secret kept in the instance folder; production never falls back to
anything: it refuses to start without SECRET_KEY and DATABASE_URL.
"""
import os
from datetime import timedelta


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY")
    # Earlier secret keys, comma-separated, after a rotation: printed certificates made under them
    # still verify (and Flask still reads sessions signed with them). Judge badges do not: a new key
    # is how every badge is retired at once.
    SECRET_KEY_FALLBACKS = [key for key in os.environ.get("SECRET_KEY_FALLBACKS", "").split(",") if key.strip()]
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL")  # None: SQLite in the instance folder
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    # The base of every printed link (QR codes on badges and tables): it must be the address phones
    # reach, which a CLI run cannot guess from a request. Set here (from the environment) it wins;
    # unset, the address saved on the Site settings page is used, else the default below, this
    # machine on the port it serves on (`make run` and the image export PORT), which only a browser
    # on the same machine reaches. See expo_app/site_settings.py.
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "").strip().rstrip("/") or None
    DEFAULT_PUBLIC_BASE_URL = f"http://127.0.0.1:{os.environ.get('PORT', '').strip() or '5000'}"
    # A judge's phone stays signed in for the whole event (several days covers set-up and the day).
    PERMANENT_SESSION_LIFETIME = timedelta(days=int(os.environ.get("SESSION_DAYS", "4")))
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    WTF_CSRF_TIME_LIMIT = None  # a judge may leave the form open for an hour; the session bounds it
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024  # CSV uploads are small; refuse anything huge
    # Times on pages are shown in the hall's time zone (stored in UTC).
    DISPLAY_TIMEZONE = os.environ.get("EXPO_TIMEZONE", "UTC")
    SQLITE_BUSY_TIMEOUT_MS = int(os.environ.get("SQLITE_BUSY_TIMEOUT_MS", "10000"))
    PASSWORD_HASH_METHOD = "scrypt"
    # Shared state of every instance and worker (rate limits, login throttling, revoked sessions,
    # the ranking cache): Redis when set, else the database. Never one process's memory.
    REDIS_URL = os.environ.get("REDIS_URL") or None
    # Organiser sign-in throttling (expo_app/auth/throttle.py): failures per account from one client
    # and attempts per client over LOGIN_WINDOW_S; failures per account from all clients together over
    # LOGIN_ACCOUNT_WINDOW_S (loose: a distributed guesser is stopped, the owner is not locked out by
    # one address); and a budget of password checks a minute for the whole site (~0.1 s of CPU each).
    LOGIN_WINDOW_S = int(os.environ.get("LOGIN_WINDOW_S", "900"))
    LOGIN_FAILURES_PER_ACCOUNT_AND_CLIENT = int(os.environ.get("LOGIN_FAILURES_PER_ACCOUNT_AND_CLIENT", "5"))
    LOGIN_ATTEMPTS_PER_CLIENT = int(os.environ.get("LOGIN_ATTEMPTS_PER_CLIENT", "30"))
    LOGIN_ACCOUNT_WINDOW_S = int(os.environ.get("LOGIN_ACCOUNT_WINDOW_S", "3600"))
    LOGIN_FAILURES_PER_ACCOUNT = int(os.environ.get("LOGIN_FAILURES_PER_ACCOUNT", "100"))
    LOGIN_CHECKS_PER_MINUTE = int(os.environ.get("LOGIN_CHECKS_PER_MINUTE", "60"))
    # The live ranking is refitted at most this often per event, however many organisers poll and
    # however fast sheets arrive (one fit, shared by every worker); the judge home's routing values
    # at most every ROUTING_MAX_AGE_S.
    DASHBOARD_MAX_AGE_S = float(os.environ.get("DASHBOARD_MAX_AGE_S", "2"))
    ROUTING_MAX_AGE_S = float(os.environ.get("ROUTING_MAX_AGE_S", "20"))
    # What a judge's phone keeps for offline use right after sign-in (/judge/offline.json): every form
    # of an event this small, else the judge's route (or the first tables without a plan); the other
    # forms one every OFFLINE_LATER_GAP_S seconds while a judge page is open, after a random wait in
    # OFFLINE_LATER_START_S, so that a hall signing in at once does not ask for every form at once.
    OFFLINE_NOW_ALL_TEAMS = int(os.environ.get("OFFLINE_NOW_ALL_TEAMS", "24"))
    OFFLINE_NOW_UNPLANNED = 8
    OFFLINE_LATER_START_S = (20, 120)
    OFFLINE_LATER_GAP_S = 6
    # A refit runs in a background thread while the previous fit is served ("thread"), and a fit stays
    # good for at least FIT_COST_FACTOR times what it took, which caps the fits' share of the CPU.
    SHARED_FITS = os.environ.get("SHARED_FITS", "thread")
    FIT_COST_FACTOR = float(os.environ.get("FIT_COST_FACTOR", "6"))
    # Behind a TLS-terminating proxy: how many proxies to believe X-Forwarded-* from (0: none).
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")  # "json": one JSON object per line, with request ids
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
    ACCESS_LOG = _bool("ACCESS_LOG", False)
    # /metrics: with a token, only for "Authorization: Bearer <token>" (403 otherwise); without one, open
    # if METRICS_PUBLIC (development, tests), else 404 (production's default: it is never public).
    METRICS_TOKEN = os.environ.get("METRICS_TOKEN") or None
    METRICS_PUBLIC = _bool("METRICS_PUBLIC", True)
    HSTS_SECONDS = int(os.environ.get("HSTS_SECONDS", "0"))
    # Printed matter: batches up to this many pages render inside the download request (a second or
    # two); bigger ones render in a background thread with a progress page ("thread"), or inside the
    # request anyway ("inline", for tests and one-process set-ups). Items laid out per progress step.
    DOCUMENT_INLINE_PAGES = int(os.environ.get("DOCUMENT_INLINE_PAGES", "40"))
    DOCUMENT_JOBS = os.environ.get("DOCUMENT_JOBS", "thread")
    DOCUMENT_CHUNK_ITEMS = 50
    # E-mail (expo_app/mail). MAIL_URL: smtp://user:password@host:587 (STARTTLS, required), smtps://...:465
    # (TLS from the start), or smtp://host:1025?tls=none for a local mail catcher (no password allowed then).
    # Unset: every message is written as an .eml file into the instance folder's mail/ and shown on the
    # organisers' mail page. The web only queues; `expo mail send` (the worker) delivers, at most
    # MAIL_RATE messages a second per worker (0: no limit), retrying a failure after MAIL_BACKOFF_S
    # seconds, doubling up to MAIL_BACKOFF_MAX_S, MAIL_MAX_ATTEMPTS times in all. A worker holds a
    # message for MAIL_LEASE_S (renewed while it works): if it dies, another takes the message after that.
    MAIL_URL = os.environ.get("MAIL_URL", "").strip() or None
    MAIL_FROM = os.environ.get("MAIL_FROM", "").strip() or None
    MAIL_RATE = float(os.environ.get("MAIL_RATE", "10"))
    MAIL_MAX_ATTEMPTS = int(os.environ.get("MAIL_MAX_ATTEMPTS", "8"))
    MAIL_BACKOFF_S = float(os.environ.get("MAIL_BACKOFF_S", "30"))
    MAIL_BACKOFF_MAX_S = float(os.environ.get("MAIL_BACKOFF_MAX_S", "3600"))
    MAIL_LEASE_S = float(os.environ.get("MAIL_LEASE_S", "300"))
    MAIL_TIMEOUT_S = float(os.environ.get("MAIL_TIMEOUT_S", "30"))
    MAIL_BATCH = int(os.environ.get("MAIL_BATCH", "20"))
    MAIL_POLL_S = float(os.environ.get("MAIL_POLL_S", "5"))
    # Without MAIL_URL, "thread" writes the .eml files from a background thread of the web process right
    # after a request queued them (so `make run` shows them without a worker); "none": only the worker does.
    MAIL_BACKGROUND = os.environ.get("MAIL_BACKGROUND", "thread")
    TESTING = False
    DEBUG = False
    ENV_NAME = "base"


class DevelopmentConfig(Config):
    DEBUG = _bool("FLASK_DEBUG", False)
    ENV_NAME = "development"


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production"  # noqa: S105 - tests only
    WTF_CSRF_ENABLED = False
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # fast: the tests hash a password per test
    DOCUMENT_JOBS = "inline"  # no render outlives its test; the background path is tested on purpose
    MAIL_BACKGROUND = "none"  # the tests run the mail worker themselves
    MAIL_URL = None
    MAIL_FROM = None
    DASHBOARD_MAX_AGE_S = 0.0  # a test reads the ranking right after it scores
    ROUTING_MAX_AGE_S = 0.0
    SHARED_FITS = "inline"
    FIT_COST_FACTOR = 0.0
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    ENV_NAME = "test"


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "json")
    ACCESS_LOG = _bool("ACCESS_LOG", True)
    # Browsers keep to HTTPS for a year once they have seen the site over it (sent on HTTPS only).
    HSTS_SECONDS = int(os.environ.get("HSTS_SECONDS", str(365 * 24 * 3600)))
    # Without METRICS_TOKEN, /metrics answers 404, unless METRICS_PUBLIC=1 says the network keeps it
    # private (scraped on the pod's address, never routed by the ingress).
    METRICS_PUBLIC = _bool("METRICS_PUBLIC", False)
    # The worker (`expo mail send`) delivers; the web processes only queue.
    MAIL_BACKGROUND = os.environ.get("MAIL_BACKGROUND", "none")
    ENV_NAME = "production"


CONFIGS = {
    "development": DevelopmentConfig,
    "test": TestConfig,
    "production": ProductionConfig,
}


def config_from_env(default: str = "development"):
    """The config class that EXPO_ENV names (`default` when unset)."""
    name = os.environ.get("EXPO_ENV", default)
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"EXPO_ENV={name!r} is not one of {', '.join(CONFIGS)}") from None

"""Request guards that hold for every page: input no database can store, ids no column can hold,
and a clean 503 (never a 500) when the database is briefly out of reach or saturated."""
from __future__ import annotations

import logging

from flask import jsonify, render_template, request
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.routing import IntegerConverter

log = logging.getLogger(__name__)

# Every id column is a 32-bit integer on PostgreSQL; a larger number in a URL can name nothing.
MAX_ID = 2**31 - 1
NUL_MESSAGE = ("Text cannot contain a NUL character (\\0, often left by copying from a binary file). "
               "Remove it and send again: nothing was saved.")
RETRY_AFTER_S = 2


class IdConverter(IntegerConverter):
    """`<int:…>` in our URLs: 1 to 2**31 - 1, so a huge id is a 404, not a database error."""

    def __init__(self, map, fixed_digits=0, min=1, max=MAX_ID, signed=False):  # noqa: A002 - werkzeug's names
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def install_converters(app) -> None:
    """Before any blueprint registers its routes."""
    app.url_map.converters["int"] = IdConverter


def wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def is_a_kept_copy() -> bool:
    """Whether this GET fetches a copy nobody is looking at yet: the phone's service worker keeping a
    page for offline use (it sends X-Expo-Precache) or a browser's prefetch (Sec-Purpose/Purpose)."""
    purpose = (request.headers.get("Sec-Purpose") or request.headers.get("Purpose") or "").lower()
    return bool(request.headers.get("X-Expo-Precache")) or "prefetch" in purpose


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_has_nul(v) for v in value)
    return False


def _request_has_nul() -> bool:
    if "\x00" in request.path:
        return True
    if any(_has_nul(k) or _has_nul(v) for k, v in request.args.items(multi=True)):
        return True
    if request.method in ("POST", "PUT", "PATCH"):
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            if any(_has_nul(k) or _has_nul(v) for k, v in request.form.items(multi=True)):
                return True
            if any(_has_nul(f.filename or "") for f in request.files.values()):
                return True
        elif request.is_json and _has_nul(request.get_json(silent=True)):
            return True
    return False


def refused(status: int, title: str, message: str, headers=None):
    """One answer for the browser (the error page) and for the phone's script (JSON it keeps)."""
    if wants_json():
        body = jsonify(status="refused" if status < 500 else "busy", reason=message)
        return body, status, headers or {}
    return render_template("errors/error.html", status=status, title=title, message=message), status, headers or {}


def init_app(app) -> None:
    @app.before_request
    def _refuse_nul():
        if _request_has_nul():
            return refused(400 if not wants_json() else 422, "A NUL character is not allowed", NUL_MESSAGE)
        return None

    def _busy(exc):
        from ..extensions import db

        db.session.rollback()
        log.warning("database unavailable or saturated: %s", exc.__class__.__name__,
                    extra={"error": str(exc).splitlines()[0][:200] if str(exc) else ""})
        return refused(503, "Busy for a moment",
                       "The server is busy or reconnecting to its database: nothing was saved. "
                       f"Try again in {RETRY_AFTER_S} seconds (a judge's phone does so by itself).",
                       {"Retry-After": str(RETRY_AFTER_S)})

    busy_errors = [PoolTimeout, OperationalError]

    @app.errorhandler(PoolTimeout)
    def _pool_exhausted(exc):
        return _busy(exc)

    if app.config.get("REDIS_URL"):
        from redis.exceptions import RedisError

        busy_errors.append(RedisError)

        @app.errorhandler(RedisError)
        def _redis_away(exc):
            # The shared state (sessions, throttling) is briefly unreachable: nothing was decided.
            return _busy(exc)

    @app.errorhandler(OperationalError)
    def _operational(exc):
        # Connection lost or refused (a restarted or terminated backend), SQLite busy beyond its
        # timeout: the transaction was rolled back, so the client may safely send it again.
        return _busy(exc)

    # Flask hands an error raised by an after-request hook to the 500 handler (wrapped in an
    # InternalServerError), never to the handlers above: the 500 handler asks busy_answer first.
    app.extensions["expo_busy"] = (tuple(busy_errors), _busy)


def busy_answer(error):
    """The 503 answer if `error` (a 500's original exception) is the database or Redis being away."""
    from flask import current_app

    kinds, busy = current_app.extensions.get("expo_busy", ((), None))
    return busy(error) if kinds and isinstance(error, kinds) else None

"""Expensive results (the ranking engine's fits) computed once and shared by every worker.

`shared_result(name, version, compute, max_age_s, fallback)` gives the result computed for
`version`, or the latest one while it is younger than `max_age_s` (and younger than four times
what computing it took, so that fits use at most about a quarter of a core per event however
fast sheets arrive and however many organisers poll). An older result is still served at once
while a background thread refits it ("stale while revalidate"): no judge or organiser waits for
a refit once a first result exists. Without any result, `fallback()` is served if given (the
judge home's plain plan order) while the first one is computed; otherwise the first request
computes it and the others wait for it. Only one worker computes a given name at a time (a lock in
the shared state).

`compute` runs with an application context, perhaps in another thread: it must load what it needs
(by id), not use objects of the request's session.

Results are pickled with an HMAC (SECRET_KEY), so an entry in Redis or the database that we did
not write is never unpickled.
"""
from __future__ import annotations

import logging
import secrets
import threading
import time
from typing import Callable, TypeVar

from flask import current_app

from .shared import dump_signed, load_signed, shared

log = logging.getLogger(__name__)
T = TypeVar("T")
KEEP_S = 3600
LOCK_S = 120


def _ref(name: str):
    """(the latest version computed, when, seconds it took), as the last computing worker left it."""
    return load_signed(current_app.config["SECRET_KEY"], shared().get(f"memo:{name}:ref"))


def _cannot_share() -> bool:
    """A writing request on SQLite holds the database's write lock, which the shared state (in the
    same database, on its own connection) would wait for: compute without sharing then."""
    from ..extensions import db, write_intent

    return shared().name == "database" and write_intent.get() and db.engine.dialect.name == "sqlite"


def _good_for(ref, version: str, max_age_s: float) -> bool:
    """Whether the latest result may still be served as it is: it is `version`'s, or young enough.

    Young enough: under max_age_s, and under FIT_COST_FACTOR times what computing it took.
    """
    cost_factor = current_app.config.get("FIT_COST_FACTOR", 6)
    return ref[0] == version or time.time() - ref[1] < max(max_age_s, cost_factor * ref[2])


def _lock(name: str) -> bytes | None:
    """Take the name's lock: its token, or None when another worker holds it."""
    token = secrets.token_hex(8).encode()
    return token if shared().add(f"memo:{name}:lock", token, LOCK_S) else None


def _compute_and_store(name: str, version: str, compute: Callable[[], T], token: bytes,
                       release_session=None) -> T:
    """Compute and publish; the caller holds the lock (`token`), released here if still ours."""
    state, secret = shared(), current_app.config["SECRET_KEY"]
    try:
        started = time.perf_counter()
        result = compute()
        seconds = time.perf_counter() - started
        if release_session is not None:
            release_session()  # end the fit's read transaction before writing elsewhere
        state.set(f"memo:{name}:{version}", dump_signed(secret, result), KEEP_S)
        state.set(f"memo:{name}:ref", dump_signed(secret, (version, time.time(), seconds)), KEEP_S)
        return result
    finally:
        state.release(f"memo:{name}:lock", token)


def _refresh(name: str, version: str, compute: Callable[[], object]):
    """Recompute in a background thread, unless some worker is at it already. With SHARED_FITS =
    "inline" (tests), compute here and return (result, version)."""
    token = _lock(name)
    if token is None:
        return None
    app = current_app._get_current_object()
    if app.config.get("SHARED_FITS", "thread") == "inline":
        return _compute_and_store(name, version, compute, token), version

    def run():
        from ..extensions import db, write_intent

        # A fit only reads: a plain BEGIN, so that on SQLite it never holds the write lock (a new
        # thread would start with the default, BEGIN IMMEDIATE, and keep every writer waiting).
        write_intent.set(False)
        with app.app_context():
            try:
                _compute_and_store(name, version, compute, token, release_session=db.session.remove)
            except Exception:  # noqa: BLE001 - a failed refit keeps the last result; say why in the log
                log.exception("refitting %s failed", name)

    threading.Thread(target=run, name=f"refit-{name}", daemon=True).start()
    return None


def shared_result(name: str, version: str, compute: Callable[[], T], max_age_s: float = 0.0,
                  fallback: Callable[[], T] | None = None) -> tuple[T, str | None]:
    """(result, the version it was computed for; None for the fallback). See the module's docstring."""
    if _cannot_share():
        return compute(), version
    state, secret = shared(), current_app.config["SECRET_KEY"]
    ref = _ref(name)
    if ref is not None:
        found = load_signed(secret, state.get(f"memo:{name}:{ref[0]}"))
        if found is not None:
            if not _good_for(ref, version, max_age_s):
                return _refresh(name, version, compute) or (found, ref[0])
            return found, ref[0]
    if fallback is not None:
        return _refresh(name, version, compute) or (fallback(), None)
    # No result yet: the first request computes it, and the others wait for that one.
    deadline = time.monotonic() + LOCK_S
    while (token := _lock(name)) is None:
        time.sleep(0.25)
        ref = _ref(name)
        if ref is not None:
            found = load_signed(secret, state.get(f"memo:{name}:{ref[0]}"))
            if found is not None:
                return found, ref[0]
        if time.monotonic() > deadline:
            return compute(), version  # the holder died without releasing: do it here, unshared
    return _compute_and_store(name, version, compute, token), version

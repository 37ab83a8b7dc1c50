"""State that every instance and worker must see alike: counters, flags and small caches.

With `REDIS_URL` set it lives in Redis; without, in the `shared_state` table of the app's own
database. Never in one process's memory, which the next gunicorn worker cannot see.

Every call uses its own short transaction (a separate connection), never the request's session, so
a counter bumped by a refused login survives the request's rollback. Callers on SQLite must
therefore not hold the write lock while they call (see auth.views.admin_login).
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import pickle
import random
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

from sqlalchemy import case, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class RedisState:
    """Redis: INCR with EXPIRE for counters, SET EX for values, SET NX for locks."""

    name = "redis"

    def __init__(self, url: str, prefix: str = "expo:"):
        import redis

        self.redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2, health_check_interval=30)
        self.prefix = prefix

    def hit(self, key: str, window_s: int) -> int:
        pipe = self.redis.pipeline()  # MULTI/EXEC: the window starts with the first hit (Redis 2.6+)
        pipe.set(self.prefix + key, 0, ex=window_s, nx=True)
        pipe.incr(self.prefix + key)
        _created, count = pipe.execute()
        return int(count)

    # Only a live counter above zero goes down: an expired key must not come back without its TTL.
    UNHIT = ("local v = redis.call('get', KEYS[1]) "
             "if v and tonumber(v) > 0 then return redis.call('decr', KEYS[1]) else return 0 end")

    def unhit(self, key: str) -> None:
        """Take back one hit (an attempt that was refused after all); the window is unchanged."""
        self.redis.eval(self.UNHIT, 1, self.prefix + key)

    def count(self, key: str) -> int:
        value = self.redis.get(self.prefix + key)
        return int(value) if value is not None else 0

    def ttl(self, key: str) -> int:
        return max(int(self.redis.ttl(self.prefix + key)), 0)

    def get(self, key: str) -> bytes | None:
        return self.redis.get(self.prefix + key)

    def get_here(self, _session, key: str) -> bytes | None:
        """get(), for a caller inside a request (see DatabaseState.get_here)."""
        return self.get(key)

    def set(self, key: str, value: bytes, ttl_s: int) -> None:
        self.redis.set(self.prefix + key, value, ex=ttl_s)

    def add(self, key: str, value: bytes, ttl_s: int) -> bool:
        """Set only if absent (a lock): whether this caller got it."""
        return bool(self.redis.set(self.prefix + key, value, ex=ttl_s, nx=True))

    def delete(self, key: str) -> None:
        self.redis.delete(self.prefix + key)

    def delete_prefix(self, prefix: str) -> None:
        """Every key that starts with `prefix` (an admin's action, not a request's: it scans)."""
        pattern = "".join("\\" + c if c in "*?[]\\" else c for c in self.prefix + prefix) + "*"
        keys = list(self.redis.scan_iter(match=pattern, count=1000))
        if keys:
            self.redis.delete(*keys)

    RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"

    def release(self, key: str, value: bytes) -> None:
        """Delete a lock only if it still holds `value` (it may have expired and been taken over)."""
        self.redis.eval(self.RELEASE, 1, self.prefix + key, value)

    def ping(self) -> bool:
        return bool(self.redis.ping())


class DatabaseState:
    """The app's database: one row per key in `shared_state`, expired rows swept now and then."""

    name = "database"
    SWEEP_ONE_IN = 200

    def __init__(self, engine_getter):
        self._engine = engine_getter

    @property
    def table(self):
        from ..models import SharedState

        return SharedState.__table__

    @contextmanager
    def _begin(self):
        from ..extensions import write_intent

        # On SQLite a write takes the lock up front (BEGIN IMMEDIATE), as every writing request does.
        token = write_intent.set(True)
        try:
            with self._engine().begin() as conn:
                yield conn
        finally:
            write_intent.reset(token)

    def _sweep(self, conn) -> None:
        if random.randrange(self.SWEEP_ONE_IN) == 0:
            conn.execute(delete(self.table).where(self.table.c.expires_at < _now()))

    def hit(self, key: str, window_s: int) -> int:
        t, now = self.table, _now()
        with self._begin() as conn:
            self._sweep(conn)
            for _attempt in range(3):
                result = conn.execute(
                    update(t).where(t.c.key == key)
                    .values(count=case((t.c.expires_at < now, 1), else_=t.c.count + 1),
                            expires_at=case((t.c.expires_at < now, now + timedelta(seconds=window_s)),
                                            else_=t.c.expires_at)))
                if result.rowcount:
                    return conn.execute(select(t.c.count).where(t.c.key == key)).scalar_one()
                try:
                    with conn.begin_nested():
                        conn.execute(insert(t).values(key=key, count=1, value=None,
                                                      expires_at=now + timedelta(seconds=window_s)))
                    return 1
                except IntegrityError:  # another worker inserted it first: count on it
                    continue
        raise RuntimeError(f"shared counter {key!r} could not be updated")

    def unhit(self, key: str) -> None:
        t = self.table
        with self._begin() as conn:
            conn.execute(update(t).where(t.c.key == key, t.c.expires_at >= _now(), t.c.count > 0)
                         .values(count=t.c.count - 1))

    @contextmanager
    def _read(self):
        from ..extensions import write_intent

        # A plain BEGIN: on SQLite (WAL) a read never waits for a writer, even this request's own.
        token = write_intent.set(False)
        try:
            with self._engine().connect() as conn:
                yield conn
        finally:
            write_intent.reset(token)

    def _live(self, conn, key: str):
        t = self.table
        return conn.execute(select(t.c.count, t.c.value, t.c.expires_at)
                            .where(t.c.key == key, t.c.expires_at >= _now())).one_or_none()

    def count(self, key: str) -> int:
        with self._read() as conn:
            row = self._live(conn, key)
        return row.count if row else 0

    def ttl(self, key: str) -> int:
        with self._read() as conn:
            row = self._live(conn, key)
        return max(int((row.expires_at - _now()).total_seconds()), 0) if row else 0

    def get(self, key: str) -> bytes | None:
        with self._read() as conn:
            row = self._live(conn, key)
        return bytes(row.value) if row and row.value is not None else None

    def get_here(self, session, key: str) -> bytes | None:
        """get(), read on the request's own session (its connection and transaction) instead of a
        second connection: for a read that every request makes (is this session revoked?). A read
        only: what it sees is what the request's transaction sees."""
        t = self.table
        value = session.execute(select(t.c.value).where(t.c.key == key, t.c.expires_at >= _now())).scalar()
        return bytes(value) if value is not None else None

    def set(self, key: str, value: bytes, ttl_s: int) -> None:
        t, expires = self.table, _now() + timedelta(seconds=ttl_s)
        with self._begin() as conn:
            self._sweep(conn)
            if not conn.execute(update(t).where(t.c.key == key).values(value=value, count=0, expires_at=expires)).rowcount:
                try:
                    with conn.begin_nested():
                        conn.execute(insert(t).values(key=key, count=0, value=value, expires_at=expires))
                except IntegrityError:
                    conn.execute(update(t).where(t.c.key == key).values(value=value, count=0, expires_at=expires))

    def add(self, key: str, value: bytes, ttl_s: int) -> bool:
        t, now = self.table, _now()
        with self._begin() as conn:
            # An expired holder's row is taken over; a live one wins.
            conn.execute(delete(t).where(t.c.key == key, t.c.expires_at < now))
            try:
                with conn.begin_nested():
                    conn.execute(insert(t).values(key=key, count=0, value=value,
                                                  expires_at=now + timedelta(seconds=ttl_s)))
            except IntegrityError:
                return False
        return True

    def delete(self, key: str) -> None:
        with self._begin() as conn:
            conn.execute(delete(self.table).where(self.table.c.key == key))

    def delete_prefix(self, prefix: str) -> None:
        with self._begin() as conn:
            conn.execute(delete(self.table).where(self.table.c.key.startswith(prefix, autoescape=True)))

    def release(self, key: str, value: bytes) -> None:
        with self._begin() as conn:
            conn.execute(delete(self.table).where(self.table.c.key == key, self.table.c.value == value))

    def ping(self) -> bool:
        with self._read() as conn:
            conn.execute(select(1))
        return True


def init_app(app) -> None:
    url = app.config.get("REDIS_URL")
    if url:
        state = RedisState(url, prefix=app.config.get("REDIS_PREFIX", "expo:"))
    else:
        from ..extensions import db

        state = DatabaseState(lambda: db.engine)
    app.extensions["expo_shared"] = state


def shared():
    from flask import current_app

    return current_app.extensions["expo_shared"]


def hashed(*parts: object) -> str:
    """A key part from values that must not be stored as they are (session ids, e-mails, addresses)."""
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[:32]


# ----------------------------------------------------------------------------- signed pickles

def _sign(secret: str, payload: bytes) -> bytes:
    return hmac.new(secret.encode(), payload, hashlib.sha256).digest()


def dump_signed(secret: str, value: object) -> bytes:
    """Pickle `value` with an HMAC, so that a cache entry someone else wrote is never unpickled."""
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return _sign(secret, payload) + payload


def load_signed(secret: str, blob: bytes | None) -> object | None:
    if not blob or len(blob) < 32:
        return None
    mac, payload = blob[:32], blob[32:]
    if not hmac.compare_digest(mac, _sign(secret, payload)):
        log.warning("a shared cache entry had a bad signature and was ignored")
        return None
    return pickle.loads(payload)  # noqa: S301 - signed with SECRET_KEY above


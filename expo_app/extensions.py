"""Flask extensions, created unbound so that nothing here imports the app."""
import logging
from contextvars import ContextVar

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.exc import DBAPIError

# Named constraints, so Alembic's batch mode on SQLite can find and alter them.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

class _SQLAlchemy(SQLAlchemy):
    def _teardown_session(self, exc):
        """End the request's session even when its connection died under it.

        After a terminated database connection (a restart, `pg_terminate_backend`) the rollback in
        `session.remove()` raises; the answer is already made, and the pool replaces the connection
        (pool_pre_ping), so say so in the log rather than turn the answer into a 500.
        """
        try:
            super()._teardown_session(exc)
        except DBAPIError as error:
            logging.getLogger(__name__).warning("ending a session on a lost connection: %s",
                                                str(error).splitlines()[0][:200])
            self.session.registry.clear()


db = _SQLAlchemy(metadata=MetaData(naming_convention=NAMING))
migrate = Migrate(render_as_batch=True, compare_type=True)
csrf = CSRFProtect()

# Whether the current unit of work may write. Requests that only read (GET/HEAD) start a plain
# deferred transaction on SQLite; everything else starts BEGIN IMMEDIATE so that it takes the write
# lock up front and cannot fail with SQLITE_BUSY half-way through (the busy timeout waits instead).
write_intent: ContextVar[bool] = ContextVar("write_intent", default=True)


def configure_sqlite(engine, busy_timeout_ms: int) -> None:
    """WAL, foreign keys, a busy timeout, and transactions we begin ourselves."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event emit BEGIN instead of pysqlite's own implicit one.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write_intent.get() else "BEGIN")

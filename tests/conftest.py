"""Shared fixtures: an app per test on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL too."""
from __future__ import annotations

import os

import jinja2
import pytest
import sqlalchemy as sa

from expo_app import create_app
from expo_app.extensions import db

REQUIRE_PG = os.environ.get("EXPO_REQUIRE_POSTGRES") == "1"


def _worker_database(url: str) -> str:
    """Under pytest-xdist (make test runs a worker per core), each worker gets a PostgreSQL database of
    its own, `<database>_<worker>` (made on first use): the workers' schema resets and table emptying never
    meet. Every test module that reads TEST_DATABASE_URL gets its worker's database."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    base = sa.engine.make_url(url)
    name = f"{base.database}_{worker}"
    try:
        engine = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            if not conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}).scalar():
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
    except sa.exc.OperationalError:
        return url  # unreachable: pg_schema fails (or skips) with the reason
    return base.set(database=name).render_as_string(hide_password=False)


PG_URL = _worker_database(os.environ.get("TEST_DATABASE_URL", ""))
if PG_URL:
    os.environ["TEST_DATABASE_URL"] = PG_URL
ADMIN_EMAIL = "organiser@example.org"
ADMIN_PASSWORD = "correct horse battery"


@pytest.fixture(scope="session", autouse=True)
def _instance_folder(tmp_path_factory):
    """Keep every test away from the repository's instance/ folder (dev database and secret)."""
    path = tmp_path_factory.mktemp("instance")
    old = os.environ.get("EXPO_INSTANCE_PATH")
    os.environ["EXPO_INSTANCE_PATH"] = str(path)
    yield path
    if old is None:
        os.environ.pop("EXPO_INSTANCE_PATH", None)
    else:
        os.environ["EXPO_INSTANCE_PATH"] = old


@pytest.fixture(scope="session")
def pg_schema():
    """Create the schema once in the PostgreSQL test database (dropping what an earlier run left)."""
    if not PG_URL:
        if REQUIRE_PG:
            pytest.fail("EXPO_REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set")
        pytest.skip("PostgreSQL tests need TEST_DATABASE_URL (CI sets it)")
    engine = sa.create_engine(PG_URL)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
            db.metadata.create_all(conn)
            # The test database need not survive a power cut: commits return without waiting for the
            # disk (for every connection made from now on, gunicorn's and the browser tests' too).
            conn.execute(sa.text("DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET synchronous_commit = off', "
                                 "current_database()); END $$"))
    except sa.exc.OperationalError as exc:
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL at TEST_DATABASE_URL is unreachable: {exc}")
        pytest.skip(f"PostgreSQL at TEST_DATABASE_URL is unreachable: {exc}")
    yield PG_URL
    engine.dispose()


def _empty_pg(app):
    """Every table emptied and every id sequence back at 1, in one statement: a DELETE per table (children
    first) costs about 2 ms on these small tables where TRUNCATE ... RESTART IDENTITY, which makes new
    files for 24 tables, cost 145 ms, a tenth of a PostgreSQL test's time."""
    deletes = "; ".join(f'DELETE FROM "{t.name}"' for t in reversed(db.metadata.sorted_tables))
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            conn.exec_driver_sql(f"{deletes}; SELECT setval(c.oid, 1, false) FROM pg_class c "
                                 "JOIN pg_namespace n ON n.oid = c.relnamespace "
                                 "WHERE c.relkind = 'S' AND n.nspname = 'public'")


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request):
    return request.param


@pytest.hookimpl(tryfirst=True)
def pytest_generate_tests(metafunc):
    """A test marked any_database (what it checks cannot depend on the database: a PDF's layout, a
    page's words) runs on SQLite only; every other test that uses the database runs on both."""
    if "backend" in metafunc.fixturenames and metafunc.definition.get_closest_marker("any_database"):
        # As a parametrize mark (added before pytest reads the marks), which takes precedence over the
        # backend fixture's own two params.
        metafunc.definition.add_marker(pytest.mark.parametrize("backend", ["sqlite"], indirect=True))


@pytest.fixture
def app_config(backend, tmp_path, request):
    url = f"sqlite:///{tmp_path / 'test.sqlite'}" if backend == "sqlite" else request.getfixturevalue("pg_schema")
    return {"SQLALCHEMY_DATABASE_URI": url, "PUBLIC_BASE_URL": "https://expo.example.org"}


class _SharedBytecode(jinja2.BytecodeCache):
    """Compiled templates kept for the whole test session: every test builds a new app, whose Jinja
    environment would otherwise compile each template it renders again (checked by source checksum)."""

    def __init__(self):
        self.store = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.store:
            bucket.bytecode_from_string(self.store[bucket.key])

    def dump_bytecode(self, bucket):
        self.store[bucket.key] = bucket.bytecode_to_string()


SHARED_BYTECODE = _SharedBytecode()


def _share_url_builders() -> None:
    """Every test builds a new app, and werkzeug compiles Python code to build each of its ~100 URL
    rules (an AST per rule: two thirds of create_app's time). The code depends only on the rule's parts
    and resolved defaults (converters are looked up on the rule when a URL is built), so it is made once
    per run and shared by every app's rules, as the Jinja bytecode above is."""
    from werkzeug.routing.rules import Rule

    original = Rule._compile_builder
    builders: dict = {}

    def shared(self, append_unknown=True):
        defaults = self.defaults or {}
        key = (tuple(self._trace), append_unknown,
               tuple(sorted((name, self._converters[name].to_url(value)) for name, value in defaults.items()
                            if name in self._converters)))
        if key not in builders:
            builders[key] = original(self, append_unknown)
        return builders[key]

    Rule._compile_builder = shared


_share_url_builders()


@pytest.fixture
def app(app_config, backend):
    app = create_app(app_config)
    app.jinja_env.bytecode_cache = SHARED_BYTECODE
    with app.app_context():
        if backend == "sqlite":
            db.create_all()
    yield app
    if backend == "postgresql":
        _empty_pg(app)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def ctx(app):
    """An app context for tests that work with models directly."""
    with app.app_context():
        yield


_SEEDED: dict = {}  # (database kind, password hashing, key) -> (what seed() returned, every table's rows)


def seeded(app, key: str, seed):
    """What `seed()` puts in the test's empty database, made once per worker and database kind: the first
    test runs seed() through the app's own operations, later ones get the same rows (ids included) copied
    in, which is a tenth of the time. Returns a copy of what seed() returned (ids, tokens...)."""
    import copy

    cache_key = (app.config["SQLALCHEMY_DATABASE_URI"].split(":")[0].split("+")[0],
                 app.config.get("PASSWORD_HASH_METHOD"), key)
    with app.app_context():
        tables = db.metadata.sorted_tables
        if db.session.execute(sa.select(sa.or_(*[sa.exists().select_from(t) for t in tables]))).scalar():
            result = seed()  # the test put rows in first: seeded on top of them, nothing kept for others
            db.session.commit()
            return result
        db.session.rollback()
        if cache_key not in _SEEDED:
            result = seed()
            db.session.commit()
            with db.engine.connect() as conn:
                rows = {t: [dict(r._mapping) for r in conn.execute(t.select())] for t in db.metadata.sorted_tables}
                conn.rollback()
            _SEEDED[cache_key] = (result, rows)
            return copy.deepcopy(result)
        result, rows = _SEEDED[cache_key]
        db.session.remove()
        with db.engine.begin() as conn:
            for table in db.metadata.sorted_tables:
                if rows[table]:
                    conn.execute(table.insert(), rows[table])
            if conn.dialect.name == "postgresql":  # explicit ids: move each sequence past them
                for table in db.metadata.sorted_tables:
                    if "id" in table.columns and rows[table]:
                        conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                                             f"(SELECT max(id) FROM \"{table.name}\"))")
    return copy.deepcopy(result)


def seed_demo() -> dict:
    """Seed the demo expo (12 teams, 6 judges, scoring open) and an organiser account (in an app
    context); returns the ids. Tests take it through the demo fixture, or inside their own seeded()."""
    from expo_app.demo import seed_demo_event
    from expo_app.auth.operations import create_or_reset_admin

    event = seed_demo_event("demo-admin@example.org", "demo-admin-password")
    create_or_reset_admin(ADMIN_EMAIL, ADMIN_PASSWORD)
    db.session.commit()
    return {"event": event.id, "teams": [t.id for t in event.teams], "judges": [j.id for j in event.judges],
            "criteria": [c.id for c in event.criteria]}


@pytest.fixture
def demo(app):
    """The demo expo (12 teams, 6 judges, scoring open) plus an organiser account; returns ids."""
    return seeded(app, "demo", seed_demo)


class AuthActions:
    """Sign in through the real pages, as a person would."""

    def __init__(self, app, client):
        self.app, self.client = app, client

    def admin(self, email=ADMIN_EMAIL, password=ADMIN_PASSWORD):
        return self.client.post("/admin/login", data={"email": email, "password": password})

    def judge_path(self, judge_id) -> str:
        from expo_app.auth.operations import judge_token
        from expo_app.models import Judge

        with self.app.app_context():
            return f"/j/{judge_token(db.session.get(Judge, judge_id))}"

    def judge(self, judge_id):
        return self.client.post(self.judge_path(judge_id))

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(app, client):
    return AuthActions(app, client)


def team_code(app, team_id) -> str:
    from expo_app.models import Team

    with app.app_context():
        return db.session.get(Team, team_id).code


def full_sheet(app, event_id, value=4, **extra) -> dict:
    """Form data giving every criterion of the event the same value."""
    from expo_app.models import Event

    with app.app_context():
        data = {f"criterion_{c.id}": str(value) for c in db.session.get(Event, event_id).criteria}
    data.update(extra)
    return data


def issue_and_get(client, url: str, **kwargs):
    """Issue a certificate batch by POST (printing only reads), then GET its preview or PDF, as the
    Printing page's "Issue and ..." buttons do."""
    client.post(url.removesuffix(".pdf") + "/issue")
    return client.get(url, **kwargs)

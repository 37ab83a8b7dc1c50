"""Hypothesis profiles and the fuzzed world: the demo expo, on SQLite (and PostgreSQL with TEST_DATABASE_URL).

Profiles (HYPOTHESIS_PROFILE): "ci" (default: few examples, derandomized, so `make test` stays cheap
and reproducible) and "fuzz" (`make fuzz`: many random examples).

The world is built once per test (the `app` and `demo` fixtures of tests/conftest.py, parametrised
by database) and every Hypothesis example starts from the same rows: `World.reset()` puts back the
snapshot taken after seeding whenever an example changed anything. The same snapshots prove that a
refused request wrote nothing.
"""
from __future__ import annotations

import os

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings

from expo_app.extensions import db
from tests.conftest import AuthActions

_SUPPRESSED = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large,
               HealthCheck.filter_too_much, HealthCheck.large_base_example]
settings.register_profile("ci", max_examples=20, deadline=None, derandomize=True, database=None,
                          suppress_health_check=_SUPPRESSED, print_blob=True)
settings.register_profile("fuzz", max_examples=500, deadline=None, suppress_health_check=_SUPPRESSED,
                          print_blob=True)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
settings.load_profile(PROFILE)


def budget(ci: int) -> settings:
    """`ci` examples under the ci profile; the profile's own number (500+) under fuzz."""
    if PROFILE == "ci":
        return settings(max_examples=ci)
    return settings()


def pytest_collection_modifyitems(config, items):
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.fuzz)


# --------------------------------------------------------------------------------- database state

def table_rows(app) -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order."""
    with app.app_context():
        db.session.remove()
        with db.engine.connect() as conn:
            rows = {t.name: [tuple(r) for r in conn.execute(t.select().order_by(*t.primary_key.columns))]
                    for t in db.metadata.sorted_tables}
            conn.rollback()
        return rows


def diff_rows(before: dict, after: dict) -> dict[str, tuple[list, list]]:
    """Tables whose rows differ: name -> (a few rows gone, a few rows new), for failure messages."""
    changed = {}
    for name in before:
        if before[name] != after[name]:
            gone = [r for r in before[name] if r not in after[name]]
            added = [r for r in after[name] if r not in before[name]]
            changed[name] = ([repr(r)[:300] for r in gone[:3]], [repr(r)[:300] for r in added[:3]])
    return changed


class World:
    """The demo expo plus what every page needs to show something: scores with comments, a conflict,
    an assignment plan, issued certificates. Ids in `ids`; `reset()` restores the seeded rows."""

    _cache: dict = {}  # backend -> (ids, rows as mappings): seeded once, loaded into each test's database

    def __init__(self, app, client, backend, request):
        self.app, self.client = app, client
        self.auth = AuthActions(app, client)
        if backend in World._cache:
            self.ids, self._mappings = World._cache[backend]
            self._load()
        else:
            self.ids = dict(request.getfixturevalue("demo"))
            self._seed()
            self._mappings = self._read_mappings()
            World._cache[backend] = (self.ids, self._mappings)
        self.snapshot = table_rows(app)
        self.auth.admin()

    def _seed(self):
        from expo_app.assignments.operations import make_plan
        from expo_app.documents.batches import build_batch
        from expo_app.judging.operations import SheetInput, submit_score
        from expo_app.links import feedback_token
        from expo_app.models import Event, Judge, JudgeConflict, Score, Team

        with self.app.app_context():
            event = db.session.get(Event, self.ids["event"])
            judges = [db.session.get(Judge, j) for j in self.ids["judges"]]
            teams = [db.session.get(Team, t) for t in self.ids["teams"]]
            for j, judge in enumerate(judges[:3]):
                for t, team in enumerate(teams[:3]):
                    submit_score(judge, team, SheetInput(values={c.id: 1 + (j + t) % 5 for c in event.criteria},
                                                         comment=f"comment {j}{t}", private_note=f"note {j}{t}"),
                                 "seed")
            db.session.add(JudgeConflict(event_id=event.id, judge_id=judges[4].id, team_id=teams[5].id))
            make_plan(event, k=2, seed=1)
            db.session.flush()
            certificate = build_batch(event, "participation").items[0]
            from expo_app.admin.operations import create_event

            blank = create_event("Blank expo")  # no scores: its rubric can still gain criteria
            db.session.commit()
            self.ids.update(
                codes=[t.code for t in teams], team_tokens=[feedback_token(t) for t in teams],
                certificate_id=certificate["id"], certificate_code=certificate["code"],
                scores=[s for s in db.session.execute(db.select(Score.id).order_by(Score.id)).scalars()],
                members=[m.id for t in teams for m in t.members],
                categories=[c.id for c in event.award_categories],
                conflicts=[c for c in db.session.execute(db.select(JudgeConflict.id)).scalars()],
                blank_event=blank.id, blank_criteria=[c.id for c in blank.criteria])
        self.ids["judge_paths"] = [self.auth.judge_path(j) for j in self.ids["judges"]]

    def _read_mappings(self):
        with self.app.app_context():
            with db.engine.connect() as conn:
                data = {t: [dict(r._mapping) for r in conn.execute(t.select().order_by(*t.primary_key.columns))]
                        for t in db.metadata.sorted_tables}
                conn.rollback()
        return data

    def rows(self) -> dict:
        return table_rows(self.app)

    def reset(self, current: dict | None = None) -> None:
        """Put the seeded rows back if anything changed (cheap when nothing did)."""
        current = current if current is not None else self.rows()
        if current == self.snapshot:
            return
        self._load()
        assert self.rows() == self.snapshot

    def _load(self) -> None:
        """Replace every row with the seeded ones (ids included)."""
        with self.app.app_context():
            db.session.remove()
            with db.engine.begin() as conn:
                for table in reversed(db.metadata.sorted_tables):
                    conn.execute(table.delete())
                for table in db.metadata.sorted_tables:
                    if self._mappings[table]:
                        conn.execute(table.insert(), self._mappings[table])
                if conn.dialect.name == "postgresql":  # explicit ids: move the sequences past them
                    for table in db.metadata.sorted_tables:
                        if "id" in table.columns and self._mappings[table]:
                            conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                                                 f"(SELECT max(id) FROM \"{table.name}\"))"))

    def judge_client(self, index: int = 0):
        """A phone signed in as judge `index` (its own cookie jar)."""
        client = self.app.test_client()
        response = client.post(self.ids["judge_paths"][index])
        assert response.status_code == 302, response.status_code
        return client


@pytest.fixture
def world(app, client, backend, request):
    return World(app, client, backend, request)

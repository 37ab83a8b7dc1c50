"""One event out as JSON and back in, across SQLite and PostgreSQL, all or nothing."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from expo_app import create_app
from expo_app.admin.operations import change_scoring_state
from expo_app.documents.batches import build_batch
from expo_app.extensions import db
from expo_app.judging.operations import SheetInput, submit_score
from expo_app.models import Event, Judge, Score, Team
from expo_app.portability import SCHEMA, dumps, export_event
from expo_app.results.feedback import hide_comment, release_feedback
from expo_app.results.operations import accept_suggestions, finalise_awards
from expo_app.results.queries import award_suggestions


@pytest.fixture
def full_event(app, demo):
    """The demo with scores, a hidden comment, a member not present, final awards, issued certificates."""
    with app.app_context():
        event = db.session.get(Event, demo["event"])
        for j in range(4):
            for t in range(5):
                submit_score(db.session.get(Judge, demo["judges"][j]), db.session.get(Team, demo["teams"][t]),
                             SheetInput(values={c.id: 1 + (j + t) % 5 for c in event.criteria}, comment=f"c{j}{t}",
                                        private_note=f"p{j}{t}"), "test")
        score = db.session.execute(db.select(Score).order_by(Score.id)).scalars().first()
        hide_comment(score, "Too personal", "admin: test")
        db.session.get(Team, demo["teams"][1]).members[0].present = False
        db.session.get(Team, demo["teams"][1]).members[0].student_id = "S-77"
        db.session.get(Judge, demo["judges"][5]).revoked_at = db.session.get(Judge, demo["judges"][5]).created_at
        event.grade_scale = [["Pass", 50.0], ["Fail", 0.0]]
        change_scoring_state(event, "closed")
        change_scoring_state(event, "locked")
        accept_suggestions(event, award_suggestions(event), "admin: test")
        db.session.flush()
        finalise_awards(event, "admin: test", award_suggestions(event))
        release_feedback(event)
        build_batch(event, "participation")
        build_batch(event, "certificates")
        db.session.commit()
    return demo


@pytest.fixture
def other_database(backend, tmp_path, request):
    """A second, empty database of the other kind: PostgreSQL for a SQLite source, SQLite for PostgreSQL."""
    if backend == "postgresql":
        yield f"sqlite:///{tmp_path / 'target.sqlite'}"
        return
    url = request.getfixturevalue("pg_schema")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA IF EXISTS portability_check CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA portability_check"))
    yield url + ("&" if "?" in url else "?") + "options=-csearch_path%3Dportability_check"
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA portability_check CASCADE"))
    engine.dispose()


def test_an_event_round_trips_between_sqlite_and_postgresql_unchanged(app, full_event, other_database, runner, tmp_path):
    path = tmp_path / "event.json"
    result = runner.invoke(args=["export-event", str(path)])
    assert result.exit_code == 0 and "importing it issues new ones" in result.output
    first = path.read_text(encoding="utf-8")
    data = json.loads(first)
    assert data["schema"] == SCHEMA and len(data["teams"]) == 12 and len(data["scores"]) == 20
    assert len(data["audit"]) == 21 and data["snapshot"]["data"]["awards"][0]["team_id"].startswith("t")
    with app.app_context():  # no secret went out: no judge link, feedback link or certificate code
        from expo_app.documents.certificates import certificate_code
        from expo_app.links import feedback_token, judge_sign_in_url

        event = db.session.get(Event, full_event["event"])
        secrets = [judge_sign_in_url(j).rsplit("/", 1)[1] for j in event.judges]
        secrets += [feedback_token(t) for t in event.teams]
        secrets += [certificate_code(c) for c in db.session.execute(db.select(__import__("expo_app.models", fromlist=["Certificate"]).Certificate)).scalars()]
    assert not any(secret in first for secret in secrets)

    target = create_app({"SQLALCHEMY_DATABASE_URI": other_database, "PUBLIC_BASE_URL": "https://expo.example.org"})
    with target.app_context():
        db.create_all()
    try:
        imported = target.test_cli_runner().invoke(args=["import-event", str(path)])
        assert imported.exit_code == 0, imported.output
        assert "Judge badges, team feedback links and certificate codes are new" in imported.output
        again = tmp_path / "again.json"
        assert target.test_cli_runner().invoke(args=["export-event", "--event", "1", str(again)]).exit_code == 0
        assert again.read_text(encoding="utf-8") == first
        with target.app_context():
            event = db.session.get(Event, 1)
            assert event.awards_finalised_at is not None and event.feedback_released_at is not None
            assert [t.code for t in event.teams] == [t["code"] for t in data["teams"]]  # table QR codes kept
            # The same file again: refused whole (its team codes are here already), nothing added.
            refused = target.test_cli_runner().invoke(args=["import-event", str(path)])
            assert refused.exit_code == 1 and "already in this database" in refused.output
            assert db.session.execute(db.select(db.func.count(Event.id))).scalar() == 1
    finally:
        with target.app_context():
            db.session.remove()
            db.drop_all()
            db.engine.dispose()


def test_a_newer_damaged_or_foreign_file_is_refused_and_nothing_is_imported(app, full_event, runner, tmp_path):
    with app.app_context():
        data = export_event(db.session.get(Event, full_event["event"]))
        events = db.session.execute(db.select(db.func.count(Event.id))).scalar()
    cases = {
        "newer.json": (dumps({**data, "schema": SCHEMA + 2}), f"newer Expo Judge (schema {SCHEMA + 2}"),
        "foreign.json": ('{"hello": "world"}', "not an Expo Judge event file"),
        "broken.json": ("{not json", "The file is not JSON"),
        "damaged.json": (dumps({**data, "teams": [{**data["teams"][0], "code": "NEWCODE2"}] + [
            {k: v for k, v in t.items() if k != "members"} | {"code": f"X{i:07d}"} for i, t in enumerate(data["teams"][1:])]}),
            "incomplete or damaged"),
    }
    for name, (text, message) in cases.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        result = runner.invoke(args=["import-event", str(tmp_path / name)])
        assert result.exit_code == 1 and "Nothing was imported" in result.output and message in result.output, name
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(Event.id))).scalar() == events
        assert db.session.execute(db.select(db.func.count(Team.id)).where(Team.code == "NEWCODE2")).scalar() == 0

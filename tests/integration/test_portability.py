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
    assert result.exit_code == 0 and "keeps working for the same person" in result.output
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
        assert "Printed badges, feedback slips and certificates keep working for the same people" in imported.output
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


def _without_identities(data: dict) -> dict:
    """The file as if exported before printed identities (schema 10): importing it next to the event it
    came from clashes on nothing but the team codes (which callers change)."""
    data = json.loads(json.dumps(data))
    for rows in (data["teams"], data["judges"], data["certificates"]):
        for row in rows:
            row.pop("uid", None)
            row.pop("legacy_id", None)
    return data


def test_a_newer_damaged_or_foreign_file_is_refused_and_nothing_is_imported(app, full_event, runner, tmp_path):
    with app.app_context():
        data = export_event(db.session.get(Event, full_event["event"]))
        events = db.session.execute(db.select(db.func.count(Event.id))).scalar()
    data = _without_identities(data)  # so that only the damage is refused, not a clash with the event that is here
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


def test_import_into_a_database_that_already_holds_events_and_after_members_left(app, full_event, tmp_path):
    """Ids in the target differ from the source (another event is there): the file still comes back the same,
    and a member who left the team after the awards does not come back as a stray id."""
    from expo_app.admin.operations import create_event
    from expo_app.portability import import_event, read_event_file

    with app.app_context():
        event = db.session.get(Event, full_event["event"])
        award = db.session.execute(db.select(__import__("expo_app.models", fromlist=["RankingSnapshot"]).RankingSnapshot)).scalar_one()
        winner = db.session.get(Team, award.data["awards"][0]["team_id"])
        gone = winner.members[-1]
        winner.members.remove(gone)
        db.session.commit()
        first = dumps(export_event(event))
        assert str(gone.id) not in str(json.loads(first)["snapshot"]["data"]["awards"][0]["member_ids"])
        first_without_codes = first.replace(event.teams[0].code, "X")
    target = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'busy.sqlite'}",
                         "PUBLIC_BASE_URL": "https://expo.example.org"})
    with target.app_context():
        db.create_all()
        for n in range(3):  # ids in the target are now ahead of the source's
            create_event(f"Other {n}")
        db.session.commit()
        imported = import_event(read_event_file(first))
        db.session.commit()
        again = dumps(export_event(imported))
        assert again == first and again.replace(imported.teams[0].code, "X") == first_without_codes
        assert imported.is_current is False  # another event was current already
        db.session.remove()
        db.engine.dispose()


def test_an_imported_event_is_current_in_an_empty_database(app, full_event, tmp_path):
    from expo_app.portability import import_event, read_event_file

    with app.app_context():
        text = dumps(export_event(db.session.get(Event, full_event["event"])))
    target = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'empty.sqlite'}",
                         "PUBLIC_BASE_URL": "https://expo.example.org"})
    with target.app_context():
        db.create_all()
        assert import_event(read_event_file(text)).is_current is True
        db.session.commit()
        assert target.test_cli_runner().invoke(args=["judge-links"]).exit_code == 0
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("change, message", [
    (lambda d: d["event"].update(scoring_state="paused"), "scoring state 'paused' is not one of"),
    (lambda d: d["event"].update(judges_per_team=0), "judges per team must be a whole number of at least 1"),
    (lambda d: d.update(snapshot=None), "final awards and the ranking snapshot go together"),
    (lambda d: d["event"].update(grade_scale=[["A", 90], ["B", 95]]), "the letter scale is not usable"),
    (lambda d: d["teams"][1].update(name=d["teams"][0]["name"]), "two teams have the same name"),
    (lambda d: d["teams"][1].update(project="x" * 301), "project longer than 300 characters"),
    (lambda d: d["certificates"][0].update(subject=7), "incomplete or damaged"),
    (lambda d: d["scores"][0].update(judge="j99"), "incomplete or damaged"),
])
def test_a_file_that_breaks_a_rule_is_refused_with_the_reason(app, full_event, runner, tmp_path, change, message):
    with app.app_context():
        data = _without_identities(export_event(db.session.get(Event, full_event["event"])))
        db.session.execute(db.update(Team).values(code=Team.code + "9"))  # so the codes do not clash
        db.session.commit()
        events = db.session.execute(db.select(db.func.count(Event.id))).scalar()
    change(data)
    (tmp_path / "bad.json").write_text(dumps(data), encoding="utf-8")
    result = runner.invoke(args=["import-event", str(tmp_path / "bad.json")])
    assert result.exit_code == 1 and "Nothing was imported" in result.output and message in result.output
    assert "Traceback" not in result.output
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(Event.id))).scalar() == events


def test_printed_paper_keeps_working_for_the_same_people_across_a_round_trip(app, full_event, other_database, tmp_path):
    """SQLite → PostgreSQL → SQLite (or PostgreSQL → SQLite → SQLite), each target already holding another
    event, so row ids differ at every hop: every badge, feedback slip and certificate code printed at the
    start, including old paper that names row ids (legacy ids), resolves to the same person after each
    move, and none to anyone else."""
    from expo_app.admin.operations import create_event, save_judge, save_team
    from expo_app.auth.operations import judge_token
    from expo_app.auth.tokens import JUDGE_SIGN_IN, TEAM_FEEDBACK, make_legacy_token, read_judge_token
    from expo_app.documents.certificates import certificate_code, find_certificate
    from expo_app.documents.codes import make_legacy_certificate_code
    from expo_app.links import feedback_token
    from expo_app.models import Certificate, find_by_identity
    from expo_app.portability import import_event, read_event_file
    from expo_app.public.operations import resolve_feedback_link

    key = app.config["SECRET_KEY"]
    with app.app_context():
        event = db.session.get(Event, full_event["event"])
        certificates = db.session.execute(db.select(Certificate).order_by(Certificate.id)).scalars().all()
        for n, row in enumerate([*event.judges, *event.teams, *certificates]):
            if n % 2:
                row.legacy_id = 7000 + n  # as the migration left rows that existed before uids
        db.session.commit()
        badges = [(judge_token(j), j.email) for j in event.judges]
        badges += [(make_legacy_token(key, JUDGE_SIGN_IN, j.legacy_id, j.token_version), j.email)
                   for j in event.judges if j.legacy_id]
        slips = [(feedback_token(t), t.name) for t in event.teams]
        slips += [(make_legacy_token(key, TEAM_FEEDBACK, t.legacy_id, t.feedback_version), t.name)
                  for t in event.teams if t.legacy_id]
        codes = [(certificate_code(c), (c.recipient, c.kind, c.award, c.revoked_at is not None)) for c in certificates]
        codes += [(make_legacy_certificate_code(key, c.legacy_id), (c.recipient, c.kind, c.award, c.revoked_at is not None))
                  for c in certificates if c.legacy_id]
        text = dumps(export_event(event))
    assert len(badges) == 9 and len(slips) == 18 and len(codes) > 40

    for hop, url in enumerate((other_database, f"sqlite:///{tmp_path / 'third.sqlite'}")):
        target = create_app({"SQLALCHEMY_DATABASE_URI": url, "PUBLIC_BASE_URL": "https://expo.example.org",
                             "SECRET_KEY": key})
        with target.app_context():
            db.create_all()
            try:
                other = create_event(f"Already here {hop}")
                for n in range(3 + hop):  # rows the paper must never reach
                    save_judge(other, None, name=f"Stranger {n}", email=f"s{n}@x.org", affiliation="")
                    save_team(other, None, name=f"Strangers {n}", project="", table_number=n + 1,
                              members=[(f"Stranger {n}", f"s{n}@x.org")])
                db.session.commit()
                for token, _email in badges:  # before the import: the paper names nobody here
                    assert find_by_identity(Judge, read_judge_token(key, token).owner) is None
                assert all(find_certificate(code) is None for code, _ in codes)
                imported = import_event(read_event_file(text))
                db.session.commit()
                for token, email in badges:
                    judge = find_by_identity(Judge, read_judge_token(key, token).owner)
                    assert (judge.email, judge.event_id) == (email, imported.id)
                for token, name in slips:
                    team, problem = resolve_feedback_link(token)
                    assert problem is None and (team.name, team.event_id) == (name, imported.id)
                for code, facts in codes:
                    certificate = find_certificate(code)
                    assert certificate.event_id == imported.id
                    assert (certificate.recipient, certificate.kind, certificate.award,
                            certificate.revoked_at is not None) == facts
                code, (recipient, *_rest) = codes[0]
                page = target.test_client().get(f"/v/{code}").get_data(as_text=True)
                assert recipient in page and "Valid certificate" in page
                # The same file again: refused whole, nothing written.
                with pytest.raises(Exception, match="already in this database"):
                    import_event(read_event_file(text))
                db.session.rollback()
                assert db.session.execute(db.select(db.func.count(Event.id))).scalar() == 2
                assert dumps(export_event(imported)) == text
            finally:
                db.session.remove()
                db.drop_all()
                db.engine.dispose()

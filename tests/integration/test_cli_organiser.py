"""Issue 17, the command line without traps: every event command says on standard error which event it
used (and that others exist when none was named), so a CSV piped to a file stays clean; `expo
seed-demo` works in production on a fresh instance folder; `expo import-event` fills a database
without tables and says how to add an organiser."""
from __future__ import annotations

import stat
from pathlib import Path

import pytest
import sqlalchemy as sa

from expo_app import create_app
from expo_app.extensions import db
from expo_app.models import AdminUser, Event, Team

DEMO = "MLOps Innovation Expo (demo)"


@pytest.fixture
def seeded(app, runner):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    with app.app_context():
        return db.session.execute(db.select(Event.id)).scalar_one()


def add_event(app, name: str) -> int:
    from expo_app.admin.operations import create_event

    with app.app_context():
        event = create_event(name)
        db.session.commit()
        return event.id


def test_the_event_used_is_said_on_standard_error_and_the_csv_stays_clean(app, runner, seeded, tmp_path):
    result = runner.invoke(args=["judge-links"])
    assert result.exit_code == 0
    assert result.stderr == f"Event: {DEMO} (id {seeded}, current). Use --event ID|NAME for another.\n"
    assert result.stdout.splitlines()[0] == "judge,email,url" and len(result.stdout.splitlines()) == 7
    out = tmp_path / "links.csv"
    result = runner.invoke(args=["judge-links", "-o", str(out)])
    assert result.stdout == ""
    assert result.stderr == (f"Event: {DEMO} (id {seeded}, current). Use --event ID|NAME for another.\n"
                             f"Wrote {out}\n")
    assert out.read_text().splitlines()[0] == "judge,email,url"


def test_when_other_events_exist_and_none_is_named_it_says_so(app, runner, seeded):
    spring = add_event(app, "Spring Expo 2027")
    autumn = add_event(app, "Autumn Expo 2027")
    result = runner.invoke(args=["team-links"])
    assert result.stderr.splitlines() == [
        f"Event: {DEMO} (id {seeded}, current). Use --event ID|NAME for another.",
        f"No event was named and 3 events exist, so the current one is used. The others: {spring} Spring Expo 2027, "
        f"{autumn} Autumn Expo 2027."]
    assert result.stdout.splitlines()[0] == "team,table,qr_url,feedback_url" and len(result.stdout.splitlines()) == 13
    named = runner.invoke(args=["team-links", "--event", "Spring Expo 2027"])
    assert named.stderr == (f"Event: Spring Expo 2027 (id {spring}, named with --event; the current event is {DEMO}, "
                            f"id {seeded}).\n")
    assert named.stdout.strip() == "team,table,qr_url,feedback_url"
    by_id = runner.invoke(args=["team-links", "--event", str(seeded)])
    assert by_id.stderr == f"Event: {DEMO} (id {seeded}, named with --event, current).\n"
    huge = runner.invoke(args=["team-links", "--event", "9" * 30])
    assert huge.exit_code == 1 and f"No event has the id or name '{'9' * 30}'." in huge.output


@pytest.mark.parametrize("args", [
    ["judge-links"], ["team-links"], ["export-scores"], ["rank"], ["export-grades", "--draft"], ["assign"],
    ["export-assignments"], ["sign-in-info"], ["export-event", "{tmp}/event.json"],
    ["import-teams", "{tmp}/teams.csv"], ["import-judges", "{tmp}/judges.csv"],
    ["print", "badges", "--out", "{tmp}/badges.pdf"],
], ids=lambda args: args[0] + ("-" + args[1] if args[0] == "print" else ""))
@pytest.mark.any_database
def test_every_event_command_says_which_event(app, runner, seeded, tmp_path, args):
    (tmp_path / "teams.csv").write_text("team,project,table,member,email\nNew One,P,20,A A,a@x.org\n")
    (tmp_path / "judges.csv").write_text("name,email,affiliation\nQ,q@x.org,Z\n")
    result = runner.invoke(args=[arg.format(tmp=tmp_path) for arg in args])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0] == f"Event: {DEMO} (id {seeded}, current). Use --event ID|NAME for another."
    assert "Event:" not in result.stdout


def test_rank_from_files_names_no_event(app, runner, seeded, tmp_path):
    (tmp_path / "s.csv").write_text("judge,team,criterion,score\nA,T,C,3\nB,T,C,4\n")
    (tmp_path / "c.csv").write_text("name,weight,min,max\nC,1,1,5\n")
    result = runner.invoke(args=["rank", str(tmp_path / "s.csv"), "--criteria", str(tmp_path / "c.csv")])
    assert result.exit_code == 0 and result.stderr == ""


# --- seed-demo in production, on a fresh instance folder -------------------------------------------

def test_seed_demo_in_production_makes_its_instance_folder(app, app_config, monkeypatch, tmp_path):
    from config import ProductionConfig

    folder = tmp_path / "new" / "instance"
    monkeypatch.setenv("EXPO_INSTANCE_PATH", str(folder))
    production = type("P", (ProductionConfig,), {"SECRET_KEY": "p" * 40,
                                                 "SQLALCHEMY_DATABASE_URI": app_config["SQLALCHEMY_DATABASE_URI"],
                                                 "PUBLIC_BASE_URL": "https://expo.example.org"})
    prod = create_app(production)
    try:
        runner = prod.test_cli_runner()
        result = runner.invoke(args=["seed-demo"])
        assert result.exit_code == 0, result.output
        assert result.output.splitlines()[-1] == f"Seeded {DEMO}: 12 teams, 6 judges."
        assert folder.is_dir() and stat.S_IMODE(folder.stat().st_mode) == 0o700
        (creds,) = folder.iterdir()
        assert stat.S_IMODE(creds.stat().st_mode) == 0o600
        email, password = creds.read_text().split()
        assert email == "admin@example.org"
        info = runner.invoke(args=["sign-in-info"]).stdout
        assert f"e-mail:   admin@example.org\n  password: {password}" in info
        with prod.app_context():
            from expo_app.auth.operations import authenticate_admin

            assert authenticate_admin("admin@example.org", password) is not None
    finally:
        with prod.app_context():
            db.session.remove()
            db.engine.dispose()


# --- import-event into an empty database ------------------------------------------------------------

@pytest.fixture
def empty_url(backend, tmp_path, request):
    """A database with no tables at all: a new SQLite file, or a schema of its own on PostgreSQL."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite'}"
        return
    url = request.getfixturevalue("pg_schema")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA IF EXISTS import_check CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA import_check"))
    yield url + ("&" if "?" in url else "?") + "options=-csearch_path%3Dimport_check"
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA import_check CASCADE"))
    engine.dispose()


def test_import_event_into_a_database_without_tables_makes_them_and_says_how_to_add_an_organiser(
        app, runner, seeded, tmp_path, empty_url):
    path = tmp_path / "event.json"
    assert runner.invoke(args=["export-event", str(path)]).exit_code == 0
    target = create_app({"SQLALCHEMY_DATABASE_URI": empty_url, "PUBLIC_BASE_URL": "https://expo.example.org"})
    try:
        result = target.test_cli_runner().invoke(args=["import-event", str(path)])
        assert result.exit_code == 0, result.output
        lines = result.stdout.splitlines()
        assert lines[0] == "The database had no tables: created them (as `expo init-db` does)."
        assert lines[1].startswith(f"Imported {DEMO} (id ")
        assert lines[2:] == ["No organiser can sign in to this database yet: add one with "
                             "`expo create-admin EMAIL`."]
        with target.app_context():
            newest = sorted(p.name[:4] for p in (Path(__file__).parents[2] / "migrations" / "versions").glob("0*.py"))[-1]
            assert db.session.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == newest
            assert db.session.execute(db.select(db.func.count(Team.id))).scalar() == 12
            assert db.session.execute(db.select(db.func.count(AdminUser.id))).scalar() == 0
        created = target.test_cli_runner().invoke(args=["create-admin", "boss@x.org", "--password", "long-enough-pw"])
        assert created.exit_code == 0
    finally:
        with target.app_context():
            db.session.remove()
            db.engine.dispose()


def test_import_event_with_an_organiser_says_nothing_more(app, runner, tmp_path):
    """The tests' database has its tables (and, here, an organiser): no table made, no hint."""
    from expo_app.portability import dumps, export_event

    with app.app_context():
        from expo_app.admin.operations import create_event
        from expo_app.auth.operations import create_or_reset_admin

        event = create_event("Moved Expo")
        db.session.flush()
        path = tmp_path / "moved.json"
        path.write_text(dumps(export_event(event)))
        db.session.rollback()
        create_or_reset_admin("boss@x.org", "long-enough-pw")
        db.session.commit()
    result = runner.invoke(args=["import-event", str(path)])
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 1 and result.stdout.startswith("Imported Moved Expo (id ")

import pytest

from expo_app.extensions import db
from expo_app.models import Event, Judge, Score, Team


def test_seed_demo_then_refuses_to_seed_twice(app, runner):
    result = runner.invoke(args=["seed-demo", "--with-scores"])
    assert result.exit_code == 0, result.output
    assert "Seeded MLOps Innovation Expo (demo): 12 teams, 6 judges, with scores." in result.output
    with app.app_context():
        assert db.session.query(Team).count() == 12 and db.session.query(Judge).count() == 6
        scores = db.session.query(Score).count()
        assert scores >= 36  # every judge scores a band of seven tables
        event = db.session.query(Event).one()
        assert (event.is_current, event.scoring_state) == (True, "open")
    again = runner.invoke(args=["seed-demo"])
    assert "already holds an event: nothing seeded" in again.output
    with app.app_context():
        assert db.session.query(Score).count() == scores


def test_sign_in_info_prints_admin_login_and_judge_links(app, runner):
    runner.invoke(args=["seed-demo"])
    result = runner.invoke(args=["sign-in-info"])
    assert "e-mail:   admin@expo.local" in result.output
    assert result.output.count("https://expo.example.org/j/") == 6


def test_create_admin_and_reset(app, runner):
    from expo_app.auth.operations import authenticate_admin

    assert runner.invoke(args=["create-admin", "Boss@x.org", "--password", "short"]).exit_code == 1
    result = runner.invoke(args=["create-admin", "Boss@x.org", "--password", "long-enough-pw"])
    assert result.exit_code == 0 and "Admin boss@x.org can sign in" in result.output
    runner.invoke(args=["create-admin", "boss@x.org", "--password", "another-long-pw"])
    with app.app_context():
        assert authenticate_admin("boss@x.org", "another-long-pw") is not None
        assert authenticate_admin("boss@x.org", "long-enough-pw") is None


def test_import_commands_all_or_nothing(app, runner, tmp_path):
    runner.invoke(args=["seed-demo"])
    good = tmp_path / "teams.csv"
    good.write_text("team,project,table,member,email\nNew One,P,20,A A,a@x.org\n")
    result = runner.invoke(args=["import-teams", str(good)])
    assert result.exit_code == 0 and "1 added, 0 updated" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("team,project,table,member,email\nNew Two,P,21,,\nNew Three,P,zz,,\n")
    result = runner.invoke(args=["import-teams", str(bad)])
    assert result.exit_code == 1
    assert "Line 3: table 'zz' is not a whole number of 1 or more." in result.output
    judges = tmp_path / "judges.csv"
    judges.write_text("name,email,affiliation\nQ,q@x.org,Z\n")
    assert "1 added" in runner.invoke(args=["import-judges", str(judges)]).output
    with app.app_context():
        assert db.session.query(Team).count() == 13 and db.session.query(Judge).count() == 7


def test_link_and_score_exports(app, runner, tmp_path):
    runner.invoke(args=["seed-demo", "--with-scores"])
    judge_links = runner.invoke(args=["judge-links"]).output.splitlines()
    assert judge_links[0] == "judge,email,url" and len(judge_links) == 7
    assert judge_links[1].startswith("Alan Kay,alan.kay@judges.example.com,https://expo.example.org/j/")
    team_links = runner.invoke(args=["team-links"]).output.splitlines()
    assert team_links[0] == "team,table,qr_url" and team_links[1].startswith("Drift Busters,1,https://expo.example.org/t/")
    out = tmp_path / "scores.csv"
    runner.invoke(args=["export-scores", "-o", str(out)])
    lines = out.read_text().splitlines()
    with app.app_context():
        counted = db.session.query(Score).filter_by(conflict=False).count()
    assert lines[0] == "judge,team,criterion,score,absent,updated_at" and len(lines) == 1 + 4 * counted


def test_event_option_selects_by_id_or_name(app, runner):
    runner.invoke(args=["seed-demo"])
    with app.app_context():
        from expo_app.admin.operations import create_event

        create_event("Spring")
        db.session.commit()
    assert runner.invoke(args=["team-links", "--event", "Spring"]).output.strip() == "team,table,qr_url"
    assert runner.invoke(args=["team-links", "--event", "1"]).output.count("\n") == 13
    result = runner.invoke(args=["team-links", "--event", "Nope"])
    assert result.exit_code != 0 and "No event has the id or name 'Nope'." in result.output


def test_commands_without_an_event_explain(app, runner):
    result = runner.invoke(args=["judge-links"])
    assert result.exit_code != 0 and "There is no current event" in result.output

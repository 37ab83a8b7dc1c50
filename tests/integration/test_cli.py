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


def test_sign_in_info_prints_a_working_admin_login_and_judge_links(app, runner):
    runner.invoke(args=["seed-demo"])
    result = runner.invoke(args=["sign-in-info"])
    assert "e-mail:   admin@example.org" in result.output
    assert result.output.count("https://expo.example.org/j/") == 6
    password = result.output.split("password: ")[1].split()[0]
    client = app.test_client()
    response = client.post("/admin/login", data={"email": "admin@example.org", "password": password})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"
    judge_path = "/j/" + result.output.split("https://expo.example.org/j/")[1].split()[0]
    assert client.post(judge_path).headers["Location"] == "/judge"


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
    assert "Line 3: table 'zz' is not a whole number from 1 to 100000." in result.output
    judges = tmp_path / "judges.csv"
    judges.write_text("name,email,affiliation\nQ,q@x.org,Z\n")
    assert "1 added" in runner.invoke(args=["import-judges", str(judges)]).output
    with app.app_context():
        assert db.session.query(Team).count() == 13 and db.session.query(Judge).count() == 7


def test_link_and_score_exports(app, runner, tmp_path):
    runner.invoke(args=["seed-demo", "--with-scores"])
    judge_links = runner.invoke(args=["judge-links"]).stdout.splitlines()
    assert judge_links[0] == "judge,email,url" and len(judge_links) == 7
    assert judge_links[1].startswith("Alan Kay,alan.kay@judges.example.com,https://expo.example.org/j/")
    team_links = runner.invoke(args=["team-links"]).stdout.splitlines()
    assert team_links[0] == "team,table,qr_url,feedback_url"
    assert team_links[1].startswith("Drift Busters,1,https://expo.example.org/t/")
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
    assert runner.invoke(args=["team-links", "--event", "Spring"]).stdout.strip() == "team,table,qr_url,feedback_url"
    assert runner.invoke(args=["team-links", "--event", "1"]).stdout.count("\n") == 13
    result = runner.invoke(args=["team-links", "--event", "Nope"])
    assert result.exit_code != 0 and "No event has the id or name 'Nope'." in result.output


def test_commands_without_an_event_explain(app, runner):
    result = runner.invoke(args=["judge-links"])
    assert result.exit_code != 0 and "There is no current event" in result.output


CRITERIA_CSV = ("name,weight,min,max\nTechnical completeness and correctness,1,1,5\n"
                "\"System scalability, observability and reproducibility\",1,1,5\n"
                "Team collaboration and presentation clarity,1,1,5\nInnovation and relevance of the ML solution,1,1,5\n")


def test_rank_from_the_database_equals_rank_from_its_export(app, runner, tmp_path):
    runner.invoke(args=["seed-demo", "--with-scores"])
    scores, criteria = tmp_path / "scores.csv", tmp_path / "criteria.csv"
    runner.invoke(args=["export-scores", "-o", str(scores)])
    criteria.write_text(CRITERIA_CSV)
    from_db = runner.invoke(args=["rank"]).stdout
    from_files = runner.invoke(args=["rank", str(scores), "--criteria", str(criteria)]).stdout
    lines = from_db.splitlines()
    assert lines[0] == "rank,team,score,raw_mean,score_low,score_high,rank_low,rank_high,judges"
    assert len(lines) == 13 and from_db == from_files
    raw = runner.invoke(args=["rank", "--method", "raw"]).stdout.splitlines()
    assert all(row.split(",")[2] == row.split(",")[3] for row in raw[1:])  # raw: score is the raw mean


@pytest.mark.parametrize("scores, message", [
    ("judge,team,criterion,score\nA,T,Technical completeness and correctness,x\n", "line 2: score 'x' is not a number"),
    ("judge,team,score\nA,T,3\n", "line 1"),
])
def test_rank_reports_bad_lines(runner, tmp_path, scores, message):
    (tmp_path / "s.csv").write_text(scores)
    (tmp_path / "c.csv").write_text(CRITERIA_CSV)
    result = runner.invoke(args=["rank", str(tmp_path / "s.csv"), "--criteria", str(tmp_path / "c.csv")])
    assert result.exit_code == 1 and message in result.output


def test_rank_needs_criteria_with_a_file(runner, tmp_path):
    (tmp_path / "s.csv").write_text("judge,team,criterion,score\n")
    result = runner.invoke(args=["rank", str(tmp_path / "s.csv")])
    assert result.exit_code == 2 and "--criteria CRITERIA.csv" in result.output


def test_seeding_another_database_keeps_each_demo_login_with_its_own(app, app_config, runner, tmp_path):
    """`expo seed-demo` against another database used to overwrite instance/demo-admin.txt, so that
    `make run` printed a password that did not work."""
    from expo_app import create_app

    runner.invoke(args=["seed-demo"])
    first = runner.invoke(args=["sign-in-info"]).output.split("password: ")[1].split()[0]
    other = create_app({**app_config, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'other.sqlite'}"})
    with other.app_context():
        db.create_all()
    other_runner = other.test_cli_runner()
    assert other_runner.invoke(args=["seed-demo"]).exit_code == 0
    second = other_runner.invoke(args=["sign-in-info"]).output.split("password: ")[1].split()[0]
    assert second != first
    assert runner.invoke(args=["sign-in-info"]).output.split("password: ")[1].split()[0] == first
    assert app.test_client().post("/admin/login", data={"email": "admin@example.org", "password": first}
                                  ).status_code == 302
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def test_sign_in_info_never_prints_a_password_that_does_not_work(app, runner):
    runner.invoke(args=["seed-demo"])
    runner.invoke(args=["create-admin", "admin@example.org", "--password", "a brand new password"])
    output = runner.invoke(args=["sign-in-info"]).output
    assert "password:" not in output
    assert "reset the demo one, with `expo create-admin EMAIL`" in output


@pytest.mark.any_database
def test_the_development_server_warns_when_it_listens_beyond_this_machine(backend, monkeypatch):
    import flask.cli
    from click.testing import CliRunner

    from expo_app.cli import main

    runner = CliRunner()
    served = []
    monkeypatch.setattr(flask.cli, "run_simple", lambda host, port, *a, **k: served.append((host, port)))
    result = runner.invoke(main, ["run", "--host", "0.0.0.0", "--port", "5999"])
    assert served == [("0.0.0.0", 5999)], result.output
    assert "Warning: serving on 0.0.0.0 over plain HTTP. Sign-in cookies" in result.output
    served.clear()
    result = runner.invoke(main, ["run", "--host", "127.0.0.1", "--port", "5999"])
    assert served == [("127.0.0.1", 5999)] and "Warning" not in result.output


# Every file a command writes may hold sign-in links, private notes, student ids or grades: 0600, like the database.
PRIVATE_FILES = {
    "judge-links": (["judge-links", "-o"], b"judge,email,url\r\n"),
    "team-links": (["team-links", "-o"], b"team,table,qr_url,feedback_url\r\n"),
    "export-scores": (["export-scores", "-o"], b"judge,team,criterion,score,absent,updated_at\r\n"),
    "export-assignments": (["export-assignments", "-o"], b"judge,team,order\r\n"),
    "export-grades": (["export-grades", "--draft", "-o"], b"student,email,student_id,team,expo_score,"),
    "rank": (["rank", "-o"], b"rank,team,score,raw_mean,"),
    "export-event": (["export-event"], b'{\n  "admin_actions": ['),
    "print badges": (["print", "badges", "--out"], b"%PDF-"),
    "print slips": (["print", "slips", "--out"], b"%PDF-"),
}


def _mode(path) -> int:
    import os
    import stat

    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def scored_and_planned(app, runner):
    assert runner.invoke(args=["seed-demo", "--with-scores"]).exit_code == 0
    assert runner.invoke(args=["assign"]).exit_code == 0


@pytest.mark.parametrize("command", PRIVATE_FILES)
@pytest.mark.any_database
def test_files_the_commands_write_are_private_also_over_an_open_file(app, runner, tmp_path, scored_and_planned,
                                                                      command):
    import os

    args, start = PRIVATE_FILES[command]
    folder = tmp_path / "out"
    folder.mkdir()
    fresh, existing, other_name = folder / "fresh.out", folder / "existing.out", folder / "old-link.out"
    existing.write_bytes(b"last year's file\n")
    existing.chmod(0o644)
    os.link(existing, other_name)  # a second name for the old file, as if someone else held it open
    old_umask = os.umask(0)  # the widest umask: the mode must not depend on it
    try:
        for path in (fresh, existing):
            result = runner.invoke(args=[*args, str(path)])
            assert result.exit_code == 0, result.output
    finally:
        os.umask(old_umask)
    assert _mode(fresh) == 0o600 and _mode(existing) == 0o600
    assert fresh.read_bytes().startswith(start) and existing.read_bytes().startswith(start)
    if not command.startswith("print"):  # PDFs carry their creation time: the rest is the same bytes
        assert existing.read_bytes() == fresh.read_bytes()
    # The old file was replaced, not rewritten: its other name still holds the old text, with its old mode.
    assert other_name.read_bytes() == b"last year's file\n" and _mode(other_name) == 0o644
    assert sorted(p.name for p in folder.iterdir()) == ["existing.out", "fresh.out", "old-link.out"]  # no leftovers


def test_a_private_file_is_narrowed_before_it_is_written_where_it_cannot_be_replaced(app, runner, tmp_path,
                                                                                     monkeypatch):
    """A folder that takes no new file (mkstemp refused) or a symbolic link: the file itself is written,
    after it is made 0600."""
    import tempfile

    runner.invoke(args=["seed-demo"])
    target, link = tmp_path / "links.csv", tmp_path / "link.csv"  # beside the test's database
    target.write_text("old\n")
    target.chmod(0o666)
    link.symlink_to(target)
    result = runner.invoke(args=["judge-links", "-o", str(link)])
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and _mode(target) == 0o600
    assert target.read_text().splitlines()[0] == "judge,email,url" and len(target.read_text().splitlines()) == 7

    target.chmod(0o644)

    def refused(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refused)
    result = runner.invoke(args=["team-links", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert _mode(target) == 0o600 and target.read_text().splitlines()[0] == "team,table,qr_url,feedback_url"
    result = runner.invoke(args=["team-links", "-o", str(tmp_path / "new.csv")])
    assert result.exit_code == 1 and f"Could not write {tmp_path / 'new.csv'}: Permission denied." in result.output
    assert not (tmp_path / "new.csv").exists()


def test_the_demo_login_file_is_private_even_when_it_was_not(app, runner):
    from expo_app.cli import _demo_credentials_file

    with app.app_context():
        creds = _demo_credentials_file()
    creds.parent.mkdir(parents=True, exist_ok=True)
    creds.write_text("old\n")
    creds.chmod(0o644)
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert _mode(creds) == 0o600 and creds.read_text().splitlines()[0] == "admin@example.org"
    creds.unlink()

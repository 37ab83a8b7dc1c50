"""Issue 11's holes, each as it was found by probing the app as an attacker would, and its fix."""
from __future__ import annotations

import io
import threading

import pytest
from sqlalchemy import event as sa_event

from expo_app.extensions import db
from expo_app.models import Event, Judge, Score, Team, TeamMember
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, AuthActions, full_sheet, team_code


@pytest.fixture
def admin(app, client, demo):
    AuthActions(app, client).admin()
    return demo


def _counts(app):
    with app.app_context():
        return {model.__name__: db.session.query(model).count() for model in (Team, TeamMember, Judge, Score, Event)}


# --- NUL bytes -------------------------------------------------------------------------------------

def test_nul_in_a_url_path_is_refused_with_a_message(client, demo):
    answer = client.get("/t/AB%00CD")
    assert answer.status_code == 400
    assert "NUL character" in answer.get_data(as_text=True)


def test_nul_in_the_login_email_is_refused(app, client, demo):
    answer = client.post("/admin/login", data={"email": "a\x00@x.org", "password": "whatever it is"})
    assert answer.status_code == 400 and "NUL character" in answer.get_data(as_text=True)


def test_nul_in_a_team_name_changes_nothing(app, client, admin):
    before = _counts(app)
    answer = client.post(f"/admin/events/{admin['event']}/teams",
                         data={"name": "Evil\x00Team", "table_number": "77", "members": ""})
    assert answer.status_code == 400 and "nothing was saved" in answer.get_data(as_text=True)
    assert _counts(app) == before


def test_nul_in_a_comment_from_the_phone_is_refused_in_json(app, client, auth, demo):
    auth.judge(demo["judges"][0])
    code = team_code(app, demo["teams"][0])
    answer = client.post(f"/t/{code}", data=full_sheet(app, demo["event"], comment="hi\x00there"),
                         headers={"Accept": "application/json"})
    assert answer.status_code == 422
    assert answer.get_json()["status"] == "refused" and "NUL character" in answer.get_json()["reason"]
    with app.app_context():
        assert db.session.query(Score).count() == 0


def test_nul_in_a_query_argument_is_refused(client, admin):
    answer = client.get(f"/admin/events/{admin['event']}/audit?actor=a%00b")
    assert answer.status_code == 400


# --- huge ids --------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/admin/events/99999999999999999999", "/admin/events/2147483648",
                                  "/admin/teams/2147483648/edit", "/admin/judges/9223372036854775808/edit",
                                  "/admin/events/0"])
def test_ids_no_column_can_hold_are_not_found(client, admin, path):
    assert client.get(path).status_code == 404


def test_the_largest_real_id_is_still_looked_up(client, admin):
    assert client.get("/admin/events/2147483647").status_code == 404  # looked up, and not there


# --- a team edit without its members field -----------------------------------------------------------

def test_team_edit_without_members_keeps_them(app, client, admin):
    team_id = admin["teams"][0]
    with app.app_context():
        team = db.session.get(Team, team_id)
        members = sorted(m.email for m in team.members)
        table = team.table_number
    answer = client.post(f"/admin/teams/{team_id}/edit",
                         data={"name": "Renamed Busters", "project": "p", "table_number": str(table)})
    assert answer.status_code == 302
    with app.app_context():
        team = db.session.get(Team, team_id)
        assert team.name == "Renamed Busters"
        assert sorted(m.email for m in team.members) == members and members


# --- CSV import errors in the response, not the cookie --------------------------------------------------

def _upload(client, url, text, name="file.csv"):
    return client.post(url, data={"file": (io.BytesIO(text.encode()), name)}, content_type="multipart/form-data")


def test_three_hundred_bad_lines_are_all_reported_in_the_page(app, client, admin):
    text = "team,project,table,member,email\n" + "".join(f"Team {i},p,x{i},,\n" for i in range(300))
    before = _counts(app)
    answer = _upload(client, f"/admin/events/{admin['event']}/teams/import", text)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "Nothing was imported" in page
    assert "Line 2: table &#39;x0&#39; is not a whole number from 1 to 100000." in page
    assert "Line 201: table &#39;x199&#39;" in page
    assert "… and 100 more problems after these." in page
    assert "Line 202:" not in page
    # Nothing went into the cookie session: the browser would drop a cookie this long, silently.
    cookie = answer.headers.get("Set-Cookie", "")
    assert len(cookie) < 1000, len(cookie)
    assert _counts(app) == before


def test_judges_import_errors_are_in_the_page(app, client, admin):
    answer = _upload(client, f"/admin/events/{admin['event']}/judges/import",
                     "name,email,affiliation\nNo Mail,not-an-email,\n")
    assert answer.status_code == 422
    assert "Line 2: &#39;not-an-email&#39; is not an e-mail address" in answer.get_data(as_text=True)


def test_assignment_import_errors_are_in_the_page(app, client, admin):
    answer = _upload(client, f"/admin/events/{admin['event']}/assignments/import",
                     "judge,team,order\nNobody,Nowhere,1\n")
    assert answer.status_code == 422
    assert "Nothing was imported" in answer.get_data(as_text=True)


def test_an_upload_without_a_file_says_so(client, admin):
    answer = client.post(f"/admin/events/{admin['event']}/teams/import", data={},
                         content_type="multipart/form-data")
    assert answer.status_code == 422 and "Nothing was imported" in answer.get_data(as_text=True)


# --- imports: linear and bounded --------------------------------------------------------------------

def _team_rows(n, start=1):
    return "team,project,table,member,email\n" + "".join(
        f"Team {i},Project {i},{i},Member {i},m{i}@x.org\n" for i in range(start, start + n))


def _selects_during(app, client, url, text):
    statements = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa_event.listen(engine, "before_cursor_execute", count)
    try:
        answer = _upload(client, url, text)
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)
    return answer, len(statements)


def test_team_import_reads_a_constant_number_of_times(app, client, admin):
    url = f"/admin/events/{admin['event']}/teams/import"
    small, small_selects = _selects_during(app, client, url, _team_rows(20, start=100))
    assert small.status_code == 302
    # Re-importing updates every team: still no query per row (the old code looped rows x teams).
    big, big_selects = _selects_during(app, client, url, _team_rows(400, start=100))
    assert big.status_code == 302
    assert big_selects <= small_selects + 2, (small_selects, big_selects)
    with app.app_context():
        assert db.session.query(Team).filter(Team.event_id == admin["event"]).count() == 12 + 400


def test_an_oversized_import_is_refused_before_anything_is_written(app, client, admin):
    before = _counts(app)
    answer = _upload(client, f"/admin/events/{admin['event']}/judges/import",
                     "name,email,affiliation\n" + "".join(f"J {i},j{i}@x.org,\n" for i in range(5001)))
    assert answer.status_code == 422
    assert "Line 5002: the file has more than 5,000 rows" in answer.get_data(as_text=True)
    assert _counts(app) == before


def test_judges_keep_scoring_during_a_large_import(app, client, demo, backend):
    """The import parses outside the write lock and writes in one short transaction."""
    admin_client, judge_client = app.test_client(), app.test_client()
    AuthActions(app, admin_client).admin()
    AuthActions(app, judge_client).judge(demo["judges"][0])
    answers = {}

    def do_import():
        answers["import"] = _upload(admin_client, f"/admin/events/{demo['event']}/teams/import",
                                    _team_rows(2500, start=100)).status_code

    worker = threading.Thread(target=do_import)
    worker.start()
    codes = [team_code(app, t) for t in demo["teams"][:4]]
    submits = [judge_client.post(f"/t/{code}", data=full_sheet(app, demo["event"])).status_code for code in codes]
    worker.join()
    assert answers["import"] == 302
    assert submits == [302] * 4
    with app.app_context():
        assert db.session.query(Score).count() == 4


# --- the instance folder and the development server ---------------------------------------------------

def test_the_sqlite_file_is_created_readable_by_its_owner_only(tmp_path):
    from expo_app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'private.sqlite'}"})
    with app.app_context():
        db.create_all()
        db.session.execute(db.text("SELECT 1"))
    assert (tmp_path / "private.sqlite").stat().st_mode & 0o777 == 0o600


def test_production_sends_hsts(tmp_path):
    from config import ProductionConfig
    from expo_app import create_app

    config = type("Prod", (ProductionConfig,), {"SECRET_KEY": "k" * 40, "LOG_FORMAT": "text",
                                                 "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.sqlite'}"})
    answer = create_app(config).test_client().get("/healthz")
    assert answer.headers["Strict-Transport-Security"] == "max-age=31536000"
    from config import DevelopmentConfig

    dev = type("Dev", (DevelopmentConfig,), {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'd.sqlite'}"})
    assert "Strict-Transport-Security" not in create_app(dev).test_client().get("/healthz").headers


def test_admin_login_with_a_good_password_still_works(client, demo):
    answer = client.post("/admin/login", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert answer.status_code == 302

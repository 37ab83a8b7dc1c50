import pytest

from expo_app.extensions import db
from expo_app.models import Event, Judge, JudgeSignIn


@pytest.fixture
def judge_id(demo):
    return demo["judges"][0]


def test_get_shows_the_judge_and_signs_nobody_in(app, client, auth, judge_id):
    response = client.get(auth.judge_path(judge_id))
    page = response.get_data(as_text=True)
    with app.app_context():
        judge = db.session.get(Judge, judge_id)
        assert f"Welcome, {judge.name}" in page
        assert db.session.query(JudgeSignIn).count() == 0  # a link preview is not a use
    assert ">Start judging</button>" in page
    assert client.get("/judge").status_code == 401


def test_post_starts_a_session_and_logs_the_use(app, client, auth, judge_id):
    response = client.post(auth.judge_path(judge_id), headers={"User-Agent": "PhoneBrowser/1.0"})
    assert response.status_code == 302 and response.headers["Location"] == "/judge"
    home = client.get("/judge").get_data(as_text=True)
    assert "0 of 12 teams scored" in home
    with app.app_context():
        (entry,) = db.session.query(JudgeSignIn).all()
        assert (entry.judge_id, entry.token_version, entry.user_agent) == (judge_id, 1, "PhoneBrowser/1.0")
        assert db.session.get(Judge, judge_id).last_seen_at is not None


def test_session_is_permanent(client, auth, judge_id):
    response = auth.judge(judge_id)
    cookie = response.headers["Set-Cookie"]
    assert "Expires=" in cookie and "HttpOnly" in cookie


def test_the_same_link_works_again_on_another_phone(app, auth, judge_id):
    path = auth.judge_path(judge_id)
    assert app.test_client().post(path).status_code == 302
    assert app.test_client().post(path).status_code == 302
    with app.app_context():
        assert db.session.query(JudgeSignIn).filter_by(judge_id=judge_id).count() == 2


@pytest.mark.parametrize("path, status, title", [
    ("/j/1-1-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 404, "This sign-in link is not valid"),
    ("/j/garbage", 404, "This sign-in link is not valid"),
    ("/j/999-1-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 404, "This sign-in link is not valid"),
])
def test_forged_links_say_so(client, demo, path, status, title):
    for method in (client.get, client.post):
        response = method(path)
        assert response.status_code == status
        assert title in response.get_data(as_text=True)
    assert client.get("/judge").status_code == 401


def test_reissued_badge_retires_old_link_and_old_sessions(app, client, auth, judge_id):
    old_path = auth.judge_path(judge_id)
    auth.judge(judge_id)
    assert client.get("/judge").status_code == 200
    with app.app_context():
        from expo_app.admin.operations import reissue_badge

        reissue_badge(db.session.get(Judge, judge_id))
        db.session.commit()
    assert client.get("/judge").status_code == 401  # the phone signed in with the old badge is out
    response = client.get(old_path)
    assert response.status_code == 410 and "This badge has been replaced" in response.get_data(as_text=True)
    new_path = auth.judge_path(judge_id)
    assert new_path != old_path and new_path.split("-")[1] == "2"
    assert client.post(new_path).status_code == 302
    assert client.get("/judge").status_code == 200


def test_withdrawn_badge_says_so(app, client, auth, judge_id):
    with app.app_context():
        from expo_app.admin.operations import set_badge_withdrawn

        set_badge_withdrawn(db.session.get(Judge, judge_id), True)
        db.session.commit()
    response = client.post(auth.judge_path(judge_id))
    assert response.status_code == 410 and "This badge has been withdrawn" in response.get_data(as_text=True)


def test_links_stop_working_when_the_event_is_locked(app, client, auth, demo, judge_id):
    auth.judge(judge_id)
    with app.app_context():
        db.session.get(Event, demo["event"]).scoring_state = "locked"
        db.session.commit()
    # A phone still signed in is told directly, not sent to scan its badge again.
    home = client.get("/judge")
    assert home.status_code == 410 and "Judging has ended" in home.get_data(as_text=True)
    with app.app_context():
        code = db.session.get(Event, demo["event"]).teams[0].code
    card = client.get(f"/t/{code}").get_data(as_text=True)
    assert "Judging has ended." in card and "Scan the QR code on your judge badge" not in card
    response = client.get(auth.judge_path(judge_id))
    assert response.status_code == 410 and "Judging has ended" in response.get_data(as_text=True)
    assert app.test_client().get("/judge").status_code == 401  # a phone that never signed in


def test_database_holds_no_usable_token(app, auth, judge_id):
    """A copy of the database alone does not reveal working links."""
    # <uid>-<version>-<mac>: the mac is the secret part (its base64 may itself hold a "-").
    uid, version, mac = auth.judge_path(judge_id).removeprefix("/j/").split("-", 2)
    token = f"{uid}-{version}-{mac}"
    assert len(mac) >= 16
    with app.app_context():
        dump = "\n".join(str(row) for table in db.metadata.sorted_tables
                         for row in db.session.execute(table.select()).all())
    assert token not in dump and mac not in dump


def test_signing_in_keeps_an_admin_signed_in(client, auth, judge_id):
    auth.admin()
    auth.judge(judge_id)
    assert client.get("/admin/").status_code == 302 and client.get("/admin/events").status_code == 200
    assert client.get("/judge").status_code == 200


def test_logout_ends_the_judge_session(client, auth, judge_id):
    auth.judge(judge_id)
    auth.logout()
    assert client.get("/judge").status_code == 401

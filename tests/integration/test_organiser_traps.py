"""Issue 17, no traps for the organiser: an action that makes printed paper or a sign-in stop working
asks, on the same page and without JavaScript, for a ticked box that says what stops working (and a
POST without the tick changes nothing and says why); scoring can be locked straight from open, with
its confirmation; a new event wants 4 judges per team, as the model and the README say."""
from __future__ import annotations

import html
import re

import pytest

from expo_app.extensions import db
from expo_app.models import AdminAction, Event, Judge, Team
from tests.conftest import ADMIN_EMAIL

ACTOR = f"admin: {ADMIN_EMAIL}"


@pytest.fixture
def admin(demo, auth):
    auth.admin()
    return demo


def text_of(response) -> str:
    """The page's HTML unescaped, every run of white space one space."""
    return " ".join(html.unescape(response.get_data(as_text=True)).split())


def flashes(response) -> list[tuple[str, str]]:
    """(category, text) of every flash on the page."""
    return [(kind, html.unescape(message)) for kind, message in
            re.findall(r'<p class="flash flash-(\w+)">(.*?)</p>', response.get_data(as_text=True), re.S)]


def page_form(page: str, action: str, tick: bool) -> dict:
    """The fields the page's own form for `action` sends: its hidden inputs, and its box when ticked."""
    match = re.search(rf'<form method="post" action="{re.escape(action)}"[^>]*>(.*?)</form>', page, re.S)
    assert match, f"no form for {action}"
    data = {}
    for tag in re.findall(r"<input[^>]*>", match.group(1)):
        name = re.search(r'name="([^"]+)"', tag).group(1)
        if 'type="checkbox"' in tag:
            if tick:
                data[name] = "y"
        else:
            data[name] = html.unescape(re.search(r'value="([^"]*)"', tag).group(1))
    return data


def boxes(page: str, action: str) -> list[str]:
    """The labels of the boxes to tick in the page's form for `action`."""
    match = re.search(rf'<form method="post" action="{re.escape(action)}"[^>]*>(.*?)</form>', page, re.S)
    return [html.unescape(label) for label in
            re.findall(r'<label class="check"><input[^>]*type="checkbox"[^>]*> <span>(.*?)</span></label>',
                       match.group(1))]


def actions_since(app, mark: int) -> list[tuple]:
    with app.app_context():
        return [(a.event_id, a.area, a.action, a.subject, a.details, a.actor) for a in db.session.execute(
            db.select(AdminAction).where(AdminAction.id > mark).order_by(AdminAction.id)).scalars()]


def last_action_id(app) -> int:
    with app.app_context():
        return db.session.execute(db.select(db.func.max(AdminAction.id))).scalar() or 0


def post_page_form(client, page_url: str, action: str, tick: bool):
    page = client.get(page_url).get_data(as_text=True)
    return client.post(action, data=page_form(page, action, tick), follow_redirects=True)


# --- removing a team ------------------------------------------------------------------------------

def test_removing_a_team_needs_the_tick_and_says_its_placard_stops_working(app, client, admin):
    client.post(f"/admin/events/{admin['event']}/teams", data={"name": "Late Team", "project": "P",
                                                               "table_number": "40"})
    with app.app_context():
        team = db.session.execute(db.select(Team).where(Team.name == "Late Team")).scalar_one()
        team_id, code = team.id, team.code
    edit, action = f"/admin/teams/{team_id}/edit", f"/admin/teams/{team_id}/delete"
    assert boxes(client.get(edit).get_data(as_text=True), action) == [
        "I understand: this team's printed table placard stops working, and if the team is added again it gets "
        "a new table code, so its placard must be printed again."]
    mark = last_action_id(app)

    refused = post_page_form(client, edit, action, tick=False)
    assert refused.request.path == edit
    assert flashes(refused) == [("error", "Nothing changed: tick “I understand” to remove the team (its printed "
                                          "placard would stop working).")]
    with app.app_context():
        assert db.session.get(Team, team_id).code == code
    assert client.get(f"/t/{code}").status_code == 200 and actions_since(app, mark) == []

    removed = post_page_form(client, edit, action, tick=True)
    assert removed.request.path == f"/admin/events/{admin['event']}/teams"
    assert flashes(removed) == [("success", "Late Team removed: its printed table placard no longer works.")]
    with app.app_context():
        assert db.session.get(Team, team_id) is None
    assert client.get(f"/t/{code}").status_code == 404  # the printed placard
    assert [row[1:3] for row in actions_since(app, mark)] == [("teams", "team deleted")]
    # Added again, the team gets a new table code: the old placard stays dead, a new one must be printed.
    client.post(f"/admin/events/{admin['event']}/teams", data={"name": "Late Team", "project": "P",
                                                               "table_number": "40"})
    with app.app_context():
        again = db.session.execute(db.select(Team).where(Team.name == "Late Team")).scalar_one()
        assert again.code != code and len(again.code) == 8
    assert client.get(f"/t/{code}").status_code == 404


def test_a_team_with_scores_is_still_refused_for_that_reason_with_the_tick(app, client, auth, admin):
    from tests.conftest import full_sheet, team_code

    auth.judge(admin["judges"][0])
    client.post(f"/t/{team_code(app, admin['teams'][0])}", data=full_sheet(app, admin["event"]))
    auth.admin()
    team_id = admin["teams"][0]
    refused = post_page_form(client, f"/admin/teams/{team_id}/edit", f"/admin/teams/{team_id}/delete", tick=True)
    assert flashes(refused) == [("error", "Drift Busters has 1 score sheets, so it cannot be removed.")]
    with app.app_context():
        assert db.session.get(Team, team_id) is not None


# --- judges: remove, reissue, withdraw --------------------------------------------------------------

@pytest.fixture
def nia(app, client, admin, auth):
    """A judge without scores, signed in on a phone (its own client); returns (id, badge path, phone)."""
    client.post(f"/admin/events/{admin['event']}/judges", data={"name": "Nia Long", "email": "nia@x.org"})
    with app.app_context():
        judge_id = db.session.execute(db.select(Judge).where(Judge.email == "nia@x.org")).scalar_one().id
    phone = app.test_client()
    path = auth.judge_path(judge_id)
    assert phone.post(path).headers["Location"] == "/judge" and phone.get("/judge").status_code == 200
    return judge_id, path, phone


def test_removing_a_judge_needs_the_tick_and_says_their_badge_stops_working(app, client, nia):
    judge_id, badge, phone = nia
    edit, action = f"/admin/judges/{judge_id}/edit", f"/admin/judges/{judge_id}/delete"
    assert boxes(client.get(edit).get_data(as_text=True), action) == [
        "I understand: this judge's printed badge stops working, and phones signed in with it are signed out."]
    mark = last_action_id(app)
    refused = post_page_form(client, edit, action, tick=False)
    assert refused.request.path == edit
    assert flashes(refused) == [("error", "Nothing changed: tick “I understand” to remove the judge (their printed "
                                          "badge would stop working).")]
    with app.app_context():
        assert db.session.get(Judge, judge_id) is not None
    assert phone.get("/judge").status_code == 200 and actions_since(app, mark) == []

    removed = post_page_form(client, edit, action, tick=True)
    assert flashes(removed) == [("success", "Nia Long removed: their printed badge no longer works.")]
    with app.app_context():
        assert db.session.get(Judge, judge_id) is None
    assert phone.get("/judge").status_code == 401
    assert app.test_client().get(badge).status_code == 404
    assert [row[1:4] for row in actions_since(app, mark)] == [("judges", "judge deleted", "Nia Long")]


def test_reissuing_a_badge_needs_the_tick_and_retires_the_printed_one(app, client, nia):
    judge_id, badge, phone = nia
    edit, action = f"/admin/judges/{judge_id}/edit", f"/admin/judges/{judge_id}/reissue"
    assert boxes(client.get(edit).get_data(as_text=True), action) == [
        "I understand: the badge this judge holds now stops working (phones signed in with it are signed out), "
        "so I print the new badge."]
    refused = post_page_form(client, edit, action, tick=False)
    assert flashes(refused) == [("error", "Nothing changed: tick “I understand” to reissue the badge (the printed "
                                          "badge would stop working).")]
    with app.app_context():
        assert db.session.get(Judge, judge_id).token_version == 1
    assert phone.get("/judge").status_code == 200 and app.test_client().get(badge).status_code == 200

    done = post_page_form(client, edit, action, tick=True)
    assert flashes(done) == [("success", "New sign-in link for Nia Long: print the new badge. Older links no "
                                         "longer work.")]
    with app.app_context():
        assert db.session.get(Judge, judge_id).token_version == 2
    assert phone.get("/judge").status_code == 401
    old = app.test_client().get(badge)
    assert old.status_code == 410 and "This badge has been replaced" in text_of(old)


def test_withdrawing_a_badge_needs_the_tick_letting_it_work_again_does_not(app, client, nia):
    judge_id, badge, phone = nia
    edit, action = f"/admin/judges/{judge_id}/edit", f"/admin/judges/{judge_id}/withdraw"
    assert boxes(client.get(edit).get_data(as_text=True), action) == [
        "I understand: this badge stops signing in, and phones signed in with it are signed out, until I let it "
        "work again."]
    refused = post_page_form(client, edit, action, tick=False)
    assert flashes(refused) == [("error", "Nothing changed: tick “I understand” to withdraw the badge (it would stop "
                                          "signing in).")]
    with app.app_context():
        assert db.session.get(Judge, judge_id).revoked_at is None
    assert phone.get("/judge").status_code == 200

    mark = last_action_id(app)
    page = client.get(edit).get_data(as_text=True)
    withdrawn = client.post(action, data=page_form(page, action, tick=True), follow_redirects=True)
    assert flashes(withdrawn) == [("success", "Nia Long's badge is withdrawn: it no longer signs in.")]
    assert phone.get("/judge").status_code == 401
    old = app.test_client().get(badge)
    assert old.status_code == 410 and "This badge has been withdrawn" in text_of(old)
    again = client.post(action, data=page_form(page, action, tick=True), follow_redirects=True)  # a double submit
    assert flashes(again) == [("success", "Nia Long's badge is withdrawn: it no longer signs in.")]
    with app.app_context():
        assert db.session.get(Judge, judge_id).revoked_at is not None
    assert [row[2] for row in actions_since(app, mark)] == ["badge withdrawn"]

    # Letting it work again takes one button (nothing stops working) and its own form, without a box.
    page = text_of(withdrawn)
    assert boxes(withdrawn.get_data(as_text=True), action) == [] and "Let the badge work again" in page
    restored = client.post(action, data=page_form(withdrawn.get_data(as_text=True), action, tick=False),
                           follow_redirects=True)
    assert flashes(restored) == [("success", "Nia Long's badge is working again.")]
    with app.app_context():
        assert db.session.get(Judge, judge_id).revoked_at is None
    assert app.test_client().get(badge).status_code == 200
    assert [row[2] for row in actions_since(app, mark)] == ["badge withdrawn", "badge restored"]


# --- a team's feedback link --------------------------------------------------------------------------

def test_reissuing_a_feedback_link_needs_the_tick_and_retires_the_printed_slip(app, client, admin):
    from expo_app.links import feedback_token

    team_id = admin["teams"][0]
    with app.app_context():
        slip = f"/f/{feedback_token(db.session.get(Team, team_id))}"
    edit, action = f"/admin/teams/{team_id}/edit", f"/admin/teams/{team_id}/feedback-link/reissue"
    assert boxes(client.get(edit).get_data(as_text=True), action) == [
        "I understand: the link on the team's printed slip stops working, so I print a new slip for the team."]
    refused = post_page_form(client, edit, action, tick=False)
    assert flashes(refused) == [("error", "Nothing changed: tick “I understand” to reissue the feedback link (the link "
                                          "on the printed slip would stop working).")]
    with app.app_context():
        assert db.session.get(Team, team_id).feedback_version == 1
    assert app.test_client().get(slip).status_code == 200

    done = post_page_form(client, edit, action, tick=True)
    assert flashes(done) == [("success", "New feedback link for Drift Busters: print a new slip. Older links no "
                                         "longer work.")]
    with app.app_context():
        assert db.session.get(Team, team_id).feedback_version == 2
    old = app.test_client().get(slip)
    assert old.status_code == 410 and "has been replaced" in text_of(old)


class TestWithCsrf:
    """The pages' own forms, with CSRF on as in production: each carries its token (one per form, its
    own field ids), and a post without one changes nothing and says the form had expired."""

    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "WTF_CSRF_ENABLED": True}

    @pytest.fixture
    def admin(self, app, client, demo):
        page = client.get("/admin/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        from tests.conftest import ADMIN_PASSWORD

        client.post("/admin/login", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "csrf_token": token})
        return demo

    def test_each_form_on_the_judge_page_has_its_token_and_ids(self, app, client, admin):
        judge_id = admin["judges"][5]
        edit = f"/admin/judges/{judge_id}/edit"
        page = client.get(edit).get_data(as_text=True)
        ids = re.findall(r'\bid="([^"]+)"', page)
        assert len(ids) == len(set(ids)) or sorted({i for i in ids if ids.count(i) > 1}) == ["csrf_token"]
        for prefix in ("reissue", "withdraw", "remove"):
            assert page.count(f'id="{prefix}-understood"') == 1 and f'name="{prefix}-csrf_token"' in page
        action = f"/admin/judges/{judge_id}/reissue"
        expired = client.post(action, data={"reissue-understood": "y"})
        assert expired.status_code == 400 and "This form has expired" in text_of(expired)
        with app.app_context():
            assert db.session.get(Judge, judge_id).token_version == 1
        done = client.post(action, data=page_form(page, action, tick=True), follow_redirects=True)
        assert flashes(done)[0][0] == "success"
        with app.app_context():
            assert db.session.get(Judge, judge_id).token_version == 2


# --- scoring state: lock straight from open ------------------------------------------------------------

def test_lock_is_offered_from_open_with_its_confirmation(app, client, admin):
    event_id = admin["event"]
    url, action = f"/admin/events/{event_id}", f"/admin/events/{event_id}/state"
    page = client.get(url).get_data(as_text=True)
    assert re.findall(r'<input type="hidden" name="state" value="(\w+)">', page) == ["closed", "locked"]
    assert "Close scoring</button>" in page and "Lock scoring</button>" in page
    lock = re.search(r'<form method="post" action="[^"]+" class="confirm-form" id="lock">.*?</form>',
                     page, re.S).group(0)
    assert boxes(lock, action) == ["I understand: locked scores are final, and judges' badges stop signing in"]
    assert "Scoring is open now: a judge still filling in a sheet will not be able to send it." in text_of(
        client.get(url))
    mark = last_action_id(app)

    refused = client.post(action, data=page_form(lock, action, tick=False), follow_redirects=True)
    assert flashes(refused) == [("error", "Tick the box to lock: locked scores can never change again.")]
    with app.app_context():
        assert db.session.get(Event, event_id).scoring_state == "open"
    assert actions_since(app, mark) == []

    locked = client.post(action, data=page_form(lock, action, tick=True), follow_redirects=True)
    assert flashes(locked) == [("success", "Scoring is now locked.")]
    with app.app_context():
        assert db.session.get(Event, event_id).scoring_state == "locked"
    assert [row[1:5] for row in actions_since(app, mark)] == [
        ("scoring", "scoring locked", "MLOps Innovation Expo (demo)", {"from": "open", "to": "locked"})]
    after = text_of(locked)
    assert "Final: scores can no longer change" in after and "Lock scoring</button>" not in after


@pytest.mark.parametrize("state, buttons, lock", [
    ("draft", ["open"], False), ("open", ["closed"], True), ("closed", ["open"], True), ("locked", [], False)])
def test_the_scoring_buttons_follow_the_state(app, client, admin, state, buttons, lock):
    with app.app_context():
        db.session.get(Event, admin["event"]).scoring_state = state
        db.session.commit()
    page = client.get(f"/admin/events/{admin['event']}").get_data(as_text=True)
    hidden = re.findall(r'<input type="hidden" name="state" value="(\w+)">', page)
    assert hidden == buttons + (["locked"] if lock else [])
    labels = {"draft": ["Open scoring"], "open": ["Close scoring"], "closed": ["Reopen scoring"], "locked": []}[state]
    for label in labels:
        assert f">{label}</button>" in page


# --- judges per team: one default -------------------------------------------------------------------

def test_a_new_event_wants_four_judges_per_team_like_the_model(app, client, admin):
    page = client.get("/admin/events").get_data(as_text=True)
    assert re.search(r'<input[^>]*id="judges_per_team"[^>]*value="4"', page)
    from expo_app.admin.operations import create_event

    with app.app_context():
        assert create_event("Spring").judges_per_team == 4
        assert Event.__table__.c.judges_per_team.default.arg == 4
        db.session.rollback()

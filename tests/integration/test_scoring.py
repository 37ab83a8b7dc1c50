import pytest

from expo_app.extensions import db
from expo_app.models import Event, Score, ScoreAudit
from tests.conftest import full_sheet, team_code


@pytest.fixture
def signed_in(demo, auth):
    auth.judge(demo["judges"][0])
    return demo


def sheets(app):
    with app.app_context():
        return [(s.judge_id, s.team_id, s.revision, sorted(v.value for v in s.values), s.comment, s.absent,
                 s.conflict) for s in db.session.query(Score).order_by(Score.id)]


def audits(app):
    with app.app_context():
        return [(a.action, a.old, a.new) for a in db.session.query(ScoreAudit).order_by(ScoreAudit.id)]


def test_team_page_is_the_scoring_form_for_a_judge(app, client, signed_in):
    page = client.get(f"/t/{team_code(app, signed_in['teams'][0])}").get_data(as_text=True)
    assert page.count('class="criterion') == 4 + 2
    assert "<legend>Technical completeness and correctness" in page
    assert "Complete, correct and robust; handles failure cases well." in page  # level descriptor
    assert page.count('type="radio"') == 20
    assert ">Submit score</button>" in page and "Not scored yet." in page


def test_team_page_is_a_public_card_for_anyone_else(app, client, demo):
    page = client.get(f"/t/{team_code(app, demo['teams'][0])}").get_data(as_text=True)
    assert "<h1>Drift Busters</h1>" in page and "Table 1" in page
    assert "Scan the QR code on your judge badge first" in page
    assert 'type="radio"' not in page


def test_codes_are_read_case_insensitively_and_unknown_ones_404(app, client, demo):
    assert client.get(f"/t/{team_code(app, demo['teams'][0]).lower()}").status_code == 200
    response = client.get("/t/NOPE1234")
    assert response.status_code == 404 and "Page not found" in response.get_data(as_text=True)


def test_submit_saves_once_and_resubmit_updates_in_place(app, client, signed_in):
    team_id, judge_id = signed_in["teams"][0], signed_in["judges"][0]
    url = f"/t/{team_code(app, team_id)}"
    data = full_sheet(app, signed_in["event"], 4, comment="  Great demo  ", private_note="check repo")
    response = client.post(url, data=data)
    assert response.status_code == 302 and response.headers["Location"] == url + "?saved=1"
    page = client.get(url).get_data(as_text=True)
    assert "Saved: your score for Drift Busters" in page and "75.0 / 100" in page
    assert sheets(app) == [(judge_id, team_id, 1, [4, 4, 4, 4], "Great demo", False, False)]

    client.post(url, data=data)  # a double tap / retried request
    assert "Already saved, nothing changed" in client.get(url).get_data(as_text=True)
    assert len(sheets(app)) == 1 and len(audits(app)) == 1

    client.post(url, data=full_sheet(app, signed_in["event"], 5, comment="Great demo"))
    assert sheets(app) == [(judge_id, team_id, 2, [5, 5, 5, 5], "Great demo", False, False)]
    (created, updated) = audits(app)
    assert created[0] == "created" and created[1] is None
    assert updated[0] == "updated"
    assert set(updated[1]["values"].values()) == {4} and set(updated[2]["values"].values()) == {5}
    assert updated[1]["private_note"] == "check repo" and updated[2]["private_note"] == ""


@pytest.mark.parametrize("change, message", [
    ({"drop": True}, "Choose a score for Technical completeness and correctness (1–5)."),
    ({"value": "6"}, "6 is outside the scale 1–5."),
    ({"value": "0"}, "0 is outside the scale 1–5."),
    ({"value": "2.5"}, "2.5 is not a whole number; choose 1–5."),
    ({"value": "x"}, "x is not a number; choose 1–5."),
])
def test_bad_values_are_refused_with_the_reason_and_nothing_is_saved(app, client, signed_in, change, message):
    data = full_sheet(app, signed_in["event"], 3)
    first = f"criterion_{signed_in['criteria'][0]}"
    if change.get("drop"):
        del data[first]
    else:
        data[first] = change["value"]
    response = client.post(f"/t/{team_code(app, signed_in['teams'][0])}", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page and "Your score was not saved" in page
    assert page.count('value="3" checked') == 3  # the judge's other choices are kept
    assert sheets(app) == [] and audits(app) == []


@pytest.mark.parametrize("state, message", [
    ("draft", "Scoring has not opened yet"),
    ("closed", "Scoring is closed right now"),
    ("locked", None),  # a locked event signs judges out entirely
])
def test_closed_event_refuses_scores(app, client, signed_in, state, message):
    with app.app_context():
        db.session.get(Event, signed_in["event"]).scoring_state = state
        db.session.commit()
    response = client.post(f"/t/{team_code(app, signed_in['teams'][0])}", data=full_sheet(app, signed_in["event"]))
    page = response.get_data(as_text=True)
    if message:
        assert response.status_code == 422 and message in page
    else:
        assert response.status_code == 401 and "Your score was not saved" in page
        assert "no longer signed in as a judge" in page
    assert sheets(app) == []


@pytest.mark.parametrize("flag", ["absent", "conflict"])
def test_absent_or_conflict_needs_no_values_and_clears_them(app, client, signed_in, flag):
    url = f"/t/{team_code(app, signed_in['teams'][0])}"
    client.post(url, data=full_sheet(app, signed_in["event"], 2))
    client.post(url, data={flag: "y"})
    (row,) = sheets(app)
    assert row[3] == [] and row[5] == (flag == "absent") and row[6] == (flag == "conflict") and row[2] == 2
    assert audits(app)[1][1]["values"] != {} and audits(app)[1][2]["values"] == {}  # the old values stay in the log


def test_judge_home_shows_progress_and_next_team(app, client, signed_in):
    client.post(f"/t/{team_code(app, signed_in['teams'][0])}", data=full_sheet(app, signed_in["event"]))
    page = client.get("/judge").get_data(as_text=True)
    assert "1 of 12 teams scored" in page
    assert "table 2, Pipeline Pilots" in page  # the next unscored table
    assert page.count(">Scored</span>") == 1 and page.count(">Not scored</span>") == 11


def test_a_judge_never_sees_or_changes_another_judges_score(app, client, auth, demo):
    a, b = demo["judges"][0], demo["judges"][1]
    url = f"/t/{team_code(app, demo['teams'][0])}"
    auth.judge(a)
    client.post(url, data=full_sheet(app, demo["event"], 5, comment="from judge A"))
    auth.judge(b)
    page = client.get(url).get_data(as_text=True)
    assert "from judge A" not in page and "Not scored yet." in page and 'checked' not in page
    client.post(url, data=full_sheet(app, demo["event"], 1, comment="from judge B"))
    rows = {r[0]: r for r in sheets(app)}
    assert rows[a][3] == [5, 5, 5, 5] and rows[a][4] == "from judge A"
    assert rows[b][3] == [1, 1, 1, 1] and rows[b][4] == "from judge B"


def test_a_judge_of_another_event_gets_the_public_card(app, client, auth, demo):
    from expo_app.admin.operations import create_event, save_judge

    with app.app_context():
        other = create_event("Spring expo")
        stranger = save_judge(other, None, name="Stranger", email="s@x.org", affiliation="")
        db.session.commit()
        stranger_id = stranger.id
    auth.judge(stranger_id)
    url = f"/t/{team_code(app, demo['teams'][0])}"
    assert "this team belongs to another event" in client.get(url).get_data(as_text=True)
    response = client.post(url, data=full_sheet(app, demo["event"]))
    assert response.status_code == 403 and "Your score was not saved" in response.get_data(as_text=True)
    assert sheets(app) == []


def test_a_sheet_posted_after_the_badge_was_reissued_is_refused_loudly(app, client, signed_in):
    from expo_app.admin.operations import reissue_badge
    from expo_app.models import Judge

    url = f"/t/{team_code(app, signed_in['teams'][0])}"
    with app.app_context():
        reissue_badge(db.session.get(Judge, signed_in["judges"][0]))
        db.session.commit()
    response = client.post(url, data=full_sheet(app, signed_in["event"]))
    page = response.get_data(as_text=True)
    assert response.status_code == 401 and "Your score was not saved" in page
    assert "your badge was reissued or withdrawn, or judging has ended" in page
    assert sheets(app) == []


def test_a_sheet_posted_by_nobody_is_refused(app, client, demo):
    response = client.post(f"/t/{team_code(app, demo['teams'][0])}", data=full_sheet(app, demo["event"]))
    assert response.status_code == 401 and "This phone is not signed in as a judge." in response.get_data(as_text=True)
    assert sheets(app) == []


def test_comment_is_escaped(app, client, signed_in, auth):
    url = f"/t/{team_code(app, signed_in['teams'][0])}"
    client.post(url, data=full_sheet(app, signed_in["event"], comment="<script>alert(1)</script>"))
    page = client.get(url).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page

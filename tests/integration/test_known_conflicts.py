"""Known conflicts of interest hold at scoring, not only when planning; set-aside sheets are kept but
never counted (ranking, dashboard, feedback, exports), and the organiser decides, with reasons."""
from __future__ import annotations

import pytest

from expo_app.admin.exports import score_rows
from expo_app.assignments.operations import mark_conflict
from expo_app.extensions import db
from expo_app.judging.operations import SheetInput, submit_score
from expo_app.models import AdminAction, Event, Judge, Score, ScoreAudit, Team
from expo_app.public.operations import team_feedback
from expo_app.results.queries import build_dashboard, dashboard_version, engine_input
from tests.conftest import full_sheet, team_code

JSON = {"Accept": "application/json"}


@pytest.fixture
def conflicted(app, demo, auth):
    """Judge 0 works at Acme, which team 0 lists among its companies; the judge is signed in."""
    with app.app_context():
        judge = db.session.get(Judge, demo["judges"][0])
        judge.affiliation = "Acme Corp."
        db.session.get(Team, demo["teams"][0]).companies = "Globex; ACME"
        db.session.commit()
    auth.judge(demo["judges"][0])
    return demo


def _sheets(app):
    with app.app_context():
        return [(s.judge_id, s.team_id, s.conflict, s.set_aside_at is not None, s.set_aside_reason, s.set_aside_by)
                for s in db.session.query(Score).order_by(Score.id)]


def _allow(app, event_id, allowed=True):
    with app.app_context():
        db.session.get(Event, event_id).conflicted_may_score = allowed
        db.session.commit()


def test_the_phone_warns_before_scoring_and_refuses_a_score(app, client, conflicted):
    url = f"/t/{team_code(app, conflicted['teams'][0])}"
    page = client.get(url).get_data(as_text=True)
    assert "Conflict of interest" in page and "This team works with ACME, and you are with Acme Corp." in page
    assert ">Declare conflict</button>" in page
    assert 'class="score-form"' not in page and 'type="radio"' not in page  # nothing to score with
    home = client.get("/judge").get_data(as_text=True)
    assert "Conflict: do not score" in home
    # A sheet from the phone (queued before, say) is refused with the reason, and nothing is written.
    response = client.post(url, data=full_sheet(app, conflicted["event"], 5), headers=JSON)
    assert response.status_code == 409 and response.json["status"] == "not_saved"
    assert "This team works with ACME" in response.json["reason"] and "declare the conflict" in response.json["reason"]
    page = client.post(url, data=full_sheet(app, conflicted["event"], 5)).get_data(as_text=True)
    assert "Not saved: This team works with ACME" in page
    assert _sheets(app) == []
    # Declaring the conflict is what the button does.
    response = client.post(url, data={"conflict": "y", "idempotency_key": "declare-1", "revision": "0"})
    assert response.status_code == 302
    assert _sheets(app) == [(conflicted["judges"][0], conflicted["teams"][0], True, False, "", "")]
    assert "conflict of interest declared" in client.get(url).get_data(as_text=True)


def test_an_allowed_score_from_a_known_conflict_is_kept_but_set_aside(app, client, conflicted):
    _allow(app, conflicted["event"])
    url = f"/t/{team_code(app, conflicted['teams'][0])}"
    page = client.get(url).get_data(as_text=True)
    assert "The organisers allow scoring anyway" in page and 'class="score-form"' in page
    response = client.post(url, data=full_sheet(app, conflicted["event"], 5), headers=JSON)
    assert response.status_code == 200 and response.json["status"] == "saved"
    reason = "Known conflict: This team works with ACME, and you are with Acme Corp."
    assert _sheets(app) == [(conflicted["judges"][0], conflicted["teams"][0], False, True, reason, "known conflict")]
    with app.app_context():
        event = db.session.get(Event, conflicted["event"])
        assert engine_input(event).rows == []  # not counted: the team does not go to #1
        assert score_rows(event) == []
        team = db.session.get(Team, conflicted["teams"][0])
        assert team_feedback(team).judges == 0
        board = build_dashboard(event, dashboard_version(event))
        judge = db.session.get(Judge, conflicted["judges"][0])
        (alert,) = [a for a in board.alerts if a.code == "set_aside"]
        assert alert.message == (f"1 sheet is set aside (kept, not counted): {judge.name} for {team.name}. "
                                 "Review on the Scores page.")
        assert alert.teams == (team.name,)
        # A revision stays set aside; the audit has the sheet and its setting aside.
        submit_score(judge, team, SheetInput(values={c.id: 4 for c in event.criteria}), "test")
        db.session.commit()
        assert db.session.query(Score).one().set_aside_at is not None
        assert [a.action for a in db.session.query(ScoreAudit).order_by(ScoreAudit.id)] == [
            "created", "set aside", "updated"]


def test_marking_a_conflict_after_the_sheet_sets_it_aside(app, client, auth, demo):
    judge_id, team_id = demo["judges"][1], demo["teams"][2]
    with app.app_context():
        event = db.session.get(Event, demo["event"])
        judge, team = db.session.get(Judge, judge_id), db.session.get(Team, team_id)
        submit_score(judge, team, SheetInput(values={c.id: 5 for c in event.criteria}), "test")
        db.session.commit()
        assert len(engine_input(event).rows) == 4
        mark_conflict(event, judge, team)
        db.session.commit()
        assert engine_input(event).rows == []
        score = db.session.query(Score).one()
        assert (score.set_aside_reason, score.set_aside_by) == (
            "Known conflict: the organisers marked this pair as a conflict of interest", "known conflict")
        actions = [(a.area, a.action) for a in db.session.query(AdminAction).order_by(AdminAction.id)
                   if a.area in ("assignments", "scoring")]
        assert actions[-2:] == [("assignments", "conflict marked"), ("scoring", "sheet set aside")]


def test_the_organiser_sets_a_sheet_aside_and_counts_it_again_with_reasons(app, client, auth, demo):
    judge_id, team_id = demo["judges"][2], demo["teams"][3]
    with app.app_context():
        event = db.session.get(Event, demo["event"])
        submit_score(db.session.get(Judge, judge_id), db.session.get(Team, team_id),
                     SheetInput(values={c.id: 2 for c in event.criteria}, comment="Weak"), "test")
        db.session.commit()
        score_id = db.session.query(Score.id).scalar()
    auth.admin()
    scores_url = f"/admin/events/{demo['event']}/scores"
    assert "Set aside…" in client.get(scores_url).get_data(as_text=True)
    page = client.post(f"/admin/scores/{score_id}/set-aside", data={"reason": " "},
                       follow_redirects=True).get_data(as_text=True)
    assert "Say why: the reason is kept in the audit log." in page
    assert _sheets(app)[0][3] is False
    client.post(f"/admin/scores/{score_id}/set-aside", data={"reason": "Judge left after two minutes"})
    assert _sheets(app) == [(judge_id, team_id, False, True, "Judge left after two minutes",
                             "admin: organiser@example.org")]
    page = client.get(scores_url + "?show=set_aside").get_data(as_text=True)
    assert "1 of 1 sheet match." in page and "Judge left after two minutes" in page and "Count it again…" in page
    assert "No sheet matches." in client.get(scores_url + "?show=counted").get_data(as_text=True)
    with app.app_context():
        assert engine_input(db.session.get(Event, demo["event"])).rows == []
    client.post(f"/admin/scores/{score_id}/count", data={"reason": "Checked with the judge: a full visit"})
    assert _sheets(app) == [(judge_id, team_id, False, False, "Checked with the judge: a full visit",
                             "admin: organiser@example.org")]
    page = client.get(scores_url).get_data(as_text=True)
    assert "counted again by admin: organiser@example.org: Checked with the judge: a full visit" in page
    with app.app_context():
        assert len(engine_input(db.session.get(Event, demo["event"])).rows) == 4
        actions = [(a.action, a.details["reason"]) for a in db.session.query(AdminAction).order_by(AdminAction.id)
                   if a.area == "scoring" and a.action.startswith("sheet")]
        assert actions == [("sheet set aside", "Judge left after two minutes"),
                           ("sheet counted again", "Checked with the judge: a full visit")]
        audit = [(a.action, a.old, a.new) for a in db.session.query(ScoreAudit).order_by(ScoreAudit.id)][1:]
        assert audit == [("set aside", {"counting": "counted"}, {"counting": "set aside: Judge left after two minutes"}),
                         ("counted again", {"counting": "set aside: Judge left after two minutes"},
                          {"counting": "counted"})]


def test_a_sheet_the_organiser_counted_is_never_set_aside_again_by_itself(app, conflicted):
    _allow(app, conflicted["event"])
    with app.app_context():
        event = db.session.get(Event, conflicted["event"])
        judge, team = db.session.get(Judge, conflicted["judges"][0]), db.session.get(Team, conflicted["teams"][0])
        score, _ = submit_score(judge, team, SheetInput(values={c.id: 3 for c in event.criteria}), "test")
        from expo_app.judging.conflicts import count_again

        count_again(score, "The judge left Acme last year", "admin: test")
        submit_score(judge, team, SheetInput(values={c.id: 4 for c in event.criteria}), "test")
        db.session.commit()
        score = db.session.query(Score).one()
        assert score.set_aside_at is None and score.counts
        board = build_dashboard(event, dashboard_version(event))
        assert not [a for a in board.alerts if a.code in ("set_aside", "conflict")]


def test_the_dashboard_alerts_on_a_counted_sheet_from_a_known_conflict(app, demo):
    """A sheet saved before the conflict was known (the team's companies edited afterwards)."""
    with app.app_context():
        event = db.session.get(Event, demo["event"])
        judge, team = db.session.get(Judge, demo["judges"][0]), db.session.get(Team, demo["teams"][0])
        submit_score(judge, team, SheetInput(values={c.id: 5 for c in event.criteria}), "test")
        judge.affiliation, team.companies = "Initech", "Initech"
        db.session.commit()
        board = build_dashboard(event, dashboard_version(event))
        (alert,) = [a for a in board.alerts if a.code == "conflict"]
        assert alert.message == (f"1 counted sheet comes from a known conflict of interest: {judge.name} for "
                                 f"{team.name}. Set it aside on the Scores page unless it should count.")


def test_a_redacted_comment_reaches_the_team_and_the_original_stays_in_the_audit(app, client, auth, demo):
    from expo_app.links import feedback_token
    from expo_app.results.feedback import release_feedback
    from expo_app.admin.operations import change_scoring_state

    with app.app_context():
        event = db.session.get(Event, demo["event"])
        submit_score(db.session.get(Judge, demo["judges"][0]), db.session.get(Team, demo["teams"][0]),
                     SheetInput(values={c.id: 4 for c in event.criteria}, comment="Great demo, unlike Bob's."), "test")
        change_scoring_state(event, "closed")
        release_feedback(event)
        db.session.commit()
        score_id = db.session.query(Score.id).scalar()
        token = feedback_token(db.session.get(Team, demo["teams"][0]))
    auth.admin()
    page = client.post(f"/admin/scores/{score_id}/redact-comment", data={"text": "Great demo.", "reason": ""},
                       follow_redirects=True).get_data(as_text=True)
    assert "Say why the comment is redacted." in page
    client.post(f"/admin/scores/{score_id}/redact-comment", data={"text": "Great demo.", "reason": "Names a student"})
    public = app.test_client().get(f"/f/{token}").get_data(as_text=True)
    assert "Great demo." in public and "Bob" not in public
    with app.app_context():
        audit = db.session.query(ScoreAudit).order_by(ScoreAudit.id.desc()).first()
        assert (audit.action, audit.old["comment"], audit.new["comment"]) == (
            "comment redacted", "Great demo, unlike Bob's.", "Great demo.")
        action = db.session.query(AdminAction).filter_by(action="comment redacted").one()
        assert action.details == {"reason": "Names a student", "original": "Great demo, unlike Bob's."}


def test_the_feedback_page_marks_a_redacted_comment_until_its_judge_rewrites_it(app, client, auth, demo):
    """The moderation page shows what the team reads; a redacted comment says so, with the reason, or
    the organiser cannot tell it from the judge's own words (found by the whole-day browser test)."""
    judge_id, team_id = demo["judges"][0], demo["teams"][0]
    with app.app_context():
        event = db.session.get(Event, demo["event"])
        submit_score(db.session.get(Judge, judge_id), db.session.get(Team, team_id),
                     SheetInput(values={c.id: 4 for c in event.criteria}, comment="Great demo, unlike Bob's."), "test")
        submit_score(db.session.get(Judge, demo["judges"][1]), db.session.get(Team, team_id),
                     SheetInput(values={c.id: 3 for c in event.criteria}, comment="Tidy repository."), "test")
        db.session.commit()
        score_id = db.session.query(Score.id).filter_by(judge_id=judge_id).scalar()
    auth.admin()
    url = f"/admin/events/{demo['event']}/feedback"
    assert "Redacted</span>" not in client.get(url).get_data(as_text=True)
    client.post(f"/admin/scores/{score_id}/redact-comment", data={"text": "Great demo.", "reason": "Names a student"})
    page = client.get(url).get_data(as_text=True)
    assert page.count("Redacted</span>") == 1
    assert ('<span class="pill pill-warn">Redacted</span> Names a student. The team reads the text above;' in page
            and "Bob" not in page)
    # The judge writes a new comment (scoring is open): it is theirs again, and no longer marked.
    with app.app_context():
        event = db.session.get(Event, demo["event"])
        submit_score(db.session.get(Judge, judge_id), db.session.get(Team, team_id),
                     SheetInput(values={c.id: 4 for c in event.criteria}, comment="Great demo, well paced."), "test")
        db.session.commit()
    page = client.get(url).get_data(as_text=True)
    assert "Great demo, well paced." in page and "Redacted</span>" not in page

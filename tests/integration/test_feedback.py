"""A team's private feedback link: nothing before release, its own results after, moderation, slips."""
from __future__ import annotations

import pytest

from expo_app.admin.operations import change_scoring_state
from expo_app.extensions import db
from expo_app.judging.operations import SheetInput, submit_score
from expo_app.links import feedback_token
from expo_app.models import Event, Judge, ScoreAudit, Team
from expo_app.results.operations import accept_suggestions, finalise_awards
from expo_app.results.queries import award_suggestions
from tests.conftest import issue_and_get
from tests.pdfs import pdf_pages


@pytest.fixture
def commented(app, demo, auth):
    """Judges 0-2 scored teams 0-2 with comments and private notes; returns ids and links."""
    with app.app_context():
        event = db.session.get(Event, demo["event"])
        for j in range(3):
            judge = db.session.get(Judge, demo["judges"][j])
            for t in range(3):
                team = db.session.get(Team, demo["teams"][t])
                submit_score(judge, team, SheetInput(values={c.id: 5 - t for c in event.criteria},
                                                     comment=f"Comment by judge {j} to team {t}",
                                                     private_note=f"Private note {j}/{t}"), "test")
        change_scoring_state(event, "closed")  # feedback is released after the expo
        db.session.commit()
        links = [f"/f/{feedback_token(db.session.get(Team, team_id))}" for team_id in demo["teams"]]
    auth.admin()
    return {**demo, "links": links}


def _release(client, event_id):
    return client.post(f"/admin/events/{event_id}/feedback/release", data={"understood": "y"}, follow_redirects=True)


def test_before_release_a_team_sees_only_that_judging_is_in_progress(app, commented):
    anonymous = app.test_client()
    page = anonymous.get(commented["links"][0]).get_data(as_text=True)
    assert "Judging in progress" in page and "3 judges have scored your team so far." in page
    assert "Drift Busters" in page
    for secret in ("Comment by judge", "Private note", "out of 100", "Criterion by criterion"):
        assert secret not in page
    assert "No judge has scored your team yet." in anonymous.get(commented["links"][5]).get_data(as_text=True)


def test_after_release_a_team_sees_its_score_criteria_and_comments_but_no_private_notes(app, client, commented):
    page = client.post(f"/admin/events/{commented['event']}/feedback/release", follow_redirects=True).get_data(as_text=True)
    assert "Tick the box to confirm the release." in page
    assert "Feedback released" in _release(client, commented["event"]).get_data(as_text=True)
    page = " ".join(app.test_client().get(commented["links"][0]).get_data(as_text=True).split())
    assert "out of 100" in page and "we are 90 % sure your score lies between" in page
    assert page.count('<svg class="bar"') == 4 and "Your team: <strong>5.0</strong>" in page
    assert "all teams: 4.0" in page  # teams 0-2 got 5, 4 and 3 on every criterion
    for j in range(3):
        assert f"Comment by judge {j} to team 0" in page
    assert "Private note" not in page and "to team 1" not in page  # nothing of other teams
    for name in ("Katherine Johnson", "Edsger Dijkstra", "Grace Hopper", "Alan Kay"):  # anonymous by default
        assert name not in page
    client.post(f"/admin/events/{commented['event']}/settings", data={
        "name": "MLOps Innovation Expo (demo)", "judges_per_team": 3, "paper_size": "A4", "feedback_named": "y"})
    with app.app_context():
        first = db.session.get(Judge, commented["judges"][0]).name
    assert f"— {first}" in app.test_client().get(commented["links"][0]).get_data(as_text=True)
    # Withdrawn: back to "in progress".
    client.post(f"/admin/events/{commented['event']}/feedback/withdraw")
    assert "Judging in progress" in app.test_client().get(commented["links"][0]).get_data(as_text=True)


def test_a_hidden_comment_never_reaches_the_team_and_the_reason_is_audited(app, client, commented):
    page = client.get(f"/admin/events/{commented['event']}/feedback").get_data(as_text=True)
    assert page.count("Hide from the team</button>") == 9 and "Private note 0/0" not in page
    with app.app_context():
        from expo_app.models import Score

        score = db.session.execute(db.select(Score).where(Score.comment == "Comment by judge 1 to team 0")).scalar_one()
        score_id = score.id
    page = client.post(f"/admin/scores/{score_id}/hide-comment", data={"reason": ""}, follow_redirects=True)
    assert "Say why the comment is hidden." in page.get_data(as_text=True)
    client.post(f"/admin/scores/{score_id}/hide-comment", data={"reason": "Personal remark"})
    _release(client, commented["event"])
    team_page = app.test_client().get(commented["links"][0]).get_data(as_text=True)
    assert "Comment by judge 1 to team 0" not in team_page and "Comment by judge 0 to team 0" in team_page
    with app.app_context():
        audit = db.session.execute(db.select(ScoreAudit).where(ScoreAudit.action == "comment hidden")).scalar_one()
        assert audit.score_id == score_id and audit.new["moderation"] == "hidden from the team: Personal remark"
        assert audit.actor == "admin: organiser@example.org"
    # The sheet's history has it with before and after; among everything it is the organiser's action.
    assert "hidden from the team: Personal remark" in client.get(
        f"/admin/events/{commented['event']}/audit?kind=sheets").get_data(as_text=True)
    everything = " ".join(client.get(f"/admin/events/{commented['event']}/audit").get_data(as_text=True).split())
    assert "comment hidden" in everything and "reason: Personal remark" in everything
    client.post(f"/admin/scores/{score_id}/restore-comment")
    assert "Comment by judge 1 to team 0" in app.test_client().get(commented["links"][0]).get_data(as_text=True)


def test_links_are_unguessable_revocable_and_reprintable(app, client, commented):
    anonymous = app.test_client()
    link = commented["links"][0]
    forged = link[:-1] + ("A" if link[-1] != "A" else "B")
    for bad in (forged, "/f/1-1-" + "x" * 32, "/f/nonsense"):
        response = anonymous.get(bad)
        assert response.status_code == 404 and "This feedback link is not valid" in response.get_data(as_text=True)
    judge_token = f"/f/{commented['judges'][0]}-1-" + link.rsplit("-", 1)[1]  # another purpose's MAC shape
    assert anonymous.get(judge_token).status_code == 404
    team_id = commented["teams"][0]
    client.post(f"/admin/teams/{team_id}/feedback-link/reissue", data={"reissue-understood": "y"})
    response = anonymous.get(link)
    assert response.status_code == 410 and "has been replaced" in response.get_data(as_text=True)
    with app.app_context():
        new = f"/f/{feedback_token(db.session.get(Team, team_id))}"
        assert new != link and feedback_token(db.session.get(Team, team_id)) == new[3:]  # same on every reprint
    assert anonymous.get(new).status_code == 200
    client.post(f"/admin/teams/{team_id}/feedback-link/withdraw")
    response = anonymous.get(new)
    assert response.status_code == 410 and "switched off" in response.get_data(as_text=True)
    links = client.get(f"/admin/events/{commented['event']}/team-links.csv").get_data(as_text=True).splitlines()
    assert links[0] == "team,table,qr_url,feedback_url"
    assert links[1].endswith(",")  # switched off: no link to print
    assert links[2].split(",")[3] == "https://expo.example.org" + commented["links"][1]


def test_a_database_copy_holds_no_feedback_link(app, commented):
    """The token is an HMAC under SECRET_KEY: nothing in the database reproduces it."""
    token = commented["links"][0][3:]
    with app.app_context():
        import sqlalchemy as sa

        with db.engine.connect() as conn:
            for table in db.metadata.sorted_tables:
                for row in conn.execute(sa.select(table)):
                    assert token not in repr(tuple(row))


def test_after_the_awards_a_team_sees_them_and_downloads_its_certificates(app, client, commented):
    with app.app_context():
        event = db.session.get(Event, commented["event"])
        change_scoring_state(event, "locked")
        accept_suggestions(event, award_suggestions(event), "admin: test")
        db.session.flush()
        finalise_awards(event, "admin: test", award_suggestions(event))
        db.session.commit()
    issue_and_get(client, f"/admin/events/{commented['event']}/print/certificates.pdf")  # issues the award certificates
    anonymous = app.test_client()
    with app.app_context():
        from expo_app.models import Certificate

        ids = db.session.execute(db.select(Certificate.id)).scalars().all()
    for certificate_id in ids:  # before release not even a certificate's existence shows
        assert anonymous.get(f"{commented['links'][0]}/certificates/{certificate_id}.pdf").status_code == 404
    _release(client, commented["event"])
    page = anonymous.get(commented["links"][0]).get_data(as_text=True)
    assert "Your team won: <strong>1st place" in page
    start = page.index("/certificates/")
    href = page[page.rindex('"', 0, start) + 1:page.index('"', start)]
    response = anonymous.get(href)
    assert response.mimetype == "application/pdf" and "Certificate of Award" in pdf_pages(response.data)[0]
    other_team = commented["links"][1] + href[href.index("/certificates/"):]
    assert anonymous.get(other_team).status_code == 404  # another team's link cannot fetch it


def test_slips_one_per_team_with_its_link(app, client, commented, runner, tmp_path):
    client.post(f"/admin/teams/{commented['teams'][11]}/feedback-link/withdraw")
    response = client.get(f"/admin/events/{commented['event']}/print/slips.pdf")
    pages = pdf_pages(response.data)
    assert len(pages) == 2 and response.headers["Cache-Control"] == "private, no-store"
    text = " ".join(pages).replace(" ", "")
    assert text.upper().count("YOURTEAM'SFEEDBACK") == 11
    assert commented["links"][0][3:] in text and "Table12" not in text
    result = runner.invoke(args=["print", "slips", "--out", str(tmp_path / "slips.pdf")])
    assert result.exit_code == 0 and len(pdf_pages((tmp_path / "slips.pdf").read_bytes())) == 2


def test_feedback_cannot_be_released_while_judges_still_score(app, client, commented):
    with app.app_context():
        change_scoring_state(db.session.get(Event, commented["event"]), "open")
        db.session.commit()
    page = _release(client, commented["event"]).get_data(as_text=True)
    assert "Close scoring before releasing the feedback" in page
    with app.app_context():
        assert db.session.get(Event, commented["event"]).feedback_released_at is None

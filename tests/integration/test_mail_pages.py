"""The organisers' E-mail page: invite, resend, tell the teams, previews, the development mailbox,
and each person's mail status on the judges and teams pages."""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from expo_app.admin.operations import change_scoring_state
from expo_app.extensions import db
from expo_app.links import feedback_url, judge_sign_in_url
from expo_app.mail import worker
from expo_app.models import AdminAction, Event, Judge, OutboxMessage, Team


@pytest.fixture
def organiser(app, demo, auth):
    auth.admin()
    return demo


def _page(client, url) -> str:
    return " ".join(client.get(url).get_data(as_text=True).split())


def _deliver(app):
    with app.app_context():
        return worker.run(once=True)


def _rows(app):
    with app.app_context():
        return db.session.execute(db.select(OutboxMessage).order_by(OutboxMessage.id)).scalars().all()


def test_the_page_invites_every_judge_once_and_shows_each_ones_status(app, client, organiser):
    event_id = organiser["event"]
    page = _page(client, f"/admin/events/{event_id}/mail")
    assert "Invite the 6 judges not invited yet" in page and page.count("Not invited") == 6
    assert "MAIL_URL is not set: queued messages wait until it is set and the mail worker" in page  # the tests' worker
    app.config["MAIL_BACKGROUND"] = "thread"
    assert "MAIL_URL is not set, so nothing leaves this machine" in _page(client, f"/admin/events/{event_id}/mail")
    app.config["MAIL_BACKGROUND"] = "none"
    response = client.post(f"/admin/events/{event_id}/mail/invite-judges", follow_redirects=True)
    assert "Judge invitations: 6 messages queued." in response.get_data(as_text=True)
    assert len(_rows(app)) == 6
    client.post(f"/admin/events/{event_id}/mail/invite-judges")  # a second click queues nothing
    assert len(_rows(app)) == 6
    with app.app_context():
        entry = db.session.execute(db.select(AdminAction).where(AdminAction.action == "judge invitations queued")).scalar_one()
        assert entry.area == "judges" and entry.details["queued"] == 6 and entry.actor == "admin: organiser@example.org"
    assert _deliver(app).sent == 6
    page = _page(client, f"/admin/events/{event_id}/mail")
    assert page.count('<span class="pill pill-ok">Sent ') >= 6 and "Every judge with a working badge is invited." in page
    assert "6 sent" in page.replace("<strong>", "").replace("</strong>", "")
    judges_page = _page(client, f"/admin/events/{event_id}/judges")
    assert "<th scope=\"col\">Invitation</th>" in judges_page and judges_page.count("pill pill-ok\">Sent ") == 6


def test_resend_one_judge_and_a_reissued_badge_shows_on_the_judges_page(app, client, organiser):
    event_id, judge_id = organiser["event"], organiser["judges"][1]
    client.post(f"/admin/events/{event_id}/mail/invite-judges")
    _deliver(app)
    response = client.post(f"/admin/judges/{judge_id}/mail/resend", follow_redirects=True)
    assert "1 message queued." in response.get_data(as_text=True)
    assert [r.judge_id for r in _rows(app)].count(judge_id) == 2
    with app.app_context():
        assert db.session.execute(db.select(AdminAction).where(
            AdminAction.action == "judge invitations resent")).scalar_one().details["queued"] == 1
    _deliver(app)
    # A judge invited by e-mail whose badge is reissued gets the new link by e-mail at once.
    client.post(f"/admin/judges/{organiser['judges'][2]}/reissue", data={"reissue-understood": "y"})
    page = _page(client, f"/admin/events/{event_id}/judges")
    assert page.count('<span class="pill">Queued</span>') == 1
    with app.app_context():
        entry = db.session.execute(db.select(AdminAction).where(AdminAction.action == "judge invitation queued")).scalar_one()
        assert entry.details == {"why": "badge reissued: the new link replaces the e-mailed one"}
    assert _deliver(app).sent == 1
    assert "Every judge with a working badge is invited." in _page(client, f"/admin/events/{event_id}/mail")


def test_previews_show_the_recipients_own_link_escaped_names_and_an_inline_qr_code(app, client, organiser):
    event_id, judge_id = organiser["event"], organiser["judges"][3]
    with app.app_context():
        judge = db.session.get(Judge, judge_id)
        judge.name = "Ada <i>Lovelace</i>"
        db.session.commit()
        url = judge_sign_in_url(judge)
    response = client.get(f"/admin/events/{event_id}/mail/preview/judge_invitation?to={judge_id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert url in page and "Dear Ada &lt;i&gt;Lovelace&lt;/i&gt;," in page and "<i>Lovelace" not in page
    assert f'src="/admin/events/{event_id}/mail/preview/judge_invitation.html?to={judge_id}"' in page
    part = client.get(f"/admin/events/{event_id}/mail/preview/judge_invitation.html?to={judge_id}")
    html = part.get_data(as_text=True)
    assert part.headers["Content-Security-Policy"].startswith("default-src 'none'; style-src 'unsafe-inline'; img-src data:")
    assert part.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert 'src="data:image/png;base64,' in html and "cid:" not in html and f'href="{url}"' in html
    assert _rows(app) == []  # a preview queues and writes nothing
    assert client.get(f"/admin/events/{event_id}/mail/preview/judge_invitation?to=999999").status_code == 404


def test_team_previews_say_why_they_would_not_go_out_yet(app, client, organiser):
    event_id = organiser["event"]
    with app.app_context():
        team = db.session.get(Team, organiser["teams"][0])
        member, link = team.members[0], feedback_url(team)
    page = _page(client, f"/admin/events/{event_id}/mail/preview/team_feedback?to={member.id}")
    assert "Not sent to this person now: the feedback is not released (or the release was withdrawn)." in page
    assert link in page and "Drift Busters" in page
    page = _page(client, f"/admin/events/{event_id}/mail/preview/team_certificates?to={member.id}")
    assert "Preview: Certificates ready" in page


def test_telling_the_teams_is_refused_before_the_release_and_works_after(app, client, organiser):
    event_id = organiser["event"]
    response = client.post(f"/admin/events/{event_id}/mail/notify-teams", follow_redirects=True)
    assert "The feedback is not released yet" in response.get_data(as_text=True) and _rows(app) == []
    with app.app_context():
        event = db.session.get(Event, event_id)
        change_scoring_state(event, "closed")
        db.session.commit()
    client.post(f"/admin/events/{event_id}/feedback/release", data={"understood": "y"})
    response = client.post(f"/admin/events/{event_id}/mail/notify-teams", follow_redirects=True)
    with app.app_context():
        members = sum(len(t.members) for t in db.session.get(Event, event_id).teams)
    assert f"Team notices: {members} messages queued." in response.get_data(as_text=True)
    _deliver(app)
    teams_page = _page(client, f"/admin/events/{event_id}/teams")
    with app.app_context():
        first = db.session.get(Team, organiser["teams"][0])
        size = len(first.members)
    assert f"Feedback e-mailed to {size} of {size}" in teams_page
    member_id = _rows(app)[0].member_id
    assert "1 message queued." in client.post(f"/admin/members/{member_id}/mail/resend",
                                              follow_redirects=True).get_data(as_text=True)


def test_without_mail_url_a_thread_writes_the_eml_files_and_the_page_shows_them(app, client, organiser):
    app.config["MAIL_BACKGROUND"] = "thread"
    event_id = organiser["event"]
    client.post(f"/admin/events/{event_id}/mail/invite-judges")
    folder = Path(app.instance_path) / "mail"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not all(r.status == "sent" for r in _rows(app)):
        time.sleep(0.1)
    rows = _rows(app)
    assert {r.status for r in rows} == {"sent"} and len(list(folder.glob("message-*.eml"))) >= 6
    page = _page(client, f"/admin/events/{event_id}/mail")
    assert page.count("(in the mailbox folder)") == 6
    row = rows[0]
    with app.app_context():
        url = judge_sign_in_url(db.session.get(Judge, row.judge_id))
    message_page = _page(client, f"/admin/mail/{row.id}")
    assert url in message_page and "Download the .eml file" in message_page
    html = client.get(f"/admin/mail/{row.id}.html")
    assert html.status_code == 200 and 'src="data:image/png;base64,' in html.get_data(as_text=True)
    eml = client.get(f"/admin/mail/{row.id}.eml")
    assert eml.mimetype == "message/rfc822" and url.encode() in eml.data.replace(b"=\r\n", b"")
    for path in folder.glob("message-*.eml"):
        path.unlink()


def test_with_csrf_on_a_button_without_its_token_queues_nothing(app, client, organiser):
    app.config["WTF_CSRF_ENABLED"] = True
    event_id = organiser["event"]
    response = client.post(f"/admin/events/{event_id}/mail/invite-judges")
    assert response.status_code == 400 and "This form has expired" in response.get_data(as_text=True)
    assert _rows(app) == []
    page = client.get(f"/admin/events/{event_id}/mail").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post(f"/admin/events/{event_id}/mail/invite-judges", data={"csrf_token": token})
    assert len(_rows(app)) == 6


def test_an_import_with_addresses_no_mail_reaches_is_refused_by_line_on_the_page_and_the_cli(
        app, client, organiser, runner, tmp_path):
    import io

    bad = "name,email,affiliation\nAda,ada@x.org,\nBob,bob@x..org,\nCy,cy@-x.org,ACME\n"
    response = client.post(f"/admin/events/{organiser['event']}/judges/import",
                           data={"file": (io.BytesIO(bad.encode()), "judges.csv")}, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Line 3: &#39;bob@x..org&#39; is not an e-mail address." in page
    assert "Line 4: &#39;cy@-x.org&#39; is not an e-mail address." in page
    path = tmp_path / "judges.csv"
    path.write_text(bad)
    result = runner.invoke(args=["import-judges", str(path)])
    assert result.exit_code == 1 and "Line 3: 'bob@x..org' is not an e-mail address." in result.output
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(Judge.id))).scalar() == 6  # nothing imported

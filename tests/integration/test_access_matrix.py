"""Every route × every role: who may see or do what. A new route fails here until it is listed."""
import pytest

from expo_app.documents.batches import build_batch
from expo_app.extensions import db
from expo_app.judging.operations import SheetInput, submit_score
from expo_app.models import Criterion, Event, Judge, JudgeConflict, Score, Team
from tests.conftest import AuthActions, full_sheet, seed_demo, seeded, team_code

ROLES = ["anonymous", "judge_a", "judge_b", "admin"]
LOGIN = "login"  # redirected to the organiser sign-in page

# endpoint -> (method, expected outcome per role in ROLES order)
ADMIN_GET = ("GET", [LOGIN, LOGIN, LOGIN, 200])
ADMIN_POST = ("POST", [LOGIN, LOGIN, LOGIN, 302])
ADMIN_UPLOAD = ("POST", [LOGIN, LOGIN, LOGIN, 422])  # no file: the page again, saying so
MATRIX = {
    "judging.landing": ("GET", [200, 200, 200, 200]),
    "judging.home": ("GET", [401, 200, 200, 401]),
    "judging.csrf_token": ("GET", [401, 200, 200, 401]),
    "judging.offline_manifest": ("GET", [401, 200, 200, 401]),
    "judging.service_worker": ("GET", [200, 200, 200, 200]),
    "judging.visiting": ("POST", [401, 204, 204, 401]),
    "judging.team": ("GET", [200, 200, 200, 200]),
    "auth.judge_sign_in": ("GET", [200, 200, 200, 200]),
    "auth.admin_login": ("GET", [200, 200, 200, 200]),
    "auth.logout": ("POST", [302, 302, 302, 302]),
    "auth.sign_out_everywhere": ADMIN_POST,
    "platform.healthz": ("GET", [200, 200, 200, 200]),
    "platform.readyz": ("GET", [503, 503, 503, 503]),  # the tests' tables come from create_all: no migration recorded
    "platform.metrics": ("GET", [200, 200, 200, 200]),
    "static": ("GET", [200, 200, 200, 200]),
    "admin.index": ("GET", [LOGIN, LOGIN, LOGIN, 302]),
    "admin.events": ADMIN_GET,
    "admin.make_current": ADMIN_POST,
    "admin.event": ADMIN_GET,
    "admin.event_settings": ADMIN_GET,
    "admin.scoring_state": ADMIN_POST,
    "admin.rubric": ADMIN_GET,
    "admin.edit_criterion": ADMIN_GET,
    "admin.delete_criterion": ADMIN_POST,
    "admin.teams": ADMIN_GET,
    "admin.edit_team": ADMIN_GET,
    "admin.delete_team": ADMIN_POST,
    "admin.team_qr": ADMIN_GET,
    "admin.import_teams": ADMIN_UPLOAD,
    "admin.teams_template": ADMIN_GET,
    "admin.team_links": ADMIN_GET,
    "admin.judges": ADMIN_GET,
    "admin.edit_judge": ADMIN_GET,
    "admin.delete_judge": ADMIN_POST,
    "admin.reissue_badge": ADMIN_POST,
    "admin.withdraw_badge": ADMIN_POST,
    "admin.judge_qr": ADMIN_GET,
    "admin.import_judges": ADMIN_UPLOAD,
    "admin.judges_template": ADMIN_GET,
    "admin.judge_links": ADMIN_GET,
    "admin.scores": ADMIN_GET,
    "admin.scores_export": ADMIN_GET,
    "admin.audit": ADMIN_GET,
    "admin.site_settings": ADMIN_GET,
    "results.dashboard": ADMIN_GET,
    "results.dashboard_json": ADMIN_GET,
    "results.ranking_csv": ADMIN_GET,
    "results.awards": ADMIN_GET,
    "results.decide_award": ADMIN_POST,
    "results.clear_award": ADMIN_POST,
    "results.accept_suggestions": ADMIN_POST,
    "results.add_award_category": ADMIN_POST,
    "results.delete_award_category": ADMIN_POST,
    "results.finalise_awards": ADMIN_POST,
    "documents.print_page": ADMIN_GET,
    "documents.preview": ADMIN_GET,
    "documents.download": ADMIN_GET,
    "documents.prepare": ADMIN_POST,
    "documents.issue": ADMIN_POST,
    "documents.status": ADMIN_GET,
    "documents.judge_badge": ADMIN_GET,
    "documents.certificates": ADMIN_GET,
    "documents.certificate_pdf": ADMIN_GET,
    "documents.revoke": ADMIN_POST,
    "documents.replace": ADMIN_POST,
    # Public: anyone holding a certificate may check it, signed in or not.
    "public.verify_certificate": ("GET", [200, 200, 200, 200]),
    "admin.member_presence": ADMIN_POST,
    # Before the awards are final (as here) the organiser is sent back to the awards page to say so.
    "results.grades_export": ("GET", [LOGIN, LOGIN, LOGIN, 302]),
    "results.feedback": ADMIN_GET,
    "results.release_feedback": ADMIN_POST,
    "results.withdraw_feedback": ADMIN_POST,
    "results.hide_comment": ADMIN_POST,
    "results.redact_comment": ADMIN_POST,
    "results.set_aside": ADMIN_POST,
    "results.count_again": ADMIN_POST,
    "results.restore_comment": ADMIN_POST,
    "admin.reissue_feedback_link": ADMIN_POST,
    "admin.withdraw_feedback_link": ADMIN_POST,
    # A team's private link: whoever holds it, signed in or not (test_feedback.py covers what it shows).
    "public.team_feedback_page": ("GET", [200, 200, 200, 200]),
    # Before the release and the final awards (as here) no certificate is served, to anyone.
    "public.team_certificate_pdf": ("GET", [404, 404, 404, 404]),
    "assignments.plan": ADMIN_GET,
    # An empty form: the page comes back with the reasons (422), nothing planned.
    "assignments.make_plan": ("POST", [LOGIN, LOGIN, LOGIN, 422]),
    "assignments.export_csv": ADMIN_GET,
    "assignments.import_csv": ADMIN_UPLOAD,
    "assignments.layout": ADMIN_POST,
    "assignments.import_layout": ADMIN_UPLOAD,
    "assignments.mark_conflict": ADMIN_POST,
    "assignments.unmark_conflict": ADMIN_POST,
    "assignments.availability": ADMIN_POST,
    "assignments.bring_back": ADMIN_POST,
    "assignments.routing": ADMIN_POST,
    "mail.outbox": ADMIN_GET,
    "mail.invite_judges": ADMIN_POST,
    "mail.notify_teams": ADMIN_POST,  # before the release: refused with a message, back to the page
    "mail.retry_failed": ADMIN_POST,
    "mail.resend_judge": ADMIN_POST,
    "mail.resend_member": ADMIN_POST,
    "mail.preview_page": ADMIN_GET,
    "mail.preview_html": ADMIN_GET,
    "mail.delivered": ADMIN_GET,
    # The world's message is queued, not delivered: there is no .eml file to show.
    "mail.delivered_html": ("GET", [LOGIN, LOGIN, LOGIN, 404]),
    "mail.delivered_eml": ("GET", [LOGIN, LOGIN, LOGIN, 404]),
}


def test_every_route_is_in_the_matrix(app):
    assert {rule.endpoint for rule in app.url_map.iter_rules()} == set(MATRIX)


@pytest.fixture
def world(app):
    """The demo; judge A has scored team 1, judge B has not. Returns the URL arguments for every
    endpoint (and the demo's ids under "demo"). Seeded once per database kind, copied into each test."""
    return seeded(app, "access-matrix", lambda: _seed_world(app))


def _seed_world(app):
    demo = seed_demo()
    event = db.session.get(Event, demo["event"])
    judge_a, team_1 = db.session.get(Judge, demo["judges"][0]), db.session.get(Team, demo["teams"][0])
    submit_score(judge_a, team_1, SheetInput(values={c.id: 3 for c in event.criteria}, comment="A"), "test")
    spare_team = Team(event=event, name="Spare", table_number=99)
    spare_judge = Judge(event=event, name="Spare Judge", email="spare@x.org")
    spare_criterion = Criterion(event=event, name="Spare criterion", position=9)
    db.session.add_all([spare_team, spare_judge, spare_criterion])
    db.session.commit()
    spare = {"team_id": spare_team.id, "judge_id": spare_judge.id, "criterion_id": spare_criterion.id,
             "category_id": event.award_categories[-1].id}
    event_categories = [c.id for c in event.award_categories]
    certificate = build_batch(event, "participation").items[0]
    member_id = event.teams[0].members[0].id
    from expo_app.links import feedback_token

    team_token = feedback_token(event.teams[0])
    score_id = db.session.execute(db.select(Score.id)).scalar()
    conflict = JudgeConflict(event_id=event.id, judge_id=demo["judges"][1], team_id=demo["teams"][1])
    db.session.add(conflict)
    db.session.commit()
    conflict_id = conflict.id
    from expo_app.mail.operations import queue_judge_invitations
    from expo_app.models import OutboxMessage

    queue_judge_invitations(event)
    db.session.commit()
    message_id = db.session.execute(db.select(OutboxMessage.id)).scalars().first()
    from expo_app.auth.operations import judge_token

    code, token = team_1.code, judge_token(judge_a)
    db.session.commit()
    return {
        "event_id": demo["event"], "team_id": demo["teams"][0], "judge_id": demo["judges"][0],
        "criterion_id": demo["criteria"][0], "category_id": event_categories[0], "code": code,
        "token": token, "filename": "app.css", "spare": spare,
        "kind": "placards", "certificate_id": certificate["id"], "certificate_code": certificate["code"],
        "member_id": member_id, "team_token": team_token, "score_id": score_id, "conflict_id": conflict_id,
        "message_id": message_id, "demo": demo,
    }


def _url(app, endpoint, args):
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    values = {name: args[name] for name in rule.arguments}
    if ".delete_" in endpoint:  # delete something that can be deleted
        values = {name: args["spare"][name] for name in rule.arguments}
    if endpoint == "documents.issue":
        values["kind"] = "participation"
    if endpoint == "public.verify_certificate":
        values = {"code": args["certificate_code"]}
    if endpoint.startswith("mail.preview"):
        values["kind"] = "judge_invitation"
    if endpoint.startswith("public.team_"):
        values = {**values, "token": args["team_token"]}
    with app.test_request_context():
        from flask import url_for

        return url_for(endpoint, **values)


@pytest.mark.parametrize("endpoint", sorted(MATRIX))
def test_access(app, world, endpoint):
    method, outcomes, demo = *MATRIX[endpoint], world["demo"]
    url = _url(app, endpoint, world)
    # One app per endpoint, a fresh client per role; the admin goes last so that its successful
    # POST (a delete, say) cannot change what the other roles meet.
    for role, expected in zip(ROLES, outcomes):
        client = app.test_client()
        auth = AuthActions(app, client)
        if role == "admin":
            auth.admin()
        elif role in ("judge_a", "judge_b"):
            auth.judge(demo["judges"][0 if role == "judge_a" else 1])
        response = client.open(url, method=method)
        if expected == LOGIN:
            assert response.status_code == 302, role
            assert response.headers["Location"].startswith("/admin/login?next="), role
        else:
            assert response.status_code == expected, role


def test_judge_b_cannot_read_or_overwrite_judge_a(app, client, auth, demo):
    """The scoring URL is per team, never per score: whoever posts writes their own sheet only."""
    url = f"/t/{team_code(app, demo['teams'][0])}"
    auth.judge(demo["judges"][0])
    client.post(url, data=full_sheet(app, demo["event"], 5, comment="A's private view", private_note="A's note"))
    auth.judge(demo["judges"][1])
    page = client.get(url).get_data(as_text=True)
    assert "A&#39;s private view" not in page and "A&#39;s note" not in page
    for path in ("/admin/events/%d/scores" % demo["event"], "/admin/events/%d/audit" % demo["event"],
                 "/admin/events/%d/scores.csv" % demo["event"]):
        assert client.get(path).status_code == 302
    with app.app_context():
        (score,) = db.session.query(Score).all()
        assert score.judge_id == demo["judges"][0] and score.comment == "A's private view"

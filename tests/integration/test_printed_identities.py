"""Printed paper names people by random uids, never by row ids: a deleted row's paper never points at
a new row, old paper (row ids, from before uids) keeps working for its own row only, and printing
only reads (certificates are issued by a POST)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from expo_app.admin.operations import delete_judge, delete_team, save_judge, save_team
from expo_app.auth.tokens import JUDGE_SIGN_IN, TEAM_FEEDBACK, make_legacy_token
from expo_app.documents.batches import build_batch
from expo_app.documents.certificates import certificate_code
from expo_app.documents.codes import make_legacy_certificate_code
from expo_app.extensions import db
from expo_app.links import feedback_token, judge_sign_in_url
from expo_app.models import AdminAction, Certificate, Event, Judge, Team
from tests.pdfs import pdf_pages


def _event(app, event_id) -> Event:
    return db.session.get(Event, event_id)


def test_a_deleted_judges_badge_never_signs_in_the_judge_added_after(app, client, demo):
    with app.app_context():
        event = _event(app, demo["event"])
        old = save_judge(event, None, name="Gone Soon", email="gone@example.org", affiliation="")
        db.session.commit()
        old_id, old_path = old.id, judge_sign_in_url(old).split("example.org", 1)[1]
        delete_judge(old)
        db.session.commit()
        new = save_judge(event, None, name="New Person", email="new@example.org", affiliation="")
        db.session.commit()
        new_id, new_path = new.id, judge_sign_in_url(new).split("example.org", 1)[1]
    assert new_id > old_id  # ids are never reused, on SQLite too
    assert old_path != new_path
    response = client.post(old_path)
    assert response.status_code == 404 and "This sign-in link is not valid" in response.get_data(as_text=True)
    assert client.get("/judge").status_code == 401
    assert client.post(new_path).status_code == 302
    assert "New Person" in client.get("/judge").get_data(as_text=True)


def test_a_deleted_teams_slip_never_opens_the_feedback_of_the_team_added_after(app, client, demo):
    with app.app_context():
        event = _event(app, demo["event"])
        old = save_team(event, None, name="Short Lived", project="", table_number=40, members=[("A", "a@x.org")])
        db.session.commit()
        old_id, old_token, old_code = old.id, feedback_token(old), old.code
        delete_team(old)
        db.session.commit()
        new = save_team(event, None, name="Newcomers", project="", table_number=40, members=[("B", "b@x.org")])
        db.session.commit()
        new_id, new_token, new_code = new.id, feedback_token(new), new.code
    assert new_id > old_id and old_token != new_token and old_code != new_code
    response = client.get(f"/f/{old_token}")
    assert response.status_code == 404 and "This feedback link is not valid" in response.get_data(as_text=True)
    assert client.get(f"/t/{old_code}").status_code == 404
    assert "Newcomers" in client.get(f"/f/{new_token}").get_data(as_text=True)


def test_a_judge_cookie_is_honoured_only_for_the_same_judge(app, client, auth, demo):
    """A row id alone may name another judge in another database: the cookie carries the uid too."""
    judge_id = demo["judges"][0]
    assert auth.judge(judge_id).status_code == 302
    assert client.get("/judge").status_code == 200
    with app.app_context():
        db.session.get(Judge, judge_id).uid = "zzzzzzzzzzzzzzzz"  # the same row id, another judge's identity
        db.session.commit()
    assert client.get("/judge").status_code == 401


def test_old_paper_works_for_its_own_row_and_never_for_another(app, client, demo):
    """Links and codes printed before uids named row ids: the migration kept them as legacy_id."""
    key = app.config["SECRET_KEY"]
    with app.app_context():
        event = _event(app, demo["event"])
        judge, team = db.session.get(Judge, demo["judges"][1]), db.session.get(Team, demo["teams"][2])
        judge.legacy_id, team.legacy_id = 9001, 9002  # as the migration left a row that had those ids
        other = db.session.get(Judge, demo["judges"][2])
        build_batch(event, "participation")
        certificate = db.session.execute(db.select(Certificate).order_by(Certificate.id)).scalars().first()
        certificate.legacy_id = 9003
        db.session.commit()
        judge_name, team_name, recipient = judge.name, team.name, certificate.recipient
        other_id = other.id
    assert client.post(f"/j/{make_legacy_token(key, JUDGE_SIGN_IN, 9001, 1)}").status_code == 302
    assert f"{judge_name}" in client.get("/judge").get_data(as_text=True)
    # An old link naming today's row id of another judge (who has no legacy id) signs nobody in.
    response = app.test_client().post(f"/j/{make_legacy_token(key, JUDGE_SIGN_IN, other_id, 1)}")
    assert response.status_code == 404
    assert team_name in client.get(f"/f/{make_legacy_token(key, TEAM_FEEDBACK, 9002, 1)}").get_data(as_text=True)
    page = client.get(f"/v/{make_legacy_certificate_code(key, 9003)}").get_data(as_text=True)
    assert "Valid certificate" in page and recipient in page
    assert client.get(f"/v/{make_legacy_certificate_code(key, 9004)}").status_code == 404


def test_certificates_of_a_removed_team_or_member_verify_as_withdrawn(app, client, demo):
    with app.app_context():
        event = _event(app, demo["event"])
        build_batch(event, "participation")
        db.session.commit()
        leaving_team = save_team(event, None, name="Leaves", project="", table_number=41,
                                 members=[("Lee Ving", "lee@x.org")])
        db.session.commit()
        build_batch(event, "participation")
        db.session.commit()
        team_cert = db.session.execute(db.select(Certificate).where(Certificate.recipient == "Lee Ving")).scalar_one()
        team_code_ = certificate_code(team_cert)
        delete_team(leaving_team)
        db.session.commit()
        team = db.session.get(Team, demo["teams"][0])
        gone = team.members[0]
        member_cert = db.session.execute(db.select(Certificate).where(Certificate.member_id == gone.id)).scalar_one()
        member_code, gone_name = certificate_code(member_cert), gone.name
        save_team(event, team, name=team.name, project=team.project, table_number=team.table_number,
                  members=[(m.name, m.email) for m in team.members[1:]])
        db.session.commit()
        withdrawn = db.session.execute(db.select(AdminAction).where(AdminAction.action == "certificates withdrawn")
                                       .order_by(AdminAction.id)).scalars().all()
        assert [(a.subject, a.details.get("certificates")) for a in withdrawn] == [("Leaves", 1), (team.name, 1)]
    for code, name in ((team_code_, "Lee Ving"), (member_code, gone_name)):
        page = client.get(f"/v/{code}").get_data(as_text=True)
        assert "Withdrawn certificate" in page and "Valid certificate" not in page and name in page


def test_printing_only_reads_certificates_are_issued_by_a_post(app, client, auth, demo):
    auth.admin()
    url = f"/admin/events/{demo['event']}/print"

    def count():
        with app.app_context():
            return db.session.execute(db.select(db.func.count(Certificate.id))).scalar()

    for path in (f"{url}/participation", f"{url}/participation.pdf", url):
        response = client.get(path)
        assert response.status_code in (200, 302) and count() == 0, path
    response = client.get(f"{url}/participation", follow_redirects=True)
    assert "35 of these certificates are not issued yet" in response.get_data(as_text=True)
    assert "Issue and preview" in client.get(url).get_data(as_text=True)
    response = client.post(f"{url}/participation/issue", data={"then": "preview"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/print/participation")
    assert count() == 35
    with app.app_context():
        (action,) = db.session.execute(db.select(AdminAction).where(AdminAction.action == "certificates issued")).scalars()
        assert action.details == {"issued": 35, "total": 35}
    assert "Certificate of Participation" in client.get(f"{url}/participation").get_data(as_text=True)
    response = client.post(f"{url}/participation/issue", follow_redirects=True)
    assert "Every certificate was issued already: nothing changed." in response.get_data(as_text=True)
    assert count() == 35


def test_a_certificate_pdf_of_one_person_is_read_only(app, client, auth, demo):
    auth.admin()
    with app.app_context():
        build_batch(_event(app, demo["event"]), "participation")
        db.session.commit()
        certificate = db.session.execute(db.select(Certificate).order_by(Certificate.id)).scalars().first()
        certificate_id, recipient = certificate.id, certificate.recipient
    (page,) = pdf_pages(client.get(f"/admin/certificates/{certificate_id}.pdf").data)
    assert recipient in page


def test_sqlite_tables_that_paper_points_at_never_reuse_ids(tmp_path):
    """PostgreSQL's sequences never reuse an id; SQLite does unless a table is AUTOINCREMENT."""
    from expo_app import create_app

    sqlite_app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'ids.sqlite'}"})
    with sqlite_app.app_context():
        db.create_all()
        sql = dict(db.session.execute(sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'table'")).all())
        db.engine.dispose()
    for table in ("judge", "team", "team_member", "certificate", "award_category"):
        assert "AUTOINCREMENT" in sql[table], table

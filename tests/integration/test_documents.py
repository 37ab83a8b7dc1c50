"""Printed matter through the test client and the CLI: placards, badges, certificates, verification."""
from __future__ import annotations

import re

import pytest

from expo_app.admin.operations import change_scoring_state, reissue_badge, save_team
from expo_app.documents.batches import build_batch
from expo_app.extensions import db
from expo_app.judging.operations import SheetInput, submit_score
from expo_app.models import Certificate, Event, Judge, RenderedDocument, Team
from expo_app.results.operations import accept_suggestions, finalise_awards
from expo_app.results.queries import award_suggestions
from tests.conftest import issue_and_get
from tests.pdfs import pdf_page_sizes_mm, pdf_pages

PDF = "application/pdf"


@pytest.fixture
def admin(demo, auth):
    auth.admin()
    return demo


def _event(app, event_id):
    return db.session.get(Event, event_id)


def _members(app, event_id) -> list[tuple[str, str, str]]:
    """(member, team, project) of every member of every team, in table order."""
    with app.app_context():
        return [(m.name, t.name, t.project) for t in _event(app, event_id).teams for m in t.members]


@pytest.fixture
def ready_to_finalise(app, admin):
    """Judges 0-3 scored teams 0-3 (team i gets 5-i), scoring locked, every suggestion accepted."""
    with app.app_context():
        event = _event(app, admin["event"])
        event.instructor_name, event.instructor_title = "Dr. Ada Lovelace", "Instructor, Graduate MLOps"
        for j_index in range(4):
            judge = db.session.get(Judge, admin["judges"][j_index])
            for t_index in range(4):
                team = db.session.get(Team, admin["teams"][t_index])
                submit_score(judge, team, SheetInput(values={c.id: 5 - t_index for c in event.criteria}), "test")
        change_scoring_state(event, "closed")
        change_scoring_state(event, "locked")
        accept_suggestions(event, award_suggestions(event), "admin: test")
        db.session.commit()
    return admin


@pytest.fixture
def finalised(app, ready_to_finalise):
    with app.app_context():
        event = _event(app, ready_to_finalise["event"])
        finalise_awards(event, "admin: test", award_suggestions(event))
        db.session.commit()
    return ready_to_finalise


def _snapshot_awards(event):
    from expo_app.models import RankingSnapshot

    snapshot = db.session.execute(db.select(RankingSnapshot).where(RankingSnapshot.event_id == event.id)).scalar_one()
    return snapshot.data["awards"]


# --- placards and badges ------------------------------------------------------------------------

@pytest.mark.any_database
def test_placards_one_page_per_team_with_name_project_table_and_call_to_scan(app, client, admin):
    response = client.get(f"/admin/events/{admin['event']}/print/placards.pdf")
    assert response.status_code == 200 and response.mimetype == PDF
    assert 'filename="mlops-innovation-expo-demo-placards.pdf"' in response.headers["Content-Disposition"]
    pages = pdf_pages(response.data)
    assert len(pages) == 12
    assert pdf_page_sizes_mm(response.data) == [(210, 297)] * 12
    with app.app_context():
        teams = _event(app, admin["event"]).teams
        for page, team in zip(pages, teams):
            assert team.name in page and team.project in page
            assert re.search(rf"TABLE{team.table_number}(?!\d)", page.replace(" ", ""))  # letter-spaced label
            assert "Judges: scan to score" in page and "MLOPS INNOVATION EXPO (DEMO)" in page
            assert f"expo.example.org/t/{team.code}" in page  # the same URL the QR carries, to type by hand


@pytest.mark.any_database
def test_paper_size_follows_the_event_setting(app, client, admin):
    client.post(f"/admin/events/{admin['event']}/settings", data={
        "name": "MLOps Innovation Expo (demo)", "judges_per_team": 3, "paper_size": "Letter",
        "instructor_name": "Dr. Ada Lovelace", "instructor_title": "Instructor"})
    with app.app_context():
        event = _event(app, admin["event"])
        assert (event.paper_size, event.instructor_name, event.instructor_title) == ("Letter", "Dr. Ada Lovelace", "Instructor")
    placards = client.get(f"/admin/events/{admin['event']}/print/placards.pdf").data
    assert set(pdf_page_sizes_mm(placards)) == {(216, 279)}
    certificates = issue_and_get(client, f"/admin/events/{admin['event']}/print/participation.pdf").data
    assert set(pdf_page_sizes_mm(certificates)) == {(279, 216)}  # landscape Letter


@pytest.mark.any_database
def test_badges_six_to_a_sheet_and_a_reissued_badge_prints_its_new_link(app, client, admin):
    response = client.get(f"/admin/events/{admin['event']}/print/badges.pdf")
    (sheet,) = pdf_pages(response.data)  # six judges: one sheet
    assert response.headers["Cache-Control"] == "private, no-store"
    with app.app_context():
        judges = _event(app, admin["event"]).judges
        for judge in judges:
            assert judge.name in sheet and judge.affiliation in sheet
            # Under the code, the same link to type: https:// left out, the token on a line of its own.
            address, token = build_batch(judge.event, "badges", judge=judge).items[0]["url"].rsplit("/", 1)
            assert address == "https://expo.example.org/j" and f"/j/{judge.uid}-1-" in f"/j/{token}"
            assert f"NO SCAN? TYPE expo.example.org/j/ {token}" in sheet
        assert sheet.count("Scan to start judging") == 6
        judge = judges[0]
        old_url = build_batch(judge.event, "badges", judge=judge).items[0]["url"]
        reissue_badge(judge)
        db.session.commit()
        new_url = build_batch(judge.event, "badges", judge=judge).items[0]["url"]
        assert new_url != old_url and f"/j/{judge.uid}-2-" in new_url
        judge_id, name = judge.id, judge.name
    # Never kept: a copy of the database must not hold a working sign-in link.
    with app.app_context():
        assert db.session.execute(db.select(RenderedDocument).where(RenderedDocument.kind == "badges")).first() is None
    one = client.get(f"/admin/judges/{judge_id}/badge.pdf")
    assert one.mimetype == PDF
    (page,) = pdf_pages(one.data)
    assert name in page and page.count("Scan to start judging") == 1
    assert re.search(r'filename="badge-.*-2\.pdf"', one.headers["Content-Disposition"])


@pytest.mark.any_database
def test_a_withdrawn_badge_is_not_printed(app, client, admin):
    judge_id = admin["judges"][0]
    client.post(f"/admin/judges/{judge_id}/withdraw", data={"withdraw-understood": "y"})
    page = client.get(f"/admin/judges/{judge_id}/badge.pdf", follow_redirects=True).get_data(as_text=True)
    assert "badge is withdrawn: put it back in service before printing it" in page
    sheet = pdf_pages(client.get(f"/admin/events/{admin['event']}/print/badges.pdf").data)
    with app.app_context():
        assert db.session.get(Judge, judge_id).name not in sheet[0]
    assert sheet[0].count("Scan to start judging") == 5


# --- certificates -------------------------------------------------------------------------------

@pytest.mark.any_database
def test_award_certificates_wait_for_the_final_awards(app, client, admin, runner, tmp_path):
    page = client.get(f"/admin/events/{admin['event']}/print").get_data(as_text=True)
    assert "Award certificates are printed from the final awards only." in page
    response = client.get(f"/admin/events/{admin['event']}/print/certificates.pdf", follow_redirects=True)
    assert response.mimetype == "text/html" and "Finalise the awards" in response.get_data(as_text=True)
    result = runner.invoke(args=["print", "certificates", "--out", str(tmp_path / "c.pdf")])
    assert result.exit_code == 1 and "Finalise the awards" in result.output
    assert not (tmp_path / "c.pdf").exists()
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(Certificate.id)).where(Certificate.kind == "award")).scalar() == 0


def test_award_certificates_one_per_award_and_member_from_the_snapshot(app, client, finalised):
    response = issue_and_get(client, f"/admin/events/{finalised['event']}/print/certificates.pdf")
    assert response.mimetype == PDF
    pages = pdf_pages(response.data)
    with app.app_context():
        event = _event(app, finalised["event"])
        teams = {t.name: t for t in event.teams}
        expected = [(award["category"], m.name, award["team"], teams[award["team"]].project)
                    for award in _snapshot_awards(event) for m in teams[award["team"]].members]
    assert len(pages) == len(expected) > 0
    for page, (award, member, team, project) in zip(pages, expected):
        assert "Certificate of Award" in page
        assert member in page and award in page and team in page and project in page
        assert "MLOPS INNOVATION EXPO (DEMO)" in page and "10 December 2026" in page
        assert "Dr. Ada Lovelace" in page and "Instructor, Graduate MLOps" in page
        assert re.search(r"expo\.example\.org/v/[A-Z][0-9A-Z]{9}-[0-9A-Z]{16}", page.replace(" ", ""))
    assert pdf_page_sizes_mm(response.data)[0] == (297, 210)


@pytest.mark.any_database
def test_participation_certificates_for_every_member_before_any_award(app, client, admin):
    response = issue_and_get(client, f"/admin/events/{admin['event']}/print/participation.pdf")
    pages = pdf_pages(response.data)
    members = _members(app, admin["event"])
    assert len(pages) == len(members) == 35
    for page, (member, team, project) in zip(pages, members):
        assert "Certificate of Participation" in page and member in page and team in page and project in page
    with app.app_context():
        issued = db.session.execute(db.select(Certificate).order_by(Certificate.id)).scalars().all()
        assert [(c.kind, c.recipient) for c in issued] == [("participation", m) for m, _t, _p in members]


def test_a_second_download_is_served_from_the_kept_pdf_until_the_data_changes(app, client, admin, monkeypatch):
    url = f"/admin/events/{admin['event']}/print/participation.pdf"
    first = issue_and_get(client, url).data
    from expo_app.documents import views

    def no_render(*_a, **_k):
        raise AssertionError("rendered again although nothing changed")

    monkeypatch.setattr(views, "render_batch", no_render)
    assert client.get(url).data == first  # the same bytes, without a render
    with app.app_context():
        kept = db.session.execute(db.select(RenderedDocument)).scalar_one()
        assert (kept.kind, kept.state, kept.pages_total, kept.pdf_bytes) == ("participation", "ready", 35, len(first))
    monkeypatch.undo()
    with app.app_context():  # a corrected spelling makes the kept PDF stale
        team = db.session.get(Team, admin["teams"][0])
        save_team(team.event, team, name=team.name, project=team.project, table_number=team.table_number,
                  members=[("Zoë Ünïcode-Spelling", team.members[0].email)] + [(m.name, m.email) for m in team.members[1:]])
        db.session.commit()
    second = client.get(url).data
    assert second != first and "Zoë Ünïcode-Spelling" in pdf_pages(second)[0]


def test_the_verification_page_confirms_exactly_what_was_certified(app, client, finalised):
    issue_and_get(client, f"/admin/events/{finalised['event']}/print/certificates.pdf")
    client.get("/logout")
    with app.app_context():
        certificate = db.session.execute(db.select(Certificate).where(Certificate.kind == "award")
                                         .order_by(Certificate.id)).scalars().first()
        code = build_batch(certificate.event, "certificates").items[0]["code"]
        team = db.session.execute(db.select(Team).where(Team.name == certificate.team_name)).scalar_one()
        others = [m.name for m in team.members if m.id != certificate.member_id]
        recipient, award = certificate.recipient, certificate.award
    anonymous = app.test_client()
    response = anonymous.get(f"/v/{code}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert "Valid certificate" in page and recipient in page and f"Award: {award}" in page
    assert "MLOps Innovation Expo (demo), 10 December 2026, Curry Student Center Ballroom" in page
    for other in others:  # nothing else: no other members, no scores, no ranking
        assert other not in page
    assert "score" not in page.lower() and "rank" not in page.lower()
    assert anonymous.get(f"/v/{code.lower()}").status_code == 200  # typed from paper in any case
    forged = code[:-1] + ("2" if code[-1] != "2" else "3")
    for bad in (forged, "1-AAAAAAAAAAAAAAAA", "nonsense", "99999999999-" + code.split("-")[1]):
        response = anonymous.get(f"/v/{bad}")
        assert response.status_code == 404 and "No certificate has this code" in response.get_data(as_text=True)


def test_revoking_a_certificate_shows_on_its_page_and_keeps_it_out_of_batches(app, client, admin):
    issue_and_get(client, f"/admin/events/{admin['event']}/print/participation.pdf")
    with app.app_context():
        first = db.session.execute(db.select(Certificate).order_by(Certificate.id)).scalars().first()
        certificate_id, recipient = first.id, first.recipient
        code = next(i["code"] for i in build_batch(first.event, "participation").items if i["id"] == first.id)
        db.session.commit()
    page = client.post(f"/admin/certificates/{certificate_id}/revoke", data={"reason": ""},
                       follow_redirects=True).get_data(as_text=True)
    assert "Say why the certificate is revoked." in page
    page = client.post(f"/admin/certificates/{certificate_id}/revoke", data={"reason": "Issued to the wrong team"},
                       follow_redirects=True).get_data(as_text=True)
    assert "certificate is revoked: its verification page says so" in page
    with app.app_context():
        revoked = db.session.get(Certificate, certificate_id)
        assert revoked.revoked_reason == "Issued to the wrong team" and revoked.revoked_by == "admin: organiser@example.org"
    public = app.test_client().get(f"/v/{code}").get_data(as_text=True)
    assert "Revoked certificate" in public and "Valid certificate" not in public
    assert "wrong team" not in public  # the reason is for the organisers
    pages = pdf_pages(issue_and_get(client, f"/admin/events/{admin['event']}/print/participation.pdf").data)
    assert len(pages) == 34 and not any(code in p for p in pages)
    # A replacement gets a new row and a new code, and is printed again.
    client.post(f"/admin/certificates/{certificate_id}/replace")
    with app.app_context():
        replacement = db.session.execute(db.select(Certificate).where(Certificate.issue == 2)).scalar_one()
        assert (replacement.recipient, replacement.member_id) == (recipient, revoked.member_id)
    pages = pdf_pages(issue_and_get(client, f"/admin/events/{admin['event']}/print/participation.pdf").data)
    assert len(pages) == 35 and not any(code in p for p in pages)
    page = client.post(f"/admin/certificates/{certificate_id}/replace", follow_redirects=True).get_data(as_text=True)
    assert "A newer certificate was already issued for this." in page


@pytest.mark.any_database
def test_one_certificate_prints_alone(app, client, admin):
    issue_and_get(client, f"/admin/events/{admin['event']}/print/participation.pdf")
    with app.app_context():
        certificate = db.session.execute(db.select(Certificate).order_by(Certificate.id.desc())).scalars().first()
        certificate_id, recipient = certificate.id, certificate.recipient
    response = client.get(f"/admin/certificates/{certificate_id}.pdf")
    (page,) = pdf_pages(response.data)
    assert recipient in page and "Certificate of Participation" in page
    listing = client.get(f"/admin/events/{admin['event']}/certificates").get_data(as_text=True)
    assert listing.count("Print this one (PDF)") == 35 and listing.count('class="pill pill-ok">Valid<') == 35


def test_a_certificate_is_withdrawn_when_its_member_leaves_the_team(app, client, admin):
    issue_and_get(client, f"/admin/events/{admin['event']}/print/participation.pdf")
    with app.app_context():
        team = db.session.get(Team, admin["teams"][0])
        gone = team.members[0]
        certificate = db.session.execute(db.select(Certificate).where(Certificate.member_id == gone.id)).scalar_one()
        code = build_batch(team.event, "participation").items[0]["code"]
        name = gone.name
        save_team(team.event, team, name=team.name, project=team.project, table_number=team.table_number,
                  members=[(m.name, m.email) for m in team.members[1:]])
        db.session.commit()
        assert db.session.get(Certificate, certificate.id).member_id is None
    page = app.test_client().get(f"/v/{code}").get_data(as_text=True)
    assert "Withdrawn certificate" in page and "Valid certificate" not in page and name in page
    assert len(pdf_pages(issue_and_get(client, f"/admin/events/{admin['event']}/print/participation.pdf").data)) == 34


# --- previews, the printing page and background renders -----------------------------------------

@pytest.mark.any_database
def test_previews_are_html_pages_of_the_same_templates(app, client, admin):
    client.post(f"/admin/events/{admin['event']}/print/participation/issue")
    for kind, marker in (("placards", "Judges: scan to score"), ("badges", "Scan to start judging"),
                         ("participation", "Certificate of Participation")):
        response = client.get(f"/admin/events/{admin['event']}/print/{kind}")
        page = response.get_data(as_text=True)
        assert response.status_code == 200 and response.mimetype == "text/html"
        assert marker in page and "/static/pdf/print.css" in page and "Download the PDF" in page
        assert '<svg class="qr"' in page
    page = issue_and_get(client, f"/admin/events/{admin['event']}/print/participation").get_data(as_text=True)
    assert "Preview of 4 of 35 certificates on A4 paper" in page
    page = client.get(f"/admin/events/{admin['event']}/print/certificates", follow_redirects=True).get_data(as_text=True)
    assert "Award certificates are printed from the final awards only." in page


@pytest.mark.any_database
def test_printing_page_lists_every_document_with_its_state(app, client, admin):
    page = " ".join(client.get(f"/admin/events/{admin['event']}/print").get_data(as_text=True).split())
    assert "12 placards, 12 pages." in page and "6 badges, 1 page." in page and "35 certificates, 35 pages." in page
    assert "170 mm" in page and "Print at 100 %" in page
    client.get(f"/admin/events/{admin['event']}/print/placards.pdf")
    page = client.get(f"/admin/events/{admin['event']}/print").get_data(as_text=True)
    assert "Ready: rendered" in page


def _checklist(client, event_id) -> list[str]:
    """The checklist's points as shown: mark, words and link, whitespace folded."""
    import html as html_lib

    page = client.get(f"/admin/events/{event_id}/print").get_data(as_text=True)
    section = page.split('<section class="card" id="checklist"', 1)[1].split("</section>", 1)[0]
    points = re.findall(r'<li class="check (check-ok|check-warn)" id="check-(\w+)">(.*?)</li>', section, re.S)
    summary = re.search(r'<p class="hint">(\d+ of \d+ ready\.)', section)[1]
    return [summary] + [f"{state} {key}: " + html_lib.unescape(" ".join(re.sub(r"<a href=\"([^\"]*)\">", r"[\1] ",
                                                                               re.sub(r"<(?!a )[^>]+>", "", body)).split()))
                        for state, key, body in points]


@pytest.mark.any_database
def test_the_printing_page_checks_signer_paper_date_place_and_awards_before_certificates(app, client, admin):
    event_id = admin["event"]
    settings = f"/admin/events/{event_id}/settings"
    with app.app_context():
        event = _event(app, event_id)
        event.instructor_name, event.instructor_title, event.venue = "", "", ""
        db.session.commit()
    assert _checklist(client, event_id) == [
        "1 of 4 ready.",
        f"check-warn signer: ! To check: No signer named. Certificates print “Organiser” under the signature line "
        f"until someone is named. [{settings}#instructor_name] Name the signer",
        f"check-ok paper: ✓ Ready: Paper: A4. Every PDF is laid out for A4 (210 × 297 mm): load the same paper and "
        f"print at 100 %. [{settings}#paper_size] Change the paper size",
        f"check-warn when: ! To check: No place set. Certificates print no place. [{settings}#venue] Set the place",
        f"check-warn awards: ! To check: Awards not final. Award certificates wait for the final awards (participation "
        f"certificates do not): lock scoring, decide every award and finalise. [/admin/events/{event_id}/awards#finalise] "
        "Finalise the awards",
    ]
    # Each link leads to the field (or the section) that puts the point right.
    page = client.get(settings).get_data(as_text=True)
    assert 'id="instructor_name"' in page and 'id="paper_size"' in page and 'id="venue"' in page
    assert 'id="finalise"' in client.get(f"/admin/events/{event_id}/awards").get_data(as_text=True)
    with app.app_context():
        event = _event(app, event_id)
        event.instructor_name, event.instructor_title, event.venue = "Dr. Ada Lovelace", "Instructor", "Ballroom"
        event.paper_size = "Letter"
        db.session.commit()
        held_on = _event(app, event_id).held_on
    points = _checklist(client, event_id)
    assert points[0] == "3 of 4 ready." and points[1].startswith(
        "check-ok signer: ✓ Ready: Signer named. Certificates are signed by Dr. Ada Lovelace, Instructor.")
    assert points[2].startswith("check-ok paper: ✓ Ready: Paper: Letter. Every PDF is laid out for Letter (8.5 × 11 in)")
    assert points[3].startswith(f"check-ok when: ✓ Ready: Date and place set. Certificates say "
                                f"{held_on.day} {held_on:%B %Y} · Ballroom.")


@pytest.mark.any_database
def test_the_checklist_is_all_ready_once_the_awards_are_final(app, client, finalised):
    points = _checklist(client, finalised["event"])
    assert points[0] == "4 of 4 ready." and all(p.startswith("check-ok") for p in points[1:])
    assert points[4] == (f"check-ok awards: ✓ Ready: Awards final. Award certificates are printed from the final "
                         f"awards. [/admin/events/{finalised['event']}/awards] See the awards")


@pytest.fixture
def small_inline_limit(app):
    app.config["DOCUMENT_INLINE_PAGES"] = 10
    app.config["DOCUMENT_CHUNK_ITEMS"] = 10
    yield


def test_a_large_batch_renders_in_the_background_with_progress(app, client, admin, small_inline_limit):
    from expo_app.documents.store import wait_for_renders

    app.config["DOCUMENT_JOBS"] = "thread"
    url = f"/admin/events/{admin['event']}"
    response = client.get(f"{url}/print/participation.pdf")  # not issued yet, and 35 pages > 10
    assert response.status_code == 302 and response.headers["Location"].endswith("/print#participation")
    page = client.get(f"{url}/print").get_data(as_text=True)
    assert "Issue and prepare PDF (35 pages)" in page
    response = client.post(f"{url}/print/participation/prepare")
    assert response.status_code == 302 and response.headers["Location"].endswith("/print/participation/status")
    wait_for_renders()
    page = client.get(f"{url}/print/participation/status").get_data(as_text=True)
    assert "Ready" in page and "35 pages" in page and 'http-equiv="refresh"' not in page
    pdf = client.get(f"{url}/print/participation.pdf")
    assert pdf.mimetype == PDF and len(pdf_pages(pdf.data)) == 35


def test_a_running_render_shows_progress_and_a_dead_one_can_be_restarted(app, client, admin, small_inline_limit):
    from datetime import timedelta

    from expo_app.documents.store import queue_render
    from expo_app.models import utcnow

    url = f"/admin/events/{admin['event']}/print/participation"
    with app.app_context():
        event = _event(app, admin["event"])
        queued = queue_render(event, build_batch(event, "participation"), "admin: test")
        document = db.session.get(RenderedDocument, queued.document_id)
        document.state, document.pages_done = "rendering", 20
        db.session.commit()
        document_id = document.id
    page = client.get(f"{url}/status").get_data(as_text=True)
    assert "Rendering 20 of 35 pages" in page and '<meta http-equiv="refresh" content="2">' in page
    assert client.get(f"{url}.pdf").headers["Location"].endswith("/status")
    with app.app_context():
        db.session.get(RenderedDocument, document_id).heartbeat_at = utcnow() - timedelta(minutes=5)
        db.session.commit()
    page = client.get(f"{url}/status").get_data(as_text=True)
    assert "This render stopped (20 of 35 pages)" in page and "Prepare PDF again" in page
    client.post(f"{url}/prepare")
    with app.app_context():
        document = db.session.get(RenderedDocument, document_id)
        assert (document.state, document.pages_done, document.pages_total) == ("ready", 35, 35)


def test_a_failed_render_says_why(app, client, admin, small_inline_limit, monkeypatch):
    from expo_app.documents import store

    def broken(*_a, **_k):
        raise RuntimeError("printer on fire")

    monkeypatch.setattr(store, "render_batch", broken)
    page = client.post(f"/admin/events/{admin['event']}/print/participation/prepare",
                       follow_redirects=True).get_data(as_text=True)
    assert "The render failed: RuntimeError: printer on fire" in page and "Try again" in page


def test_finalising_the_awards_renders_their_certificates_once(app, client, ready_to_finalise, monkeypatch):
    event_id = ready_to_finalise["event"]
    page = client.post(f"/admin/events/{event_id}/awards/finalise", data={"understood": "y"},
                       follow_redirects=True).get_data(as_text=True)
    assert "The awards are final" in page and "Their certificates are being rendered" in page
    with app.app_context():
        kept = db.session.execute(db.select(RenderedDocument).where(RenderedDocument.kind == "certificates")).scalar_one()
        assert kept.state == "ready" and kept.pages_total > 0
        pages = kept.pages_total
    from expo_app.documents import views

    monkeypatch.setattr(views, "render_batch", lambda *_a, **_k: pytest.fail("rendered twice"))
    response = issue_and_get(client, f"/admin/events/{event_id}/print/certificates.pdf")
    assert response.mimetype == PDF and len(pdf_pages(response.data)) == pages


# --- the CLI ------------------------------------------------------------------------------------

@pytest.mark.any_database
def test_cli_prints_every_kind_with_a_progress_bar_and_reuses_kept_pdfs(app, runner, finalised, tmp_path):
    for kind, pages in (("placards", 12), ("badges", 1), ("participation", 35)):
        out = tmp_path / f"{kind}.pdf"
        result = runner.invoke(args=["print", kind, "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert f"Wrote {out}: {pages} page" in result.output
        assert len(pdf_pages(out.read_bytes())) == pages
    result = runner.invoke(args=["print", "certificates", "--out", str(tmp_path / "c.pdf")])
    assert result.exit_code == 0 and "Award certificates" in result.output
    again = runner.invoke(args=["print", "participation", "--out", str(tmp_path / "again.pdf")])
    assert "unchanged since" in again.output
    assert (tmp_path / "again.pdf").read_bytes() == (tmp_path / "participation.pdf").read_bytes()
    with app.app_context():
        judge = db.session.get(Judge, finalised["judges"][2])
        email, name = judge.email, judge.name
    one = runner.invoke(args=["print", "badges", "--judge", email, "--out", str(tmp_path / "one.pdf")])
    assert one.exit_code == 0 and name in pdf_pages((tmp_path / "one.pdf").read_bytes())[0]
    bad = runner.invoke(args=["print", "badges", "--judge", "nobody@x.org", "--out", str(tmp_path / "x.pdf")])
    assert bad.exit_code == 1 and "has no judge with the id or e-mail 'nobody@x.org'" in bad.output


# --- what the review of this feature found ---------------------------------------------------------

def test_the_printing_page_counts_without_issuing_anything(app, client, admin):
    page = " ".join(client.get(f"/admin/events/{admin['event']}/print").get_data(as_text=True).split())
    assert "35 certificates, 35 pages." in page
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(Certificate.id))).scalar() == 0
    client.get(f"/admin/events/{admin['event']}/print/participation")  # a preview only reads: it issues nothing
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(Certificate.id))).scalar() == 0
    issue_and_get(client, f"/admin/events/{admin['event']}/print/participation")
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(Certificate.id))).scalar() == 35


@pytest.fixture
def lock_probe(app, monkeypatch):
    """Makes every render first write through another connection that will not wait for a lock."""
    import sqlalchemy as sa

    from expo_app.documents import store

    url = app.config["SQLALCHEMY_DATABASE_URI"]
    args = {"timeout": 0} if url.startswith("sqlite") else {"options": "-c lock_timeout=100"}
    probe = sa.create_engine(url, connect_args=args)
    writes = []
    real = store.render_pdf

    def render_after_a_write(*a, **k):
        with probe.begin() as conn:  # fails with "database is locked" if the request holds the lock
            conn.execute(sa.text("UPDATE event SET venue = venue"))
        writes.append(True)
        return real(*a, **k)

    monkeypatch.setattr(store, "render_pdf", render_after_a_write)
    yield writes
    probe.dispose()


def test_no_database_lock_is_held_while_pages_are_laid_out(app, client, admin, runner, lock_probe, tmp_path):
    """Judges keep saving scores while a batch renders (on SQLite a held write lock would stop them)."""
    event_url = f"/admin/events/{admin['event']}/print"
    assert issue_and_get(client, f"{event_url}/participation.pdf").status_code == 200
    assert client.get(f"{event_url}/badges.pdf").status_code == 200
    assert client.get(f"/admin/judges/{admin['judges'][0]}/badge.pdf").status_code == 200
    with app.app_context():
        certificate_id = db.session.execute(db.select(Certificate.id)).scalars().first()
    assert client.get(f"/admin/certificates/{certificate_id}.pdf").status_code == 200
    assert runner.invoke(args=["print", "placards", "--out", str(tmp_path / "p.pdf")]).exit_code == 0
    app.config["DOCUMENT_INLINE_PAGES"] = 10
    with app.app_context():  # the kept placards go stale
        team = db.session.get(Team, admin["teams"][0])
        team.project = "A new title"
        db.session.commit()
    client.post(f"{event_url}/placards/prepare")  # the background path (inline in tests)
    assert len(lock_probe) == 6


def test_award_certificates_go_to_the_team_as_it_was_when_finalised(app, client, finalised):
    with app.app_context():
        award = _snapshot_awards(_event(app, finalised["event"]))[0]
        team = db.session.get(Team, award["team_id"])
        before = [m.name for m in team.members]
        save_team(team.event, team, name=team.name, project=team.project, table_number=team.table_number,
                  members=[(m.name, m.email) for m in team.members] + [("Late Joiner", "late@students.example.edu")])
        db.session.commit()
    pages = pdf_pages(issue_and_get(client, f"/admin/events/{finalised['event']}/print/certificates.pdf").data)
    assert not any("Late Joiner" in page for page in pages)
    assert sum(award["category"] in page and award["team"] in page for page in pages) == len(before)


@pytest.mark.any_database
def test_codes_made_under_an_earlier_secret_key_still_verify(app, client, admin):
    issue_and_get(client, f"/admin/events/{admin['event']}/print/participation")
    with app.app_context():
        code = build_batch(_event(app, admin["event"]), "participation").items[0]["code"]
        db.session.commit()
    old_key = app.config["SECRET_KEY"]
    app.config["SECRET_KEY"] = "a-brand-new-secret-key-after-rotation-" + "x" * 16
    assert app.test_client().get(f"/v/{code}").status_code == 404
    app.config["SECRET_KEY_FALLBACKS"] = [old_key]
    page = app.test_client().get(f"/v/{code}").get_data(as_text=True)
    assert "Valid certificate" in page


def test_a_superseded_render_stops_and_leaves_the_row_to_the_newer_one(app, admin):
    from expo_app.documents.store import Queued, queue_render, run_render

    with app.app_context():
        event = _event(app, admin["event"])
        old = queue_render(event, build_batch(event, "participation", issue=False), "admin: first")
        db.session.commit()
        document = db.session.get(RenderedDocument, old.document_id)
        document.heartbeat_at = document.heartbeat_at.replace(year=2000)  # its process died
        db.session.commit()
        new = queue_render(event, build_batch(event, "participation", issue=False), "admin: second")
        db.session.commit()
        assert new is not None and new.claim != old.claim and new.document_id == old.document_id
    run_render(app, old)  # the old worker wakes up: its claim is gone, it does nothing
    with app.app_context():
        document = db.session.get(RenderedDocument, new.document_id)
        assert (document.state, document.claim, document.requested_by) == ("queued", new.claim, "admin: second")
    run_render(app, new)
    with app.app_context():
        document = db.session.get(RenderedDocument, new.document_id)
        assert (document.state, document.pages_total, document.claim) == ("ready", 35, "")
    assert isinstance(new, Queued)

"""Printing at a large expo's size: 200 teams of 3 (600 certificates), 200 placards, 50 badges.

Its own file (the slowest printing test, about 40 s) so that the test workers can run it beside the
other printing tests in tests/integration/test_documents.py."""
from __future__ import annotations

import pytest

from expo_app.admin.operations import save_team
from expo_app.documents.batches import build_batch
from expo_app.extensions import db
from expo_app.models import Certificate, Event
from tests.pdfs import pdf_some_pages


@pytest.fixture
def big_event(app, auth, backend):
    """200 teams of 3 members (600 students) and 50 judges, as at a large expo."""
    from expo_app.admin.operations import create_event, save_judge
    from expo_app.auth.operations import create_or_reset_admin
    from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

    with app.app_context():
        create_or_reset_admin(ADMIN_EMAIL, ADMIN_PASSWORD)
        event = create_event("Capstone Expo 2026")
        for table in range(1, 201):
            save_team(event, None, name=f"Team {table:03d}", project=f"Project number {table}", table_number=table,
                      members=[(f"Student {table}-{i}", f"s{table}-{i}@students.example.edu") for i in range(3)])
        for number in range(50):
            save_judge(event, None, name=f"Judge {number:02d}", email=f"judge{number}@example.com", affiliation="Guest")
        db.session.commit()
        event_id = event.id
    auth.admin()
    return event_id


@pytest.mark.any_database
def test_a_200_team_event_prints_600_certificates_200_placards_and_9_badge_sheets(app, client, big_event):
    url = f"/admin/events/{big_event}/print"
    page = " ".join(client.get(url).get_data(as_text=True).split())
    assert "600 certificates, 600 pages." in page and "200 placards, 200 pages." in page and "50 badges, 9 pages." in page
    # 600 pages is more than a request may take: prepared in the background, then downloaded.
    assert client.get(f"{url}/participation.pdf").status_code == 302
    client.post(f"{url}/participation/prepare")
    count, (first, last) = pdf_some_pages(client.get(f"{url}/participation.pdf").data, 0, -1)
    assert count == 600
    assert "Student 1-0" in first and "Team 001" in first
    assert "Student 200-2" in last and "Project number 200" in last
    with app.app_context():
        codes = {i["code"] for i in build_batch(db.session.get(Event, big_event), "participation").items}
        assert len(codes) == 600 and db.session.execute(db.select(db.func.count(Certificate.id))).scalar() == 600
    client.post(f"{url}/placards/prepare")
    count, (last,) = pdf_some_pages(client.get(f"{url}/placards.pdf").data, -1)
    assert count == 200 and "Team 200" in last
    count, (last,) = pdf_some_pages(client.get(f"{url}/badges.pdf").data, -1)
    assert count == 9 and last.count("Scan to start judging") == 2



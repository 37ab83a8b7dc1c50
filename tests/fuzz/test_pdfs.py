"""Printed matter: a name with markup comes out of the PDF as literal text (few cases: rendering is slow)."""
from __future__ import annotations

import pytest

from expo_app.extensions import db
from expo_app.models import Judge, Team
from tests.pdfs import pdf_pages

NAME = "<script>alert(1)</script>"
STYLE = "</style><style>body{display:none}"


def _text(pdf: bytes) -> str:
    return " ".join(pdf_pages(pdf)).replace(" ", "")


def test_judge_badge_prints_markup_as_text(world):
    with world.app.app_context():
        judge = db.session.get(Judge, world.ids["judges"][0])
        judge.name, judge.affiliation = NAME, STYLE
        db.session.commit()
    response = world.client.get(f"/admin/judges/{world.ids['judges'][0]}/badge.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = _text(response.data)
    assert NAME.replace(" ", "") in text and "body{display:none}" in text, text[:300]


@pytest.mark.parametrize("kind", ["placards"])
def test_placard_prints_markup_as_text(world, kind):
    with world.app.app_context():
        team = db.session.get(Team, world.ids["teams"][0])
        team.name, team.project = NAME, '"><img src=x onerror=alert(1)>'
        db.session.commit()
    response = world.client.get(f"/admin/events/{world.ids['event']}/print/{kind}.pdf")
    assert response.status_code == 200, response.status_code
    text = _text(response.data)
    assert NAME.replace(" ", "") in text and "<imgsrc=xonerror=alert(1)>" in text, text[:300]

"""The organiser's live dashboard refreshes itself in a real browser, without reloading the page."""
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DEMO_ADMIN

pytestmark = pytest.mark.browser


def test_dashboard_updates_itself_when_a_score_arrives(chromium, expo):
    context = chromium.new_context(viewport={"width": 1200, "height": 900}, base_url=expo.base_url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto("/admin/login")
        page.get_by_label("E-mail").fill(DEMO_ADMIN[0])
        page.get_by_label("Password").fill(DEMO_ADMIN[1])
        page.get_by_role("button", name="Sign in").click()
        page.goto(f"/admin/events/{expo.event_id}/dashboard")
        board = page.locator("#board-h + p + *")
        expect(page.locator("#live")).to_contain_text("No complete score sheets yet.")
        page.evaluate("window.__notReloaded = true")
        # An explanation the organiser opened stays open when the dashboard refreshes under it.
        page.get_by_text("What do adjusted, the intervals and P(top 3) mean?").click()
        expect(page.locator("details#help-ranking")).to_have_attribute("open", "")

        def score_drift_busters(session):
            from expo_app.judging.operations import SheetInput, submit_score
            from expo_app.models import Event, Judge, Team

            event = session.get(Event, expo.event_id)
            judge, team = session.get(Judge, expo.judge_ids[0]), session.get(Team, expo.team_ids[0])
            submit_score(judge, team, SheetInput(values={c.id: 4 for c in event.criteria}), "test")
            session.commit()

        expo.read(score_drift_busters)
        expect(board).to_contain_text("Drift Busters", timeout=12_000)
        expect(page.locator("#live-status")).to_have_text(re.compile(r"^Live: updated at"))
        assert page.evaluate("window.__notReloaded") is True
        expect(page.locator("#live")).to_contain_text("1 rated sheet · 12 teams")
        expect(page.locator("details#help-ranking")).to_have_attribute("open", "")
        expect(page.locator("details#help-connectivity")).to_have_count(0)  # no plan, so no connectivity
    finally:
        context.close()

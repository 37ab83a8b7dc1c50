"""WCAG 2.1 AA, checked by axe-core in real Chromium: the judge's pages on a phone, the organiser's
dashboard and the new public pages. Any serious or critical violation fails the test."""
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DEMO_ADMIN

pytestmark = pytest.mark.browser
WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
           "resultTypes": ["violations"]}


def _serious(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page, options=WCAG_AA).response["violations"]
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
            for v in violations if v["impact"] in ("serious", "critical")]


def test_axe_finds_a_planted_violation(phone, expo):
    """The checker itself works (a page with an unlabelled button and an image without text fails)."""
    phone.goto("/")
    phone.evaluate("document.body.insertAdjacentHTML('beforeend', '<button></button><img src=\"/static/favicon.svg\">')")
    assert any(v.startswith("button-name") for v in _serious(phone))


def test_judge_pages_meet_wcag_aa(phone, expo, shots_dir):
    phone.goto(expo.judge_link(0))
    assert _serious(phone) == [], "sign-in"
    phone.get_by_role("button", name="Start judging").click()
    expect(phone).to_have_url(f"{expo.base_url}/judge")
    assert _serious(phone) == [], "judge home"
    phone.goto(expo.team_link(0))
    assert _serious(phone) == [], "scoring form"
    phone.get_by_role("button", name="Submit score").click()  # nothing picked: the errors are shown
    assert _serious(phone) == [], "scoring form with errors"

    def withdraw(session):
        from expo_app.models import Judge, utcnow

        session.get(Judge, expo.judge_ids[0]).revoked_at = utcnow()
        session.commit()

    def restore(session):
        from expo_app.models import Judge

        session.get(Judge, expo.judge_ids[0]).revoked_at = None
        session.commit()

    phone.goto(expo.team_link(1))
    expo.read(withdraw)
    try:
        for group in phone.locator("fieldset.criterion:has(input[type=radio])").all():
            group.locator("input[type=radio]").first.check()
        phone.get_by_role("button", name="Submit score").click()  # kept on the phone, marked "Not saved"
        expect(phone.locator("#sync-state")).to_contain_text("Not saved: Your judge session has ended")
        assert _serious(phone) == [], "scoring form, not saved"
        # The plain form's not-saved page (what a phone without script gets): submit natively.
        # (axe needs script, so this is the scripted phone posting the form itself.)
        with phone.expect_navigation():
            phone.evaluate("document.querySelector('form.score-form').submit()")
        expect(phone.get_by_role("heading", level=1)).to_contain_text("not saved", ignore_case=True)
        phone.screenshot(path=str(shots_dir / "not-saved.png"), full_page=True)
        assert _serious(phone) == [], "not-saved page"
    finally:
        expo.read(restore)


def test_organiser_dashboard_and_public_pages_meet_wcag_aa(chromium, expo, phone):
    context = chromium.new_context(viewport={"width": 1200, "height": 900}, base_url=expo.base_url)
    page = context.new_page()
    try:
        page.goto("/admin/login")
        page.get_by_label("E-mail").fill(DEMO_ADMIN[0])
        page.get_by_label("Password").fill(DEMO_ADMIN[1])
        page.get_by_role("button", name="Sign in").click()
        for path in ("dashboard", "awards", "feedback", "print", "teams", "teams?q=zebra", "judges?q=google",
                     "assignments"):
            page.goto(f"/admin/events/{expo.event_id}/{path}")
            assert _serious(page) == [], path
    finally:
        context.close()

    def feedback_path(session):
        from expo_app.links import feedback_token
        from expo_app.models import Team

        return "/f/" + feedback_token(session.get(Team, expo.team_ids[0]))

    phone.goto(expo.read(feedback_path))
    assert _serious(phone) == [], "team feedback page"
    phone.goto("/v/1-AAAAAAAAAAAAAAAA")
    assert _serious(phone) == [], "certificate verification page"


def test_organiser_set_up_pages_with_their_confirmations_meet_wcag_aa(chromium, expo):
    """The pages whose actions ask for a ticked box (event overview's lock, team and judge pages), and the
    Site settings page, at a laptop's width and a phone's."""
    for viewport in ({"width": 1280, "height": 900}, {"width": 390, "height": 844}):
        context = chromium.new_context(viewport=viewport, base_url=expo.base_url)
        page = context.new_page()
        try:
            page.goto("/admin/login")
            page.get_by_label("E-mail").fill(DEMO_ADMIN[0])
            page.get_by_label("Password").fill(DEMO_ADMIN[1])
            page.get_by_role("button", name="Sign in").click()
            for path in (f"/admin/events/{expo.event_id}", f"/admin/teams/{expo.team_ids[0]}/edit",
                         f"/admin/judges/{expo.judge_ids[0]}/edit", "/admin/settings"):
                page.goto(path)
                assert _serious(page) == [], (path, viewport["width"])
        finally:
            context.close()

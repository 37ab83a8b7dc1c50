"""A shared phone, in real headless Chromium: at sign-out the judge is shown, as plain text to copy,
every sheet the server does not have (team, scores, comment, private note), confirms, and then
nothing of that judge's text is left in the browser: localStorage, sessionStorage, every IndexedDB
database and every Cache Storage cache are searched for it.

The server refuses a sheet as in test_offline.py: scoring closes before the judge submits, so the
phone keeps the sheet marked "Not saved" with the server's reason. Screenshots: /tmp/e2e-shots/signout-*.png.
"""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.phone_helpers import choose, rubric, sheets, sign_in, team_name
from tests.e2e.test_offline import OUTBOX, pick_all, ready_offline, state, tap_submit, until

pytestmark = pytest.mark.browser

SAVED_COMMENT, SAVED_NOTE = "Saved-comment: lovely soldering", "Saved-note: ask about the licence"
REFUSED_COMMENT = "Refused-comment: the demo crashed twice\nbut the idea is strong"
REFUSED_NOTE = "Refused-note: mentor wrote most of the code"
DRAFT_COMMENT = "Draft-comment: unfinished thoughts"
NEEDLES = ["lovely soldering", "about the licence", "crashed twice", "idea is strong", "mentor wrote", "unfinished thoughts"]
CLOSED = "Not saved: Scoring is closed right now. Your score was not saved: ask the organisers' desk."
COMMENT, NOTE = "Comment for the team (optional)", "Private note for the organisers (optional)"

# Everything the page's origin holds in the browser, as text: each storage area and every record of
# every IndexedDB database (not only the one the app opens today) and every cached response's body.
EVERYTHING_STORED = """async () => {
    const out = {local: JSON.stringify(Object.entries(localStorage)),
                 session: JSON.stringify(Object.entries(sessionStorage)), idb: {}, caches: {}};
    for (const info of await indexedDB.databases()) {
        const db = await new Promise((ok, fail) => {
            const r = indexedDB.open(info.name); r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error);
        });
        for (const store of Array.from(db.objectStoreNames)) {
            const rows = await new Promise((ok, fail) => {
                const r = db.transaction(store).objectStore(store).getAll();
                r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error);
            });
            out.idb[info.name + "/" + store] = JSON.stringify(rows);
        }
        db.close();
    }
    for (const name of await caches.keys()) {
        const cache = await caches.open(name);
        const bodies = [];
        for (const request of await cache.keys()) bodies.push(request.url + "\\n" + await (await cache.match(request)).text());
        out.caches[name] = bodies.join("\\n");
    }
    return out;
}"""


def found_in(stored, needles=NEEDLES):
    """{place: [needles found there]} over everything EVERYTHING_STORED returned."""
    places = {"localStorage": stored["local"], "sessionStorage": stored["session"],
              **{f"IndexedDB {k}": v for k, v in stored["idb"].items()},
              **{f"cache {k}": v for k, v in stored["caches"].items()}}
    return {place: hits for place, text in places.items() if (hits := [n for n in needles if n in text])}


def close_scoring(expo, state_name):
    from expo_app.extensions import db
    from expo_app.models import Event

    with expo.app.app_context():
        db.session.get(Event, expo.event_id).scoring_state = state_name
        db.session.commit()


def test_signing_out_shows_the_refused_sheet_to_copy_then_leaves_nothing_of_the_judge(expo, phone, shots_dir):
    from expo_app.models import Team

    page, criteria = phone, rubric(expo)
    names = [name for _c, name, _l in criteria]
    sign_in(page, expo, judge_index=1)
    ready_offline(page)

    # A saved sheet (kept in the outbox as sent, and in the cached copy of its page) ...
    page.goto(expo.team_link(0))
    pick_all(page, criteria, [4, 4, 5, 5])
    page.get_by_label(COMMENT).fill(SAVED_COMMENT)
    page.get_by_label(NOTE).fill(SAVED_NOTE)
    tap_submit(page)
    expect(page.locator("#phone-notice")).to_have_text("Saved: your score for " + team_name(expo, 0))
    page.goto(expo.team_link(0))  # the fresh page, with the saved comment, is now kept for offline use
    expect(page.get_by_label(COMMENT)).to_have_value(SAVED_COMMENT)

    # ... an unfinished one (a draft) ...
    page.goto(expo.team_link(3))
    choose(page, names[0], 2, criteria[0][2][2])
    page.get_by_label(COMMENT).fill(DRAFT_COMMENT)
    until(page, "() => ExpoStore.drafts().then(d => d.some(x => x.fields.some(f => f[1].includes('unfinished'))))")

    # ... and one the server refuses: scoring closes before the judge submits.
    page.goto(expo.team_link(5))
    pick_all(page, criteria, [2, 3, 4, 1])
    page.get_by_label(COMMENT).fill(REFUSED_COMMENT)
    page.get_by_label(NOTE).fill(REFUSED_NOTE)
    close_scoring(expo, "closed")
    try:
        tap_submit(page)
        expect(state(page)).to_have_text(CLOSED)
        stored = page.evaluate(EVERYTHING_STORED)
        assert set(sum(found_in(stored).values(), [])) == set(NEEDLES)  # the search does find the texts

        # Another tab still shows the saved sheet, its comment in the form.
        other_tab = page.context.new_page()
        other_tab.goto(expo.team_link(0))
        expect(other_tab.get_by_label(COMMENT)).to_have_value(SAVED_COMMENT)

        # Sign out: the phone sends first, the server refuses again, and the sign-out page shows the sheet.
        page.goto("/judge")
        page.get_by_role("button", name="Sign out of this phone").tap()
        expect(page).to_have_url(expo.base_url + "/logout")
        review = page.locator("#unsent-review")
        expect(review.get_by_role("heading", level=2)).to_have_text("Not saved: 1 score sheet")
        expect(review.locator(".unsent-summary p")).to_contain_text("Signing out removes it from this phone")
        sheet = review.locator(".unsent-sheet")
        expect(sheet).to_have_count(1)
        expect(sheet.get_by_role("heading", level=3)).to_have_text(team_name(expo, 5))
        expect(sheet.locator(".sync-state")).to_have_text(CLOSED)
        expect(sheet.locator(".unsent-scores li")).to_have_text(
            [f"{name}: {value}" for name, value in zip(names, ["2", "3", "4", "1"])])
        texts = sheet.locator(".copy-text")
        expect(texts).to_have_text([REFUSED_COMMENT, REFUSED_NOTE])
        # Plain text the judge can select and copy (not a form field, not an image).
        assert texts.first.evaluate("e => getComputedStyle(e).userSelect") in ("auto", "text")
        assert page.evaluate("""() => { const p = document.querySelector('.copy-text'); const r = document.createRange();
            r.selectNodeContents(p); const s = getSelection(); s.removeAllRanges(); s.addRange(r); return s.toString(); }""") \
            == REFUSED_COMMENT
        button = page.get_by_role("button", name="Remove this unsaved sheet and sign out")
        expect(button).to_be_visible()
        expect(page.get_by_role("link", name="Stay signed in")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        for target in (button, page.get_by_role("link", name="Stay signed in")):
            box = target.bounding_box()
            assert box["height"] >= 44 and box["width"] >= 44
        page.evaluate("getSelection().removeAllRanges()")
        page.screenshot(path=str(shots_dir / "signout-review.png"), full_page=True)
        page.screenshot(path="/tmp/signout.png", full_page=True)
        # Nothing gone yet (the other tab may be sending the refused sheet again right now).
        assert sorted(i["code"] for i in page.evaluate(OUTBOX)) == sorted(
            expo.read(lambda s: [s.get(Team, expo.team_ids[n]).code for n in (0, 5)]))

        button.tap()  # the judge confirms
        expect(page).to_have_url(expo.base_url + "/")
        expect(page.locator(".flash")).to_have_text("You are signed out.")
        # The other tab shows the sheet no more (and asks the server nothing).
        expect(other_tab.get_by_role("heading", level=1)).to_have_text("Signed out")
        expect(other_tab.locator("textarea")).to_have_count(0)
    finally:
        close_scoring(expo, "open")

    # Nothing of that judge's text is left anywhere the browser keeps things for this site.
    stored = page.evaluate(EVERYTHING_STORED)
    assert "expo-judge/outbox" in stored["idb"] and "expo-judge/drafts" in stored["idb"]  # searched, not missed
    assert found_in(stored) == {}
    assert page.evaluate(OUTBOX) == [] and page.evaluate("() => ExpoStore.drafts()") == []
    assert not any(name.startswith("expo-pages-") for name in stored["caches"])
    # The saved sheet is on the server; the refused one never was.
    [saved] = sheets(expo, 1, 0)
    assert saved["comment"] == SAVED_COMMENT and sheets(expo, 1, 5) == []
    # Back does not bring the list back: the sign-out page was replaced, and it is never cached.
    page.go_back()
    expect(page.locator(".copy-text")).to_have_count(0)
    assert found_in(page.evaluate(EVERYTHING_STORED)) == {}


def test_staying_signed_in_keeps_the_sheet_and_an_offline_sign_out_removes_nothing(expo, phone, network):
    page, criteria = phone, rubric(expo)
    sign_in(page, expo, judge_index=2)
    ready_offline(page)
    page.goto(expo.team_link(5))
    pick_all(page, criteria, [2, 2, 3, 3])
    page.get_by_label(NOTE).fill(REFUSED_NOTE)
    close_scoring(expo, "closed")
    try:
        tap_submit(page)
        expect(state(page)).to_have_text(CLOSED)
        page.goto("/judge")
        page.get_by_role("button", name="Sign out of this phone").tap()
        expect(page).to_have_url(expo.base_url + "/logout")
        expect(page.locator(".unsent-sheet .copy-text")).to_have_text([REFUSED_NOTE])
        expect(page.locator(".unsent-sheet .muted")).to_have_text(["(none)"])  # no comment was written
        page.get_by_role("link", name="Stay signed in").tap()
        expect(page).to_have_url(expo.base_url + "/judge")
        [item] = page.evaluate(OUTBOX)  # nothing removed without the judge's yes
        assert item["state"] != "sent" and item["fields"] and any(f[1] == REFUSED_NOTE for f in item["fields"])

        # No network: nothing is removed, and the judge stays signed in.
        network.off()
        page.get_by_role("button", name="Sign out of this phone").tap()
        expect(page.locator("#phone-notice")).to_contain_text("No network: signing out needs the network. Nothing was removed")
        network.on()  # the sheet is still there, and is refused again (scoring is still closed)
        until(page, "() => ExpoStore.items().then(i => i.length === 1 && i[0].state === 'refused')", 25)
    finally:
        close_scoring(expo, "open")

    # Scoring opens again: the sheet goes at sign-out (send first), so nothing is left to confirm.
    page.get_by_role("button", name="Sign out of this phone").tap()
    expect(page.locator(".flash")).to_have_text("You are signed out.")
    assert sorted(sheets(expo, 2, 5)[0]["values"].values()) == [2, 2, 3, 3]
    assert found_in(page.evaluate(EVERYTHING_STORED)) == {}


def test_the_sign_out_page_works_without_script(expo, plain_phone):
    page = plain_phone
    page.goto(expo.judge_link(0))
    page.get_by_role("button", name="Start judging").tap()
    expect(page).to_have_url(expo.base_url + "/judge")
    page.goto("/logout")  # a GET shows the page and signs nobody out
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign out of this phone")
    page.goto("/judge")
    expect(page).to_have_url(expo.base_url + "/judge")
    page.goto("/logout")
    page.get_by_role("button", name="Sign out").tap()
    expect(page.locator(".flash")).to_have_text("You are signed out.")
    page.goto("/logout")  # nobody signed in: the landing page
    expect(page).to_have_url(expo.base_url + "/")


def test_the_sign_out_page_meets_wcag_aa_and_fits_a_360_px_screen(chromium, expo, shots_dir):
    """A sheet the server finds wrong (a comment over 4,000 characters, one unbroken word: the phone's own
    checks let it through): refused for good (422), so the page offers to correct it instead."""
    from tests.e2e.test_accessibility import _serious

    context = chromium.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
                                   base_url=expo.base_url)
    try:
        page, criteria = context.new_page(), rubric(expo)
        sign_in(page, expo, judge_index=3)
        page.goto(expo.team_link(2))
        pick_all(page, criteria, [5, 4, 3, 2])
        page.get_by_label(COMMENT).evaluate("(e, v) => { e.value = v; e.dispatchEvent(new Event('input', {bubbles: true})); }",
                                            "x" * 4001)
        tap_submit(page)
        expect(state(page)).to_contain_text("Not saved: Comment for the team (optional): ")
        page.goto("/judge")
        page.get_by_role("button", name="Sign out of this phone").tap()
        expect(page).to_have_url(expo.base_url + "/logout")
        sheet = page.locator(".unsent-sheet")
        expect(sheet.locator(".copy-text")).to_have_text(["x" * 4001])
        fix = sheet.get_by_role("link", name="Correct this sheet instead")
        targets = [fix, page.get_by_role("button", name="Remove this unsaved sheet and sign out"),
                   page.get_by_role("link", name="Stay signed in")]
        for target in targets:
            box = target.bounding_box()
            assert box["height"] >= 44 and box["width"] >= 44 and box["x"] >= 0 and box["x"] + box["width"] <= 360
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        assert _serious(page) == []
        page.screenshot(path=str(shots_dir / "signout-360.png"))
        fix.tap()  # the judge corrects it instead: the sheet is still on the phone, in the form
        expect(page).to_have_url(expo.team_link(2))
        expect(page.get_by_label(COMMENT)).to_have_value("x" * 4001)
    finally:
        context.close()

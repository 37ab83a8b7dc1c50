"""The judge's path on a phone, in real headless Chromium: badge link, team QR code, score sheet.

The plain form is tested with script off (it must work alone); test_offline.py covers the phone's
script: drafts, the outbox and the service worker.

Each test starts from the freshly seeded demo expo (12 teams, 6 judges, 4 criteria on 1-5, scoring
open, no scores) with CSRF protection on; see conftest.py. Screenshots go to /tmp/e2e-shots.
"""
from __future__ import annotations

import os
import re

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # a test extra; CI installs it, so there it must not be silently skipped
    if os.environ.get("CI"):
        raise
    pytest.skip("browser tests need the playwright package (pip install -e '.[test]')", allow_module_level=True)

pytestmark = pytest.mark.browser

PHONE_WIDTH = 390
MIN_TOUCH = 44


from tests.e2e.phone_helpers import (choose, criterion_group, expect_flashes, judge_name, rubric,  # noqa: E402
                                    score_count, sheets, sign_in, submit, team_name)


# ------------------------------------------------------------------------------------------- tests


def test_whole_judge_path_scores_once_and_revises_in_place(expo, plain_phone, shots_dir):
    # The plain form, with no script at all: it must work on its own (the script only adds to it).
    page = plain_phone
    criteria = rubric(expo)
    assert [len(levels) for _id, _n, levels in criteria] == [5, 5, 5, 5]
    judge, team = judge_name(expo, 0), team_name(expo, 0)

    # The badge link shows whose badge it is and asks for a deliberate tap.
    page.goto(expo.judge_link(0))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Welcome, {judge}")
    page.screenshot(path=str(shots_dir / "1-sign-in.png"), full_page=True)
    page.get_by_role("button", name="Start judging").tap()

    expect(page).to_have_url(expo.base_url + "/judge")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Hello, {judge}")
    expect(page.locator(".status-line")).to_have_text("0 of 12 teams scored · scoring is open")
    expect(page.locator(".team-list li")).to_have_count(12)
    page.screenshot(path=str(shots_dir / "2-judge-home.png"), full_page=True)

    # The phone's camera opens the absolute URL printed in the team's QR code.
    team_link = expo.team_link(0)
    assert team_link.startswith(expo.base_url + "/t/")
    page.goto(team_link)
    expect(page.get_by_role("heading", level=1)).to_have_text(team)
    expect(page.locator(".saved-state")).to_have_text("Not scored yet.")

    # One fieldset per criterion, legend = the criterion's name, then Comments and the opt-outs.
    legends = page.locator("fieldset.criterion > legend").evaluate_all(
        "els => els.map(e => e.firstChild.textContent.trim())")
    assert legends == [name for _i, name, _l in criteria] + ["Comments", "Instead of a score"]
    for _cid, name, levels in criteria:
        group = criterion_group(page, name)
        expect(group.locator("input[type=radio]")).to_have_count(5)
        for level, text in levels.items():
            row = group.locator("label.level").filter(has=page.locator(f'input[value="{level}"]'))
            expect(row.locator(".level-num")).to_have_text(str(level))
            expect(row.locator(".level-text")).to_have_text(text)
            expect(row.locator(".level-text")).to_be_visible()
        assert group.locator("input[type=radio]:checked").count() == 0
    page.screenshot(path=str(shots_dir / "3-score-form.png"), full_page=True)

    chosen = dict(zip([name for _i, name, _l in criteria], [4, 3, 5, 2]))
    for _cid, name, levels in criteria:
        choose(page, name, chosen[name], levels[chosen[name]])
    comment = "Clear demo; show the drift alert firing live next time."
    comment_box = page.get_by_label("Comment for the team (optional)")
    comment_box.tap()
    comment_box.press_sequentially(comment)
    submit(page, 302)

    expect(page).to_have_url(team_link + "?saved=1")  # the page after a save: no new visit, and where next
    expect_flashes(page, f"Saved: your score for {team}")
    expect(page.locator(".next-card .next")).to_contain_text("Next: table")
    saved = page.locator(".saved-state")
    expect(saved.locator("strong")).to_have_text("Saved")
    # (4-1)/4, (3-1)/4, (5-1)/4, (2-1)/4 -> mean 0.625 -> 62.5 points
    expect(saved).to_contain_text("· 62.5 / 100.")
    expect(saved).to_contain_text("You can change it until scoring is locked.")
    page.screenshot(path=str(shots_dir / "4-saved.png"), full_page=True)
    # The sheet comes back filled in, ready to revise.
    for _cid, name, _l in criteria:
        expect(criterion_group(page, name).locator("input:checked")).to_have_value(str(chosen[name]))
    expect(page.get_by_label("Comment for the team (optional)")).to_have_value(comment)

    [sheet] = sheets(expo, 0, 0)
    assert sheet["values"] == chosen
    assert sheet["comment"] == comment
    assert (sheet["revision"], sheet["absent"], sheet["conflict"]) == (1, False, False)
    assert [a[0] for a in sheet["audit"]] == ["created"]
    assert score_count(expo) == (1, 4)

    # A second tap on Submit with nothing changed (a double tap, a retry) changes nothing.
    submit(page, 302)
    expect_flashes(page, f"Already saved, nothing changed: {team}")
    [again] = sheets(expo, 0, 0)
    assert again == sheet

    # Changing one level revises the same sheet: still one row, revision 2, a second audit entry.
    _cid, first, first_levels = criteria[0]
    choose(page, first, 1, first_levels[1])
    submit(page, 302)
    expect_flashes(page, f"Saved: your score for {team}")
    expect(page.locator(".saved-state")).to_contain_text("· 43.8 / 100.")  # (0 + .5 + 1 + .25) / 4
    [revised] = sheets(expo, 0, 0)
    assert revised["values"] == {**chosen, first: 1}
    assert revised["comment"] == comment
    assert revised["revision"] == 2
    assert [a[0] for a in revised["audit"]] == ["created", "updated"]
    old, new = revised["audit"][1][1], revised["audit"][1][2]
    assert (old["values"][first], new["values"][first]) == (4, 1)
    assert score_count(expo) == (1, 4)

    page.goto("/judge")
    expect(page.locator(".status-line")).to_have_text("1 of 12 teams scored · scoring is open")


def test_missing_criterion_is_named_in_its_fieldset_and_keeps_other_choices(expo, plain_phone, shots_dir):
    page = plain_phone  # the server's answer to a plain form (test_offline.py: the same words from the script)
    criteria = rubric(expo)
    sign_in(page, expo, judge_index=1)
    page.goto(expo.team_link(2))

    skipped = criteria[2][1]
    picks = {name: 5 - i for i, (_cid, name, _l) in enumerate(criteria) if name != skipped}
    for _cid, name, levels in criteria:
        if name in picks:
            choose(page, name, picks[name], levels[picks[name]])
    page.get_by_label("Comment for the team (optional)").fill("Half-finished sheet")
    submit(page, 422)

    expect(page.locator(".form-errors p")).to_have_text(
        "Your score was not saved. Fix the highlighted parts and submit again.")
    # The banner links to the fieldset that needs attention (it may be far down a phone screen).
    jump = page.locator(".form-errors a")
    expect(jump).to_have_text(skipped)
    jump.click()
    expect(page).to_have_url(re.compile(r"#crit-\d+$"))
    missing = criterion_group(page, skipped)
    expect(missing).to_have_class(re.compile(r"\bhas-error\b"))
    # ...and it is visibly marked, not only by class: a red border.
    assert missing.evaluate("e => getComputedStyle(e).borderTopColor") == "rgb(153, 27, 27)"
    expect(missing.locator(".error")).to_have_text(f"Choose a score for {skipped} (1–5).")
    expect(missing.locator(".error")).to_be_visible()
    expect(missing).to_have_attribute("aria-describedby", missing.locator(".error").get_attribute("id"))
    expect(missing.locator("input:checked")).to_have_count(0)
    # Only the skipped criterion complains, and nothing the judge chose was lost.
    expect(page.locator("fieldset.criterion .error")).to_have_count(1)
    for name, level in picks.items():
        expect(criterion_group(page, name).locator("input:checked")).to_have_value(str(level))
    expect(page.get_by_label("Comment for the team (optional)")).to_have_value("Half-finished sheet")
    expect(page.locator(".saved-state")).to_have_text("Not scored yet.")
    page.screenshot(path=str(shots_dir / "5-missing-criterion.png"), full_page=True)

    assert sheets(expo, 1, 2) == []
    assert score_count(expo) == (0, 0)


def test_loading_the_sign_in_link_alone_signs_nobody_in(expo, phone):
    from expo_app.models import JudgeSignIn

    page = phone
    response = page.goto(expo.judge_link(3))
    assert response.status == 200
    expect(page.get_by_role("button", name="Start judging")).to_be_visible()

    response = page.goto("/judge")
    assert response.status == 401
    expect(page.get_by_role("heading", level=1)).to_have_text("Please sign in as a judge")
    # A team's code, too, shows only the public team card to a phone that never pressed the button.
    page.goto(expo.team_link(0))
    expect(page.get_by_role("button", name="Submit score")).to_have_count(0)
    expect(page.locator(".notice")).to_contain_text("Scan the QR code on your judge badge first")
    assert expo.read(lambda s: s.query(JudgeSignIn).count()) == 0


def test_touch_targets_are_thumb_sized_and_nothing_scrolls_sideways(expo, phone):
    page = phone

    def no_horizontal_scroll(where):
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE_WIDTH, f"{where}: page is {width}px wide on a {PHONE_WIDTH}px phone"

    page.goto(expo.judge_link(2))
    no_horizontal_scroll("sign-in page")
    page.get_by_role("button", name="Start judging").tap()
    expect(page).to_have_url(expo.base_url + "/judge")
    no_horizontal_scroll("judge home")
    next_box = page.locator(".next a").bounding_box()
    assert next_box["height"] >= MIN_TOUCH, f"the 'Next' link is {next_box['height']:.0f}px tall"
    page.goto(expo.team_link(4))
    no_horizontal_scroll("scoring form")

    radio_labels = page.locator("label:has(input[type=radio])")
    expect(radio_labels).to_have_count(20)
    targets = [("radio label " + (lab.inner_text().splitlines() or ["?"])[0], lab) for lab in radio_labels.all()]
    targets += [(f"checkbox label {i}", lab) for i, lab in enumerate(page.locator("label.check").all())]
    targets.append(("Submit score button", page.get_by_role("button", name="Submit score")))
    too_small = []
    for what, locator in targets:
        box = locator.bounding_box()
        assert box is not None, f"{what} is not rendered"
        if box["height"] < MIN_TOUCH or box["width"] < MIN_TOUCH:
            too_small.append(f"{what}: {box['width']:.0f}x{box['height']:.0f}")
        if box["x"] < 0 or box["x"] + box["width"] > PHONE_WIDTH:
            too_small.append(f"{what} sticks out of the screen: x={box['x']:.0f} w={box['width']:.0f}")
    assert too_small == []
    # The checkbox sits beside its text (not above it in bold).
    assert page.locator("label.check").first.evaluate("e => getComputedStyle(e).display") == "flex"


def test_the_submit_bar_counts_picks_and_stays_within_reach(phone, expo, shots_dir):
    phone.goto(expo.judge_link(0))
    phone.get_by_role("button", name="Start judging").click()
    phone.goto(expo.team_link(2))
    bar = phone.locator(".submit-bar")
    expect(bar.locator("#picked")).to_have_text("0 of 4 criteria picked")
    groups = phone.locator("fieldset.criterion:has(input[type=radio])")
    for index in range(3):
        groups.nth(index).locator("input[type=radio]").first.check()
    expect(bar.locator("#picked")).to_have_text("3 of 4 criteria picked")
    box = bar.bounding_box()  # at the top of the form, the bar already sits at the bottom of the screen
    assert box is not None and box["y"] + box["height"] <= 844 + 1 and box["height"] >= 44
    phone.screenshot(path=str(shots_dir / "submit-bar.png"))
    phone.get_by_label("Team absent: nobody was at the table").check()
    expect(bar.locator("#picked")).to_have_text("No levels needed: team absent")


def test_the_judge_pages_fit_a_360_px_screen(chromium, expo, shots_dir):
    """The smallest phones in use: nothing scrolls sideways and the submit bar keeps its buttons on screen."""
    context = chromium.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
                                   base_url=expo.base_url)
    try:
        page = context.new_page()
        sign_in(page, expo, judge_index=3)
        for url in ("/judge", expo.team_link(3)):
            page.goto(url)
            assert page.evaluate("document.documentElement.scrollWidth") <= 360, url
        bar = page.locator(".submit-bar")
        for part in (bar.locator("#sync-state"), bar.locator("#picked"), bar.get_by_role("button", name="Submit score")):
            box = part.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 360 and box["y"] + box["height"] <= 740
        page.screenshot(path=str(shots_dir / "score-form-360.png"))
    finally:
        context.close()

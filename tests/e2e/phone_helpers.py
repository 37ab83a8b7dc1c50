"""Helpers for the browser tests of the judge's phone (shared by the plain-form and offline tests)."""
from __future__ import annotations

import re

from playwright.sync_api import expect

def rubric(expo):
    """The event's criteria in form order: [(id, name, {level: descriptor})]."""
    from expo_app.judging.operations import event_criteria

    return expo.read(lambda _s: [(c.id, c.name, {lv.low: lv.text for lv in c.levels})
                                 for c in event_criteria(expo.event_id)])


def team_name(expo, index):
    from expo_app.models import Team

    return expo.read(lambda s: s.get(Team, expo.team_ids[index]).name)


def judge_name(expo, index):
    from expo_app.models import Judge

    return expo.read(lambda s: s.get(Judge, expo.judge_ids[index]).name)


def sheets(expo, judge_index, team_index):
    """Every Score row for (judge, team) as plain data, with its audit trail."""
    from expo_app.models import Score, ScoreAudit

    def read(s):
        rows = s.query(Score).filter_by(judge_id=expo.judge_ids[judge_index],
                                        team_id=expo.team_ids[team_index]).all()
        out = []
        for score in rows:
            audits = s.query(ScoreAudit).filter_by(score_id=score.id).order_by(ScoreAudit.id).all()
            out.append({"values": score.values_by_name(), "comment": score.comment, "revision": score.revision,
                        "absent": score.absent, "conflict": score.conflict,
                        "audit": [(a.action, a.old, a.new) for a in audits]})
        return out

    return expo.read(read)


def score_count(expo):
    from expo_app.models import Score, ScoreValue

    return expo.read(lambda s: (s.query(Score).count(), s.query(ScoreValue).count()))


def criterion_group(page, name):
    """The fieldset of one criterion (its legend starts with the criterion's name)."""
    return page.locator("fieldset.criterion").filter(
        has=page.locator("legend", has_text=re.compile("^" + re.escape(name))))


def sign_in(page, expo, judge_index=0):
    """Open the badge link and press Start judging; ends on the judge's home page."""
    page.goto(expo.judge_link(judge_index))
    page.get_by_role("button", name="Start judging").tap()
    expect(page).to_have_url(expo.base_url + "/judge")


def choose(page, name, level, descriptor):
    """Pick a level the way a thumb does: tap the descriptor text inside the criterion's fieldset."""
    group = criterion_group(page, name)
    group.get_by_text(descriptor, exact=True).tap()
    expect(group.locator(f'input[type=radio][value="{level}"]')).to_be_checked()


def submit(page, expect_status):
    """Tap Submit score; check the POST's status and wait until the page it leads to has loaded."""
    with page.expect_navigation(), page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Submit score").tap()
    assert posted.value.status == expect_status


def expect_flashes(page, *texts):
    expect(page.locator(".flash")).to_have_text(list(texts))



"""Plain-language help next to the organisers' jargon (ICC, reliability, intervals, P(top 3),
connectivity, seed): shown where the term is, and true to what expo_app/scoring/ computes."""
from __future__ import annotations

import re

import pytest

from expo_app.extensions import db
from expo_app.judging.operations import SheetInput, submit_score
from expo_app.models import Event, Judge, Team
from expo_app.scoring.ranking import DEFAULT_DRAWS, INTERVAL_LEVEL, TOP_K

pytestmark = pytest.mark.any_database  # words on pages, from numbers the pure engine computes


@pytest.fixture
def scored(app, demo, auth):
    """Judges 0-3 scored teams 0-3 (team i gets 5 - i, judge 3 one level lower): a ranking with reliability figures."""
    with app.app_context():
        event = db.session.get(Event, demo["event"])
        for j in range(4):
            for t in range(4):
                level = max(1, 5 - t - (j == 3))
                submit_score(db.session.get(Judge, demo["judges"][j]), db.session.get(Team, demo["teams"][t]),
                             SheetInput(values={c.id: level for c in event.criteria}), "test")
        db.session.commit()
    auth.admin()
    return demo


def _details(page: str, help_id: str) -> tuple[str, str]:
    """(summary, text) of the <details id=help_id>, tags removed and whitespace folded."""
    match = re.search(rf'<details class="help" id="{help_id}">\s*<summary>(.*?)</summary>(.*?)</details>', page, re.S)
    assert match, help_id
    return tuple(" ".join(re.sub(r"<[^>]+>", "", part).split()) for part in match.groups())


def test_the_words_match_the_engine():
    """The help says 1,000 draws, 90 % intervals and the top 3: so does the code."""
    assert (DEFAULT_DRAWS, INTERVAL_LEVEL, TOP_K) == (1000, 0.90, 3)


def test_the_dashboard_explains_icc_reliability_the_intervals_and_p_top_3(client, scored):
    url = f"/admin/events/{scored['event']}/dashboard"
    page = client.get(url).get_data(as_text=True)
    assert "inter-rater agreement ICC(1)" in page
    summary, text = _details(page, "help-reliability")
    assert summary == "What are reliability and ICC?"
    assert text.startswith("ICC(1) (intraclass correlation): the share of the differences between score sheets that "
                           "comes from real differences between the teams rather than from who judged them.")
    assert ("Raw is computed on the sheets as they are, where a harsh or a lenient judge counts as disagreement; "
            "after the judge correction, once each judge's leniency and use of the scale are taken out") in text
    assert "Reliability of a team's adjusted score: the same idea for a team's whole score" in text
    summary, text = _details(page, "help-ranking")
    assert summary == "What do adjusted, the intervals and P(top 3) mean?"
    assert "1,000 plausible versions of the results are drawn from the model fitted to the judges' sheets; in 90 of " \
           "every 100 the team's adjusted score falls inside this range." in text
    assert "P(top 3): in how many of those 1,000 draws the team came out among the first three." in text
    # The live part is swapped in by dashboard.js: the same help comes with it (ids kept, to stay open).
    html = client.get(url + ".json").get_json()["html"]
    assert 'id="help-reliability"' in html and 'id="help-ranking"' in html


def test_connectivity_and_seed_are_explained_where_the_plan_shows_them(client, scored):
    plan_url = f"/admin/events/{scored['event']}/assignments"
    page = client.get(plan_url).get_data(as_text=True)
    assert 'id="help-connectivity"' not in page  # no plan yet, no connectivity shown
    summary, text = _details(page, "help-seed")
    assert summary == "What is the seed?"
    assert ("The seed is the number those draws start from: the same seed, with the same teams, judges, conflicts and "
            "scored visits, gives exactly the same plan again") in text
    client.post(f"{plan_url}/plan", data={"mode": "new", "per_team": 3, "seed": 7})
    page = client.get(plan_url).get_data(as_text=True)
    assert "with seed 7" in page
    summary, text = _details(page, "help-connectivity")
    assert summary == "What is connectivity?"
    assert "0 means it falls apart into separate groups of judges who only ever see their own group's teams" in text
    dashboard = client.get(f"/admin/events/{scored['event']}/dashboard").get_data(as_text=True)
    assert "connectivity" in dashboard and _details(dashboard, "help-connectivity")[0] == "What is connectivity?"


def test_the_awards_page_explains_its_intervals_and_a_close_call(client, scored):
    page = client.get(f"/admin/events/{scored['event']}/awards").get_data(as_text=True)
    summary, text = _details(page, "help-ranking")
    assert summary == "What do adjusted, the intervals and a close call mean?"
    assert "P(top 3)" not in text  # not on this page
    assert ("A close call: the suggested team's rank interval holds another place than its own, so the scores cannot "
            "tell it apart from a neighbour with confidence.") in text

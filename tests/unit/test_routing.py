"""Live routing (expo_app.scoring.routing): the value of one more score, and the choice of the next team."""
from __future__ import annotations

import pytest

from expo_app.scoring.grades import SYLLABUS_SCALE
from expo_app.scoring.routing import (TeamState, boundaries_in_points, choose_next, decision_uncertainty,
                                      team_values)


def state(team="t", score=50.0, low=40.0, high=60.0, p_top3=0.0, sheets=2):
    return TeamState(team, score, low, high, p_top3, sheets)


@pytest.mark.parametrize("st, boundaries, expected", [
    (state(p_top3=0.5), [], 0.25),                      # a coin flip for the top 3
    (state(p_top3=1.0), [], 0.0),                       # surely in the top 3
    (state(score=50.0), [50.0], 0.25),                  # sitting on a letter boundary
    (state(score=90.0, low=89.0, high=91.0), [50.0], 0.0),  # far above it, with a narrow interval
    (state(p_top3=0.5, score=50.0), [50.0], 0.5),       # both
])
def test_decision_uncertainty(st, boundaries, expected):
    assert decision_uncertainty(st, boundaries) == pytest.approx(expected, abs=1e-6)


def test_one_more_score_helps_a_team_with_few_sheets_more():
    values = team_values([state("a", sheets=1, p_top3=0.5), state("b", sheets=3, p_top3=0.5)], [], all_teams=["a", "b", "c"])
    assert values["a"] == pytest.approx(0.25 / 2) and values["b"] == pytest.approx(0.25 / 12)
    assert values["c"] > values["a"]  # a team nobody has scored comes first


def test_choose_next_avoids_crowds_and_long_walks():
    where = {"near": (1.0, 0.0), "far": (40.0, 0.0), "busy": (2.0, 0.0)}
    values = {"near": 1.0, "far": 1.0, "busy": 5.0}
    here = (0.0, 0.0)
    assert choose_next(["busy", "near", "far"], values, here=here, where=where, opened_recently={"busy": 2}) == "near"
    assert choose_next(["busy", "near", "far"], values, here=here, where=where, opened_recently={}) == "busy"
    # Everything crowded: the least crowded.
    assert choose_next(["busy", "near"], values, here=here, where=where,
                       opened_recently={"busy": 3, "near": 2}) == "near"
    # Equal appeal: the plan's order decides.
    assert choose_next(["far", "near"], {"far": 1.0, "near": 1.0}, here=None, where=where, opened_recently={}) == "far"
    assert choose_next([], values, here=here, where=where, opened_recently={}) is None


def test_letter_boundaries_in_points():
    assert boundaries_in_points(SYLLABUS_SCALE) == [94.0, 88.0, 82.0, 76.0, 70.0, 64.0, 58.0, 52.0]

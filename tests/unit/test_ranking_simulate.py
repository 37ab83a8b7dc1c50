"""The expo simulator behind bench/ranking.py: deterministic, well-formed, and its metrics."""
import numpy as np
import pytest

from expo_app.scoring.simulate import (Scenario, assign, kendall_tau, oracle_scores, simulate_expo,
                                       top_k_precision)


def test_same_seed_same_expo_other_seed_other_expo():
    scenario = Scenario("s", n_teams=10, n_judges=4, judges_per_team=2)
    assert simulate_expo(scenario, 1).scores == simulate_expo(scenario, 1).scores
    assert simulate_expo(scenario, 1).scores != simulate_expo(scenario, 2).scores


@pytest.mark.parametrize("assignment", ["balanced", "banded"])
def test_assignments_give_every_team_its_judges(assignment):
    scenario = Scenario("s", n_teams=40, n_judges=12, judges_per_team=4, assignment=assignment)
    pairs = assign(scenario, np.random.default_rng(0))
    per_team = np.bincount([t for _, t in pairs], minlength=40)
    per_judge = np.bincount([j for j, _ in pairs], minlength=12)
    assert len(set(pairs)) == len(pairs)
    if assignment == "balanced":
        assert set(per_team) == {4} and per_judge.max() - per_judge.min() <= 1
    else:
        assert per_team.min() >= 2 and set(per_judge) == {14}


def test_sheets_are_whole_numbers_on_one_to_five_with_four_criteria():
    expo = simulate_expo(Scenario("s", random_judges=1, flat_judges=1), 0)
    assert {row["score"] for row in expo.scores} <= {1, 2, 3, 4, 5}
    assert len(expo.scores) == 4 * 40 * 4
    assert sorted(j.kind for j in expo.judges.values()).count("random") == 1


@pytest.mark.parametrize("estimate, expected", [
    ({"a": 1, "b": 2, "c": 3}, 1.0),
    ({"a": 3, "b": 2, "c": 1}, -1.0),
    ({"a": 1, "b": 3, "c": 2}, 1 / 3),
])
def test_kendall_tau(estimate, expected):
    assert kendall_tau(estimate, {"a": 0.1, "b": 0.2, "c": 0.3}) == pytest.approx(expected)


def test_top_k_precision():
    truth = {"a": 5, "b": 4, "c": 3, "d": 2}
    assert top_k_precision({"a": 1, "b": 2, "c": 3, "d": 4}, truth, k=2) == 0.0
    assert top_k_precision({"a": 4, "b": 1, "c": 3, "d": 2}, truth, k=2) == 0.5


def test_oracle_beats_chance():
    expo = simulate_expo(Scenario("s"), 0)
    assert kendall_tau(oracle_scores(expo), expo.true_quality) > 0.6

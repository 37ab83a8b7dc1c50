"""The assignment plan (expo_app.scoring.assignment): coverage, balance, conflicts, connectivity,
walking, determinism, honest shortfalls, and re-planning that keeps scored work."""
from __future__ import annotations

import random
from collections import Counter

import pytest

from expo_app.scoring.assignment import (PlanJudge, PlanTeam, algebraic_connectivity, company_key, conflicted,
                                         line_layout, order_walk, plan_assignments, rows_layout, split_companies,
                                         walk_length)


def expo(n_teams=20, n_judges=8, companies=None, affiliations=None):
    teams = [PlanTeam(f"t{i}", i, split_companies((companies or {}).get(i, ""))) for i in range(1, n_teams + 1)]
    judges = [PlanJudge(f"j{i}", (affiliations or {}).get(i, "")) for i in range(1, n_judges + 1)]
    return teams, judges


def test_every_team_gets_k_judges_and_loads_differ_by_at_most_one():
    teams, judges = expo(23, 9)
    plan = plan_assignments(teams, judges, 4, seed=1)
    assert {len(js) for js in plan.per_team.values()} == {4}
    assert sorted(set(plan.loads.values())) == [10, 11]  # 92 visits over 9 judges
    assert sum(plan.loads.values()) == 92 and plan.shortfalls == [] and plan.notes == []
    for judge, teams_of in plan.lists.items():
        assert len(teams_of) == len(set(teams_of))
        assert all(judge in plan.per_team[t] for t in teams_of)


@pytest.mark.parametrize("affiliation, company, clash", [
    ("Google Cloud", "Google Cloud, Inc.", True),
    ("google cloud", "Acme; Google Cloud", True),
    ("Google", "Google Cloud", False),
    ("", "", False),
    ("Acme Corp.", "ACME", True),
])
def test_an_affiliation_matching_a_listed_company_is_a_conflict(affiliation, company, clash):
    judge, team = PlanJudge("j", affiliation), PlanTeam("t", 1, split_companies(company))
    assert conflicted(judge, team, set()) is clash


def test_company_names_compare_without_case_punctuation_or_legal_suffix():
    assert company_key("  Google Cloud, Inc. ") == company_key("google-cloud") == "google cloud"
    assert split_companies("Acme; Beta Labs, Gamma") == ("Acme", "Beta Labs", "Gamma")


def test_conflicts_are_never_violated():
    companies = {i: "Acme" for i in range(1, 8)} | {i: "Beta; Gamma" for i in range(8, 12)}
    teams, judges = expo(20, 8, companies, {1: "Acme", 2: "Acme Inc", 3: "gamma", 4: ""})
    marked = {("j5", "t15"), ("j6", "t15"), ("j7", "t16")}
    plan = plan_assignments(teams, judges, 4, seed=3, marked=marked)
    violations = [(j, t) for j, ts in plan.lists.items() for t in ts
                  if conflicted(next(x for x in judges if x.id == j), next(x for x in teams if x.id == t), marked)]
    assert violations == []
    assert plan.shortfalls == [] and {len(js) for js in plan.per_team.values()} == {4}
    assert max(plan.loads.values()) - min(plan.loads.values()) <= 1


def test_the_graph_is_connected_without_fixed_panels():
    teams, judges = expo(40, 12)
    plan = plan_assignments(teams, judges, 3, seed=5)
    assert plan.components == 1 and plan.connectivity > 0.3
    panels = {tuple(js) for js in plan.per_team.values()}
    assert len(panels) >= 35  # almost every team has its own combination of judges
    teams_of = {j: set(ts) for j, ts in plan.lists.items()}
    assert all(teams_of[a] != teams_of[b] for a in teams_of for b in teams_of if a < b)


@pytest.mark.parametrize("pairs, expected", [
    ([("a", 1), ("b", 1)], (1.0, 1)),  # a path of 3 nodes: eigenvalues 0, 1, 3
    ([("a", 1), ("b", 2)], (0.0, 2)),  # two panels that never meet
    ([("a", 1), ("a", 2), ("b", 1), ("b", 2)], (2.0, 1)),  # a 4-cycle: 0, 2, 2, 4
])
def test_algebraic_connectivity(pairs, expected):
    value, components = algebraic_connectivity(pairs)
    assert (round(value, 6), components) == expected


def test_the_same_seed_gives_the_same_plan_and_another_seed_another():
    teams, judges = expo(30, 10)
    first = plan_assignments(teams, judges, 4, seed=11)
    assert plan_assignments(teams, judges, 4, seed=11).lists == first.lists
    assert plan_assignments(teams, judges, 4, seed=12).lists != first.lists


def test_lists_are_short_walks_and_judges_start_in_different_places():
    teams, judges = expo(60, 15)
    plan = plan_assignments(teams, judges, 4, seed=2)
    where = {t.id: (float(t.table), 0.0) for t in teams}
    rng = random.Random(0)
    planned = sum(plan.walk.values())
    shuffled = 0.0
    for ts in plan.lists.values():
        order = list(ts)
        rng.shuffle(order)
        shuffled += walk_length(order, where)
    assert planned < shuffled / 3
    firsts = Counter(ts[0] for ts in plan.lists.values())
    assert max(firsts.values()) <= 2  # nobody queues at table 1 with everyone else


def test_order_walk_follows_a_line_and_rows_are_numbered_back_and_forth():
    where = line_layout(range(1, 7))
    assert order_walk([6, 1, 4, 2], where, (0.0, 0.0)) == [1, 2, 4, 6]
    assert rows_layout(range(1, 7), per_row=3) == {1: (0.0, 0.0), 2: (1.0, 0.0), 3: (2.0, 0.0),
                                                   4: (2.0, 3.0), 5: (1.0, 3.0), 6: (0.0, 3.0)}


def test_too_few_judges_says_why_and_gives_the_best_plan():
    teams, judges = expo(5, 3)
    plan = plan_assignments(teams, judges, 4, seed=0)
    assert {len(js) for js in plan.per_team.values()} == {3}
    assert {s.reason for s in plan.shortfalls} == {"only 3 judges are available, fewer than 4"}
    assert [(s.judges, s.wanted) for s in plan.shortfalls] == [(3, 4)] * 5


def test_too_many_conflicts_says_why_for_that_team():
    teams, judges = expo(10, 8, {3: "Acme"}, {i: "Acme" for i in range(1, 7)})
    plan = plan_assignments(teams, judges, 4, seed=0)
    [short] = plan.shortfalls
    assert (short.team, short.judges) == ("t3", 2)
    assert short.reason == "6 of the 8 available judges have a conflict with this team, which leaves 2"
    assert all(len(js) == 4 for t, js in plan.per_team.items() if t != "t3")


def test_replanning_keeps_scored_pairs_and_moves_little():
    teams, judges = expo(24, 8)
    first = plan_assignments(teams, judges, 3, seed=4)
    done = {(j, ts[0]) for j, ts in first.lists.items()} | {(j, ts[1]) for j, ts in first.lists.items()}
    # j3 leaves after scoring two teams; t10 turns out absent; a late judge j9 arrives.
    leaving = "j3"
    judges2 = [PlanJudge(j.id, available=j.id != leaving) for j in judges] + [PlanJudge("j9")]
    teams2 = [PlanTeam(t.id, t.table, absent=t.id == "t10") for t in teams]
    again = plan_assignments(teams2, judges2, 3, seed=4, done=done, previous=first.lists)
    kept = {(j, t) for j, t in done if j != leaving}
    assert kept <= again.pairs()  # scored work is never touched
    assert all(len(js) >= 3 for js in again.per_team.values()) and "t10" not in again.per_team
    assert set(again.lists[leaving]) == {t for j, t in done if j == leaving}  # their scored teams only
    assert again.notes == [] and again.available == [f"j{i}" for i in (1, 2, 4, 5, 6, 7, 8, 9)]
    loads = [again.loads[j] for j in again.available]
    assert max(loads) - min(loads) <= 1
    # Only the leaving judge's unscored teams, the absent team's visits and the late judge's share move.
    assert again.changed <= 2 * (len(first.lists[leaving]) + 3 + again.loads["j9"]) + 2
    for j, ts in again.lists.items():  # scored teams come first
        scored = [t for t in ts if (j, t) in done]
        assert ts[:len(scored)] == scored


def test_k_must_be_positive():
    with pytest.raises(ValueError):
        plan_assignments(*expo(3, 3), 0)

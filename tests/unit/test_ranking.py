"""The pure ranking engine: raw means, the judge-adjusted model, tie-breaks, intervals, diagnostics."""
import random

import numpy as np
import pytest

from expo_app.scoring.ranking import (Component, TeamRanking, analyse, rank_teams, ranking_sort_key)
from expo_app.scoring.simulate import Scenario, simulate_expo

OVERALL = [{"name": "Overall", "weight": 1, "min": 0, "max": 100}]
TWO = [{"name": "Idea", "weight": 3, "min": 1, "max": 5}, {"name": "Demo", "weight": 1, "min": 0, "max": 10}]
FOUR = [{"name": n, "weight": 25, "min": 1, "max": 5} for n in ("Idea", "Execution", "Presentation", "Impact")]


def overall_rows(totals):
    """Rows for the one-criterion rubric OVERALL (0-100), where a sheet's value is its total."""
    return [{"judge": j, "team": t, "criterion": "Overall", "score": v} for (j, t), v in totals.items()]


def sheet_rows(sheets):
    """Rows from {(judge, team): {criterion: value}}."""
    return [{"judge": j, "team": t, "criterion": c, "score": v}
            for (j, t), values in sheets.items() for c, v in values.items()]


# --- raw means --------------------------------------------------------------------------------------

# Totals by hand (Idea weight 3 on 1-5, Demo weight 1 on 0-10):
#   Idea 5, Demo 10 -> 100;  Idea 3, Demo 5 -> 50;  Idea 1, Demo 0 -> 0;  Idea 4, Demo 2 -> (3*.75 + .2)/4 = 61.25
HAND_SHEETS = {
    ("A", "Rover"): {"Idea": 5, "Demo": 10},
    ("B", "Rover"): {"Idea": 3, "Demo": 5},
    ("A", "Kiosk"): {"Idea": 1, "Demo": 0},
    ("B", "Kiosk"): {"Idea": 4, "Demo": 2},
    ("C", "Kiosk"): {"Idea": 3, "Demo": 5},
    ("C", "Loom"): {"Idea": 4, "Demo": 2},
}


@pytest.mark.parametrize("team, rank, raw_mean, judges, criterion_means", [
    ("Rover", 1, 75.0, 2, {"Idea": 4.0, "Demo": 7.5}),
    ("Loom", 2, 61.25, 1, {"Idea": 4.0, "Demo": 2.0}),
    ("Kiosk", 3, 37.083333, 3, {"Idea": 8 / 3, "Demo": 7 / 3}),
])
def test_raw_means_by_hand(team, rank, raw_mean, judges, criterion_means):
    teams = {t.team: t for t in rank_teams(sheet_rows(HAND_SHEETS), TWO, method="raw")}
    row = teams[team]
    assert (row.rank, row.judges) == (rank, judges)
    assert row.raw_mean == pytest.approx(raw_mean, abs=1e-6)
    assert row.score == row.raw_mean
    assert row.criterion_means == pytest.approx(criterion_means, abs=1e-6)


def test_raw_intervals_come_from_resampling_sheets():
    teams = {t.team: t for t in rank_teams(sheet_rows(HAND_SHEETS), TWO, method="raw")}
    # One sheet: nothing to resample. Two sheets of 100 and 50: a mean of 50, 75 or 100.
    assert (teams["Loom"].score_low, teams["Loom"].score_high) == (61.25, 61.25)
    assert teams["Rover"].score_low in (50.0, 75.0) and teams["Rover"].score_high in (75.0, 100.0)


# --- the adjusted model ----------------------------------------------------------------------------

# Noiseless: every judge gives exactly quality + leniency. B is 10 points more lenient than A, C 2.
QUALITY = {"T1": 50, "T2": 60, "T3": 70, "T4": 50, "T5": 80}
LENIENCY = {"A": 0, "B": 10, "C": 2}
SEEN = {"A": ["T1", "T2", "T3", "T5"], "B": ["T2", "T3", "T4", "T5"], "C": ["T1", "T2", "T3", "T4"]}
NOISELESS = {(j, t): QUALITY[t] + LENIENCY[j] for j, teams in SEEN.items() for t in teams}


@pytest.mark.parametrize("team, adjusted, raw", [
    # adjusted = quality + the average judge's leniency (0 + 10 + 2) / 3 = 4
    ("T5", 84.0, 85.0),
    ("T3", 74.0, 74.0),
    ("T2", 64.0, 64.0),
    ("T1", 54.0, 51.0),  # judged by A and C: raw 1 point low
    ("T4", 54.0, 56.0),  # judged by B and C: raw 2 points high; same quality as T1
])
def test_adjusted_removes_exact_leniency(team, adjusted, raw):
    teams = {t.team: t for t in rank_teams(overall_rows(NOISELESS), OVERALL)}
    assert teams[team].score == pytest.approx(adjusted, abs=1e-3)
    assert teams[team].adjusted_score == teams[team].score
    assert teams[team].raw_mean == pytest.approx(raw, abs=1e-9)


def test_adjusted_recovers_offsets_and_ranks_with_certainty():
    result = analyse(overall_rows(NOISELESS), OVERALL)
    offsets = {d.judge: d.offset for d in result.judges}
    assert offsets == pytest.approx({"A": -4.0, "B": 6.0, "C": -2.0}, abs=1e-3)
    assert [d.scale for d in result.judges] == pytest.approx([1.0, 1.0, 1.0], abs=1e-3)
    by_rank = [(t.team, t.rank_low, t.rank_high) for t in result.teams]
    assert by_rank[:3] == [("T5", 1, 1), ("T3", 2, 2), ("T2", 3, 3)]
    assert {t.team for t in result.teams[3:]} == {"T1", "T4"}  # tied in truth: 4th or 5th
    assert result.warnings == []
    assert result.connected


def test_raw_ranking_is_fooled_by_leniency_adjusted_is_not():
    raw = [t.team for t in rank_teams(overall_rows(NOISELESS), OVERALL, method="raw")]
    assert raw == ["T5", "T3", "T2", "T4", "T1"]
    adjusted = {t.team: t.score for t in rank_teams(overall_rows(NOISELESS), OVERALL)}
    assert adjusted["T1"] == pytest.approx(adjusted["T4"], abs=1e-3)


# --- tie-breaks ------------------------------------------------------------------------------------

@pytest.mark.parametrize("entries, expected", [
    # (team, score, judges, raw mean): higher score first
    ([("a", 70.0, 3, 70.0), ("b", 80.0, 3, 70.0)], ["b", "a"]),
    # equal score: more judges first
    ([("a", 70.0, 2, 70.0), ("b", 70.0, 3, 60.0)], ["b", "a"]),
    # equal score and judges: higher raw mean first
    ([("a", 70.0, 3, 65.0), ("b", 70.0, 3, 66.0)], ["b", "a"]),
    # all equal: team name, case-insensitive ascending
    ([("charlie", 70.0, 3, 70.0), ("Beta", 70.0, 3, 70.0), ("alpha", 70.0, 3, 70.0)], ["alpha", "Beta", "charlie"]),
    # float noise below 6 decimals is a tie, so the next rule decides
    ([("a", 70.0000001, 2, 70.0), ("b", 70.0, 3, 70.0)], ["b", "a"]),
    # same name but for case: still a total order
    ([("ab", 70.0, 3, 70.0), ("AB", 70.0, 3, 70.0)], ["AB", "ab"]),
])
def test_tie_break_order(entries, expected):
    ordered = sorted(entries, key=lambda e: ranking_sort_key(e[1], e[2], e[3], e[0]))
    assert [e[0] for e in ordered] == expected


def test_tie_breaks_end_to_end_raw():
    totals = {
        ("J1", "delta"): 80,                                              # best score
        ("J1", "Gamma"): 70, ("J2", "Gamma"): 70, ("J3", "Gamma"): 70,    # 70 with three judges
        ("J1", "beta"): 60, ("J2", "beta"): 80,                           # 70 with two judges
        ("J2", "Alpha"): 75, ("J3", "Alpha"): 65,                         # 70 with two judges
    }
    teams = rank_teams(overall_rows(totals), OVERALL, method="raw")
    assert [(t.rank, t.team) for t in teams] == [(1, "delta"), (2, "Gamma"), (3, "Alpha"), (4, "beta")]


def test_identical_teams_tie_on_adjusted_score_and_fall_back_to_name():
    totals = {}
    for judge, leniency in (("J1", 0), ("J2", 8), ("J3", -5)):
        for team, quality in (("zed", 60), ("Mid", 70), ("apple", 70), ("top", 90)):
            totals[(judge, team)] = quality + leniency
    teams = rank_teams(overall_rows(totals), OVERALL)
    assert [(t.rank, t.team) for t in teams] == [(1, "top"), (2, "apple"), (3, "Mid"), (4, "zed")]
    assert teams[1].score == teams[2].score


def test_ranks_are_one_to_n_without_sharing():
    totals = {(j, t): 50 for j in ("A", "B") for t in ("x", "Y", "z", "w")}
    teams = rank_teams(overall_rows(totals), OVERALL)
    assert [t.rank for t in teams] == [1, 2, 3, 4]
    assert [t.team for t in teams] == ["w", "x", "Y", "z"]


# --- intervals and reproducibility -----------------------------------------------------------------

EXPO = simulate_expo(Scenario("unit", n_teams=12, n_judges=5, judges_per_team=3), seed=3)


def test_same_seed_same_intervals_different_seed_may_differ():
    first = analyse(EXPO.scores, EXPO.criteria, seed=7)
    again = analyse(EXPO.scores, EXPO.criteria, seed=7)
    other = analyse(EXPO.scores, EXPO.criteria, seed=8)
    assert first.teams == again.teams
    assert [t.score for t in other.teams] == [t.score for t in first.teams]  # points do not depend on the seed
    assert [(t.score_low, t.score_high, t.p_top3) for t in other.teams] != \
           [(t.score_low, t.score_high, t.p_top3) for t in first.teams]


def test_row_order_does_not_matter():
    shuffled = list(EXPO.scores)
    random.Random(1).shuffle(shuffled)
    assert analyse(shuffled, EXPO.criteria, seed=2).teams == analyse(EXPO.scores, EXPO.criteria, seed=2).teams


@pytest.mark.parametrize("method", ["adjusted", "raw"])
def test_intervals_contain_the_point_and_top3_chances_add_up(method):
    teams = analyse(EXPO.scores, EXPO.criteria, method=method, seed=0).teams
    for t in teams:
        assert t.score_low <= t.score <= t.score_high
        assert 1 <= t.rank_low <= t.rank <= t.rank_high <= len(teams)
    assert sum(t.p_top3 for t in teams) == pytest.approx(3.0)
    assert [t.rank for t in teams] == list(range(1, len(teams) + 1))


def test_n_boot_zero_collapses_intervals():
    for t in analyse(EXPO.scores, EXPO.criteria, n_boot=0).teams:
        assert (t.score_low, t.score_high, t.rank_low, t.rank_high) == (t.score, t.score, t.rank, t.rank)


# --- diagnostics -----------------------------------------------------------------------------------

def test_disconnected_graph_lists_components_and_warns_per_component():
    totals = {("A", "T1"): 60, ("A", "T2"): 70, ("A", "T3"): 80, ("B", "T1"): 65, ("B", "T2"): 75, ("B", "T3"): 85,
              ("C", "T4"): 40, ("C", "T5"): 50, ("C", "T6"): 55, ("D", "T4"): 45, ("D", "T5"): 52, ("D", "T6"): 60}
    result = analyse(overall_rows(totals), OVERALL)
    assert result.components == [Component(1, ("T1", "T2", "T3"), ("A", "B")),
                                 Component(2, ("T4", "T5", "T6"), ("C", "D"))]
    assert not result.connected
    warnings = [w for w in result.warnings if w.code == "disconnected"]
    assert [(w.teams, w.judges) for w in warnings] == [(("T1", "T2", "T3"), ("A", "B")),
                                                        (("T4", "T5", "T6"), ("C", "D"))]
    assert warnings[0].message.startswith("Group 1 of 2 (teams 'T1', 'T2', 'T3'; judges 'A', 'B') shares no judge")
    assert {d.judge: d.component for d in result.judges} == {"A": 1, "B": 1, "C": 2, "D": 2}


def noisy_panel(seed, judges, teams=10, noise=0.6):
    """Sheets on FOUR from judges {label: (kind, leniency, teams seen)} scoring teams of spread-out quality."""
    rng = np.random.default_rng(seed)
    quality = np.linspace(-1.2, 1.2, teams)
    sheets = {}
    for judge, (kind, leniency, seen) in judges.items():
        for t in seen:
            if kind == "random":
                values = rng.integers(1, 6, 4)
            else:
                values = np.clip(np.rint(3 + leniency + quality[t] + rng.normal(0, noise, 4)), 1, 5)
            sheets[(judge, f"T{t:02d}")] = {c["name"]: int(v) for c, v in zip(FOUR, values)}
    return sheet_rows(sheets)


def test_judge_with_too_few_teams_is_warned_and_shrunk():
    everyone = range(10)
    panel = {"A": ("normal", 0.0, everyone), "B": ("normal", 0.3, everyone), "C": ("normal", -0.3, everyone),
             "D": ("normal", 0.0, everyone), "Late": ("normal", 1.0, [3, 6])}  # +25 points, 2 teams
    result = analyse(noisy_panel(11, panel), FOUR)
    late = next(d for d in result.judges if d.judge == "Late")
    assert late.teams_seen == 2 and late.flags == ("too_few_teams",)
    warning = next(w for w in result.warnings if w.code == "too_few_teams")
    assert warning.judges == ("Late",)
    assert warning.message.startswith("Judge 'Late' scored only 2 teams: too few to measure their leniency")
    assert 0 < late.offset < 25  # shrunk towards 0
    assert all(d.flags == () for d in result.judges if d.judge != "Late")


def test_random_judge_is_down_weighted_and_flagged():
    everyone = range(10)
    panel = {"A": ("normal", 0.0, everyone), "B": ("normal", 0.4, everyone), "C": ("normal", -0.4, everyone),
             "D": ("normal", 0.2, everyone), "E": ("normal", -0.2, everyone), "Dice": ("random", 0.0, everyone)}
    result = analyse(noisy_panel(5, panel), FOUR)
    judges = {d.judge: d for d in result.judges}
    assert judges["Dice"].weight < 0.25 and judges["Dice"].flags == ("erratic",)
    assert all(judges[j].weight > 0.5 and judges[j].flags == () for j in "ABCDE")
    assert [w.judges for w in result.warnings if w.code == "erratic"] == [("Dice",)]
    # Without Dice the ranking barely changes: Dice hardly counts.
    without = analyse([r for r in noisy_panel(5, panel) if r["judge"] != "Dice"], FOUR)
    assert [t.team for t in result.teams][:5] == [t.team for t in without.teams][:5]


def test_flat_judge_is_flagged():
    everyone = range(10)
    panel = {"A": ("normal", 0.0, everyone), "B": ("normal", 0.4, everyone), "C": ("normal", -0.4, everyone),
             "D": ("normal", 0.2, everyone)}
    rows = noisy_panel(2, panel) + [{"judge": "Flat", "team": f"T{t:02d}", "criterion": c["name"], "score": 4}
                                    for t in everyone for c in FOUR]
    judges = {d.judge: d for d in analyse(rows, FOUR).judges}
    assert judges["Flat"].flags == ("flat",) and judges["Flat"].spread == 0.0
    assert judges["Flat"].weight < 0.25


def test_outlier_leniency_is_flagged():
    everyone = range(10)
    panel = {"A": ("normal", 0.0, everyone), "B": ("normal", 0.1, everyone), "C": ("normal", -0.1, everyone),
             "D": ("normal", 0.05, everyone), "Soft": ("normal", 1.2, everyone)}
    result = analyse(noisy_panel(4, panel, noise=0.4), FOUR)
    judges = {d.judge: d for d in result.judges}
    assert judges["Soft"].flags == ("outlier_offset",) and judges["Soft"].offset > 15
    assert next(w for w in result.warnings if w.code == "outlier_offset").judges == ("Soft",)


def test_team_disagreement_and_reliability():
    result = analyse(overall_rows(NOISELESS), OVERALL)
    assert all(t.disagreement == pytest.approx(0.0, abs=1e-3) for t in result.teams)
    rel = result.reliability
    assert rel.icc_adjusted == pytest.approx(1.0, abs=1e-4) and rel.judges_per_team == 2.4
    noisy = analyse(EXPO.scores, EXPO.criteria)
    assert 0 < noisy.reliability.icc1 < noisy.reliability.icc_adjusted < noisy.reliability.team_mean < 1
    assert all(t.disagreement > 0 for t in noisy.teams)


# --- input handling --------------------------------------------------------------------------------

def test_incomplete_sheet_is_skipped_and_reported():
    rows = sheet_rows({("A", "Rover"): {"Idea": 5, "Demo": 10}, ("B", "Rover"): {"Idea": 3},
                       ("B", "Ghost"): {"Demo": 4}, ("A", "Loom"): {"Idea": 2, "Demo": 2}})  # Loom: (3*.25 + .2)/4
    result = analyse(rows, TWO)
    assert [(t.team, t.judges, t.raw_mean) for t in result.teams] == [("Rover", 1, 100.0), ("Loom", 1, 23.75)]
    assert result.skipped_sheets == [("B", "Ghost", ("Idea",)), ("B", "Rover", ("Demo",))]
    codes = [(w.code, w.judges, w.teams) for w in result.warnings]
    assert ("incomplete_sheet", ("B",), ("Rover",)) in codes
    assert ("team_left_out", (), ("Ghost",)) in codes
    assert "Skipped the sheet of judge 'B' for team 'Rover': no score for Demo." in result.warning_messages


@pytest.mark.parametrize("rows, criteria, message", [
    ([{"judge": "A", "team": "T", "criterion": "Idea", "score": 6}], FOUR[:1],
     r"score 6 for 'Idea' \(judge 'A', team 'T'\) is outside its scale 1–5"),
    ([{"judge": "A", "team": "T", "criterion": "Idea", "score": 0}], FOUR[:1], "outside its scale 1–5"),
    ([{"judge": "A", "team": "T", "criterion": "Charm", "score": 3}], FOUR[:1],
     r"unknown criterion 'Charm' \(judge 'A', team 'T'\); the criteria are 'Idea'"),
    ([{"judge": "A", "team": "T", "criterion": "Idea", "score": "x"}], FOUR[:1], "score 'x' for 'Idea' .* is not a number"),
    ([{"judge": "A", "team": "T", "criterion": "Idea", "score": float("nan")}], FOUR[:1], "outside its scale"),
    ([{"judge": "A", "team": "T", "criterion": "Idea", "score": 3}] * 2, FOUR[:1], "has two scores for 'Idea'"),
    ([{"judge": "A", "team": "T", "criterion": "Idea"}], FOUR[:1], "score row 1 has no 'score'"),
    ([{"judge": "A", "team": "T", "criterion": "Idea", "score": 3}], [], "there are scores but no criteria"),
    ([{"judge": "A", "team": "T", "criterion": "Idea", "score": 3}],
     [{"name": "Idea", "weight": 1, "min": 5, "max": 5}], "min 5 must be below max 5"),
    ([{"judge": "A", "team": "T", "criterion": "Idea", "score": 3}],
     [{"name": "Idea", "weight": 1, "min": 1}], "a criterion has no 'max'"),
    ([{"judge": "A", "team": "T", "criterion": "Idea", "score": 3}], FOUR[:1] * 2, "criterion 'Idea' appears twice"),
])
def test_invalid_input_raises_value_error(rows, criteria, message):
    with pytest.raises(ValueError, match=message):
        rank_teams(rows, criteria)


def test_unknown_method_raises():
    with pytest.raises(ValueError, match="unknown ranking method 'median'"):
        rank_teams(overall_rows(NOISELESS), OVERALL, method="median")


@pytest.mark.parametrize("criteria", [OVERALL, []])
def test_empty_input_gives_empty_ranking(criteria):
    assert rank_teams([], criteria) == []
    assert rank_teams(iter(()), criteria, method="raw") == []


def test_labels_may_be_any_hashable():
    totals = {(1, ("team", 2)): 70, (2, ("team", 2)): 80, (1, ("team", 1)): 60, (2, ("team", 1)): 50}
    teams = rank_teams(overall_rows(totals), OVERALL)
    assert [t.team for t in teams] == [("team", 2), ("team", 1)]


def test_results_read_as_attributes_and_keys():
    row = rank_teams(overall_rows(NOISELESS), OVERALL)[0]
    assert isinstance(row, TeamRanking)
    assert row["team"] == row.team == "T5" and row["rank"] == 1
    assert set(dict(row)) >= {"rank", "team", "score", "raw_mean", "score_low", "score_high", "rank_low",
                              "rank_high", "judges", "p_top3"}
    assert row.as_dict()["judges"] == 2
    with pytest.raises(KeyError):
        row["nope"]
    with pytest.raises(AttributeError):
        row.rank = 2

import pytest

from expo_app.scoring.alerts import coverage_alerts, disagreement_alerts
from expo_app.scoring.awards import AwardSuggestion, suggest_awards


def ranking(*teams, wide=()):
    """Rows best first; teams in `wide` get a rank interval one wider on each side."""
    rows = []
    for rank, team in enumerate(teams, start=1):
        lo, hi = (max(1, rank - 1), min(len(teams), rank + 1)) if team in wide else (rank, rank)
        rows.append({"rank": rank, "team": team, "score": 100.0 - 10 * rank, "score_low": 90.0 - 10 * rank,
                     "score_high": 100.0 - 10 * rank + 5, "rank_low": lo, "rank_high": hi})
    return rows


PLACES = [{"key": k, "name": f"{k} place", "kind": "overall", "place": p} for k, p in (("1st", 1), ("2nd", 2), ("3rd", 3))]


def crit(key, name):
    return {"key": key, "name": f"Best in {name}", "kind": "criterion", "criterion": name, "min": 1, "max": 5}


@pytest.mark.parametrize("categories, overall, by_criterion, winners", [
    # places follow the overall ranking
    (PLACES, ranking("A", "B", "C", "D"), {}, ["A", "B", "C"]),
    # a criterion award skips teams that already hold an award
    (PLACES + [crit("t", "tech")], ranking("A", "B", "C", "D", "E"), {"tech": ranking("B", "D", "A")},
     ["A", "B", "C", "D"]),
    # two criterion awards do not go to the same team while another team is left
    ([crit("t", "tech"), crit("o", "ops")], ranking("A", "B"), {"tech": ranking("A", "B"), "ops": ranking("A", "B")},
     ["A", "B"]),
    # every ranked team already holds an award: the best in the criterion gets it anyway
    (PLACES[:2] + [crit("t", "tech")], ranking("A", "B"), {"tech": ranking("B", "A")}, ["A", "B", "B"]),
    # too few teams for a place; no scores for a criterion
    (PLACES + [crit("t", "tech")], ranking("A", "B"), {"tech": []}, ["A", "B", None, None]),
])
def test_suggestion_rules(categories, overall, by_criterion, winners):
    assert [s.team for s in suggest_awards(categories, overall, by_criterion)] == winners


def test_reasons_and_close_calls():
    result = suggest_awards(PLACES[:2] + [crit("t", "tech")], ranking("A", "B", "C", wide={"B"}),
                            {"tech": ranking("A", "C", "B")})
    assert result[0] == AwardSuggestion("1st", "A", "Rank 1 of 3 overall: 90.0 points (90 % interval 80.0–95.0), "
                                                    "rank interval 1–1.", False)
    assert result[1].close_call and result[1].reason.endswith("rank interval 1–3; a close call.")
    assert result[2].team == "C"
    assert result[2].reason == ("Rank 2 of 3 in tech: 4.20 on the 1–5 scale after the judge correction; ahead of it "
                                "A (rank 1) already holds 1st place.")
    assert suggest_awards(PLACES, [], {})[0].reason == "Only 0 teams ranked so far: no one is placed 1."


@pytest.mark.parametrize("counts, target, expected", [
    ({"A": 3, "B": 4}, 3, []),
    ({"A": 1, "B": 0, "C": 3}, 2, ["2 teams have fewer than 2 scores: B (0), A (1)."]),
    ({"A": 2}, 3, ["1 team has fewer than 3 scores: A (2)."]),
])
def test_coverage_alerts(counts, target, expected):
    assert [a.message for a in coverage_alerts(counts, target)] == expected


@pytest.mark.parametrize("spreads, flagged", [
    ([5, 6, 5, 30], ["T3"]),          # far above the typical spread and above 12 points
    ([5, 6, 5, 11], []),              # above twice typical but under 12 points
    ([20, 22, 25, 26], []),           # large but typical for this expo
    ([None, None], []),
])
def test_disagreement_alerts(spreads, flagged):
    teams = [{"team": f"T{i}", "disagreement": d} for i, d in enumerate(spreads)]
    assert [a.teams[0] for a in disagreement_alerts(teams)] == flagged

"""Live routing: which team a judge should visit next. Pure module (no Flask, no ORM).

A team's **value** is how much one more score would help the decisions the ranking feeds: the top 3
(awards) and the letter-grade boundaries. It is the uncertainty of those decisions for the team
(p(1-p) for being in the top 3, and for being above each letter boundary, from the engine's fit),
times how much one more sheet narrows the team's estimate (1/n - 1/(n+1) for n sheets so far).
A team without sheets has the highest value of all.

The next team is the most valuable one of the judge's candidates (their unscored planned teams, or
when those are done, every team they may score), discounted by the walk to it; a team that too many
judges opened in the last minutes is passed over while another is free.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Hashable, Iterable, Mapping, Sequence

Position = tuple[float, float]


@dataclass(frozen=True)
class TeamState:
    """What the engine says about a team now: its score (points out of 100) with a 90 % interval,
    its chance of being in the top 3, and how many sheets it has."""

    team: Hashable
    score: float
    score_low: float
    score_high: float
    p_top3: float
    sheets: int


def _normal_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def decision_uncertainty(state: TeamState, boundaries: Sequence[float]) -> float:
    """How unsure the decisions about this team are: p(1-p) for the top 3 and for each boundary
    (letter minimums in points), with the score's spread read from its 90 % interval."""
    value = state.p_top3 * (1.0 - state.p_top3)
    sd = max((state.score_high - state.score_low) / (2 * 1.645), 1e-6)
    for boundary in boundaries:
        p = _normal_cdf((state.score - boundary) / sd)
        value += p * (1.0 - p)
    return value


def team_values(states: Iterable[TeamState], boundaries: Sequence[float],
                all_teams: Iterable[Hashable] = ()) -> dict[Hashable, float]:
    """The value of one more score for each team (teams without a state have no sheets: top value)."""
    values = {}
    for state in states:
        n = max(state.sheets, 1)
        values[state.team] = decision_uncertainty(state, boundaries) / (n * (n + 1))
    unseen = [t for t in all_teams if t not in values]
    top = max(values.values(), default=1.0) * 4 + 1.0  # nothing known beats anything known
    for team in unseen:
        values[team] = top
    return values


def choose_next(candidates: Sequence[Hashable], values: Mapping[Hashable, float], *,
                here: Position | None, where: Mapping[Hashable, Position],
                opened_recently: Mapping[Hashable, int], crowd_limit: int = 2,
                walk_scale: float = 10.0) -> Hashable | None:
    """The judge's next team: the best value per walk among candidates not crowded now; if every
    candidate is crowded, the least crowded. `walk_scale`: the walk (in the hall's units) that
    halves a team's appeal. Ties go to the earlier candidate (the plan's order)."""
    if not candidates:
        return None
    free = [t for t in candidates if opened_recently.get(t, 0) < crowd_limit]
    pool = free or sorted(candidates, key=lambda t: opened_recently.get(t, 0))[:1]

    def appeal(team):
        walk = math.dist(here, where[team]) if here is not None and team in where else 0.0
        return values.get(team, 0.0) / (1.0 + walk / walk_scale)

    best = max(range(len(pool)), key=lambda i: (appeal(pool[i]), -i))
    return pool[best]


def boundaries_in_points(scale: Sequence[tuple[str, float]]) -> list[float]:
    """Letter minimums (percent) as points out of 100 (the same numbers: expo_percent is the score)."""
    return [float(minimum) for _letter, minimum in scale if minimum > 0]

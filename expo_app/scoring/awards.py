"""Suggesting award winners from the rankings. Pure: plain data in, suggestions out."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Hashable, Mapping, Sequence


@dataclass(frozen=True)
class AwardSuggestion:
    category: Hashable
    team: Hashable | None  # None when no team can be suggested
    reason: str
    close_call: bool = False


def suggest_awards(categories: Sequence[Mapping], overall: Sequence[Mapping],
                   by_criterion: Mapping[str, Sequence[Mapping]]) -> list[AwardSuggestion]:
    """Suggest a winner per award category; this docstring is the one statement of the rules.

    `categories` are mappings with `key`, `kind` ("overall" or "criterion") and, by kind, `place`
    (1 = first) or `criterion` (its name) with the criterion's `min` and `max`. `overall` is the
    event's ranking and `by_criterion` a ranking per criterion (both best first, as rank_teams gives).

    1. An overall place k goes to the team ranked k overall.
    2. Criterion awards, in category order, go to the best team in that criterion's own ranking that
       holds no award yet, so that recognition is spread; when every ranked team already holds one,
       to the best team in the criterion.
    3. A suggestion is a close call when the winner's 90 % rank interval (in the ranking it was
       chosen from) holds more than its own rank: the data cannot tell it apart from a neighbour.
    """
    taken: dict[Hashable, str] = {}
    suggestions: dict[Hashable, AwardSuggestion] = {}
    size = len(overall)
    for cat in categories:
        if cat["kind"] != "overall":
            continue
        place = int(cat["place"])
        if place > size:
            suggestions[cat["key"]] = AwardSuggestion(
                cat["key"], None, f"Only {size} team{'s' if size != 1 else ''} ranked so far: no one is placed {place}.")
            continue
        row = overall[place - 1]
        close = _close_call(row)
        reason = (f"Rank {place} of {size} overall: {row['score']:.1f} points "
                  f"(90 % interval {row['score_low']:.1f}–{row['score_high']:.1f}), "
                  f"rank interval {row['rank_low']}–{row['rank_high']}")
        reason += "; a close call." if close else "."
        suggestions[cat["key"]] = AwardSuggestion(cat["key"], row["team"], reason, close)
        taken.setdefault(row["team"], cat.get("name", f"place {place}"))
    for cat in categories:
        if cat["kind"] != "criterion":
            continue
        ranking = list(by_criterion.get(cat["criterion"], []))
        if not ranking:
            suggestions[cat["key"]] = AwardSuggestion(cat["key"], None, f"No complete scores for {cat['criterion']} yet.")
            continue
        row = next((r for r in ranking if r["team"] not in taken), ranking[0])
        lo, hi = float(cat["min"]), float(cat["max"])
        on_scale = lo + row["score"] / 100.0 * (hi - lo)
        reason = (f"Rank {row['rank']} of {len(ranking)} in {cat['criterion']}: {on_scale:.2f} on the "
                  f"{cat['min']:g}–{cat['max']:g} scale after the judge correction")
        passed_over = [r for r in ranking[: row["rank"] - 1] if r["team"] in taken]
        if passed_over:
            reason += "; ahead of it " + ", ".join(
                f"{r['team']} (rank {r['rank']}) already holds {taken[r['team']]}" for r in passed_over)
        close = _close_call(row)
        reason += "; a close call." if close else "."
        suggestions[cat["key"]] = AwardSuggestion(cat["key"], row["team"], reason, close)
        taken.setdefault(row["team"], cat.get("name", f"best in {cat['criterion']}"))
    return [suggestions[cat["key"]] for cat in categories]


def _close_call(row: Mapping) -> bool:
    return row["rank_low"] < row["rank"] or row["rank_high"] > row["rank"]

"""Alerts for the live dashboard: coverage, disagreement, and sheets touched by conflicts of interest.
Pure: plain data in, messages out."""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Hashable, Mapping, Sequence

# A team's judges disagree when the spread of their (judge-corrected) totals is both large in
# points and large against the typical team's spread.
DISAGREEMENT_MIN_POINTS = 12.0
DISAGREEMENT_FACTOR = 2.0


@dataclass(frozen=True)
class Alert:
    code: str
    message: str
    teams: tuple = ()
    judges: tuple = ()


def coverage_alerts(sheets_per_team: Mapping[Hashable, int], target: int) -> list[Alert]:
    """One alert listing the teams with fewer rated sheets than the target, fewest first."""
    short = sorted(((n, str(t)) for t, n in sheets_per_team.items() if n < target))
    if not short:
        return []
    names = ", ".join(f"{t} ({n})" for n, t in short[:10]) + (f" and {len(short) - 10} more" if len(short) > 10 else "")
    return [Alert("coverage", f"{len(short)} team{'s have' if len(short) != 1 else ' has'} fewer than {target} "
                              f"scores: {names}.", teams=tuple(t for _n, t in short))]


def disagreement_alerts(teams: Sequence[Mapping], min_points: float = DISAGREEMENT_MIN_POINTS,
                        factor: float = DISAGREEMENT_FACTOR) -> list[Alert]:
    """Teams whose judges disagree: disagreement over `min_points` and over `factor` × the median team's."""
    spreads = [t["disagreement"] for t in teams if t.get("disagreement") is not None]
    if not spreads:
        return []
    typical = statistics.median(spreads)
    alerts = []
    for t in teams:
        d = t.get("disagreement")
        if d is not None and d > min_points and d > factor * typical:
            alerts.append(Alert("disagreement",
                                f"Judges disagree on {t['team']}: their corrected totals spread by {d:.1f} points "
                                f"(typical team: {typical:.1f}). Worth another judge's visit.", teams=(t["team"],)))
    return alerts


def _pairs(pairs: Sequence[tuple[str, str]], limit: int = 8) -> str:
    text = "; ".join(f"{judge} for {team}" for judge, team in pairs[:limit])
    return text + (f" and {len(pairs) - limit} more" if len(pairs) > limit else "")


def conflict_alerts(set_aside: Sequence[tuple[str, str]], counted_conflicts: Sequence[tuple[str, str]]) -> list[Alert]:
    """Sheets kept but not counted, and counted sheets from a known conflict of interest.

    `set_aside`: (judge, team) of every set-aside sheet; `counted_conflicts`: (judge, team) of every
    counted, rated sheet whose judge has a known conflict with the team and that no organiser chose
    to count. Each list gives one alert that names the pairs.
    """
    alerts = []
    if set_aside:
        n = len(set_aside)
        alerts.append(Alert("set_aside", f"{n} sheet{'s are' if n != 1 else ' is'} set aside (kept, not counted): "
                                         f"{_pairs(set_aside)}. Review on the Scores page.",
                            teams=tuple(t for _j, t in set_aside), judges=tuple(j for j, _t in set_aside)))
    if counted_conflicts:
        n = len(counted_conflicts)
        alerts.append(Alert("conflict", f"{n} counted sheet{'s come' if n != 1 else ' comes'} from a known conflict of "
                                        f"interest: {_pairs(counted_conflicts)}. Set {'them' if n != 1 else 'it'} "
                                        "aside on the Scores page unless it should count.",
                            teams=tuple(t for _j, t in counted_conflicts),
                            judges=tuple(j for j, _t in counted_conflicts)))
    return alerts

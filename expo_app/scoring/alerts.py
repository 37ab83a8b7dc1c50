"""Alerts for the live dashboard: coverage and disagreement. Pure: plain data in, messages out."""
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

"""What the judge's home page says about where to go next, as plain words. Pure: no Flask, no ORM.

The rules the words keep, whatever the state:
- "Next" is never a table the same message calls crowded: if every table left has judges at it,
  the message says so once instead of sending the judge to a table it also tells them to avoid;
- the crowded tables and the "Then"/"Or" tables never overlap, and neither lists "Next";
- one table is "table 3", several are "tables 3 and 5" or "tables 2, 3 and 5";
- with the plan: how many of the judge's own teams are scored ("Your list: 6 teams, 2 scored").
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Stop:
    """One team as the message names it."""

    id: int
    table: int
    name: str
    code: str = ""


@dataclass
class RouteText:
    next: Stop | None  # the team to go to, shown as a link
    intro: str = ""  # a line before "Next" (the list is done; every table is busy)
    crowded: str = ""  # "Other judges are at table 3 now: come back to it later."
    then_label: str = ""  # "Then" (the judge's list) or "Or" (teams that need judges most)
    then: list[Stop] = field(default_factory=list)
    progress: str = ""  # "Your list: 6 teams, 2 scored."
    done: str = ""  # said when there is nowhere left to go


def tables(stops: list[Stop]) -> str:
    """'table 3', 'tables 3 and 5', 'tables 2, 3 and 5'."""
    numbers = [str(s.table) for s in stops]
    if len(numbers) == 1:
        return f"table {numbers[0]}"
    return f"tables {', '.join(numbers[:-1])} and {numbers[-1]}"


def route_text(next_stop: Stop | None, remaining: list[Stop], *, planned: bool, extra: bool,
               crowded_ids: set[int] | frozenset[int] | tuple[int, ...], planned_total: int = 0,
               planned_scored: int = 0, teams_total: int = 0) -> RouteText:
    """The words of the judge's route (expo_app.assignments.operations.Route, as Stops).

    `remaining`: the teams still to visit in the route's order (with `next_stop` among them);
    `crowded_ids`: teams where other judges are now; `planned_total`/`planned_scored`: the judge's own
    list and how much of it is scored (with a plan); `teams_total`: teams in the event.
    """
    crowded_ids = set(crowded_ids)
    text = RouteText(next=next_stop)
    if planned and planned_total:
        text.progress = (f"Your list: {planned_total} team{'s' if planned_total != 1 else ''}, "
                         f"{planned_scored} scored.")
    if next_stop is None:
        if teams_total:
            text.done = ("You have visited every team on your list, and no other team needs a judge now. Thank you!"
                         if planned else "You have scored every team. Thank you!")
        return text
    others = [s for s in remaining if s.id != next_stop.id]
    busy = [s for s in others if s.id in crowded_ids]
    free = [s for s in others if s.id not in crowded_ids]
    if extra:
        text.intro = "You have visited every team on your list. Thank you! These teams need judges most:"
    if next_stop.id in crowded_ids and not free:
        # Every table left has judges at it: go to the next one anyway, and say so once.
        busy_all = [next_stop] + busy
        text.intro = (text.intro + " " if text.intro else "") + (
            f"Other judges are at {tables(busy_all)} now: "
            f"{'it is' if len(busy_all) == 1 else 'they are'} all that is left, so start with the first; "
            "wait a moment if it is busy.")
        busy = []
    if busy:
        text.crowded = (f"Other judges are at {tables(busy)} now: come back to "
                        f"{'it' if len(busy) == 1 else 'them'} later.")
    if free and (planned or extra):
        text.then_label = "Or" if extra else "Then"
        text.then = free
    return text

"""Which judges visit which teams, and in what order: a plan that covers every team, balances the
judges' loads, respects conflicts, keeps the judge–team graph connected and keeps walking short.

Pure module (no Flask, no ORM), deterministic for a seed.

- Every present team gets `k` judges; judges' loads differ by at most one.
- A judge never gets a team they conflict with: their affiliation is one of the team's listed
  companies, or the organiser marked the pair.
- No fixed panels: judges are spread so that the judge–team graph is connected (its algebraic
  connectivity, the Laplacian's second-smallest eigenvalue, is reported; 0 means disconnected).
- Each judge's list is ordered as a short walk through the hall (tables on a line by number, or
  rows, or positions from the organiser), each judge starting at a different place.
- Re-planning keeps every scored pair, keeps as much of the previous plan as it can, and only moves
  what is not yet scored: for late or missing judges, absent teams and judges who leave.
When `k` cannot be met, the plan says exactly why for each team short of it, and is the best it can do.
"""
from __future__ import annotations

import functools
import math
import random
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Hashable, Iterable, Mapping, Sequence

import numpy as np

Position = tuple[float, float]


@dataclass(frozen=True)
class PlanTeam:
    id: Hashable
    table: int
    companies: tuple[str, ...] = ()
    absent: bool = False


@dataclass(frozen=True)
class PlanJudge:
    id: Hashable
    affiliation: str = ""
    available: bool = True


@dataclass(frozen=True)
class Shortfall:
    team: Hashable
    judges: int
    wanted: int
    reason: str


@dataclass
class Plan:
    """Each judge's ordered list of teams (scored teams first, in the order done) and the figures."""

    k: int
    lists: dict[Hashable, list[Hashable]]
    per_team: dict[Hashable, list[Hashable]]
    shortfalls: list[Shortfall]
    connectivity: float
    components: int
    walk: dict[Hashable, float]
    changed: int = 0  # (judge, team) pairs added or removed against the previous plan
    notes: list[str] = field(default_factory=list)
    available: list[Hashable] = field(default_factory=list)  # judges who can take teams (loads balance among them)

    @property
    def loads(self) -> dict[Hashable, int]:
        return {judge: len(teams) for judge, teams in self.lists.items()}

    def pairs(self) -> set[tuple[Hashable, Hashable]]:
        return {(judge, team) for judge, teams in self.lists.items() for team in teams}

    def summary(self) -> dict:
        coverage = [len(judges) for judges in self.per_team.values()] or [0]
        by_judge = self.loads
        loads = [by_judge.get(j, 0) for j in self.available] or [0]
        return {"teams": len(self.per_team), "judges": len(self.lists), "k": self.k,
                "min_per_team": min(coverage), "max_per_team": max(coverage),
                "min_load": min(loads), "max_load": max(loads),
                "connectivity": round(self.connectivity, 4), "components": self.components,
                "mean_walk": round(sum(self.walk.values()) / max(1, len(self.walk)), 2),
                "short": len(self.shortfalls), "changed": self.changed}


# ------------------------------------------------------------------------------------- conflicts

_SUFFIXES = re.compile(r"\b(inc|llc|ltd|gmbh|corp|corporation|co|plc|sa|ag|bv)\b\.?")


@functools.lru_cache(maxsize=4096)  # called for every (judge, team) pair of a plan
def company_key(name: str) -> str:
    """'Google Cloud, Inc.' and 'google cloud' are the same company for conflicts."""
    text = _SUFFIXES.sub(" ", name.casefold())
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


def split_companies(text: str) -> tuple[str, ...]:
    """A team's listed companies, separated by ';' or ','."""
    return tuple(part.strip() for part in re.split(r"[;,]", text or "") if part.strip())


def conflicted(judge: PlanJudge, team: PlanTeam, marked: set[tuple[Hashable, Hashable]]) -> bool:
    if (judge.id, team.id) in marked:
        return True
    mine = company_key(judge.affiliation)
    return bool(mine) and any(company_key(c) == mine for c in team.companies)


# ------------------------------------------------------------------------------------ the layout

def line_layout(tables: Iterable[int]) -> dict[int, Position]:
    """Tables along one line by number, one unit apart (the default)."""
    return {t: (float(t), 0.0) for t in tables}


def rows_layout(tables: Iterable[int], per_row: int, row_gap: float = 3.0) -> dict[int, Position]:
    """Tables in rows of `per_row`, numbered back and forth (1-10 left to right, 11-20 back)."""
    out = {}
    for t in tables:
        row, col = divmod(t - 1, per_row)
        out[t] = (float(col if row % 2 == 0 else per_row - 1 - col), row * row_gap)
    return out


def distance(a: Position, b: Position) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])


def walk_length(order: Sequence[Hashable], where: Mapping[Hashable, Position]) -> float:
    return sum(distance(where[a], where[b]) for a, b in zip(order, order[1:]))


def order_walk(teams: Sequence[Hashable], where: Mapping[Hashable, Position], start: Position) -> list[Hashable]:
    """A short path through the teams from `start`: nearest neighbour, then 2-opt."""
    left, order, here = list(teams), [], start
    while left:
        nearest = min(left, key=lambda t: (distance(here, where[t]), str(t)))
        left.remove(nearest)
        order.append(nearest)
        here = where[nearest]
    improved = True
    while improved and len(order) > 3:
        improved = False
        for i in range(len(order) - 2):
            for j in range(i + 2, len(order)):
                a, b = where[order[i]], where[order[i + 1]]
                c = where[order[j]]
                d = where[order[j + 1]] if j + 1 < len(order) else None
                before = distance(a, b) + (distance(c, d) if d else 0.0)
                after = distance(a, c) + (distance(b, d) if d else 0.0)
                if after < before - 1e-9:
                    order[i + 1:j + 1] = reversed(order[i + 1:j + 1])
                    improved = True
    return order


# ----------------------------------------------------------------------------------- connectivity

def algebraic_connectivity(pairs: Iterable[tuple[Hashable, Hashable]]) -> tuple[float, int]:
    """(second-smallest eigenvalue of the judge–team graph's Laplacian, number of components)."""
    pairs = list(pairs)
    nodes = sorted({("j", j) for j, _ in pairs} | {("t", t) for _, t in pairs}, key=str)
    if len(nodes) < 2:
        return 0.0, len(nodes)
    index = {n: i for i, n in enumerate(nodes)}
    lap = np.zeros((len(nodes), len(nodes)))
    for j, t in pairs:
        a, b = index[("j", j)], index[("t", t)]
        lap[a, b] -= 1
        lap[b, a] -= 1
        lap[a, a] += 1
        lap[b, b] += 1
    values = np.linalg.eigvalsh(lap)
    components = int(np.sum(values < 1e-9))
    return (float(values[1]) if components == 1 else 0.0), components


# ------------------------------------------------------------------------------------ the planner

def plan_assignments(teams: Sequence[PlanTeam], judges: Sequence[PlanJudge], k: int, *, seed: int = 0,
                     marked: Iterable[tuple[Hashable, Hashable]] = (),
                     done: Iterable[tuple[Hashable, Hashable]] = (),
                     previous: Mapping[Hashable, Sequence[Hashable]] | None = None,
                     positions: Mapping[int, Position] | None = None) -> Plan:
    """The plan. `done`: (judge, team) pairs already scored, kept whatever happens. `previous`: the
    plan in force (judge -> teams), kept where it still holds. `positions`: table -> (x, y)."""
    if k < 1:
        raise ValueError("k must be at least 1")
    rng = random.Random(seed)
    marked = set(marked)
    team_by = {t.id: t for t in teams}
    judge_by = {j.id: j for j in judges}
    done = {(j, t) for j, t in done if j in judge_by and t in team_by}
    present = [t for t in sorted(teams, key=lambda t: (t.table, str(t.id))) if not t.absent]
    active = [j for j in sorted(judges, key=lambda j: str(j.id)) if j.available]
    allowed = {(j.id, t.id) for j in active for t in present if not conflicted(j, t, marked)}

    on_team: dict[Hashable, set] = defaultdict(set)
    load: Counter = Counter()
    fixed = set()
    for j, t in done:
        on_team[t].add(j)
        load[j] += 1
        fixed.add((j, t))
    need = {t.id: max(0, k - len(on_team[t.id])) for t in present}
    total = sum(need.values()) + sum(load[j.id] for j in active)
    cap = math.ceil(total / len(active)) if active else 0

    def add(j, t):
        on_team[t].add(j)
        load[j] += 1
        need[t] -= 1

    # Keep the previous plan where it still holds (a present team, an available judge, no conflict).
    if previous:
        for j in sorted(previous, key=str):
            for t in previous[j]:
                if (j, t) in allowed and j not in on_team[t] and need.get(t, 0) > 0 and load[j] < cap:
                    add(j, t)

    # Most constrained teams first; each takes the least-loaded allowed judges, preferring judges it
    # shares few teams with already (no fixed panels), ties broken by the seed.
    together: Counter = Counter()
    tie = {j.id: rng.random() for j in active}
    order = sorted(present, key=lambda t: (sum((j.id, t.id) in allowed for j in active), rng.random()))
    for team in order:
        while need[team.id] > 0:
            choices = [j.id for j in active if (j.id, team.id) in allowed and j.id not in on_team[team.id]
                       and load[j.id] < cap]
            if not choices:
                break
            best = min(choices, key=lambda j: (load[j], sum(together[frozenset((j, o))] for o in on_team[team.id]),
                                               tie[j], str(j)))
            for other in on_team[team.id]:
                together[frozenset((best, other))] += 1
            add(best, team.id)
            tie[best] = rng.random()

    movable = lambda j, t: (j, t) not in fixed  # noqa: E731 - scored pairs never move

    # Repair: a team short of k takes a judge at capacity, who hands one of their teams to a judge
    # with room (an augmenting path of length two).
    for team in order:
        while need[team.id] > 0 and _augment(team.id, active, allowed, on_team, load, cap, movable, need, add):
            pass
    _rebalance(active, allowed, on_team, load, movable)

    lists_unordered: dict[Hashable, list] = {j.id: [] for j in active}
    for t, js in on_team.items():
        for j in js:
            lists_unordered.setdefault(j, []).append(t)
    where = _positions(teams, positions)
    lists, walk = {}, {}
    hall = [where[t.id] for t in sorted(teams, key=lambda t: (t.table, str(t.id)))]
    for i, j in enumerate(sorted(lists_unordered, key=str)):
        scored = [t for t in lists_unordered[j] if (j, t) in fixed]
        todo = [t for t in lists_unordered[j] if (j, t) not in fixed]
        # Judges start spread along the hall, so that they do not all queue at table 1.
        start = hall[int((i + 0.5) / len(lists_unordered) * len(hall))] if hall else (0.0, 0.0)
        path = order_walk(sorted(todo, key=lambda t: (team_by[t].table, str(t))), where, start)
        lists[j] = sorted(scored, key=lambda t: (team_by[t].table, str(t))) + path
        walk[j] = walk_length(path, where)
    return measure_plan(teams, judges, k, lists, marked=marked, done=fixed, positions=positions, previous=previous)


def measure_plan(teams: Sequence[PlanTeam], judges: Sequence[PlanJudge], k: int,
                 lists: Mapping[Hashable, Sequence[Hashable]], *, marked: Iterable[tuple[Hashable, Hashable]] = (),
                 done: Iterable[tuple[Hashable, Hashable]] = (), positions: Mapping[int, Position] | None = None,
                 previous: Mapping[Hashable, Sequence[Hashable]] | None = None) -> Plan:
    """The figures of a plan, made here or by hand: coverage with the reason for every team short of
    k, loads, connectivity, and each judge's walk through the teams not yet scored."""
    marked, done = set(marked), set(done)
    present = [t for t in teams if not t.absent]
    active = [j for j in sorted(judges, key=lambda j: str(j.id)) if j.available]
    lists = {j: list(ts) for j, ts in lists.items()}
    on_team: dict[Hashable, set] = defaultdict(set)
    for j, ts in lists.items():
        for t in ts:
            on_team[t].add(j)
    where = _positions(teams, positions)
    walk = {j: walk_length([t for t in ts if (j, t) not in done and t in where], where) for j, ts in lists.items()}
    per_team = {t.id: sorted(on_team[t.id], key=str) for t in present}
    connectivity, components = algebraic_connectivity([(j, t) for j, ts in lists.items() for t in ts if t in per_team])
    total = sum(max(k, len(on_team[t.id])) for t in present)
    cap = math.ceil(total / len(active)) if active else 0
    short = [t for t in present if len(on_team[t.id]) < k]
    # Only the pairs the reasons need: those of the teams short of k (the dashboard measures the plan
    # on every poll; all 12,000 pairs of 200 judges and 60 teams took most of its time).
    allowed = {(j.id, t.id) for t in short for j in active if not conflicted(j, t, marked)}
    shortfalls = [Shortfall(t.id, len(on_team[t.id]), k, _why_short(t, active, allowed, on_team, k, cap))
                  for t in short]
    changed = 0
    if previous is not None:
        before = {(j, t) for j, ts in previous.items() for t in ts}
        changed = len(before ^ {(j, t) for j, ts in lists.items() for t in ts})
    notes = []
    if not active:
        notes.append("No judge is available.")
    loads = [len(lists.get(j.id, [])) for j in active]
    if loads and max(loads) - min(loads) > 1:
        notes.append(f"Judges' loads range from {min(loads)} to {max(loads)}: conflicts or scored work "
                     "leave no move that evens them out.")
    if components > 1:
        notes.append(f"The judge–team graph falls into {components} parts: their scores cannot be put on one scale.")
    return Plan(k, lists, per_team, shortfalls, connectivity, components, walk, changed, notes, [j.id for j in active])


def _augment(team, active, allowed, on_team, load, cap, movable, need, add) -> bool:
    for j in sorted((j.id for j in active), key=lambda j: (load[j], str(j))):
        if (j, team) not in allowed or j in on_team[team]:
            continue
        if load[j] < cap:
            add(j, team)
            return True
        for other in sorted(t for t, js in on_team.items() if j in js and movable(j, t)):
            for j2 in sorted((x.id for x in active), key=lambda x: (load[x], str(x))):
                if load[j2] < cap and (j2, other) in allowed and j2 not in on_team[other]:
                    on_team[other].discard(j)
                    on_team[other].add(j2)
                    load[j2] += 1
                    load[j] -= 1
                    add(j, team)
                    return True
    return False


def _rebalance(active, allowed, on_team, load, movable) -> None:
    """Move teams from the busiest judges to the least busy until loads differ by at most one."""
    ids = [j.id for j in active]
    for _ in range(10 * sum(load.values()) + 10):
        if not ids:
            return
        high = max(ids, key=lambda j: (load[j], str(j)))
        low_judges = sorted((j for j in ids if load[j] < load[high] - 1), key=lambda j: (load[j], str(j)))
        if not low_judges:
            return
        moved = False
        for low in low_judges:
            for team in sorted(t for t, js in on_team.items() if high in js and movable(high, t)):
                if (low, team) in allowed and low not in on_team[team]:
                    on_team[team].discard(high)
                    on_team[team].add(low)
                    load[high] -= 1
                    load[low] += 1
                    moved = True
                    break
            if moved:
                break
        if not moved:
            return


def _why_short(team, active, allowed, on_team, k, cap) -> str:
    free = [j.id for j in active if (j.id, team.id) in allowed]
    if len(active) < k:
        return f"only {len(active)} judges are available, fewer than {k}"
    if len(free) < k:
        conflicts = len(active) - len(free)
        return (f"{conflicts} of the {len(active)} available judges have a conflict with this team, "
                f"which leaves {len(free)}")
    loads = Counter(j for js in on_team.values() for j in js)
    room = [j for j in free if j not in on_team[team.id] and loads[j] < cap]
    if room:
        return (f"the plan leaves it short although {len(room)} judges without a conflict could still go "
                "(a plan made by hand, or made before judges were added): re-plan to fill it")
    return (f"the {len(free)} judges without a conflict are full ({cap} teams each) with teams that only "
            "they can take")


def _positions(teams, positions) -> dict[Hashable, Position]:
    layout = positions or {}
    return {t.id: tuple(layout.get(t.table, (float(t.table), 0.0))) for t in teams}

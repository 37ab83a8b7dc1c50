"""The assignment plan on expos of 20, 40, 80 and 150 teams with a judge per 3 teams, k = 4.

Each expo has conflicts like a real one: a fifth of the teams list a sponsor company, a fifth of the
judges work for one of those companies, and the organiser marks a few more pairs. Reported per size,
over several seeds: judges per team (min/max), the spread of the judges' loads, the algebraic
connectivity of the judge–team graph, conflicts violated (must be 0), the mean walk per judge
(tables one unit apart) against the same lists in random order, and the planning time.
Goal: 150 teams × 50 judges planned in under 1 s on this machine.

    python bench/assignment.py [--seeds N]
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from expo_app.scoring.assignment import (PlanJudge, PlanTeam, conflicted, line_layout,  # noqa: E402
                                         plan_assignments, walk_length)

SIZES = (20, 40, 80, 150)
K = 4
GOAL_SECONDS = 1.0
COMPANIES = ("Acme Analytics", "Blue Owl AI", "Cobalt Cloud", "Delta Data", "Evergreen ML")


def expo(n_teams: int, seed: int):
    rng = random.Random(seed)
    teams = [PlanTeam(f"t{i}", i, (rng.choice(COMPANIES),) if rng.random() < 0.2 else ())
             for i in range(1, n_teams + 1)]
    judges = [PlanJudge(f"j{i}", rng.choice(COMPANIES) if rng.random() < 0.2 else "University")
              for i in range(1, n_teams // 3 + 1)]
    marked = {(rng.choice(judges).id, rng.choice(teams).id) for _ in range(n_teams // 10)}
    return teams, judges, marked


def measure(n_teams: int, seed: int) -> dict:
    teams, judges, marked = expo(n_teams, seed)
    started = time.perf_counter()
    plan = plan_assignments(teams, judges, K, seed=seed, marked=marked)
    seconds = time.perf_counter() - started
    judge_by, team_by = {j.id: j for j in judges}, {t.id: t for t in teams}
    violated = sum(conflicted(judge_by[j], team_by[t], marked) for j, t in plan.pairs())
    where = {t.id: p for t, p in zip(teams, line_layout(t.table for t in teams).values())}
    rng = random.Random(seed)
    shuffled = []
    for ts in plan.lists.values():
        order = list(ts)
        rng.shuffle(order)
        shuffled.append(walk_length(order, where))
    summary = plan.summary()
    return {**summary, "violated": violated, "random_walk": statistics.fmean(shuffled), "seconds": seconds}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    print(f"k = {K}; a judge per 3 teams; {args.seeds} seeds per size; walks in table spacings")
    print(f"{'teams':>5} {'judges':>6} | {'per team':>8} {'loads':>7} {'connect.':>8} {'parts':>5} "
          f"{'conflicts':>9} | {'walk':>6} {'random':>7} {'saved':>6} | {'time s':>7}")
    ok = True
    for n in SIZES:
        rows = [measure(n, seed) for seed in range(args.seeds)]
        per_team = f"{min(r['min_per_team'] for r in rows)}-{max(r['max_per_team'] for r in rows)}"
        loads = f"{min(r['min_load'] for r in rows)}-{max(r['max_load'] for r in rows)}"
        connect = min(r["connectivity"] for r in rows)
        parts = max(r["components"] for r in rows)
        violated = sum(r["violated"] for r in rows)
        walk = statistics.fmean(r["mean_walk"] for r in rows)
        random_walk = statistics.fmean(r["random_walk"] for r in rows)
        worst = max(r["seconds"] for r in rows)
        print(f"{n:>5} {n // 3:>6} | {per_team:>8} {loads:>7} {connect:>8.3f} {parts:>5} {violated:>9} | "
              f"{walk:>6.1f} {random_walk:>7.1f} {1 - walk / random_walk:>6.0%} | {worst:>7.3f}")
        ok &= violated == 0 and parts == 1 and all(r["min_per_team"] >= K and r["max_load"] - r["min_load"] <= 1
                                                   for r in rows)
        if n == 150:
            ok &= worst < GOAL_SECONDS
            print(f"  {'PASS' if worst < GOAL_SECONDS else 'FAIL'} 150 teams x 50 judges in {worst:.3f} s "
                  f"(goal < {GOAL_SECONDS:.0f} s, slowest of {args.seeds} seeds)")
    print("PASS every team has k judges, loads differ by at most one, no conflict, one connected graph"
          if ok else "FAIL see the table")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

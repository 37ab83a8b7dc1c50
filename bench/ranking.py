"""Benchmark of the ranking engine on simulated expos with known true team quality.

Usage: .venv/bin/python bench/ranking.py [--quick] [--seeds N] [--workers N]

For every scenario it prints Kendall's tau against the true quality and top-3 precision for `raw`,
`adjusted` and an `oracle` that knows every judge's true leniency, scale use and noise, plus how often
the 90 % rank intervals of `adjusted` contain the true rank; then PASS/FAIL lines for the goals and the
speed of analyse() with intervals. Always exits 0; read the PASS/FAIL lines.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from expo_app.scoring.ranking import analyse  # noqa: E402
from expo_app.scoring.simulate import (  # noqa: E402
    Scenario,
    kendall_tau,
    oracle_scores,
    simulate_expo,
    top_k_precision,
)

# 40 teams and 12 judges is a mid-sized school expo; a judge sees 13 teams (a two-hour round at
# about ten minutes a team) unless the scenario says otherwise.
SCENARIOS = (
    Scenario("balanced", assignment="balanced", judges_per_team=4),
    Scenario("banded", assignment="banded", judges_per_team=4),
    Scenario("sparse", assignment="balanced", judges_per_team=2),
    Scenario("erratic", assignment="balanced", judges_per_team=4, random_judges=2, flat_judges=1),
    Scenario("wide", assignment="balanced", judges_per_team=4, offset_sd=0.7, scale_sd=0.4),
    Scenario("small", n_teams=15, n_judges=6, judges_per_team=3),
)
SEEDS, QUICK_SEEDS = 200, 12
DRAWS = 1000
COVERAGE_GOAL = (0.85, 0.97)
# The goal on accuracy is against the Bayes bound (bench/bayes_bound.py, `make bench-bound`):
# `adjusted` must close at least this share of the gain the bound achieves over raw.
BOUND_GAIN_GOAL = 0.95
# teams, judges, judges per team, goal in seconds. The third is the load bench's event (bench/load.py):
# many judges, few teams, which is where the judges' part of the model dominates.
SPEED_CASES = ((40, 20, 5, 0.3), (200, 60, 6, 3.0), (60, 200, 10, 1.0))


def run_one(job: tuple[Scenario, int]) -> dict[str, float]:
    """All metrics for one simulated expo."""
    scenario, seed = job
    expo = simulate_expo(scenario, seed)
    truth = expo.true_quality
    true_rank = expo.true_ranks()
    raw = analyse(expo.scores, expo.criteria, method="raw", seed=seed, n_boot=0)
    adjusted = analyse(expo.scores, expo.criteria, method="adjusted", seed=seed, n_boot=DRAWS)
    raw_scores = {t.team: t.score for t in raw.teams}
    adjusted_scores = {t.team: t.score for t in adjusted.teams}
    oracle = oracle_scores(expo)
    bias_oracle = oracle_scores(expo, use_noise=False)
    covered = [t.rank_low <= true_rank[t.team] <= t.rank_high for t in adjusted.teams]
    return {
        "tau_raw": kendall_tau(raw_scores, truth),
        "tau_adjusted": kendall_tau(adjusted_scores, truth),
        "tau_oracle": kendall_tau(oracle, truth),
        "tau_bias_oracle": kendall_tau(bias_oracle, truth),
        "top3_raw": top_k_precision(raw_scores, truth),
        "top3_adjusted": top_k_precision(adjusted_scores, truth),
        "top3_oracle": top_k_precision(oracle, truth),
        "coverage": float(np.mean(covered)),
        "width": float(np.mean([t.rank_high - t.rank_low + 1 for t in adjusted.teams])),
    }


def mean_se(values: list[float]) -> tuple[float, float]:
    """Mean and its standard error."""
    array = np.asarray(values, dtype=float)
    return float(array.mean()), float(array.std(ddof=1) / np.sqrt(array.size)) if array.size > 1 else 0.0


def speed_case(n_teams: int, n_judges: int, per_team: int) -> float:
    """Median seconds of analyse() with intervals, from rows to result."""
    expo = simulate_expo(Scenario("speed", n_teams=n_teams, n_judges=n_judges, judges_per_team=per_team), 1)
    timings = []
    for repeat in range(5):
        start = time.perf_counter()
        analyse(expo.scores, expo.criteria, seed=repeat)
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def main(argv: list[str] | None = None) -> int:
    """Run the scenarios and the speed cases, print the table and the PASS/FAIL lines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_SEEDS} seeds per scenario (smoke run)")
    parser.add_argument("--seeds", type=int, help="seeds per scenario")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    args = parser.parse_args(argv)
    n_seeds = args.seeds or (QUICK_SEEDS if args.quick else SEEDS)

    started = time.perf_counter()
    jobs = [(scenario, seed) for scenario in SCENARIOS for seed in range(n_seeds)]
    if args.workers > 1:
        with ProcessPoolExecutor(args.workers) as pool:
            results = list(pool.map(run_one, jobs, chunksize=4))
    else:
        results = [run_one(job) for job in jobs]

    print(f"Ranking bench: {len(SCENARIOS)} scenarios x {n_seeds} seeds, {DRAWS} posterior draws, "
          f"4 criteria on 1-5, weights 25 each")
    print(f"{'scenario':<10}{'teams':>6}{'judges':>7}{'per team':>9} | {'Kendall tau  raw   adjusted  oracle':<36}"
          f"| {'top-3 raw  adj  oracle':<23}| {'90% rank cover':>14}{'width':>7}")
    verdicts: list[str] = []
    gain_sum = gap_sum = bias_gap_sum = 0.0
    coverage_all = []
    for i, scenario in enumerate(SCENARIOS):
        rows = results[i * n_seeds : (i + 1) * n_seeds]
        column = {key: [r[key] for r in rows] for key in rows[0]}
        raw_tau, raw_se = mean_se(column["tau_raw"])
        adj_tau, adj_se = mean_se(column["tau_adjusted"])
        oracle_tau, oracle_se = mean_se(column["tau_oracle"])
        diff, diff_se = mean_se([a - r for a, r in zip(column["tau_adjusted"], column["tau_raw"])])
        coverage = float(np.mean(column["coverage"]))
        coverage_all.extend(column["coverage"])
        gain_sum += adj_tau - raw_tau
        gap_sum += oracle_tau - raw_tau
        bias_gap_sum += float(np.mean(column["tau_bias_oracle"])) - raw_tau
        print(f"{scenario.name:<10}{scenario.n_teams:>6}{scenario.n_judges:>7}{scenario.judges_per_team:>9} | "
              f"{raw_tau:>13.3f}±{raw_se:.3f} {adj_tau:.3f}±{adj_se:.3f} {oracle_tau:.3f} | "
              f"{np.mean(column['top3_raw']):>8.2f} {np.mean(column['top3_adjusted']):.2f} "
              f"{np.mean(column['top3_oracle']):>6.2f} | {coverage:>13.1%}{np.mean(column['width']):>7.1f}")
        line = (f"adjusted vs raw in {scenario.name}: {diff:+.3f} (SE {diff_se:.3f}, "
                f"gap closed {(adj_tau - raw_tau) / (oracle_tau - raw_tau):.0%})")
        verdicts.append(("PASS " if diff >= -diff_se else "FAIL ") + line + " (goal: not worse by > 1 SE)")
        line = f"90% rank interval coverage in {scenario.name}: {coverage:.1%}"
        verdicts.append(("PASS " if COVERAGE_GOAL[0] <= coverage <= COVERAGE_GOAL[1] else "FAIL ") + line)

    print()
    print("\n".join(verdicts))
    closed = gain_sum / gap_sum if gap_sum > 0 else float("nan")
    print(f"INFO adjusted closes {closed:.1%} of the raw-to-oracle gap in Kendall's tau (sum over scenarios; "
          f"{gain_sum / bias_gap_sum:.1%} of the gap to an oracle that treats all judges' noise as equal)")
    print(f"     The accuracy goal is against the best any method could do on these expos: adjusted must reach "
          f">= {BOUND_GAIN_GOAL:.0%} of the Bayes bound's gain over raw. `make bench-bound` measures it and "
          "prints its PASS/FAIL line.")
    overall = float(np.mean(coverage_all))
    verdict = "PASS" if COVERAGE_GOAL[0] <= overall <= COVERAGE_GOAL[1] else "FAIL"
    print(f"{verdict} 90% rank intervals cover the true rank {overall:.1%} of the time overall "
          f"(goal {COVERAGE_GOAL[0]:.0%}-{COVERAGE_GOAL[1]:.0%})")
    for n_teams, n_judges, per_team, goal in SPEED_CASES:
        seconds = speed_case(n_teams, n_judges, per_team)
        verdict = "PASS" if seconds < goal else "FAIL"
        print(f"{verdict} analyse() with {DRAWS} draws, {n_teams} teams x {n_judges} judges "
              f"({per_team} judges per team): {seconds:.3f} s (goal < {goal} s)")
    print(f"bench took {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

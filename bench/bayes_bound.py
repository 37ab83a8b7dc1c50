"""The Bayes bound: how well any ranking method could do on the ranking bench's simulated expos.

Usage: .venv/bin/python bench/bayes_bound.py [--seeds N] [--seed-base B] [--workers N] [--check]

bench/ranking.py measures `adjusted` against an oracle that knows every judge's true leniency, scale
use and noise. No method can know those, so how close to the oracle is reachable at all? This script
answers with the best ranking the data allow: the posterior mean of each team's true quality under the
simulator's own generative model (simulate.py), computed by Gibbs sampling with data augmentation -
the hidden continuous impression behind every whole-number score (rounding and clipping at 1 and 5 are
modelled exactly), each sheet's shared impression, each team's criterion profile, and each judge's
offset, scale and noise, with the scenario's true spreads as priors. It is also told which judges score
at random. Ranking by it is (up to Monte Carlo error) the best any method can do on average, and it
is generous: a real method must estimate the spreads and find the random judges itself.

--check runs the sampler with every judge's true parameters given; it should then match or beat the
oracle (it also undoes clipping and shrinks teams with little evidence), which checks the sampler.

Pure numpy, like the engine: the normal CDF and its inverse below are standard approximations
(relative error about 1e-7), ample for sampling. Prints a table and exits 0.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from ranking import BOUND_GAIN_GOAL, SCENARIOS, mean_se  # noqa: E402

from expo_app.scoring.ranking import analyse  # noqa: E402
from expo_app.scoring.simulate import (  # noqa: E402
    CRITERIA,
    SCALE_MAX,
    SCALE_MIN,
    SimulatedExpo,
    kendall_tau,
    oracle_scores,
    simulate_expo,
)

DRAWS, BURN_IN = 800, 300
# The simulator's flat judges ("everything is a 4") have these fixed parameters (simulate_expo).
FLAT_SCALE, FLAT_NOISE_SD, FLAT_IMPRESSION_SD = 0.15, 0.2, 0.1
# Griddy Gibbs for a judge's log scale and log noise factor: this many prior SDs either side of 0.
GRID = np.linspace(-4.5, 4.5, 361)


def posterior_quality(expo: SimulatedExpo, seed: int = 0, draws: int = DRAWS, burn_in: int = BURN_IN,
                      judges_known: bool = False) -> dict[str, float]:
    """Posterior mean of each team's true quality (the mean of its criterion qualities).

    judges_known: use every judge's true offset, scale and noise instead of sampling them (--check).
    """
    sc = expo.scenario
    rng = np.random.default_rng(seed)
    names = [c["name"] for c in CRITERIA]
    n_crit = len(names)
    teams = sorted(expo.true_quality)
    team_pos = {t: i for i, t in enumerate(teams)}
    # Random judges' scores carry nothing about the teams; the bound is told who they are.
    used = [label for label in sorted(expo.judges) if expo.judges[label].kind != "random"]
    judge_pos = {label: i for i, label in enumerate(used)}
    n_teams, n_judges = len(teams), len(used)
    flat = np.array([expo.judges[label].kind == "flat" for label in used])

    sheets: dict[tuple[int, int], dict[str, int]] = {}
    for row in expo.scores:
        if row["judge"] in judge_pos:
            sheets.setdefault((judge_pos[row["judge"]], team_pos[row["team"]]), {})[row["criterion"]] = row["score"]
    keys = sorted(sheets)
    sj = np.array([k[0] for k in keys], dtype=np.intp)
    st = np.array([k[1] for k in keys], dtype=np.intp)
    values = np.array([[sheets[k][n] for n in names] for k in keys], dtype=float)
    # Each whole number stands for the interval of impressions that round to it; the ends are open.
    low = np.where(values <= SCALE_MIN, -np.inf, values - 0.5)
    high = np.where(values >= SCALE_MAX, np.inf, values + 0.5)
    centre = (SCALE_MIN + SCALE_MAX) / 2
    sheets_of = np.bincount(sj, minlength=n_judges).astype(float)

    quality = np.zeros((n_teams, n_crit))
    impression = np.zeros(len(keys))
    offset = np.zeros(n_judges)
    scale = np.where(flat, FLAT_SCALE, 1.0)
    factor = np.ones(n_judges)  # a judge's noise and impression SDs are the scenario's times this
    if judges_known:
        truth = [expo.judges[label] for label in used]
        offset = np.array([j.offset for j in truth])
        scale = np.array([j.scale for j in truth])
        factor = np.where(flat, 1.0, np.array([j.noise_sd for j in truth]) / sc.noise_sd)

    total = np.zeros(n_teams)
    for step in range(burn_in + draws):
        noise_sd = np.where(flat, FLAT_NOISE_SD, sc.noise_sd * factor)
        impression_sd = np.where(flat, FLAT_IMPRESSION_SD, sc.impression_sd * factor)
        sd = noise_sd[sj, None]
        # 1. The hidden impressions behind the scores, given everything else.
        mean = centre + offset[sj, None] + scale[sj, None] * quality[st] + impression[:, None]
        latent = truncated_normal(mean, sd, low, high, rng)
        # 2. Each sheet's shared impression.
        rest = latent - centre - offset[sj, None] - scale[sj, None] * quality[st]
        precision = n_crit / noise_sd[sj] ** 2 + 1 / impression_sd[sj] ** 2
        impression = rest.sum(axis=1) / noise_sd[sj] ** 2 / precision + rng.standard_normal(len(keys)) / np.sqrt(precision)
        # 3. Each team's criterion qualities: overall level and profile, with the scenario's spreads.
        quality = _sample_quality(latent - centre - offset[sj, None] - impression[:, None], sj, st, scale, noise_sd,
                                  n_teams, sc.quality_sd, sc.criterion_sd, rng)
        if not judges_known:
            # 4. Offsets.
            rest = latent - centre - scale[sj, None] * quality[st] - impression[:, None]
            precision = sheets_of * n_crit / noise_sd**2 + 1 / sc.offset_sd**2
            offset = (np.bincount(sj, rest.sum(axis=1), n_judges) / noise_sd**2 / precision
                      + rng.standard_normal(n_judges) / np.sqrt(precision))
            # 5. Scales, on a grid of log scale (the prior is log-normal).
            rest = latent - centre - offset[sj, None] - impression[:, None]
            qq = np.bincount(sj, (quality[st] ** 2).sum(axis=1), n_judges)
            qr = np.bincount(sj, (quality[st] * rest).sum(axis=1), n_judges)
            log_scale = GRID * sc.scale_sd
            s = np.exp(log_scale)
            log_post = -(qq[:, None] * s**2 - 2 * qr[:, None] * s) / (2 * noise_sd[:, None] ** 2) \
                - log_scale**2 / (2 * sc.scale_sd**2)
            scale = np.where(flat, FLAT_SCALE, np.exp(_grid_draw(log_scale, log_post, rng)))
            # 6. Noise factors, on a grid of log factor (log-normal prior).
            rest = latent - centre - offset[sj, None] - scale[sj, None] * quality[st] - impression[:, None]
            squares = np.bincount(sj, (rest**2).sum(axis=1), n_judges)
            impression_squares = np.bincount(sj, impression**2, n_judges)
            log_factor = GRID * sc.noise_spread
            noise, imp = sc.noise_sd * np.exp(log_factor), sc.impression_sd * np.exp(log_factor)
            log_post = (-(sheets_of * n_crit)[:, None] * np.log(noise) - squares[:, None] / (2 * noise**2)
                        - sheets_of[:, None] * np.log(imp) - impression_squares[:, None] / (2 * imp**2)
                        - log_factor**2 / (2 * sc.noise_spread**2))
            factor = np.where(flat, 1.0, np.exp(_grid_draw(log_factor, log_post, rng)))
        if step >= burn_in:
            total += quality.mean(axis=1)
    return dict(zip(teams, total / draws))


def _sample_quality(implied, sj, st, scale, noise_sd, n_teams, quality_sd, criterion_sd, rng) -> np.ndarray:
    """Draw each team's criterion qualities from their Gaussian full conditional.

    A team's criterion qualities are its level (prior SD quality_sd) plus a profile (criterion_sd each):
    the prior covariance is criterion_sd² I + quality_sd² 11ᵀ. Each sheet gives (implied / scale) with
    precision scale² / noise² per criterion, the same for every criterion, so the posterior splits into
    the mean over criteria and the contrasts, each with a closed form.
    """
    n_crit = implied.shape[1]
    sheet_precision = scale[sj] ** 2 / noise_sd[sj] ** 2
    team_precision = np.bincount(st, sheet_precision, n_teams)
    weighted = np.zeros((n_teams, n_crit))
    np.add.at(weighted, st, sheet_precision[:, None] * implied / scale[sj, None])
    average = weighted / np.maximum(team_precision, 1e-300)[:, None]
    level_data = average.mean(axis=1)
    profile_data = average - level_data[:, None]
    level_precision = 1 / (quality_sd**2 + criterion_sd**2 / n_crit) + n_crit * team_precision
    level = n_crit * team_precision * level_data / level_precision + rng.standard_normal(n_teams) / np.sqrt(level_precision)
    profile_precision = 1 / criterion_sd**2 + team_precision
    noise = rng.standard_normal((n_teams, n_crit))
    noise -= noise.mean(axis=1, keepdims=True)
    profile = (team_precision / profile_precision)[:, None] * profile_data + noise / np.sqrt(profile_precision)[:, None]
    return level[:, None] + profile


def _grid_draw(grid: np.ndarray, log_post: np.ndarray, rng) -> np.ndarray:
    """One draw per row from a density given on an even grid (jittered within the chosen cell)."""
    weights = np.exp(log_post - log_post.max(axis=1, keepdims=True))
    cumulative = np.cumsum(weights, axis=1)
    cumulative /= cumulative[:, -1:]
    index = np.minimum((cumulative < rng.random((log_post.shape[0], 1))).sum(axis=1), grid.size - 1)
    return grid[index] + (rng.random(index.size) - 0.5) * (grid[1] - grid[0])


def truncated_normal(mean, sd, low, high, rng) -> np.ndarray:
    """Draws from N(mean, sd²) restricted to [low, high], by the inverse CDF.

    Intervals above the mean are mirrored below it, where the CDF keeps its relative precision.
    """
    a, b = (low - mean) / sd, (high - mean) / sd
    mirror = a > 0
    a, b = np.where(mirror, -b, a), np.where(mirror, -a, b)
    pa, pb = normal_cdf(a), normal_cdf(b)
    x = np.clip(normal_quantile(pa + rng.random(mean.shape) * (pb - pa)), a, b)
    return mean + sd * np.where(mirror, -x, x)


_ERFC = (-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587,
         -0.82215223, 0.17087277)  # Numerical Recipes' erfc, fractional error below 1.2e-7


def normal_cdf(x: np.ndarray) -> np.ndarray:
    """Φ(x)."""
    z = np.abs(x) / np.sqrt(2.0)
    t = 1.0 / (1.0 + 0.5 * z)
    poly = np.zeros_like(t)
    for c in reversed(_ERFC[1:]):
        poly = (poly + c) * t
    erfc = t * np.exp(-z * z + _ERFC[0] + poly)
    return np.where(x < 0, 0.5 * erfc, 1.0 - 0.5 * erfc)


# Acklam's rational approximation of the normal quantile, refined below.
_A = (-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02,
      -3.066479806614716e+01, 2.506628277459239e+00)
_B = (-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01,
      -1.328068155288572e+01)
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549671010115819e+00,
      4.374664141464968e+00, 2.938163982698783e+00)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00)


def normal_quantile(p: np.ndarray) -> np.ndarray:
    """Φ⁻¹(p)."""
    p = np.clip(p, 1e-300, 1 - 1e-16)
    tail_p = np.minimum(p, 1 - p)
    q = np.sqrt(-2 * np.log(tail_p))
    tail = _horner(_C, q) / (_horner(_D, q) * q + 1)
    r = (p - 0.5) ** 2
    central = _horner(_A, r) * (p - 0.5) / (_horner(_B, r) * r + 1)
    x = np.where(tail_p < 0.02425, np.where(p < 0.5, tail, -tail), central)
    # One Halley step against normal_cdf, as Acklam suggests, brings it to normal_cdf's own precision.
    with np.errstate(over="ignore", invalid="ignore"):
        u = (normal_cdf(x) - p) * np.sqrt(2 * np.pi) * np.exp(x * x / 2)
        refined = x - u / (1 + x * u / 2)
    return np.where(np.isfinite(refined), refined, x)


def _horner(coefficients, x):
    out = np.zeros_like(x)
    for c in coefficients:
        out = out * x + c
    return out


def run_one(job: tuple[int, int, bool]) -> dict[str, float]:
    """Kendall's tau of raw, adjusted, the Bayes bound and the oracle for one simulated expo."""
    scenario_index, seed, check = job
    expo = simulate_expo(SCENARIOS[scenario_index], seed)
    truth = expo.true_quality
    raw = analyse(expo.scores, expo.criteria, method="raw", n_boot=0)
    adjusted = analyse(expo.scores, expo.criteria, method="adjusted", n_boot=0)
    result = {
        "raw": kendall_tau({t.team: t.score for t in raw.teams}, truth),
        "adjusted": kendall_tau({t.team: t.score for t in adjusted.teams}, truth),
        "bound": kendall_tau(posterior_quality(expo, seed=seed), truth),
        "oracle": kendall_tau(oracle_scores(expo), truth),
    }
    if check:
        result["known"] = kendall_tau(posterior_quality(expo, seed=seed, judges_known=True), truth)
    return result


def main(argv: list[str] | None = None) -> int:
    """Print per scenario the tau of each method and the share of the raw-to-oracle gap each closes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200, help="seeds per scenario (default 200)")
    parser.add_argument("--seed-base", type=int, default=0, help="first seed (default 0, as bench/ranking.py)")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--check", action="store_true", help="also run the sampler with the true judge parameters")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    jobs = [(i, args.seed_base + s, args.check) for i in range(len(SCENARIOS)) for s in range(args.seeds)]
    with ProcessPoolExecutor(args.workers) as pool:
        results = list(pool.map(run_one, jobs, chunksize=4))

    print(f"Bayes bound: {len(SCENARIOS)} scenarios x {args.seeds} seeds from {args.seed_base}, "
          f"{DRAWS} draws after {BURN_IN}")
    header = f"{'scenario':<10}| Kendall tau  raw  adjusted  bound  oracle | gap closed  adjusted  bound"
    print(header + ("  | judges known  vs oracle" if args.check else ""))
    sums = {key: 0.0 for key in ("adjusted", "bound", "gap")}
    for i, scenario in enumerate(SCENARIOS):
        rows = results[i * args.seeds : (i + 1) * args.seeds]
        tau = {key: float(np.mean([r[key] for r in rows])) for key in rows[0]}
        gap = tau["oracle"] - tau["raw"]
        sums["gap"] += gap
        sums["adjusted"] += tau["adjusted"] - tau["raw"]
        sums["bound"] += tau["bound"] - tau["raw"]
        line = (f"{scenario.name:<10}| {tau['raw']:>15.3f} {tau['adjusted']:>9.3f} {tau['bound']:>6.3f} "
                f"{tau['oracle']:>7.3f} | {(tau['adjusted'] - tau['raw']) / gap:>19.1%} "
                f"{(tau['bound'] - tau['raw']) / gap:>6.1%}")
        if args.check:
            diff, diff_se = mean_se([r["known"] - r["oracle"] for r in rows])
            line += f"  | {tau['known']:>12.3f} {diff:>+9.4f} (SE {diff_se:.4f})"
        print(line)
    adjusted, bound = sums["adjusted"] / sums["gap"], sums["bound"] / sums["gap"]
    print(f"all       | gap closed (sum over scenarios): adjusted {adjusted:.1%}, Bayes bound {bound:.1%}; "
          f"adjusted reaches {adjusted / bound:.0%} of the bound's gain")
    verdict = "PASS" if adjusted / bound >= BOUND_GAIN_GOAL else "FAIL"
    print(f"{verdict} adjusted reaches {adjusted / bound:.1%} of the Bayes bound's gain over raw "
          f"(goal >= {BOUND_GAIN_GOAL:.0%}; for information, {adjusted:.1%} of the raw-to-oracle gap)")
    print(f"bench took {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

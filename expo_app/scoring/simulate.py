"""Simulated expos with known true team quality, to check the ranking engine against the truth.

Pure module, deterministic per seed. Judges differ in leniency (an offset on the 1–5 scale), in scale
use (a multiplicative stretch of the quality they perceive), in noise, and a few score at random or
flat. Each sheet has 4 criteria scored as whole numbers 1–5, rounded and clipped like real judges do.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .rubric import weighted_total

SCALE_MIN, SCALE_MAX = 1, 5
CRITERIA = tuple({"name": name, "weight": 25, "min": SCALE_MIN, "max": SCALE_MAX}
                 for name in ("Idea", "Execution", "Presentation", "Impact"))
# Rounding a continuous impression to a whole level adds uniform noise of variance 1/12 per criterion.
ROUNDING_VAR = 1.0 / 12.0


@dataclass(frozen=True)
class Scenario:
    """How one kind of expo is laid out and how its judges behave (spreads are on the 1–5 scale)."""

    name: str
    n_teams: int = 40
    n_judges: int = 12
    judges_per_team: int = 4
    assignment: str = "balanced"  # balanced | banded
    quality_sd: float = 0.6  # teams' true quality
    criterion_sd: float = 0.25  # a team's strengths and weaknesses across criteria
    offset_sd: float = 0.5  # leniency: a judge's shift of every criterion
    scale_sd: float = 0.25  # scale use: log-normal stretch of the quality a judge perceives
    impression_sd: float = 0.3  # a judge's overall impression of one team, shared by its criteria
    noise_sd: float = 0.5  # per criterion
    noise_spread: float = 0.2  # log-normal spread of the noise between judges
    random_judges: int = 0
    flat_judges: int = 0


@dataclass(frozen=True)
class SimulatedJudge:
    """A judge's true behaviour; kind is 'normal', 'random' or 'flat'."""

    label: str
    kind: str
    offset: float
    scale: float
    noise_sd: float
    impression_sd: float


@dataclass
class SimulatedExpo:
    """Score rows and criteria in rank_teams' input format, plus the truth behind them."""

    scenario: Scenario
    scores: list[dict]
    criteria: list[dict]
    true_quality: dict[str, float]
    judges: dict[str, SimulatedJudge]
    assignment: list[tuple[str, str]] = field(default_factory=list)
    criterion_quality: dict[str, np.ndarray] = field(default_factory=dict)  # each team's true quality per criterion

    def true_ranks(self) -> dict[str, int]:
        """Each team's true rank (1 = best)."""
        order = sorted(self.true_quality, key=lambda team: -self.true_quality[team])
        return {team: rank for rank, team in enumerate(order, start=1)}


def team_label(index: int) -> str:
    """T001, T002, ...: labels that sort like the indices."""
    return f"T{index + 1:03d}"


def judge_label(index: int) -> str:
    """J01, J02, ...: labels that sort like the indices."""
    return f"J{index + 1:02d}"


def assign(scenario: Scenario, rng: np.random.Generator) -> list[tuple[int, int]]:
    """(judge index, team index) pairs for the scenario's assignment pattern."""
    n_teams, n_judges, k = scenario.n_teams, scenario.n_judges, scenario.judges_per_team
    pairs: list[tuple[int, int]] = []
    if scenario.assignment == "balanced":
        load = np.zeros(n_judges)
        for team in rng.permutation(n_teams):
            # Least-loaded judges first, random among equals: everyone ends up with the same workload.
            order = np.lexsort((rng.random(n_judges), load))
            for judge in order[:k]:
                pairs.append((int(judge), int(team)))
                load[judge] += 1
    elif scenario.assignment == "banded":
        # Tables stand in a row; each judge walks a window of neighbouring tables, so the judge–team
        # graph is a chain: connected, but only weakly (far-apart tables share no judge).
        width = min(int(np.ceil(n_teams * k / n_judges)), n_teams)
        stride = n_teams / n_judges
        # Windows centred on evenly spaced points, pushed inside the row at its ends, so the end
        # tables get a couple of judges too.
        starts = np.clip(np.rint(np.arange(n_judges) * stride - (width - stride) / 2), 0, n_teams - width).astype(int)
        for judge, start in enumerate(starts):
            for team in range(start, start + width):
                pairs.append((judge, team))
    else:
        raise ValueError(f"unknown assignment {scenario.assignment!r}")
    return pairs


def simulate_expo(scenario: Scenario, seed: int) -> SimulatedExpo:
    """One expo drawn from the scenario; the same seed always gives the same expo."""
    rng = np.random.default_rng([seed, _stable_hash(scenario.name)])
    n_criteria = len(CRITERIA)
    quality = rng.normal(0.0, scenario.quality_sd, scenario.n_teams)
    criterion_quality = quality[:, None] + rng.normal(0.0, scenario.criterion_sd, (scenario.n_teams, n_criteria))
    # The truth is what an ordinary judge perceives on average: the weighted mean over criteria.
    true_quality = criterion_quality.mean(axis=1)

    kinds = ["normal"] * scenario.n_judges
    special = rng.permutation(scenario.n_judges)
    for i in special[: scenario.random_judges]:
        kinds[i] = "random"
    for i in special[scenario.random_judges : scenario.random_judges + scenario.flat_judges]:
        kinds[i] = "flat"
    judges = []
    for j in range(scenario.n_judges):
        noise_factor = float(np.exp(rng.normal(0.0, scenario.noise_spread)))
        scale = float(np.exp(rng.normal(0.0, scenario.scale_sd)))
        offset = float(rng.normal(0.0, scenario.offset_sd))
        noise_sd, impression_sd = scenario.noise_sd * noise_factor, scenario.impression_sd * noise_factor
        if kinds[j] == "flat":
            # "Everything is a 4": barely reacts to the team and barely varies.
            scale, noise_sd, impression_sd = 0.15, 0.2, 0.1
        judges.append(SimulatedJudge(judge_label(j), kinds[j], offset, scale, noise_sd, impression_sd))

    pairs = assign(scenario, rng)
    rows: list[dict] = []
    for judge_i, team_i in pairs:
        values = draw_sheet(judges[judge_i], criterion_quality[team_i], rng)
        for spec, value in zip(CRITERIA, values):
            rows.append({"judge": judges[judge_i].label, "team": team_label(team_i), "criterion": spec["name"],
                         "score": int(value)})
    return SimulatedExpo(
        scenario=scenario,
        scores=rows,
        criteria=[dict(c) for c in CRITERIA],
        true_quality={team_label(t): float(true_quality[t]) for t in range(scenario.n_teams)},
        judges={j.label: j for j in judges},
        assignment=[(judges[j].label, team_label(t)) for j, t in pairs],
        criterion_quality={team_label(t): criterion_quality[t] for t in range(scenario.n_teams)},
    )


def draw_sheet(judge: SimulatedJudge, criterion_quality: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One sheet (a whole level 1–5 per criterion) as this judge would score a team of this quality."""
    n_criteria = len(criterion_quality)
    if judge.kind == "random":
        return rng.integers(SCALE_MIN, SCALE_MAX + 1, n_criteria).astype(float)
    centre = (SCALE_MIN + SCALE_MAX) / 2
    impression = rng.normal(0.0, judge.impression_sd)
    latent = (centre + judge.offset + judge.scale * criterion_quality + impression
              + rng.normal(0.0, judge.noise_sd, n_criteria))
    return np.clip(np.rint(latent), SCALE_MIN, SCALE_MAX)


def oracle_scores(expo: SimulatedExpo, use_noise: bool = True) -> dict[str, float]:
    """Team scores from someone who knows every judge's true offset, scale and noise.

    Each sheet is turned back into the quality it implies, (y - offset) / scale, and a team's sheets are
    averaged with weights scale² / noise variance (scale² alone if not use_noise); random judges get
    weight 0. Rounding and clipping are not undone, so the oracle is a practical ceiling, not an exact
    one.
    """
    sheets: dict[tuple[str, str], dict[str, float]] = {}
    for row in expo.scores:
        sheets.setdefault((row["judge"], row["team"]), {})[row["criterion"]] = row["score"]
    centre = (SCALE_MIN + SCALE_MAX) / 2
    levels_per_point = (SCALE_MAX - SCALE_MIN) / 100.0
    sums: dict[str, list[float]] = {team: [0.0, 0.0, 0.0, 0.0] for team in expo.true_quality}
    n_criteria = len(expo.criteria)
    for (judge_label_, team), values in sheets.items():
        judge = expo.judges[judge_label_]
        points = weighted_total(values, expo.criteria)
        level = SCALE_MIN + points * levels_per_point
        acc = sums[team]
        acc[2] += level
        acc[3] += 1
        if judge.kind == "random":
            continue
        implied = (level - centre - judge.offset) / judge.scale
        variance = judge.impression_sd**2 + (judge.noise_sd**2 + ROUNDING_VAR) / n_criteria if use_noise else 1.0
        weight = judge.scale**2 / variance
        acc[0] += weight * implied
        acc[1] += weight
    return {team: (acc[0] / acc[1]) if acc[1] > 0 else (acc[2] / max(acc[3], 1)) for team, acc in sums.items()}


def kendall_tau(estimate: dict, truth: dict) -> float:
    """Kendall's tau-b between two scorings of the same teams."""
    teams = list(truth)
    x = np.array([estimate[t] for t in teams], dtype=float)
    y = np.array([truth[t] for t in teams], dtype=float)
    dx = np.sign(x[:, None] - x[None, :])
    dy = np.sign(y[:, None] - y[None, :])
    upper = np.triu_indices(len(teams), 1)
    concordance = (dx * dy)[upper].sum()
    pairs_x = np.abs(dx[upper]).sum()
    pairs_y = np.abs(dy[upper]).sum()
    if pairs_x == 0 or pairs_y == 0:
        return 0.0
    return float(concordance / np.sqrt(pairs_x * pairs_y))


def top_k_precision(estimate: dict, truth: dict, k: int = 3) -> float:
    """Share of the estimated top k that is in the true top k."""
    best_estimated = set(sorted(estimate, key=lambda t: -estimate[t])[:k])
    best_true = set(sorted(truth, key=lambda t: -truth[t])[:k])
    return len(best_estimated & best_true) / k


def _stable_hash(text: str) -> int:
    """A hash that, unlike hash(), is the same in every Python process."""
    value = 0
    for ch in text:
        value = (value * 131 + ord(ch)) % (2**31 - 1)
    return value

"""Ranking teams from judges' score sheets: raw means, the judge-adjusted model, uncertainty, diagnostics.

Pure module: standard library and numpy only. Input is one row per judge × team × criterion; a sheet is
one judge's rows for one team, and its total is rubric.weighted_total (points out of 100).

A sheet that lacks a criterion is incomplete and is skipped (with a warning): its total is undefined,
and guessing the missing value would put words in the judge's mouth. The team's `judges` count only
judges with a complete sheet.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any, Hashable, Iterable, Mapping, Sequence

import numpy as np

from .model import JudgeModelFit, fit_judge_model
from .rubric import CriterionSpec, as_specs, weighted_total

METHODS = ("adjusted", "raw")
DEFAULT_DRAWS = 1000
INTERVAL_LEVEL = 0.90
TOP_K = 3
# A judge needs this many teams before their leniency can be told apart from their teams' quality.
MIN_TEAMS_FOR_CORRECTION = 3
# Offsets further than this many robust SDs from the median judge's are flagged ...
OUTLIER_ROBUST_SDS = 2.5
# ... but never for less than this many points: a judge 3 points off a very uniform panel is no news.
OUTLIER_MIN_POINTS = 4.0
# A judge whose information weight (scale² / noise) is below this share of the median judge's counts
# for little: their scores barely follow what the other judges see.
ERRATIC_WEIGHT_SHARE = 0.25
# A judge whose totals vary less than this share of the median judge's spread is scoring flat.
FLAT_SPREAD_SHARE = 0.3
# Scores are compared after rounding to this many decimals, so float noise cannot break a real tie.
SCORE_DECIMALS = 6


class _ItemAccess:
    """Lets a dataclass be read as obj.key and obj["key"] (and turned into a dict with dict(obj))."""

    def __getitem__(self, key: str) -> Any:
        if key in self._field_names():
            return getattr(self, key)
        raise KeyError(key)

    def keys(self) -> list[str]:
        """The field names (so dict(obj) works)."""
        return list(self._field_names())

    def get(self, key: str, default: Any = None) -> Any:
        """obj[key], or default for a name that is not a field."""
        return self[key] if key in self._field_names() else default

    def __contains__(self, key: object) -> bool:
        return key in self._field_names()

    def as_dict(self) -> dict[str, Any]:
        """The fields as a plain dict."""
        return {name: getattr(self, name) for name in self._field_names()}

    @classmethod
    def _field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))  # type: ignore[arg-type]


@dataclass(frozen=True)
class TeamRanking(_ItemAccess):
    """One team's place in the ranking; scores are rubric totals in points out of 100.

    score: the method's score (raw mean or adjusted); score_low/high and rank_low/high: 90 % intervals;
    judges: judges with a complete sheet for the team; p_top3: chance of being in the top 3;
    adjusted_score: the adjusted score whatever the method; disagreement: SD of the team's sheets once
    each judge's leniency and scale use are removed (None with one judge); criterion_means: mean value
    per criterion on that criterion's own scale.
    """

    rank: int
    team: Hashable
    score: float
    raw_mean: float
    score_low: float
    score_high: float
    rank_low: int
    rank_high: int
    judges: int
    p_top3: float
    adjusted_score: float
    disagreement: float | None
    criterion_means: dict[str, float] = field(hash=False)


@dataclass(frozen=True)
class JudgeDiagnostics(_ItemAccess):
    """How one judge scored compared with the others.

    offset: points more lenient than the average judge (negative: harsher); scale: how stretched their
    scores are (1 = typical, near 0 = they do not follow team quality); spread: SD of their totals;
    residual_sd: SD of what the model cannot explain; weight: their influence on adjusted scores
    relative to the median judge (1); flags: any of too_few_teams, outlier_offset, erratic, flat.
    """

    judge: Hashable
    teams_seen: int
    mean_total: float
    offset: float
    scale: float
    spread: float
    residual_sd: float
    weight: float
    component: int
    flags: tuple[str, ...]


@dataclass(frozen=True)
class Component(_ItemAccess):
    """A group of judges and teams linked by sheets; scores compare fully only within a group."""

    index: int
    teams: tuple
    judges: tuple


@dataclass(frozen=True)
class Reliability(_ItemAccess):
    """How much of the scoring is about the teams rather than the judges (points for SDs).

    icc1: one-way ICC(1) of the sheet totals, the share of a single sheet's variance due to the team
    (judge leniency counts as error). icc_adjusted: the same after the judge correction, from the
    model's variance components. team_mean: reliability of an adjusted team score with the average
    number of judges per team (Spearman–Brown on icc_adjusted).
    """

    icc1: float | None
    icc_adjusted: float | None
    team_mean: float | None
    judges_per_team: float
    team_sd: float
    offset_sd: float
    noise_sd: float


@dataclass(frozen=True)
class RankingWarning(_ItemAccess):
    """A human-readable warning plus what it is about; str() gives the message."""

    code: str
    message: str
    judges: tuple = ()
    teams: tuple = ()

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class RankingResult(_ItemAccess):
    """Everything analyse() found: the ranking, per-judge diagnostics, graph components, warnings."""

    method: str
    seed: int
    n_boot: int
    teams: list[TeamRanking]
    judges: list[JudgeDiagnostics]
    components: list[Component]
    reliability: Reliability | None
    warnings: list[RankingWarning]
    skipped_sheets: list[tuple[Hashable, Hashable, tuple[str, ...]]]

    @property
    def connected(self) -> bool:
        """True when every judge and team is linked to every other through shared sheets."""
        return len(self.components) <= 1

    @property
    def warning_messages(self) -> list[str]:
        """The warnings as plain strings."""
        return [w.message for w in self.warnings]


def rank_teams(scores: Iterable[Mapping], criteria: Iterable, method: str = "adjusted",
               seed: int = 0) -> list[TeamRanking]:
    """Rank teams best first; see analyse() for the rules and ranking_sort_key() for tie-breaks."""
    return analyse(scores, criteria, method=method, seed=seed).teams


def analyse(
    scores: Iterable[Mapping],
    criteria: Iterable,
    method: str = "adjusted",
    seed: int = 0,
    n_boot: int = DEFAULT_DRAWS,
) -> RankingResult:
    """Rank teams and diagnose the judging; the same seed always gives the same intervals.

    method "raw": a team's score is the mean of its sheet totals; intervals come from resampling each
    team's sheets (bootstrap). method "adjusted" (default): the judge-effect model of model.py removes
    each judge's leniency and scale use and down-weights noisy judges; the score is what an average
    judge would give, in points out of 100, and intervals come from n_boot draws from the fitted
    model's posterior. Intervals are 90 % (score intervals kept within 0–100); p_top3 is the share of
    draws in which the team is in the top 3. n_boot=0 skips the draws and collapses the intervals onto
    the point estimates. An adjusted score itself is not clipped: in extreme cases (a very harsh judge
    who gave top marks) it can pass 100, and clipping would hide the order.

    Raises ValueError for an unknown method, a malformed criterion, an unknown criterion in a row, a
    score that is not a number or outside its criterion's scale, or a criterion scored twice by the
    same judge for the same team. Sheets missing a criterion are skipped with a warning.
    """
    if method not in METHODS:
        raise ValueError(f"unknown ranking method {method!r}; use one of {', '.join(METHODS)}")
    if n_boot < 0:
        raise ValueError("n_boot must be 0 or more")
    rows = list(scores)
    specs = _checked_specs(criteria, required=bool(rows))
    sheets, skipped = _collect_sheets(rows, specs)
    warnings = [_incomplete_sheet_warning(judge, team, missing) for judge, team, missing in skipped]
    judge_labels = _canonical_order({judge for judge, _ in sheets})
    team_labels = _canonical_order({team for _, team in sheets})
    for team in _canonical_order({team for _, team, _ in skipped} - set(team_labels)):
        warnings.append(RankingWarning(
            "team_left_out", f"Team {_name(team)} has no complete score sheet and is left out of the ranking.",
            teams=(team,)))
    if not sheets:
        return RankingResult(method, seed, n_boot, [], [], [], None, warnings, skipped)

    judge_pos = {label: i for i, label in enumerate(judge_labels)}
    team_pos = {label: i for i, label in enumerate(team_labels)}
    pairs = sorted(sheets, key=lambda pair: (judge_pos[pair[0]], team_pos[pair[1]]))
    judge_index = np.array([judge_pos[j] for j, _ in pairs], dtype=np.intp)
    team_index = np.array([team_pos[t] for _, t in pairs], dtype=np.intp)
    totals = np.array([weighted_total(sheets[pair], specs) for pair in pairs])
    n_judges, n_teams = len(judge_labels), len(team_labels)

    within_ss, within_df = _within_sheet_dispersion(pairs, sheets, specs, team_index, n_teams)
    fit = fit_judge_model(judge_index, team_index, totals, n_judges, n_teams,
                          within_sheet_ss=within_ss, within_sheet_df=within_df)
    judges_per_team = np.bincount(team_index, minlength=n_teams)
    raw_means = np.bincount(team_index, totals, n_teams) / judges_per_team
    adjusted = fit.team_scores()
    rng = np.random.default_rng(seed)
    if method == "adjusted":
        point = adjusted
        draws = fit.draw_team_scores(n_boot, rng) if n_boot else None
    else:
        point = raw_means
        draws = _bootstrap_raw_means(team_index, totals, n_teams, n_boot, rng) if n_boot else None

    components = _components(judge_index, team_index, judge_labels, team_labels)
    judge_component = {judge: c.index for c in components for judge in c.judges}
    judges = _judge_diagnostics(fit, judge_index, totals, judge_labels, judge_component)
    warnings += _graph_warnings(components) + _judge_warnings(judges) + _team_warnings(team_labels, judges_per_team)

    teams = _team_rankings(
        team_labels, point, adjusted, raw_means, judges_per_team, draws,
        _disagreement(fit.residuals, team_index, n_teams),
        _criterion_means(pairs, sheets, specs, team_labels),
    )
    reliability = _reliability(fit, totals, team_index, judges_per_team)
    return RankingResult(method, seed, n_boot, teams, judges, components, reliability, warnings, skipped)


def ranking_sort_key(score: float, judges: int, raw_mean: float, team: Hashable) -> tuple:
    """Sort key that orders teams best first; this docstring is the one statement of the tie-breaks.

    1. higher score (the method's score: adjusted or raw), compared rounded to 6 decimals;
    2. then more judges (more evidence);
    3. then higher raw mean, rounded to 6 decimals;
    4. then team name, case-insensitive ascending (then case-sensitive, then repr, so the order is total).
    Ranks are then 1..n in this order: no two teams share a rank.
    """
    name = str(team)
    return (-round(float(score), SCORE_DECIMALS), -int(judges), -round(float(raw_mean), SCORE_DECIMALS),
            name.casefold(), name, repr(team))


def _team_rankings(labels, point, adjusted, raw_means, judges_per_team, draws, disagreement, criterion_means):
    n_teams = len(labels)
    order = sorted(range(n_teams),
                   key=lambda i: ranking_sort_key(point[i], judges_per_team[i], raw_means[i], labels[i]))
    rank_of = np.empty(n_teams, dtype=int)
    rank_of[order] = np.arange(1, n_teams + 1)
    if draws is None:
        score_low = score_high = point
        rank_low = rank_high = rank_of
        p_top = (rank_of <= TOP_K).astype(float)
    else:
        tail = (1.0 - INTERVAL_LEVEL) / 2
        # Totals live on 0-100; draws beyond are the normal approximation's tails, not possible scores.
        score_low, score_high = np.clip(np.quantile(draws, [tail, 1.0 - tail], axis=0), 0.0, 100.0)
        # Break ties within a draw by the point ranking, so equal draws (e.g. a raw bootstrap of
        # identical sheets) rank the way the published ranking does.
        draw_ranks = _ranks_per_draw(draws, rank_of)
        rank_low = np.quantile(draw_ranks, tail, axis=0, method="lower")
        rank_high = np.quantile(draw_ranks, 1.0 - tail, axis=0, method="higher")
        p_top = (draw_ranks <= TOP_K).mean(axis=0)
        # The intervals must contain the published point, whatever the draws say.
        score_low, score_high = np.minimum(score_low, point), np.maximum(score_high, point)
        rank_low, rank_high = np.minimum(rank_low, rank_of), np.maximum(rank_high, rank_of)
    result = []
    for i in order:
        result.append(TeamRanking(
            rank=int(rank_of[i]),
            team=labels[i],
            score=_round(point[i]),
            raw_mean=_round(raw_means[i]),
            score_low=_round(score_low[i]),
            score_high=_round(score_high[i]),
            rank_low=int(rank_low[i]),
            rank_high=int(rank_high[i]),
            judges=int(judges_per_team[i]),
            p_top3=float(p_top[i]),
            adjusted_score=_round(adjusted[i]),
            disagreement=None if disagreement[i] is None else _round(disagreement[i]),
            criterion_means=criterion_means[i],
        ))
    return result


def _ranks_per_draw(draws: np.ndarray, point_rank: np.ndarray) -> np.ndarray:
    """Rank of every team within every draw (1 = best)."""
    order = np.lexsort((np.broadcast_to(point_rank, draws.shape), -draws), axis=1)
    ranks = np.empty_like(order)
    rows = np.arange(draws.shape[0])[:, None]
    ranks[rows, order] = np.arange(1, draws.shape[1] + 1)
    return ranks


def _within_sheet_dispersion(pairs, sheets, specs, team_index, n_teams) -> tuple[np.ndarray, np.ndarray]:
    """Per sheet, how far its criteria stray from the team's criterion profile, and the degrees of freedom.

    A careful judge's criteria go up and down with the team's strengths (the profile the other judges
    see too); a careless or random judge's criteria jump about. The sum of squares (in points) and its
    expected multiple of the judge's noise per criterion feed the model's estimate of each judge's noise.
    """
    n_criteria = len(specs)
    points = np.array([[100.0 * spec.fraction(sheets[pair][spec.name]) for spec in specs] for pair in pairs])
    deviation = points - points.mean(axis=1, keepdims=True)
    judges_per_team = np.bincount(team_index, minlength=n_teams).astype(float)
    profile = np.zeros((n_teams, n_criteria))
    np.add.at(profile, team_index, deviation)
    profile /= judges_per_team[:, None]
    residual = deviation - profile[team_index]
    ss = (residual**2).sum(axis=1)
    df = (n_criteria - 1) * (1.0 - 1.0 / judges_per_team[team_index])
    return ss, df


def _bootstrap_raw_means(team_index, totals, n_teams, n_boot, rng) -> np.ndarray:
    """Raw means of each team's sheets resampled with replacement (n_boot × teams)."""
    draws = np.empty((n_boot, n_teams))
    for team in range(n_teams):
        own = totals[team_index == team]
        picks = rng.integers(0, own.size, (n_boot, own.size))
        draws[:, team] = own[picks].mean(axis=1)
    return draws


def _checked_specs(criteria: Iterable, required: bool) -> list[CriterionSpec]:
    try:
        specs = as_specs(list(criteria))
    except KeyError as missing:
        raise ValueError(f"a criterion has no {missing.args[0]!r}; criteria need name, weight, min and max") from None
    except (TypeError, ValueError) as bad:
        raise ValueError(f"a criterion has a weight, min or max that is not a number ({bad})") from None
    if required and not specs:
        raise ValueError("there are scores but no criteria")
    seen: set[str] = set()
    for spec in specs:
        if spec.name in seen:
            raise ValueError(f"criterion {spec.name!r} appears twice")
        seen.add(spec.name)
        if not spec.min < spec.max:
            raise ValueError(f"criterion {spec.name!r}: min {spec.min} must be below max {spec.max}")
        if not (math.isfinite(spec.weight) and spec.weight >= 0):
            raise ValueError(f"criterion {spec.name!r}: weight {spec.weight} must be 0 or more")
    if specs and sum(spec.weight for spec in specs) <= 0:
        raise ValueError("the criteria's weights must add up to more than zero")
    return specs


def _collect_sheets(rows: Sequence[Mapping], specs: list[CriterionSpec]):
    """Group rows into complete sheets {(judge, team): values}; list the incomplete ones separately."""
    by_name = {spec.name: spec for spec in specs}
    cells: dict[tuple, dict[str, float]] = {}
    for number, row in enumerate(rows, start=1):
        try:
            judge, team, criterion, value = row["judge"], row["team"], row["criterion"], row["score"]
        except KeyError as missing:
            raise ValueError(f"score row {number} has no {missing.args[0]!r}; "
                             "rows need judge, team, criterion and score") from None
        except TypeError:
            raise ValueError(f"score row {number} is not a mapping with judge, team, criterion and score") from None
        where = f"judge {_name(judge)}, team {_name(team)}"
        spec = by_name.get(str(criterion))
        if spec is None:
            known = ", ".join(repr(name) for name in by_name)
            raise ValueError(f"unknown criterion {criterion!r} ({where}); the criteria are {known}")
        try:
            number_value = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"score {value!r} for {spec.name!r} ({where}) is not a number") from None
        if not math.isfinite(number_value) or not spec.min <= number_value <= spec.max:
            raise ValueError(
                f"score {value!r} for {spec.name!r} ({where}) is outside its scale {spec.min}–{spec.max}")
        sheet = cells.setdefault((judge, team), {})
        if spec.name in sheet:
            raise ValueError(f"{where} has two scores for {spec.name!r}")
        sheet[spec.name] = number_value
    complete: dict[tuple, dict[str, float]] = {}
    skipped = []
    for (judge, team), values in cells.items():
        missing = tuple(spec.name for spec in specs if spec.name not in values)
        if missing:
            skipped.append((judge, team, missing))
        else:
            complete[(judge, team)] = values
    skipped.sort(key=lambda s: (_label_key(s[0]), _label_key(s[1])))
    return complete, skipped


def _components(judge_index, team_index, judge_labels, team_labels) -> list[Component]:
    """Connected components of the judge–team graph, biggest first."""
    n_judges = len(judge_labels)
    parent = list(range(n_judges + len(team_labels)))

    def root(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for judge, team in zip(judge_index, team_index):
        a, b = root(int(judge)), root(n_judges + int(team))
        if a != b:
            parent[b] = a
    groups: dict[int, tuple[list, list]] = {}
    for j, label in enumerate(judge_labels):
        groups.setdefault(root(j), ([], []))[0].append(label)
    for t, label in enumerate(team_labels):
        groups.setdefault(root(n_judges + t), ([], []))[1].append(label)
    ordered = sorted(groups.values(), key=lambda g: (-len(g[1]), -len(g[0]), _label_key(g[1][0])))
    return [Component(i, tuple(teams), tuple(judges)) for i, (judges, teams) in enumerate(ordered, start=1)]


def _judge_diagnostics(fit: JudgeModelFit, judge_index, totals, labels, component_of) -> list[JudgeDiagnostics]:
    n_judges = len(labels)
    typical_scale = fit.typical_scale
    teams_seen = np.bincount(judge_index, minlength=n_judges)
    mean_total = np.bincount(judge_index, totals, n_judges) / teams_seen
    spread = np.sqrt(np.bincount(judge_index, (totals - mean_total[judge_index]) ** 2, n_judges) / teams_seen)
    residual_sd = np.sqrt(np.bincount(judge_index, fit.residuals**2, n_judges) / teams_seen)
    information = fit.judge_scale**2 / fit.judge_noise_var
    weight = information / max(float(np.median(information)), 1e-300)
    offset = fit.judge_offset - fit.average_offset
    scale = fit.judge_scale / typical_scale

    settled = teams_seen >= MIN_TEAMS_FOR_CORRECTION
    centre = float(np.median(offset[settled])) if settled.any() else 0.0
    robust_sd = 1.4826 * float(np.median(np.abs(offset[settled] - centre))) if settled.any() else 0.0
    outlier_limit = max(OUTLIER_ROBUST_SDS * robust_sd, OUTLIER_MIN_POINTS)
    typical_spread = float(np.median(spread[settled])) if settled.any() else 0.0
    panel_big_enough = int(settled.sum()) >= 4

    result = []
    for j, label in enumerate(labels):
        flags = []
        if not settled[j]:
            flags.append("too_few_teams")
        elif panel_big_enough:
            if abs(offset[j] - centre) > outlier_limit:
                flags.append("outlier_offset")
            if spread[j] < FLAT_SPREAD_SHARE * typical_spread:
                flags.append("flat")
            elif weight[j] < ERRATIC_WEIGHT_SHARE or not fit.judge_follows[j]:
                flags.append("erratic")
        result.append(JudgeDiagnostics(
            judge=label,
            teams_seen=int(teams_seen[j]),
            mean_total=_round(mean_total[j]),
            offset=_round(offset[j]),
            scale=_round(scale[j]),
            spread=_round(spread[j]),
            residual_sd=_round(residual_sd[j]),
            weight=_round(weight[j]),
            component=component_of[label],
            flags=tuple(flags),
        ))
    return result


def _graph_warnings(components: list[Component]) -> list[RankingWarning]:
    if len(components) <= 1:
        return []
    count = len(components)
    warnings = []
    for c in components:
        warnings.append(RankingWarning(
            "disconnected",
            f"Group {c.index} of {count} (teams {_names(c.teams)}; judges {_names(c.judges)}) shares no judge "
            f"with the other groups: its scores compare with theirs only if its judges are as lenient on "
            f"average as everyone else's. Have a judge score teams across groups to link them.",
            judges=c.judges, teams=c.teams))
    return warnings


def _judge_warnings(judges: list[JudgeDiagnostics]) -> list[RankingWarning]:
    warnings = []
    for d in judges:
        who = f"Judge {_name(d.judge)}"
        if "too_few_teams" in d.flags:
            warnings.append(RankingWarning(
                "too_few_teams",
                f"{who} scored only {d.teams_seen} team{'s' if d.teams_seen != 1 else ''}: too few to measure "
                f"their leniency, so their offset is shrunk towards 0 ({d.offset:+.1f} points).",
                judges=(d.judge,)))
        if "outlier_offset" in d.flags:
            kind = "more lenient" if d.offset > 0 else "harsher"
            warnings.append(RankingWarning(
                "outlier_offset",
                f"{who} is far {kind} than the other judges ({d.offset:+.1f} points); the adjusted ranking "
                f"corrects for it, the raw one does not.",
                judges=(d.judge,)))
        if "flat" in d.flags:
            warnings.append(RankingWarning(
                "flat",
                f"{who} gave nearly the same total to every team (SD {d.spread:.1f} points); their sheets "
                f"tell little apart and count less.",
                judges=(d.judge,)))
        if "erratic" in d.flags:
            warnings.append(RankingWarning(
                "erratic",
                f"{who}'s scores barely follow what the other judges saw (random or careless scoring?); "
                f"they count for {d.weight:.0%} of a typical judge.",
                judges=(d.judge,)))
    return warnings


def _team_warnings(team_labels, judges_per_team) -> list[RankingWarning]:
    return [
        RankingWarning("single_judge",
                       f"Team {_name(team)} was scored by only one judge; its score cannot be cross-checked.",
                       teams=(team,))
        for team, count in zip(team_labels, judges_per_team) if count == 1
    ]


def _incomplete_sheet_warning(judge, team, missing) -> RankingWarning:
    return RankingWarning(
        "incomplete_sheet",
        f"Skipped the sheet of judge {_name(judge)} for team {_name(team)}: no score for {', '.join(missing)}.",
        judges=(judge,), teams=(team,))


def _disagreement(residuals, team_index, n_teams) -> list[float | None]:
    """SD of each team's model residuals (judge effects removed); None with a single judge."""
    counts = np.bincount(team_index, minlength=n_teams)
    sums = np.bincount(team_index, residuals, n_teams)
    squares = np.bincount(team_index, residuals**2, n_teams)
    out: list[float | None] = []
    for count, total, square in zip(counts, sums, squares):
        if count < 2:
            out.append(None)
        else:
            out.append(math.sqrt(max(square - total * total / count, 0.0) / (count - 1)))
    return out


def _criterion_means(pairs, sheets, specs, team_labels) -> list[dict[str, float]]:
    """Per team, the mean value of each criterion on its own scale over the complete sheets."""
    team_pos = {label: i for i, label in enumerate(team_labels)}
    sums = [dict.fromkeys((s.name for s in specs), 0.0) for _ in team_labels]
    counts = [0] * len(team_labels)
    for judge, team in pairs:
        i = team_pos[team]
        counts[i] += 1
        for name, value in sheets[(judge, team)].items():
            sums[i][name] += value
    return [{name: _round(total / counts[i]) for name, total in sums[i].items()} for i in range(len(team_labels))]


def _reliability(fit: JudgeModelFit, totals, team_index, judges_per_team) -> Reliability:
    n_teams = len(judges_per_team)
    n_sheets = totals.size
    icc1 = None
    if n_teams >= 2 and n_sheets > n_teams:
        # One-way random-effects ANOVA with unequal group sizes.
        means = np.bincount(team_index, totals, n_teams) / judges_per_team
        between = float((judges_per_team * (means - totals.mean()) ** 2).sum()) / (n_teams - 1)
        within = float(((totals - means[team_index]) ** 2).sum()) / (n_sheets - n_teams)
        k0 = (n_sheets - float((judges_per_team**2).sum()) / n_sheets) / (n_teams - 1)
        denominator = between + (k0 - 1) * within
        icc1 = (between - within) / denominator if denominator > 0 else None
    team_var = fit.team_var * fit.typical_scale**2
    noise_var = float(np.median(fit.judge_noise_var))
    icc_adjusted = team_mean = None
    # Without a team seen by two judges nothing separates noise from quality.
    if n_teams >= 2 and judges_per_team.max() >= 2 and team_var + noise_var > 0:
        icc_adjusted = team_var / (team_var + noise_var)
    k = float(judges_per_team.mean())
    if icc_adjusted is not None:
        team_mean = k * icc_adjusted / (1 + (k - 1) * icc_adjusted)
    return Reliability(
        icc1=None if icc1 is None else _round(icc1, 4),
        icc_adjusted=None if icc_adjusted is None else _round(icc_adjusted, 4),
        team_mean=None if team_mean is None else _round(team_mean, 4),
        judges_per_team=_round(k, 4),
        team_sd=_round(math.sqrt(team_var)),
        offset_sd=_round(math.sqrt(fit.offset_var)),
        noise_sd=_round(math.sqrt(noise_var)),
    )


def _canonical_order(labels: Iterable[Hashable]) -> list:
    """Labels in a fixed order, so results do not depend on the order of the input rows."""
    return sorted(labels, key=_label_key)


def _label_key(label: Hashable) -> tuple[str, str, str]:
    text = str(label)
    return (text.casefold(), text, repr(label))


def _name(label: Hashable) -> str:
    return repr(label) if isinstance(label, str) else str(label)


def _names(labels: Iterable[Hashable], limit: int = 8) -> str:
    labels = list(labels)
    shown = ", ".join(_name(label) for label in labels[:limit])
    return shown + (f" and {len(labels) - limit} more" if len(labels) > limit else "")


def _round(value: float, decimals: int = SCORE_DECIMALS) -> float:
    return round(float(value), decimals)

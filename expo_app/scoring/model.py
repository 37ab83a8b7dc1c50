"""The judge-effect model behind the `adjusted` ranking.

Pure numpy. A sheet total y (points out of 100) from judge j for team t is modelled as

    y = m + b_j + s_j * a_t + e,    e ~ N(0, v_j)

m: the overall level; a_t: the team's quality; b_j: judge j's leniency (offset); s_j: judge j's scale
use (1 = ordinary, below 1 = compresses, near 0 = does not follow team quality: random or flat
scoring); v_j: judge j's noise. The effects are random effects, which turns the least squares into a
ridge: a_t ~ N(0, tau2) and b_j ~ N(0, omega2), so a judge who saw few teams keeps an offset near 0,
and groups of teams that share no judge are assumed to have equally lenient judges on average. s_j has
a two-part prior, "follows the teams" (near 1) or "ignores them" (near 0), so scale use is corrected
only as far as the data support it. tau2, omega2, the scales and each judge's noise are estimated by
expectation-conditional maximisation; judges are weighted by 1/v_j and contribute s_j² / v_j worth of
information about the teams, so noisy, random and flat judges count less.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# A judge's noise estimate borrows this many sheets' worth of the pooled noise: a dozen residuals
# alone are too jumpy to weight a judge by.
NOISE_PRIOR_SHEETS = 8.0
# A sheet's within-sheet dispersion (see fit_judge_model) counts as this many sheets' worth of evidence
# about its judge's noise, relative to everyone's; the ratio is kept within bounds because it is only
# a proxy for the noise on totals.
WITHIN_SHEET_WEIGHT = 2.0
WITHIN_RATIO_BOUNDS = (0.25, 10.0)
# The scale prior's parts: (centre, sd, prior share). Most judges follow the teams with a somewhat
# personal stretch; a few ignore them.
SCALE_PRIOR_PARTS = ((1.0, 0.3, 0.9), (0.0, 0.2, 0.1))
SCALE_BOUNDS = (0.0, 3.0)
# Guards against variances collapsing to exactly 0 (a noiseless example must still solve).
VARIANCE_FLOOR = 1e-10
# Noise below 0.01 points is indistinguishable from none; letting it shrink further only makes the
# equations ill-conditioned (weights 1e10 against priors of 1e-3).
NOISE_FLOOR = 1e-4


@dataclass(frozen=True)
class JudgeModelFit:
    """Estimates of the judge-effect model; arrays are indexed like the inputs' team and judge indices."""

    mean: float
    team_effect: np.ndarray
    judge_offset: np.ndarray
    judge_scale: np.ndarray
    judge_follows: np.ndarray  # False for judges whose scores do not follow the teams (scale ~0)
    judge_noise_var: np.ndarray
    team_var: float
    offset_var: float
    residuals: np.ndarray
    covariance: np.ndarray  # of (m, a, b) and, when the scales were estimated, of (m, a, b, s)
    iterations: int

    def average_judge_weights(self) -> np.ndarray:
        """Who makes up the average judge: equal weights over the judges whose scores follow the teams.

        Any fixed weights summing to 1 make m + sum(w b) + sum(w s) * a_t the weighted mean of the
        judges' expected totals for team t, which the data identify; random and flat scorers are left
        out so they do not flatten everyone's scores.
        """
        members = self.judge_follows if self.judge_follows.any() else np.ones_like(self.judge_follows)
        return members / max(int(members.sum()), 1)

    @property
    def average_offset(self) -> float:
        """Leniency of the average judge."""
        return float(self.average_judge_weights() @ self.judge_offset) if self.judge_offset.size else 0.0

    @property
    def typical_scale(self) -> float:
        """Scale use of the average judge."""
        return float(self.average_judge_weights() @ self.judge_scale) if self.judge_scale.size else 1.0

    def team_scores(self) -> np.ndarray:
        """Each team's total from an average judge, in points."""
        return self.mean + self.average_offset + self.typical_scale * self.team_effect

    def draw_team_scores(self, n_draws: int, rng: np.random.Generator) -> np.ndarray:
        """Draws (n_draws × teams) of the average judge's totals from the model's approximate posterior.

        The posterior is Gaussian given the scales and noise, and the scales' uncertainty is added by a
        Laplace approximation; noise and variance components are held at their estimates. This is a
        parametric bootstrap that also carries the shrinkage's uncertainty.
        """
        # Linear in the parameters (delta method), as the Laplace approximation itself is: drawing the
        # scales and team effects separately and multiplying would add spread from directions the
        # data leave free but that cancel in the product (e.g. all scales up, all effects down).
        loadings = _covariance_root(self.covariance).T @ self._score_gradient()
        return self.team_scores() + rng.standard_normal((n_draws, loadings.shape[0])) @ loadings

    def _score_gradient(self) -> np.ndarray:
        """d(team scores) / d(m, a, b[, s]) as a (parameters × teams) matrix."""
        n_teams, n_judges = self.team_effect.size, self.judge_offset.size
        weights = self.average_judge_weights()
        gradient = np.zeros((self.covariance.shape[0], n_teams))
        gradient[0, :] = 1.0
        gradient[1 + np.arange(n_teams), np.arange(n_teams)] = self.typical_scale
        gradient[1 + n_teams : 1 + n_teams + n_judges, :] = weights[:, None]
        if self.covariance.shape[0] > 1 + n_teams + n_judges:
            gradient[1 + n_teams + n_judges :, :] = np.outer(weights, self.team_effect)
        return gradient


def _covariance_root(covariance: np.ndarray) -> np.ndarray:
    """A matrix R with R R^T = covariance (Cholesky, or an eigen-root if rounding broke definiteness)."""
    try:
        return np.linalg.cholesky(covariance)
    except np.linalg.LinAlgError:
        values, vectors = np.linalg.eigh(covariance)
        return vectors * np.sqrt(np.clip(values, 0.0, None))


def fit_judge_model(
    judge_index: np.ndarray,
    team_index: np.ndarray,
    totals: np.ndarray,
    n_judges: int,
    n_teams: int,
    *,
    within_sheet_ss: np.ndarray | None = None,
    within_sheet_df: np.ndarray | None = None,
    estimate_scale: bool = True,
    max_iterations: int = 60,
    tolerance: float = 1e-6,
) -> JudgeModelFit:
    """Fit the judge-effect model to sheet totals; each (judge, team) pair may appear at most once.

    within_sheet_ss / within_sheet_df (per sheet, optional): how far the sheet's criteria stray from the
    team's criterion profile, as a sum of squares in points and its degrees of freedom; they sharpen
    the estimate of each judge's noise (see ranking._within_sheet_dispersion).
    """
    judge_index = np.asarray(judge_index, dtype=np.intp)
    team_index = np.asarray(team_index, dtype=np.intp)
    y = np.asarray(totals, dtype=float)
    sheets_per_judge = np.bincount(judge_index, minlength=n_judges).astype(float)
    noise_ratio, noise_ratio_sheets = _within_sheet_noise_ratio(judge_index, n_judges, within_sheet_ss,
                                                                within_sheet_df)

    team_var, offset_var, pooled_noise = _starting_variances(y, judge_index, team_index, n_judges, n_teams)
    judge_noise_var = np.full(n_judges, pooled_noise)
    scale = np.ones(n_judges)
    scale_prior_precision = np.full(n_judges, 1.0 / SCALE_PRIOR_PARTS[0][1] ** 2)
    follows = np.ones(n_judges, dtype=bool)
    theta = np.zeros(1 + n_teams + n_judges)

    iterations = 0
    for iterations in range(1, max_iterations + 1):
        new_theta, posterior, blocks = _solve(y, judge_index, team_index, n_judges, n_teams, scale,
                                              judge_noise_var, team_var, offset_var)
        change = float(np.abs(new_theta - theta).max())
        theta = new_theta
        mean, effect, offset = _split(theta, n_teams)
        var_effect, var_offset = np.diag(posterior.gg)[1:], posterior.hh[:, 0, 0]
        a_slot = 1 + team_index

        if estimate_scale:
            # Expectations of a_t * (y - m - b_j) and a_t^2 under the current posterior (the E-step).
            a = effect[team_index]
            cross = (a * (y - mean - offset[judge_index]) - posterior.gg[a_slot, 0]
                     - posterior.gh[a_slot, judge_index, 0])
            square = a * a + var_effect[team_index]
            # The pooled noise, not the judge's own: a random judge's own noise is large precisely
            # because their scale is ~0, and dividing by it would hide the evidence for that.
            new_scale, scale_prior_precision, follows = _scale_posterior(
                np.bincount(judge_index, cross, n_judges) / pooled_noise,
                np.bincount(judge_index, square, n_judges) / pooled_noise)
            # A change of scale moves fitted totals by (change × team effect), so weigh it in points.
            change = max(change, float(np.abs(new_scale - scale).max() * max(1.0, np.abs(effect).max())))
            scale = new_scale

        s = scale[judge_index]
        residual = y - (mean + offset[judge_index] + s * effect[team_index])
        # Add the fitted value's posterior variance (scales' uncertainty included), so the noise
        # estimate is not fooled by over-fitting.
        if estimate_scale:
            posterior = _joint_posterior(theta, blocks, scale, scale_prior_precision, judge_index, team_index,
                                         judge_noise_var, n_teams)
        fitted_var = _fitted_variance(theta, posterior, scale, judge_index, team_index, n_teams)
        expected_square = residual * residual + fitted_var
        pooled_noise = max(float(expected_square.mean()), NOISE_FLOOR)
        judge_noise_var = np.maximum(
            (np.bincount(judge_index, expected_square, n_judges) + NOISE_PRIOR_SHEETS * pooled_noise
             + noise_ratio_sheets * noise_ratio * pooled_noise)
            / (sheets_per_judge + NOISE_PRIOR_SHEETS + noise_ratio_sheets),
            NOISE_FLOOR,
        )
        team_var = max(float(np.mean(effect**2 + var_effect)), VARIANCE_FLOOR)
        offset_var = max(float(np.mean(offset**2 + var_offset)), VARIANCE_FLOOR)
        if change < tolerance:
            break

    # One last solve, so estimates, covariance and residuals all belong to the final scales and noise.
    theta, posterior, blocks = _solve(y, judge_index, team_index, n_judges, n_teams, scale, judge_noise_var,
                                      team_var, offset_var)
    if estimate_scale:
        posterior = _joint_posterior(theta, blocks, scale, scale_prior_precision, judge_index, team_index,
                                     judge_noise_var, n_teams)
    covariance = posterior.dense()
    mean, effect, offset = _split(theta, n_teams)
    residual = y - (mean + offset[judge_index] + scale[judge_index] * effect[team_index])
    return JudgeModelFit(
        mean=mean,
        team_effect=effect,
        judge_offset=offset,
        judge_scale=scale,
        judge_follows=follows,
        judge_noise_var=judge_noise_var,
        team_var=team_var,
        offset_var=offset_var,
        residuals=residual,
        covariance=covariance,
        iterations=iterations,
    )


@dataclass(frozen=True)
class _Blocks:
    """The posterior precision of the model's parameters, split by its structure.

    Judges' parameters (b_j, and s_j when the scales are included) are tied to each other only through
    (m, a): the judges' part of the precision is block diagonal, one k × k block per judge (k = 1 or
    2). `outer` is the (1 + teams)-square precision of (m, a), `coupling` (1 + teams) × judges × k ties
    (m, a) to each judge's parameters, and `inner` (judges × k × k) holds each judge's own block.
    """

    outer: np.ndarray
    coupling: np.ndarray
    inner: np.ndarray


@dataclass(frozen=True)
class _Posterior:
    """Posterior covariance of (m, a, each judge's parameters), from _Blocks by eliminating the judges.

    Eliminating the block-diagonal judges' part leaves a (1 + teams)-square system (the Schur
    complement), so a solve costs O(teams³ + judges × teams²) instead of O((teams + k × judges)³): with
    200 judges and 60 teams that is the difference between inverting 61 × 61 and 461 × 461 matrices,
    dozens of times per fit. Only what the fit reads is formed: covariances within (m, a), between
    (m, a) and each judge's parameters, and within each judge's own parameters; `dense` builds the
    whole matrix once, for the finished fit.
    """

    gg: np.ndarray      # (m, a) × (m, a)
    gh: np.ndarray      # (m, a) × judges × k: (m, a) with each judge's parameters
    hh: np.ndarray      # judges × k × k: within each judge's parameters
    gain: np.ndarray    # coupling × inner⁻¹, kept to build the covariance between judges in `dense`
    inner_inverse: np.ndarray

    def dense(self) -> np.ndarray:
        """The whole covariance, parameters ordered (m, a, b) or (m, a, b, s)."""
        g, n_judges, k = self.gh.shape
        gain = self.gain.transpose(0, 2, 1).reshape(g, k * n_judges)       # judge columns ordered (b..., s...)
        full = np.empty((g + k * n_judges, g + k * n_judges))
        full[:g, :g] = self.gg
        full[:g, g:] = self.gh.transpose(0, 2, 1).reshape(g, k * n_judges)
        full[g:, :g] = full[:g, g:].T
        full[g:, g:] = gain.T @ self.gg @ gain
        judges = np.arange(n_judges)
        for i in range(k):
            for j in range(k):
                full[g + i * n_judges + judges, g + j * n_judges + judges] += self.inner_inverse[:, i, j]
        return (full + full.T) / 2


def _eliminate(blocks: _Blocks) -> _Posterior:
    """The posterior covariance from the precision's blocks (see _Posterior)."""
    g, n_judges, k = blocks.coupling.shape
    inner_inverse = _inverse_of_small_blocks(blocks.inner)
    # Loops over the small k axes (k ≤ 2): einsum's generic loop is several times slower here.
    gain = np.zeros_like(blocks.coupling)
    for i in range(k):
        for j in range(k):
            gain[:, :, j] += blocks.coupling[:, :, i] * inner_inverse[:, i, j]
    flat_gain, flat_coupling = gain.reshape(g, n_judges * k), blocks.coupling.reshape(g, n_judges * k)
    gg = np.linalg.inv(blocks.outer - flat_gain @ flat_coupling.T)
    gg = (gg + gg.T) / 2
    gh = -(gg @ flat_gain).reshape(g, n_judges, k)
    hh = inner_inverse.copy()
    for i in range(k):
        for j in range(k):
            hh[:, i, j] -= (gain[:, :, i] * gh[:, :, j]).sum(axis=0)
    return _Posterior(gg=gg, gh=gh, hh=(hh + hh.transpose(0, 2, 1)) / 2, gain=gain, inner_inverse=inner_inverse)


def _inverse_of_small_blocks(blocks: np.ndarray) -> np.ndarray:
    """Inverses of a stack of symmetric 1 × 1 or 2 × 2 matrices, in closed form."""
    if blocks.shape[1] == 1:
        return 1.0 / blocks
    a, b, d = blocks[:, 0, 0], blocks[:, 0, 1], blocks[:, 1, 1]
    determinant = a * d - b * b
    inverse = np.empty_like(blocks)
    inverse[:, 0, 0], inverse[:, 1, 1] = d / determinant, a / determinant
    inverse[:, 0, 1] = inverse[:, 1, 0] = -b / determinant
    return inverse


def _solve(y, judge_index, team_index, n_judges, n_teams, scale, judge_noise_var, team_var, offset_var):
    """Posterior mean and covariance of (m, a, b) given scales, noise and variance components.

    This is the ridge: weighted least squares on y = m + b_j + s_j a_t with penalties 1/tau2 on the team
    effects and 1/omega2 on the offsets; m is not penalised. Returns theta = (m, a, b), its _Posterior
    and the precision's _Blocks (which _joint_posterior extends with the scales).
    """
    g = 1 + n_teams
    a_slot = 1 + team_index
    weight = 1.0 / judge_noise_var[judge_index]
    s = scale[judge_index]
    outer = np.zeros((g, g))
    outer[0, 0] = weight.sum() + VARIANCE_FLOOR
    np.add.at(outer[0], a_slot, weight * s)
    outer[1:, 0] = outer[0, 1:]
    outer[np.arange(1, g), np.arange(1, g)] = np.bincount(team_index, weight * s * s, n_teams) + 1.0 / team_var
    coupling = np.zeros((g, n_judges, 1))
    coupling[0, :, 0] = np.bincount(judge_index, weight, n_judges)
    np.add.at(coupling, (a_slot, judge_index, 0), weight * s)   # one sheet per (judge, team) pair at most
    inner = (coupling[0, :, 0] + 1.0 / offset_var)[:, None, None]
    blocks = _Blocks(outer=outer, coupling=coupling, inner=inner)
    posterior = _eliminate(blocks)
    rhs_outer = np.zeros(g)
    rhs_outer[0] = (weight * y).sum()
    np.add.at(rhs_outer, a_slot, weight * s * y)
    rhs_judges = np.bincount(judge_index, weight * y, n_judges)
    # theta = covariance @ rhs, written with the blocks: (m, a) first, then each judge's offset.
    outer_theta = posterior.gg @ (rhs_outer - posterior.gain[:, :, 0] @ rhs_judges)
    offsets = posterior.inner_inverse[:, 0, 0] * (rhs_judges - coupling[:, :, 0].T @ outer_theta)
    return np.concatenate([outer_theta, offsets]), posterior, blocks


def _joint_posterior(theta, blocks: _Blocks, scale, scale_prior_precision, judge_index, team_index,
                     judge_noise_var, n_teams) -> _Posterior:
    """Posterior covariance of (m, a, b, s) by Gauss–Newton (Laplace) around the current estimates.

    Given the scales the model is linear and _solve's covariance is exact; but the scales are estimated
    too, and ignoring their uncertainty makes intervals too narrow when judges see few teams.
    """
    n_judges = scale.size
    effect = theta[1 : 1 + n_teams]
    a = effect[team_index]
    weight = 1.0 / judge_noise_var[judge_index]
    g = blocks.outer.shape[0]
    coupling = np.zeros((g, n_judges, 2))
    coupling[:, :, 0] = blocks.coupling[:, :, 0]
    coupling[0, :, 1] = np.bincount(judge_index, weight * a, n_judges)
    np.add.at(coupling, (1 + team_index, judge_index, 1), weight * scale[judge_index] * a)
    inner = np.empty((n_judges, 2, 2))
    inner[:, 0, 0] = blocks.inner[:, 0, 0]
    inner[:, 0, 1] = inner[:, 1, 0] = coupling[0, :, 1]          # b_j with s_j: the sum of w a over j's sheets
    inner[:, 1, 1] = np.bincount(judge_index, weight * a * a, n_judges) + scale_prior_precision
    return _eliminate(_Blocks(outer=blocks.outer, coupling=coupling, inner=inner))


def _fitted_variance(theta, posterior: _Posterior, scale, judge_index, team_index, n_teams) -> np.ndarray:
    """Posterior variance of each sheet's fitted value m + b_j + s_j a_t.

    Its gradient in (m, a_t, b_j[, s_j]) is (1, s_j, 1[, a_t]); the variance is gradient · covariance ·
    gradient over those few parameters, read from the posterior's blocks.
    """
    a_slot = 1 + team_index
    s = scale[judge_index]
    k = posterior.gh.shape[2]
    outer_gradient = [(0, np.ones_like(s)), (a_slot, s)]
    judge_gradient = [np.ones_like(s)] + ([theta[1 : 1 + n_teams][team_index]] if k == 2 else [])
    variance = np.zeros_like(s)
    for slot_i, grad_i in outer_gradient:
        for slot_j, grad_j in outer_gradient:
            variance += grad_i * grad_j * posterior.gg[slot_i, slot_j]
        for l, grad_l in enumerate(judge_gradient):
            variance += 2 * grad_i * grad_l * posterior.gh[slot_i, judge_index, l]
    for l, grad_l in enumerate(judge_gradient):
        for m, grad_m in enumerate(judge_gradient):
            variance += grad_l * grad_m * posterior.hh[judge_index, l, m]
    return np.maximum(variance, 0.0)


def _split(theta: np.ndarray, n_teams: int) -> tuple[float, np.ndarray, np.ndarray]:
    return float(theta[0]), theta[1 : 1 + n_teams].copy(), theta[1 + n_teams :].copy()


def _within_sheet_noise_ratio(judge_index, n_judges, ss, df) -> tuple[np.ndarray, np.ndarray]:
    """Each judge's within-sheet noise relative to everyone's, and how many sheets' worth of evidence it is."""
    if ss is None or df is None or float(np.sum(df)) <= 0 or float(np.sum(ss)) <= 0:
        return np.ones(n_judges), np.zeros(n_judges)
    judge_ss = np.bincount(judge_index, ss, n_judges)
    judge_df = np.bincount(judge_index, df, n_judges)
    pooled = float(np.sum(ss)) / float(np.sum(df))
    ratio = np.where(judge_df > 0, judge_ss / np.maximum(judge_df, 1e-12) / pooled, 1.0)
    ratio = np.clip(ratio, *WITHIN_RATIO_BOUNDS)
    return ratio, WITHIN_SHEET_WEIGHT * judge_df / max(float(np.max(df)), 1e-12)


def _scale_posterior(evidence: np.ndarray, information: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each judge's scale under a two-part prior: follows the teams (near 1) or ignores them (near 0).

    The data say s ≈ evidence / information with precision `information`. Each judge is put in the
    part of the prior that explains their data better, then shrunk towards that part's centre; with
    little data the judge stays in the 'follows' part, at 1. Returns the scales, the prior precision of
    the part each judge was put in, and whether that part is 'follows'.
    """
    scores = []
    means = []
    for centre, sd, share in SCALE_PRIOR_PARTS:
        prior_precision = 1.0 / sd**2
        posterior_precision = information + prior_precision
        means.append((evidence + centre * prior_precision) / posterior_precision)
        # log of share × N(estimate; centre, 1/information + sd²), written to stay finite at information 0
        spread = sd**2 * posterior_precision  # = (1/information + sd²) × information
        scores.append(np.log(share) - 0.5 * np.log(spread)
                      - 0.5 * (evidence - centre * information) ** 2 / np.maximum(information * spread, 1e-300))
    best = np.argmax(np.vstack(scores), axis=0)
    prior_precision = np.array([1.0 / sd**2 for _, sd, _ in SCALE_PRIOR_PARTS])[best]
    return np.clip(np.choose(best, means), *SCALE_BOUNDS), prior_precision, best == 0


def _starting_variances(y, judge_index, team_index, n_judges, n_teams) -> tuple[float, float, float]:
    """Crude moment estimates (team, judge, noise variance) to start the iterations from."""
    total_var = float(y.var()) if y.size > 1 else 1.0
    total_var = max(total_var, 1.0)
    team_means = np.bincount(team_index, y, n_teams) / np.maximum(np.bincount(team_index, minlength=n_teams), 1)
    within = y - team_means[team_index]
    noise_var = max(float(np.mean(within**2)), total_var * 0.05)
    team_var = max(total_var - noise_var, total_var * 0.1)
    judge_means = np.bincount(judge_index, within, n_judges) / np.maximum(
        np.bincount(judge_index, minlength=n_judges), 1
    )
    offset_var = max(float(np.mean(judge_means**2)), total_var * 0.05)
    return team_var, offset_var, noise_var

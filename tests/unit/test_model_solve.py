"""The judge-effect model's linear algebra: eliminating the judges' block-diagonal part of the
precision (model._eliminate) must give exactly the covariance of inverting the whole matrix, which is
how the model computed it before (O((teams + judges)³) per solve)."""
import numpy as np
import pytest

from expo_app.scoring.model import (_Blocks, _eliminate, _fitted_variance, _inverse_of_small_blocks,
                                    _joint_posterior, _solve, fit_judge_model)


def dense_precision(blocks: _Blocks) -> np.ndarray:
    """The whole precision, parameters ordered (m, a, b) or (m, a, b, s), as the model used to build it."""
    g, n_judges, k = blocks.coupling.shape
    full = np.zeros((g + k * n_judges, g + k * n_judges))
    full[:g, :g] = blocks.outer
    full[:g, g:] = blocks.coupling.transpose(0, 2, 1).reshape(g, k * n_judges)
    full[g:, :g] = full[:g, g:].T
    judges = np.arange(n_judges)
    for i in range(k):
        for j in range(k):
            full[g + i * n_judges + judges, g + j * n_judges + judges] = blocks.inner[:, i, j]
    return full


def expo(n_teams, n_judges, per_judge, seed):
    rng = np.random.default_rng(seed)
    judge_index, team_index = [], []
    for j in range(n_judges):
        for t in rng.choice(n_teams, size=per_judge, replace=False):
            judge_index.append(j)
            team_index.append(t)
    judge_index, team_index = np.array(judge_index), np.array(team_index)
    quality, offset = rng.normal(0, 8, n_teams), rng.normal(0, 5, n_judges)
    scale = np.where(rng.random(n_judges) < 0.15, 0.0, rng.normal(1, 0.25, n_judges))
    y = 60 + offset[judge_index] + scale[judge_index] * quality[team_index] + rng.normal(0, 4, judge_index.size)
    return judge_index, team_index, y


@pytest.mark.parametrize("n_teams, n_judges, per_judge, seed", [
    (3, 2, 2, 0),      # tiny: fewer judges than teams
    (12, 6, 8, 1),     # the demo expo's size
    (10, 40, 3, 2),    # many judges who each see few teams
    (30, 8, 12, 3),
])
def test_eliminating_the_judges_gives_the_dense_inverse(n_teams, n_judges, per_judge, seed):
    judge_index, team_index, y = expo(n_teams, n_judges, per_judge, seed)
    rng = np.random.default_rng(seed + 100)
    scale = rng.uniform(0.2, 1.5, n_judges)
    noise = rng.uniform(4, 30, n_judges)
    theta, posterior, blocks = _solve(y, judge_index, team_index, n_judges, n_teams, scale, noise, 50.0, 20.0)

    precision = dense_precision(blocks)
    covariance = np.linalg.inv(precision)
    assert np.allclose(posterior.dense(), covariance, rtol=1e-9, atol=1e-12)
    # theta solves precision @ theta = rhs: the fitted values' weighted residuals balance the priors.
    rhs = np.zeros(1 + n_teams + n_judges)
    weight = 1.0 / noise[judge_index]
    rhs[0] = (weight * y).sum()
    np.add.at(rhs, 1 + team_index, weight * scale[judge_index] * y)
    np.add.at(rhs, 1 + n_teams + judge_index, weight * y)
    assert np.allclose(theta, covariance @ rhs, rtol=1e-9, atol=1e-9)

    joint = _joint_posterior(theta, blocks, scale, np.full(n_judges, 11.1), judge_index, team_index, noise,
                             n_teams)
    assert joint.gh.shape == (1 + n_teams, n_judges, 2)
    joint_covariance = np.linalg.inv(dense_precision(_joint_blocks(theta, blocks, scale, judge_index, team_index,
                                                                   noise, n_teams)))
    assert np.allclose(joint.dense(), joint_covariance, rtol=1e-9, atol=1e-12)

    # Each sheet's fitted-value variance: gradient (1, s_j, 1, a_t) over (m, a_t, b_j, s_j).
    fitted = _fitted_variance(theta, joint, scale, judge_index, team_index, n_teams)
    for sheet in range(y.size):
        j, t = judge_index[sheet], team_index[sheet]
        slots = [0, 1 + t, 1 + n_teams + j, 1 + n_teams + n_judges + j]
        gradient = np.array([1.0, scale[j], 1.0, theta[1 + t]])
        expected = gradient @ joint_covariance[np.ix_(slots, slots)] @ gradient
        assert fitted[sheet] == pytest.approx(max(expected, 0.0), rel=1e-8, abs=1e-12)


def _joint_blocks(theta, blocks, scale, judge_index, team_index, noise, n_teams):
    """The (m, a, b, s) precision's blocks, written out independently of _joint_posterior."""
    n_judges = scale.size
    g = 1 + n_teams
    weight = 1.0 / noise[judge_index]
    a = theta[1 + team_index]
    coupling = np.zeros((g, n_judges, 2))
    coupling[:, :, 0] = blocks.coupling[:, :, 0]
    for sheet in range(judge_index.size):
        j, t = judge_index[sheet], team_index[sheet]
        coupling[0, j, 1] += weight[sheet] * a[sheet]
        coupling[1 + t, j, 1] += weight[sheet] * scale[j] * a[sheet]
    inner = np.zeros((n_judges, 2, 2))
    inner[:, 0, 0] = blocks.inner[:, 0, 0]
    inner[:, 0, 1] = inner[:, 1, 0] = coupling[0, :, 1]
    inner[:, 1, 1] = np.bincount(judge_index, weight * a * a, n_judges) + 11.1
    return _Blocks(outer=blocks.outer, coupling=coupling, inner=inner)


def test_small_block_inverses_in_closed_form():
    blocks = np.array([[[4.0, 1.0], [1.0, 3.0]], [[2.0, -0.5], [-0.5, 1.0]]])
    assert np.allclose(_inverse_of_small_blocks(blocks), np.linalg.inv(blocks))
    assert np.allclose(_inverse_of_small_blocks(np.array([[[4.0]], [[0.5]]])), [[[0.25]], [[2.0]]])


def test_a_fit_with_many_judges_keeps_its_covariance_whole():
    """The finished fit still carries the whole (m, a, b, s) covariance, symmetric and positive
    definite, which the intervals' draws take a Cholesky root of."""
    judge_index, team_index, y = expo(15, 60, 4, 7)
    fit = fit_judge_model(judge_index, team_index, y, 60, 15)
    size = 1 + 15 + 2 * 60
    assert fit.covariance.shape == (size, size)
    assert np.array_equal(fit.covariance, fit.covariance.T)
    assert np.linalg.eigvalsh(fit.covariance).min() > 0
    draws = fit.draw_team_scores(4000, np.random.default_rng(0))
    assert draws.shape == (4000, 15)
    assert np.allclose(draws.mean(axis=0), fit.team_scores(), atol=0.5)

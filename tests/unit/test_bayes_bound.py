"""bench/bayes_bound.py: its normal CDF, quantile and truncated-normal sampler, and one small run."""
from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import bayes_bound  # noqa: E402

from expo_app.scoring.simulate import Scenario, simulate_expo  # noqa: E402


@pytest.mark.parametrize(("x", "expected"), [
    (0.0, 0.5), (1.959963984540054, 0.975), (-1.959963984540054, 0.025), (-3.0, 0.0013498980316301),
    (-8.0, 6.220960574271785e-16), (4.0, 0.9999683287581669),
])
def test_normal_cdf_matches_tables(x, expected):
    assert bayes_bound.normal_cdf(np.array([x]))[0] == pytest.approx(expected, rel=2e-7)


@pytest.mark.parametrize(("p", "expected"), [
    (0.5, 0.0), (0.975, 1.959963984540054), (0.025, -1.959963984540054), (0.001, -3.090232306167813),
    (1e-10, -6.361340902404056),
])
def test_normal_quantile_matches_tables(p, expected):
    assert bayes_bound.normal_quantile(np.array([p]))[0] == pytest.approx(expected, abs=1e-6)


def test_truncated_normal_stays_inside_and_has_the_right_mean():
    rng = np.random.default_rng(0)
    n = 200_000
    zero, one = np.zeros(n), np.ones(n)
    upper = bayes_bound.truncated_normal(zero, one, zero, np.full(n, np.inf), rng)
    assert upper.min() >= 0.0
    assert upper.mean() == pytest.approx(math.sqrt(2 / math.pi), abs=0.01)  # half-normal mean
    # Far in the upper tail, where a naive inverse CDF loses all precision.
    tail = bayes_bound.truncated_normal(zero, one, np.full(n, 6.0), np.full(n, 6.5), rng)
    assert 6.0 <= tail.min() and tail.max() <= 6.5
    assert tail.mean() == pytest.approx(6.15, abs=0.02)


def test_posterior_quality_runs_and_is_reproducible():
    expo = simulate_expo(Scenario("tiny", n_teams=6, n_judges=4, judges_per_team=2, random_judges=1), 3)
    first = bayes_bound.posterior_quality(expo, seed=1, draws=50, burn_in=20)
    again = bayes_bound.posterior_quality(expo, seed=1, draws=50, burn_in=20)
    assert first == again
    assert sorted(first) == sorted(expo.true_quality)
    assert all(math.isfinite(value) for value in first.values())

"""The Monte Carlo interval: Clopper–Pearson, checked against the binomial law directly."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binom

from cofail.intervals import MonteCarlo, clopper_pearson, wilson


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 10**7), st.data(), st.sampled_from([0.05, 0.01, 1e-6]))
def test_bounds_are_where_a_binomial_tail_is_alpha_half(
    n: int, data: st.DataObject, alpha: float
) -> None:
    k = data.draw(st.integers(0, n), label="k")
    low, high = clopper_pearson(k, n, alpha)
    assert 0.0 <= low <= k / n <= high <= 1.0
    # Seeing k or more failures is just as unlikely at the low bound as k or fewer at the high.
    if k > 0:
        assert binom.sf(k - 1, n, low) == pytest.approx(alpha / 2, rel=1e-6)
    if k < n:
        assert binom.cdf(k, n, high) == pytest.approx(alpha / 2, rel=1e-6)


Interval = Callable[[int, int, float], tuple[float, float]]


def _coverage(interval: Interval, n: int, level: float, p: np.ndarray) -> np.ndarray:
    """P(the interval from a Binomial(n, p) draw covers p), summed over every outcome."""
    bounds = np.array([interval(k, n, 1 - level) for k in range(n + 1)])
    pmf = np.asarray(binom.pmf(np.arange(n + 1)[:, None], n, p[None, :]), dtype=float)
    inside = (bounds[:, :1] <= p[None, :]) & (p[None, :] <= bounds[:, 1:])
    return np.asarray((pmf * inside).sum(axis=0))


def test_the_interval_covers_at_least_its_level_whatever_the_probability() -> None:
    p = np.geomspace(1e-6, 0.5, 2000)
    for n, level in ((30, 0.95), (5000, 1 - 1e-6)):
        assert _coverage(clopper_pearson, n, level, p).min() >= level - 1e-12
    # Wilson's interval, the one used before, falls short for rare events: the test can fail.
    assert _coverage(wilson, 5000, 1 - 1e-6, p).min() < 0.99  # misses 1 in 25, not 1e-6


def test_one_failure_of_a_rare_event_does_not_exclude_it() -> None:
    # Found by hypothesis: exact 7.63e-6, 1 failure in 5,000 trials; Wilson started at 7.7e-6.
    mc = MonteCarlo(samples=5000, hits=1, seed=1, level=1 - 1e-6)
    assert mc.covers(7.62939453125e-06)
    assert mc.interval[0] == pytest.approx(1 - (1 - 5e-7) ** (1 / 5000), rel=1e-9)

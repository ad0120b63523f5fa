"""Intervals for joint misses *at a budget*: the thresholds re-derived from each resample of the
honest cases, as each layer's catch-rate interval is.

The share of attacks that every layer (or a pair) misses depends on the thresholds, and the
thresholds are estimates: order statistics of the honest scores. An interval that resamples the
attack cases with the thresholds held where this log put them speaks of *these* thresholds; it
misses the share at the budget's population thresholds far more often than 5 % when the honest
set is small (`benchmarks/scores_coverage.py`: 85 % coverage at 1,140 honest cases and a 2 %
budget). The bootstrap here resamples both sets apart, sets every layer's threshold from the
honest resample by the log's rule, and counts joint misses in the attack resample.

On a large log the resampling runs on a seeded random subsample of each set (the same fraction
``f`` of each) and its spread is scaled by √f: the variance of these smooth functionals shrinks
as 1/n in both sets, so the subsample's variance times ``f`` is the full log's; the interval is
then the estimate ± z standard errors instead of percentiles. The method string says which.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import cast

import numpy as np
from scipy.special import ndtri

from cofail.empirical import budget_threshold
from cofail.empirical._spec import ThresholdRule
from cofail.scores._roc import _OrderStatistics

__all__ = ["JointIntervals", "joint_intervals"]

_CASES = 20_000
"""Past this many cases in a set, the bootstrap runs on a subsample of this many."""


@dataclass(frozen=True)
class JointIntervals:
    """Intervals of the stack's and each pair's joint miss share, thresholds re-derived."""

    stack: tuple[float, float]
    pairs: dict[tuple[int, int], tuple[float, float]]
    method: str


def joint_intervals(
    honest: np.ndarray,
    attack: np.ndarray,
    budget: float,
    rule: ThresholdRule,
    fixed: dict[int, float],
    estimates: tuple[float, dict[tuple[int, int], float]],
    *,
    alpha: float = 0.05,
    n_boot: int = 2000,
    seed: int = 0,
) -> JointIntervals:
    """Return the bootstrap intervals of the share of attacks every layer misses and each
    pair misses, at the budget's thresholds (``fixed``: layers whose threshold is held;
    ``estimates``: the log's own shares, the stack's and each pair's, the centres of a normal
    interval).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> h, a = rng.normal(size=(500, 2)), rng.normal(1.0, size=(300, 2))
    >>> j = joint_intervals(h, a, 0.05, "controlarena", {}, (0.5, {(0, 1): 0.5}), n_boot=200)
    >>> lo, hi = j.stack
    >>> 0 < lo < hi < 1, sorted(j.pairs)
    (True, [(0, 1)])
    """
    n_h, n_a, d = honest.shape[0], attack.shape[0], honest.shape[1]
    rng = np.random.default_rng(seed)
    f = min(1.0, _CASES / max(n_h, n_a))
    if f < 1.0:
        honest = honest[np.sort(rng.choice(n_h, max(2, round(f * n_h)), replace=False))]
        attack = attack[np.sort(rng.choice(n_a, max(2, round(f * n_a)), replace=False))]
    m_h, m_a = honest.shape[0], attack.shape[0]
    pairs = [(i, j) for i in range(d) for j in range(i + 1, d)]
    # A resample is a count per row (the same rows for every layer, so that the thresholds
    # vary together as they do); a layer's threshold is read from its sorted column weighted
    # by those counts: two order statistics, no sort per resample.
    order = [np.argsort(honest[:, i], kind="stable") for i in range(d)]
    ordered = [honest[order[i], i] for i in range(d)]
    rows = np.array([i for i, _ in pairs], dtype=np.int64)
    cols = np.array([j for _, j in pairs], dtype=np.int64)
    stack = np.empty(n_boot)
    both = np.empty((len(pairs), n_boot))
    for b in range(n_boot):
        w_h = np.bincount(rng.integers(0, m_h, m_h), minlength=m_h)
        w_a = np.bincount(rng.integers(0, m_a, m_a), minlength=m_a)
        missed = np.empty((m_a, d))
        for i in range(d):
            t = fixed.get(i)
            if t is None:
                resample = _OrderStatistics(ordered[i], np.cumsum(w_h[order[i]]))
                t = budget_threshold(cast(np.ndarray, resample), budget, rule)
            np.less_equal(attack[:, i], t, out=missed[:, i])
        # every pair's weighted joint misses at once: the 0/1 columns' weighted Gram matrix
        co = missed.T @ (missed * w_a[:, None])
        stack[b] = float(w_a @ (missed.sum(axis=1) == d)) / m_a
        both[:, b] = co[rows, cols] / m_a
    z = float(ndtri(1 - alpha / 2))

    def interval(values: np.ndarray, centre: float) -> tuple[float, float]:
        if f == 1.0:
            lo, hi = np.quantile(values, (alpha / 2, 1 - alpha / 2))
            return (float(lo), float(hi))
        half = z * float(np.std(values, ddof=1)) * math.sqrt(f)
        return (max(0.0, centre - half), min(1.0, centre + half))

    how = (
        f"percentile bootstrap, {n_boot} resamples of the honest and the attack cases apart"
        if f == 1.0
        else f"normal bootstrap: the standard error of {n_boot} resamples of seeded subsamples "
        f"({m_h:,} honest, {m_a:,} attack cases) scaled by the square root of their share"
    )
    return JointIntervals(
        stack=interval(stack, estimates[0]),
        pairs={p: interval(both[k], estimates[1][p]) for k, p in enumerate(pairs)},
        method=how + ", every threshold re-derived from each honest resample",
    )

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

from cofail.empirical import budget_threshold
from cofail.empirical._spec import ThresholdRule
from cofail.intervals import two_sided_z
from cofail.scores._roc import _OrderStatistics

__all__ = ["JointIntervals", "joint_intervals"]

_CASES = 20_000
"""Past this many cases in a set, the bootstrap runs on a subsample of this many."""
_CHUNK = 25
"""Resamples counted at once (their draws: 25 × 20,000 × 2 integers)."""
_CODE_LAYERS = 10
"""Up to this many layers, joint misses are read from a histogram of 2^d miss patterns."""


@dataclass(frozen=True)
class JointIntervals:
    """Intervals of the stack's and each pair's joint miss share, thresholds re-derived."""

    stack: tuple[float, float]
    pairs: dict[tuple[int, int], tuple[float, float]]
    method: str
    layers: tuple[tuple[float, float], ...] = ()
    """Each layer's miss share (1 − catch rate), from the same resamples."""


def joint_intervals(
    honest: np.ndarray,
    attack: np.ndarray,
    budget: float,
    rule: ThresholdRule,
    fixed: dict[int, float],
    estimates: tuple[float, dict[tuple[int, int], float], tuple[float, ...]],
    *,
    alpha: float = 0.05,
    n_boot: int = 2000,
    seed: int = 0,
) -> JointIntervals:
    """Return the bootstrap intervals of the share of attacks every layer misses, each pair
    misses and each layer misses, at the budget's thresholds (``fixed``: layers whose
    threshold is held; ``estimates``: the log's own shares, the stack's, each pair's and each
    layer's, the centres of a normal interval).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> h, a = rng.normal(size=(500, 2)), rng.normal(1.0, size=(300, 2))
    >>> est = (0.5, {(0, 1): 0.5}, (0.7, 0.7))
    >>> j = joint_intervals(h, a, 0.05, "controlarena", {}, est, n_boot=200)
    >>> lo, hi = j.stack
    >>> 0 < lo < hi < 1, sorted(j.pairs), len(j.layers)
    (True, [(0, 1)], 2)
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
    stack = np.empty(n_boot)
    both = np.empty((len(pairs), n_boot))
    alone = np.empty((d, n_boot))
    # A threshold is an order statistic near the top (at most budget·n + 1 rows above it):
    # each resample's counts are summed over the top rows of each layer, twice that many and
    # more, and over every row only in the rare resample where they do not reach it.
    n_top = min(m_h, 2 * (math.ceil(budget * m_h) + 2) + 64)
    for start in range(0, n_boot, _CHUNK):
        c = min(_CHUNK, n_boot - start)
        # The draws in the order of one resample at a time (honest, then attack), so that
        # the intervals do not depend on the chunk; the rest runs on the chunk at once.
        draw_h, draw_a = np.empty((c, m_h), dtype=np.int64), np.empty((c, m_a), dtype=np.int64)
        for k in range(c):
            draw_h[k] = rng.integers(0, m_h, m_h)
            draw_a[k] = rng.integers(0, m_a, m_a)
        w_h, w_a = _counts(draw_h, m_h), _counts(draw_a, m_a)
        missed = []  # per layer, resamples × attack rows: missed at the resample's threshold
        for i in range(d):
            held = fixed.get(i)
            if held is not None:
                t = np.full(c, held)
            else:
                top = order[i][m_h - n_top :]
                cumulative = np.cumsum(w_h[:, top], axis=1)  # the top rows' counts only
                at = [
                    _TopOrderStatistics(ordered[i], cumulative[k], w_h[k], order[i])
                    for k in range(c)
                ]
                t = np.array([budget_threshold(cast(np.ndarray, x), budget, rule) for x in at])
            missed.append(attack[:, i] <= np.reshape(t, (-1, 1)))
        share, pair_share, single = _joint_misses(missed, w_a, pairs)
        stack[start : start + c] = share / m_a
        both[:, start : start + c] = pair_share.T / m_a
        alone[:, start : start + c] = single.T / m_a
    z = two_sided_z(alpha)

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
        layers=tuple(interval(alone[i], estimates[2][i]) for i in range(d)),
    )


def _joint_misses(
    missed: list[np.ndarray], weights: np.ndarray, pairs: list[tuple[int, int]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per resample, the weighted count of attack rows every layer misses, every pair's
    (resamples × pairs) and every layer's (resamples × layers); ``missed``, per layer,
    resamples × rows. Sums of integer counts, so exact in either way of counting.

    Up to :data:`_CODE_LAYERS` layers, each row's misses are a code of d bits and one weighted
    histogram of codes per resample gives every count (a pair's: the codes with both bits);
    beyond, each resample's weighted Gram matrix of its 0/1 columns.
    """
    d, (c, m) = len(missed), missed[0].shape
    if d <= _CODE_LAYERS:
        code = np.zeros((c, m), dtype=np.int64)
        for i, column in enumerate(missed):
            code |= column.astype(np.int64) << i
        offset = (np.arange(c, dtype=np.int64) << d)[:, None]
        hist = np.bincount((code + offset).ravel(), weights=weights.ravel(), minlength=c << d)
        hist = hist.reshape(c, 1 << d)
        codes = np.arange(1 << d)
        in_pair = np.array(  # codes × pairs: 1 where the code has both layers' bits
            [(codes >> i) & (codes >> j) & 1 for i, j in pairs], dtype=np.float64
        ).reshape(len(pairs), 1 << d)
        in_layer = np.array([(codes >> i) & 1 for i in range(d)], dtype=np.float64)
        return hist[:, -1], hist @ in_pair.T, hist @ in_layer.T
    rows = np.array([i for i, _ in pairs], dtype=np.int64)
    cols = np.array([j for _, j in pairs], dtype=np.int64)
    stack, both, alone = np.empty(c), np.empty((c, len(pairs))), np.empty((c, d))
    for k in range(c):
        matrix = np.stack([column[k] for column in missed]).astype(np.float64)  # d × rows
        co = matrix @ (matrix * weights[k]).T
        stack[k] = float(weights[k] @ matrix.all(axis=0))
        both[k] = co[rows, cols]
        alone[k] = np.diagonal(co)
    return stack, both, alone


def _counts(draws: np.ndarray, m: int) -> np.ndarray:
    """Each resample's count of every row (resamples × m), from its draws (resamples × m)."""
    c = draws.shape[0]
    flat = (draws + (np.arange(c, dtype=np.int64) * m)[:, None]).ravel()
    return np.bincount(flat, minlength=c * m).reshape(c, m)


class _TopOrderStatistics:
    """A resample's sorted honest scores, indexable like the expanded array, from the
    cumulative counts of its top rows (their own :class:`_OrderStatistics`, shifted by the
    resampled rows under them); an index below them sums every row's counts."""

    def __init__(
        self, values: np.ndarray, top: np.ndarray, counts: np.ndarray, order: np.ndarray
    ) -> None:
        self.values, self.counts, self.order = values, counts, order
        self.n = len(values)
        self.below = self.n - int(top[-1])  # resampled rows under the top block
        self.block = _OrderStatistics(values[self.n - len(top) :], top)
        self.whole: _OrderStatistics | None = None

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> float:
        i = i if i >= 0 else self.n + i
        if i >= self.below:
            return self.block[i - self.below]
        if self.whole is None:
            self.whole = _OrderStatistics(self.values, np.cumsum(self.counts[self.order]))
        return self.whole[i]

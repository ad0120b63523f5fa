"""One scored layer on its own: ROC AUC, the ROC curve, and intervals for AUC and catch rate.

The AUC is the Mann–Whitney statistic, P(attack score > honest score) + ½ P(equal), computed
from the two sorted samples in integers, so it is exact. Its interval, and the catch rate's at
a budget, come from a bootstrap that resamples the honest and the attack cases separately and
*re-derives the threshold* from each honest resample: the catch rate's uncertainty includes the
threshold's. The bootstrap resamples the histogram of distinct scores (a monitor scoring 0-10
has 11), so its cost does not grow with the number of cases; when there are too many distinct
scores for that, the AUC's interval is DeLong's (on the logit scale) and the catch rate's is
Wilson's with the threshold held fixed (the scored analysis replaces it with the joint-miss
bootstrap's, which re-derives the threshold), and the method says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import ModuleType
from typing import cast

import numpy as np

from cofail._extensions import optional_extension
from cofail.empirical import budget_threshold
from cofail.empirical._spec import ThresholdRule
from cofail.intervals import two_sided_z, wilson

__all__ = ["LayerIntervals", "layer_intervals", "mann_whitney_auc", "roc_points"]

_columns: ModuleType | None = optional_extension("cofail.scores._columns")
"""The compiled merge (``_columns.c``), or ``None``: the NumPy merge below (tests set it so)."""

_MAX_DISTINCT = 1_000
"""Most distinct scores (in either set) the histogram bootstrap resamples: it costs B × K
binomial draws, 0.2 s a layer at K = 1,000 and 2.6 s at 10,000 (a continuous score on 10,000
cases). Past it the AUC's interval is DeLong's and the analysis takes the catch rate's from
the joint-miss bootstrap, which re-derives the threshold too (:mod:`cofail.scores._joint`)."""
_CHUNK = 100


def mann_whitney_auc(honest_sorted: np.ndarray, attack_sorted: np.ndarray) -> float:
    """Return the ROC AUC of a layer: P(attack > honest) + ½ P(attack = honest).

    Both samples ascending. Exact: the counts are integers, divided once.

    >>> mann_whitney_auc(np.array([0.0, 1.0, 2.0]), np.array([1.0, 3.0]))
    0.75
    """
    n_h, n_a = len(honest_sorted), len(attack_sorted)
    if _columns is not None and honest_sorted.dtype == attack_sorted.dtype == np.float64:
        below, ties = _columns.mann_whitney_counts(
            np.ascontiguousarray(honest_sorted), np.ascontiguousarray(attack_sorted)
        )  # the same merge in C, one pass over each column
        return float(2 * below + ties) / (2.0 * n_h * n_a)
    below = ties = 0
    # A merge of the two sorted samples, a block of attack scores at a time: each block's
    # positions are searched in the slice of honest scores between its ends, which stays in
    # cache (one search over all 10^7 honest scores per attack score costs 3 times as much).
    # Every honest score before the block's slice lies below all of its attack scores, every
    # one after above them.
    starts = np.arange(0, n_a, _MERGE_BLOCK)
    stops = np.minimum(starts + _MERGE_BLOCK, n_a)
    los = np.searchsorted(honest_sorted, attack_sorted[starts], "left")
    his = np.searchsorted(honest_sorted, attack_sorted[stops - 1], "right")
    for start, stop, lo, hi in zip(starts, stops, los.tolist(), his.tolist(), strict=True):
        a = attack_sorted[start:stop]
        h = honest_sorted[lo:hi]
        left = np.searchsorted(h, a, side="left")
        below += int(left.sum(dtype=np.int64)) + lo * len(a)
        # Ties: only attack scores that some honest score equals need the right-hand position.
        tied = h[np.minimum(left, len(h) - 1)] == a if len(h) else left < 0
        right = np.searchsorted(h, a[tied], side="right")
        ties += int((right - left[tied]).sum(dtype=np.int64))
    # below + ties / 2 pairs, as an exact integer numerator over 2 n_h n_a
    return float(2 * below + ties) / (2.0 * n_h * n_a)


_MERGE_BLOCK = 4096
"""Attack scores per block of the Mann-Whitney merge."""


def roc_points(
    honest_sorted: np.ndarray, attack_sorted: np.ndarray, max_points: int = 400
) -> tuple[np.ndarray, np.ndarray]:
    """Return (FPR, TPR) of the rule 'flag when score > t' at distinct scores t, from (1, 1)
    down to (0, 0), thinned to about ``max_points`` (both ends kept).

    >>> f, t = roc_points(np.array([0.0, 1.0]), np.array([1.0, 2.0]))
    >>> f.tolist(), t.tolist()
    ([1.0, 0.5, 0.0, 0.0], [1.0, 1.0, 0.5, 0.0])
    """
    if len(honest_sorted) + len(attack_sorted) > 20 * max_points:
        # A large log: thresholds at evenly spaced ranks of each set, not every distinct score
        # (a unique over tens of millions of scores, for a curve drawn with a few hundred).
        pick_h = np.linspace(0, len(honest_sorted) - 1, max_points).astype(np.int64)
        pick_a = np.linspace(0, len(attack_sorted) - 1, max_points).astype(np.int64)
        values = np.unique(np.concatenate((honest_sorted[pick_h], attack_sorted[pick_a])))
    else:
        values = np.unique(np.concatenate((honest_sorted, attack_sorted)))
    cuts = np.concatenate(([-np.inf], values))
    if len(cuts) > max_points:
        cuts = cuts[np.unique(np.linspace(0, len(cuts) - 1, max_points).round().astype(int))]
    n_h, n_a = len(honest_sorted), len(attack_sorted)
    fpr = (n_h - np.searchsorted(honest_sorted, cuts, side="right")) / n_h
    tpr = (n_a - np.searchsorted(attack_sorted, cuts, side="right")) / n_a
    return fpr, tpr


@dataclass(frozen=True)
class LayerIntervals:
    """Intervals of one layer's AUC and of its catch rate at the budget's threshold."""

    auc: tuple[float, float]
    tpr: tuple[float, float]
    method: str
    resampled: bool = True
    """False: DeLong's AUC interval and Wilson's for the catch rate with the threshold held
    fixed (too many distinct scores to resample their histogram)."""
    auc_method: str = ""
    """The AUC interval's part of ``method``, where it is not the catch rate's too."""


def layer_intervals(
    honest_sorted: np.ndarray,
    attack_sorted: np.ndarray,
    threshold: float,
    budget: float | None,
    rule: ThresholdRule,
    *,
    alpha: float = 0.05,
    n_boot: int = 2000,
    seed: int = 0,
    auc: float | None = None,
) -> LayerIntervals:
    """Return the AUC's and the catch rate's intervals (see the module docstring).

    ``budget`` ``None`` means the threshold was fixed by hand: it is held fixed. ``auc``, the
    point estimate when the caller has it (else computed here where needed).
    """
    n_h, n_a = len(honest_sorted), len(attack_sorted)
    caught = n_a - int(np.searchsorted(attack_sorted, threshold, side="right"))
    # Distinct scores from the sorted columns in one pass each (no sort of the union).
    distinct_h = _distinct(honest_sorted, _resampled_limit(n_h))
    distinct_a = _distinct(attack_sorted, _resampled_limit(n_a))
    if distinct_h is None or distinct_a is None or n_h == 0:
        if auc is None:
            auc = mann_whitney_auc(honest_sorted, attack_sorted) if n_h else math.nan
        sampled = max(n_h, n_a) > _DELONG_SAMPLE
        auc_method = (
            "AUC: DeLong, logit scale (too many distinct scores to resample"
            + (f"; component variances on {_DELONG_SAMPLE:,} cases a set" if sampled else "")
            + ")"
        )
        return LayerIntervals(
            auc=_delong(honest_sorted, attack_sorted, auc, alpha) if n_h else (math.nan,) * 2,
            tpr=wilson(caught, n_a, alpha),
            method=f"{auc_method}; catch rate: Wilson, threshold held fixed",
            resampled=False,
            auc_method=auc_method,
        )
    values = np.union1d(distinct_h, distinct_a)
    count_h = np.diff(np.searchsorted(honest_sorted, values, "right"), prepend=0)
    count_a = np.diff(np.searchsorted(attack_sorted, values, "right"), prepend=0)
    rng = np.random.default_rng(seed)
    aucs, tprs = [], []
    for start in range(0, n_boot, _CHUNK):
        b = min(_CHUNK, n_boot - start)
        h = rng.multinomial(n_h, count_h / n_h, size=b)
        a = rng.multinomial(n_a, count_a / n_a, size=b)
        cum_h = np.cumsum(h, axis=1)
        below = np.concatenate((np.zeros((b, 1), dtype=np.int64), cum_h[:, :-1]), axis=1)
        aucs.append(((a * (2 * below + h)).sum(axis=1)) / (2.0 * n_h * n_a))
        if budget is None:
            t = np.full(b, threshold)
        else:
            t = np.array([_threshold_of_counts(values, row, budget, rule) for row in cum_h])
        above = np.searchsorted(values, t, side="right")  # first value > t
        cum_a = np.concatenate((np.zeros((b, 1), dtype=np.int64), np.cumsum(a, axis=1)), axis=1)
        tprs.append((n_a - cum_a[np.arange(b), above]) / n_a)
    q = (alpha / 2, 1 - alpha / 2)
    auc_q = np.quantile(np.concatenate(aucs), q)
    tpr_q = np.quantile(np.concatenate(tprs), q)
    held = "re-derived from each honest resample" if budget is not None else "held fixed"
    return LayerIntervals(
        auc=(float(auc_q[0]), float(auc_q[1])),
        tpr=(float(tpr_q[0]), float(tpr_q[1])),
        method=(
            f"percentile bootstrap, {n_boot} resamples of the honest and the attack cases "
            f"apart, threshold {held}"
        ),
    )


def _resampled_limit(n: int) -> int:
    """Most distinct scores of a set of ``n`` cases whose histogram is resampled: at most
    :data:`_MAX_DISTINCT`, and a quarter of the cases (where each value is about one case, the
    joint-miss bootstrap resamples the cases themselves for less), but always 50.

    >>> _resampled_limit(100), _resampled_limit(2_000), _resampled_limit(10**6)
    (50, 500, 1000)
    """
    return min(_MAX_DISTINCT, max(50, n // 4))


def _threshold_of_counts(
    values: np.ndarray, cumulative: np.ndarray, budget: float, rule: ThresholdRule
) -> float:
    """The budget's threshold of a resampled honest set given as cumulative counts over
    ``values``: the same rule as :func:`budget_threshold` on the expanded sample, reading only
    the two order statistics it needs."""
    n = int(cumulative[-1])
    order = _OrderStatistics(values, cumulative)
    if rule == "conservative":
        allowed = math.floor(budget * n + 1e-9)
        return -math.inf if allowed >= n else order[n - allowed - 1]
    return budget_threshold(cast(np.ndarray, order), budget, rule)  # reads len and 4 items


class _OrderStatistics:
    """A sorted sample stored as counts, indexable like the expanded array."""

    def __init__(self, values: np.ndarray, cumulative: np.ndarray) -> None:
        self.values, self.cumulative = values, cumulative

    def __len__(self) -> int:
        return int(self.cumulative[-1])

    def __getitem__(self, i: int) -> float:
        i = i if i >= 0 else len(self) + i
        return float(self.values[int(np.searchsorted(self.cumulative, i, side="right"))])


def _positions(hay: np.ndarray, needles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.searchsorted(hay, needles)`` left and right, both ascending (by a merge where the
    kernel is built).

    >>> [p.tolist() for p in _positions(np.array([1.0, 2.0, 2.0, 3.0]), np.array([2.0, 5.0]))]
    [[1, 4], [3, 4]]
    """
    if _columns is None or hay.dtype != np.float64 or needles.dtype != np.float64:
        return np.searchsorted(hay, needles, "left"), np.searchsorted(hay, needles, "right")
    left, right = np.empty(len(needles), np.int64), np.empty(len(needles), np.int64)
    _columns.sorted_positions(left, right, np.ascontiguousarray(hay), np.ascontiguousarray(needles))
    return left, right


def _distinct(sorted_values: np.ndarray, limit: int) -> np.ndarray | None:
    """The distinct values of an ascending array, in one pass; None when there are more than
    ``limit`` (found on a prefix where it can be: a continuous score's first few thousand
    sorted values already are, and the pass over millions is then skipped).

    >>> _distinct(np.array([0.0, 0.0, 1.0, 2.0, 2.0]), 3).tolist()
    [0.0, 1.0, 2.0]
    >>> _distinct(np.array([0.0, 0.0, 1.0, 2.0, 2.0]), 2) is None
    True
    """
    if len(sorted_values) == 0:
        return sorted_values
    prefix = sorted_values[: 2 * limit + 2]
    if len(prefix) < len(sorted_values) and _changes(prefix) + 1 > limit:
        return None
    keep = np.empty(len(sorted_values), dtype=bool)
    keep[0] = True
    np.not_equal(sorted_values[1:], sorted_values[:-1], out=keep[1:])
    out = sorted_values[keep]
    return out if len(out) <= limit else None


def _changes(sorted_values: np.ndarray) -> int:
    return int(np.count_nonzero(sorted_values[1:] != sorted_values[:-1]))


_DELONG_SAMPLE = 200_000
"""Past this many cases in a set, the variance of its structural components is estimated on a
seeded sample of that many (each component still counts every case of the other set): about
0.3 % relative error on the variance, for seconds saved per layer on a log of millions."""


def _delong(
    honest: np.ndarray, attack: np.ndarray, auc: float, alpha: float
) -> tuple[float, float]:
    """DeLong's interval for the AUC, on the logit scale so that it stays inside (0, 1)."""
    n_h, n_a = len(honest), len(attack)
    rng = np.random.default_rng(0)
    at_a = attack if n_a <= _DELONG_SAMPLE else np.sort(rng.choice(attack, _DELONG_SAMPLE))
    at_h = honest if n_h <= _DELONG_SAMPLE else np.sort(rng.choice(honest, _DELONG_SAMPLE))
    # Structural components: each attack's share of honest cases below it, and each honest
    # case's share of attacks above it (ties half).
    left, right = _positions(honest, at_a)
    v10 = (left + right) / (2.0 * n_h)
    left, right = _positions(attack, at_h)
    v01 = ((n_a - right) + (n_a - left)) / (2.0 * n_a)
    var = np.var(v10, ddof=1) / n_a + np.var(v01, ddof=1) / n_h if min(n_h, n_a) > 1 else 0.0
    if not 0.0 < auc < 1.0 or var <= 0:
        return (auc, auc)
    half = two_sided_z(alpha) * math.sqrt(var) / (auc * (1 - auc))
    centre = math.log(auc / (1.0 - auc))  # the logit; 0 < auc < 1 here
    return (_expit(centre - half), _expit(centre + half))


def _expit(x: float) -> float:
    """The logistic function, without overflow for a large ``-x``.

    >>> _expit(0.0), _expit(-800.0), round(_expit(2.0), 12)
    (0.5, 0.0, 0.880797077978)
    """
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)

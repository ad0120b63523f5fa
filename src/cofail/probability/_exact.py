"""Exact probability that a stack fails when failure modes are common causes.

The model (DESIGN.md): mode j is present with probability p_j, independently of the others;
when present it defeats layer i with probability q_ij; layer i also fails on its own with
residual probability r_i. The stack fails when at least k of its n layers fail.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

import numpy as np

from cofail.probability._compiled import kernels
from cofail.probability._masks import column_masks, is_binary

__all__ = [
    "CERTIFY_RTOL",
    "INCLUSION_MIN_LAYERS",
    "MAX_EXACT_LAYERS",
    "ModeGroups",
    "all_stack_failures",
    "compiled_binary",
    "exact_with_engine",
    "failed_set_distribution",
    "failure_covariance",
    "independent_failure",
    "kernels_available",
    "layer_failure",
    "pair_failures",
    "stack_failure",
]

_kernels: ModuleType | None = kernels  # tests set it to None to run the NumPy fallbacks


def kernels_available() -> bool:
    """True when the compiled kernels are installed; without them NumPy computes the same.

    >>> isinstance(kernels_available(), bool)
    True
    """
    return _kernels is not None


MAX_EXACT_LAYERS = 26
"""Largest stack the array-based engines accept (2^26 float64 states = 512 MiB); larger stacks
go to the hashed sparse DP, or to the BDD engine."""


def layer_failure(q: np.ndarray, p: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Return each layer's own failure probability 1 − (1 − r_i) Π_j (1 − p_j q_ij).

    Computed with ``log1p``/``expm1`` so that tiny probabilities keep full relative precision.

    >>> layer_failure(np.array([[1.0, 0.0]]), np.array([0.1, 0.2]), np.array([0.0])).round(12)
    array([0.1])
    """
    return np.asarray(-np.expm1(_log_survival(q, p, r)))


def _log_survival(q: np.ndarray, p: np.ndarray, r: np.ndarray) -> np.ndarray:
    """log P(layer i survives) = log(1 − r_i) + Σ_j log(1 − p_j q_ij), -inf for a sure failure."""
    q = np.asarray(q, dtype=float)
    with np.errstate(divide="ignore"):  # a certain failure is log(0) = -inf, which is right
        return np.asarray(np.log1p(-np.asarray(r, dtype=float)) + np.log1p(-(q * p)).sum(axis=1))


def pair_failures(q: np.ndarray, p: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Return the (n, n) matrix of P(layers i and j both fail); the diagonal is P(i fails).

    >>> q = np.array([[1.0, 0.0], [1.0, 1.0]])
    >>> pair_failures(q, np.array([0.1, 0.2]), np.zeros(2)).round(12).tolist()
    [[0.1, 0.1], [0.1, 0.28]]

    Notes
    -----
    P(i) P(j) plus the covariance of :func:`failure_covariance`: two non-negative terms, so
    nothing cancels. O(m n^2).
    """
    own = layer_failure(q, p, r)
    joint = np.outer(own, own) + failure_covariance(q, p, r)
    np.fill_diagonal(joint, own)
    return np.asarray(joint)


def failure_covariance(q: np.ndarray, p: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Return the (n, n) covariance of the layers' failure indicators; the diagonal is P(1 − P).

    >>> q = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    >>> c = failure_covariance(q, np.array([0.1, 0.2]), np.zeros(3))
    >>> round(float(c[0, 1]), 12), float(c[0, 2])  # 0.1 - 0.1 * 0.28; 0 and 2 share no mode
    (0.072, 0.0)

    Notes
    -----
    Failure and survival indicators have the same covariance, S_ij − S_i S_j, with S the
    survival probabilities. Mode j contributes (1 − p_j a)(1 − p_j b) to S_i S_j and
    1 − p_j (a + b − ab) to S_ij; their difference is p_j (1 − p_j) a b ≥ 0. So

        cov = S_i S_j (Π_j (1 + p_j (1 − p_j) a_j b_j / ((1 − p_j a_j)(1 − p_j b_j))) − 1),

    summed with ``log1p`` and ``expm1``: positive terms only, full relative precision for rare
    modes, never negative, and exactly 0 for layers that share no mode. Subtracting
    P(i) P(j) from P(both) cancels instead, and leaves noise such as −3e−17.
    """
    q = np.asarray(q, dtype=float)
    p = np.asarray(p, dtype=float)
    log_survive = _log_survival(q, p, r)
    own, survive = -np.expm1(log_survive), np.exp(log_survive)  # 1 - own rounds a tiny survival
    hit = q * p  # p_j q_ij
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = np.where(hit < 1, q / (1 - hit), 0.0)  # a certain failure shares nothing
    log_gain = np.zeros((q.shape[0], q.shape[0]))
    for j in np.flatnonzero((np.count_nonzero(scaled, axis=0) > 1) & (p > 0) & (p < 1)):
        log_gain += np.log1p(p[j] * (1 - p[j]) * np.outer(scaled[:, j], scaled[:, j]))
    cov = np.outer(survive, survive) * np.expm1(log_gain)
    np.fill_diagonal(cov, own * survive)
    return np.asarray(cov)


def independent_failure(q: np.ndarray, p: np.ndarray, r: np.ndarray) -> float:
    """Return the independence baseline Π_i P(layer i fails)."""
    return float(np.prod(layer_failure(q, p, r)))


def stack_failure(q: np.ndarray, p: np.ndarray, r: np.ndarray, k: int | None = None) -> float:
    """Return the exact P(at least ``k`` of the n layers fail) (default k = n).

    Parameters
    ----------
    q : (n, m) conditional failure probabilities of layer i under mode j.
    p : (m,) probability that mode j is present.
    r : (n,) residual failure probability of each layer.
    k : failed layers that defeat the stack; ``None`` means all n.

    Examples
    --------
    Ten layers that each fail on their own mode with 0.1, against ten that share one mode:

    >>> n = 10
    >>> f"{stack_failure(np.eye(n), np.full(n, 0.1), np.zeros(n)):.6e}"
    '1.000000e-10'
    >>> stack_failure(np.ones((n, 1)), np.array([0.1]), np.zeros(n))
    0.1

    Notes
    -----
    A dynamic programme over the 2^n sets of failed layers, one failure mode at a time: with
    probability 1 − p_j the mode is absent and nothing changes; with p_j each layer not yet
    failed fails with q_ij. Modes with the same 0/1 column are merged first (one present iff
    any is). Every term is a product of probabilities, never a difference, so a result of 1e-10
    keeps full relative precision. Cost O(g · 2^n) for g distinct binary columns, O(m n 2^n)
    for graded ones; memory 2^n floats. With binary cells and the compiled kernels the DP
    touches only the reachable sets (unions of mode columns), often a small fraction of 2^n.
    """
    r = np.asarray(r, dtype=float)
    n = len(r)
    k = n if k is None else k
    if n > MAX_EXACT_LAYERS:
        return _beyond_arrays(q, p, r, k)[0]
    if _kernels is not None and 0 < n <= MAX_EXACT_LAYERS and is_binary(q):
        masks, probs = binary_modes(q, p)
        probability, _, _ = _kernels.dp_binary(masks, probs, r, n, k, 0)
        return float(probability)
    dist = failed_set_distribution(q, p)
    if k == n:
        # Only "every layer failed" counts: a layer not failed by a mode must fail on its own.
        for i in range(n):
            dist.reshape(-1, 2, 1 << i)[:, 0, :] *= r[i]
        return float(dist.sum())
    for layer in np.flatnonzero(r):
        _fail_layer(dist, int(layer), float(r[layer]))
    states = np.arange(1 << n, dtype=np.uint64)
    return float(dist[np.bitwise_count(states) >= k].sum())


INCLUSION_MIN_LAYERS = 16
"""From this many layers on, an AND stack with binary cells tries inclusion–exclusion first."""
CERTIFY_RTOL = 1e-7
"""Inclusion–exclusion is used only when its rounding bound is within this relative error."""


def exact_with_engine(
    q: np.ndarray, p: np.ndarray, r: np.ndarray, k: int | None = None
) -> tuple[float, str]:
    """Return (P(at least k layers fail), the engine that computed it), picking by cost.

    >>> exact_with_engine(np.eye(3), np.full(3, 0.1), np.zeros(3))[0]  # doctest: +ELLIPSIS
    0.00100000000000000...

    Notes
    -----
    Binary cells with the compiled kernels: an AND stack of 16+ layers with more than 4n
    distinct modes (whose reachable sets soon fill 2^n) goes straight to inclusion–exclusion in
    double-double arithmetic, O(n 2^n); otherwise the sparse positive-term DP runs with a work
    budget equal to that cost and hands over when it runs out. Inclusion–exclusion is kept only
    if its certified error is within ``CERTIFY_RTOL``, else the DP runs to the end. Without the
    kernels: large AND stacks try the extended-precision inclusion–exclusion (certified the same
    way), everything else the NumPy DP. Graded cells always use the NumPy DP; stacks beyond
    ``MAX_EXACT_LAYERS`` the hashed DP or the BDD.
    """
    q = np.asarray(q, dtype=float)
    n = q.shape[0]
    if n > MAX_EXACT_LAYERS:
        return _beyond_arrays(q, p, r, k)
    k_all = k is None or k == n
    binary = is_binary(q)
    if _kernels is not None and binary and 0 < n <= MAX_EXACT_LAYERS:
        masks, probs = binary_modes(q, p)
        return compiled_binary(masks, probs, np.ascontiguousarray(r, dtype=float), k)
    # Cost model: the DP makes one pass over 2^n states per distinct mode column; the
    # extended-precision inclusion-exclusion costs about 4n such passes.
    masks, _, graded = _split_modes(q, np.asarray(p, dtype=float))
    cheaper = len(masks) + len(graded) > 4 * n
    if k_all and binary and n >= INCLUSION_MIN_LAYERS and cheaper:
        from cofail.probability._inclusion import and_stack_inclusion_exclusion

        result = and_stack_inclusion_exclusion(q, p, r)
        if result.certified(CERTIFY_RTOL):
            return result.probability, (
                f"inclusion-exclusion over 2^{n} layer subsets, extended precision, certified "
                f"relative error <= {result.error_bound / result.probability:.1e}"
            )
    return stack_failure(q, p, r, k), f"state DP over 2^{n} sets of failed layers (positive terms)"


def compiled_binary(
    masks: np.ndarray, probs: np.ndarray, r: np.ndarray, k: int | None = None
) -> tuple[float, str]:
    """Return (P(at least k layers fail), engine) for binary cells given as merged mode masks
    (:func:`binary_modes`), with the compiled kernels and up to ``MAX_EXACT_LAYERS`` layers.

    The choice between the sparse DP and certified inclusion–exclusion that
    :func:`exact_with_engine` describes.

    >>> if kernels_available():
    ...     value, engine = compiled_binary(np.array([1, 2], dtype=np.uint64),
    ...                                     np.array([0.1, 0.1]), np.zeros(2))
    ...     assert round(value, 15) == 0.01 and engine.startswith("state DP")
    """
    if _kernels is None:
        raise RuntimeError("the compiled kernels are not built")
    n = len(r)
    k_all = k is None or k == n
    kk = n if k is None else k
    ie_first = k_all and n >= INCLUSION_MIN_LAYERS and len(masks) > 4 * n
    budget = (n << n) // 2 if k_all and n >= INCLUSION_MIN_LAYERS and not ie_first else 0
    probability = None
    if not ie_first:
        probability, _, reachable = _kernels.dp_binary(masks, probs, r, n, kk, budget)
    if probability is None:
        value, bound = _kernels.ie_binary(masks, probs, r, n)
        if value > 0 and bound <= CERTIFY_RTOL * value:
            return float(value), (
                f"inclusion-exclusion over 2^{n} layer subsets (compiled, double-double "
                f"arithmetic), certified relative error <= {max(bound / value, 1e-16):.1e}"
            )
        probability, _, reachable = _kernels.dp_binary(masks, probs, r, n, kk, 0)
    # The kernel reports 2^n once it has gone dense (it stops counting reachable sets).
    visited = (
        f"all 2^{n} sets of failed layers (compiled, dense, positive terms)"
        if reachable == 1 << n
        else f"the {reachable:,} reachable of 2^{n} sets of failed layers (compiled, "
        "positive terms)"
    )
    return float(probability), f"state DP over {visited}"


HASHED_MAX_STATES = 1 << 24
"""Beyond 26 layers the hashed DP keeps at most this many reachable sets: a table of at most
2^26 16-byte slots (1 GiB; 1.5 GiB while it doubles)."""


def _beyond_arrays(q: np.ndarray, p: np.ndarray, r: np.ndarray, k: int | None) -> tuple[float, str]:
    # Beyond the DPs' 2^n arrays: the sparse DP with its sets in a hash table when the cells
    # are binary and few enough sets are reachable, else the stack's fault tree in a BDD.
    n = q.shape[0]
    if _kernels is not None and n <= 63 and is_binary(q):
        masks, probs = binary_modes(q, p)
        kk = n if k is None else k
        r = np.ascontiguousarray(r, dtype=float)
        value, reachable = _kernels.dp_binary_hashed(masks, probs, r, n, kk, HASHED_MAX_STATES)
        if value is not None:
            return float(value), (
                f"state DP over the {reachable:,} reachable sets of failed layers of {n} "
                "(compiled, hashed, positive terms)"
            )
    from cofail.faulttree import stack_tree, top_event_probability

    tree = stack_tree(np.asarray(q, dtype=float), np.asarray(p, dtype=float), np.asarray(r), k)
    result = top_event_probability(tree, "TOP")
    return result.probability, (
        f"BDD (CUDD) of the stack's fault tree, {result.nodes:,} nodes at most "
        f"({q.shape[0]} layers: beyond the state DP's 2^{MAX_EXACT_LAYERS} states)"
    )


def binary_modes(q: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the distinct non-empty 0/1 columns of ``q`` as layer bitmasks, with merged p.

    Columns hitting the same layers act as one mode present with 1 − Π(1 − p_j); a column hit by
    one mode keeps its p exactly. Masks come widest first (the order the sparse DP likes); modes
    with p = 0 are dropped.

    >>> masks, probs = binary_modes(np.array([[1, 1, 0], [0, 0, 1]]), np.array([0.5, 0.5, 0.2]))
    >>> masks.tolist(), probs.round(6).tolist()
    ([1, 2], [0.75, 0.2])
    """
    groups = ModeGroups.of(q)
    merged = groups.merged(np.asarray(p, dtype=float)[None, :])[0]
    present = merged > 0  # a group whose every mode has p = 0 cannot occur
    return np.ascontiguousarray(groups.masks[present]), np.ascontiguousarray(merged[present])


@dataclass(frozen=True)
class ModeGroups:
    """The modes of binary ``q`` grouped by the layers they hit: what merging them into one mode
    per distinct column needs that does not depend on p (worked out once for many draws of p).

    >>> g = ModeGroups.of(np.array([[1, 1, 0], [0, 0, 1]]))
    >>> g.masks.tolist(), g.modes.tolist(), g.group.tolist()
    ([1, 2], [0, 1, 2], [0, 0, 1])
    """

    masks: np.ndarray
    """The distinct non-empty columns as layer bitmasks, widest first."""
    modes: np.ndarray
    """The modes that hit at least one layer."""
    group: np.ndarray
    """For each of ``modes``, the index of its mask in ``masks``."""

    @classmethod
    def of(cls, q: np.ndarray) -> ModeGroups:
        """Group the columns of the 0/1 matrix ``q``."""
        columns = column_masks(q)
        modes = np.flatnonzero(columns)
        unique, inverse = np.unique(columns[modes], return_inverse=True)
        order = np.argsort(-np.bitwise_count(unique), kind="stable")
        return cls(unique[order], modes, np.argsort(order)[inverse])

    def merged(self, p: np.ndarray) -> np.ndarray:
        """Return each group's P(present) for each row of ``p`` (draws × modes).

        1 − Π(1 − p_j) by log1p/expm1, summed in mode order; a group with one mode of p > 0
        keeps that p exactly (log1p/expm1 would round it); 0 where every p is 0.
        """
        shape = (len(self.masks), len(p))  # groups × draws: np.add.at adds along axis 0
        log_absent, single = np.zeros(shape), np.zeros(shape)
        possible = np.zeros(shape, dtype=np.int64)
        by_mode = p[:, self.modes].T
        with np.errstate(divide="ignore"):  # p = 1 is log(0) = -inf: the merged mode is certain
            np.add.at(log_absent, self.group, np.log1p(-by_mode))
        np.add.at(single, self.group, by_mode)
        np.add.at(possible, self.group, by_mode > 0)
        merged: np.ndarray = np.where(possible == 1, single, -np.expm1(log_absent)).T
        return merged


def failed_set_distribution(q: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Return P(the set of layers defeated by failure modes is exactly F) for all 2^n sets F.

    Index F is a bitmask over the rows of ``q`` (bit i = layer i). Residuals are not applied.

    >>> failed_set_distribution(np.array([[1.0], [0.0]]), np.array([0.25])).tolist()
    [0.75, 0.25, 0.0, 0.0]
    """
    q = np.asarray(q, dtype=float)
    p = np.asarray(p, dtype=float)
    n = q.shape[0]
    if n > MAX_EXACT_LAYERS:
        raise ValueError(f"the state DP handles at most {MAX_EXACT_LAYERS} layers, got {n}")
    states = np.arange(1 << n, dtype=np.int64)
    dist = np.zeros(1 << n)
    dist[0] = 1.0
    masks, probs, graded = _split_modes(q, p)
    for mask, prob in zip(masks.tolist(), probs.tolist(), strict=True):
        hit = np.bincount(states | mask, weights=dist, minlength=1 << n)
        dist = (1.0 - prob) * dist + prob * hit
    for column, prob in graded:
        hit = dist.copy()
        for i in np.flatnonzero(column):
            _fail_layer(hit, int(i), float(column[i]))
        dist = (1.0 - prob) * dist + prob * hit
    return dist


def all_stack_failures(q: np.ndarray, p: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Return P(every layer of S fails) for all 2^n stacks S at once (index S = bitmask).

    Examples
    --------
    >>> q = np.array([[1.0, 0.0], [1.0, 1.0]])
    >>> risk = all_stack_failures(q, np.array([0.1, 0.2]), np.zeros(2))
    >>> [round(float(x), 12) for x in risk]  # {}, {0}, {1}, {0, 1}
    [1.0, 0.1, 0.28, 0.1]

    Notes
    -----
    One pass of :func:`failed_set_distribution` over all n layers, then a per-layer transform:
    for a layer outside S its outcome is summed out; for a layer in S it must fail, either by a
    mode or by its residual. O((m + n) 2^n) for all stacks together, against O(m 2^s) for each
    stack of s layers separately; every term is non-negative.
    """
    r = np.asarray(r, dtype=float)
    g = failed_set_distribution(q, p)
    n = len(r)
    for i in range(n):
        g = g.reshape(-1, 2, 1 << i)
        failed, intact = g[:, 1, :].copy(), g[:, 0, :].copy()
        g[:, 0, :] = failed + intact  # layer i not in S: either outcome
        g[:, 1, :] = failed + r[i] * intact  # layer i in S: it must fail
        g = g.reshape(-1)
    return g


def _fail_layer(dist: np.ndarray, i: int, q: float) -> None:
    # In place: layer i, if not yet failed, fails now with probability q (bit i of the index).
    view = dist.reshape(-1, 2, 1 << i)
    view[:, 1, :] += q * view[:, 0, :]
    view[:, 0, :] *= 1.0 - q  # a product, not x - q x: no cancellation when q is near 1


def _split_modes(
    q: np.ndarray, p: np.ndarray
) -> tuple[np.ndarray, np.ndarray, list[tuple[np.ndarray, float]]]:
    # (binary modes merged by :func:`binary_modes`, their p, the graded columns with their p).
    binary = np.all((q == 0.0) | (q == 1.0), axis=0)
    masks, probs = binary_modes(q[:, binary], p[binary])
    graded = [(q[:, j], float(p[j])) for j in np.flatnonzero(~binary) if p[j] > 0]
    return masks, probs, graded

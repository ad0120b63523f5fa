"""Importance of every failure mode and layer of a stack in one pass, instead of two exact solves
each: P(stack fails | these layers fail) for many layer sets at once."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cofail.faulttree import Importance
from cofail.probability._compiled import kernels as _kernels
from cofail.probability._exact import failed_set_distribution
from cofail.probability._masks import column_masks, is_binary

__all__ = ["Swing", "and_stack_swings", "at_least_k_swings", "stack_swings"]

MAX_LAYERS = 24
"""The one pass holds 2^n double-double sums and as many bounds (384 MiB at 24 layers)."""
CERTIFIED = 1e-9
"""A swing is used only when its rounding bound is within this fraction of it."""
_TINY = float(np.finfo(float).smallest_normal)
"""Absolute slack of every check: below 2.2e-308 doubles are subnormal and round by a fixed
amount, so a relative check means nothing there (hypothesis found a residual of 4.9e-324)."""


@dataclass(frozen=True)
class Swing:
    """P(stack fails) with an event certain (``up``) and impossible (``down``), and the
    Birnbaum importance ``mif`` = up − down, computed without subtracting the two."""

    up: float | None
    down: float | None
    """Either is None where it cancels (:meth:`Importance.conditionals`): solve for it."""
    mif: float


def and_stack_swings(
    q: np.ndarray, p: np.ndarray, r: np.ndarray, base: float
) -> tuple[list[Swing | None], list[Swing | None]] | None:
    """The swing of every mode (columns of ``q``) and every layer residual, None for each one
    not certified; None altogether where this does not apply (cells not 0/1, more than
    ``MAX_LAYERS`` layers, no compiled kernels). ``base`` is P(every layer fails).

    Mode j present makes the layers it hits fail, so P(all fail | j) = X(c_j), the chance that
    every other layer fails; P is linear in p_j, so MIF_j = (X(c_j) − P) / (1 − p_j). The
    kernel computes X(U) − P for all the sets U needed in one superset-sum transform of the
    inclusion–exclusion terms, in double-double with a rounding bound (``ie_binary_swings``).

    Examples
    --------
    >>> q = np.array([[1.0, 0.0], [1.0, 1.0]])  # mode 0 hits both layers, mode 1 the second
    >>> p, r = np.array([0.1, 0.2]), np.array([0.0, 0.0])
    >>> modes, layers = and_stack_swings(q, p, r, 0.1)
    >>> round(modes[0].mif, 12), round(layers[0].mif, 12)  # P(2nd fails) - 0; 0.28 - 0.1
    (1.0, 0.18)
    """
    q = np.asarray(q, dtype=float)
    n = q.shape[0]
    if _kernels is None or not 0 < n <= MAX_LAYERS or not is_binary(q):
        return None
    hit = column_masks(q)
    targets = np.unique(np.concatenate([hit, column_masks(np.eye(n))]))
    # Modes go in one by one, not merged by column (binary_modes): a merged p rounds, and
    # 1 - p with it, which the importance of a mode with p near 1 divides by.
    probs = np.ascontiguousarray(p, dtype=float)
    r = np.ascontiguousarray(r, dtype=float)
    value, diffs, bounds = _kernels.ie_binary_swings(hit, probs, r, n, targets)
    if diffs is None or abs(value - base) > CERTIFIED * base + _TINY:
        return None
    found = dict(
        zip(
            targets.tolist(),
            zip(np.frombuffer(diffs), np.frombuffer(bounds), strict=True),
            strict=True,
        )
    )

    def swing(target: int, own: float) -> Swing | None:
        diff, bound = found[target]
        return _swing(target, float(diff), float(bound), own, base)

    return (
        [swing(int(m), float(pj)) for m, pj in zip(hit, p, strict=True)],
        [swing(1 << i, float(ri)) for i, ri in enumerate(r)],
    )


def _swing(target: int, diff: float, bound: float, own: float, base: float) -> Swing | None:
    """The swing of an event with probability ``own`` whose presence makes the layers of
    ``target`` fail, from diff = P(stack fails | those fail) − P and its rounding ``bound``:
    MIF = diff / (1 − own), since P is linear in ``own``. None where not certified (a diff
    below about 1e-299 never is: its rounding is absolute)."""
    if target == 0:  # a mode that hits no layer changes nothing
        return Swing(base, base, 0.0)
    if own >= 1.0 or not bound + _TINY <= CERTIFIED * abs(diff):
        return None
    mif = float(diff) / (1.0 - own)
    return Swing(*Importance.conditionals(base, own, mif), mif)


AT_LEAST_MAX_LAYERS = 20
"""The k-out-of-n pass holds 2^n × (n + 1) floats (176 MiB at 20 layers)."""


def at_least_k_swings(
    q: np.ndarray, p: np.ndarray, r: np.ndarray, k: int, base: float
) -> tuple[list[Swing | None], list[Swing | None]] | None:
    """The swing of every mode with a 0/1 column and every layer residual of a stack that fails
    when at least ``k`` of its n layers fail (any cells; None for a graded column, and for each
    event not certified); None altogether beyond ``AT_LEAST_MAX_LAYERS`` layers.

    As in :func:`and_stack_swings`, a mode present makes its layers c_j fail, so P(e=1) =
    H(c_j) with H(U) = P(at least k fail | the layers of U fail). H for every U comes from the
    distribution D(F) of the sets of layers the modes fail (:func:`failed_set_distribution`)
    and one pass per layer that turns bit i of F into bit i of U while counting failed layers:
    a layer in U fails, one in F fails, any other fails on its own with r_i. Every term is
    non-negative; the bound on each H(U) − P is (n + m + 2) rounding errors of each.

    Examples
    --------
    >>> q = np.eye(3)  # three layers, each failed only by its own mode (0.1, 0.2, 0.3)
    >>> modes, layers = at_least_k_swings(q, np.array([0.1, 0.2, 0.3]), np.zeros(3), 2, 0.098)
    >>> round(modes[0].mif, 12)  # P(at least 1 of the other two) - P(both) = 0.44 - 0.06
    0.38
    """
    q = np.asarray(q, dtype=float)
    p = np.asarray(p, dtype=float)
    r = np.ascontiguousarray(r, dtype=float)
    n = q.shape[0]
    if not 0 < n <= AT_LEAST_MAX_LAYERS:
        return None
    binary = np.all((q == 0.0) | (q == 1.0), axis=0)
    masks = column_masks(np.where(binary, q, 0.0))
    if _kernels is not None and binary.all():  # modes one by one: a merged p rounds 1 - p
        h = np.frombuffer(_kernels.at_least_k_given(masks, np.ascontiguousarray(p), r, n, k))
    else:
        h = _given(q, p, r, k)
    if abs(h[0] - base) > CERTIFIED * base + _TINY:
        return None
    rounding = (n + len(p) + 2) * np.finfo(float).eps

    def swing(target: int, own: float, exact_column: bool) -> Swing | None:
        if not exact_column:  # a graded mode's presence does not make its layers fail
            return None
        return _swing(target, float(h[target] - h[0]), 2 * rounding * h[target], own, base)

    return (
        [swing(int(m), float(pj), bool(b)) for m, pj, b in zip(masks, p, binary, strict=True)],
        [swing(1 << i, float(ri), True) for i, ri in enumerate(r)],
    )


def _given(q: np.ndarray, p: np.ndarray, r: np.ndarray, k: int) -> np.ndarray:
    """H(U) = P(at least k fail | the layers of U fail) for every U, in NumPy (graded cells
    allowed; ``_kernels.at_least_k_given`` is the compiled twin for 0/1 cells)."""
    n = len(r)
    counts = np.zeros((1 << n, n + 1))
    counts[:, 0] = failed_set_distribution(q, p)
    for i in range(n):  # bit i: "layer i failed by a mode" becomes "layer i forced to fail"
        view = counts.reshape(-1, 2, 1 << i, n + 1)
        by_mode, intact = view[:, 1].copy(), view[:, 0].copy()
        view[:, 1, :, 0] = 0.0
        view[:, 1, :, 1:] = by_mode[..., :-1] + intact[..., :-1]  # forced: it fails
        view[:, 0] = intact * (1.0 - r[i])
        view[:, 0, :, 1:] += by_mode[..., :-1] + intact[..., :-1] * r[i]
    h: np.ndarray = counts[:, k:].sum(axis=1)
    return h


PASS_SECONDS_PER_STATE = {"compiled": 4e-9, "numpy": 2e-8}
"""The k-out-of-n pass's cost per mode column (and per layer squared) per set of layers, in
seconds, as measured on the development machine (20 layers × 1,000 modes: 4.5 s compiled, 18 s
in NumPy)."""


def stack_swings(
    q: np.ndarray,
    p: np.ndarray,
    r: np.ndarray,
    k: int | None,
    base: float,
    budget: float | None = None,
) -> tuple[list[Swing | None], list[Swing | None]] | None:
    """The one pass that applies: :func:`and_stack_swings` for a stack that fails when all its
    layers do, else (or where that does not apply) :func:`at_least_k_swings` unless its
    estimated time exceeds ``budget`` seconds; None for a stack beyond both."""
    n = len(r)
    k = n if k is None else k
    swings = and_stack_swings(q, p, r, base) if k == n else None
    if swings is not None:
        return swings
    compiled = _kernels is not None and is_binary(q)
    per_state = PASS_SECONDS_PER_STATE["compiled" if compiled else "numpy"]
    estimate = (q.shape[1] + n * n) * 2.0**n * per_state
    return None if budget is not None and estimate > budget else at_least_k_swings(q, p, r, k, base)

"""Importance of every failure mode and layer of an AND stack in one pass, instead of two exact
solves each: P(all fail | these layers fail) for many layer sets at once."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cofail.probability._compiled import kernels as _kernels
from cofail.probability._exact import _is_binary, column_masks
from cofail.probability._importance import Importance

__all__ = ["Swing", "and_stack_swings"]

MAX_LAYERS = 24
"""The one pass holds 2^n double-double sums and as many bounds (384 MiB at 24 layers)."""
CERTIFIED = 1e-9
"""A swing is used only when its rounding bound is within this fraction of it."""


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
    if _kernels is None or not 0 < n <= MAX_LAYERS or not _is_binary(q):
        return None
    hit = column_masks(q)
    targets = np.unique(np.concatenate([hit, column_masks(np.eye(n))]))
    # Modes go in one by one, not merged by column (binary_modes): a merged p rounds, and
    # 1 - p with it, which the importance of a mode with p near 1 divides by.
    probs = np.ascontiguousarray(p, dtype=float)
    r = np.ascontiguousarray(r, dtype=float)
    value, diffs, bounds = _kernels.ie_binary_swings(hit, probs, r, n, targets)
    if diffs is None or abs(value - base) > CERTIFIED * base:
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
        if target == 0:  # a mode that hits no layer changes nothing
            return Swing(base, base, 0.0)
        if own >= 1.0 or not bound <= CERTIFIED * abs(diff):
            return None
        mif = float(diff) / (1.0 - own)
        return Swing(*Importance.conditionals(base, own, mif), mif)

    return (
        [swing(int(m), float(pj)) for m, pj in zip(hit, p, strict=True)],
        [swing(1 << i, float(ri)) for i, ri in enumerate(r)],
    )

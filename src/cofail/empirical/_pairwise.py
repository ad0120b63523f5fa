"""φ, its bound and Cohen's κ of every pair of layers at once, from failure rates.

``CoFailure.pairs_`` takes its φ and φ_max from here, and the effective number of layers (with
its bootstrap) its φ and κ, so the two cannot drift apart; ``pairs_`` writes κ in Cohen's own
form, which rounds differently (see ``_estimator._pair``). Each function takes every layer's
failure rate ``p`` (last axis: layers), every pair's joint failure rate ``joint`` (last two
axes) and the pairs ``(i, j)`` wanted; leading axes are a batch of resamples.
"""

from __future__ import annotations

import numpy as np

__all__ = ["kappa", "phi", "phi_max"]

Pairs = list[tuple[int, int]]


def phi(p: np.ndarray, joint: np.ndarray, pairs: Pairs) -> np.ndarray:
    """Return φ of each pair, (p_ab − p_a p_b) / √(p_a (1 − p_a) p_b (1 − p_b)); NaN where a
    layer never or always fails.

    >>> p, joint = np.array([0.5, 0.5]), np.array([[0.5, 0.4], [0.4, 0.5]])
    >>> phi(p, joint, [(0, 1)]).round(12).tolist()
    [0.6]
    """
    i, j = _columns(pairs)
    pi, pj = p[..., i], p[..., j]
    denom = np.sqrt(pi * (1 - pi) * pj * (1 - pj))
    with np.errstate(divide="ignore", invalid="ignore"):
        value = (joint[..., i, j] - pi * pj) / denom
    return np.where(denom > 0, value, np.nan)


def phi_max(p: np.ndarray, pairs: Pairs) -> np.ndarray:
    """Return the largest φ each pair's two failure rates allow; NaN where φ is undefined.

    φ reaches 1 only when the two rates are equal; with p_lo ≤ p_hi its bound is
    √(p_lo (1 − p_hi) / (p_hi (1 − p_lo))), so φ / φ_max puts pairs on a common scale.

    >>> phi_max(np.array([0.2, 0.5]), [(0, 1)]).tolist()
    [0.5]
    """
    i, j = _columns(pairs)
    lo, hi = np.minimum(p[..., i], p[..., j]), np.maximum(p[..., i], p[..., j])
    defined = (lo * (1 - lo) > 0) & (hi * (1 - hi) > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.sqrt(lo * (1 - hi) / (hi * (1 - lo)))
    return np.where(defined, value, np.nan)


def kappa(p: np.ndarray, joint: np.ndarray, pairs: Pairs) -> np.ndarray:
    """Return Cohen's κ of each pair's failure indicators, 2 (p_ab − p_a p_b) / (p_a + p_b −
    2 p_a p_b); 0 where a layer never or always fails, NaN where both always agree.

    >>> p, joint = np.array([0.5, 0.5]), np.array([[0.5, 0.4], [0.4, 0.5]])
    >>> kappa(p, joint, [(0, 1)]).round(12).tolist()
    [0.6]
    """
    i, j = _columns(pairs)
    pi, pj = p[..., i], p[..., j]
    denom = pi + pj - 2 * pi * pj
    with np.errstate(divide="ignore", invalid="ignore"):
        value = 2 * (joint[..., i, j] - pi * pj) / denom
    degenerate = (pi * (1 - pi) == 0) | (pj * (1 - pj) == 0)
    return np.where(denom > 0, np.where(degenerate, 0.0, value), np.nan)


def _columns(pairs: Pairs) -> tuple[np.ndarray, np.ndarray]:
    return (
        np.array([a for a, _ in pairs], dtype=np.intp),
        np.array([b for _, b in pairs], dtype=np.intp),
    )

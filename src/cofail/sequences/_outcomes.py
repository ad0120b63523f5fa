"""Exact outcome probabilities of an ordered stack: where an attack is stopped, or harm.

The trap is a product of per-layer branch probabilities: with shared failure modes the branches
are dependent. Conditioning fixes it exactly. Given the set U of present modes the layers fail
independently, and P(layer k holds | U) = (1 − r_k) Π_{j∈U} (1 − q_kj) is a product over modes,
so given that layer k holds the modes stay independent, each present with

    p'_j = p_j (1 − q_kj) / (1 − p_j q_kj).

Hence P(L_1 … L_{k−1} fail, L_k holds) = P(L_k holds) · P(L_1 … L_{k−1} fail under p'), one
exact P(stack fails) of the library's engines per layer, and every outcome is a product and a
sum of non-negative terms: no outcome is a difference of two near-equal probabilities.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cofail.probability._exact import exact_with_engine, layer_failure

__all__ = ["OrderedOutcomes", "given_holds", "independent_outcomes", "ordered_outcomes"]


@dataclass(frozen=True)
class OrderedOutcomes:
    """P(stopped by layer k) for each k, P(every layer fails), and how they were computed."""

    stopped: np.ndarray
    """stopped[k] = P(layers 0 … k−1 fail and layer k holds)."""
    harm: float
    """P(every layer fails)."""
    engine: str
    """The engine of the largest solve (every layer failing)."""

    @property
    def reached(self) -> np.ndarray:
        """reached[k] = P(layers 0 … k−1 all fail): summed from the end, positive terms only."""
        tail = np.cumsum(np.append(self.stopped, self.harm)[::-1])[::-1]
        return np.asarray(tail[:-1])


def given_holds(q: np.ndarray, p: np.ndarray, k: int) -> np.ndarray:
    """Return each mode's P(present | layer ``k`` holds): p_j (1 − q_kj) / (1 − p_j q_kj).

    Where layer k cannot hold (p_j q_kj = 1) the value does not matter (it is multiplied by
    P(layer k holds) = 0) and p_j is returned.

    >>> given_holds(np.array([[1.0, 0.5, 0.0]]), np.array([0.2, 0.2, 0.2]), 0).round(6).tolist()
    [0.0, 0.111111, 0.2]
    """
    hit = np.asarray(q[k], dtype=float) * p
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(hit < 1.0, p * (1.0 - q[k]) / (1.0 - hit), p)
    return np.asarray(out, dtype=float)


def _holds(q: np.ndarray, p: np.ndarray, r: np.ndarray, k: int) -> float:
    # A product of survival factors: exact to rounding however small.
    return float((1.0 - r[k]) * np.prod(1.0 - q[k] * p))


def ordered_outcomes(q: np.ndarray, p: np.ndarray, r: np.ndarray) -> OrderedOutcomes:
    """Return the exact outcome probabilities of layers met in row order (``q`` is n × m).

    Examples
    --------
    Two layers that share one mode (p = 0.1), with residuals 0.2 and 0.3. Blocked by the first:
    no mode and no residual, 0.9 · 0.8; caught by the second: 0.9 · 0.2 · 0.7; harm: the mode,
    or both residuals, 0.1 + 0.9 · 0.2 · 0.3.

    >>> o = ordered_outcomes(np.ones((2, 1)), np.array([0.1]), np.array([0.2, 0.3]))
    >>> o.stopped.round(12).tolist(), round(o.harm, 12)
    ([0.72, 0.126], 0.154)

    Notes
    -----
    One exact solve of the first k layers for each k (:func:`exact_with_engine`, modes
    conditioned by :func:`given_holds`) and one of all n: at most n + 1 solves, each no larger
    than P(stack fails) of the whole stack.
    """
    q = np.asarray(q, dtype=float)
    p = np.asarray(p, dtype=float)
    r = np.asarray(r, dtype=float)
    n = q.shape[0]
    stopped = np.zeros(n)
    for k in range(n):
        holds = _holds(q, p, r, k)
        if holds == 0.0:
            continue
        before = 1.0 if k == 0 else exact_with_engine(q[:k], given_holds(q, p, k), r[:k])[0]
        stopped[k] = holds * before
    harm, engine = exact_with_engine(q, p, r)
    return OrderedOutcomes(stopped=stopped, harm=float(harm), engine=engine)


def independent_outcomes(q: np.ndarray, p: np.ndarray, r: np.ndarray) -> OrderedOutcomes:
    """Return the outcomes if layers failed independently, each with its own P(fails) f_k:
    stopped by k = f_0 ⋯ f_{k−1} (1 − f_k), harm = f_0 ⋯ f_{n−1}.

    The two layers above fail with 0.28 and 0.37 each: caught by the second 0.28 · 0.63, harm
    0.28 · 0.37 (against 0.154 with the shared mode).

    >>> o = independent_outcomes(np.ones((2, 1)), np.array([0.1]), np.array([0.2, 0.3]))
    >>> o.stopped.round(12).tolist(), round(o.harm, 12)
    ([0.72, 0.1764], 0.1036)
    """
    own = layer_failure(q, p, r) + 0.0  # -0.0 (a layer that cannot fail) prints as 0
    survive = np.prod(1.0 - np.asarray(q, dtype=float) * p, axis=1) * (1.0 - r)
    before = np.concatenate(([1.0], np.cumprod(own)[:-1]))
    return OrderedOutcomes(
        stopped=np.asarray(before * survive),
        harm=float(np.prod(own)),
        engine="product of the layers' own failure probabilities",
    )

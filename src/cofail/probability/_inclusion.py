"""Fast exact P(all layers fail) by inclusion–exclusion over layer subsets, with a certified
error bound; the caller falls back to the positive-term DP when the bound is not tight enough.

    P(all fail) = Σ_T (−1)^|T| Π_{i∈T} (1 − r_i) · Π_j [1 − p_j + p_j Π_{i∈T} (1 − q_ij)]

For binary q the mode factor is (1 − p_j) exactly when mode j hits T, so the log of the product
over modes is a subset sum: log h(T) = W − Z(∁T) with Z(A) = Σ_{j : V_j ⊆ A} log(1 − p_j), one
zeta transform over the 2^n layer subsets whatever the number of modes. Cost O(n 2^n + m).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cofail.probability._masks import column_masks, is_binary

__all__ = ["InclusionResult", "and_stack_inclusion_exclusion"]

_EPS = float(np.finfo(np.longdouble).eps)
_EPS64 = float(np.finfo(np.float64).eps)


@dataclass(frozen=True)
class InclusionResult:
    """The alternating sum and a bound on its rounding error."""

    probability: float
    error_bound: float

    def certified(self, rtol: float) -> bool:
        """True when the error bound is within ``rtol`` of the result."""
        return self.probability > 0 and self.error_bound <= rtol * self.probability


def and_stack_inclusion_exclusion(q: np.ndarray, p: np.ndarray, r: np.ndarray) -> InclusionResult:
    """Return P(every layer fails) for binary ``q`` by inclusion–exclusion, with an error bound.

    >>> n = 10
    >>> res = and_stack_inclusion_exclusion(np.ones((n, 1)), np.array([0.1]), np.zeros(n))
    >>> round(res.probability, 12), res.certified(1e-9)
    (0.1, True)

    Notes
    -----
    Terms are formed and summed in extended precision (``numpy.longdouble``). The bound adds
    the terms' own rounding (a few ulps each, relative) to the pairwise summation error, both
    proportional to Σ|term|; when the answer is tiny next to Σ|term| (heavy cancellation) the
    bound says so and the result must not be trusted.
    """
    q = np.asarray(q, dtype=float)
    if not is_binary(q):
        raise ValueError("inclusion–exclusion here needs binary q (0 or 1)")
    n = q.shape[0]
    size = 1 << n
    masks = column_masks(q).astype(np.int64)  # V_j as layer bitmasks
    with np.errstate(divide="ignore"):
        logs = np.log1p(-np.asarray(p, dtype=np.longdouble))
    finite = np.isfinite(logs)
    z = np.zeros(size, dtype=np.longdouble)
    np.add.at(z, masks[finite & (masks > 0)], logs[finite & (masks > 0)])
    certain = masks[~finite & (masks > 0)]  # modes present with probability 1
    for i in range(n):  # zeta transform: z[A] = Σ_{V ⊆ A} weight(V)
        view = z.reshape(-1, 2, 1 << i)
        view[:, 1, :] += view[:, 0, :]
    total = logs[finite & (masks > 0)].sum()
    states = np.arange(size, dtype=np.int64)
    complement = (size - 1) ^ states
    log_h = total - z[complement]
    with np.errstate(divide="ignore"):
        log_keep = np.log1p(-np.asarray(r, dtype=np.longdouble))
    log_r = np.zeros(size, dtype=np.longdouble)
    for i in range(n):
        view = log_r.reshape(-1, 2, 1 << i)
        view[:, 1, :] += log_keep[i]
    terms = np.exp(log_h + log_r)
    for mask in certain:  # a certain mode that hits T makes h(T) = 0
        terms[(states & int(mask)) != 0] = 0.0
    parity = np.bitwise_count(states.astype(np.uint64)) & 1
    signed = np.where(parity == 1, -terms, terms)
    value = float(np.sum(signed))
    # First-order rounding: each exponent carries ~(n + 2) roundings of the magnitudes summed
    # into it (W and Z, not their difference), which become relative errors of the term;
    # pairwise summation adds log2(2^n) ulps of Σ|term|.
    exponent = abs(total) + np.abs(z[complement]) + np.abs(log_r) + 1
    per_term = terms * exponent * (n + 2) + terms * (n + 2)
    # ...plus the final rounding to float64.
    bound = float(_EPS * (np.sum(per_term) + n * np.sum(terms))) + _EPS64 * abs(value)
    return InclusionResult(probability=min(1.0, max(0.0, value)), error_bound=bound)

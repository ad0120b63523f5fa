"""The stack bootstrap: resampled joint failure of a stack and its independence product.

Resampling cases is resampling the pattern histogram from a multinomial. Drawn directly, that
costs n_boot × patterns: on a log whose cases have mostly distinct patterns (millions of them)
it is minutes of time and gigabytes of memory. The statistic needs far less: the number of cases
in which every layer of the stack fails, and each layer's number of failures. So when the direct
draw would be large, the histogram is split in two:

- the **exact part**: the all-fail pattern, and every case that holds a *rare outcome* (a layer
  whose failures, or passes, number fewer than ``RARE`` among the other cases); few patterns,
  resampled exactly;
- the **rest**: the other cases, where every layer that varies fails and passes at least
  ``RARE`` times. Its resampled failure counts are a sum of many independent draws of one
  vector, so they are drawn from the normal law with the rest's exact mean and covariance
  (layers × layers), by the central limit theorem.

How many resampled cases fall in the exact part is binomial, and given that number the exact
part is multinomial: the joint-failure count and the rare layers' counts keep their exact
resampling law. Only large counts are drawn from the normal law. Time and memory are
O(patterns × layers) once plus O(n_boot × layers²), whatever the number of distinct patterns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["EXACT_WORK", "RARE", "Resamples", "bit_sums", "failure_sums", "resample_stack"]

EXACT_WORK = 2**26
"""n_boot × patterns up to which every pattern is resampled exactly (a few seconds)."""
EXACT_PATTERNS = 2**17
"""Most patterns resampled exactly: their bit matrix as floats stays under 70 MB."""
RARE = 500
"""A layer whose failures (or passes) are fewer than this is resampled exactly."""
_BLOCK = 2**22
"""Numbers held at once by a block of multinomial draws (32 MB)."""
_ROWS = 2**16
"""Patterns per block when summing bits."""


@dataclass(frozen=True, slots=True)
class Resamples:
    """Bootstrap draws of a stack's joint failure rate and of its independence product."""

    observed: np.ndarray
    independent: np.ndarray
    method: str
    """How the resamples were drawn, in words for the output."""


def failure_sums(bits: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Return Σ w·x over the rows x of a boolean matrix, a block of rows at a time (a whole
    matrix as floats would be 8 bytes per pattern and layer).

    >>> failure_sums(np.array([[1, 0], [1, 1]], dtype=bool), np.array([2.0, 3.0])).tolist()
    [5.0, 3.0]
    """
    total = np.zeros(bits.shape[1])
    for start in range(0, len(bits), _ROWS):
        total += weights[start : start + _ROWS] @ bits[start : start + _ROWS].astype(float)
    return total


def bit_sums(bits: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (Σ w·x, Σ w·x xᵀ) over the rows x of a boolean matrix, a block of rows at a time.

    Examples
    --------
    >>> bits = np.array([[1, 0], [1, 1], [0, 1]], dtype=bool)
    >>> first, second = bit_sums(bits, np.array([2.0, 3.0, 5.0]))
    >>> first.tolist(), second.tolist()
    ([5.0, 8.0], [[5.0, 3.0], [3.0, 8.0]])
    """
    width = bits.shape[1]
    first = np.zeros(width)
    second = np.zeros((width, width))
    for start in range(0, len(bits), _ROWS):
        block = bits[start : start + _ROWS].astype(float)
        w = weights[start : start + _ROWS]
        first += w @ block
        second += block.T @ (block * w[:, None])
    return first, second


def resample_stack(
    bits: np.ndarray,
    counts: np.ndarray,
    n_boot: int,
    rng: np.random.Generator,
    *,
    moments: tuple[np.ndarray, np.ndarray] | None = None,
) -> Resamples:
    """Return ``n_boot`` resampled (joint failure, independence product) of a stack.

    ``bits`` holds, for each distinct pattern of the stack's layers, which layers failed;
    ``counts`` how many cases (or how much weight) each pattern has; ``moments`` is
    ``bit_sums(bits, counts)`` when the caller has it already (it costs a pass over the
    patterns).

    Examples
    --------
    Two layers, 100 cases: 40 fail both, 10 and 10 fail one, 40 neither.

    >>> bits = np.array([[0, 0], [1, 0], [0, 1], [1, 1]], dtype=bool)
    >>> r = resample_stack(bits, np.array([40.0, 10, 10, 40]), 500, np.random.default_rng(0))
    >>> bool(abs(r.observed.mean() - 0.4) < 0.01), bool(abs(r.independent.mean() - 0.25) < 0.01)
    (True, True)
    >>> r.method
    'percentile bootstrap, 500 multinomial resamples of the 4 patterns of failure'
    """
    total = round(float(counts.sum()))
    all_fail = np.asarray(bits.all(axis=1))
    if n_boot * len(bits) <= EXACT_WORK and len(bits) <= EXACT_PATTERNS:
        joint, fails = _multinomial(rng, np.full(n_boot, total), counts, bits, all_fail)
        method = (
            f"percentile bootstrap, {n_boot} multinomial resamples of the "
            f"{_patterns(len(bits))} of failure"
        )
    else:
        moments = bit_sums(bits, counts) if moments is None else moments
        joint, fails, method = _split(bits, counts, all_fail, total, n_boot, rng, moments)
    np.clip(fails, 0.0, total, out=fails)
    return Resamples(
        observed=joint / total, independent=np.prod(fails / total, axis=1), method=method
    )


def _multinomial(
    rng: np.random.Generator,
    sizes: np.ndarray,
    counts: np.ndarray,
    bits: np.ndarray,
    all_fail: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Return (joint-failure count, per-layer failure counts) of multinomial resamples of
    ``sizes[b]`` cases each, a block of resamples at a time."""
    as_float = bits.astype(float)
    p = counts / counts.sum()
    joint = np.zeros(len(sizes))
    fails = np.zeros((len(sizes), bits.shape[1]))
    step = max(1, _BLOCK // max(1, len(bits)))
    for start in range(0, len(sizes), step):
        draws = rng.multinomial(sizes[start : start + step], p).astype(float)
        joint[start : start + step] = draws[:, all_fail].sum(axis=1)
        fails[start : start + step] = draws @ as_float  # float matmul: BLAS, not bool
    return joint, fails


def _split(
    bits: np.ndarray,
    counts: np.ndarray,
    all_fail: np.ndarray,
    total: int,
    n_boot: int,
    rng: np.random.Generator,
    moments: tuple[np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray, str]:
    # The all-fail patterns seed the exact part, so the rest holds no case in which the whole
    # stack fails: the joint-failure count (the ratio's numerator, often small) comes from the
    # exact multinomial alone and never from the normal approximation, which only has to carry
    # large per-layer counts.
    exact = _exact_part(bits, counts, all_fail, moments[0])
    weight = float(counts.sum())
    exact_weight = float(counts[exact].sum())
    # A multinomial over all patterns is a binomial split between the two parts followed by an
    # independent multinomial within each: drawing the split first keeps every resample at
    # exactly ``total`` cases, and the rest's share varies between resamples as it should.
    in_exact = rng.binomial(total, exact_weight / weight, size=n_boot)
    joint = np.zeros(n_boot)
    fails = np.zeros((n_boot, bits.shape[1]))
    if exact.any():
        joint, fails = _multinomial(rng, in_exact, counts[exact], bits[exact], all_fail[exact])
    # The rest's moments: the whole histogram's, less the (small) exact part's.
    exact_first, exact_second = bit_sums(bits[exact], counts[exact])
    first, second = moments[0] - exact_first, moments[1] - exact_second
    rest_weight = weight - exact_weight
    if rest_weight > 0:
        mean = first / rest_weight
        cov = second / rest_weight - np.outer(mean, mean)
        # A square root by eigenvalues, not Cholesky: the covariance is singular whenever a
        # layer is constant in the rest (every rare layer is) or two layers fail on the same
        # cases, and rounding leaves such eigenvalues slightly negative.
        values, vectors = np.linalg.eigh(cov)
        root = vectors * np.sqrt(np.clip(values, 0.0, None))
        # The rest's count in resample b is a sum of size[b] draws: mean size·μ, covariance
        # size·Σ. The draw can leave [0, total] when a layer is near 0 or n; resample_stack
        # clips it.
        size = (total - in_exact).astype(float)
        noise = rng.standard_normal((n_boot, bits.shape[1])) @ root.T
        fails += size[:, None] * mean + np.sqrt(size)[:, None] * noise
    n_exact = int(exact.sum())
    method = (
        f"percentile bootstrap, {n_boot} resamples: multinomial over the {_patterns(n_exact)} "
        f"holding the joint failures and the outcomes rarer than {RARE} cases, normal "
        f"(central limit, exact covariance) for the counts of the other "
        f"{_patterns(len(bits) - n_exact)}"
    )
    return joint, fails, method


def _patterns(k: int) -> str:
    return f"{k:,} pattern" + ("" if k == 1 else "s")


def _exact_part(
    bits: np.ndarray, counts: np.ndarray, all_fail: np.ndarray, failures: np.ndarray
) -> np.ndarray:
    """Return which patterns to resample exactly: the all-fail ones, and those holding an
    outcome that is rare among the remaining cases.

    Moving cases to the exact part lowers the other layers' counts in the rest, so the choice
    is repeated until it settles; a layer, once chosen, is constant in the rest, so this ends
    after at most one round per layer.
    """
    exact = all_fail.copy()
    total = counts.sum()
    while True:
        rest = counts * ~exact
        failed = failures - failure_sums(bits[exact], counts[exact])
        passed = total - counts[exact].sum() - failed
        some = 1e-9 * total  # weighted counts subtract to a residue, not to 0
        rare_fail = (failed > some) & (failed < RARE)
        rare_pass = (passed > some) & (passed < RARE)
        holds = bits[:, rare_fail].any(axis=1) | (~bits[:, rare_pass]).any(axis=1)
        new = holds & (rest > 0) & ~exact
        if not new.any():
            return exact
        exact |= new

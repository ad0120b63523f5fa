"""Confidence intervals for a proportion, with no dependency beyond the standard library.

Kept apart from :mod:`cofail.empirical` (which needs SciPy, 1.8 s to import) so that a
simulation's interval costs nothing to load.
"""

from __future__ import annotations

from functools import lru_cache
from math import sqrt
from statistics import NormalDist

__all__ = ["wilson"]


def wilson(k: float, n: float, alpha: float = 0.05) -> tuple[float, float]:
    """Return the Wilson score interval for a proportion k/n at level 1 - ``alpha``.

    >>> [round(x, 4) for x in wilson(0, 10)]
    [0.0, 0.2775]
    >>> [round(x, 4) for x in wilson(50, 100)]  # 0.5 -+ 1.96 * 0.5 / sqrt(103.84)
    [0.4038, 0.5962]
    """
    if n <= 0:
        return (0.0, 1.0)
    z = _z(alpha)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # At k = 0 (or k = n) the bound is exactly 0 (or 1); rounding would leave ±1e-17.
    low = 0.0 if k <= 0 else max(0.0, float(centre - half))
    high = 1.0 if k >= n else min(1.0, float(centre + half))
    return (low, high)


@lru_cache(maxsize=16)
def _z(alpha: float) -> float:
    """The standard normal quantile 1 - alpha/2 (Wichura's AS241, as SciPy's to 1e-15)."""
    return NormalDist().inv_cdf(1 - alpha / 2)

"""Confidence intervals for a proportion, and a Monte Carlo estimate with its interval.

Kept apart from :mod:`cofail.empirical` (which loads DuckDB and pyarrow, and ``scipy.stats``
for its tests when they run): the Wilson interval and the normal quantile need only the
standard library, and the Clopper–Pearson interval of a simulation loads ``scipy.special``
(0.2-0.4 s) the first time it is asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from math import sqrt
from statistics import NormalDist
from typing import Any

__all__ = ["MonteCarlo", "clopper_pearson", "wilson"]


def wilson(k: float, n: float, alpha: float = 0.05) -> tuple[float, float]:
    """Return the Wilson score interval for a proportion k/n at level 1 - ``alpha``.

    >>> [round(x, 4) for x in wilson(0, 10)]
    [0.0, 0.2775]
    >>> [round(x, 4) for x in wilson(50, 100)]  # 0.5 -+ 1.96 * 0.5 / sqrt(103.84)
    [0.4038, 0.5962]
    """
    if n <= 0:
        return (0.0, 1.0)
    z = two_sided_z(alpha)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # At k = 0 (or k = n) the bound is exactly 0 (or 1); rounding would leave ±1e-17.
    low = 0.0 if k <= 0 else max(0.0, float(centre - half))
    high = 1.0 if k >= n else min(1.0, float(centre + half))
    return (low, high)


def clopper_pearson(k: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Return the Clopper–Pearson ("exact") interval for a proportion k/n at level 1 - ``alpha``.

    Its bounds are the p at which observing k or more (k or fewer) has probability alpha/2, so
    it covers the true proportion with probability at least 1 - alpha whatever that proportion
    is. Wilson's interval does not: for a rare event seen once it can start above the truth
    (1 failure in 5,000 at level 1 - 1e-6: Wilson's low bound 7.7e-6, this one's 1.0e-10).

    >>> [round(x, 4) for x in clopper_pearson(10, 1000)]
    [0.0048, 0.0183]
    >>> clopper_pearson(0, 10)[0], round(clopper_pearson(0, 10)[1], 4)  # 1 - 0.025 ** (1 / 10)
    (0.0, 0.3085)
    """
    if n <= 0:
        return (0.0, 1.0)
    from scipy.special import betaincinv

    low = 0.0 if k <= 0 else float(betaincinv(k, n - k + 1, alpha / 2))
    high = 1.0 if k >= n else float(betaincinv(k + 1, n - k, 1 - alpha / 2))
    return (low, high)


@lru_cache(maxsize=16)
def two_sided_z(alpha: float) -> float:
    """The standard normal quantile 1 - alpha/2 (Wichura's AS241, as SciPy's ``ndtri`` to
    1e-15; the standard library's, so that an interval needs no SciPy import).

    >>> round(two_sided_z(0.05), 6)
    1.959964
    """
    return NormalDist().inv_cdf(1 - alpha / 2)


@dataclass(frozen=True)
class MonteCarlo:
    """A simulated probability: trials, failures among them, the estimate and its interval.

    >>> m = MonteCarlo(samples=1000, hits=10, seed=0)
    >>> m.estimate, [round(x, 4) for x in m.interval], m.covers(0.02)
    (0.01, [0.0048, 0.0183], False)
    """

    samples: int
    hits: int
    seed: int
    level: float = 0.95
    requested: int | None = None
    """The trials asked for, when a time limit stopped the run after ``samples`` of them (the
    same seed gives the same first trials, so a longer run extends this one)."""

    @property
    def estimate(self) -> float:
        """Failures / trials."""
        return self.hits / self.samples

    @property
    def interval(self) -> tuple[float, float]:
        """Clopper–Pearson interval at :attr:`level`: it covers the true probability at least
        that often, however rare the failure (a cross-check must not cry wolf)."""
        return clopper_pearson(self.hits, self.samples, 1 - self.level)

    def covers(self, probability: float) -> bool:
        """Whether ``probability`` lies in the interval."""
        low, high = self.interval
        return low <= probability <= high

    def to_dict(self, exact: float | None = None) -> dict[str, Any]:
        """Plain data for JSON; with ``exact``, also whether it lies in the interval."""
        out: dict[str, Any] = {
            "samples": self.samples,
            "failures": self.hits,
            "seed": self.seed,
            "estimate": self.estimate,
            "interval": list(self.interval),
            "level": self.level,
        }
        if self.requested is not None:
            out["requested"] = self.requested
            out["stopped_by_time_limit"] = True
        if exact is not None:
            out["exact_within_interval"] = self.covers(exact)
        return out

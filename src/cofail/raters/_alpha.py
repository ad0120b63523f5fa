"""Krippendorff's alpha from the coincidence matrix, over all or part of the data, with a
unit-resampling bootstrap."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["AlphaLevel", "BootstrapInterval", "Reliability", "krippendorff_alpha"]

AlphaLevel = Literal["nominal", "ordinal", "interval"]
"""Level of measurement: which difference function alpha uses."""


@dataclass(frozen=True)
class BootstrapInterval:
    """A percentile bootstrap interval of alpha."""

    low: float
    """Lower end (NaN when no replicate was defined)."""
    high: float
    """Upper end."""
    replicates: int
    """Replicates drawn."""
    undefined: int
    """Replicates whose alpha was undefined (one value only), left out of the percentiles."""


class Reliability:
    """Reliability data (raters × units, NaN where a rater gave no value) and its coincidences.

    Alpha is ``1 - D_o / D_e``: the observed disagreement between values paired within a
    unit over the disagreement expected from all pairable values. :meth:`alpha` can restrict
    the observed side to some units or to one rater's pairs while ``D_e`` stays that of the
    whole data, so the whole-data alpha is the average of those parts weighted by their
    pairable values.

    Examples
    --------
    Krippendorff (2011), section C: 4 observers × 12 units, 7 values missing.

    >>> nan = float("nan")
    >>> data = [[1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
    ...         [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
    ...         [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
    ...         [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan]]
    >>> r = Reliability(data)
    >>> [round(r.alpha(level), 3) for level in ("nominal", "ordinal", "interval")]
    [0.743, 0.815, 0.849]

    Notes
    -----
    Only pairable values count: a unit with fewer than two values has no pairs and is left
    out, as Krippendorff prescribes. A unit with ``m`` values adds each of its ``m(m-1)``
    ordered pairs to the coincidence matrix with weight ``1/(m-1)``. The ordinal difference
    of values ``c`` and ``k`` is ``(sum of n_g for g from c to k - (n_c + n_k)/2)^2`` over the
    coincidence margins ``n_g``; the interval difference is ``(c - k)^2``. Memory and time are
    linear in the number of ordered pairs, at most units × raters².

    References
    ----------
    Krippendorff, K. (2011). Computing Krippendorff's Alpha-Reliability. University of
    Pennsylvania, Annenberg School for Communication, https://repository.upenn.edu/asc_papers/43
    """

    def __init__(self, data: ArrayLike):
        table = np.asarray(data, dtype=float)
        if table.ndim != 2:
            raise ValueError(f"expected raters × units data, got {table.ndim} dimensions")
        if np.isinf(table).any():
            raise ValueError("reliability data must be finite (NaN marks a missing value)")
        present = ~np.isnan(table)
        self.values: np.ndarray = np.unique(table[present])
        """The distinct values, sorted; the coincidence matrix is indexed by them."""
        codes = np.full(table.shape, -1, dtype=np.int64)
        codes[present] = np.searchsorted(self.values, table[present])
        m = present.sum(axis=0)
        # The ordered pairs (see Notes) are kept flat, each with its unit and first rater, not
        # summed into the coincidence matrix: alpha by layer, by mode, by rater and on bootstrap
        # resamples of units then re-sums a subset instead of pairing the values again.
        units, i_list, c_list, k_list = [], [], [], []
        for i in range(table.shape[0]):
            for j in range(table.shape[0]):
                if i == j:
                    continue
                both = np.flatnonzero(present[i] & present[j])
                units.append(both)
                i_list.append(np.full(both.size, i, dtype=np.int64))
                c_list.append(codes[i, both])
                k_list.append(codes[j, both])
        empty = np.zeros(0, dtype=np.int64)
        self._unit = np.concatenate(units) if units else empty
        self._rater = np.concatenate(i_list) if i_list else empty
        self._c = np.concatenate(c_list) if c_list else empty
        self._k = np.concatenate(k_list) if k_list else empty
        self._w = 1.0 / (m[self._unit] - 1.0) if self._unit.size else np.zeros(0)
        self.n_units = table.shape[1]
        """Units in the data, pairable or not."""
        self.pairable_units: np.ndarray = np.flatnonzero(m >= 2)
        """Indices of the units with at least two values."""
        self._cache: dict[
            AlphaLevel, tuple[float, tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
        ] = {}
        margins = np.bincount(self._c, self._w, minlength=self.values.size)
        self.margins: np.ndarray = margins.astype(float)
        """``n_c``: pairable values per distinct value (the coincidence matrix's margins)."""

    @property
    def pairable(self) -> int:
        """``n``: the number of pairable values.

        >>> Reliability([[1, 2, float("nan")], [1, 3, 3]]).pairable
        4
        """
        return round(float(self.margins.sum()))

    def coincidences(self) -> np.ndarray:
        """Return the coincidence matrix ``o[c, k]`` over :attr:`values`.

        >>> Reliability([[1, 2], [1, 1]]).coincidences().tolist()
        [[2.0, 1.0], [1.0, 0.0]]
        """
        size = self.values.size
        flat = np.bincount(self._c * size + self._k, self._w, minlength=size * size)
        return flat.astype(float).reshape(size, size)

    def alpha(
        self,
        level: AlphaLevel,
        *,
        units: ArrayLike | None = None,
        rater: int | None = None,
    ) -> float:
        """Return alpha at ``level``, NaN when undefined (fewer than two pairable values, or
        a single value throughout, which makes ``D_e`` zero).

        ``units`` (indices) restricts the observed disagreement to those units' pairs;
        ``rater`` to the pairs of that rater's values with the others' in the same unit (the
        rater against the rest). ``D_e`` is always the whole data's.

        >>> r = Reliability([[0, 0, 1, 1], [0, 1, 1, 1]])
        >>> round(r.alpha("nominal"), 3), r.alpha("nominal", units=[0, 2]), r.alpha("nominal", rater=1) == r.alpha("nominal")
        (0.533, 1.0, True)
        """
        expected, by_unit, by_rater = self._sums(level)
        if units is None and rater is None:
            observed, weight = float(by_unit[0].sum()), float(by_unit[1].sum())
        elif rater is None:
            chosen = np.unique(np.asarray(units, dtype=np.int64))
            observed, weight = float(by_unit[0][chosen].sum()), float(by_unit[1][chosen].sum())
        elif units is None:
            observed, weight = float(by_rater[0][rater]), float(by_rater[1][rater])
        else:
            keep = np.isin(self._unit, np.asarray(units, dtype=np.int64)) & (self._rater == rater)
            delta = self._differences(level, self.margins)
            weight = float(self._w[keep].sum())
            observed = float((self._w[keep] * delta[self._c[keep], self._k[keep]]).sum())
        if weight == 0.0 or not expected > 0.0:
            return math.nan
        return 1.0 - (observed / weight) / expected

    def _sums(
        self, level: AlphaLevel
    ) -> tuple[float, tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
        """``D_e`` and the observed disagreement and pair weight summed by unit and by rater
        at ``level``, computed once: alpha of many parts costs one pass over the pairs."""
        cached = self._cache.get(level)
        if cached is None:
            delta = self._differences(level, self.margins)
            disagreement = self._w * delta[self._c, self._k]
            raters = int(self._rater.max()) + 1 if self._rater.size else 0
            cached = (
                self._expected(delta, self.margins),
                (
                    np.bincount(self._unit, disagreement, minlength=self.n_units),
                    np.bincount(self._unit, self._w, minlength=self.n_units),
                ),
                (
                    np.bincount(self._rater, disagreement, minlength=raters),
                    np.bincount(self._rater, self._w, minlength=raters),
                ),
            )
            self._cache[level] = cached
        return cached

    def bootstrap(
        self,
        level: AlphaLevel,
        *,
        replicates: int = 2000,
        confidence: float = 0.95,
        seed: int = 0,
    ) -> BootstrapInterval:
        """Return a percentile interval of alpha from resampling the pairable units.

        Each replicate draws as many pairable units as there are, with replacement, and
        recomputes alpha (its ``D_e`` from the replicate's own margins). This is a plain
        nonparametric bootstrap over units, not Krippendorff's bootstrap of the distribution
        of the observed disagreement (Hayes & Krippendorff 2007).

        >>> r = Reliability([[0, 0, 1, 1, 0, 1], [0, 1, 1, 1, 0, 1]])
        >>> b = r.bootstrap("nominal", replicates=200, seed=1)
        >>> b.low <= r.alpha("nominal") <= b.high, b.replicates
        (True, 200)
        """
        if not 0.0 < confidence < 1.0:
            raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
        pool = self.pairable_units
        if pool.size == 0 or replicates < 1:
            return BootstrapInterval(math.nan, math.nan, max(replicates, 0), max(replicates, 0))
        from scipy import sparse

        size = self.values.size
        position = np.searchsorted(pool, self._unit)
        per_unit = sparse.csr_matrix(
            (self._w, (position, self._c * size + self._k)), shape=(pool.size, size * size)
        )
        rng = np.random.default_rng(seed)
        chunk = max(1, min(replicates, 4_000_000 // max(size * size, pool.size)))
        alphas = []
        for start in range(0, replicates, chunk):
            count = min(chunk, replicates - start)
            draws = rng.multinomial(pool.size, np.full(pool.size, 1.0 / pool.size), size=count)
            coincidence = (per_unit.T @ draws.T).T.reshape(count, size, size)
            alphas.append(self._alpha_of(level, np.asarray(coincidence)))
        values = np.concatenate(alphas)
        defined = values[~np.isnan(values)]
        if defined.size == 0:
            return BootstrapInterval(math.nan, math.nan, replicates, replicates)
        low, high = np.quantile(defined, [(1 - confidence) / 2, (1 + confidence) / 2])
        return BootstrapInterval(float(low), float(high), replicates, replicates - defined.size)

    def _alpha_of(self, level: AlphaLevel, coincidence: np.ndarray) -> np.ndarray:
        """Alpha of each of a stack of coincidence matrices (replicates × V × V)."""
        margins = coincidence.sum(axis=2)
        n = margins.sum(axis=1)
        delta = self._differences(level, margins)
        observed = (coincidence * delta).sum(axis=(1, 2))
        expected_sum = (margins[:, :, None] * margins[:, None, :] * delta).sum(axis=(1, 2))
        with np.errstate(divide="ignore", invalid="ignore"):
            out = 1.0 - (n - 1.0) * observed / expected_sum
        return np.where((n > 1.0) & (expected_sum > 0.0), out, np.nan)

    def _differences(self, level: AlphaLevel, margins: np.ndarray) -> np.ndarray:
        """Squared differences ``delta[c, k]`` (``margins``: V, or replicates × V)."""
        size = self.values.size
        if level == "nominal":
            return 1.0 - np.eye(size)
        if level == "interval":
            apart: np.ndarray = (self.values[:, None] - self.values[None, :]) ** 2
            return apart
        if level == "ordinal":
            # sum_{g=c..k} n_g - (n_c + n_k)/2 = S_k - S_c + (n_c - n_k)/2 for c <= k, S the
            # cumulative margins; its square is symmetric, so one formula serves both orders.
            cum = np.cumsum(margins, axis=-1)
            gap = cum[..., None, :] - cum[..., :, None]
            gap += (margins[..., :, None] - margins[..., None, :]) / 2.0
            squared: np.ndarray = gap**2
            return squared
        raise ValueError(f"unknown level {level!r}; expected nominal, ordinal or interval")

    @staticmethod
    def _expected(delta: np.ndarray, margins: np.ndarray) -> float:
        n = float(margins.sum())
        if n <= 1.0:
            return math.nan
        return float(margins @ delta @ margins) / (n * (n - 1.0))


def krippendorff_alpha(data: ArrayLike, level: AlphaLevel = "nominal") -> float:
    """Return Krippendorff's alpha of raters × units data (NaN = missing) at ``level``.

    >>> round(krippendorff_alpha([[1, 2, 3, 3], [1, 2, 3, 4]], "interval"), 3)
    0.889
    """
    return Reliability(data).alpha(level)

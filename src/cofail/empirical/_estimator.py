"""``CoFailure``: marginal, pairwise and stack co-failure statistics from a pattern histogram."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np

from cofail.empirical._bootstrap import bit_sums, resample_stack
from cofail.empirical._effective import EffectiveLayers, effective_layers
from cofail.empirical._fisher import fisher_two_sided
from cofail.empirical._histogram import POOLED, PatternHistogram, sum_by_pattern
from cofail.empirical._pairwise import phi as pair_phi
from cofail.empirical._pairwise import phi_max as pair_phi_max
from cofail.errors import InputError
from cofail.intervals import wilson

__all__ = ["CoFailure", "Marginal", "Pair", "StackFailure", "wilson"]


@dataclass(frozen=True, slots=True)
class Marginal:
    """One layer's failure rate."""

    layer: str
    failures: float
    n: float
    rate: float
    low: float
    high: float
    note: str = ""


@dataclass(frozen=True, slots=True)
class Pair:
    """Co-failure of two layers: the 2×2 table and what follows from it."""

    a: str
    b: str
    n11: float
    n10: float
    n01: float
    n00: float
    joint: float
    """P(both fail)."""
    joint_low: float
    joint_high: float
    lift: float | None
    """P(both fail) / (P(a fails) P(b fails)); 1 under independence."""
    phi: float | None
    phi_max: float | None
    """Largest φ the two marginal rates allow (φ / φ_max puts φ on a common scale)."""
    kappa: float | None
    p_b_given_a: float | None
    p_a_given_b: float | None
    odds_ratio: float | None
    fisher_p: float
    fisher_p_adjusted: float = float("nan")
    """Benjamini–Hochberg adjusted over all pairs of the same stratum."""
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return plain data for JSON."""
        return {k: getattr(self, k) for k in self.__slots__}


@dataclass(frozen=True, slots=True)
class StackFailure:
    """Observed joint failure of a stack against the independence product, with intervals."""

    layers: tuple[str, ...]
    observed: float
    independent: float
    ratio: float | None
    observed_interval: tuple[float, float]
    independent_interval: tuple[float, float]
    ratio_interval: tuple[float | None, float | None]
    n: float
    n_boot: int
    alpha: float
    note: str = ""
    method: str = "percentile bootstrap of the pattern histogram"
    """How the interval's resamples were drawn."""
    effective: EffectiveLayers | None = None
    """Mean pairwise φ, design effect and effective number of independent layers."""

    def to_dict(self) -> dict[str, Any]:
        """Return plain data for JSON."""
        return {
            "layers": list(self.layers),
            "observed": self.observed,
            "independent": self.independent,
            "ratio": self.ratio,
            "interval": {
                "level": 1 - self.alpha,
                "method": self.method,
                "observed": list(self.observed_interval),
                "independent": list(self.independent_interval),
                "ratio": list(self.ratio_interval),
            },
            "n": self.n,
            "effective_layers": None if self.effective is None else self.effective.to_dict(),
            "note": self.note,
        }


@dataclass
class CoFailure:
    """Estimate co-failure between layers from an evaluation log's pattern histogram.

    Options go in the constructor; ``fit`` returns ``self``; results end in ``_``.

    Examples
    --------
    >>> h = PatternHistogram.from_counts(("a", "b"), {"": {0: 40, 1: 10, 2: 10, 3: 40}})
    >>> co = CoFailure(n_boot=200, seed=1).fit(h)
    >>> round(co.pairs_[0].phi, 3), co.marginals_[0].rate
    (0.6, 0.5)
    >>> s = co.stack_failure_(["a", "b"])
    >>> s.observed, s.independent, s.ratio
    (0.4, 0.25, 1.6)
    """

    alpha: float = 0.05
    n_boot: int = 2000
    seed: int = 0
    stratum: str | None = None
    """Analyse one stratum; ``None`` pools all strata."""
    histogram_: PatternHistogram | None = field(default=None, init=False, repr=False)
    marginals_: list[Marginal] = field(default_factory=list, init=False)
    pairs_: list[Pair] = field(default_factory=list, init=False)
    _moments: tuple[np.ndarray, np.ndarray] = field(
        default=(np.zeros(0), np.zeros((0, 0))), init=False, repr=False
    )
    """Each layer's failures and each pair's joint failures: every stack's moments."""
    _stacks: dict[tuple[str, ...], StackFailure] = field(
        default_factory=dict, init=False, repr=False
    )

    def fit(self, histogram: PatternHistogram) -> CoFailure:
        """Compute marginal and pairwise statistics; return ``self``."""
        if self.stratum is not None and self.stratum not in (*histogram.strata, POOLED):
            raise InputError(
                f"unknown stratum {self.stratum!r} (strata: {', '.join(histogram.strata)})"
            )
        self.histogram_ = histogram
        self._stacks = {}
        patterns, counts = histogram.table(self.stratum)
        bits = histogram.bits(patterns)
        n = float(counts.sum())
        # Every 2×2 table at once: both[i, j] = count of cases where i and j both failed.
        fails, both = bit_sums(bits, counts)
        self._moments = (fails, both)
        self.marginals_ = []
        for i, layer in enumerate(histogram.layers):
            low, high = wilson(fails[i], n, self.alpha)
            note = ""
            if fails[i] == 0:
                note = "never failed: pairwise correlations with this layer are undefined"
            elif fails[i] == n:
                note = "always failed: pairwise correlations with this layer are undefined"
            rate = float(fails[i] / n)
            self.marginals_.append(
                Marginal(layer, count(fails[i]), count(n), rate, low, high, note)
            )
        index = list(combinations(range(len(histogram.layers)), 2))
        first = np.array([i for i, _ in index], dtype=np.intp)
        second = np.array([j for _, j in index], dtype=np.intp)
        n11 = both[first, second]
        n10, n01 = fails[first] - n11, fails[second] - n11
        p_values = (
            fisher_two_sided(*(np.rint(c) for c in (n11, n10, n01, n - n11 - n10 - n01)))
            if index
            else np.array([])
        )
        phi = pair_phi(fails / n, both / n, index)
        phi_max = pair_phi_max(fails / n, index)
        self.pairs_ = [
            _pair(
                histogram.layers[i],
                histogram.layers[j],
                (n11[k], n10[k], n01[k]),
                n,
                self.alpha,
                float(p_values[k]),
                (_defined(phi[k]), _defined(phi_max[k])),
            )
            for k, (i, j) in enumerate(index)
        ]
        if self.pairs_:
            from scipy.stats import false_discovery_control  # scipy.stats: 0.6 s to import

            adjusted = false_discovery_control([p.fisher_p for p in self.pairs_], method="bh")
            self.pairs_ = [
                _with(p, fisher_p_adjusted=float(a))
                for p, a in zip(self.pairs_, adjusted, strict=True)
            ]
        return self

    def stack_failure_(self, layers: list[str] | tuple[str, ...] | None = None) -> StackFailure:
        """Return observed joint failure of ``layers`` (default: all) against independence.

        The interval is a percentile bootstrap drawn from the histogram, never from the raw
        rows; see ``resample_stack`` for how a histogram of many distinct patterns is resampled
        in time and memory that do not grow with their number. Results are kept per stack.
        """
        h = self._fitted()
        stack = tuple(layers) if layers else h.layers
        unknown = [x for x in stack if x not in h.layers]
        if unknown:
            raise InputError(f"unknown layer {unknown[0]!r} (in the log: {', '.join(h.layers)})")
        if stack in self._stacks:
            return self._stacks[stack]
        index = [h.layers.index(x) for x in stack]
        patterns, counts = _projected(*h.table(self.stratum), index)
        bits = h.bits(patterns)[:, : len(stack)]
        fails, both = self._moments
        moments = (fails[index], both[np.ix_(index, index)])
        n = float(counts.sum())
        observed = float(counts[bits.all(axis=1)].sum() / n)
        rates = moments[0] / n
        independent = float(np.prod(rates))
        ratio = observed / independent if independent > 0 else None
        # Every stack's bootstrap starts from the same seed, so its interval is the same
        # whichever stacks were asked for before it.
        boot = resample_stack(
            bits, counts, self.n_boot, np.random.default_rng(self.seed), moments=moments
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            boot_ratio = np.where(boot.independent > 0, boot.observed / boot.independent, np.nan)
        q = [100 * self.alpha / 2, 100 * (1 - self.alpha / 2)]
        finite = boot_ratio[np.isfinite(boot_ratio)]
        # Percentiles of only the resamples in which every layer failed at least once would
        # describe those, not the ratio: with more than 10% undefined it is left out.
        ratio_interval: tuple[float | None, float | None] = (
            (float(np.percentile(finite, q[0])), float(np.percentile(finite, q[1])))
            if len(finite) >= 0.9 * self.n_boot
            else (None, None)
        )
        note = ""
        if independent == 0:
            never = [stack[k] for k in range(len(stack)) if rates[k] == 0]
            note = f"{', '.join(never)} never failed: the ratio is undefined"
        result = StackFailure(
            layers=stack,
            observed=observed,
            independent=independent,
            ratio=ratio,
            observed_interval=_percentiles(boot.observed, q),
            independent_interval=_percentiles(boot.independent, q),
            ratio_interval=ratio_interval,
            n=count(n),
            n_boot=self.n_boot,
            alpha=self.alpha,
            note=note,
            method=boot.method,
            effective=effective_layers(
                stack,
                bits,
                counts,
                moments=moments,
                n_boot=self.n_boot,
                alpha=self.alpha,
                rng=np.random.default_rng([self.seed, 1]),
            ),
        )
        self._stacks[stack] = result
        return result

    def _fitted(self) -> PatternHistogram:
        if self.histogram_ is None:
            raise RuntimeError("call fit() first")
        return self.histogram_

    def summary(self) -> dict[str, Any]:
        """Return the JSON contract: marginals, pairs and the whole-stack failure."""
        h = self._fitted()
        return {
            "layers": list(h.layers),
            "n_cases": self.marginals_[0].n if self.marginals_ else 0,
            "stratum": self.stratum or POOLED,
            "polarity": h.polarity,
            "marginals": {m.layer: m.rate for m in self.marginals_},
            "marginal_intervals": {
                m.layer: {"low": m.low, "high": m.high, "failures": m.failures, "note": m.note}
                for m in self.marginals_
            },
            "pairs": [p.to_dict() for p in self.pairs_],
            "stack": self.stack_failure_().to_dict(),
        }


def count(x: float) -> float:
    """A count as an ``int`` when it is whole (unweighted logs: JSON ``161``, not ``161.0``);
    a weighted count stays a float, rounded to 9 decimals against summation noise.

    >>> count(161.0), count(np.float64(2.5)), count(3.0000000000001)
    (161, 2.5, 3)
    """
    value = round(float(x), 9)
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def _projected(
    patterns: np.ndarray, counts: np.ndarray, index: list[int]
) -> tuple[np.ndarray, np.ndarray]:
    """Return the histogram of the layers ``index`` alone: bit k of a pattern is layer
    ``index[k]``, and patterns that agree on those layers are summed."""
    if index == list(range(len(index))) and not np.any(patterns >> np.uint64(len(index))):
        return patterns, counts
    projected = np.zeros(len(patterns), dtype=np.uint64)
    for k, i in enumerate(index):
        projected |= ((patterns >> np.uint64(i)) & np.uint64(1)) << np.uint64(k)
    return sum_by_pattern(projected, counts)


def _percentiles(x: np.ndarray, q: list[float]) -> tuple[float, float]:
    lo, hi = np.percentile(x, q)
    return float(lo), float(hi)


def _with(p: Pair, **changes: Any) -> Pair:
    values = {k: getattr(p, k) for k in p.__slots__}
    values.update(changes)
    return Pair(**values)


def _defined(x: float) -> float | None:
    return None if np.isnan(x) else float(x)


def _pair(
    a: str,
    b: str,
    cells: tuple[float, float, float],
    n: float,
    alpha: float,
    fisher_p: float,
    phis: tuple[float | None, float | None],
) -> Pair:
    """Return one pair's table and statistics; ``phis`` are its φ and φ_max, batched."""
    n11, n10, n01 = (count(c) for c in cells)
    n00 = count(n - n11 - n10 - n01)
    pa, pb = (n11 + n10) / n, (n11 + n01) / n
    joint = n11 / n
    low, high = wilson(n11, n, alpha)
    notes = []
    degenerate = [lid for lid, p in ((a, pa), (b, pb)) if p in (0.0, 1.0)]
    if degenerate:
        notes.append(
            f"{', '.join(degenerate)} never or always failed: phi, kappa and lift are undefined"
        )
    phi, phi_max = phis
    # Not _pairwise.kappa: its form 2 (p_ab − p_a p_b) / (p_a + p_b − 2 p_a p_b) is the same
    # number in exact arithmetic but rounds differently in the last bit on some tables, and this
    # κ (like the error consistency of the effective layers) is in every JSON output. Both
    # agree to 1e-12 (tests/test_effective_layers.py); one formula would change one of them.
    p_obs = (n11 + n00) / n
    p_exp = pa * pb + (1 - pa) * (1 - pb)
    kappa = (p_obs - p_exp) / (1 - p_exp) if p_exp < 1 else None
    if degenerate and kappa is not None:
        # A layer that never (or always) fails agrees with the other exactly as often as
        # chance predicts: kappa is 0, not the rounding residue of (p_obs - p_exp).
        kappa = 0.0
    lift = joint / (pa * pb) if pa * pb > 0 else None
    if n10 * n01 > 0:
        odds: float | None = (n11 * n00) / (n10 * n01)
    else:
        odds = None
        notes.append("a zero off-diagonal cell: the odds ratio is unbounded")
    return Pair(
        a=a,
        b=b,
        n11=n11,
        n10=n10,
        n01=n01,
        n00=n00,
        joint=joint,
        joint_low=low,
        joint_high=high,
        lift=lift,
        phi=phi,
        phi_max=phi_max,
        kappa=kappa,
        p_b_given_a=n11 / (n11 + n10) if n11 + n10 > 0 else None,
        p_a_given_b=n11 / (n11 + n01) if n11 + n01 > 0 else None,
        odds_ratio=odds,
        fisher_p=fisher_p,
        note="; ".join(notes),
    )

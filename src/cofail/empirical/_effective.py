"""How many independent layers a stack is worth: mean φ, design effect, error consistency.

k layers whose failures correlate with mean pairwise φ (ρ̄) carry the information of
k / (1 + (k − 1) ρ̄) independent ones: the design effect 1 + (k − 1) ρ̄ of survey sampling
(Kish 1965), read here as the effective number of independent layers. Per pair, the error
consistency of Geirhos et al. (2020, "Beyond accuracy: quantifying trial-by-trial behaviour of
CNNs and humans by measuring error consistency") is Cohen's κ between the two layers' failure
indicators, and the double-fault rate (Giacinto & Roli 2001) is the share of cases both fail.

Intervals come from the same multinomial resampling of the pattern histogram as the stack's
joint failure when that is affordable (n_boot × patterns × layers² small), and otherwise from the
delta method: each statistic's influence function evaluated on every pattern once, a normal
interval from its variance. The output says which.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from statistics import NormalDist
from typing import Any

import numpy as np

from cofail.empirical._bootstrap import bit_sums
from cofail.empirical._pairwise import kappa as pair_kappa
from cofail.empirical._pairwise import phi as pair_phi
from cofail.intervals import wilson

__all__ = ["BOOTSTRAP_WORK", "EffectiveLayers", "PairConsistency", "effective_layers"]

BOOTSTRAP_WORK = 2**30
"""n_boot × patterns × layers² up to which the intervals are bootstrapped (about a second)."""
_BLOCK = 2**23


@dataclass(frozen=True, slots=True)
class PairConsistency:
    """Error consistency (κ of failure indicators) and double-fault rate of two layers."""

    a: str
    b: str
    error_consistency: float | None
    error_consistency_interval: tuple[float | None, float | None]
    double_fault: float
    double_fault_interval: tuple[float, float]
    """Wilson interval."""

    def to_dict(self) -> dict[str, Any]:
        """Return plain data for JSON."""
        return {
            "a": self.a,
            "b": self.b,
            "error_consistency": self.error_consistency,
            "error_consistency_interval": list(self.error_consistency_interval),
            "double_fault": self.double_fault,
            "double_fault_interval": list(self.double_fault_interval),
        }


@dataclass(frozen=True, slots=True)
class EffectiveLayers:
    """A stack's mean pairwise φ, design effect and effective number of independent layers."""

    layers: tuple[str, ...]
    mean_phi: float | None
    design_effect: float | None
    effective: float | None
    """k / (1 + (k − 1) ρ̄): how many independent layers the stack's failures are worth."""
    mean_phi_interval: tuple[float | None, float | None]
    design_effect_interval: tuple[float | None, float | None]
    effective_interval: tuple[float | None, float | None]
    mean_double_fault: float
    pairs: tuple[PairConsistency, ...]
    method: str
    alpha: float
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return plain data for JSON."""
        return {
            "k": len(self.layers),
            "mean_phi": self.mean_phi,
            "design_effect": self.design_effect,
            "effective": self.effective,
            "mean_double_fault": self.mean_double_fault,
            "interval": {
                "level": 1 - self.alpha,
                "method": self.method,
                "mean_phi": list(self.mean_phi_interval),
                "design_effect": list(self.design_effect_interval),
                "effective": list(self.effective_interval),
            },
            "pairs": [p.to_dict() for p in self.pairs],
            "note": self.note,
        }


def effective_layers(
    layers: tuple[str, ...],
    bits: np.ndarray,
    counts: np.ndarray,
    *,
    n_boot: int,
    alpha: float,
    rng: np.random.Generator,
    moments: tuple[np.ndarray, np.ndarray] | None = None,
) -> EffectiveLayers:
    """Return the effective number of independent layers of a stack, with intervals.

    ``bits`` holds, for each distinct pattern of the stack's layers, which layers failed;
    ``counts`` how many cases each pattern has; ``moments`` is ``bit_sums(bits, counts)`` when
    the caller has it.

    Examples
    --------
    Two layers that always fail together are worth one; two independent ones are worth two.

    >>> same = np.array([[0, 0], [1, 1]], dtype=bool)
    >>> e = effective_layers(("a", "b"), same, np.array([60.0, 40.0]), n_boot=200, alpha=0.05,
    ...     rng=np.random.default_rng(0))
    >>> e.mean_phi, e.design_effect, e.effective
    (1.0, 2.0, 1.0)
    >>> apart = np.array([[0, 0], [1, 0], [0, 1], [1, 1]], dtype=bool)
    >>> e = effective_layers(("a", "b"), apart, np.array([36.0, 24, 24, 16]), n_boot=200,
    ...     alpha=0.05, rng=np.random.default_rng(0))
    >>> abs(round(e.mean_phi, 12)), round(e.effective, 12), e.pairs[0].double_fault
    (0.0, 2.0, 0.16)
    """
    k = len(layers)
    n = float(counts.sum())
    first, second = bit_sums(bits, counts) if moments is None else moments
    p, joint = first / n, second / n
    index = list(combinations(range(k), 2))
    phi, kappa = pair_phi(p, joint, index), pair_kappa(p, joint, index)
    defined = ~np.isnan(phi)
    notes = []
    if k < 2:
        notes.append("one layer: no pair to correlate")
    elif not defined.all():
        notes.append(
            f"{int((~defined).sum())} of {len(index)} pairs left out of the mean phi: a layer "
            "never or always failed"
        )
    mean_phi = float(phi[defined].mean()) if defined.any() else None
    q = (alpha / 2, 1 - alpha / 2)
    if k >= 2 and n_boot * len(bits) * k * k <= BOOTSTRAP_WORK:
        boot_phi, boot_kappa = _bootstrap(bits, counts, index, defined, n_boot, rng)
        mean_interval = _quantiles(boot_phi, q)
        kappa_intervals = [_quantiles(boot_kappa[:, m], q) for m in range(len(index))]
        method = f"percentile bootstrap, {n_boot} multinomial resamples of the pattern histogram"
    else:
        z = NormalDist().inv_cdf(q[1])
        mean_interval = (None, None)
        if mean_phi is not None:
            se = _mean_phi_se(bits, counts, p, joint, index, defined)
            mean_interval = (max(-1.0, mean_phi - z * se), min(1.0, mean_phi + z * se))
        kappa_intervals = [
            _normal(kappa[m], z * _kappa_se(p, joint, i, j, n)) for m, (i, j) in enumerate(index)
        ]
        method = (
            "delta method: normal intervals from each statistic's influence function over the "
            f"{len(bits):,} patterns (the bootstrap would cost n_boot × patterns × layers²)"
        )
    design, effective = _design(mean_phi, k)
    low, high = mean_interval
    lo_design, _ = _design(low, k)
    hi_design, _ = _design(high, k)
    _, lo_effective = _design(high, k)  # the effective number falls as mean phi rises
    _, hi_effective = _design(low, k)
    if design is not None and design <= 0:
        notes.append(f"mean phi below -1/(k-1) = {-1 / (k - 1):.3f}: no effective number")
    pairs = tuple(
        PairConsistency(
            a=layers[i],
            b=layers[j],
            error_consistency=None if np.isnan(kappa[m]) else float(kappa[m]),
            error_consistency_interval=kappa_intervals[m],
            double_fault=float(joint[i, j]),
            double_fault_interval=wilson(second[i, j], n, alpha),
        )
        for m, (i, j) in enumerate(index)
    )
    return EffectiveLayers(
        layers=layers,
        mean_phi=mean_phi,
        design_effect=design,
        effective=effective,
        mean_phi_interval=mean_interval,
        design_effect_interval=(lo_design, hi_design),
        effective_interval=(lo_effective, hi_effective),
        mean_double_fault=float(np.mean([joint[i, j] for i, j in index])) if index else 0.0,
        pairs=pairs,
        method=method,
        alpha=alpha,
        note="; ".join(notes),
    )


def _design(mean_phi: float | None, k: int) -> tuple[float | None, float | None]:
    """Return (design effect, effective number of layers) for a mean phi."""
    if mean_phi is None:
        return None, (1.0 if k == 1 else None)
    design = 1 + (k - 1) * mean_phi
    return design, (k / design if design > 0 else None)


def _bootstrap(
    bits: np.ndarray,
    counts: np.ndarray,
    index: list[tuple[int, int]],
    defined: np.ndarray,
    n_boot: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Return resampled mean phi (n_boot) and κ per pair (n_boot × pairs)."""
    n = round(float(counts.sum()))
    as_float = bits.astype(float)
    k = bits.shape[1]
    mean_phi = np.empty(n_boot)
    kappa = np.empty((n_boot, len(index)))
    step = max(1, _BLOCK // max(1, len(bits) * k))
    for start in range(0, n_boot, step):
        draws = rng.multinomial(n, counts / counts.sum(), size=min(step, n_boot - start)) / n
        p = draws @ as_float
        joint = np.einsum("bp,pi,pj->bij", draws, as_float, as_float, optimize=True)
        phi = pair_phi(p, joint, index)[:, defined]
        # A pair undefined in a resample (a layer drawn never failing) is left out of its mean.
        known = (~np.isnan(phi)).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_phi[start : start + len(draws)] = np.where(
                known > 0, np.nansum(phi, axis=1) / known, np.nan
            )
        kappa[start : start + len(draws)] = pair_kappa(p, joint, index)
    return mean_phi, kappa


def _mean_phi_se(
    bits: np.ndarray,
    counts: np.ndarray,
    p: np.ndarray,
    joint: np.ndarray,
    index: list[tuple[int, int]],
    defined: np.ndarray,
) -> float:
    """Return the delta-method standard error of the mean phi.

    Each φ_ab is a function of the moments (p_a, p_b, p_ab); its influence function at a case
    x is ∂φ/∂p_a (x_a − p_a) + ∂φ/∂p_b (x_b − p_b) + ∂φ/∂p_ab (x_a x_b − p_ab). Averaged over
    the pairs it is α·x + Σ_{a<b} c_ab x_a x_b + constant: evaluated on every pattern with one
    matrix product, its variance over the cases, divided by n, is the estimator's variance.
    """
    k = len(p)
    alpha = np.zeros(k)
    c = np.zeros((k, k))
    pairs = [pair for pair, ok in zip(index, defined, strict=True) if ok]
    for a, b in pairs:
        va, vb = p[a] * (1 - p[a]), p[b] * (1 - p[b])
        d = np.sqrt(va * vb)
        phi = (joint[a, b] - p[a] * p[b]) / d
        alpha[a] += -p[b] / d - phi * (1 - 2 * p[a]) / (2 * va)
        alpha[b] += -p[a] / d - phi * (1 - 2 * p[b]) / (2 * vb)
        c[a, b] = c[b, a] = 1 / d
    alpha /= len(pairs)
    c /= len(pairs)
    n = float(counts.sum())
    total = 0.0
    square = 0.0
    # Single precision for the per-pattern products (a variance, not a count: 7 digits are
    # plenty) halves the time of the one pass over the patterns; sums stay in double.
    alpha32, c32 = alpha.astype(np.float32), c.astype(np.float32)
    for start in range(0, len(bits), 2**16):
        x = bits[start : start + 2**16].astype(np.float32)
        w = counts[start : start + 2**16]
        influence = (x @ alpha32 + 0.5 * np.einsum("pi,pi->p", x @ c32, x)).astype(float)
        total += float(w @ influence)
        square += float(w @ influence**2)
    variance = max(0.0, square / n - (total / n) ** 2)
    return float(np.sqrt(variance / n))


def _kappa_se(p: np.ndarray, joint: np.ndarray, a: int, b: int, n: float) -> float:
    """Return the delta-method standard error of κ for one pair (closed form in p_a, p_b,
    p_ab: the influence function of a binary pair has three terms)."""
    pa, pb, pab = p[a], p[b], joint[a, b]
    denom = pa + pb - 2 * pa * pb
    if denom <= 0 or pa * (1 - pa) == 0 or pb * (1 - pb) == 0:
        return float("nan")
    kappa = 2 * (pab - pa * pb) / denom
    ga = (-2 * pb - kappa * (1 - 2 * pb)) / denom
    gb = (-2 * pa - kappa * (1 - 2 * pa)) / denom
    gab = 2 / denom
    variance = (
        ga**2 * pa * (1 - pa)
        + gb**2 * pb * (1 - pb)
        + gab**2 * pab * (1 - pab)
        + 2 * ga * gb * (pab - pa * pb)
        + 2 * ga * gab * pab * (1 - pa)
        + 2 * gb * gab * pab * (1 - pb)
    )
    return float(np.sqrt(max(0.0, variance) / n))


def _normal(value: float, half: float) -> tuple[float | None, float | None]:
    if np.isnan(value) or np.isnan(half):
        return None, None
    return (max(-1.0, float(value - half)), min(1.0, float(value + half)))


def _quantiles(x: np.ndarray, q: tuple[float, float]) -> tuple[float | None, float | None]:
    finite = x[np.isfinite(x)]
    if len(finite) < 0.9 * len(x):
        return None, None
    lo, hi = np.quantile(finite, q)
    return float(lo), float(hi)

"""Per-stratum and pooled analysis, with a warning when pooling changes a correlation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cofail.empirical._estimator import CoFailure
from cofail.empirical._histogram import PatternHistogram

__all__ = ["StratifiedAnalysis", "analyse"]

PHI_GAP = 0.1
"""Pooled φ this far outside the range of the strata's φ counts as a change of size."""


@dataclass(frozen=True)
class StratifiedAnalysis:
    """The pooled analysis, one per stratum, and warnings about pooling."""

    pooled: CoFailure
    strata: dict[str, CoFailure]
    warnings: tuple[str, ...]

    def to_dict(self, stack: tuple[str, ...] | None = None) -> dict[str, Any]:
        """Return the JSON contract: pooled results at the top, then per stratum."""
        out = self.pooled.summary()
        if stack:
            out["stack"] = self.pooled.stack_failure_(stack).to_dict()
        out["warnings"] = list(self.warnings)
        if len(self.strata) > 1:
            out["strata"] = {}
            for name, co in self.strata.items():
                item = co.summary()
                if stack:
                    item["stack"] = co.stack_failure_(stack).to_dict()
                out["strata"][name] = item
        return out


def analyse(
    histogram: PatternHistogram, *, alpha: float = 0.05, n_boot: int = 2000, seed: int = 0
) -> StratifiedAnalysis:
    """Return pooled and per-stratum co-failure, warning where pooling misleads.

    Pooling strata with different failure rates can create, hide or reverse a correlation
    (Simpson's paradox). A warning is raised for a pair when the pooled φ has the opposite sign
    of every stratum's φ, or lies more than ``PHI_GAP`` outside the range of the strata's φ.

    >>> h = PatternHistogram.from_counts(("a", "b"),
    ...     {"x": {0: 80, 1: 10, 2: 10, 3: 0}, "y": {0: 0, 1: 10, 2: 10, 3: 80}})
    >>> analyse(h, n_boot=100).warnings[0][:40]
    'a–b: pooled phi 0.60 has the opposite si'
    """
    pooled = CoFailure(alpha=alpha, n_boot=n_boot, seed=seed).fit(histogram)
    strata = (
        {
            s: CoFailure(alpha=alpha, n_boot=n_boot, seed=seed, stratum=s).fit(histogram)
            for s in histogram.strata
        }
        if len(histogram.strata) > 1
        else {histogram.strata[0]: pooled}  # one stratum is the pooled log: fitted once
    )
    # What the readers changed or left out (incomplete cases, renamed layers) is a warning in
    # the result itself, not only a line on stderr.
    warnings: list[str] = list(histogram.notes)
    if len(strata) > 1:
        for k, pair in enumerate(pooled.pairs_):
            phis = [p for co in strata.values() if (p := co.pairs_[k].phi) is not None]
            pooled_phi = pair.phi
            if pooled_phi is None or not phis:
                continue
            label = f"{pair.a}–{pair.b}"
            if all(p * pooled_phi < 0 for p in phis):
                warnings.append(
                    f"{label}: pooled phi {pooled_phi:.2f} has the opposite sign of every "
                    f"stratum's ({min(phis):.2f} to {max(phis):.2f}); analyse strata separately"
                )
            elif pooled_phi > max(phis) + PHI_GAP or pooled_phi < min(phis) - PHI_GAP:
                warnings.append(
                    f"{label}: pooled phi {pooled_phi:.2f} lies outside the strata's range "
                    f"({min(phis):.2f} to {max(phis):.2f}); pooling changes its size"
                )
    return StratifiedAnalysis(pooled=pooled, strata=strata, warnings=tuple(warnings))

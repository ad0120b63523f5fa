"""The failure-pattern histogram: bitmask of failed layers → number of cases, per stratum.

Every co-failure statistic is a function of this histogram, so an evaluation log is reduced to
it once (streaming, in DuckDB or Dask) and never held as rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cofail.errors import InputError

__all__ = ["POOLED", "PatternHistogram"]

POOLED = "(pooled)"
"""Name of the stratum that sums all strata."""


@dataclass(frozen=True)
class PatternHistogram:
    """Counts of failure patterns, per stratum.

    Examples
    --------
    >>> h = PatternHistogram.from_counts(("a", "b"), {"": {0b00: 5, 0b01: 2, 0b11: 3}})
    >>> h.n_cases, h.failures().tolist()
    (10.0, [5.0, 3.0])
    """

    layers: tuple[str, ...]
    """Layer ids; bit i of a pattern is ``layers[i]``."""
    patterns: dict[str, np.ndarray]
    """Stratum → distinct patterns (uint64, sorted)."""
    counts: dict[str, np.ndarray]
    """Stratum → number (or total weight) of cases with each pattern."""
    polarity: str = "failed = 1 means the layer failed"
    source: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)
    """What the reader did that a user should know (dropped cases, merged rows)."""

    @classmethod
    def from_counts(
        cls,
        layers: tuple[str, ...],
        by_stratum: dict[str, dict[int, float]],
        **kwargs: Any,
    ) -> PatternHistogram:
        """Build from ``{stratum: {pattern: count}}``."""
        patterns, counts = {}, {}
        for stratum, table in by_stratum.items():
            keys = np.array(sorted(table), dtype=np.uint64)
            patterns[stratum] = keys
            counts[stratum] = np.array([table[int(k)] for k in keys], dtype=float)
        return cls(layers=layers, patterns=patterns, counts=counts, **kwargs)

    @classmethod
    def from_arrays(
        cls,
        layers: tuple[str, ...],
        strata: np.ndarray,
        patterns: np.ndarray,
        counts: np.ndarray,
        **kwargs: Any,
    ) -> PatternHistogram:
        """Build from parallel arrays (one row per stratum and pattern; repeats are summed)."""
        table: dict[str, dict[int, float]] = {}
        for s, p, c in zip(strata.tolist(), patterns.tolist(), counts.tolist(), strict=True):
            row = table.setdefault("" if s is None else str(s), {})
            row[int(p)] = row.get(int(p), 0.0) + float(c)
        if not table:
            raise InputError("the log has no complete case (every layer judged) to analyse")
        return cls.from_counts(layers, table, **kwargs)

    @property
    def strata(self) -> tuple[str, ...]:
        """Stratum names, sorted (``("",)`` when the log has no strata)."""
        return tuple(sorted(self.patterns))

    @property
    def n_cases(self) -> float:
        """Total number (or weight) of cases over all strata."""
        return float(sum(c.sum() for c in self.counts.values()))

    def pooled(self) -> tuple[np.ndarray, np.ndarray]:
        """Return (patterns, counts) summed over strata."""
        merged: dict[int, float] = {}
        for s in self.strata:
            for p, c in zip(self.patterns[s].tolist(), self.counts[s].tolist(), strict=True):
                merged[int(p)] = merged.get(int(p), 0.0) + c
        keys = np.array(sorted(merged), dtype=np.uint64)
        return keys, np.array([merged[int(k)] for k in keys], dtype=float)

    def table(self, stratum: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Return (patterns, counts) of one stratum, or pooled when ``stratum`` is None."""
        if stratum is None or stratum == POOLED:
            return self.pooled()
        return self.patterns[stratum], self.counts[stratum]

    def bits(self, patterns: np.ndarray) -> np.ndarray:
        """Return the (patterns × layers) boolean matrix of which layers failed."""
        shifts = np.arange(len(self.layers), dtype=np.uint64)
        return ((patterns[:, None] >> shifts) & np.uint64(1)).astype(bool)

    def failures(self, stratum: str | None = None) -> np.ndarray:
        """Return the number of failed cases per layer."""
        patterns, counts = self.table(stratum)
        return np.asarray(counts @ self.bits(patterns), dtype=float)

    def merge(self, other: PatternHistogram) -> PatternHistogram:
        """Return the histogram of both logs together (same layers; counts add).

        This is how shards reduce: histograms of disjoint sets of cases simply add.
        """
        if self.layers != other.layers:
            raise InputError(
                f"cannot merge logs with different layers: {self.layers} and {other.layers}"
            )
        table: dict[str, dict[int, float]] = {}
        for h in (self, other):
            for s in h.strata:
                row = table.setdefault(s, {})
                for p, c in zip(h.patterns[s].tolist(), h.counts[s].tolist(), strict=True):
                    row[int(p)] = row.get(int(p), 0.0) + c
        return PatternHistogram.from_counts(
            self.layers,
            table,
            polarity=self.polarity,
            source=self.source,
            notes=self.notes + other.notes,
        )

    def to_dict(self) -> dict[str, Any]:
        """Return plain data for JSON: patterns as lists of failed layers."""
        return {
            "layers": list(self.layers),
            "polarity": self.polarity,
            "source": self.source,
            "n_cases": self.n_cases,
            "notes": list(self.notes),
            "strata": {
                s: [
                    {"failed": [self.layers[i] for i in np.flatnonzero(row)], "count": c}
                    for row, c in zip(
                        self.bits(self.patterns[s]), self.counts[s].tolist(), strict=True
                    )
                ]
                for s in self.strata
            },
        }

"""The failure-pattern histogram: bitmask of failed layers → number of cases, per stratum.

Every co-failure statistic is a function of this histogram, so an evaluation log is reduced to
it once (streaming, in DuckDB or Dask) and never held as rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cofail.errors import InputError

__all__ = ["POOLED", "PatternHistogram", "sum_by_pattern"]

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
        """Build from parallel arrays (one row per stratum and pattern; repeats are summed).

        >>> h = PatternHistogram.from_arrays(("a",), np.array(["x", "x", None], dtype=object),
        ...     np.array([1, 1, 0], dtype=np.uint64), np.array([2.0, 3.0, 4.0]))
        >>> h.strata, h.counts["x"].tolist(), h.counts[""].tolist()
        (('', 'x'), [5.0], [4.0])
        """
        if len(counts) == 0:
            raise InputError("the log has no complete case (every layer judged) to analyse")
        first = strata[0]
        if first is not None and bool(np.all(strata == first)):
            names = [str(first)]  # one stratum, the usual case: no name per row
        else:
            names = ["" if s is None else str(s) for s in strata.tolist()]
        patterns = np.asarray(patterns, dtype=np.uint64)
        counts = np.asarray(counts, dtype=float)
        by_pattern, by_count = {}, {}
        labels = sorted(set(names))
        for stratum in labels:
            if len(labels) == 1:
                mine, weights = patterns, counts
            else:
                chosen = np.array(names, dtype=object) == stratum
                mine, weights = patterns[chosen], counts[chosen]
            by_pattern[stratum], by_count[stratum] = sum_by_pattern(mine, weights)
        return cls(layers=layers, patterns=by_pattern, counts=by_count, **kwargs)

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
        if len(self.patterns) == 1:
            (only,) = self.patterns
            return self.patterns[only], self.counts[only]
        return sum_by_pattern(
            np.concatenate([self.patterns[s] for s in self.strata]),
            np.concatenate([self.counts[s] for s in self.strata]),
        )

    def table(self, stratum: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Return (patterns, counts) of one stratum, or pooled when ``stratum`` is None."""
        if stratum is None or stratum == POOLED:
            return self.pooled()
        return self.patterns[stratum], self.counts[stratum]

    def bits(self, patterns: np.ndarray) -> np.ndarray:
        """Return the (patterns × layers) boolean matrix of which layers failed."""
        # The bytes of each little-endian uint64 unpacked into its 64 bits: one pass, where a
        # shift per layer makes a patterns × layers uint64 array first.
        octets = np.ascontiguousarray(patterns, dtype="<u8").view(np.uint8).reshape(-1, 8)
        unpacked = np.unpackbits(octets, axis=1, bitorder="little")
        return unpacked[:, : len(self.layers)].view(bool)

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
        strata = [(h, s) for h in (self, other) for s in h.strata]
        return PatternHistogram.from_arrays(
            self.layers,
            np.concatenate([np.full(len(h.patterns[s]), s, dtype=object) for h, s in strata]),
            np.concatenate([h.patterns[s] for h, s in strata]),
            np.concatenate([h.counts[s] for h, s in strata]),
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


def sum_by_pattern(patterns: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the distinct patterns (sorted) and the summed counts of each."""
    if len(patterns) < 2 or bool(np.all(patterns[1:] > patterns[:-1])):
        return patterns, counts  # already distinct and sorted: a database's ordered group-by
    keys, which = np.unique(patterns, return_inverse=True)
    return keys, np.bincount(which, weights=counts, minlength=len(keys))

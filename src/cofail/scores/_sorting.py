"""Sorting a layer's scores: the compiled radix sort (``_radix.c``) where it was built and the
column is large, NumPy's sort otherwise; the same ascending values either way.

A scored log's analysis sorts each layer's honest and attack columns once (thresholds, AUC,
ROC, the curve). On 10^7 continuous scores NumPy's comparison sort takes 0.84 s a column and
the radix sort 0.25 s (``benchmarks/scores_benchmark.py``); on a few thousand the difference is
nothing, so small columns stay with NumPy.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np

from cofail._extensions import optional_extension

__all__ = ["radix_available", "sort_scores"]

_radix: ModuleType | None = optional_extension("cofail.scores._radix")
"""The compiled kernel, or ``None`` (tests set it to ``None`` to run NumPy's sort)."""

_RADIX_MIN = 65_536
"""Shortest column handed to the radix sort: below it NumPy's sort is as fast."""


def radix_available() -> bool:
    """True when the compiled radix sort is installed.

    >>> isinstance(radix_available(), bool)
    True
    """
    return _radix is not None


def sort_scores(
    column: np.ndarray, out: np.ndarray | None = None, spare: np.ndarray | None = None
) -> np.ndarray:
    """Return a sorted copy of a float64 column, ascending: ``np.sort(column)``'s values.

    ``out`` and ``spare``, float64 buffers at least as long as the column, are the radix
    sort's output (the result is then a prefix of ``out``) and scratch: a caller that sorts
    many columns passes the same ones each time, and saves the page faults of fresh memory
    (on 10^7 scores here, 0.1 s of a sort's 0.26 s). Elsewhere, or without them, the result is
    new memory.

    Zeros of both signs compare equal and may come in either order, as with NumPy; NaNs (which
    the readers refuse before any analysis) go last, as with NumPy.

    >>> sort_scores(np.array([2.0, -1.0, np.inf, 0.5])).tolist()
    [-1.0, 0.5, 2.0, inf]
    """
    n = len(column)
    if _radix is None or n < _RADIX_MIN or column.dtype != np.float64:
        return np.sort(column)
    source = np.ascontiguousarray(column)
    target = np.empty_like(source) if out is None else out[:n]
    scratch = np.empty_like(source) if spare is None else spare[:n]
    if not _radix.sort_float64(target, source, scratch):
        return np.sort(column)  # a NaN: NumPy's sort puts it last
    return target

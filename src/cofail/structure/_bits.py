"""Bitset helpers: sets of failure modes (or layers) as Python ints, bit j = column j."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

__all__ = ["bits_of", "mask_of", "minimal_sets", "row_masks"]


def mask_of(indices: Iterable[int]) -> int:
    """Return the bitset with the given bit positions set.

    >>> mask_of([0, 2])
    5
    """
    out = 0
    for i in indices:
        out |= 1 << int(i)
    return out


def bits_of(mask: int) -> list[int]:
    """Return the positions of the set bits, ascending.

    >>> bits_of(5)
    [0, 2]
    """
    out = []
    i = 0
    while mask:
        if mask & 1:
            out.append(i)
        mask >>= 1
        i += 1
    return out


def row_masks(rows: np.ndarray | Sequence[Sequence[bool]]) -> list[int]:
    """Return one bitset per row of a boolean matrix (bit j set where row[j] is true)."""
    return [mask_of(np.flatnonzero(np.asarray(row, dtype=bool))) for row in rows]


def minimal_sets(sets: set[int]) -> list[int]:
    """Return the sets (bitsets) that contain no other set of the family, smallest first.

    >>> minimal_sets({0b011, 0b001, 0b110})
    [1, 6]
    """
    kept: list[int] = []
    for s in sorted(sets, key=lambda m: m.bit_count()):
        if not any(k & s == k for k in kept):
            kept.append(s)
    return kept

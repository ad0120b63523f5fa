"""Bitset helpers: sets of failure modes (or layers) as Python ints, bit j = column j."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

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


def minimal_sets(sets: Iterable[int], charge: Callable[[int], None] | None = None) -> list[int]:
    """Return the sets (bitsets) that contain no other set of the family, smallest first.

    Each kept set is filed under its lowest element, so a candidate is compared only with the
    kept sets whose lowest element it contains (a family of equal-sized sets costs one pass,
    not the square of its size). ``charge(n)``, if given, is told of every ``n`` comparisons,
    to bound a long search.

    >>> minimal_sets({0b011, 0b001, 0b110})
    [1, 6]
    """
    family = set(sets)
    if 0 in family:  # the empty set is inside every other
        return [0]
    kept: list[int] = []
    by_lowest: dict[int, list[int]] = {}
    work = 0
    for s in sorted(family, key=int.bit_count):
        rest, contained = s, False
        while rest and not contained:
            low = rest & -rest
            rest ^= low
            under = by_lowest.get(low)
            if under:
                work += len(under)
                contained = any(k & s == k for k in under)
        if not contained:
            kept.append(s)
            by_lowest.setdefault(s & -s, []).append(s)
        work += 1
        if charge is not None and work > 4096:
            charge(work)
            work = 0
    if charge is not None:
        charge(work)
    return kept

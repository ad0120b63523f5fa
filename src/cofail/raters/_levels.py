"""How a rater's level reads as a value at each level of measurement."""

from __future__ import annotations

import math

from cofail.model import Level

__all__ = ["canonical", "interval_value", "ordinal_key", "pair_agreement", "vote_counts"]


def canonical(level: Level) -> Level:
    """Return ``level`` with a graded 0 read as N and a graded 1 as V (the same judgement).

    >>> canonical(0.0), canonical(1.0), canonical(0.3), canonical("U")
    ('N', 'V', 0.3, 'U')
    """
    if isinstance(level, float):
        if level == 0.0:
            return "N"
        if level == 1.0:
            return "V"
    return level


def ordinal_key(level: Level) -> tuple[float, int]:
    """Return the rank key of ``level``: N < graded numbers by value < V, U in the middle
    (after a graded 0.5, before anything above it).

    >>> sorted(["V", 0.7, "U", "N", 0.5], key=ordinal_key)
    ['N', 0.5, 'U', 0.7, 'V']
    """
    level = canonical(level)
    if level == "N":
        return (0.0, 0)
    if level == "V":
        return (1.0, 0)
    if level == "U":
        return (0.5, 1)
    assert isinstance(level, float)
    return (level, 0)


def interval_value(level: Level, uncertain: float | None = None) -> float:
    """Return ``level`` on the interval scale: V 1, N 0, a number as given, U ``uncertain``
    (NaN, left out, when ``None``).

    >>> interval_value("V"), interval_value(0.25), interval_value("U"), interval_value("U", 0.5)
    (1.0, 0.25, nan, 0.5)
    """
    if level == "V":
        return 1.0
    if level == "N":
        return 0.0
    if level == "U":
        return math.nan if uncertain is None else uncertain
    assert isinstance(level, float)
    return level


def vote_counts(levels: list[Level]) -> dict[Level, int]:
    """Return how many votes each level got, most first, then in rank order.

    >>> vote_counts(["V", "N", "V", 1.0])
    {'V': 3, 'N': 1}
    """
    counts: dict[Level, int] = {}
    for level in levels:
        key = canonical(level)
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], ordinal_key(kv[0]))))


def pair_agreement(levels: list[Level]) -> float | None:
    """Return the share of ordered pairs of votes that agree; ``None`` with fewer than two.

    >>> pair_agreement(["V", "V", "N"]), pair_agreement(["V", 1.0]), pair_agreement(["U"])
    (0.3333333333333333, 1.0, None)
    """
    m = len(levels)
    if m < 2:
        return None
    same = sum(n * (n - 1) for n in vote_counts(levels).values())
    return same / (m * (m - 1))

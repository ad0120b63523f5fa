"""Draw layer failures from the probability model (for Monte Carlo and synthetic logs)."""

from __future__ import annotations

import numpy as np

__all__ = ["draw_failures"]


def draw_failures(
    q: np.ndarray, p: np.ndarray, r: np.ndarray, cases: int, rng: np.random.Generator
) -> np.ndarray:
    """Return a (cases × layers) boolean array of which layers failed in each drawn case.

    Per case, each failure mode is present with p_j; a present mode defeats layer i with
    q_ij; each layer also fails on its own with r_i.

    >>> draw_failures(np.ones((2, 1)), np.array([1.0]), np.zeros(2), 3, np.random.default_rng(0)).all()
    np.True_
    """
    present = rng.random((cases, len(p))) < p
    failed = rng.random((cases, len(r))) < r
    for j in np.flatnonzero(q.any(axis=0)):
        rows = np.flatnonzero(present[:, j])
        if len(rows) == 0:
            continue
        column = q[:, j]
        if np.all((column == 0) | (column == 1)):
            failed[np.ix_(rows, np.flatnonzero(column))] = True
        else:
            failed[rows] |= rng.random((len(rows), len(column))) < column
    return failed

"""Synthetic evaluation logs drawn from the probability model (for checks and demonstrations)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from cofail.model import Matrix, Stack
from cofail.probability import Scenario

__all__ = ["simulate"]


def simulate(
    matrix: Matrix, stack: Stack, scenario: Scenario, cases: int, *, seed: int = 0
) -> pa.Table:
    """Return a wide log (``case`` plus one 0/1 column per layer) drawn from the model.

    Per case, each failure mode is present with p_j; a present mode defeats layer i with
    q_ij; each layer also fails on its own with r_i.

    >>> from cofail import catalog
    >>> t = simulate(catalog.load(), Stack(layers=("RLHF", "RE")), Scenario(), 1000, seed=1)
    >>> t.column_names, t.num_rows
    (['case', 'RLHF', 'RE'], 1000)
    """
    q, p, r = scenario.arrays(matrix, stack)
    rng = np.random.default_rng(seed)
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
    data: dict[str, pa.Array] = {"case": pa.array(np.arange(cases, dtype=np.int64))}
    for i, lid in enumerate(stack.layers):
        data[lid] = pa.array(failed[:, i].astype(np.int8))
    return pa.table(data)

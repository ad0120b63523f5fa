"""Synthetic evaluation logs drawn from the probability model (for checks and demonstrations)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from cofail.model import Matrix, Stack
from cofail.probability import Scenario
from cofail.probability._sample import draw_failures

__all__ = ["simulate"]


def simulate(
    matrix: Matrix, stack: Stack, scenario: Scenario, cases: int, *, seed: int = 0
) -> pa.Table:
    """Return a wide log (``case`` plus one 0/1 column per layer) drawn from the model.

    Cases are drawn by :func:`cofail.probability._sample.draw_failures`.

    >>> from cofail import catalog
    >>> t = simulate(catalog.load(), Stack(layers=("RLHF", "RE")), Scenario(), 1000, seed=1)
    >>> t.column_names, t.num_rows
    (['case', 'RLHF', 'RE'], 1000)
    """
    q, p, r = scenario.arrays(matrix, stack)
    failed = draw_failures(q, p, r, cases, np.random.default_rng(seed))
    data: dict[str, pa.Array] = {"case": pa.array(np.arange(cases, dtype=np.int64))}
    for i, lid in enumerate(stack.layers):
        data[lid] = pa.array(failed[:, i].astype(np.int8))
    return pa.table(data)

"""Best stacks by uncovered modes as an integer programme, for too many layers to enumerate."""

from __future__ import annotations

import numpy as np

from cofail.errors import InputError
from cofail.model import Matrix, UncertainPolicy

__all__ = ["best_stacks_ilp"]


def best_stacks_ilp(
    matrix: Matrix,
    candidates: tuple[str, ...],
    *,
    budget: float | None,
    size: int | None,
    top: int,
    uncertain: UncertainPolicy = "pessimistic",
) -> list[tuple[str, ...]]:
    """Return up to ``top`` stacks, best first: fewest uncovered modes, then lowest tax.

    Variables x_i (layer i deployed) and u_j (mode j uncovered). Mode j is uncovered unless
    some deployed layer is not vulnerable to it: u_j ≥ 1 − Σ_{i covers j} x_i. Minimise
    W Σ u_j + Σ c_i x_i with W larger than any total tax, so fewer uncovered modes always
    win and tax breaks ties. Each further stack adds a no-good cut excluding the ones found.

    >>> from cofail import catalog
    >>> best_stacks_ilp(catalog.load(), catalog.load().layer_ids, budget=3, size=2, top=1)
    [('DEBATE', 'RE')]
    """
    # Imported here: scipy.optimize takes about 0.8 s, which every command importing
    # cofail.decide (the report included) paid though the ILP runs only past ~25 candidates.
    from scipy.optimize import Bounds, LinearConstraint, milp

    rows = [matrix.layer_ids.index(x) for x in candidates]
    covers = ~matrix.vulnerable(uncertain)[rows]  # (n, m): layer i covers mode j
    n, m = covers.shape
    costs = np.array([matrix.layer(x).cost for x in candidates])
    weight = costs.sum() + 1.0
    c = np.concatenate([costs, np.full(m, weight)])
    a_cover = np.hstack([covers.T.astype(float), np.eye(m)])  # Σ x_i + u_j ≥ 1
    constraints = [LinearConstraint(a_cover, lb=np.ones(m), ub=np.inf)]
    a_size = np.concatenate([np.ones(n), np.zeros(m)])
    if size is not None:
        constraints.append(LinearConstraint(a_size, lb=size, ub=size))
    else:
        constraints.append(LinearConstraint(a_size, lb=1, ub=np.inf))
    if budget is not None:
        constraints.append(LinearConstraint(np.concatenate([costs, np.zeros(m)]), ub=budget))
    found: list[tuple[str, ...]] = []
    for _ in range(top):
        result = milp(
            c,
            constraints=constraints,
            integrality=np.ones(n + m),
            bounds=Bounds(np.zeros(n + m), np.ones(n + m)),
        )
        if result.status != 0 or result.x is None:
            break
        chosen = np.flatnonzero(result.x[:n] > 0.5)
        found.append(tuple(candidates[i] for i in chosen))
        cut = np.zeros(n + m)
        cut[:n] = -1.0
        cut[chosen] = 1.0
        constraints.append(LinearConstraint(cut, ub=len(chosen) - 1))
    if not found:
        raise InputError(f"no stack fits the constraints (budget {budget}, size {size})")
    return found

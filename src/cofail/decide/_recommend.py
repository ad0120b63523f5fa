"""Which stack to deploy under a safety-tax budget, the Pareto frontier, and what to add next."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from cofail.decide._ilp import best_stacks_ilp
from cofail.decide._landscape import MAX_ENUMERATED, Landscape, landscape
from cofail.errors import InputError
from cofail.model import TAX_ORDER, Matrix, Stack, TaxLevel, UncertainPolicy
from cofail.probability import Scenario, exact_cost, stack_failure
from cofail.structure import audit
from cofail.structure import depth as stack_depth

__all__ = [
    "EVALUATE_SECONDS",
    "TIE_BREAK",
    "Candidate",
    "Frontier",
    "Objective",
    "Recommendation",
    "candidate_layers",
    "frontier",
    "next_layer",
    "recommend",
]

Objective = Literal["uncovered", "depth", "risk"]
TIE_BREAK = (
    "ties broken by: fewer uncovered modes, greater depth, lower risk, lower safety tax, "
    "fewer layers, then layer order in the matrix"
)


@dataclass(frozen=True, slots=True)
class Candidate:
    """One stack with everything a decision needs."""

    layers: tuple[str, ...]
    tax: float
    uncovered: tuple[str, ...]
    depth: int | None
    """Smallest cut-set order; ``None`` when no set of failure modes defeats the stack."""
    risk: float | None
    """Exact P(stack fails) under the scenario; ``None`` where the exact solve was estimated
    to take over ``EVALUATE_SECONDS`` (or to need an untimed BDD): see :func:`evaluate`."""
    closes: tuple[str, ...] = ()
    """For ``next``: modes uncovered before adding the layer and covered after."""

    def to_dict(self) -> dict[str, Any]:
        """Return plain data for JSON."""
        out: dict[str, Any] = {
            "layers": list(self.layers),
            "tax": self.tax,
            "uncovered": list(self.uncovered),
            "depth": self.depth,
            "risk": self.risk,
        }
        if self.closes:
            out["closes"] = list(self.closes)
        return out


@dataclass(frozen=True)
class Recommendation:
    """Stacks ranked by an objective under constraints, with the assumptions that produced them."""

    stacks: tuple[Candidate, ...]
    objective: Objective
    budget: float | None
    max_tax: TaxLevel | None
    size: int | None
    candidates: tuple[str, ...]
    n_feasible: int
    method: str
    scenario: Scenario
    uncertain: UncertainPolicy
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        """Return plain data for JSON."""
        return {
            "stacks": [s.to_dict() for s in self.stacks],
            "objective": self.objective,
            "constraints": {"budget": self.budget, "max_tax": self.max_tax, "size": self.size},
            "candidates": list(self.candidates),
            "n_feasible": self.n_feasible,
            "method": self.method,
            "tie_break": TIE_BREAK,
            "uncertain": self.uncertain,
            "scenario": self.scenario.to_dict(),
            "notes": list(self.notes),
        }


def candidate_layers(matrix: Matrix, max_tax: TaxLevel | None) -> tuple[str, ...]:
    if max_tax is None:
        return matrix.layer_ids
    limit = TAX_ORDER[max_tax]
    return tuple(x.id for x in matrix.layers if TAX_ORDER[x.safety_tax] <= limit)


def _order(
    land: Landscape, idx: np.ndarray, depth: np.ndarray, objective: Objective = "uncovered"
) -> np.ndarray:
    """Return positions into ``idx``, best stack first (objective, then ``TIE_BREAK``)."""
    keys = {"uncovered": land.n_uncovered[idx], "depth": -depth, "risk": land.risk[idx]}
    primary = [keys[objective]] + [
        keys[k] for k in ("uncovered", "depth", "risk") if k != objective
    ]
    ids = _lexical(land.stacks[idx], len(land.layers))
    # np.lexsort sorts by its last key first.
    return np.lexsort([ids, land.size[idx], land.tax[idx], *reversed(primary)])


def _lexical(stacks: np.ndarray, n: int) -> np.ndarray:
    # Sorting key that orders stacks by their layer ids in matrix order ({A} < {A, B} < {B}).
    bits = ((stacks[:, None] >> np.arange(n)) & 1).astype(np.int64)
    return np.asarray(np.lexsort([(1 - bits[:, i]) for i in reversed(range(n))]).argsort())


def _candidate(land: Landscape, i: int, depth: float) -> Candidate:
    return Candidate(
        layers=land.layer_ids(int(land.stacks[i])),
        tax=float(land.tax[i]),
        uncovered=land.uncovered(i),
        depth=None if np.isinf(depth) else int(depth),
        risk=float(land.risk[i]),
    )


def recommend(
    matrix: Matrix,
    *,
    budget: float | None = None,
    max_tax: TaxLevel | None = None,
    size: int | None = None,
    objective: Objective = "uncovered",
    scenario: Scenario | None = None,
    uncertain: UncertainPolicy = "pessimistic",
    top: int = 10,
) -> Recommendation:
    """Return the best stacks under a safety-tax budget, best first.

    Parameters
    ----------
    budget : largest total safety tax (sum of the layers' numeric costs).
    max_tax : leave out layers with a higher safety-tax level.
    size : only stacks of exactly this many layers.
    objective : ``uncovered`` (fewest modes that defeat every layer), ``depth`` (largest
        smallest cut set) or ``risk`` (lowest exact P(stack fails) under ``scenario``).

    Examples
    --------
    >>> from cofail import catalog
    >>> r = recommend(catalog.load(), max_tax="moderate", size=2, top=1)
    >>> r.stacks[0].layers, r.stacks[0].uncovered
    (('DEBATE', 'RE'), ('AL-GEN',))

    Notes
    -----
    Up to 25 candidate layers every stack is scored at once (:func:`landscape`), so the ranking
    is exact. Beyond that, the ``uncovered`` objective is solved as an integer programme
    (HiGHS through SciPy), re-solved with the previous optima excluded to list ``top`` stacks.
    """
    scenario = scenario or Scenario(uncertain=uncertain)
    candidates = candidate_layers(matrix, max_tax)
    if not candidates:
        raise InputError(f"no layer has a safety tax of {max_tax} or lower")
    if size is not None and not 1 <= size <= len(candidates):
        raise InputError(f"--size must be between 1 and {len(candidates)} candidate layers")
    if len(candidates) > MAX_ENUMERATED:
        return _recommend_ilp(
            matrix, candidates, budget, max_tax, size, objective, scenario, uncertain, top
        )
    land = landscape(matrix, scenario, candidates, uncertain=uncertain)
    feasible = np.ones(len(land.stacks), dtype=bool)
    if budget is not None:
        feasible &= land.tax <= budget + 1e-9
    if size is not None:
        feasible &= land.size == size
    idx = np.flatnonzero(feasible)
    if len(idx) == 0:
        raise InputError(f"no stack fits the constraints (budget {budget}, size {size})")
    depth = land.depths(matrix, idx)
    ranked = _order(land, idx, depth, objective)[:top]
    chosen = [_candidate(land, int(idx[k]), depth[k]) for k in ranked]
    return Recommendation(
        stacks=tuple(chosen),
        objective=objective,
        budget=budget,
        max_tax=max_tax,
        size=size,
        candidates=candidates,
        n_feasible=len(idx),
        method=f"exact enumeration of all {len(land.stacks)} stacks",
        scenario=scenario,
        uncertain=uncertain,
    )


def _recommend_ilp(
    matrix: Matrix,
    candidates: tuple[str, ...],
    budget: float | None,
    max_tax: TaxLevel | None,
    size: int | None,
    objective: Objective,
    scenario: Scenario,
    uncertain: UncertainPolicy,
    top: int,
) -> Recommendation:
    if objective != "uncovered":
        raise InputError(
            f"--objective {objective} is exact only up to {MAX_ENUMERATED} candidate layers "
            f"({len(candidates)} given); use --objective uncovered, or --max-tax to narrow them"
        )
    found = best_stacks_ilp(
        matrix, candidates, budget=budget, size=size, top=top, uncertain=uncertain
    )
    chosen = [evaluate(matrix, layers, scenario, uncertain) for layers in found]
    return Recommendation(
        stacks=tuple(chosen),
        objective=objective,
        budget=budget,
        max_tax=max_tax,
        size=size,
        candidates=candidates,
        n_feasible=-1,
        method="integer programme (HiGHS), optimal; next-best by excluding earlier optima",
        scenario=scenario,
        uncertain=uncertain,
        notes=("n_feasible is not counted for the integer programme",),
    )


EVALUATE_SECONDS = 5.0
"""Longest exact solve :func:`evaluate` starts for one stack, by its estimate: past it the
stack's risk is left out (``None``) rather than hold up a ranking of many stacks."""


def evaluate(
    matrix: Matrix,
    layers: tuple[str, ...],
    scenario: Scenario,
    uncertain: UncertainPolicy,
    *,
    with_risk: bool = True,
) -> Candidate:
    """Return the decision metrics of one stack; its risk only when asked for and the exact
    solve is estimated within ``EVALUATE_SECONDS`` (:func:`~cofail.probability.exact_cost`, a
    BDD not timed: one of the many stacks a decision weighs should not cost seconds to
    estimate)."""
    stack = Stack(layers=layers)
    result = audit(matrix, stack, uncertain=uncertain, max_order=1)
    q, p, r = scenario.arrays(matrix, stack)
    risk = None
    if with_risk and exact_cost(q, p, r, time_bdd=False).seconds <= EVALUATE_SECONDS:
        risk = stack_failure(q, p, r)
    return Candidate(
        layers=layers,
        tax=sum(matrix.layer(x).cost for x in layers),
        uncovered=result.uncovered,
        depth=stack_depth(matrix, stack, uncertain=uncertain),
        risk=risk,
    )


def next_layer(
    matrix: Matrix,
    stack: Stack,
    *,
    objective: Objective = "uncovered",
    scenario: Scenario | None = None,
    uncertain: UncertainPolicy = "pessimistic",
    max_tax: TaxLevel | None = None,
) -> tuple[Candidate, list[Candidate]]:
    """Return the current stack and every one-layer extension of it, most helpful first.

    >>> from cofail import catalog
    >>> now, options = next_layer(catalog.load(), Stack(layers=("RLHF", "RLAIF")))
    >>> options[0].layers[-1], options[0].closes
    ('SCI-AI', ('DEC-AL', 'EM-MIS', 'EVAL-DIFF', 'AL-GEN'))
    """
    scenario = scenario or Scenario(uncertain=uncertain)
    current = evaluate(matrix, stack.layers, scenario, uncertain)
    pool = [x for x in candidate_layers(matrix, max_tax) if x not in stack.layers]
    if not pool:
        raise InputError("every candidate layer is already in the stack")
    if objective == "risk" and current.risk is None:
        raise InputError(
            f"--objective risk: the exact risk of these {len(stack.layers)} layers is estimated "
            f"past {EVALUATE_SECONDS:g} s a stack (or needs a BDD); --objective uncovered or "
            "depth ranks them, `cofail risk --mc N` estimates one stack's risk"
        )
    options = []
    for lid in pool:
        # One layer more costs at least as much: past the limit for the stack, for them all.
        extended = evaluate(
            matrix, (*stack.layers, lid), scenario, uncertain, with_risk=current.risk is not None
        )
        closes = tuple(m for m in current.uncovered if m not in extended.uncovered)
        options.append(
            Candidate(
                extended.layers,
                extended.tax,
                extended.uncovered,
                extended.depth,
                extended.risk,
                closes,
            )
        )
    position = {lid: i for i, lid in enumerate(matrix.layer_ids)}

    def key(c: Candidate) -> tuple[float, ...]:
        d = float("inf") if c.depth is None else float(c.depth)
        risk = c.risk if c.risk is not None else 1.0
        metrics = {"uncovered": float(len(c.uncovered)), "depth": -d, "risk": risk}
        ordered = [metrics[objective]] + [v for k, v in metrics.items() if k != objective]
        return (*ordered, c.tax, float(position[c.layers[-1]]))

    return current, sorted(options, key=key)


@dataclass(frozen=True)
class Frontier:
    """Pareto-optimal stacks: no other stack is cheaper and at least as good."""

    metric: Literal["risk", "depth"]
    points: tuple[Candidate, ...]
    all_tax: np.ndarray = field(repr=False)
    all_value: np.ndarray = field(repr=False)
    """Every feasible stack's tax and metric, for the figure."""

    def to_dict(self) -> dict[str, Any]:
        """Return plain data for JSON."""
        return {"metric": self.metric, "points": [p.to_dict() for p in self.points]}


def frontier(
    matrix: Matrix,
    metric: Literal["risk", "depth"],
    *,
    scenario: Scenario | None = None,
    uncertain: UncertainPolicy = "pessimistic",
    max_tax: TaxLevel | None = None,
) -> Frontier:
    """Return the stacks on the Pareto frontier of safety tax against risk or depth.

    >>> from cofail import catalog
    >>> f = frontier(catalog.load(), "depth")
    >>> [(p.layers, p.depth) for p in f.points][:2]
    [(('RE',), 1), (('RE', 'SCI-AI'), 2)]
    """
    scenario = scenario or Scenario(uncertain=uncertain)
    land = landscape(matrix, scenario, candidate_layers(matrix, max_tax), uncertain=uncertain)
    idx = np.arange(len(land.stacks))
    depth = land.depths(matrix, idx)
    value = land.risk if metric == "risk" else -depth  # lower is better for both
    rank = np.empty(len(idx), dtype=np.int64)
    rank[_order(land, idx, depth, metric)] = np.arange(len(idx))
    order = np.lexsort([rank, value, land.tax])  # cheapest first, best value, then tie-break
    points: list[Candidate] = []
    best = np.inf
    for i in order:
        if not points or value[i] < best - 1e-12 * abs(best):
            best = value[i]
            points.append(_candidate(land, int(i), depth[i]))
    shown = land.risk if metric == "risk" else depth
    return Frontier(metric=metric, points=tuple(points), all_tax=land.tax, all_value=shown)

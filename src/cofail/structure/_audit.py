"""Audit of a stack: uncovered and fragile failure modes, minimal cut sets, depth; stack ranking."""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np

from cofail.errors import InputError
from cofail.model import Matrix, Stack, UncertainPolicy
from cofail.structure._cutsets import CutSet, depth, minimal_cut_sets

__all__ = ["Audit", "RankedStack", "audit", "rank_stacks"]


@dataclass(frozen=True, slots=True)
class Audit:
    """What breaks a stack, structurally."""

    stack: tuple[str, ...]
    uncertain: UncertainPolicy
    uncovered: tuple[str, ...]
    """Modes every layer of the stack is vulnerable to (order-1 cut sets for an AND stack)."""
    fragile: dict[str, str]
    """Mode → the only layer of the stack that is not vulnerable to it."""
    cut_sets: tuple[CutSet, ...]
    """Minimal cut sets, by order (up to ``max_order`` if one was given)."""
    max_order: int | None
    depth: int | None
    """Order of the smallest cut set; ``None`` when no set of modes defeats the stack."""
    threshold: int
    """Number of failed layers that defeats the stack (all of them unless k-out-of-n)."""
    note: str = ""
    graded_threshold: float = 0.5
    """A graded cell (q in [0, 1]) counts as vulnerable when ``q >= graded_threshold``."""
    graded_vulnerable: tuple[tuple[str, str, float], ...] = ()
    """Graded cells of the stack read as vulnerable: (layer, mode, q)."""
    graded_covered: tuple[tuple[str, str, float], ...] = ()
    """Graded cells of the stack read as covered (q below the threshold): the layer still
    fails under the mode with probability q, which the structural audit does not count."""

    def to_dict(self) -> dict[str, Any]:
        """Return plain data for JSON."""
        counts: dict[str, int] = {}
        for c in self.cut_sets:
            counts[str(c.order)] = counts.get(str(c.order), 0) + 1
        return {
            "stack": list(self.stack),
            "k": self.threshold,
            "uncertain": self.uncertain,
            "depth": self.depth,
            "uncovered": list(self.uncovered),
            "fragile": dict(self.fragile),
            "cut_sets": [list(c.modes) for c in self.cut_sets],
            "cut_sets_per_order": counts,
            "max_order": self.max_order,
            "graded": {
                "threshold": self.graded_threshold,
                "rule": "a graded cell counts as vulnerable when q >= threshold",
                "vulnerable": [
                    {"layer": a, "mode": b, "q": q} for a, b, q in self.graded_vulnerable
                ],
                "covered": [{"layer": a, "mode": b, "q": q} for a, b, q in self.graded_covered],
            },
            "note": self.note,
        }


def audit(
    matrix: Matrix,
    stack: Stack,
    *,
    max_order: int | None = None,
    uncertain: UncertainPolicy = "pessimistic",
    threshold: float = 0.5,
) -> Audit:
    """Return the structural audit of ``stack``: uncovered, fragile, cut sets and depth.

    Examples
    --------
    >>> from cofail import catalog
    >>> a = audit(catalog.load(), Stack(layers=("RLHF", "RLAIF", "W2S")))
    >>> a.depth, a.uncovered
    (1, ('CAP-DEV', 'DEC-AL', 'EM-MIS', 'EVAL-DIFF', 'AL-GEN'))

    Notes
    -----
    ``depth`` is computed from the cut sets found; with ``max_order`` set and no cut set up to
    that order, it is reported as ``None`` with a note saying the search was bounded. A graded
    cell is read as vulnerable when ``q >= threshold``; both kinds of graded cell are listed
    (``graded_vulnerable``, ``graded_covered``) so that no reading is silent.
    """
    if not 0.0 < threshold <= 1.0:  # also refuses NaN
        raise InputError(f"--threshold: expected a number in (0, 1], got {threshold:g}")
    rows = matrix.vulnerable(uncertain, threshold)[stack.indices(matrix)]
    graded = [
        (lid, mid, level)
        for lid in stack.layers
        for mid in matrix.mode_ids
        if isinstance(level := matrix.cell(lid, mid).level, float)
    ]
    n_not = (~rows).sum(axis=0)
    uncovered = tuple(m for m, c in zip(matrix.mode_ids, n_not, strict=True) if c == 0)
    fragile = {
        mid: stack.layers[int(np.flatnonzero(~rows[:, j])[0])]
        for j, mid in enumerate(matrix.mode_ids)
        if n_not[j] == 1
    }
    cuts = minimal_cut_sets(
        matrix, stack, max_order=max_order, uncertain=uncertain, threshold=threshold
    )
    smallest = cuts[0].order if cuts else None
    note = ""
    if smallest is None:
        if max_order is not None:
            note = f"no cut set of order <= {max_order}; the search was bounded by --max-order"
        else:
            safe = [stack.layers[i] for i in range(len(stack.layers)) if not rows[i].any()]
            note = (
                f"no set of failure modes defeats the stack: {', '.join(safe)} "
                "is vulnerable to none of them"
            )
    return Audit(
        stack=stack.layers,
        uncertain=uncertain,
        uncovered=uncovered if stack.threshold == len(stack.layers) else _k_uncovered(cuts),
        fragile=fragile,
        cut_sets=tuple(cuts),
        max_order=max_order,
        depth=smallest,
        threshold=stack.threshold,
        note=note,
        graded_threshold=threshold,
        graded_vulnerable=tuple(g for g in graded if g[2] >= threshold),
        graded_covered=tuple(g for g in graded if g[2] < threshold),
    )


def _k_uncovered(cuts: list[CutSet]) -> tuple[str, ...]:
    return tuple(c.modes[0] for c in cuts if c.order == 1)


@dataclass(frozen=True, slots=True)
class RankedStack:
    """One stack in a ranking by what it leaves uncovered."""

    layers: tuple[str, ...]
    uncovered: tuple[str, ...]
    depth: int | None
    tax: float

    def to_dict(self) -> dict[str, Any]:
        """Return plain data for JSON."""
        return {
            "layers": list(self.layers),
            "uncovered": list(self.uncovered),
            "n_uncovered": len(self.uncovered),
            "depth": self.depth,
            "tax": self.tax,
        }


MAX_RANKED = 100_000
"""Most stacks :func:`rank_stacks` scores. Each stack that leaves no mode uncovered needs a
search for its depth: C(40, 4) = 91,390 stacks of a random 40 x 10 matrix took 59 s."""


def rank_stacks(
    matrix: Matrix,
    size: int,
    *,
    uncertain: UncertainPolicy = "pessimistic",
    top: int | None = None,
    threshold: float = 0.5,
) -> list[RankedStack]:
    """Return every stack of ``size`` layers, best first.

    Order: fewest uncovered modes, then greatest depth (no cut set at all is best), then lowest
    total safety tax, then layer ids in matrix order, so ties are broken deterministically.

    >>> from cofail import catalog
    >>> [r.layers for r in rank_stacks(catalog.load(), 2, top=2)]
    [('RE', 'SCI-AI'), ('DEBATE', 'RE')]
    """
    if not 1 <= size <= len(matrix.layers):
        raise InputError(f"--size must be between 1 and {len(matrix.layers)}, got {size}")
    count = math.comb(len(matrix.layers), size)
    if count > MAX_RANKED:
        raise InputError(
            f"--size {size}: {len(matrix.layers)} layers make {count:,} stacks of {size}, and "
            f"ranking scores every one (at most {MAX_RANKED:,}); `cofail recommend --size "
            f"{size}` finds the best by an integer programme instead"
        )
    vuln = matrix.vulnerable(uncertain, threshold)
    combos = np.array(list(combinations(range(len(matrix.layers)), size)), dtype=np.intp)
    # All stacks at once: a mode is uncovered when every layer of the stack is vulnerable.
    uncovered = np.asarray(vuln[combos].all(axis=1), dtype=bool)
    n_uncovered = uncovered.sum(axis=1)
    # Depth without a search where it is known: an uncovered mode defeats the stack alone
    # (depth 1), and a layer vulnerable to nothing is never defeated (None).
    immune = np.asarray(~vuln.any(axis=1), dtype=bool)  # layers vulnerable to no mode
    undefeatable: np.ndarray = np.asarray(immune[combos].any(axis=1), dtype=bool)
    costs = np.array([layer.cost for layer in matrix.layers])[combos].sum(axis=1)
    out = []
    for idx in range(len(combos)):
        layers = tuple(matrix.layer_ids[i] for i in combos[idx])
        if undefeatable[idx]:
            stack_depth: int | None = None
        elif n_uncovered[idx]:
            stack_depth = 1
        else:
            stack_depth = depth(
                matrix, Stack(layers=layers), uncertain=uncertain, threshold=threshold
            )
        out.append(
            RankedStack(
                layers=layers,
                uncovered=tuple(
                    m for m, u in zip(matrix.mode_ids, uncovered[idx], strict=True) if u
                ),
                depth=stack_depth,
                tax=float(costs[idx]),
            )
        )
    order = sorted(
        range(len(out)),
        key=lambda i: (
            int(n_uncovered[i]),
            -_depth_key(out[i].depth),
            out[i].tax,
            tuple(combos[i]),
        ),
    )
    ranked = [out[i] for i in order]
    return ranked[:top] if top else ranked


def _depth_key(value: int | None) -> float:
    # No cut set at all is the best possible depth.
    return float("inf") if value is None else float(value)

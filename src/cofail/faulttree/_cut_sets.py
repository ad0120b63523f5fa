"""Minimal cut sets of coherent MEF fault trees up to an order (top-down, MOCUS-like).

Each gate's cut sets are bitsets over basic events, truncated at ``max_order`` and kept
minimal at every step, so the work stays bounded by the number of cut sets of that order even
when the full list would run to millions.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from cofail.errors import InputError
from cofail.faulttree._bdd import SLOW_SECONDS
from cofail.faulttree._mef import FaultTree, Formula
from cofail.structure._bits import minimal_sets

__all__ = ["CutSetSummary", "mef_cut_sets"]

_COHERENT = {"and", "or", "atleast", "null", "event", "constant"}


@dataclass(frozen=True)
class CutSetSummary:
    """Minimal cut sets of a top gate up to an order: counts per order, and the sets."""

    top: str
    max_order: int
    counts: dict[int, int]
    cut_sets: list[tuple[str, ...]]

    def to_dict(self, limit: int = 1000) -> dict[str, Any]:
        """Return plain data for JSON; the sets themselves only when there are at most ``limit``."""
        out: dict[str, Any] = {
            "top": self.top,
            "max_order": self.max_order,
            "counts_per_order": {str(k): v for k, v in sorted(self.counts.items())},
            "total": sum(self.counts.values()),
        }
        if len(self.cut_sets) <= limit:
            out["cut_sets"] = [list(c) for c in self.cut_sets]
        return out


MAX_HELD = 1_000_000
"""Cut sets held for one gate (or one step of an AND): past it the search is refused, since
minimising a family costs up to the square of its size."""


class _Budget:
    """The search's bounds: :data:`MAX_HELD` sets at a time, and a deadline if one is given."""

    def __init__(
        self,
        top: str,
        max_order: int,
        time_limit: float | None,
        on_slow: Callable[[float], None] | None,
    ) -> None:
        self.top, self.max_order, self.time_limit = top, max_order, time_limit
        self.start = time.monotonic()
        self.deadline = None if time_limit is None else self.start + time_limit
        self.on_slow = on_slow
        self.work = 0

    def hold(self, gate: str, count: int) -> None:
        """Refuse a family of ``count`` sets at ``gate`` past :data:`MAX_HELD`."""
        if count > MAX_HELD:
            raise InputError(
                f"minimal cut sets of {self.top!r}: gate {gate!r} alone has more than "
                f"{MAX_HELD:,} sets of order <= {self.max_order}; a lower --cut-sets bounds "
                "the search (the probability does not need them)"
            )

    def spend(self, steps: int) -> None:
        """Count ``steps`` of work, and look at the clock every 10^5 of them."""
        self.work += steps
        if self.work > 100_000:
            self.work = 0
            now = time.monotonic()
            if self.on_slow is not None and now > self.start + SLOW_SECONDS:
                self.on_slow(SLOW_SECONDS)
                self.on_slow = None
            if self.deadline is not None and now > self.deadline:
                raise InputError(
                    f"minimal cut sets of {self.top!r} up to order {self.max_order} not found "
                    f"within --time-limit {self.time_limit:g} s; a lower --cut-sets shortens "
                    "the search"
                )


def mef_cut_sets(
    tree: FaultTree,
    top: str,
    max_order: int,
    *,
    time_limit: float | None = None,
    on_slow: Callable[[float], None] | None = None,
) -> CutSetSummary:
    """Return the minimal cut sets of ``top`` with at most ``max_order`` basic events.

    ``time_limit`` (seconds) bounds the search; past it, or when one gate alone holds more
    than :data:`MAX_HELD` sets, an ``InputError`` names the option that bounds it.
    ``on_slow(seconds)`` is called once if the search is still running after
    :data:`~cofail.faulttree._bdd.SLOW_SECONDS`.

    >>> from cofail.faulttree._mef import Formula
    >>> e = lambda n: Formula("event", name=n, kind="basic-event")
    >>> t = FaultTree(gates={"top": Formula("or", (e("a"), Formula("and", (e("a"), e("b")))))},
    ...               basic_events={"a": 0.1, "b": 0.1})
    >>> mef_cut_sets(t, "top", 2).cut_sets  # {a, b} is not minimal
    [('a',)]
    """
    index: dict[str, int] = {}
    memo: dict[str, list[int]] = {}
    budget = _Budget(top, max_order, time_limit, on_slow)

    def bit(name: str) -> int:
        if name not in index:
            index[name] = len(index)
        return 1 << index[name]

    def expand(f: Formula, gate: str) -> list[int]:
        # Gates below are in memo already (see the loop below), so this recursion only
        # follows one gate's formula, whose nesting the reader bounds.
        if f.op not in _COHERENT:
            raise InputError(
                f"minimal cut sets need a coherent tree; gate formula <{f.op}> makes it "
                "non-coherent (the probability is still exact)"
            )
        if f.op == "event":
            if f.name in tree.gates:
                return memo[f.name]
            if f.name in tree.house_events:
                return [0] if tree.house_events[f.name] else []
            return [bit(f.name)]
        if f.op == "constant":
            return [0] if f.value else []
        parts = [expand(a, gate) for a in f.args]
        if f.op == "null":
            return parts[0]
        if f.op == "or":
            union = {s for part in parts for s in part}
            budget.hold(gate, len(union))
            return minimal_sets(union, budget.spend)
        if f.op == "and":
            return _product(parts, max_order, budget, gate)
        # atleast k of n: OR over the k-subsets of AND.
        out: set[int] = set()
        for chosen in combinations(parts, f.min):
            out.update(_product(list(chosen), max_order, budget, gate))
            budget.hold(gate, len(out))
        return minimal_sets(out, budget.spend)

    for gate in tree.gates_below(top):  # children before parents
        memo[gate] = expand(tree.gates[gate], gate)
    found = memo[top]
    names = {v: k for k, v in index.items()}
    sets = sorted(
        (tuple(sorted(names[i] for i in range(s.bit_length()) if s >> i & 1)) for s in found),
        key=lambda c: (len(c), c),
    )
    counts: dict[int, int] = {}
    for c in sets:
        counts[len(c)] = counts.get(len(c), 0) + 1
    return CutSetSummary(top=top, max_order=max_order, counts=counts, cut_sets=sets)


def _product(parts: list[list[int]], max_order: int, budget: _Budget, gate: str) -> list[int]:
    acc = [0]
    for part in sorted(parts, key=len):
        combined: set[int] = set()
        for a in acc:
            combined.update(c for b in part if (c := a | b).bit_count() <= max_order)
            budget.spend(len(part))
            budget.hold(gate, len(combined))
        acc = minimal_sets(combined, budget.spend)
        if not acc:
            return []
    return acc

"""Exact top-event probability of general fault trees with a BDD (CUDD through ``dd``).

The probability is read off the BDD with two positive-term recursions, P(node) and
1 − P(node) side by side, so complemented edges never subtract: a top event of 1e-11 keeps full
relative precision.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from cofail.errors import InputError
from cofail.io.mef import FaultTree, Formula

__all__ = ["BddResult", "top_event_probability"]


def _bdd_module() -> tuple[Any, str]:
    try:
        from dd import cudd

        return cudd, "CUDD"
    except ImportError:  # pragma: no cover - the wheel ships CUDD on Linux x86-64
        from dd import autoref

        return autoref, "dd (pure Python)"


@dataclass(frozen=True)
class BddResult:
    """Top-event probability and the size of the BDD that gave it."""

    top: str
    probability: float
    nodes: int
    variables: int
    engine: str


def _variable_order(tree: FaultTree, top: str) -> list[str]:
    """Basic events in depth-first order of first appearance from the top (a good static order)."""
    order: list[str] = []
    seen_events: set[str] = set()
    seen_gates: set[str] = set()
    stack: list[Formula] = [tree.gates[top]]
    while stack:
        f = stack.pop()
        if f.op == "event":
            if f.name in tree.gates:
                if f.name not in seen_gates:
                    seen_gates.add(f.name)
                    stack.append(tree.gates[f.name])
            elif f.name in tree.basic_events and f.name not in seen_events:
                seen_events.add(f.name)
                order.append(f.name)
            continue
        stack.extend(reversed(f.args))
    return order


def top_event_probability(tree: FaultTree, top: str | None = None) -> BddResult:
    """Return the exact probability of a top gate (default: the only top gate of the tree).

    Examples
    --------
    >>> t = FaultTree(gates={"top": Formula("atleast", (Formula("event", name="a", kind="basic-event"),
    ...     Formula("event", name="b", kind="basic-event"), Formula("event", name="c", kind="basic-event")),
    ...     min=2)}, basic_events={"a": 0.1, "b": 0.2, "c": 0.3})
    >>> round(top_event_probability(t).probability, 6)  # ab + ac + bc - 2abc
    0.098
    """
    tops = tree.tops()
    if top is None:
        if len(tops) != 1:
            raise InputError(
                f"the model has {len(tops)} top gates ({', '.join(tops[:5])}); name one"
            )
        top = tops[0]
    if top not in tree.gates:
        raise InputError(f"no gate named {top!r}")
    module, engine = _bdd_module()
    bdd = module.BDD()
    if engine == "CUDD":
        # Static depth-first order first: sifting costs more than it saves on most trees.
        bdd.configure(reordering=False)
    order = _variable_order(tree, top)
    if order:
        bdd.declare(*order)
    memo: dict[str, Any] = {}
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 20_000))
    try:
        root = _compile(tree.gates[top], tree, bdd, memo)
    finally:
        sys.setrecursionlimit(limit)
    probability = _probability(bdd, root, tree.basic_events)
    return BddResult(
        top=top, probability=probability, nodes=len(bdd), variables=len(order), engine=engine
    )


_REORDER_AT = 3_000_000
"""BDD size at which dynamic variable reordering is switched on."""
_REORDERING = "\x00reordering"  # a memo key no gate name can take


def _compile(f: Formula, tree: FaultTree, bdd: Any, memo: dict[str, Any]) -> Any:
    if f.op == "event":
        if f.name in tree.gates:
            if f.name not in memo:
                memo[f.name] = _compile(tree.gates[f.name], tree, bdd, memo)
                if len(bdd) > _REORDER_AT and not memo.get(_REORDERING):
                    # The static order is poor for this tree: let CUDD sift from here on.
                    bdd.configure(reordering=True)
                    memo[_REORDERING] = True
            return memo[f.name]
        if f.name in tree.house_events:
            return bdd.true if tree.house_events[f.name] else bdd.false
        return bdd.var(f.name)
    if f.op == "constant":
        return bdd.true if f.value else bdd.false
    args = [_compile(a, tree, bdd, memo) for a in f.args]
    if f.op in ("null",):
        return args[0]
    if f.op == "not":
        return ~args[0]
    if f.op in ("and", "nand"):
        out = bdd.true
        for a in args:
            out = out & a
        return ~out if f.op == "nand" else out
    if f.op in ("or", "nor"):
        out = bdd.false
        for a in args:
            out = out | a
        return ~out if f.op == "nor" else out
    if f.op in ("xor", "iff"):
        out = bdd.false
        for a in args:
            out = bdd.apply("xor", out, a)
        return ~out if f.op == "iff" else out
    if f.op == "atleast":
        return _atleast(args, f.min, bdd)
    raise InputError(f"unsupported gate formula {f.op!r}")  # pragma: no cover - parser rejects it


def _atleast(args: list[Any], k: int, bdd: Any) -> Any:
    # table[j] = at least j of the arguments seen so far are true.
    table = [bdd.true] + [bdd.false] * k
    for a in args:
        for j in range(k, 0, -1):
            table[j] = table[j] | (a & table[j - 1])
    return table[k]


def _probability(bdd: Any, root: Any, p: dict[str, float]) -> float:
    # For each regular node: (P, Q) with Q = 1 - P, both as sums of positive terms.
    values: dict[int, tuple[float, float]] = {}
    one = bdd.true

    def regular(u: Any) -> Any:
        return ~u if u.negated else u

    def edge(u: Any) -> tuple[float, float]:
        node = regular(u)
        pq = (1.0, 0.0) if node == one else values[int(node)]
        return (pq[1], pq[0]) if u.negated else pq

    stack = [regular(root)]
    while stack:
        node = stack[-1]
        if node == one or int(node) in values:
            stack.pop()
            continue
        low, high = regular(node.low), regular(node.high)
        pending = [c for c in (low, high) if c != one and int(c) not in values]
        if pending:
            stack.extend(pending)
            continue
        stack.pop()
        prob = p[node.var]
        pl, ql = edge(node.low)
        ph, qh = edge(node.high)
        values[int(node)] = (prob * ph + (1 - prob) * pl, prob * qh + (1 - prob) * ql)
    return edge(root)[0]

"""Modules of a fault tree: gates whose sub-trees share nothing with the rest.

The BDD engine (``_bdd``) solves each module on its own, and the rewrites before it
(``_simplify``) make more of them; both find them here.
"""

from __future__ import annotations

from cofail.faulttree._mef import FaultTree

__all__ = ["find_modules"]


def find_modules(tree: FaultTree, top: str) -> tuple[list[str], set[str]]:
    """Return (gates under ``top`` in post-order, the gates that are modules).

    A module is a gate whose sub-tree shares no event or gate with the rest of the tree, so its
    probability can be computed alone and used as a basic event's (Dutuit & Rauzy, "A
    linear-time algorithm to find modules of fault trees", IEEE Trans. Reliab. 45(3), 1996).

    >>> from cofail.faulttree._mef import Formula
    >>> e = lambda n: Formula("event", name=n, kind="event")
    >>> t = FaultTree(gates={"top": Formula("and", (e("g1"), e("g2"))),
    ...     "g1": Formula("or", (e("a"), e("b"))), "g2": Formula("or", (e("b"), e("c")))},
    ...     basic_events={"a": 0.1, "b": 0.2, "c": 0.3})
    >>> find_modules(t, "top")  # b is shared: g1 and g2 are not modules
    (['g1', 'g2', 'top'], {'top'})

    Notes
    -----
    One depth-first traversal dates every visit of every node; a gate is a module when all its
    descendants are first visited after it is entered and last visited before it is left.
    O(gates + references).
    """
    first: dict[str, int] = {top: 1}
    last: dict[str, int] = {top: 1}
    leave: dict[str, int] = {}
    order: list[str] = []
    children = {top: tree.gates[top].references()}
    clock = 1
    stack: list[tuple[str, int]] = [(top, 0)]
    while stack:
        gate, index = stack[-1]
        kids = children[gate]
        clock += 1
        if index == len(kids):
            leave[gate] = clock
            order.append(gate)
            stack.pop()
            continue
        stack[-1] = (gate, index + 1)
        child = kids[index]
        if child in first:
            last[child] = clock
            continue
        first[child] = last[child] = clock
        if child in tree.gates:
            children[child] = tree.gates[child].references()
            stack.append((child, 0))
    low: dict[str, int] = {}
    high: dict[str, int] = {}
    modules: set[str] = set()
    for gate in order:  # children before parents
        lo, hi = leave[gate], first[gate]
        for child in children[gate]:
            lo = min(lo, first[child], low.get(child, lo))
            hi = max(hi, last[child], high.get(child, hi))
        low[gate], high[gate] = lo, hi
        if first[gate] < lo and hi < leave[gate]:
            modules.add(gate)
    return order, modules

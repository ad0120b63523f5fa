"""Importance factors of an MEF fault tree's basic events, as SCRAM defines them."""

from __future__ import annotations

from cofail.io.mef import FaultTree
from cofail.probability._bdd import CompiledTree
from cofail.probability._importance import Importance
from cofail.probability._simplify import simplify

__all__ = ["basic_event_importance"]


def basic_event_importance(
    tree: FaultTree, top: str, compiled: CompiledTree | None = None
) -> list[Importance]:
    """MIF, CIF, DIF, RAW and RRW of every basic event below ``top``, largest MIF first.

    Each factor needs P(top | e) and P(top | not e): the tree is compiled once (a BDD per
    module, kept) and re-read twice per event, so the cost is 2 × events × BDD size.
    ``compiled`` is that compilation when the caller has it already.

    Examples
    --------
    >>> from cofail.io.mef import Formula
    >>> a, b = (Formula("event", name=n, kind="basic-event") for n in "ab")
    >>> t = FaultTree(gates={"top": Formula("or", (a, b))}, basic_events={"a": 0.1, "b": 0.2})
    >>> [(i.event, round(i.mif, 12)) for i in basic_event_importance(t, "top")]
    [('b', 0.9), ('a', 0.8)]
    """
    if compiled is None:
        compiled = CompiledTree(simplify(tree, top), top)
    base = compiled.probability()
    factors = [
        Importance.from_swing(
            name,
            "basic event",
            tree.basic_events[name],
            base,
            compiled.probability({name: 1.0}),
            compiled.probability({name: 0.0}),
        )
        for name in compiled.basic_events()
    ]
    return sorted(factors, key=lambda f: (-f.mif, f.event))

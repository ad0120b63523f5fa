"""Minimal cut sets of a sequence, success branches as delete terms.

A path collects failure branches (formulas) and success branches (``<not>`` of a formula).
Its cut sets are the minimal cut sets of the AND of its failure branches, less those that
would also fail one of its success branches: a set of failed basic events (all others working)
that makes a success formula true contradicts that branch. SCRAM drops the success branches
and keeps such sets. A sequence's cut sets are its paths' together, kept minimal.
"""

from __future__ import annotations

from cofail.eventtree._paths import PathEnd
from cofail.faulttree._cut_sets import CutSetSummary, mef_cut_sets
from cofail.faulttree._mef import FaultTree, Formula

__all__ = ["sequence_cut_sets"]

_PATH = "\x1fpath failure branches"


def sequence_cut_sets(
    tree: FaultTree, sequence: str, paths: list[PathEnd], max_order: int
) -> CutSetSummary:
    """Return the minimal cut sets of ``sequence`` (reached by ``paths``) up to ``max_order``.

    >>> e = lambda n: Formula("event", name=n, kind="basic-event")
    >>> t = FaultTree(basic_events={"a": 0.1, "b": 0.1, "c": 0.1},
    ...               gates={"F": Formula("or", (e("a"), e("c"))), "G": Formula("or", (e("b"), e("c")))})
    >>> g = lambda n: Formula("event", name=n, kind="gate")
    >>> p = PathEnd("S", (Formula("not", (g("F"),)), g("G")), (), ())
    >>> sequence_cut_sets(t, "S", [p], 2).cut_sets  # {c} fails F too: deleted
    [('b',)]
    """
    found: set[tuple[str, ...]] = set()
    done: dict[tuple[Formula, ...], list[tuple[str, ...]]] = {}
    for p in paths:
        failures = tuple(f for f in p.formulas if f.op != "not")
        successes = [f.args[0] for f in p.formulas if f.op == "not"]
        if failures not in done:
            gate = Formula("and", failures) if failures else Formula("constant", value=True)
            scratch = FaultTree(
                gates={**tree.gates, _PATH: gate},
                basic_events=tree.basic_events,
                house_events=tree.house_events,
            )
            done[failures] = mef_cut_sets(scratch, _PATH, max_order).cut_sets
        for cut in done[failures]:
            failed = set(cut)
            if not any(_true(s, failed, tree) for s in successes):
                found.add(cut)
    minimal = [c for c in found if not any(set(o) < set(c) for o in found)]
    minimal.sort(key=lambda c: (len(c), c))
    counts: dict[int, int] = {}
    for c in minimal:
        counts[len(c)] = counts.get(len(c), 0) + 1
    return CutSetSummary(top=sequence, max_order=max_order, counts=counts, cut_sets=minimal)


def _true(formula: Formula, failed: set[str], tree: FaultTree) -> bool:
    """Whether ``formula`` holds when exactly the basic events ``failed`` have failed."""
    gates = [n for n in formula.references() if n in tree.gates]
    values: dict[str, bool] = {}
    for gate in tree.gates_below(*gates) if gates else []:  # children before parents
        values[gate] = _value(tree.gates[gate], failed, tree, values)
    return _value(formula, failed, tree, values)


def _value(f: Formula, failed: set[str], tree: FaultTree, gates: dict[str, bool]) -> bool:
    # Nested formulas are as deep as the reader allows; gates come from ``gates``.
    op = f.op
    if op == "event":
        if f.name in gates:
            return gates[f.name]
        if f.name in tree.house_events:
            return tree.house_events[f.name]
        return f.name in failed
    if op == "constant":
        return f.value
    args = [_value(a, failed, tree, gates) for a in f.args]
    if op in ("and", "nand"):
        return all(args) != (op == "nand")
    if op in ("or", "nor"):
        return any(args) != (op == "nor")
    if op == "not":
        return not args[0]
    if op == "null":
        return args[0]
    if op == "atleast":
        return sum(args) >= f.min
    if op in ("xor", "iff"):
        return (sum(args) % 2 == 1) != (op == "iff")
    raise ValueError(f"unknown formula {op!r}")  # pragma: no cover - the reader refuses it

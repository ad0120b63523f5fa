"""Each path's exact probability over the modules of every collected formula.

The collected formulas of all paths form one gate DAG under a root that joins them. Its
modules (gates whose basic events occur nowhere else in the DAG; Dutuit & Rauzy, as for fault
trees) are solved first, one at a time, by the fault-tree engine, after the same rewrites
(:func:`cofail.faulttree._simplify.simplify`); each becomes one BDD variable carrying its exact
(P, 1 - P). That is exact: a module's variables are independent of everything outside it.

What is left is compiled in one BDD manager and one variable order (the fault-tree engine's),
shared by every sequence of every initiating event. A path's probability, P(AND of its
formulas), is then read by the formula kernel without building the conjunction: the AND/OR
gates at the top of the collected formulas are expanded into the kernel's formula (a success
branch is a negated argument), and only the gates below them are BDDs. The trap this avoids:
the conjunction of ten large gates that share events can be millions of nodes (Aralia's
edf9203), where its probability needs none of them. A sequence whose paths are pairwise
disjoint (each pair parts at a fork: one collected ``f``, the other ``not f``) sums them; any
other sequence is the BDD of the OR of its paths, as before.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cofail.eventtree._paths import PathEnd
from cofail.faulttree._mef import FaultTree, Formula

if TYPE_CHECKING:
    from cofail.faulttree._bdd import Heuristic

__all__ = ["SequenceSolver", "disjoint"]

_ROOT = "\x1fevent-tree formulas"
"""A gate name no MEF identifier can take: every collected formula joined, for the modules."""
_FORMULA = "\x1fcollected formula {}"
_TRUE, _FALSE = "\x1ftrue", "\x1ffalse"
"""Kernel leaves for a formula's value fixed by the path."""
_PATH_MAX_LEAVES = 12
"""BDD leaves of a path's kernel formula: the gates at the top of its collected formulas are
expanded breadth first while their distinct arguments stay within this (the kernel's memo keeps
one entry per tuple of leaf nodes)."""


def disjoint(a: PathEnd, b: PathEnd) -> bool:
    """Whether two paths cannot both happen: one collected a formula the other negated.

    >>> g = Formula("event", name="G", kind="gate")
    >>> disjoint(PathEnd("s", (g,), (), ()), PathEnd("s", (Formula("not", (g,)),), (), ()))
    True
    """
    mine = set(a.formulas)
    return any(
        (f.op == "not" and f.args[0] in mine) or Formula("not", (f,)) in mine for f in b.formulas
    )


class SequenceSolver:
    """Modules of the collected formulas solved alone, the rest in one shared BDD manager."""

    def __init__(
        self,
        tree: FaultTree,
        paths: list[PathEnd],
        order: Heuristic,
        tick: Callable[[], None],
    ) -> None:
        from cofail.faulttree._bdd import _bdd_module, _ModuleSolver, _new_manager, _variable_order
        from cofail.faulttree._modules import find_modules
        from cofail.faulttree._simplify import simplify

        distinct = list(dict.fromkeys(f for p in paths for f in p.formulas))
        self.names = {f: _FORMULA.format(i) for i, f in enumerate(distinct)}
        refs = tuple(Formula("event", name=n, kind="gate") for n in self.names.values())
        # atleast n of n: an AND that the rewrites never splice a collected formula into.
        root = Formula("atleast", refs, min=len(refs))
        gates = {**tree.gates, **{n: f for f, n in self.names.items()}, _ROOT: root}
        self.full = FaultTree(
            gates=gates, basic_events=tree.basic_events, house_events=tree.house_events
        )
        self.work = work = simplify(self.full, _ROOT)
        post, modules = find_modules(work, _ROOT)
        modules.discard(_ROOT)
        module, self.engine = _bdd_module()
        bdd = _new_manager(module, self.engine, len(work.gates))
        self.bdd, self.tick = bdd, tick
        self.solver = solver = _ModuleSolver(work, bdd, modules, order)
        self.modules = len(modules)
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, 20_000))  # _compile follows gate chains recursively
        try:
            for gate in post:
                if gate in modules:
                    solver.solve(gate)
                    tick()
        finally:
            sys.setrecursionlimit(limit)
        names = _variable_order(work, _ROOT, modules, order)
        if order == "small":
            names = _by_model_tops(tree, work, names)
        for name in names:
            index = len(solver.probs)
            solver.var[name] = f"v{index}"
            bdd.add_var(f"v{index}", index=index)
            prob, comp = solver.values[name]
            solver.probs.append(prob)
            solver.comps.append(comp)
        # Never counted down to zero: every compiled gate stays in the memo for later paths.
        solver.uses = Counter()
        self.memo: dict[str, Any] = {}
        self.peak = max(solver.peak, len(bdd))  # the modules' largest moment, or now
        self.next_count = 0.0  # time.perf_counter() from which _count_nodes counts again
        self.copies: dict[tuple[str, tuple[tuple[str, bool], ...]], str | bool] = {}
        self.below: dict[str, frozenset[str]] = {}
        self.literal_names = frozenset(self._literal(f)[0] for f in distinct)

    def _target(self, name: str) -> str:
        """The gate, basic or house event of the rewritten tree that ``name`` passes through to
        (the rewrites bypass pass-through gates)."""
        gates, seen = self.full.gates, {name}
        while name not in self.work.gates and name in gates:
            f = gates[name]
            if f.op == "event":
                name = f.name
            elif f.op == "null" and f.args[0].op == "event":
                name = f.args[0].name
            else:  # pragma: no cover - the rewrites keep every other gate they reach
                raise AssertionError(f"{name!r} lost in the rewrites")
            if name in seen:  # pragma: no cover - the reader rejects cycles
                break
            seen.add(name)
        return name

    def _literal(self, f: Formula) -> tuple[str, bool]:
        """A collected formula as (name in the rewritten tree, negated)."""
        name, negated = self._target(self.names[f]), False
        gates = self.work.gates
        while name in gates and gates[name].op == "not" and gates[name].args[0].op == "event":
            name, negated = self._target(gates[name].args[0].name), not negated
        return name, negated

    def _literals(self, path: PathEnd) -> list[tuple[str, bool]] | None:
        """The path's formulas as (name, negated), each with the others' collected values
        substituted below it; None when that makes the path impossible.

        Within the AND, ``f AND (g = v)`` equals ``f[g := v] AND (g = v)`` for any gate ``g``
        below ``f``: a success branch under a failure branch's gate decides part of it, and the
        copies are smaller BDDs that share fewer events (Rauzy's decomposition, as in SCRAM).
        """
        literals = list(dict.fromkeys(self._literal(f) for f in path.formulas))
        value = {name: not negated for name, negated in literals}
        if len(value) < len(literals):  # a formula and its negation
            return None
        out = []
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, 20_000))
        try:
            for name, negated in literals:
                others = {n: v for n, v in value.items() if n != name}
                got = self._substituted(name, others)
                if isinstance(got, bool):
                    if got == negated:
                        return None
                    continue
                out.append((got, negated))
        finally:
            sys.setrecursionlimit(limit)
        return out

    def _substituted(self, name: str, values: dict[str, bool]) -> str | bool:
        """``name`` with the names in ``values`` at their values below it: its own name if
        none is below it, a copy of the gate (named so no MEF name clashes), or a constant."""
        if name in values:
            return values[name]
        gates = self.work.gates
        below = self._below(name) & values.keys()
        if not below or name in self.solver.modules:
            return name
        key = (name, tuple(sorted((n, values[n]) for n in below)))
        if key in self.copies:
            return self.copies[key]
        g = gates[name]
        args = [self._substituted(a.name, values) if a.op == "event" else a.value for a in g.args]
        folded = _fold(g, args)
        got: str | bool = folded if isinstance(folded, bool) else f"{name}\x1f{len(self.copies)}"
        if isinstance(folded, Formula):
            gates[str(got)] = folded
        self.copies[key] = got
        return got

    def _below(self, name: str) -> frozenset[str]:
        """The collected formulas' names at any depth below gate ``name``."""
        found = self.below.get(name)
        if found is None:
            g = self.work.gates.get(name)
            if g is None or name in self.solver.modules:
                found = frozenset()
            else:
                found = frozenset().union(
                    *(self._below(r) | ({r} & self.literal_names) for r in g.references())
                )
            self.below[name] = found
        return found

    def _node(self, name: str) -> Any:
        from cofail.faulttree._bdd import _compile

        if name in (_TRUE, _FALSE):
            return self.bdd.true if name == _TRUE else self.bdd.false
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, 20_000))
        try:
            node = _compile(Formula("event", name=name, kind="event"), self.solver, self.memo)
        finally:
            sys.setrecursionlimit(limit)
        self.tick()
        return node

    def conjunction(self, path: PathEnd) -> Any:
        """The BDD of the AND of ``path``'s formulas."""
        out = self.bdd.true
        literals = self._literals(path)
        if literals is None:
            return self.bdd.false
        for name, negated in literals:
            node = self._node(name)
            out = out & (~node if negated else node)
        return out

    def _count_nodes(self) -> None:
        """Raise :attr:`peak` to the live nodes now, counted only after new gates and only
        when :data:`~cofail.faulttree._bdd._SIZE_CHECK_SHARE` allows: a count walks CUDD's
        whole unique table."""
        from cofail.faulttree._bdd import _SIZE_CHECK_SHARE

        start = time.perf_counter()
        if start < self.next_count:
            return
        self.peak = max(self.peak, len(self.bdd))
        end = time.perf_counter()
        self.next_count = end + _SIZE_CHECK_SHARE * (end - start)

    def probability(self, root: Any) -> float:
        """P(``root``), a BDD of this manager."""
        self.peak = max(self.peak, len(self.bdd))
        return self.solver._probability(root)[0]

    def path_probability(self, path: PathEnd) -> float:
        """P(AND of ``path``'s formulas), by the formula kernel where it can read the BDDs."""
        from cofail.faulttree._bdd import _REORDERING

        if not path.formulas:
            return 1.0
        plan = None if self.memo.get(_REORDERING) else self._plan(path)
        if plan is not None:
            leaves, gates = plan
            compiled = len(self.memo)
            nodes = [self._node(name) for name in leaves]
            if len(self.memo) != compiled:
                self._count_nodes()
            answer = self.solver._formula_probability(nodes, gates, self.memo)
            if answer is not None:
                return answer[0][0]
        return self.probability(self.conjunction(path))

    def _plan(
        self, path: PathEnd
    ) -> tuple[list[str], list[tuple[str, list[tuple[int, bool]]]]] | None:
        """Leaves (names to compile) and gates (children first, the path's AND last) of the
        kernel formula for ``path``; None if it would not fit the kernel."""
        from cofail.faulttree._bdd import (
            _KERNEL_MAX_GATE_ARGS,
            _KERNEL_MAX_GATES,
            _KERNEL_MAX_LEAVES,
            _NEGATED,
            _READ_CUDD_MEMORY,
        )
        from cofail.faulttree._compiled import bdd_kernels as _kernels

        if _kernels is None or not _READ_CUDD_MEMORY:
            return None
        gates, modules = self.work.gates, self.solver.modules
        found = self._literals(path)
        if found is None:
            return [_FALSE], [("and", [(0, False)])]
        if not found:
            return [_TRUE], [("and", [(0, False)])]
        literals = found
        # Within the AND, a formula the path collects has its collected value wherever else it
        # occurs (f AND (x = v) is f[x := v] AND (x = v)): a success branch under a failure
        # branch's gate decides that gate without a BDD. A formula and its negation: P = 0.
        value = {name: not negated for name, negated in literals}
        if len(value) < len(literals):
            return [_FALSE], [("and", [(0, False)])]
        if len(literals) > _KERNEL_MAX_GATE_ARGS:
            return None

        def expandable(name: str) -> bool:
            g = gates.get(name)
            return (
                g is not None
                and name not in modules
                and g.op in ("and", "or", *_NEGATED)
                and len(g.args) <= _KERNEL_MAX_GATE_ARGS
                and all(a.op == "event" for a in g.args)
            )

        leaves = {name for name, _ in literals}
        expanded: set[str] = set()
        frontier = [name for name, _ in literals]
        while frontier:  # breadth first
            following: list[str] = []
            for name in frontier:
                if name in expanded or not expandable(name):
                    continue
                new = {a.name for a in gates[name].args} - leaves - expanded
                if len(leaves) - 1 + len(new) > _PATH_MAX_LEAVES:
                    continue
                expanded.add(name)
                leaves = (leaves - {name}) | new
                following.extend(a.name for a in gates[name].args)
            frontier = following
        leaf_list: list[str] = []
        leaf_index: dict[str, int] = {}
        body: list[tuple[str, list[tuple[int, bool]]]] = []
        gate_index: dict[str, int] = {}

        def argument(name: str, negated: bool, top: bool = False) -> tuple[int, bool]:
            if not top and name in value:
                name, negated = _TRUE, negated ^ (not value[name])
            elif name in expanded:
                if name not in gate_index:
                    g = gates[name]
                    args = [argument(a.name, False) for a in g.args]
                    gate_index[name] = len(body)
                    body.append(("and" if g.op in ("and", "nand") else "or", args))
                return -1 - gate_index[name], negated ^ (gates[name].op in _NEGATED)
            if name not in leaf_index:
                leaf_index[name] = len(leaf_list)
                leaf_list.append(name)
            return leaf_index[name], negated

        top = [argument(name, negated, top=True) for name, negated in literals]
        body.append(("and", top))
        n = len(leaf_list)
        if n > _KERNEL_MAX_LEAVES or len(body) > _KERNEL_MAX_GATES:
            return None
        fixed = [
            (op, [(n + (-1 - i) if i < 0 else i, neg) for i, neg in args]) for op, args in body
        ]
        return leaf_list, fixed


def _by_model_tops(tree: FaultTree, work: FaultTree, names: list[str]) -> list[str]:
    """``names`` (variables of ``work``: basic events and solved modules) reordered as the
    model's own top gates order them with ``small``: each by the earliest of its basic events
    in that order, ties and variables under no top as before.

    The joined root visits the collected formulas smallest first, which on Aralia's edf9202
    orders them far from how its top gate does (its top's BDD: 1,066 nodes with ``small``,
    none within 25 s for the sequences). Ordered as the top gates order them, the sequences of
    edf9202 (10 functional events, stack) take 0.33 s, edf9203 0.85 s (1.2 s before) and
    cea9601 8.7 s (past 25 s); ``size`` stays faster on cea9601 and das9601.
    """
    from cofail.faulttree._bdd import _variable_order
    from cofail.faulttree._simplify import simplify

    referenced = {r for f in tree.gates.values() for r in f.references()}
    rank: dict[str, int] = {}
    for top in (g for g in tree.gates if g not in referenced):
        for event in _variable_order(simplify(tree, top), top, set(), "small"):
            rank.setdefault(event, len(rank))
    first: dict[str, int] = {}

    def earliest(name: str) -> int:
        # Iterative: a module's gates can nest deeper than the recursion limit.
        if name in first:
            return first[name]
        pending, seen, best = [name], {name}, len(rank)
        while pending:
            n = pending.pop()
            if n in work.gates:
                for r in work.gates[n].references():
                    if r not in seen:
                        seen.add(r)
                        pending.append(r)
            else:
                best = min(best, rank.get(n, len(rank)))
        first[name] = best
        return best

    return sorted(names, key=earliest)


def _fold(g: Formula, args: list[str | bool]) -> Formula | bool:
    """Gate ``g`` over ``args`` (names or constants), folded to a constant where that decides
    an AND, OR, NAND, NOR, NOT or pass-through.

    >>> _fold(Formula("or", ()), ["a", True]), _fold(Formula("and", ()), ["a", True]).args
    (True, (Formula(op='event', args=(), name='a', kind='gate', min=0, value=False, scope=''),))
    """
    refs = tuple(Formula("event", name=a, kind="gate") for a in args if not isinstance(a, bool))
    if g.op in ("and", "or", "nand", "nor"):
        absorbing = g.op in ("or", "nor")
        flip = g.op in ("nand", "nor")
        if absorbing in args:
            return absorbing != flip
        return Formula(g.op, refs) if refs else (not absorbing) != flip
    if g.op in ("not", "null") and isinstance(args[0], bool):
        return args[0] != (g.op == "not")
    return Formula(
        g.op,
        tuple(
            Formula("constant", value=a) if isinstance(a, bool) else Formula("event", name=a)
            for a in args
        ),
        min=g.min,
    )

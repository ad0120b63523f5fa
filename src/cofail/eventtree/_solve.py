"""Each sequence's exact probability: one BDD over every formula the event trees collect.

A path's formula is the AND of what it collected, success branches' negations included; a
sequence's is the OR of its paths' (SCRAM's rule; for paths that differ in a fork, as they do
unless a branch bypasses the fork, the OR is their sum). All formulas share one BDD manager and
one variable order, so each collected gate is built once, and a path's conjunction is built from
its parent's, fork by fork. Sequences of an expression-only tree sum their paths' products of
collected expressions (SCRAM's rule too). No rare-event approximation anywhere.
"""

from __future__ import annotations

import math
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from cofail.errors import InputError
from cofail.eventtree._houses import HouseSettings
from cofail.eventtree._model import EventTreeModel
from cofail.eventtree._paths import PathEnd, walk
from cofail.eventtree._read import read_event_trees
from cofail.eventtree._sequence_bdd import disjoint
from cofail.faulttree._mef import FaultTree, Formula

if TYPE_CHECKING:  # the cut-set search loads on request
    from cofail.faulttree._bdd import Heuristic
    from cofail.faulttree._cut_sets import CutSetSummary

__all__ = [
    "EventTreeResult",
    "InitiatingEventResult",
    "SequenceResult",
    "solve_event_trees",
]

Kind = Literal["formula", "expression", "certain"]


@dataclass(frozen=True)
class SequenceResult:
    """One sequence reached from an initiating event."""

    name: str
    probability: float
    """Exact P(sequence | initiating event): the BDD of the OR of its paths' formulas, or the
    sum of its paths' products of expressions."""
    paths: int
    """Paths of the tree (linked trees included) that end in this sequence."""
    event_tree: str
    """The tree that defines the sequence."""
    kind: Kind
    """``formula``, ``expression``, or ``certain`` (its paths collected nothing: P = 1)."""
    cut_sets: CutSetSummary | None = None
    """Minimal cut sets of the sequence, success branches as delete terms (see
    :func:`cofail.eventtree._cut_sets.sequence_cut_sets`)."""

    def to_dict(self) -> dict[str, Any]:
        """Return plain data for JSON."""
        out: dict[str, Any] = {
            "name": self.name,
            "probability": self.probability,
            "paths": self.paths,
            "event_tree": self.event_tree,
            "kind": self.kind,
        }
        if self.cut_sets is not None:
            data = self.cut_sets.to_dict()
            del data["top"]
            out["cut_sets"] = data
        return out


@dataclass(frozen=True)
class InitiatingEventResult:
    """The sequences an initiating event's event tree ends in, in the order first reached."""

    name: str
    event_tree: str | None
    sequences: list[SequenceResult]
    paths: int

    @property
    def total(self) -> float:
        """Sum of the sequences' probabilities (1 when the branches of every fork are
        complementary and no path bypasses a fork)."""
        return sum(s.probability for s in self.sequences)

    def to_dict(self) -> dict[str, Any]:
        """Return plain data for JSON."""
        return {
            "name": self.name,
            "event_tree": self.event_tree,
            "paths": self.paths,
            "total": self.total,
            "sequences": [s.to_dict() for s in self.sequences],
        }


@dataclass(frozen=True)
class EventTreeResult:
    """What :func:`solve_event_trees` found for every initiating event of a model."""

    initiating_events: list[InitiatingEventResult]
    assumptions: list[str]
    engine: str
    bdd_nodes: int
    """Largest number of live BDD nodes (one manager for every initiating event)."""
    seconds: float = 0.0
    cut_set_order: int | None = None
    skipped: list[str] = field(default_factory=list)
    """Initiating events without an event tree, event trees no initiating event starts."""

    def to_dict(self) -> dict[str, Any]:
        """Return plain data for JSON (the event-tree part of ``cofail mef --format json``)."""
        return {
            "initiating_events": [ie.to_dict() for ie in self.initiating_events],
            "event_tree_engine": self.engine,
            "event_tree_bdd_nodes": self.bdd_nodes,
            "event_tree_assumptions": self.assumptions,
        }


FIRST_ORDERS: tuple[Heuristic, ...] = ("size", "small")
"""Variable orders a large model's sequences race from the start, one forked process each
(``small`` at a lower priority, :data:`cofail.faulttree._bdd.RACER_NICE`; on a machine of one
core it joins late): ``size``, and ``small``, depth-first with the smaller argument first (see
:func:`cofail.faulttree._bdd._variable_order`)."""
LATE_ORDERS: tuple[Heuristic, ...] = ("dfs",)
"""Orders that join the race when no answer has come within :data:`LATE_AFTER` seconds. Each
of the three is the fastest on some Aralia tree under 10 functional events (stack shape, one
order alone, under load): cea9601 3.4 s size, 6.7 s dfs, past 8 s small; edfpa14b 1.0, 1.7,
3.0 s; edfpa15b 0.48, 0.37, 0.45 s; edf9202 past 8 s, 1.4 s, 0.63 s; edf9203 past 8 s, past 8 s,
2.0 s. Racing all three from the start slowed the models ``size`` solves quickly on 2 shared
cores (edfpa14b 1.2-1.5 s raced against 0.42 s alone); two racers take a core each."""
LATE_AFTER = 0.5
"""Seconds the :data:`FIRST_ORDERS` run alone (most Aralia trees of 200+ gates answer within
it) before :data:`LATE_ORDERS` join."""
RACE_MIN_GATES = 200
"""Models with at least this many gates race variable orders for their sequences. A
race costs about 30 ms (forking, the answer pickled back), more than the whole solve of the
Aralia trees of 100-199 gates under 10 functional events with ``size`` (0.01-0.45 s; the
largest, edfpa14r, 0.26 s with ``size`` against 1.9 s with ``dfs``); from 200 gates an order can
be past 60 s where the other takes 0.6 s (edf9202)."""


SUCCESS_NOTE = (
    "a sequence's probability is exact: the BDD of the OR of its paths' collected formulas, "
    "success branches' negations included (no rare-event approximation); a sequence reached "
    "by several paths is their union, as in SCRAM, which is their sum for paths that part at a "
    "fork; an expression-only tree sums its paths' products of collected expressions"
)
CUT_SET_NOTE = (
    "sequence cut sets: each path's minimal cut sets of its failure branches (formulas not "
    "under <not>), those that would also fail one of the path's success branches deleted "
    "(delete terms); SCRAM instead drops success branches and keeps such sets, so its lists "
    "can be longer"
)


def solve_event_trees(
    tree: FaultTree,
    model: EventTreeModel | None = None,
    *,
    cut_sets: int | None = None,
    order: Heuristic | None = None,
    on_slow: Callable[[float], None] | None = None,
    time_limit: float | None = None,
) -> EventTreeResult:
    """Return every sequence's exact probability, for each initiating event of the model.

    Parameters
    ----------
    tree : the model as :func:`cofail.faulttree.read_mef` returns it (its event-tree parts
        are read here unless ``model`` is given).
    model : the event trees, if read already.
    cut_sets : also each sequence's minimal cut sets up to this order.
    order : the BDD variable-order heuristic (as for fault trees, or ``small``); None on a
        model of :data:`RACE_MIN_GATES` gates or more solves with :data:`FIRST_ORDERS` in
        forked processes (where the platform can fork), joined by :data:`LATE_ORDERS` after
        :data:`LATE_AFTER` seconds, one process each, and takes the first answer; else
        ``size``.
    on_slow : called once with the seconds elapsed if the solve runs past 20 s.
    time_limit : seconds the sequence solve may take; it then runs in forked processes (where
        the platform can fork), stopped at the limit.

    Raises
    ------
    InputError : a model without event trees, or one SCRAM's rules refuse (see
        :mod:`cofail.eventtree._read`), a tree mixing collected formulas and expressions, a
        solve past ``time_limit`` (one line naming the initiating events and their paths).

    Examples
    --------
    Two barriers sharing a cause ``c``; the attack is stopped by the first that holds:

    >>> import pathlib, tempfile
    >>> from cofail.faulttree import read_mef
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "et.xml"
    >>> be = lambda n, p: f'<define-basic-event name="{n}"><float value="{p}"/></define-basic-event>'
    >>> fork = lambda fe, ok, ko: (f'<fork functional-event="{fe}"><path state="holds">'
    ...     f'<collect-formula><not><gate name="{fe}"/></not></collect-formula>{ok}</path>'
    ...     f'<path state="fails"><collect-formula><gate name="{fe}"/></collect-formula>{ko}'
    ...     '</path></fork>')
    >>> _ = path.write_text(
    ...     '<opsa-mef><define-initiating-event name="attack" event-tree="T"/>'
    ...     '<define-event-tree name="T"><define-functional-event name="L1"/>'
    ...     '<define-functional-event name="L2"/><define-sequence name="stopped"/>'
    ...     '<define-sequence name="harm"/><initial-state>'
    ...     + fork("L1", '<sequence name="stopped"/>',
    ...            fork("L2", '<sequence name="stopped"/>', '<sequence name="harm"/>'))
    ...     + '</initial-state></define-event-tree><define-fault-tree name="F">'
    ...     '<define-gate name="L1"><or><basic-event name="c"/><basic-event name="a"/></or>'
    ...     '</define-gate><define-gate name="L2"><or><basic-event name="c"/>'
    ...     '<basic-event name="b"/></or></define-gate>'
    ...     + be("c", 0.1) + be("a", 0.2) + be("b", 0.3) + '</define-fault-tree></opsa-mef>')
    >>> r = solve_event_trees(read_mef([path]))
    >>> [(s.name, round(s.probability, 6)) for s in r.initiating_events[0].sequences]
    [('stopped', 0.846), ('harm', 0.154)]

    P(harm) = P(c) + P(not c) P(a) P(b) = 0.1 + 0.9 * 0.2 * 0.3 = 0.154, where independent
    barriers would give 0.28 * 0.37 = 0.1036.

    Notes
    -----
    The walk enumerates paths (at most :data:`~cofail.eventtree._paths.MAX_PATHS`). The
    collected formulas' modules are solved alone, the rest shares one BDD manager, and each
    path's probability is read by the formula kernel over the BDDs of the gates below its
    collected formulas' tops (:mod:`cofail.eventtree._sequence_bdd`). No static variable
    order is best on every model (Aralia's edf9202 under 10 functional events: ``dfs`` 0.6 s,
    ``size`` past 60 s; cea9601: ``size`` 3.6 s, ``dfs`` 7.4 s), so a large model races
    them, as fault-tree tops do, ``dfs`` joining ``size`` and ``small`` only if they are
    slow.
    """
    from cofail.faulttree._bdd import ORDERS, SolveTimeoutError, _can_fork

    parts = tree.event_tree_parts
    if model is None:
        if parts is None:
            raise InputError(f"{', '.join(tree.sources) or 'the model'}: no event trees")
        model = read_event_trees(parts, tree)
    orders: tuple[Heuristic, ...] = ()
    later: tuple[Heuristic, ...] = ()
    if order is None and len(tree.gates) >= RACE_MIN_GATES and _can_fork():
        two = (os.cpu_count() or 1) >= 2
        orders = FIRST_ORDERS if two else FIRST_ORDERS[:1]
        later = LATE_ORDERS if two else (*FIRST_ORDERS[1:], *LATE_ORDERS)
    elif time_limit is not None and _can_fork():
        orders = (order or ORDERS[0],)
    if orders:
        from cofail.faulttree._bdd import _race

        read = model
        # The cut sets do not depend on the order: searched here after a race of orders rather
        # than once in every racer (edfpa14b --cut-sets 2: 21 s alone, 62 s in both racers),
        # unless the time limit is to bound them too.
        after = cut_sets if time_limit is None and len(orders) + len(later) > 1 else None
        racers = None if after is not None else cut_sets
        try:
            result: EventTreeResult = _race(
                tree,
                "event trees",
                lambda t, _, o: solve_event_trees(t, read, cut_sets=racers, order=o),
                orders,
                time_limit,
                on_slow,
                later=later,
                later_after=LATE_AFTER,
            )
        except SolveTimeoutError:
            assert time_limit is not None
            raise InputError(_too_slow(tree, model, time_limit)) from None
        return result if after is None else _with_cut_sets(result, tree, model, after)
    order = order or ORDERS[0]
    assert parts is not None
    start = time.monotonic()
    houses = HouseSettings(tree)
    walked: list[tuple[Any, list[PathEnd]]] = []
    skipped: list[str] = []
    for ie in model.initiating_events:
        if ie.event_tree is None:
            skipped.append(f"initiating event {ie.name!r} names no event tree: not analysed")
            continue
        paths = list(walk(model, ie, houses, parts.expressions))
        formulas = any(p.formulas for p in paths)
        if formulas and any(p.expressions for p in paths):
            raise InputError(
                f"initiating event {ie.name!r}: its event trees mix collect-formula and "
                "collect-expression (SCRAM refuses the mix too); collect a basic event with the "
                "expression's probability instead",
                source=ie.source,
            )
        walked.append((ie, paths))
    started = {ie.event_tree for ie in model.initiating_events}
    skipped += [
        f"event tree {name!r} is not the tree of any initiating event: not analysed (as SCRAM)"
        for name in model.event_trees
        if name not in started
    ]
    engine = _SequenceBdd(tree, houses, [p for _, paths in walked for p in paths], order, on_slow)
    results = []
    for ie, paths in walked:
        sequences = engine.sequences(paths, model, cut_sets)
        results.append(InitiatingEventResult(ie.name, ie.event_tree, sequences, len(paths)))
    assumptions = [SUCCESS_NOTE]
    if cut_sets is not None:
        assumptions.append(CUT_SET_NOTE)
    return EventTreeResult(
        initiating_events=results,
        assumptions=assumptions + skipped,
        engine=(
            f"exact: {engine.modules} modules of the collected formulas solved alone, the rest in "
            f"one BDD manager ({engine.name}), {order} order; each path read by the formula "
            "kernel, disjoint paths summed"
        ),
        bdd_nodes=engine.peak,
        seconds=time.monotonic() - start,
        cut_set_order=cut_sets,
        skipped=skipped,
    )


def _with_cut_sets(
    result: EventTreeResult, tree: FaultTree, model: EventTreeModel, order: int
) -> EventTreeResult:
    """``result`` with each sequence's minimal cut sets up to ``order`` (the paths walked again,
    as :func:`solve_event_trees` walks them)."""
    import dataclasses

    from cofail.eventtree._cut_sets import sequence_cut_sets

    parts = tree.event_tree_parts
    assert parts is not None
    houses = HouseSettings(tree)
    full = FaultTree(
        gates={**tree.gates, **houses.gates},
        basic_events=tree.basic_events,
        house_events=tree.house_events,
    )
    by_name = {ie.name: ie for ie in model.initiating_events}
    events = []
    for solved in result.initiating_events:
        paths = list(walk(model, by_name[solved.name], houses, parts.expressions))
        sequences = [
            dataclasses.replace(
                s,
                cut_sets=sequence_cut_sets(
                    full, s.name, [p for p in paths if p.sequence == s.name], order
                ),
            )
            for s in solved.sequences
        ]
        events.append(dataclasses.replace(solved, sequences=sequences))
    return dataclasses.replace(
        result,
        initiating_events=events,
        assumptions=[*result.assumptions[:1], CUT_SET_NOTE, *result.assumptions[1:]],
        cut_set_order=order,
    )


def _too_slow(tree: FaultTree, model: EventTreeModel | None, seconds: float) -> str:
    """The one line for a sequence solve stopped at ``seconds``."""
    if model is None and tree.event_tree_parts is not None:
        model = read_event_trees(tree.event_tree_parts, tree)
    names = [ie.name for ie in model.initiating_events] if model is not None else []
    shown = ", ".join(repr(n) for n in names[:3]) + (", ..." if len(names) > 3 else "")
    return (
        f"the event-tree sequences of initiating event{'s' if len(names) != 1 else ''} {shown} "
        f"did not finish within the time limit of {seconds:g} s (the exact solve of every "
        "path's collected formulas); rerun with a larger --time-limit"
    )


class _SequenceBdd:
    """Every sequence's probability from one :class:`SequenceSolver` over the model's paths."""

    def __init__(
        self,
        tree: FaultTree,
        houses: HouseSettings,
        paths: list[PathEnd],
        order: Heuristic,
        on_slow: Callable[[float], None] | None,
    ) -> None:
        from cofail.eventtree._sequence_bdd import SequenceSolver

        self.tree = FaultTree(
            gates={**tree.gates, **houses.gates},
            basic_events=tree.basic_events,
            house_events=tree.house_events,
        )
        self.on_slow, self.started = on_slow, time.monotonic()
        self.formulas = any(p.formulas for p in paths)
        self.solver = SequenceSolver(self.tree, paths, order, self._tick) if self.formulas else None
        self.name = self.solver.engine if self.solver is not None else "none"
        self.modules = self.solver.modules if self.solver is not None else 0
        self.done: dict[tuple[Formula, ...], float] = {}

    @property
    def peak(self) -> int:
        """Largest number of live BDD nodes seen (the paths' counts are spaced out in time:
        counted once more here)."""
        if self.solver is None:
            return 0
        return max(self.solver.peak, len(self.solver.bdd))

    def _tick(self) -> None:
        if self.on_slow is not None and time.monotonic() - self.started > 20.0:
            self.on_slow(20.0)
            self.on_slow = None

    def _sequence_probability(self, mine: list[PathEnd]) -> float:
        solver = self.solver
        assert solver is not None
        if all(disjoint(a, b) for i, a in enumerate(mine) for b in mine[:i]):
            total = 0.0
            for p in mine:
                if p.formulas not in self.done:
                    self.done[p.formulas] = solver.path_probability(p)
                total += self.done[p.formulas]
            return total
        union = solver.bdd.false
        for p in mine:
            union = union | solver.conjunction(p)
        return solver.probability(union)

    def sequences(
        self, paths: list[PathEnd], model: EventTreeModel, cut_sets: int | None
    ) -> list[SequenceResult]:
        counts: Counter[str] = Counter(p.sequence for p in paths)
        formulas = any(p.formulas for p in paths)
        out = []
        for name in counts:
            mine = [p for p in paths if p.sequence == name]
            kind: Kind
            if formulas:
                probability, kind = self._sequence_probability(mine), "formula"
            elif any(p.expressions for p in mine):
                probability, kind = sum(math.prod(p.expressions) for p in mine), "expression"
            else:  # nothing collected: the empty conjunction, true
                probability, kind = 1.0, "certain"
            summary = None
            if cut_sets is not None:
                from cofail.eventtree._cut_sets import sequence_cut_sets

                summary = sequence_cut_sets(self.tree, name, mine, cut_sets)
            out.append(
                SequenceResult(
                    name=name,
                    probability=probability,
                    paths=counts[name],
                    event_tree=model.sequences[name].event_tree,
                    kind=kind,
                    cut_sets=summary,
                )
            )
        return out

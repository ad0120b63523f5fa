"""Walk an initiating event's event tree: every path from the initial state to a sequence,
with the formulas and expressions collected on it, in SCRAM's order of instructions.

Instructions apply in order along the path: ``set-house-event`` changes the house events of
the formulas collected after it, ``if`` reads the path's functional-event states
(``test-functional-event``) and the initiating event (``test-initiating-event``), and a
sequence that links a further tree goes on in that tree's initial state with the same
collection (its functional events start afresh, as in SCRAM). The walk is iterative: chains of
named branches, rules and linked trees can be any length; a cycle of linked trees and more
than :data:`MAX_PATHS` paths are refused.
"""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, replace

from cofail.errors import InputError
from cofail.eventtree._houses import HouseSettings
from cofail.eventtree._model import (
    Block,
    Branch,
    BranchRef,
    CollectExpression,
    CollectFormula,
    EventTreeModel,
    Fork,
    IfThenElse,
    InitiatingEvent,
    Instruction,
    Link,
    RuleRef,
    SequenceRef,
    SetHouseEvent,
)
from cofail.faulttree._mef import Formula
from cofail.faulttree._mef_expr import Expressions

__all__ = ["MAX_PATHS", "PathEnd", "count_paths", "walk"]

MAX_PATHS = 1 << 20
"""Paths walked for one initiating event at most: each is a product of up to one formula per
functional event, and SCRAM enumerates them the same way."""


@dataclass(frozen=True)
class PathEnd:
    """One path of the tree: the sequence it ends in and what it collected."""

    sequence: str
    formulas: tuple[Formula, ...]
    """The collected formulas, house events applied, in path order."""
    expressions: tuple[float, ...]
    """The collected expressions' values."""
    states: tuple[tuple[str, str], ...]
    """(functional event, state) along the path, linked trees' included."""


@dataclass(frozen=True)
class _Collected:
    formulas: tuple[Formula, ...] = ()
    expressions: tuple[float, ...] = ()
    houses: tuple[tuple[str, bool], ...] = ()
    states: tuple[tuple[str, str], ...] = ()
    """Functional events forked in the current tree (test-functional-event reads them)."""
    history: tuple[tuple[str, str], ...] = ()
    """Every fork's state on the path, in order, across linked trees."""
    trees: tuple[str, ...] = ()
    """The current tree and the trees that linked to it, for the cycle check."""


def walk(
    model: EventTreeModel,
    initiating: InitiatingEvent,
    houses: HouseSettings,
    expressions: Expressions,
) -> Iterator[PathEnd]:
    """Yield every path of ``initiating``'s event tree, depth first, paths in written order.

    >>> import xml.etree.ElementTree as ET
    >>> from cofail.faulttree._mef import EventTreeParts, FaultTree
    >>> from cofail.eventtree._read import read_event_trees
    >>> et = ET.fromstring('<define-event-tree name="T"><define-functional-event name="F"/>'
    ...     '<define-sequence name="S"/><initial-state><fork functional-event="F">'
    ...     '<path state="ok"><collect-expression><float value="0.9"/></collect-expression>'
    ...     '<sequence name="S"/></path><path state="ko"><sequence name="S"/></path></fork>'
    ...     '</initial-state></define-event-tree>')
    >>> ie = ET.fromstring('<define-initiating-event name="I" event-tree="T"/>')
    >>> parts = EventTreeParts([(ie, "m.xml"), (et, "m.xml")])
    >>> m = read_event_trees(parts, FaultTree())
    >>> [(p.sequence, p.expressions) for p in walk(m, m.initiating_events[0],
    ...     HouseSettings(FaultTree()), parts.expressions)]
    [('S', (0.9,)), ('S', ())]
    """
    assert initiating.event_tree is not None
    start = model.event_trees[initiating.event_tree]
    if count_paths(model, start.name, initiating) > MAX_PATHS:
        raise InputError(
            f"initiating event {initiating.name!r}: more than {MAX_PATHS:,} paths through its "
            "event trees; cofail walks at most that many",
            source=initiating.source,
        )
    stack: list[tuple[Branch, _Collected]] = [
        (start.initial_state, _Collected(trees=(start.name,)))
    ]
    walker = _Walker(model, initiating, houses, expressions)
    count = 0
    while stack:
        branch, got = stack.pop()
        got = walker.apply(branch.instructions, got)
        target = branch.target
        tree = model.event_trees[got.trees[0]]
        if isinstance(target, BranchRef):
            stack.append((tree.branches[target.name], got))
        elif isinstance(target, Fork):
            event = target.functional_event
            # Order and repetition were checked fork by fork on reading.
            for path in reversed(target.paths):
                state = ((event, path.state),)
                stack.append(
                    (
                        path.branch,
                        _replace(got, states=got.states + state, history=got.history + state),
                    )
                )
        else:
            assert isinstance(target, SequenceRef)
            sequence = model.sequences[target.name]
            got, link = walker.apply_sequence(sequence.instructions, got)
            if link is None:
                count += 1
                if count > MAX_PATHS:
                    raise InputError(
                        f"initiating event {initiating.name!r}: more than {MAX_PATHS:,} paths "
                        "through its event trees; cofail walks at most that many",
                        source=initiating.source,
                    )
                yield PathEnd(target.name, got.formulas, got.expressions, got.history)
                continue
            if link in got.trees:
                chain = " -> ".join([*reversed(got.trees[: got.trees.index(link) + 1]), link])
                raise InputError(
                    f"initiating event {initiating.name!r}: event trees link in a cycle: {chain}",
                    source=initiating.source,
                )
            linked = model.event_trees[link]
            stack.append((linked.initial_state, _replace(got, states=(), trees=(link, *got.trees))))


def count_paths(model: EventTreeModel, tree: str, initiating: InitiatingEvent) -> int:
    """Paths from ``tree``'s initial state to a sequence, linked trees followed (an upper
    bound where an ``if`` decides a link), capped at ``MAX_PATHS + 1``; a cycle of linked
    trees is refused here, before any path is walked.

    Counted bottom up without recursion: chains of named branches and links can be long.
    """
    start = model.event_trees[tree]
    counts: dict[int, int] = {}
    # Nodes are (branch, its tree); a node is done when its children are.
    stack: list[tuple[Branch, str, bool]] = [(start.initial_state, tree, False)]
    on_stack: dict[int, str] = {}
    while stack:
        branch, name, expanded = stack.pop()
        key = id(branch)
        if key in counts:
            continue
        kids = _children(model, branch, name)
        if expanded:
            counts[key] = min(MAX_PATHS + 1, sum(counts[id(b)] for b, _ in kids) if kids else 1)
            on_stack.pop(key, None)
            continue
        if key in on_stack:
            raise InputError(
                f"initiating event {initiating.name!r}: event trees link in a cycle through "
                f"{name!r}",
                source=initiating.source,
            )
        on_stack[key] = name
        stack.append((branch, name, True))
        for b, t in kids:
            if id(b) in on_stack:
                raise InputError(
                    f"initiating event {initiating.name!r}: event trees link in a cycle: "
                    f"{name} -> {t}",
                    source=initiating.source,
                )
            if id(b) not in counts:
                stack.append((b, t, False))
    return counts[id(start.initial_state)]


def _children(model: EventTreeModel, branch: Branch, tree: str) -> list[tuple[Branch, str]]:
    """The branches ``branch`` goes on in: its fork's paths, its named branch, or the initial
    states of the trees its sequence links (none: it ends there)."""
    target = branch.target
    if isinstance(target, Fork):
        return [(p.branch, tree) for p in target.paths]
    if isinstance(target, BranchRef):
        return [(model.event_trees[tree].branches[target.name], tree)]
    links = [i.event_tree for i in _instructions(model, model.sequences[target.name].instructions)]
    return [(model.event_trees[t].initial_state, t) for t in dict.fromkeys(links)]


def _instructions(model: EventTreeModel, body: tuple[Instruction, ...]) -> Iterator[Link]:
    """The links among ``body``'s instructions, through blocks, ifs and rules."""
    pending, seen = list(body), set()
    while pending:
        i = pending.pop()
        if isinstance(i, Link):
            yield i
        elif isinstance(i, Block):
            pending.extend(i.instructions)
        elif isinstance(i, IfThenElse):
            pending.extend(x for x in (i.then, i.otherwise) if x is not None)
        elif isinstance(i, RuleRef) and i.name not in seen:
            seen.add(i.name)
            pending.extend(model.rules[i.name])


def _replace(got: _Collected, **changes: object) -> _Collected:
    return replace(got, **changes)  # type: ignore[arg-type]


@dataclass
class _Walker:
    model: EventTreeModel
    initiating: InitiatingEvent
    houses: HouseSettings
    expressions: Expressions

    def apply(self, body: tuple[Instruction, ...], got: _Collected) -> _Collected:
        """``got`` after the instructions of a branch (links were refused there on reading)."""
        return self.apply_sequence(body, got)[0]

    def apply_sequence(
        self, body: tuple[Instruction, ...], got: _Collected
    ) -> tuple[_Collected, str | None]:
        """``got`` after ``body``, and the event tree a link goes on in (None: no link). What
        follows a link has no effect (SCRAM continues the path at the link)."""
        pending: list[Instruction] = list(reversed(body))
        tree = got.trees[0]
        while pending:
            i = pending.pop()
            if isinstance(i, CollectFormula):
                f = self.houses.apply(i.formula, got.houses)
                got = _replace(got, formulas=(*got.formulas, f))
            elif isinstance(i, CollectExpression):
                value = self._value(i.expression, got, i.source, f"collect-expression in {tree!r}")
                if not 0.0 <= value <= 1.0:
                    raise InputError(
                        f"event tree {tree!r}: collect-expression gives {value:g}, not a "
                        "probability in [0, 1] (frequencies are not supported)",
                        source=i.source,
                    )
                got = _replace(got, expressions=(*got.expressions, value))
            elif isinstance(i, SetHouseEvent):
                kept = tuple((h, s) for h, s in got.houses if h != i.name)
                got = _replace(got, houses=(*kept, (i.name, i.state)))
            elif isinstance(i, IfThenElse):
                if self._value(i.condition, got, i.source, f"<if> in event tree {tree!r}"):
                    pending.append(i.then)
                elif i.otherwise is not None:
                    pending.append(i.otherwise)
            elif isinstance(i, Block):
                pending.extend(reversed(i.instructions))
            elif isinstance(i, RuleRef):
                pending.extend(reversed(self.model.rules[i.name]))
            else:
                assert isinstance(i, Link)
                return got, i.event_tree
        return got, None

    def _value(self, node: ET.Element, got: _Collected, source: str, what: str) -> float:
        """The expression's value on this path: functional-event and initiating-event tests
        are read from the path, the rest as any MEF expression."""
        tests = (".//test-functional-event", ".//test-initiating-event")
        if node.tag.startswith("test-") or any(node.find(t) is not None for t in tests):
            node = self._tests_resolved(node, got)
        return self.expressions.value(node, source, what)

    def _tests_resolved(self, node: ET.Element, got: _Collected) -> ET.Element:
        states = dict(got.states)
        wrapper = ET.Element("wrapper")
        wrapper.append(copy.deepcopy(node))
        for parent in wrapper.iter():
            for k, child in enumerate(list(parent)):
                if child.tag == "test-functional-event":
                    truth = states.get(child.get("name", "")) == child.get("state")
                elif child.tag == "test-initiating-event":
                    truth = child.get("name") == self.initiating.name
                else:
                    continue
                parent[k] = ET.Element("bool", value="true" if truth else "false")
        return wrapper[0]

"""Read the event-tree elements :func:`cofail.faulttree.read_mef` hands over into an
:class:`EventTreeModel`, and check it the way SCRAM 0.16.2 does before any path is walked.

Checked here: every name a tree uses is defined (functional events in the tree's own list,
sequences, named branches, rules, linked trees, gates and events of collected formulas, house
events set), fork states are unique, and along every path the functional events are forked in
their declared order, each at most once (SCRAM's rule; checked fork by fork, so the cost is
linear in the tree, not in its paths). Named branches and rules that refer to themselves in a
circle are refused. Cycles through linked trees are found on the walk
(:mod:`cofail.eventtree._paths`).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator

from cofail.errors import InputError
from cofail.eventtree._model import (
    Block,
    Branch,
    BranchRef,
    CollectExpression,
    CollectFormula,
    EventTree,
    EventTreeModel,
    Fork,
    IfThenElse,
    InitiatingEvent,
    Instruction,
    Link,
    Path,
    RuleRef,
    Sequence,
    SequenceRef,
    SetHouseEvent,
    Target,
)
from cofail.faulttree._mef import EventTreeParts, FaultTree, Formula, _boolean, _formula
from cofail.faulttree._mef_expr import children

__all__ = ["read_event_trees"]

_TARGETS = ("fork", "sequence", "branch")


def read_event_trees(parts: EventTreeParts, tree: FaultTree) -> EventTreeModel:
    """Return the event-tree model of ``parts``, checked against the fault tree ``tree``.

    >>> import xml.etree.ElementTree as ET
    >>> from cofail.faulttree._mef import EventTreeParts, FaultTree
    >>> et = ET.fromstring('<define-event-tree name="T"><define-functional-event name="F"/>'
    ...     '<define-sequence name="S"/><initial-state><fork functional-event="F">'
    ...     '<path state="ok"><sequence name="S"/></path></fork></initial-state>'
    ...     '</define-event-tree>')
    >>> ie = ET.fromstring('<define-initiating-event name="I" event-tree="T"/>')
    >>> m = read_event_trees(EventTreeParts([(ie, "m.xml"), (et, "m.xml")]), FaultTree())
    >>> m.event_trees["T"].functional_events, list(m.sequences)
    (('F',), ['S'])
    """
    model = EventTreeModel()
    for node, source in parts.elements:
        name = node.get("name", "")
        if node.tag == "define-initiating-event":
            _initiating_event(node, source, model)
        elif node.tag == "define-rule":
            if name in model.rules:
                raise InputError(f"rule {name!r} is defined twice", source=source)
            body = tuple(_instruction(c, source, f"rule {name!r}") for c in children(node))
            if not body:
                raise InputError(f"rule {name!r} has no instructions", source=source)
            model.rules[name] = body
            model.rule_sources[name] = source
        else:
            _event_tree(node, source, model)
    _check(model, tree)
    return model


def _initiating_event(node: ET.Element, source: str, model: EventTreeModel) -> None:
    name = node.get("name", "")
    if any(ie.name == name for ie in model.initiating_events):
        raise InputError(f"initiating event {name!r} is defined twice", source=source)
    if children(node):
        raise InputError(
            f"initiating event {name!r}: a frequency or other expression on an initiating "
            f"event (<{children(node)[0].tag}>) is not supported (SCRAM 0.16.2 refuses it too); "
            "sequence values are probabilities given the initiating event",
            source=source,
        )
    model.initiating_events.append(InitiatingEvent(name, node.get("event-tree"), source))


def _event_tree(node: ET.Element, source: str, model: EventTreeModel) -> None:
    name = node.get("name", "")
    where = f"event tree {name!r}"
    if name in model.event_trees:
        raise InputError(f"{where} is defined twice", source=source)
    functional: list[str] = []
    branches: dict[str, Branch] = {}
    initial: Branch | None = None
    for child in children(node):
        tag, child_name = child.tag, child.get("name", "")
        if tag == "define-functional-event":
            if child_name in functional:
                raise InputError(
                    f"{where}: functional event {child_name!r} is defined twice", source=source
                )
            functional.append(child_name)
        elif tag == "define-sequence":
            if child_name in model.sequences:
                raise InputError(
                    f"sequence {child_name!r} is defined twice (sequence names are global)",
                    source=source,
                )
            body = tuple(
                _instruction(c, source, f"sequence {child_name!r}") for c in children(child)
            )
            model.sequences[child_name] = Sequence(child_name, name, body)
        elif tag == "define-branch":
            if child_name in branches:
                raise InputError(f"{where}: branch {child_name!r} is defined twice", source=source)
            branches[child_name] = _branch(child, source, f"{where}, branch {child_name!r}")
        elif tag == "initial-state":
            if initial is not None:
                raise InputError(f"{where} has two <initial-state>", source=source)
            initial = _branch(child, source, f"{where}, initial state")
        else:
            raise InputError(f"{where}: unsupported element <{tag}>", source=source)
    if initial is None:
        raise InputError(f"{where} has no <initial-state>", source=source)
    model.event_trees[name] = EventTree(name, tuple(functional), branches, initial, source)


def _branch(node: ET.Element, source: str, where: str) -> Branch:
    """A branch: zero or more instructions, then exactly one fork, sequence or branch."""
    parts = children(node)
    if not parts or parts[-1].tag not in _TARGETS:
        raise InputError(
            f"{where}: a branch must end in a <fork>, <sequence> or <branch>", source=source
        )
    *instructions, last = parts
    target: Target
    if last.tag == "fork":
        target = _fork(last, source, where)
    elif last.tag == "sequence":
        target = SequenceRef(last.get("name", ""))
    else:
        target = BranchRef(last.get("name", ""))
    return Branch(tuple(_instruction(i, source, where) for i in instructions), target)


def _fork(node: ET.Element, source: str, where: str) -> Fork:
    event = node.get("functional-event", "")
    paths: list[Path] = []
    for child in children(node):
        if child.tag != "path":
            raise InputError(
                f"{where}: fork on {event!r} holds <{child.tag}>; expected <path>", source=source
            )
        state = child.get("state", "")
        if any(p.state == state for p in paths):
            raise InputError(
                f"{where}: fork on {event!r} has two paths of state {state!r}", source=source
            )
        paths.append(Path(state, _branch(child, source, f"{where}, {event}={state}")))
    if not paths:
        raise InputError(f"{where}: fork on {event!r} has no <path>", source=source)
    return Fork(event, tuple(paths))


def _instruction(node: ET.Element, source: str, where: str) -> Instruction:
    tag, args = node.tag, children(node)
    if tag == "collect-formula":
        if len(args) != 1:
            raise InputError(f"{where}: <collect-formula> needs one formula", source=source)
        return CollectFormula(_formula(args[0], source, f"collect-formula in {where}"))
    if tag == "collect-expression":
        if len(args) != 1:
            raise InputError(f"{where}: <collect-expression> needs one expression", source=source)
        return CollectExpression(args[0], source)
    if tag == "set-house-event":
        if len(args) != 1 or args[0].tag != "constant":
            raise InputError(
                f"{where}: <set-house-event> needs one <constant value=true|false>", source=source
            )
        name = node.get("name", "")
        return SetHouseEvent(name, _boolean(args[0], source, f"{where}: set-house-event {name!r}"))
    if tag == "if":
        if len(args) not in (2, 3):
            raise InputError(
                f"{where}: <if> takes an expression and one or two instructions", source=source
            )
        then = _instruction(args[1], source, where)
        otherwise = _instruction(args[2], source, where) if len(args) == 3 else None
        return IfThenElse(args[0], then, otherwise, source)
    if tag == "block":
        return Block(tuple(_instruction(a, source, where) for a in args))
    if tag == "rule":
        return RuleRef(node.get("name", ""))
    if tag == "event-tree":
        return Link(node.get("name", ""))
    raise InputError(f"{where}: unsupported instruction <{tag}>", source=source)


def _check(model: EventTreeModel, tree: FaultTree) -> None:
    """Refuse undefined names, forks out of order or repeated, and circular branches or rules."""
    for ie in model.initiating_events:
        if ie.event_tree is not None and ie.event_tree not in model.event_trees:
            raise InputError(
                f"initiating event {ie.name!r}: event tree {ie.event_tree!r} is not defined",
                source=ie.source,
            )
    _check_rule_cycles(model)
    for name, body in model.rules.items():
        _check_instructions(body, model, tree, f"rule {name!r}", "", links=True)
    for seq in model.sequences.values():
        et = model.event_trees[seq.event_tree]
        _check_instructions(seq.instructions, model, tree, f"sequence {seq.name!r}", et.source)
    for et in model.event_trees.values():
        where = f"event tree {et.name!r}"
        order = {fe: i for i, fe in enumerate(et.functional_events)}
        for label, branch in [("initial state", et.initial_state), *et.branches.items()]:
            for b in _branches_in(branch):
                _check_instructions(
                    b.instructions, model, tree, f"{where}, {label}", et.source, links=False
                )
                target = b.target
                if isinstance(target, SequenceRef) and target.name not in model.sequences:
                    raise InputError(
                        f"{where}: sequence {target.name!r} is not defined", source=et.source
                    )
                if isinstance(target, BranchRef) and target.name not in et.branches:
                    raise InputError(
                        f"{where}: branch {target.name!r} is not defined in this tree",
                        source=et.source,
                    )
                if isinstance(target, Fork):
                    _check_fork(target, et, order, where)
                elif isinstance(target, BranchRef):
                    _next_fork(b, et, where)  # refuses named branches in a circle


def _branches_in(branch: Branch) -> Iterator[Branch]:
    """``branch`` and every branch inside its forks (not through named branches)."""
    stack = [branch]
    while stack:
        b = stack.pop()
        yield b
        if isinstance(b.target, Fork):
            stack.extend(p.branch for p in reversed(b.target.paths))


def _check_fork(fork: Fork, et: EventTree, order: dict[str, int], where: str) -> None:
    if fork.functional_event not in order:
        declared = ", ".join(et.functional_events) or "none"
        raise InputError(
            f"{where}: fork on functional event {fork.functional_event!r}, which the tree does "
            f"not declare (declared: {declared})",
            source=et.source,
        )
    for path in fork.paths:
        following = _next_fork(path.branch, et, where)
        if following is None or following.functional_event not in order:
            continue  # a sequence, or an unknown event reported at its own fork
        mine, theirs = order[fork.functional_event], order[following.functional_event]
        if theirs == mine:
            raise InputError(
                f"{where}: functional event {fork.functional_event!r} is forked twice on one path",
                source=et.source,
            )
        if theirs < mine:
            raise InputError(
                f"{where}: functional event {following.functional_event!r} is forked after "
                f"{fork.functional_event!r}, against their declared order "
                f"({', '.join(et.functional_events)})",
                source=et.source,
            )


def _next_fork(branch: Branch, et: EventTree, where: str) -> Fork | None:
    """The fork ``branch`` leads to, through named branches (None: a sequence)."""
    seen: list[str] = []
    target = branch.target
    while isinstance(target, BranchRef):
        if target.name in seen:
            cycle = " -> ".join([*seen[seen.index(target.name) :], target.name])
            raise InputError(
                f"{where}: named branches refer to each other: {cycle}", source=et.source
            )
        if target.name not in et.branches:
            return None  # reported where the reference is checked
        seen.append(target.name)
        target = et.branches[target.name].target
    return target if isinstance(target, Fork) else None


def _walk_instructions(body: tuple[Instruction, ...]) -> Iterator[Instruction]:
    """Every instruction in ``body``, nested ones included (not into rules)."""
    stack = list(reversed(body))
    while stack:
        i = stack.pop()
        yield i
        if isinstance(i, Block):
            stack.extend(reversed(i.instructions))
        elif isinstance(i, IfThenElse):
            stack.extend(x for x in (i.otherwise, i.then) if x is not None)


def _check_instructions(
    body: tuple[Instruction, ...],
    model: EventTreeModel,
    tree: FaultTree,
    where: str,
    source: str,
    links: bool = True,
) -> None:
    for i in _walk_instructions(body):
        if isinstance(i, RuleRef):
            if i.name not in model.rules:
                raise InputError(f"{where}: rule {i.name!r} is not defined", source=source)
            if not links and any(isinstance(x, Link) for x in _rule_instructions(i.name, model)):
                raise InputError(
                    f"{where}: rule {i.name!r} links an event tree; links are allowed only in "
                    "sequences (as SCRAM)",
                    source=source,
                )
        elif isinstance(i, Link):
            if not links:
                raise InputError(
                    f"{where}: <event-tree name={i.event_tree!r}> is allowed only in sequences "
                    "(as SCRAM)",
                    source=source,
                )
            if i.event_tree not in model.event_trees:
                raise InputError(
                    f"{where}: linked event tree {i.event_tree!r} is not defined", source=source
                )
        elif isinstance(i, SetHouseEvent) and i.name not in tree.house_events:
            raise InputError(
                f"{where}: set-house-event {i.name!r}: no such house event", source=source
            )
        elif isinstance(i, CollectFormula):
            _check_references(i.formula, tree, where, source)


def _rule_instructions(name: str, model: EventTreeModel) -> Iterator[Instruction]:
    """Every instruction a rule applies, through the rules it uses (cycles refused before)."""
    pending, seen = [name], {name}
    while pending:
        for i in _walk_instructions(model.rules[pending.pop()]):
            yield i
            if isinstance(i, RuleRef) and i.name in model.rules and i.name not in seen:
                seen.add(i.name)
                pending.append(i.name)


def _check_rule_cycles(model: EventTreeModel) -> None:
    uses = {
        name: [i.name for i in _walk_instructions(body) if isinstance(i, RuleRef)]
        for name, body in model.rules.items()
    }
    done: set[str] = set()
    for start in uses:
        if start in done:
            continue
        path, pending = [start], [iter(uses[start])]
        while pending:
            step = next(pending[-1], None)
            if step is None:
                done.add(path.pop())
                pending.pop()
            elif step in path:
                cycle = " -> ".join([*path[path.index(step) :], step])
                raise InputError(
                    f"rules refer to each other in a cycle: {cycle}",
                    source=model.rule_sources[step],
                )
            elif step in uses and step not in done:
                path.append(step)
                pending.append(iter(uses[step]))


def _check_references(formula: Formula, tree: FaultTree, where: str, source: str) -> None:
    for name in formula.references():
        if (
            name not in tree.gates
            and name not in tree.basic_events
            and name not in tree.house_events
        ):
            raise InputError(
                f"{where}: collect-formula refers to {name!r}, which no file defines",
                source=source,
            )

"""Open-PSA Model Exchange Format (MEF): read static fault trees, write stack models.

Reading covers what fault-tree engines exchange: ``define-fault-tree`` and ``model-data``
with gates (and, or, atleast, not, xor, nand, nor, iff, a single argument passed through),
basic events whose probability is an expression (:mod:`cofail.faulttree._mef_expr`: parameters,
mission time, exponential, GLM, Weibull, periodic tests, deviates at their mean), house
events, common-cause groups (:mod:`cofail.faulttree._mef_ccf`), and a model split across files. What
would change the answer and is not read (substitutions, for one) is refused, never skipped.
"""

from __future__ import annotations

import math
import random
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cofail.errors import InputError, brief
from cofail.faulttree._mef_ccf import CcfExpansion, expand_ccf_group
from cofail.faulttree._mef_expr import DEFAULT_MISSION_TIME, Expressions, children, only_child
from cofail.io.files import read_text

__all__ = ["EventTreeParts", "FaultTree", "Formula", "mef_name", "read_mef"]

_MAX_MEF_BYTES = 256 * 1024 * 1024
MAX_XML_DEPTH = 200
"""Deepest element nesting read: formulas and expressions are walked recursively, and real
models nest a few levels (gates refer to each other by name, which has no limit)."""
_OPERATORS = {"and", "or", "atleast", "not", "xor", "nand", "nor", "iff"}
INDEPENDENCE = (
    "basic events fail independently, each with the probability its file gives; shared causes "
    "only as the tree and its CCF groups model them"
)
"""The assumption behind every figure computed from a fault tree; listed first."""


@dataclass(frozen=True)
class Formula:
    """A gate's formula: an operator over arguments, or a single reference passed through."""

    op: str
    """``and``, ``or``, ``atleast``, ``not``, ``xor``, ``nand``, ``nor``, ``iff``, ``null``
    (pass-through), ``event`` (a reference), or ``constant``."""
    args: tuple[Formula, ...] = ()
    name: str = ""
    """For ``event``: the referenced gate, basic or house event."""
    kind: str = ""
    """For ``event``: ``gate``, ``basic-event``, ``house-event`` or ``event`` (untyped)."""
    min: int = 0
    """For ``atleast``: how many arguments must be true."""
    value: bool = False
    """For ``constant``."""
    scope: str = ""
    """For ``event`` while reading: the private component it was written in (``t.``)."""

    def references(self) -> list[str]:
        """Names this formula refers to, in order of appearance, nested formulas included.

        >>> e = lambda n: Formula("event", name=n, kind="event")
        >>> Formula("or", (e("a"), Formula("and", (e("b"), e("a"))))).references()
        ['a', 'b', 'a']
        """
        out: list[str] = []
        stack: list[Formula] = [self]
        while stack:
            g = stack.pop()
            if g.op == "event":
                out.append(g.name)
            else:
                stack.extend(reversed(g.args))
        return out


@dataclass
class EventTreeParts:
    """A model's event-tree elements, handed over unread to :mod:`cofail.eventtree`."""

    elements: list[tuple[ET.Element, str]] = field(default_factory=list)
    """Each ``define-initiating-event``, ``define-event-tree`` and ``define-rule`` with the
    file it came from, in the order read."""
    expressions: Expressions = field(default_factory=Expressions)
    """The model's parameters: collected expressions and ``if`` conditions use them."""


@dataclass
class FaultTree:
    """Gates, basic events and house events of one MEF model (possibly from many files)."""

    gates: dict[str, Formula] = field(default_factory=dict)
    basic_events: dict[str, float] = field(default_factory=dict)
    house_events: dict[str, bool] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    """What the numbers rest on beyond the gates: the mission time when an expression used it,
    deviates taken at their mean, common-cause groups expanded, event-tree parts not read."""
    sample: Callable[[random.Random], dict[str, float]] | None = field(
        default=None, repr=False, compare=False
    )
    """For a model with random deviates: one trial's basic-event probabilities, drawn from
    ``rng`` (parameters once per trial, shared by the events that use them)."""
    event_tree_parts: EventTreeParts | None = field(default=None, repr=False, compare=False)
    """The event trees, initiating events and rules of the model, if it has any."""

    def tops(self) -> list[str]:
        """Return the gates no other gate refers to, in definition order."""
        used = {name for formula in self.gates.values() for name in formula.references()}
        return [g for g in self.gates if g not in used]

    def check(self) -> None:
        """Raise ``InputError`` for an undefined reference or a basic event without probability."""
        for gate, formula in self.gates.items():
            stack = [formula]
            while stack:
                f = stack.pop()
                stack.extend(f.args)
                if f.op != "event":
                    continue
                known = (
                    f.name in self.gates
                    or f.name in self.basic_events
                    or f.name in self.house_events
                )
                if not known:
                    raise InputError(
                        f"gate {gate!r} refers to {f.kind} {f.name!r}, which no file defines"
                        + ("" if f.kind != "basic-event" else " (or it has no probability)")
                    )
        self.gates_below()  # raises on a cycle

    def gates_below(self, *tops: str) -> list[str]:
        """The gates ``tops`` depend on (default: every gate) and the tops themselves, each
        after the gates it refers to; ``InputError`` naming a cycle of gates. Depth first
        without recursion: gate chains can be any length.

        >>> e = lambda n, k="gate": Formula("event", name=n, kind=k)
        >>> t = FaultTree(gates={"top": Formula("or", (e("g"), e("a", "basic-event"))),
        ...                      "g": Formula("and", (e("a", "basic-event"),))})
        >>> t.gates_below("top")
        ['g', 'top']
        """
        order: list[str] = []
        done: set[str] = set()
        for start in tops or tuple(self.gates):
            if start in done:
                continue
            path, on_path = [start], {start}
            pending = [iter(self.gates[start].references())]
            while pending:
                step = next(pending[-1], None)
                if step is None:
                    done.add(path[-1])
                    order.append(path[-1])
                    on_path.discard(path.pop())
                    pending.pop()
                elif step in on_path:
                    cycle = " -> ".join([*path[path.index(step) :], step])
                    raise InputError(f"gates refer to each other in a cycle: {cycle}")
                elif step in self.gates and step not in done:
                    path.append(step)
                    on_path.add(step)
                    pending.append(iter(self.gates[step].references()))
        return order


def read_mef(
    paths: Sequence[str | Path],
    *,
    mission_time: float = DEFAULT_MISSION_TIME,
    ccf: bool = True,
) -> FaultTree:
    """Read one MEF model from one or more files.

    ``mission_time`` (hours) is the value of ``<system-mission-time/>`` in expressions; SCRAM
    uses the same default, a year. ``ccf=False`` reads the members of common-cause groups as
    independent basic events with the group's probability (SCRAM without ``--ccf true``).

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.xml"
    >>> _ = p.write_text('<opsa-mef><define-fault-tree name="F"><define-gate name="top">'
    ...   '<or><basic-event name="a"/><basic-event name="b"/></or></define-gate>'
    ...   '<define-basic-event name="a"><float value="0.1"/></define-basic-event>'
    ...   '<define-basic-event name="b"><float value="0.2"/></define-basic-event>'
    ...   '</define-fault-tree></opsa-mef>')
    >>> t = read_mef([p]); t.tops(), t.basic_events
    (['top'], {'a': 0.1, 'b': 0.2})
    """
    if not (mission_time >= 0 and math.isfinite(mission_time)):
        raise InputError(f"mission time must be a finite number of hours >= 0, got {mission_time}")
    reader = _Reader(FaultTree(), Expressions(mission_time=mission_time), ccf=ccf)
    for path in paths:
        source = str(path)
        text = read_text(path, max_bytes=_MAX_MEF_BYTES)
        # Refused before parsing: ElementTree expands internal entities, so a few lines of
        # nested ones grow to gigabytes (the "billion laughs").
        if "<!ENTITY" in text or "<!DOCTYPE" in text:
            raise InputError("DTDs and entities are not accepted in MEF files", source=source)
        try:
            root = ET.fromstring(text)
        except ET.ParseError as exc:
            line = exc.position[0] if exc.position else None
            raise InputError(
                f"invalid XML: {exc.msg if hasattr(exc, 'msg') else exc}", source=source, line=line
            ) from None
        if root.tag != "opsa-mef":
            raise InputError(f"expected an <opsa-mef> document, got <{root.tag}>", source=source)
        _check_depth(root, source)
        reader.tree.sources.append(source)
        for child in root:
            reader.top_level(child, source)
    # Names resolve only once every file is read: a gate may use an event a later file defines.
    tree = reader.finish()
    _resolve_scopes(tree)
    tree.check()
    return tree


_EVENT_TREES = {"define-event-tree", "define-initiating-event", "define-rule"}
"""Top-level elements handed over to :mod:`cofail.eventtree` (:class:`EventTreeParts`)."""
_EVENT_TREE_PARTS = {
    "define-sequence",
    "define-alignment",
    "define-extern-library",
    "define-extern-function",
}
"""Top-level elements of event-tree analysis not read: they do not change a fault tree's top
event."""
_REFUSED = {
    "define-substitution": "substitutions rewrite the cut sets, so the probability would "
    "differ from the model's",
    "define-consequence": "consequences are not read (SCRAM 0.16.2 does not read them either); "
    "sequences are reported by name",
    "define-consequence-group": "consequences are not read (SCRAM 0.16.2 does not read them "
    "either); sequences are reported by name",
}


@dataclass
class _Reader:
    """Collects one model's definitions over all its files, then evaluates them."""

    tree: FaultTree
    expressions: Expressions
    ccf: bool
    pending: dict[str, tuple[ET.Element, str, str]] = field(default_factory=dict)
    """Basic event → (definition, source, scope): evaluated once every parameter is known."""
    groups: list[tuple[ET.Element, str, str]] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)

    def top_level(self, node: ET.Element, source: str) -> None:
        # Every element is accepted, skipped with a note, or refused by name: an element read
        # as nothing would silently change the top event's probability.
        tag = node.tag
        if tag == "define-fault-tree" and any(c.get("role") == "private" for c in node):
            # SCRAM's roles in a fault tree: a private gate or event is FT.name from outside
            # (event trees collect Gas-detection-system.root), and FT's own formulas find
            # FT.name before a global name.
            self.container(node, source, scope="", tree_scope=f"{node.get('name', '')}.")
        elif tag in ("define-fault-tree", "model-data", "define-component"):
            self.container(node, source, scope="")
        elif tag in ("define-CCF-group", "define-parameter"):
            self.definition(node, source, scope="")
        elif tag in _REFUSED:
            raise InputError(
                f"<{tag}> {node.get('name', '')!r} is not supported: {_REFUSED[tag]}",
                source=source,
            )
        elif tag in _EVENT_TREES:
            if self.tree.event_tree_parts is None:
                self.tree.event_tree_parts = EventTreeParts(expressions=self.expressions)
            self.tree.event_tree_parts.elements.append((node, source))
        elif tag in _EVENT_TREE_PARTS:
            self.skipped[tag] += 1
        elif tag not in ("label", "attributes"):
            raise InputError(f"unsupported element <{tag}> in <opsa-mef>", source=source)

    def container(self, node: ET.Element, source: str, scope: str, tree_scope: str = "") -> None:
        for child in children(node):
            if child.tag == "define-component":
                # A private component's names are its own (t.E1 from outside); a public one's
                # are not.
                private = child.get("role") == "private"
                name = scope + child.get("name", "")
                self.container(child, source, scope=f"{name}." if private else scope)
            else:
                self.definition(child, source, scope, tree_scope)

    def definition(self, child: ET.Element, source: str, scope: str, tree_scope: str = "") -> None:
        tree, tag = self.tree, child.tag
        refers = scope  # where the element's own references are looked up first
        if tree_scope:  # in a fault tree with private elements (see top_level)
            refers = tree_scope
            scope = tree_scope if child.get("role") == "private" else scope
        name = scope + child.get("name", "")
        if tag == "define-gate":
            formulas = children(child)
            if len(formulas) != 1:
                raise InputError(
                    f"gate {name!r}: expected one formula, got {len(formulas)}", source=source
                )
            if name in tree.gates:
                raise InputError(f"gate {name!r} is defined twice", source=source)
            tree.gates[name] = _scoped(_formula(formulas[0], source, name), refers)
        elif tag == "define-basic-event":
            # Kept unevaluated: its expression may use a parameter defined in a later file.
            if name in self.pending:
                raise InputError(f"basic event {name!r} is defined twice", source=source)
            self.pending[name] = (child, source, refers)
        elif tag == "define-house-event":
            # No <constant> is false (SCRAM's default); any value but true or false is an error.
            constant = child.find("constant")
            where = f"house event {name!r}"
            tree.house_events[name] = constant is not None and _boolean(constant, source, where)
        elif tag == "define-parameter":
            self.expressions.define(name, child, source)
        elif tag == "define-CCF-group":  # expanded once every name is known (a member
            self.groups.append((child, source, scope))  # must not be defined elsewhere)
        else:
            raise InputError(f"unsupported element <{tag}> {name!r}", source=source)

    def probabilities(self, check: bool = False) -> tuple[dict[str, float], list[CcfExpansion]]:
        """Every basic event's probability, and the CCF groups' expansions (their events are
        among the probabilities). ``check``: a CCF member must not be defined elsewhere."""
        # Called once to read the model and again for every uncertainty trial, so it
        # re-evaluates the stored definitions rather than caching numbers.
        expressions, values = self.expressions, {}
        for name, (node, source, scope) in self.pending.items():
            what = f"basic event {name!r}"
            expression = only_child(node, what, source)
            values[name] = expressions.probability(expression, source, what, scope)
        tree = self.tree
        defined = set(values) | tree.gates.keys() | tree.house_events.keys() if check else set()
        expansions = []
        for node, source, scope in self.groups:
            ccf = expand_ccf_group(
                node, expressions, source, scope, defined=defined, common_cause=self.ccf
            )
            values.update(ccf.events)
            expansions.append(ccf)
            if check:  # a member of two groups is an error too
                defined.update(ccf.members or ccf.events)
        return values, expansions

    def trial(self, rng: random.Random) -> dict[str, float]:
        """One uncertainty trial: every probability with its deviates drawn from ``rng``."""
        self.expressions.new_trial(rng)
        return self.probabilities()[0]

    def finish(self) -> FaultTree:
        tree, expressions = self.tree, self.expressions
        values, expansions = self.probabilities(check=True)
        tree.basic_events.update(values)
        tree.assumptions.insert(0, INDEPENDENCE)
        for ccf in expansions:
            tree.gates.update((member, _or(names)) for member, names in ccf.members.items())
            tree.assumptions.append(ccf.note)
        if expressions.used_deviates:
            tree.sample = self.trial
        if expressions.used_mission_time:
            tree.assumptions.append(
                f"system mission time {expressions.mission_time:g} h (--mission-time)"
            )
        if expressions.used_deviates:
            tree.assumptions.append(
                "random deviates and histograms taken at their mean (a point estimate, as "
                "SCRAM's probability analysis does)"
            )
        if self.skipped:
            parts = ", ".join(f"{tag} x{n}" for tag, n in sorted(self.skipped.items()))
            tree.assumptions.append(f"event-tree elements not evaluated: {parts}")
        return tree


def _or(names: list[str]) -> Formula:
    events = tuple(Formula("event", name=n, kind="basic-event") for n in names)
    return events[0] if len(events) == 1 else Formula("or", events)


def _scoped(f: Formula, scope: str) -> Formula:
    """Return ``f`` with every reference tagged by the scope it was written in."""
    if not scope:
        return f
    if f.op == "event":
        return Formula(
            op="event", name=f.name, kind=f.kind, value=False, min=0, args=(), scope=scope
        )
    return Formula(op=f.op, args=tuple(_scoped(a, scope) for a in f.args), min=f.min, value=f.value)


def _resolve_scopes(tree: FaultTree) -> None:
    """Point each scoped reference at the innermost definition of its name."""
    known = set(tree.gates) | set(tree.basic_events) | set(tree.house_events)

    def resolve(f: Formula) -> Formula:
        if f.op == "event":
            # MEF's lexical scoping: a name written inside component "a.b." means "a.b.name" if
            # that exists, else "a.name", else the global "name". Only once every file is read
            # is it known which exists, hence this pass after reading.
            scope = f.scope
            while scope:
                if scope + f.name in known:
                    return Formula(op="event", name=scope + f.name, kind=f.kind)
                scope = scope[: scope[:-1].rfind(".") + 1]  # "a.b." -> "a."
            return Formula(op="event", name=f.name, kind=f.kind)
        return Formula(op=f.op, args=tuple(resolve(a) for a in f.args), min=f.min, value=f.value)

    for gate, formula in list(tree.gates.items()):
        tree.gates[gate] = resolve(formula)


def _formula(node: ET.Element, source: str, gate: str) -> Formula:
    # References stay names here (what they point to may come in a later file); the arity
    # checks are done now, where the error can name the gate and file.
    tag = node.tag
    if tag in ("gate", "basic-event", "house-event", "event"):
        return Formula(op="event", name=node.get("name", ""), kind=tag)
    if tag == "constant":
        return Formula(op="constant", value=_boolean(node, source, f"gate {gate!r}"))
    if tag not in _OPERATORS and tag != "null":
        raise InputError(f"gate {gate!r}: unsupported formula <{tag}>", source=source)
    args = tuple(_formula(c, source, gate) for c in node)
    if not args:
        raise InputError(f"gate {gate!r}: <{tag}> has no arguments", source=source)
    if tag == "atleast":
        text = node.get("min", "")
        k = int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else 0
        if not 1 <= k <= len(args):
            raise InputError(
                f"gate {gate!r}: atleast min={brief(text)} with {len(args)} arguments; "
                f"expected a whole number from 1 to {len(args)}",
                source=source,
            )
        return Formula(op="atleast", args=args, min=k)
    if tag in ("not", "null") and len(args) != 1:
        raise InputError(f"gate {gate!r}: <{tag}> takes one argument", source=source)
    return Formula(op=tag, args=args)


def _boolean(node: ET.Element, source: str, what: str) -> bool:
    """The ``value`` of a ``<constant>``: ``true`` or ``false``, nothing else."""
    value = node.get("value")
    if value not in ("true", "false"):
        raise InputError(
            f"{what}: <constant> value must be true or false, got {brief(value or '')}",
            source=source,
        )
    return value == "true"


def _check_depth(root: ET.Element, source: str) -> None:
    """Refuse elements nested deeper than :data:`MAX_XML_DEPTH` (iteratively, before any
    recursive walk)."""
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth >= MAX_XML_DEPTH and len(node):
            child = node[0]
            raise InputError(
                f"<{child.tag}> is nested {depth + 1} elements deep; at most {MAX_XML_DEPTH} is "
                "read (define deep formulas as gates that refer to each other by name)",
                source=source,
            )
        stack.extend((child, depth + 1) for child in node if len(child))


def mef_name(*parts: str) -> str:
    """Return an MEF identifier (NCName, no dots, no doubled or edge dashes) for ``parts``.

    >>> mef_name("R", "layer.v2"), mef_name("M", "S-TAX")
    ('R_layer_v2', 'M_S-TAX')
    """
    text = "_".join(parts)
    text = "".join(c if c.isalnum() or c in "_-" else "_" for c in text)
    while "--" in text:
        text = text.replace("--", "-_")
    return text.strip("-") or "_"

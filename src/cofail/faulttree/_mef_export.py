"""A stack as a fault tree, and any static fault tree written as Open-PSA MEF.

One construction serves both the BDD engine (stacks beyond the DPs' 26 layers) and
``cofail export --to mef``: TOP = at least k of the layers; layer i = OR(its residual, the modes
that hit it); a graded cell q_ij becomes AND(mode j, an event of probability q_ij).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import quoteattr

from cofail.faulttree._mef import FaultTree, Formula, mef_name

if TYPE_CHECKING:
    import numpy as np

    from cofail.model import Matrix, Stack

__all__ = ["export_stack", "model_data", "stack_tree", "write_mef"]


def stack_tree(
    q: Any,
    p: Any,
    r: Any,
    k: int | None = None,
    *,
    layer_ids: Sequence[str] | None = None,
    mode_ids: Sequence[str] | None = None,
) -> FaultTree:
    """Return the fault tree of a stack of ``len(r)`` layers that fails when ``k`` of them do.

    Event and gate names come from ``layer_ids`` and ``mode_ids`` (as MEF identifiers), else
    from the indices. A layer no mode and no residual can defeat is the constant false.

    >>> t = stack_tree([[1.0, 0.0], [1.0, 1.0]], [0.1, 0.2], [0.0, 0.05], layer_ids=["A", "B"])
    >>> sorted(t.basic_events.items()), t.gates["TOP"].op
    ([('M_0', 0.1), ('M_1', 0.2), ('R_B', 0.05)], 'and')
    """
    n = len(r)
    k = n if k is None else k
    layers = [str(i) for i in range(n)] if layer_ids is None else list(layer_ids)
    modes = [str(j) for j in range(len(p))] if mode_ids is None else list(mode_ids)

    def ref(name: str) -> Formula:
        return Formula("event", name=name, kind="event")

    tree = FaultTree()
    tops = []
    for i, lid in enumerate(layers):
        args = []
        if r[i] > 0:
            tree.basic_events[mef_name("R", lid)] = float(r[i])
            args.append(ref(mef_name("R", lid)))
        for j, mid in enumerate(modes):
            cell = float(q[i][j])
            if cell <= 0 or p[j] <= 0:
                continue
            mode = mef_name("M", mid)
            tree.basic_events[mode] = float(p[j])
            if cell >= 1:
                args.append(ref(mode))
            else:
                event, gate = mef_name("Q", lid, mid), mef_name("G", lid, mid)
                tree.basic_events[event] = cell
                tree.gates[gate] = Formula("and", (ref(mode), ref(event)))
                args.append(ref(gate))
        gate = mef_name("L", lid)
        if not args:
            tree.gates[gate] = Formula("constant", value=False)
        else:
            tree.gates[gate] = args[0] if len(args) == 1 else Formula("or", tuple(args))
        tops.append(ref(gate))
    if n == 1:  # MEF's and/or/atleast take two or more arguments
        tree.gates["TOP"] = tops[0]
    elif k == n:
        tree.gates["TOP"] = Formula("and", tuple(tops))
    elif k == 1:
        tree.gates["TOP"] = Formula("or", tuple(tops))
    else:
        tree.gates["TOP"] = Formula("atleast", tuple(tops), min=k)
    return tree


def write_mef(
    tree: FaultTree, name: str = "cofail", expressions: Mapping[str, str] | None = None
) -> str:
    """Return ``tree`` as an Open-PSA MEF document (one fault tree, probabilities as floats,
    but for the basic events ``expressions`` gives an MEF expression of, e.g. a deviate).

    >>> t = FaultTree(gates={"top": Formula("or", (Formula("event", name="a"),
    ...     Formula("event", name="b")))}, basic_events={"a": 0.1, "b": 0.2})
    >>> print(write_mef(t).splitlines()[4])
    <or><basic-event name="a"/><basic-event name="b"/></or>
    """
    lines = ['<?xml version="1.0"?>', "<opsa-mef>", f"<define-fault-tree name={quoteattr(name)}>"]
    for gate, formula in tree.gates.items():
        lines += [f"<define-gate name={quoteattr(gate)}>", _xml(formula, tree), "</define-gate>"]
    for house, state in tree.house_events.items():
        lines.append(
            f"<define-house-event name={quoteattr(house)}>"
            f'<constant value="{"true" if state else "false"}"/></define-house-event>'
        )
    lines.append("</define-fault-tree>")
    lines += model_data(tree.basic_events, expressions)
    lines += ["</opsa-mef>", ""]
    return "\n".join(lines)


def model_data(events: Mapping[str, float], expressions: Mapping[str, str] | None) -> list[str]:
    """The ``<model-data>`` lines: each basic event's probability as a float, or the MEF
    expression ``expressions`` gives for it (e.g. a deviate).

    >>> model_data({"a": 0.5}, None)[1]
    '<define-basic-event name="a"><float value="0.5"/></define-basic-event>'
    """
    expressions = expressions or {}
    lines = ["<model-data>"]
    for event, value in events.items():
        expression = expressions.get(event, f'<float value="{value!r}"/>')
        lines.append(
            f"<define-basic-event name={quoteattr(event)}>{expression}</define-basic-event>"
        )
    return [*lines, "</model-data>"]


def _xml(f: Formula, tree: FaultTree) -> str:
    if f.op == "event":
        kind = (
            "gate"
            if f.name in tree.gates
            else "house-event"
            if f.name in tree.house_events
            else "basic-event"
        )
        return f"<{kind} name={quoteattr(f.name)}/>"
    if f.op == "constant":
        return f'<constant value="{"true" if f.value else "false"}"/>'
    inner = "".join(_xml(a, tree) for a in f.args)
    if f.op == "null":
        return inner
    if f.op == "atleast":
        return f'<atleast min="{f.min}">{inner}</atleast>'
    return f"<{f.op}>{inner}</{f.op}>"


def export_stack(
    matrix: Matrix,
    stack: Stack,
    q: np.ndarray,
    p: np.ndarray,
    r: np.ndarray,
    cells: Mapping[tuple[str, str], str] | None = None,
) -> str:
    """Return an MEF model of ``stack`` (see :func:`stack_tree`); SCRAM reads it. ``cells``
    maps (layer, mode) to an MEF expression for that cell's q (a deviate with mean q)."""
    tree = stack_tree(q, p, r, stack.threshold, layer_ids=stack.layers, mode_ids=matrix.mode_ids)
    named = {mef_name("Q", lid, mid): text for (lid, mid), text in (cells or {}).items()}
    return write_mef(tree, name="cofail-stack", expressions=named)

"""An ordered stack or a bow-tie written as an Open-PSA MEF event tree that SCRAM solves.

A fault tree per layer over the shared mode basic events (the construction of ``cofail export
--to mef``: layer = OR(residual, the modes that hit it)); an initiating event ``attack``; an
event tree with one functional event per layer, whose ``holds`` branch collects NOT(layer) and
ends in ``stopped-by-L`` and whose ``fails`` branch collects the layer and goes on; the last
``fails`` ends in ``harm``. A bow-tie's first functional event is ``prevention``, the fault tree
HAZARD = AND(prevention layers): ``holds`` ends in ``prevented``. The basic events are shared,
so a solver that conditions exactly (SCRAM's BDD with ``--probability 1``) gives every
sequence the probability :func:`~cofail.sequences.event_tree` gives its outcome.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from cofail.faulttree._mef import FaultTree, Formula, mef_name
from cofail.faulttree._mef_export import model_data, stack_tree
from cofail.model import Matrix, Stack
from cofail.probability.scenario import Scenario

__all__ = ["event_tree_mef", "sequence_name"]


def sequence_name(outcome: str) -> str:
    """Return the MEF sequence name of an outcome.

    >>> sequence_name("stopped by RLHF"), sequence_name("harm")
    ('stopped-by-RLHF', 'harm')
    """
    return mef_name(outcome.replace(" ", "-"))


def event_tree_mef(
    matrix: Matrix,
    mitigate: Stack,
    scenario: Scenario | None = None,
    prevent: Stack | None = None,
) -> str:
    """Return the MEF model of ``mitigate`` met in order (after ``prevent``'s hazard, if given).

    Examples
    --------
    >>> from cofail import catalog
    >>> text = event_tree_mef(catalog.load(), Stack(layers=("RLHF", "DEBATE")))
    >>> [line for line in text.splitlines() if "define-sequence" in line]
    ['<define-sequence name="stopped-by-RLHF"/>', '<define-sequence name="stopped-by-DEBATE"/>', '<define-sequence name="harm"/>']
    """
    scenario = scenario or Scenario()
    before = prevent.layers if prevent is not None else ()
    layers = Stack(layers=(*before, *mitigate.layers))
    q, p, r = scenario.arrays(matrix, layers)
    expressions = {
        mef_name("Q", lid, mid): text
        for (lid, mid), text in scenario.mef_cells(matrix, layers).items()
    }
    trees: list[tuple[str, FaultTree]] = []
    events: dict[str, float] = {}
    for i, lid in enumerate(layers.layers):
        tree = stack_tree(q[i : i + 1], p, r[i : i + 1], layer_ids=[lid], mode_ids=matrix.mode_ids)
        del tree.gates["TOP"]
        trees.append((mef_name("FT", lid), tree))
        events.update(tree.basic_events)
    names = {lid: matrix.layer(lid).name for lid in layers.layers}
    if before:
        gates = tuple(Formula("event", name=mef_name("L", lid), kind="event") for lid in before)
        hazard = FaultTree(gates={"HAZARD": gates[0] if len(gates) == 1 else Formula("and", gates)})
        trees.append(("hazard", hazard))
    lines = ['<?xml version="1.0"?>', "<opsa-mef>"]
    lines.append('<define-initiating-event name="attack" event-tree="attack"/>')
    lines.append('<define-event-tree name="attack">')
    if before:
        label = f"prevention: {', '.join(before)} (the hazard occurs when all fail)"
        lines.append(_functional_event("prevention", label))
    for lid in mitigate.layers:
        lines.append(
            _functional_event(mef_name(lid), f"{lid}: {names[lid]}" if names[lid] else lid)
        )
    word = "mitigated by" if before else "stopped by"
    ends = (["prevented"] if before else []) + [f"{word} {lid}" for lid in mitigate.layers]
    ends.append("harm")
    lines += [f"<define-sequence name={quoteattr(sequence_name(e))}/>" for e in ends]
    branches = [("prevention", "HAZARD", "prevented")] if before else []
    branches += [(mef_name(lid), mef_name("L", lid), f"{word} {lid}") for lid in mitigate.layers]
    lines += ["<initial-state>", _fork(branches), "</initial-state>", "</define-event-tree>"]
    for name, tree in trees:
        lines.append(f"<define-fault-tree name={quoteattr(name)}>")
        for gate, formula in tree.gates.items():
            lines.append(f"<define-gate name={quoteattr(gate)}>{_xml(formula)}</define-gate>")
        lines.append("</define-fault-tree>")
    lines += model_data(events, expressions)
    lines += ["</opsa-mef>", ""]
    return "\n".join(lines)


def _functional_event(name: str, label: str) -> str:
    return (
        f"<define-functional-event name={quoteattr(name)}><label>{escape(label)}</label>"
        "</define-functional-event>"
    )


def _fork(branches: list[tuple[str, str, str]]) -> str:
    """The nested forks: each ``holds`` ends in its outcome, each ``fails`` goes on."""
    if not branches:
        return '<sequence name="harm"/>'
    event, gate, outcome = branches[0]
    ref = f"<gate name={quoteattr(gate)}/>"
    return (
        f"<fork functional-event={quoteattr(event)}>"
        f'<path state="holds"><collect-formula><not>{ref}</not></collect-formula>'
        f"<sequence name={quoteattr(sequence_name(outcome))}/></path>"
        f'<path state="fails"><collect-formula>{ref}</collect-formula>\n'
        f"{_fork(branches[1:])}</path></fork>"
    )


def _xml(f: Formula) -> str:
    """A layer's formula: gates of its own, mode and residual basic events, a constant."""
    if f.op == "event":
        kind = "gate" if f.name.startswith(("L_", "G_")) else "basic-event"
        return f"<{kind} name={quoteattr(f.name)}/>"
    if f.op == "constant":
        return f'<constant value="{"true" if f.value else "false"}"/>'
    inner = "".join(_xml(a) for a in f.args)
    return f"<{f.op}>{inner}</{f.op}>"

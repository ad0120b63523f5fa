"""LTAC: a :class:`SafetyCase` as the plain-text assurance-case format verocase reads.

LTAC is an indented tree, one element a line: ``- TYPE ID: statement {options}``. GSN maps onto
it as Goal → Claim, Strategy → Strategy, Solution → Evidence, and Context, Assumption and
Justification as themselves; an undeveloped goal is ``{needsSupport}``, a counter-goal or
counter-solution is a child of what it challenges with ``{defeater}``, and what it defeats is
``{defeated}``. Read against verocase 0.7.2's rules (``verocase --help-validations``), which
shape three choices: an element carries at most one status (SACM section 11), so a gap that
the data also defeat is written ``{defeated}``; a Claim may not sit under an Assumption, and an
Assumption is implicitly assumed, so a defeated assumption is written as a defeated Claim
with its defeater below it; and a statement ending in ``)`` gets LTAC's empty reference
``()`` so that its last parenthesis is not read as a reference.
"""

from __future__ import annotations

from collections.abc import Sequence

from cofail.case._graph import Kind, Node, SafetyCase, kind_of

__all__ = ["dumps_ltac", "dumps_ltac_modules"]

_TYPES: dict[Kind, str] = {
    "Goal": "Claim",
    "CounterGoal": "Claim",
    "Strategy": "Strategy",
    "Solution": "Evidence",
    "CounterSolution": "Evidence",
    "Context": "Context",
    "Assumption": "Assumption",
    "Justification": "Justification",
}


def dumps_ltac(case: SafetyCase) -> str:
    """Return ``case`` as one LTAC package rooted at its top goal.

    Examples
    --------
    >>> from cofail.case import Node, SafetyCase
    >>> case = SafetyCase("m", "", (Node("G1", "top", supported_by=("Sn1",)), Node("Sn1", "e")))
    >>> print(dumps_ltac(case), end="")
    - Claim G1: top
      - Evidence Sn1: e
    """
    by_id = {n.id: n for n in case}
    challengers: dict[str, list[Node]] = {}
    for n in case:
        if n.challenges is not None:
            challengers.setdefault(n.challenges, []).append(n)
    lines: list[str] = []

    def write(node: Node, depth: int) -> None:
        kind = _TYPES[node.kind]
        options: list[str] = []
        if node.defeated:
            options.append("defeated")
            if kind not in ("Claim", "Strategy"):  # only these may hold a Claim below them
                kind = "Claim"
        elif node.undeveloped:
            options.append("needsSupport")
        if node.challenges is not None:
            options.append("defeater")
        text = " ".join(node.text.split())
        line = f"{'  ' * depth}- {kind} {node.id}: {text}"
        if options:
            line += " {" + ", ".join(options) + "}"
        elif text.endswith(")"):
            line += " ()"
        lines.append(line)
        for child in (*node.in_context_of, *node.supported_by):
            if child in by_id:
                write(by_id[child], depth + 1)
            else:  # another module's element: a citation of the package that declares it
                lines.append(f"{'  ' * (depth + 1)}- {_TYPES[kind_of_id(child)]} ^{child}")
        for counter in challengers.get(node.id, []):
            write(counter, depth + 1)

    write(case.top, 0)
    return "\n".join(lines) + "\n"


def dumps_ltac_modules(cases: Sequence[SafetyCase]) -> str:
    """Return several modules as one LTAC file, one package each, the first case's first: an
    element of another module is cited (``^ID``) where it is used and declared in its own."""
    return "\n".join(dumps_ltac(case) for case in cases)


def kind_of_id(node_id: str) -> Kind:
    kind = kind_of(node_id)
    if kind is None:
        raise ValueError(f"{node_id!r} has no GSN prefix")
    return kind

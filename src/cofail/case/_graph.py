"""The argument graph: GSN elements and the links between them, in a stable order."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["PREFIXES", "Kind", "Node", "SafetyCase", "kind_of"]

Kind = Literal[
    "Goal",
    "Strategy",
    "Solution",
    "Context",
    "Assumption",
    "Justification",
    "CounterGoal",
    "CounterSolution",
]

PREFIXES: tuple[tuple[str, Kind], ...] = (
    # gsn2x tests the prefixes in this order (src/gsn.rs, get_node_type_from_text): "CG" before
    # "G", "CSn" before "Sn" before "S", and any other id starting with "C" is a Context.
    ("CG", "CounterGoal"),
    ("G", "Goal"),
    ("CSn", "CounterSolution"),
    ("Sn", "Solution"),
    ("S", "Strategy"),
    ("C", "Context"),
    ("A", "Assumption"),
    ("J", "Justification"),
)
"""Id prefix → element type, in the order gsn2x tries them."""


def kind_of(node_id: str) -> Kind | None:
    """Return the element type gsn2x reads from an id's prefix, or ``None``.

    >>> kind_of("CSn1"), kind_of("Claim1"), kind_of("X1")
    ('CounterSolution', 'Context', None)
    """
    return next((kind for prefix, kind in PREFIXES if node_id.startswith(prefix)), None)


@dataclass(frozen=True)
class Node:
    """One GSN element; its type is its id's prefix."""

    id: str
    """Canonical prefix + a stable name (``G1``, ``Sn1-AL-GEN``): gsn2x reads the type from it."""
    text: str
    supported_by: tuple[str, ...] = ()
    in_context_of: tuple[str, ...] = ()
    undeveloped: bool = False
    """A gap: a goal or strategy that the argument leaves open."""
    challenges: str | None = None
    """The element a counter-goal or counter-solution challenges (a defeater)."""
    defeated: bool = False
    """The data contradict this element; something in the case challenges it."""
    layers: Mapping[str, str] = field(default_factory=dict)
    """Extra keys (gsn2x shows them as layers): the figures, exactly as the CLI prints them."""

    @property
    def kind(self) -> Kind:
        kind = kind_of(self.id)
        if kind is None:
            raise ValueError(f"{self.id!r} has no GSN prefix")
        return kind


@dataclass(frozen=True)
class SafetyCase:
    """A GSN argument: its elements in the order they are written (top goal first)."""

    name: str
    """Module name (gsn2x's ``module: name``)."""
    brief: str
    nodes: tuple[Node, ...]
    uses: tuple[str, ...] = ()
    """Files of the other modules this one references (gsn2x's ``module: uses``)."""

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes)

    def node(self, node_id: str) -> Node:
        """Return the element of that id; ``KeyError`` if there is none."""
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)

    @property
    def top(self) -> Node:
        return self.nodes[0]

    def to_dict(self) -> dict[str, object]:
        """Return a summary for JSON: counts by type, the gaps and the defeaters."""
        counts: dict[str, int] = {}
        for n in self.nodes:
            counts[n.kind] = counts.get(n.kind, 0) + 1
        return {
            "module": self.name,
            "top_goal": self.top.text,
            "elements": len(self.nodes),
            "by_type": counts,
            "undeveloped": [n.id for n in self.nodes if n.undeveloped],
            "defeated": [n.id for n in self.nodes if n.defeated],
            "defeaters": [
                {"id": n.id, "challenges": n.challenges, "text": n.text}
                for n in self.nodes
                if n.challenges is not None and n.kind == "CounterGoal"
            ],
        }

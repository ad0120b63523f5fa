"""Open-PSA event trees as read: initiating events, event trees, their branches and instructions.

Plain frozen data, built by :mod:`cofail.eventtree._read` and walked by
:mod:`cofail.eventtree._paths`; nothing here evaluates anything.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from cofail.faulttree._mef import Formula

__all__ = [
    "Block",
    "Branch",
    "BranchRef",
    "CollectExpression",
    "CollectFormula",
    "EventTree",
    "EventTreeModel",
    "Fork",
    "IfThenElse",
    "InitiatingEvent",
    "Instruction",
    "Link",
    "Path",
    "RuleRef",
    "Sequence",
    "SequenceRef",
    "SetHouseEvent",
    "Target",
]


@dataclass(frozen=True)
class CollectFormula:
    """``<collect-formula>``: the path's Boolean formula is ANDed with this one."""

    formula: Formula


@dataclass(frozen=True)
class CollectExpression:
    """``<collect-expression>``: the path's probability is multiplied by this expression."""

    expression: ET.Element = field(compare=False)
    source: str = ""


@dataclass(frozen=True)
class SetHouseEvent:
    """``<set-house-event>``: formulas collected further down the path see this state."""

    name: str
    state: bool


@dataclass(frozen=True)
class IfThenElse:
    """``<if>``: the first instruction when the expression is non-zero, else the second."""

    condition: ET.Element = field(compare=False)
    then: Instruction
    otherwise: Instruction | None
    source: str = ""


@dataclass(frozen=True)
class Block:
    """``<block>``: instructions applied in order."""

    instructions: tuple[Instruction, ...]


@dataclass(frozen=True)
class RuleRef:
    """``<rule name=...>``: the instructions of a ``define-rule``."""

    name: str


@dataclass(frozen=True)
class Link:
    """``<event-tree name=...>`` in a sequence: the path goes on in that event tree."""

    event_tree: str


Instruction = (
    CollectFormula | CollectExpression | SetHouseEvent | IfThenElse | Block | RuleRef | Link
)


@dataclass(frozen=True)
class SequenceRef:
    """A branch ending in ``<sequence name=...>``."""

    name: str


@dataclass(frozen=True)
class BranchRef:
    """A branch continuing in a named branch (``<branch name=...>``) of the same tree."""

    name: str


@dataclass(frozen=True)
class Path:
    """One ``<path state=...>`` of a fork."""

    state: str
    branch: Branch


@dataclass(frozen=True)
class Fork:
    """``<fork functional-event=...>``: one path per state of the functional event."""

    functional_event: str
    paths: tuple[Path, ...]


Target = Fork | SequenceRef | BranchRef


@dataclass(frozen=True)
class Branch:
    """Instructions, then where the branch goes: a fork, a sequence or a named branch."""

    instructions: tuple[Instruction, ...]
    target: Target


@dataclass(frozen=True)
class Sequence:
    """``<define-sequence>``: an end state, with the instructions applied on reaching it."""

    name: str
    event_tree: str
    instructions: tuple[Instruction, ...] = ()


@dataclass(frozen=True)
class EventTree:
    """``<define-event-tree>``: functional events in their declared order, named branches,
    and the initial state."""

    name: str
    functional_events: tuple[str, ...]
    branches: dict[str, Branch]
    initial_state: Branch
    source: str = ""


@dataclass(frozen=True)
class InitiatingEvent:
    """``<define-initiating-event>`` and the event tree it starts (None: not analysed)."""

    name: str
    event_tree: str | None
    source: str = ""


@dataclass
class EventTreeModel:
    """Every initiating event, event tree, sequence and rule of one model."""

    initiating_events: list[InitiatingEvent] = field(default_factory=list)
    event_trees: dict[str, EventTree] = field(default_factory=dict)
    sequences: dict[str, Sequence] = field(default_factory=dict)
    """Sequences are global: any tree's branch may end in any tree's sequence (SCRAM)."""
    rules: dict[str, tuple[Instruction, ...]] = field(default_factory=dict)
    rule_sources: dict[str, str] = field(default_factory=dict)
    """The file each rule is defined in."""

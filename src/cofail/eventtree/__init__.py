"""Open-PSA MEF event trees: initiating events, functional events, sequences; each sequence's
exact probability from one BDD over the collected formulas, success branches included.

:func:`cofail.faulttree.read_mef` hands a model's event-tree elements over unread
(:attr:`~cofail.faulttree.FaultTree.event_tree_parts`); :func:`read_event_trees` reads and
checks them as SCRAM 0.16.2 does, and :func:`solve_event_trees` walks every path and solves.

Examples
--------
>>> import pathlib, tempfile
>>> from cofail.faulttree import read_mef
>>> from cofail.eventtree import solve_event_trees
>>> path = pathlib.Path(tempfile.mkdtemp()) / "et.xml"
>>> _ = path.write_text(
...     '<opsa-mef><define-initiating-event name="I" event-tree="T"/>'
...     '<define-event-tree name="T"><define-functional-event name="F"/>'
...     '<define-sequence name="ok"/><define-sequence name="bad"/><initial-state>'
...     '<fork functional-event="F"><path state="works"><collect-expression>'
...     '<float value="0.9"/></collect-expression><sequence name="ok"/></path>'
...     '<path state="fails"><collect-expression><float value="0.1"/></collect-expression>'
...     '<sequence name="bad"/></path></fork></initial-state></define-event-tree></opsa-mef>')
>>> r = solve_event_trees(read_mef([path]))
>>> [(s.name, s.probability) for s in r.initiating_events[0].sequences]
[('ok', 0.9), ('bad', 0.1)]
"""

from __future__ import annotations

from cofail.eventtree._model import EventTreeModel
from cofail.eventtree._read import read_event_trees
from cofail.eventtree._solve import (
    EventTreeResult,
    InitiatingEventResult,
    SequenceResult,
    solve_event_trees,
)

__all__ = [
    "EventTreeModel",
    "EventTreeResult",
    "InitiatingEventResult",
    "SequenceResult",
    "read_event_trees",
    "solve_event_trees",
]

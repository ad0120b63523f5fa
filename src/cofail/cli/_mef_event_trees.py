"""``cofail mef`` on a model with event trees: a table of sequences per initiating event, after
the fault-tree tops' table when the model has gates of its own."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from cofail.cli._common import Fmt, emit, tell
from cofail.report.tabular import Table

if TYPE_CHECKING:
    from cofail.eventtree import EventTreeResult
    from cofail.faulttree import FaultTree, FaultTreeResult, Order

__all__ = ["emit_mef_event_trees", "event_tree_tables"]


def emit_mef_event_trees(
    tree: FaultTree,
    tops: Callable[[], FaultTreeResult] | None,
    fmt: Fmt,
    *,
    cut_sets: int | None,
    order: Order | None,
    time_limit: float | None = None,
) -> None:
    """Solve the event trees of ``tree`` (and its tops with ``tops``, if given) and print both."""
    from cofail.eventtree import solve_event_trees

    events = solve_event_trees(
        tree, cut_sets=cut_sets, order=order, on_slow=_slow, time_limit=time_limit
    )
    if tops is None:  # no gates of its own: the model's assumptions go under the sequences
        data: dict[str, Any] = {"files": list(tree.sources), **events.to_dict()}
        data["assumptions"] = list(tree.assumptions)
        emit(event_tree_tables(events, tree.assumptions), fmt, data)
        return
    from cofail.report.faulttree_views import fault_tree_tables

    result = tops()
    emit(
        [*fault_tree_tables(result), *event_tree_tables(events)],
        fmt,
        {**result.to_dict(), **events.to_dict()},
    )


def event_tree_tables(result: EventTreeResult, notes: Sequence[str] = ()) -> list[Table]:
    """A table of sequences per initiating event, and their cut sets when asked for; ``notes``
    go under the first table.

    >>> from cofail.eventtree import EventTreeResult, InitiatingEventResult, SequenceResult
    >>> s = SequenceResult("harm", 0.25, 1, "T", "expression")
    >>> r = EventTreeResult([InitiatingEventResult("I", "T", [s], 1)], ["exact"], "BDD", 0)
    >>> [(t.title, t.rows) for t in event_tree_tables(r)]
    [("Initiating event 'I' (event tree 'T')", [['harm', 0.25, 1, 'T']])]
    """
    tables = []
    for k, ie in enumerate(result.initiating_events):
        under = [f"{ie.paths} paths; the sequences sum to {ie.total:.6g}"]
        if k == 0:
            under += [f"{result.engine}; {result.bdd_nodes} BDD nodes", *result.assumptions]
            under += notes
        tables.append(
            Table(
                f"Initiating event {ie.name!r} (event tree {ie.event_tree!r})",
                ["sequence", "probability", "paths", "event tree"],
                [[s.name, s.probability, s.paths, s.event_tree] for s in ie.sequences],
                notes=under,
            )
        )
    if not tables:
        tables.append(
            Table("Event trees", ["initiating event"], [], notes=[*result.assumptions, *notes])
        )
    if result.cut_set_order is not None:
        rows = [
            [ie.name, s.name, _counts(s.cut_sets.counts), _sets(s.cut_sets.cut_sets[:5])]
            for ie in result.initiating_events
            for s in ie.sequences
            if s.cut_sets is not None
        ]
        tables.append(
            Table(
                f"Minimal cut sets of sequences up to order {result.cut_set_order}",
                ["initiating event", "sequence", "per order", "first cut sets"],
                rows,
                notes=["all of them in --format json"],
            )
        )
    return tables


def _sets(cut_sets: list[tuple[str, ...]]) -> str:
    return "; ".join("{" + ", ".join(c) + "}" for c in cut_sets) or "none"


def _counts(counts: dict[int, int]) -> str:
    return ", ".join(f"{n} of order {k}" for k, n in sorted(counts.items())) or "none"


def _slow(seconds: float) -> None:
    tell(
        f"the event-tree solve has run {seconds:g} s and goes on (the exact solve of every "
        "path's collected formulas); --time-limit S bounds it.",
        label="note: ",
        style="yellow",
    )

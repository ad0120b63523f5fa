"""The report's event-tree section: the tree drawn, where attacks stop, and the tables."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cofail.report.section import Figure, Section
from cofail.report.sequence_figures import event_tree_svg, stopped_where_svg
from cofail.report.sequence_views import headline, sequence_tables

if TYPE_CHECKING:
    from cofail.sequences import EventTreeResult

__all__ = ["sequence_section"]


def sequence_section(result: EventTreeResult) -> Section:
    """Return the section: the headline in words, the tree and the bar chart, the tables.

    >>> from cofail import catalog
    >>> from cofail.model import Stack
    >>> from cofail.sequences import event_tree
    >>> s = sequence_section(event_tree(catalog.load(), Stack(layers=("RE", "IDA"))))
    >>> s.title, [f.name for f in s.figures]
    ('Event tree: RE → IDA', ['event-tree.svg', 'stopped-where.svg'])
    """
    order = " → ".join(result.mitigate)
    if result.hazard is not None:
        title = f"Bow-tie: {' + '.join(result.prevent)} | {order}"
        tree = Figure(
            "bow-tie.svg",
            event_tree_svg(result),
            "The bow-tie: the prevention layers' fault tree into the hazard (left), then the "
            "mitigation layers' event tree; each branch with its exact conditional probability "
            "and, in grey, the independence picture's.",
        )
    else:
        title = f"Event tree: {order}"
        tree = Figure(
            "event-tree.svg",
            event_tree_svg(result),
            "An attack meets the layers left to right; each branch carries its exact "
            "probability given the branches before it and, in grey, the layer's own "
            "(independence); line widths follow the probability along each branch.",
        )
    bars = Figure(
        "stopped-where.svg",
        stopped_where_svg(result),
        "Where attacks are stopped: each outcome's probability, exact against independence.",
    )
    words = [headline(result), f"Assumptions: {result.assumptions}."]
    return Section(title, words, [tree, bars], sequence_tables(result))

"""Tables of an event tree (``cofail sequences``): outcomes, functional events, hazard, cost."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cofail.report.tabular import Table

if TYPE_CHECKING:
    from cofail.sequences import EventTreeResult

__all__ = ["headline", "sequence_tables"]


def headline(result: EventTreeResult) -> str:
    """One sentence: how much probability the shared modes move from stops onto harm.

    >>> from cofail import catalog
    >>> from cofail.model import Stack
    >>> from cofail.sequences import event_tree
    >>> headline(event_tree(catalog.load(), Stack(layers=("RLHF", "DEBATE", "IDA"))))
    "Shared failure modes move 0.1071 of probability onto harm: 0.1619 exact against 0.05478 if the layers failed independently (2.96×); the stops' shifts: stopped by DEBATE -0.1612, stopped by IDA +0.05409."
    """
    harm = result.harm
    ratio = f" ({harm.probability / harm.independent:.3g}×)" if harm.independent > 0 else ""
    moved = [o for o in result.outcomes[:-1] if o.shift != 0.0 and o.outcome != "prevented"]
    where = ", ".join(f"{o.outcome} {o.shift:+.4g}" for o in moved)
    if result.prevent:
        pre = result.outcomes[0]
        where = f"prevented {pre.shift:+.4g}" + (f", {where}" if where else "")
    verb = "move" if harm.shift >= 0 else "take"
    return (
        f"Shared failure modes {verb} {abs(harm.shift):.4g} of probability "
        f"{'onto' if harm.shift >= 0 else 'off'} harm: {harm.probability:.4g} exact against "
        f"{harm.independent:.4g} if the layers failed independently{ratio}"
        + (f"; the stops' shifts: {where}." if where else ".")
    )


def sequence_tables(result: EventTreeResult) -> list[Table]:
    """Return the outcome table, the functional events, the hazard (bow-tie) and the cost."""
    bow = result.hazard is not None
    columns = ["outcome", "P exact", "if independent", "shift (exact - independent)"]
    if bow:
        columns.append("sides multiplied")
    priced = result.expected_cost is not None
    if priced:
        columns.append("cost")
    rows: list[list[object]] = []
    for o in result.outcomes:
        row: list[object] = [o.outcome, o.probability, o.independent, o.shift]
        if bow:
            row.append(o.sides_multiplied)
        if priced:
            row.append(o.cost)
        rows.append(row)
    order = " → ".join(result.mitigate)
    title = (
        f"Bow-tie: {' + '.join(result.prevent)} before the hazard, then {order}"
        if bow
        else f"Where attacks on {order} are stopped"
    )
    notes = [headline(result), result.assumptions, f"engine: {result.engine}"]
    if bow:
        notes.insert(
            1,
            "sides multiplied: P(hazard) times the mitigation tree solved on its own, the "
            "error this table avoids when a mode is shared across the bow-tie",
        )
    tables = [Table(title, columns, rows, notes=notes)]
    tables.append(
        Table(
            "Layers as functional events" + (" (after the hazard)" if bow else ""),
            ["layer", "P(reached)", "if independent", "P(fails | reached)", "P(fails) alone"],
            [
                [b.layer, b.reached, b.reached_independent, b.fails_given_reached, b.fails_alone]
                for b in result.barriers
            ],
            notes=[
                "reached: every layer before it failed; P(fails | reached) is its branch "
                "probability in the exact tree, P(fails) alone its branch in the independence "
                "picture"
            ],
        )
    )
    if result.hazard is not None:
        h = result.hazard
        tables.append(
            Table(
                "Hazard: the fault tree of the prevention layers",
                ["quantity", "value"],
                [
                    ["P(hazard) exact", h.probability],
                    ["if independent", h.independent],
                    *[[f"P({lid} fails)", v] for lid, v in h.layer_probabilities.items()],
                    ["modes shared across the bow-tie", list(h.shared_modes)],
                ],
            )
        )
    cost = result.expected_cost
    if cost is not None:
        tables.append(
            Table(
                "Expected cost",
                ["quantity", "value"],
                [["exact", cost[0]], ["if independent", cost[1]]],
                notes=["outcomes without a cost given cost 0"],
            )
        )
    return tables

"""The sequences command: a stack met in order, or a bow-tie, as an event tree."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cofail.cli._common import (
    Fmt,
    FormatOpt,
    MatrixOpt,
    POpt,
    ResidualOpt,
    UncertainValueOpt,
    app,
    emit,
    load_matrix,
    name_matrix,
    parse_scenario,
    parse_stack,
    tell,
    write_sections,
)
from cofail.errors import InputError

if TYPE_CHECKING:
    from cofail.model import Matrix, Stack

__all__ = ["parse_costs", "sequences_cmd"]

_LAYERS = "Comma-separated layer ids, in the order an attack meets them."


@app.command("sequences")
def sequences_cmd(
    stack: Annotated[str | None, typer.Option("--stack", "-s", help=_LAYERS)] = None,
    prevent: Annotated[
        str | None,
        typer.Option(
            help="Bow-tie: layers before the hazard (it occurs when all of them fail, in any "
            "order); with --mitigate."
        ),
    ] = None,
    mitigate: Annotated[
        str | None, typer.Option(help="Bow-tie: layers after the hazard, in order.")
    ] = None,
    matrix: MatrixOpt = None,
    p: POpt = None,
    residual: ResidualOpt = None,
    uncertain: UncertainValueOpt = "pessimistic",
    cost: Annotated[
        list[str] | None,
        typer.Option(
            "--cost",
            help="LAYER=c: the cost of an attack stopped by LAYER (a late catch can "
            "cost more). Repeat; unpriced outcomes cost 0.",
        ),
    ] = None,
    harm_cost: Annotated[
        float | None, typer.Option("--harm-cost", help="The cost of harm (every layer fails).")
    ] = None,
    prevented_cost: Annotated[
        float | None,
        typer.Option("--prevented-cost", help="Bow-tie: the cost of an attack prevented."),
    ] = None,
    mef: Annotated[
        Path | None,
        typer.Option(
            help="Also write the model as an Open-PSA MEF event tree (SCRAM solves it) here."
        ),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option(help="Also write a report (the tree drawn, where attacks stop) here."),
    ] = None,
    time_limit: Annotated[
        float | None,
        typer.Option(
            "--time-limit",
            min=1e-6,
            help="Seconds the n + 1 exact solves may take by their estimate. Default 300.",
        ),
    ] = None,
    fmt: FormatOpt = Fmt.table,
) -> None:
    """Where attacks on the layers in order are stopped, or do harm: exact and if independent."""
    from cofail.cli._risk import _seconds, note
    from cofail.io import write_atomic
    from cofail.probability._cost import MAX_EXACT_SECONDS
    from cofail.report.sequence_views import sequence_tables
    from cofail.sequences import bow_tie, event_tree, event_tree_mef

    if (stack is None) == (prevent is None and mitigate is None):
        raise InputError("give --stack A,B,C, or a bow-tie's --prevent A,B --mitigate C,D")
    if stack is None and (prevent is None or mitigate is None):
        raise InputError("a bow-tie needs both sides: --prevent A,B --mitigate C,D")
    if stack is not None and stack.strip().lower() == "all":
        raise InputError("--stack: an event tree needs its layers in order; list them (A,B,C)")
    limit = MAX_EXACT_SECONDS if time_limit is None else _seconds(time_limit)
    m = load_matrix(matrix)
    scenario = parse_scenario(p, residual, uncertain).for_matrix(m)
    costs = parse_costs(cost or [], m)
    if stack is not None:
        if prevented_cost is not None:
            raise InputError("--prevented-cost: only a bow-tie (--prevent) has a prevented outcome")
        ordered, before = parse_stack(stack, m), None
        result = event_tree(
            m, ordered, scenario, costs=costs, harm_cost=harm_cost, max_seconds=limit,
            notify=note,
        )  # fmt: skip
    else:
        assert prevent is not None and mitigate is not None
        before, ordered = _side("--prevent", prevent, m), _side("--mitigate", mitigate, m)
        result = bow_tie(
            m, before, ordered, scenario, costs=costs, harm_cost=harm_cost,
            prevented_cost=prevented_cost, max_seconds=limit, notify=note,
        )  # fmt: skip
    if mef is not None:
        write_atomic(mef, event_tree_mef(m, ordered, scenario, prevent=before))
        tell(f"wrote {mef} (Open-PSA MEF; scram --probability 1 {mef} solves it)")
    if report is not None:
        from cofail.report.sequence_section import sequence_section

        write_sections(
            report,
            f"cofail event tree: {' → '.join(result.stack)}",
            scenario.describe(),
            [sequence_section(result)],
        )
    emit(sequence_tables(result), fmt, name_matrix(m, result.to_dict()))


def _side(option: str, text: str, matrix: Matrix) -> Stack:
    """One side of a bow-tie, named in errors by its option."""
    try:
        return parse_stack(text, matrix)
    except InputError as err:
        raise InputError(str(err).replace("--stack", option)) from None


def parse_costs(values: list[str], matrix: Matrix) -> dict[str, float]:
    """``--cost LAYER=c`` values as {layer id: cost}; the id matched as ``--stack`` matches it.

    >>> from cofail import catalog
    >>> parse_costs(["re=5", "DEBATE=1.5"], catalog.load())
    {'RE': 5.0, 'DEBATE': 1.5}
    """
    ids = list(matrix.layer_ids)
    by_upper = {lid.upper(): lid for lid in ids}
    out: dict[str, float] = {}
    for value in values:
        key, eq, number = value.partition("=")
        lid = key.strip() if key.strip() in ids else by_upper.get(key.strip().upper())
        if not eq or not key.strip():
            raise InputError(f"--cost {value!r}: expected LAYER=cost")
        if lid is None:
            raise InputError(f"--cost {value!r}: unknown layer (known: {', '.join(ids)})")
        try:
            out[lid] = float(number)
        except ValueError:
            raise InputError(f"--cost {value!r}: expected a number after '='") from None
    return out

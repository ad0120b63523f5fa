"""Structural commands: show, overlap, audit, claims."""

from __future__ import annotations

from typing import Annotated

import typer

from cofail.cli._common import (
    Fmt,
    FormatOpt,
    KOpt,
    MatrixOpt,
    StackOpt,
    Uncertain,
    UncertainOpt,
    app,
    emit,
    load_matrix,
    parse_stack,
    policy,
)
from cofail.errors import InputError
from cofail.model import Stack


@app.command()
def show(matrix: MatrixOpt = None, fmt: FormatOpt = Fmt.table) -> None:
    """Show the matrix: every layer's vulnerability to every failure mode."""
    from cofail.report.views import matrix_table

    m = load_matrix(matrix)
    table = matrix_table(m)
    data = {
        "matrix": m.id,
        "version": m.version,
        "layers": list(m.layer_ids),
        "failure_modes": list(m.mode_ids),
        "cells": {lid: {mid: m.cell(lid, mid).level for mid in m.mode_ids} for lid in m.layer_ids},
        "uncertain_cells": [list(c) for c in m.uncertain_cells()],
        "uncertain": "shown as U (no policy applied)",
    }
    emit([table], fmt, data)


@app.command("overlap")
def overlap_cmd(
    matrix: MatrixOpt = None,
    stack: StackOpt = "all",
    uncertain: UncertainOpt = Uncertain.pessimistic,
    cut: Annotated[float, typer.Option(help="Dendrogram cut (Jaccard distance) for groups.")] = 0.5,
    method: Annotated[
        str, typer.Option(help="Linkage: average, complete, single, weighted.")
    ] = "average",
    fmt: FormatOpt = Fmt.table,
) -> None:
    """Pairwise overlap of layers' failure profiles, and groups of similar layers."""
    from cofail.report.views import assumption_note, overlap_tables
    from cofail.structure import overlap

    if method not in ("average", "complete", "single", "weighted"):
        raise InputError(
            f"--method: expected average, complete, single or weighted, got {method!r}"
        )
    if not 0.0 <= cut <= 1.0:
        raise InputError(f"--cut: expected a Jaccard distance in [0, 1], got {cut:g}")
    m = load_matrix(matrix)
    reading = policy(uncertain)
    result = overlap(m, Stack.parse(stack, m), uncertain=reading, method=method, cut=cut)
    note = assumption_note(m, reading)
    emit(overlap_tables(result, note), fmt, {**result.to_dict(), "assumptions": note})


@app.command("audit")
def audit_cmd(
    matrix: MatrixOpt = None,
    stack: StackOpt = "all",
    size: Annotated[
        int | None, typer.Option(help="Rank every stack of this many layers instead.")
    ] = None,
    max_order: Annotated[
        int | None, typer.Option("--max-order", min=1, help="Only cut sets up to this order.")
    ] = None,
    k: KOpt = None,
    top: Annotated[int, typer.Option(min=1, help="With --size: how many stacks to list.")] = 10,
    uncertain: UncertainOpt = Uncertain.pessimistic,
    fmt: FormatOpt = Fmt.table,
) -> None:
    """What breaks a stack: uncovered and fragile modes, minimal cut sets, depth."""
    from cofail.report.views import assumption_note, audit_tables, ranking_table
    from cofail.structure import audit, rank_stacks

    m = load_matrix(matrix)
    reading = policy(uncertain)
    note = assumption_note(m, reading)
    if size is not None:
        ranked = rank_stacks(m, size, uncertain=reading, top=top)
        emit(
            [ranking_table(ranked, size, note)],
            fmt,
            {
                "size": size,
                "uncertain": reading,
                "assumptions": note,
                "stacks": [r.to_dict() for r in ranked],
            },
        )
        return
    parsed = parse_stack(stack, m, k)
    result = audit(m, parsed, max_order=max_order, uncertain=reading)
    emit(audit_tables(result, note), fmt, {**result.to_dict(), "assumptions": note})


@app.command()
def claims(
    matrix: MatrixOpt = None,
    uncertain: UncertainOpt = Uncertain.pessimistic,
    fmt: FormatOpt = Fmt.table,
) -> None:
    """Check the paper's claims against the matrix, with the computed evidence."""
    from cofail.claims import check_claims
    from cofail.report.views import assumption_note, claims_table

    m = load_matrix(matrix)
    reading = policy(uncertain)
    results = check_claims(m, reading)
    note = assumption_note(m, reading)
    emit(
        [claims_table(results, note)],
        fmt,
        {"uncertain": reading, "assumptions": note, "claims": [c.to_dict() for c in results]},
    )

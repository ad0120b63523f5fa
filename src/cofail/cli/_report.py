"""The report command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from cofail.cli._common import (
    MatrixOpt,
    Uncertain,
    UncertainOpt,
    app,
    load_matrix,
    policy,
)


@app.command()
def report(
    matrix: MatrixOpt = None,
    out: Annotated[
        Path, typer.Option(help="Folder for report.html, report.md and figures.")
    ] = Path("cofail-report"),
    uncertain: UncertainOpt = Uncertain.pessimistic,
) -> None:
    """Write the HTML report (self-contained) and its Markdown twin."""
    from cofail.report.document import write_report

    m = load_matrix(matrix)
    paths = write_report(m, out, uncertain=policy(uncertain))
    Console(highlight=False).print(
        f"report: {paths.html.resolve()}\nmarkdown: {paths.markdown.resolve()}"
    )

"""The report command."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cofail.cli._common import (
    Fmt,
    MatrixOpt,
    Uncertain,
    UncertainOpt,
    app,
    load_matrix,
    policy,
    written,
)
from cofail.cli._log_options import LogOptions, reads_logs

if TYPE_CHECKING:
    from cofail.report.section import Section


@app.command()
@reads_logs
def report(
    matrix: MatrixOpt = None,
    out: Annotated[
        Path, typer.Option(help="Folder for report.html, report.md and figures.")
    ] = Path("cofail-report"),
    uncertain: UncertainOpt = Uncertain.pessimistic,
    raters: Annotated[
        list[Path] | None,
        typer.Option(
            "--raters",
            help="Rater files (repeat): add 'Where the raters disagree'; without --matrix the "
            "report is on their majority consensus.",
        ),
    ] = None,
    log: Annotated[
        list[Path] | None,
        typer.Option(help="Evaluation log(s), any format `empirical` reads, to add as evidence."),
    ] = None,
    sequences: Annotated[
        str | None,
        typer.Option(
            "--sequences",
            help="Also this stack as an event tree (A,B,C in deployment order): the tree drawn "
            "and where attacks stop, as cofail sequences gives them (its default scenario).",
        ),
    ] = None,
    fmt: Annotated[
        Fmt, typer.Option("--format", "-f", help="How to report what was written.")
    ] = Fmt.table,
    *,
    log_options: LogOptions,
) -> None:
    """Write the HTML report (self-contained) and its Markdown twin."""
    from cofail.report.matrix_report import write_report

    panel = None
    if raters:
        from cofail.raters import merge, read_panel

        panel = read_panel(raters)
    m = merge(panel).matrix if panel is not None and matrix is None else load_matrix(matrix)
    evidence = None
    extra: list[Section] = []
    if log:  # cofail.empirical (DuckDB, pyarrow) only when there is a log to read
        from cofail.empirical import analyse, read

        spec = log_options.spec()
        evidence = analyse(read(spec, log))
        if spec.scored and spec.budget is not None:  # scores: what the budget buys, too
            from cofail.empirical import read_scores
            from cofail.report.score_section import score_section
            from cofail.scores import analyse_scores

            scored = read_scores(spec, log)
            if scored.n_honest:
                extra.append(score_section(analyse_scores(scored, spec)))
    if sequences is not None:
        from cofail.model import Stack
        from cofail.probability import Scenario
        from cofail.report.sequence_section import sequence_section
        from cofail.sequences import event_tree

        scenario = Scenario(uncertain=policy(uncertain)).for_matrix(m)
        extra.append(sequence_section(event_tree(m, Stack.parse(sequences, m), scenario)))
    from cofail.cli._risk import note
    from cofail.probability._cost import still_running

    going_on = (
        "the report has run {:g} s and goes on: it weighs every stack of up to 25 layers "
        "(frontier, depth, exact risk) and re-draws the conclusions under the U cells"
    )
    with still_running(note, going_on.format):
        paths = write_report(
            m, out, uncertain=policy(uncertain), evidence=evidence, raters=panel, extra=extra
        )
    data = {
        "html": str(paths.html.resolve()),
        "markdown": str(paths.markdown.resolve()),
        "matrix": m.id,
        "version": m.version,
        "uncertain": policy(uncertain),
    }
    if fmt is Fmt.table:
        print(f"report: {data['html']}\nmarkdown: {data['markdown']}")  # plain: no markup
    else:
        written(fmt, data, "")

"""The scores command: scored layers at a false-positive budget, alone and together."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cofail import __version__
from cofail.cli._common import Fmt, FormatOpt, SeedOpt, app, emit, tell
from cofail.cli._log_options import LogOptions, parse_budget, reads_logs
from cofail.errors import InputError


@app.command("scores")
@reads_logs
def scores_cmd(
    logs: Annotated[
        list[Path],
        typer.Argument(help="Attack-case logs (or logs of both sets, with --set-col)."),
    ],
    alpha: Annotated[float, typer.Option(min=0.0001, max=0.5, help="1 − confidence level.")] = 0.05,
    n_boot: Annotated[int, typer.Option(min=100, max=100_000, help="Bootstrap resamples.")] = 2000,
    seed: SeedOpt = 0,
    budgets: Annotated[
        str | None,
        typer.Option(
            "--budgets",
            help="The curve's budgets, comma-separated (0.001,0.01,5%) "
            "(default: 50 from 0.1% to 20%, log-spaced, and --budget).",
        ),
    ] = None,
    cascade: Annotated[
        bool,
        typer.Option(
            "--cascade",
            help="Also search rule 'all': audit only when every layer flags (each checked "
            "only when the one before flagged).",
        ),
    ] = False,
    no_combination: Annotated[
        bool,
        typer.Option("--no-combination", help="Skip the search for the best split of the budget."),
    ] = False,
    folds: Annotated[
        int | None,
        typer.Option(
            min=2,
            max=20,
            help="Cross-validation folds for the combination's out-of-sample figure (default 5; "
            "2 past 50,000 honest cases).",
        ),
    ] = None,
    report: Annotated[
        Path | None, typer.Option(help="Also write a report (HTML, Markdown, SVG) here.")
    ] = None,
    fmt: FormatOpt = Fmt.table,
    *,
    log_options: LogOptions,
) -> None:
    """Scored monitors and classifiers at a false-positive budget: each layer's threshold,
    catch rate and ROC AUC, how often they all miss the same attack against independence,
    and how best to split the budget across them (in sample and cross-validated)."""
    from cofail.empirical import read_scores
    from cofail.report.score_views import score_tables
    from cofail.scores import analyse_scores

    if not 0.0001 <= alpha <= 0.5:
        raise InputError(f"--alpha: expected a number in [0.0001, 0.5], got {alpha:g}")
    spec = log_options.spec()
    if spec.budget is None:
        raise InputError(
            "cofail scores needs --budget B, the false-positive rate on honest cases "
            "(e.g. --budget 1%)"
        )
    curve = None
    if budgets is not None:
        parsed = [parse_budget(b, "--budgets") for b in budgets.split(",") if b.strip()]
        curve = sorted({b for b in parsed if b is not None} | {spec.budget})
    scored = read_scores(spec, logs)
    result = analyse_scores(
        scored,
        spec,
        alpha=alpha,
        n_boot=n_boot,
        seed=seed,
        budgets=curve,
        combine_rule=None if no_combination else "any",
        cascade=cascade,
        folds=folds,
    )
    for note in result.notes:
        tell(note, label="note: ", style="yellow")
    emit(score_tables(result), fmt, result.to_dict())
    if report is not None:
        from cofail.report.document import write_document
        from cofail.report.score_section import score_section

        paths = write_document(
            "cofail scored-layers report",
            f"cofail {__version__} · {scored.n_attack} attack and {scored.n_honest} honest cases",
            [score_section(result)],
            report,
        )
        tell(f"report: {paths.html.resolve()}")

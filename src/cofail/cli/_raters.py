"""Several raters: elicit, agreement, merge."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from cofail.cli._common import Fmt, FormatOpt, MatrixOpt, SeedOpt, app, emit, load_matrix, written
from cofail.cli._log_options import LogOptions, reads_logs
from cofail.errors import InputError

RaterFilesArg = Annotated[
    list[Path],
    typer.Argument(help="Rater files (.yaml/.json/.csv): matrices whose cells may be blank."),
]
ForceOpt = Annotated[bool, typer.Option(help="Overwrite existing files.")]


class Rule(StrEnum):
    majority = "majority"
    mean = "mean"
    dawid_skene = "dawid-skene"


class Weights(StrEnum):
    equal = "equal"
    evidence = "evidence"


@app.command()
def elicit(
    raters: Annotated[int, typer.Option("--raters", "-n", min=1, help="How many templates.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write them to.")],
    matrix: MatrixOpt = None,
    with_rationales: Annotated[
        bool,
        typer.Option(
            "--with-rationales",
            help="Give each cell the matrix's rationale and source as a comment to read "
            "(never its level).",
        ),
    ] = False,
    force: ForceOpt = False,
    fmt: FormatOpt = Fmt.table,
) -> None:
    """Write blind rater templates: the matrix's layers and failure modes, every level blank."""
    from cofail.io import write_atomic
    from cofail.raters import elicitation_templates

    m = load_matrix(matrix)
    if out.exists() and not out.is_dir():
        raise InputError("is a file; --out needs a folder", source=str(out))
    files = elicitation_templates(m, raters, rationales=with_rationales)
    paths = [out / name for name in files]
    # Every path is checked before any is written: a refusal leaves no half-written set.
    existing = [p for p in paths if p.exists()]
    if existing and not force:
        raise InputError("file exists; pass --force to overwrite it", source=str(existing[0]))
    for path, text in zip(paths, files.values(), strict=True):
        write_atomic(path, text)
    names = ", ".join(p.name for p in paths[:3]) + (", …" if len(paths) > 3 else "")
    written(
        fmt,
        {
            "wrote": [str(p) for p in paths],
            "from": m.id,
            "version": m.version,
            "rationales": with_rationales,
        },
        f"wrote {len(paths)} rater template{'s' if len(paths) != 1 else ''} to {out} ({names}) "
        f"from {m.id} v{m.version}; when they are filled in: cofail agreement {out}/*.yaml",
    )


@app.command("agreement")
def agreement_cmd(
    files: RaterFilesArg,
    uncertain_as: Annotated[
        float | None,
        typer.Option(
            "--u-as",
            help="At the interval level, read a U vote as this number in [0, 1] instead of "
            "leaving it out.",
        ),
    ] = None,
    bootstrap: Annotated[
        int, typer.Option("--bootstrap", min=1, help="Bootstrap replicates for the intervals.")
    ] = 2000,
    seed: SeedOpt = 0,
    top: Annotated[
        int, typer.Option(min=1, help="How many of the most divisive cells to list.")
    ] = 10,
    fmt: FormatOpt = Fmt.table,
) -> None:
    """How far raters agree: Krippendorff's alpha (nominal, ordinal, interval) with intervals."""
    from cofail.raters import agreement, read_panel
    from cofail.report.rater_views import agreement_tables

    if uncertain_as is not None and not 0.0 <= uncertain_as <= 1.0:  # also refuses NaN
        raise InputError(f"--u-as: expected a number in [0, 1], got {uncertain_as:g}")
    result = agreement(
        read_panel(files), uncertain_interval=uncertain_as, replicates=bootstrap, seed=seed, top=top
    )
    emit(agreement_tables(result), fmt, result.to_dict())


@app.command("merge")
@reads_logs
def merge_cmd(
    files: RaterFilesArg,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Consensus matrix to write (.yaml/.json/.csv).")
    ],
    rule: Annotated[Rule, typer.Option(help="How a cell's votes become its level.")] = (
        Rule.majority
    ),
    quorum: Annotated[
        int, typer.Option(min=1, help="Fewer votes than this on a cell make it U.")
    ] = 1,
    split_as_u: Annotated[
        bool,
        typer.Option(
            "--split-as-u",
            help="Make every cell the raters split on U, with the beta of its votes, so the "
            "analysis carries all of their disagreement.",
        ),
    ] = False,
    weights: Annotated[
        Weights,
        typer.Option(
            help="equal, or evidence: weigh each rater by their score on the cells --log "
            "measures (majority and mean only)."
        ),
    ] = Weights.equal,
    log: Annotated[
        list[Path] | None,
        typer.Option(
            help="With --weights evidence: evaluation log(s) whose strata are failure modes "
            "(e.g. --stratum-col mode), any format `empirical` reads."
        ),
    ] = None,
    force: ForceOpt = False,
    fmt: FormatOpt = Fmt.table,
    *,
    log_options: LogOptions,
) -> None:
    """Merge rater files into one consensus matrix whose cells keep their votes."""
    from cofail.io import format_of, write_matrix
    from cofail.raters import RULES, evidence_weights, merge, read_panel
    from cofail.report.rater_views import evidence_table, merge_tables

    kind = format_of(out)  # first: an unknown suffix is refused before the raters are read
    if out.exists() and not force:
        raise InputError("file exists; pass --force to overwrite it", source=str(out))
    if (weights is Weights.evidence) != bool(log):
        raise InputError(
            "--weights evidence needs --log FILE (the evaluation log the raters are scored on)"
            if log is None or not log
            else "--log: the log serves --weights evidence; give that too"
        )
    chosen = next(r for r in RULES if r == rule.value)  # the library's Literal, for mypy
    panel = read_panel(files)
    evidence = None
    if log:
        from cofail.empirical import read

        evidence = evidence_weights(panel, read(log_options.spec(), log))
    result = merge(
        panel,
        chosen,
        quorum,
        weights=None if evidence is None else evidence.weights,
        split_uncertain=split_as_u,
    )
    write_matrix(result.matrix, out)
    message = f"wrote {out}"
    if kind == "csv":
        message += (
            " (CSV keeps levels only: the votes, distributions, rationales and sources are "
            "left out)"
        )
    tables = merge_tables(result, message)
    data = {"wrote": str(out), **result.to_dict(), "note": message}
    if evidence is not None:
        tables.insert(0, evidence_table(evidence))
        data["evidence"] = evidence.to_dict()
    emit(tables, fmt, data)
    if fmt is Fmt.table:
        print(message, file=sys.stderr)

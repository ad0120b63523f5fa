"""The fit command: evaluation logs → the common-cause model's parameters."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cofail.cli._common import Fmt, FormatOpt, SeedOpt, app, emit, load_matrix, name_matrix, tell
from cofail.cli._log_options import LogOptions, reads_logs
from cofail.errors import InputError

if TYPE_CHECKING:
    from cofail.empirical import PatternHistogram


@app.command("fit")
@reads_logs
def fit_cmd(
    logs: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Log files (any format `empirical` reads); none with --check-structure."
        ),
    ] = None,
    matrix: Annotated[
        str | None,
        typer.Option(
            "--matrix",
            "-m",
            help="Matrix whose structure to fit (its V/U cells estimated, N cells tested); "
            "without it, the number of latent modes is chosen by BIC.",
        ),
    ] = None,
    binary: Annotated[
        bool, typer.Option(help="Hold V cells at q = 1; estimate U cells, p and r only.")
    ] = False,
    stack: Annotated[
        str | None,
        typer.Option(
            "--stack", "-s", help="Layers whose P(stack fails) to predict (default: all)."
        ),
    ] = None,
    alpha: Annotated[float, typer.Option(min=0.0001, max=0.5, help="1 − confidence level.")] = 0.05,
    max_modes: Annotated[
        int, typer.Option(min=0, max=8, help="Without --matrix: most latent modes tried.")
    ] = 4,
    out: Annotated[
        Path | None,
        typer.Option(help="Write the matrix with the fitted q, p and r here (needs --matrix)."),
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite --out.")] = False,
    check_structure: Annotated[
        bool,
        typer.Option(
            "--check-structure",
            help="Read no log: say which parameters of the matrix (over --stack) no log can "
            "separate (rank of the pattern probabilities' Jacobian).",
        ),
    ] = False,
    stratum: Annotated[
        str | None,
        typer.Option(
            "--stratum",
            help="Fit one stratum of the log (its --stratum-col value); default: all pooled.",
        ),
    ] = None,
    calibrate: Annotated[
        int,
        typer.Option(
            min=0,
            max=100_000,
            metavar="N",
            help="Calibrate each identified interval's likelihood-ratio cutoff by a "
            "parametric bootstrap of N logs drawn from the fitted model (a Bartlett "
            "correction; 100 is typical, seconds to minutes); 0: the chi-square cutoff.",
        ),
    ] = 0,
    seed: SeedOpt = 0,
    fmt: FormatOpt = Fmt.table,
    *,
    log_options: LogOptions,
) -> None:
    """Fit the common-cause model to evaluation logs: p, q and r with intervals, the
    judgements the data contradict, and P(stack fails) predicted."""
    from cofail.empirical import read
    from cofail.fit import discover, fit_matrix
    from cofail.report.fit_views import discovery_tables, fit_tables, structure_tables

    if check_structure:
        from cofail.fit import check_matrix

        if matrix is None:
            raise InputError("--check-structure checks a matrix: give it with --matrix")
        if logs:
            raise InputError("--check-structure reads no log: leave the log files out")
        m = load_matrix(matrix)
        chosen = None if stack is None or stack.strip().lower() == "all" else _layers(stack)
        checked = check_matrix(m, chosen, binary=binary, seed=seed)
        data = name_matrix(m, {"layers": list(chosen or m.layer_ids), **checked.to_dict()})
        emit(structure_tables(data), fmt, data)
        return
    if not logs:
        raise InputError("give the log files to fit (or --check-structure with --matrix)")
    if not 0.0001 <= alpha <= 0.5:  # NaN passes typer's range check; it fails this one
        raise InputError(f"--alpha: expected a number in [0.0001, 0.5], got {alpha:g}")
    # --out is refused before the log is read: the fit can take minutes.
    if out is not None and matrix is None:
        raise InputError("--out writes a fitted matrix: give the matrix to fit with --matrix")
    if out is not None and out.exists() and not force:
        raise InputError("file exists; pass --force to overwrite it", source=str(out))
    histogram = read(log_options.spec(), logs)
    if stratum is not None:
        histogram = _one_stratum(histogram, stratum, log_options.stratum_col)
    layers = None if stack is None or stack.strip().lower() == "all" else _layers(stack)
    if matrix is None:
        if layers is not None:
            raise InputError("--stack predicts from a fitted matrix: give --matrix")
        if calibrate:
            raise InputError("--calibrate calibrates a fitted matrix's intervals: give --matrix")
        found = discover(histogram, max_modes=max_modes, seed=seed)
        data = {**found.to_dict(), "source": histogram.source, "polarity": histogram.polarity}
        emit(discovery_tables(data), fmt, data)
        return
    m = load_matrix(matrix)
    result = fit_matrix(histogram, m, binary=binary, alpha=alpha, seed=seed, calibrate=calibrate)
    data = name_matrix(m, {**result.to_dict(layers), "polarity": histogram.polarity})
    if out is not None:
        from cofail.io import write_matrix

        write_matrix(result.to_matrix(m, ", ".join(p.name for p in logs)), out)
        data["wrote"] = str(out)
    emit(fit_tables(data), fmt, data)
    if out is not None:
        tell(f"wrote {out}: the matrix with the fitted q, p and r (every command reads it)")


def _layers(stack: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in stack.split(","))


def _one_stratum(histogram: PatternHistogram, stratum: str, column: str | None) -> PatternHistogram:
    """Return the histogram of one stratum alone."""
    from dataclasses import replace

    if column is None:
        raise InputError("--stratum picks a value of --stratum-col: give the column too")
    if stratum not in histogram.strata:
        raise InputError(
            f"--stratum {stratum!r}: no such value in column {column!r} (values: "
            f"{', '.join(histogram.strata)})"
        )
    return replace(
        histogram,
        patterns={stratum: histogram.patterns[stratum]},
        counts={stratum: histogram.counts[stratum]},
        source=f"{histogram.source} ({column} = {stratum})",
    )

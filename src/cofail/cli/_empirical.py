"""Evidence commands: empirical (evaluation logs → co-failure) and simulate."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

if TYPE_CHECKING:
    from cofail.empirical import LogSpec, PatternHistogram

import typer

from cofail.cli._common import (
    Fmt,
    FormatOpt,
    MatrixOpt,
    POpt,
    ResidualOpt,
    SeedOpt,
    StackOpt,
    UncertainValueOpt,
    app,
    emit,
    load_matrix,
    name_matrix,
    parse_scenario,
    parse_stack,
    tell,
    write_sections,
    written,
)
from cofail.cli._log_options import LogOptions, reads_logs
from cofail.errors import InputError
from cofail.io.files import write_atomic


@app.command("empirical")
@reads_logs
def empirical_cmd(
    logs: Annotated[
        list[Path], typer.Argument(help="Log files (CSV, Parquet, JSONL, or a tool's).")
    ],
    stack: Annotated[
        str | None,
        typer.Option("--stack", "-s", help="Layers whose joint failure to test (default: all)."),
    ] = None,
    alpha: Annotated[float, typer.Option(min=0.0001, max=0.5, help="1 − confidence level.")] = 0.05,
    n_boot: Annotated[int, typer.Option(min=100, max=100_000, help="Bootstrap resamples.")] = 2000,
    seed: SeedOpt = 0,
    report: Annotated[Path | None, typer.Option(help="Also write an evidence report here.")] = None,
    dask: Annotated[
        str | None,
        typer.Option(
            help="Build the histogram on Dask: a scheduler address, or 'local' for a local cluster."
        ),
    ] = None,
    fmt: FormatOpt = Fmt.table,
    *,
    log_options: LogOptions,
) -> None:
    """Measured co-failure from evaluation logs: which layers fail on the same cases."""
    from cofail.empirical import analyse, log_stack, read
    from cofail.report.evidence_section import evidence_section, evidence_tables

    if not 0.0001 <= alpha <= 0.5:  # NaN passes typer's range check; it fails this one
        raise InputError(f"--alpha: expected a number in [0.0001, 0.5], got {alpha:g}")
    spec = log_options.spec()
    histogram = _dask_histogram(logs, spec, dask) if dask else read(spec, logs)
    analysis = analyse(histogram, alpha=alpha, n_boot=n_boot, seed=seed)
    layers = log_stack(stack, histogram.layers)
    result = analysis.pooled.stack_failure_(layers)
    data = analysis.to_dict(layers)
    note = f"{histogram.n_cases:g} cases from {histogram.source}; polarity: {histogram.polarity}"
    tables = evidence_tables(analysis, [result], note, layers)
    for w in analysis.warnings:  # the readers' notes are among them
        tell(w, label="warning: ", style="yellow")
    emit(tables, fmt, data)
    if report is not None:
        write_sections(report, "cofail evidence report", note, [evidence_section(analysis)])


def _dask_histogram(logs: list[Path], spec: LogSpec, address: str) -> PatternHistogram:
    from cofail.empirical import histogram_dask

    try:
        import distributed
    except ImportError:
        raise InputError("--dask needs the cluster extra: pip install 'cofail[cluster]'") from None
    api: Any = distributed  # untyped
    if address == "local":
        with (
            api.LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster,
            api.Client(cluster) as client,
        ):
            return histogram_dask(logs, spec, scheduler=client)
    if not all(str(p).endswith(".parquet") for p in logs):  # before waiting on a cluster
        raise InputError("--dask reads Parquet shards (.parquet); convert the log first")
    try:
        client = api.Client(address, timeout=_CONNECT_SECONDS)
    except (OSError, TimeoutError) as exc:
        raise InputError(
            f"--dask {address}: no Dask scheduler answered within {_CONNECT_SECONDS} s ({exc}); "
            "check the address, or use --dask local for a cluster on this machine"
        ) from None
    with client:
        return histogram_dask(logs, spec, scheduler=client)


_CONNECT_SECONDS = 10
"""How long --dask waits for its scheduler to answer."""


MAX_SIMULATED_CASES = 100_000_000
"""More simulated cases than this would need tens of GB (one float per case and layer)."""


@app.command("simulate")
def simulate_cmd(
    stack: StackOpt,
    cases: Annotated[
        int, typer.Option(min=1, max=MAX_SIMULATED_CASES, help="Number of test cases to draw.")
    ],
    out: Annotated[Path, typer.Option(help="Output file: .csv or .parquet (wide format).")],
    matrix: MatrixOpt = None,
    p: POpt = None,
    residual: ResidualOpt = None,
    uncertain: UncertainValueOpt = "pessimistic",
    seed: SeedOpt = 0,
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
    fmt: Annotated[
        Fmt, typer.Option("--format", "-f", help="How to report what was written.")
    ] = Fmt.table,
) -> None:
    """Draw a synthetic evaluation log from the probability model (wide: case + one column per layer)."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from cofail.empirical import simulate

    m = load_matrix(matrix)
    scenario = parse_scenario(p, residual, uncertain).for_matrix(m)
    if out.exists() and not force:
        raise InputError("file exists; pass --force to overwrite it", source=str(out))
    table = simulate(m, parse_stack(stack, m), scenario, cases, seed=seed)
    import io

    buffer = io.BytesIO()
    if out.suffix.lower() == ".parquet":
        pq.write_table(table, buffer)
    elif out.suffix.lower() == ".csv":
        pacsv.write_csv(table, buffer)
    else:
        raise InputError("expected a .csv or .parquet file name", source=str(out))
    write_atomic(out, buffer.getvalue())
    data = name_matrix(
        m,
        {
            "wrote": str(out),
            "cases": cases,
            "layers": table.num_columns - 1,
            "seed": seed,
            "assumptions": scenario.describe(),
        },
    )
    written(
        fmt,
        data,
        f"wrote {cases} cases to {out} ({data['assumptions']}); analyse with: "
        f"cofail empirical {out} --wide",
    )


__all__ = ["empirical_cmd", "simulate_cmd"]

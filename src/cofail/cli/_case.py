"""The case command: a stack's safety case as gsn2x YAML."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from cofail.cli._common import (
    Fmt,
    MatrixOpt,
    POpt,
    ResidualOpt,
    StackOpt,
    UncertainValueOpt,
    app,
    load_matrix,
    name_matrix,
    parse_scenario,
    parse_stack,
    written,
)
from cofail.cli._log_options import LogOptions, reads_logs
from cofail.errors import InputError

CHECKED = "gsn2x's per-file checks V01-V13, C01-C04, C08, C11-C16: no error"


@app.command("case")
@reads_logs
def case_cmd(
    stack: StackOpt,
    matrix: MatrixOpt = None,
    p: POpt = None,
    residual: ResidualOpt = None,
    uncertain: UncertainValueOpt = "pessimistic",
    target: Annotated[
        float | None,
        typer.Option(help="The claim: P(stack fails) <= this (default: the computed figure)."),
    ] = None,
    log: Annotated[
        list[Path] | None,
        typer.Option(help="Evaluation log(s), any format `empirical` reads: measured co-failure."),
    ] = None,
    fit: Annotated[
        bool,
        typer.Option(
            "--fit",
            help="With --log: fit the model to it (as `cofail fit LOG -m M`); each judgement "
            "the log contradicts becomes a defeater of its cell.",
        ),
    ] = False,
    to: Annotated[
        str, typer.Option("--to", help="Format: gsn2x (YAML) or ltac (verocase's LTAC).")
    ] = "gsn2x",
    out: Annotated[
        Path | None, typer.Option(help="File to write, e.g. case.gsn.yaml (default: stdout).")
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
    fmt: Annotated[
        Fmt, typer.Option("--format", "-f", help="With --out: how to report what was written.")
    ] = Fmt.table,
    *,
    log_options: LogOptions,
) -> None:
    """The stack's safety case: a GSN argument (gsn2x YAML or LTAC) from audit, risk and evidence."""
    from cofail.case import build_case, check_gsn2x, dumps_gsn2x, dumps_ltac
    from cofail.io import write_atomic

    if to not in ("gsn2x", "ltac"):
        raise InputError(f"--to: expected gsn2x or ltac, got {to!r}")
    if target is not None and not 0.0 < target < 1.0:  # before any log is read
        raise InputError(f"--target: expected a probability in (0, 1), got {target:g}")
    if fit and not log:
        raise InputError("--fit fits the model to a log: give it with --log")
    if out is not None and out.exists() and not force:
        raise InputError("file exists; pass --force to overwrite it", source=str(out))
    m = load_matrix(matrix)
    parsed = parse_stack(stack, m)
    scenario = parse_scenario(p, residual, uncertain).for_matrix(m)
    histogram = analysis = None
    if log:  # cofail.empirical only when there is a log to read
        from cofail.empirical import analyse, read

        histogram = read(log_options.spec(), log)
        analysis = analyse(histogram)
    contradicted: tuple[dict[str, object], ...] = ()
    if fit and histogram is not None:
        from cofail.fit import fit_matrix

        contradicted = fit_matrix(histogram, m).contradicted
    case = build_case(
        m,
        parsed,
        scenario,
        target=target,
        histogram=histogram,
        analysis=analysis,
        contradicted=contradicted,
    )
    text = dumps_gsn2x(case)
    findings = check_gsn2x(text)
    errors = [f for f in findings if f.severity == "error"]
    if errors:  # cofail's own output: a failure here is a bug, not the user's mistake
        raise RuntimeError(f"the case fails gsn2x's checks: {errors[0]}")
    if to == "ltac":
        text = dumps_ltac(case)
    if out is None:
        sys.stdout.write(text)
        return
    write_atomic(out, text)
    data = name_matrix(m, {"wrote": str(out), "to": to, "stack": "+".join(parsed.layers)})
    data = {**data, **case.to_dict(), "target": target, "checks": CHECKED}
    data["warnings"] = [str(f) for f in findings]
    written(fmt, data, f"wrote {out} ({len(case.nodes)} elements; {scenario.describe()})")


__all__ = ["case_cmd"]

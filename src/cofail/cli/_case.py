"""The case command: a stack's safety case as gsn2x YAML."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cofail.cli._common import (
    Fmt,
    MatrixOpt,
    POpt,
    ResidualOpt,
    UncertainValueOpt,
    app,
    load_matrix,
    name_matrix,
    parse_scenario,
    parse_stack,
    write_sections,
    written,
)
from cofail.cli._log_options import LogOptions, reads_logs
from cofail.errors import InputError

if TYPE_CHECKING:
    from cofail.model import Matrix
    from cofail.probability import Scenario

CHECKED = "gsn2x's per-file checks V01-V13, C01-C04, C08, C11-C16: no error"
MODULES_CHECKED = "gsn2x's checks V01-V13 and C01-C16 over the modules together: no error"


@app.command("case")
@reads_logs
def case_cmd(
    stack: Annotated[
        str | None,
        typer.Option("--stack", "-s", help="Comma-separated layer ids, or 'all'."),
    ] = None,
    subsystem: Annotated[
        list[str] | None,
        typer.Option(
            "--subsystem",
            help="A deployment instead of --stack: NAME=LAYERS, repeated; one gsn2x module per "
            "subsystem and one joining them, written to the --out folder.",
        ),
    ] = None,
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
    report: Annotated[
        Path | None,
        typer.Option(help="Also write a report with the argument drawn as a GSN diagram here."),
    ] = None,
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
    if (stack is None) == (not subsystem):
        raise InputError("give --stack, or a deployment's --subsystem NAME=LAYERS (not both)")
    m = load_matrix(matrix)
    scenario = parse_scenario(p, residual, uncertain).for_matrix(m)
    if subsystem:
        if log:
            raise InputError("--log argues one stack's evidence: give it with --stack")
        _deployment(m, subsystem, scenario, target, to, out, force=force, fmt=fmt)
        return
    assert stack is not None
    if out is not None and out.exists() and not force:
        raise InputError("file exists; pass --force to overwrite it", source=str(out))
    parsed = parse_stack(stack, m)
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
    if report is not None:
        from cofail.report.case_figure import case_section

        write_sections(
            report,
            f"cofail safety case: {'+'.join(parsed.layers)}",
            scenario.describe(),
            [case_section(case)],
        )
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


def _deployment(
    m: Matrix,
    subsystems: list[str],
    scenario: Scenario,
    target: float | None,
    to: str,
    out: Path | None,
    *,
    force: bool,
    fmt: Fmt,
) -> None:
    """Write a deployment's modules (gsn2x: one file each; LTAC: one file) into ``out``."""
    from cofail.case import build_deployment, check_gsn2x_modules, dumps_gsn2x, dumps_ltac_modules
    from cofail.io import write_atomic

    parts = {}
    for text in subsystems:
        name, eq, layers = text.partition("=")
        if not eq or not name.strip():
            raise InputError(f"--subsystem: expected NAME=LAYERS, got {text!r}")
        parts[name.strip()] = parse_stack(layers, m)
    if out is None:
        raise InputError("--subsystem writes one file per module: give the folder with --out")
    names = ["deployment", *parts]
    if len(set(names)) != len(names):
        raise InputError("--subsystem: names must differ from one another and from 'deployment'")
    paths = [out / "case.ltac"] if to == "ltac" else [out / f"{n}.gsn.yaml" for n in names]
    if not force and (taken := [x for x in paths if x.exists()]):
        raise InputError("file exists; pass --force to overwrite it", source=str(taken[0]))
    cases = build_deployment(m, parts, scenario, target=target)
    files = {f"{c.name}.gsn.yaml": dumps_gsn2x(c) for c in cases}
    findings = check_gsn2x_modules(files)
    if errors := [f for f in findings if f.severity == "error"]:  # a bug, as for one stack
        raise RuntimeError(f"the modules fail gsn2x's checks: {errors[0]}")
    texts = [dumps_ltac_modules(cases)] if to == "ltac" else list(files.values())
    for path, text in zip(paths, texts, strict=True):
        write_atomic(path, text)
    top = cases[0]
    data = name_matrix(m, {"wrote": [str(x) for x in paths], "to": to})
    data = {**data, **top.to_dict(), "modules": names, "target": target, "checks": MODULES_CHECKED}
    data["warnings"] = [str(f) for f in findings]
    written(fmt, data, f"wrote {', '.join(map(str, paths))} ({len(cases)} modules)")


__all__ = ["case_cmd"]

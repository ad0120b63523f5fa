"""Risk commands: risk (exact P(stack fails)), export (Open-PSA MEF), mef (fault trees),
uncertainty."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cofail.cli._common import (
    Fmt,
    FormatOpt,
    KOpt,
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
    parse_stack,
    tell,
    written,
)
from cofail.errors import InputError
from cofail.io import write_atomic
from cofail.report.tabular import Table

if TYPE_CHECKING:
    from cofail.faulttree import FaultTreeResult
    from cofail.model import Matrix, Stack, UncertainPolicy
    from cofail.probability import MonteCarloRisk


@app.command("risk")
def risk_cmd(
    stack: StackOpt = "all",
    matrix: MatrixOpt = None,
    p: POpt = None,
    residual: ResidualOpt = None,
    uncertain: UncertainValueOpt = "pessimistic",
    k: KOpt = None,
    mc: Annotated[
        int,
        typer.Option(
            min=0,
            max=10**8,
            help="Also estimate by Monte Carlo with this many samples, with a 95% interval; the "
            "estimate alone when the exact solve is estimated past --time-limit.",
        ),
    ] = 0,
    time_limit: Annotated[
        float | None,
        typer.Option(
            "--time-limit",
            min=1e-6,
            help="Seconds the exact solve may take by its estimate, made before it starts from "
            "its size (2^min(layers, modes) terms) and the engine's route. Past it: an error "
            "with the estimate, or with --mc N the Monte Carlo estimate alone. Default 300.",
        ),
    ] = None,
    seed: SeedOpt = 0,
    importance: Annotated[
        bool | None,
        typer.Option(
            help="Importance factors of every mode and layer: one extra pass for a stack of up "
            "to 20 layers (24 for an AND stack with 0/1 cells), 2 exact solves for a mode with "
            "graded cells and for every event of a larger stack. Default: computed unless that "
            "would take over 30 s, with a note when skipped."
        ),
    ] = None,
    fmt: FormatOpt = Fmt.table,
) -> None:
    """Exact P(stack fails) with shared failure modes, against the independence picture."""
    from cofail.probability import ExactTooSlowError, Scenario, monte_carlo_risk, risk
    from cofail.probability._cost import MAX_EXACT_SECONDS

    limit = MAX_EXACT_SECONDS if time_limit is None else _seconds(time_limit)
    m = load_matrix(matrix)
    parsed = parse_stack(stack, m, k)
    scenario = Scenario.parse(p, residual, uncertain).for_matrix(m)
    try:
        result = risk(
            m, parsed, scenario, mc_samples=mc, seed=seed, with_importance=importance,
            max_seconds=limit, notify=note,
        )  # fmt: skip
    except ExactTooSlowError as exc:
        if not mc:
            raise
        note(f"{exc.reason}: the Monte Carlo estimate alone")
        estimated = monte_carlo_risk(m, parsed, scenario, mc, exc.cost, seed)
        _emit_estimate(estimated, name_matrix(m, estimated.to_dict()), fmt)
        return
    data = name_matrix(m, result.to_dict())
    summary_rows: list[list[object]] = [
        ["exact P(stack fails)", result.probability],
        ["if layers failed independently", result.independent],
        ["ratio (exact / independent)", result.ratio],
    ]
    if result.monte_carlo:
        mc_data = data["monte_carlo"]
        summary_rows += [
            [f"Monte Carlo ({mc_data['samples']} samples)", mc_data["estimate"]],
            ["Monte Carlo 95% interval", mc_data["interval"]],
            ["exact inside the interval", "yes" if mc_data["exact_within_interval"] else "NO"],
        ]
    tables = [
        Table(
            f"Risk of {'+'.join(parsed.layers)}",
            ["quantity", "value"],
            summary_rows,
            notes=[data["assumptions"], f"engine: {result.engine}"]
            + ([result.importance_note] if result.importance_note else []),
        ),
        Table(
            "Layers",
            ["layer", "P(fails)"],
            [[lid, v] for lid, v in result.layer_probabilities.items()],
        ),
        Table(
            "Importance (SCRAM's definitions)",
            ["event", "kind", "p", "Birnbaum (MIF)", "CIF", "Fussell-Vesely (DIF)", "RAW", "RRW"],
            [
                [i.event, i.kind, i.p, i.mif, i.cif, i.dif, i.raw, i.rrw]
                for i in sorted(result.importance, key=lambda i: -i.mif)
            ],
        ),
        Table(
            "Induced correlation of layer failures",
            ["a", "b", "phi"],
            [[a, b, v] for (a, b), v in result.correlation.items()],
        ),
    ]
    emit(tables, fmt, data)


def _seconds(value: float) -> float:
    """``--time-limit``'s value, NaN refused (click's range check lets it through)."""
    if math.isnan(value):
        raise InputError("--time-limit: expected a number of seconds, got nan")
    return value


def note(text: str) -> None:
    """Tell the user, on standard error, what a long computation costs or that it goes on."""
    tell(text, label="note: ", style="yellow")


def _emit_estimate(result: MonteCarloRisk, data: dict[str, Any], fmt: Fmt) -> None:
    """Render a Monte Carlo estimate that stands in for an exact solve not started."""
    mc = data["monte_carlo"]
    rows: list[list[object]] = [
        ["exact P(stack fails)", "not run"],
        [f"Monte Carlo ({mc['samples']} samples)", mc["estimate"]],
        ["Monte Carlo 95% interval", mc["interval"]],
        ["if layers failed independently", result.independent],
    ]
    tables = [
        Table(
            f"Risk of {'+'.join(result.stack)}",
            ["quantity", "value"],
            rows,
            notes=[data["assumptions"], f"exact solve {data['engine']}"],
        ),
        Table("Layers", ["layer", "P(fails)"], list(map(list, result.layer_probabilities.items()))),
    ]
    emit(tables, fmt, data)


@app.command("export")
def export_cmd(
    stack: StackOpt = "all",
    to: Annotated[
        str,
        typer.Option(
            "--to",
            help="Format: mef (Open-PSA Model Exchange Format) or navigator (ATT&CK Navigator "
            "layers: the stack's coverage, then one layer per layer of the stack).",
        ),
    ] = "mef",
    out: Annotated[
        Path | None, typer.Option(help="File to write (default: standard output).")
    ] = None,
    matrix: MatrixOpt = None,
    p: POpt = None,
    residual: ResidualOpt = None,
    uncertain: UncertainValueOpt = "pessimistic",
    k: KOpt = None,
    event_tree: Annotated[
        bool,
        typer.Option(
            "--event-tree",
            help="With --to mef: the stack in --stack's order as an event tree (a fault tree "
            "per layer, sequences stopped-by-L and harm), as cofail sequences solves it.",
        ),
    ] = False,
    fmt: Annotated[
        Fmt, typer.Option("--format", "-f", help="With --out: how to report what was written.")
    ] = Fmt.table,
) -> None:
    """Export a stack's fault tree (Open-PSA MEF, accepted by SCRAM) or Navigator layers."""
    if to not in ("mef", "navigator"):
        raise InputError(f"--to: expected mef or navigator, got {to!r}")
    if event_tree and (to != "mef" or k is not None or stack.strip().lower() == "all"):
        raise InputError(
            "--event-tree: with --to mef, no --k, and --stack listing the layers in order"
        )
    m = load_matrix(matrix)
    parsed = parse_stack(stack, m, k)
    if to == "navigator":
        _export_navigator(m, parsed, uncertain, out, fmt, stack_given=p or residual or k)
        return
    from cofail.faulttree import export_stack
    from cofail.probability import Scenario

    scenario = Scenario.parse(p, residual, uncertain).for_matrix(m)
    q, pm, r = scenario.arrays(m, parsed)
    if event_tree:
        from cofail.sequences import event_tree_mef

        text = event_tree_mef(m, parsed, scenario)
    else:
        text = export_stack(m, parsed, q, pm, r, scenario.mef_cells(m, parsed))
    if out is None:
        sys.stdout.write(text)
    else:
        write_atomic(out, text)
        data = {"wrote": str(out), "to": to, "stack": "+".join(parsed.layers)}
        data = name_matrix(m, {**data, "assumptions": scenario.describe()})
        written(fmt, data, f"wrote {out} ({data['assumptions']})")


def _export_navigator(
    m: Matrix, stack: Stack, uncertain: str, out: Path | None, fmt: Fmt, *, stack_given: object
) -> None:
    """Write the stack's coverage layer and its layers' own as one Navigator layer file."""
    from cofail.io.navigator import coverage_layer, dumps_navigator, matrix_layers

    if stack_given:
        raise InputError("--p, --residual and --k belong to --to mef; a Navigator layer has none")
    if uncertain not in ("pessimistic", "optimistic"):
        raise InputError(
            f"--uncertain: with --to navigator, expected pessimistic or optimistic, got {uncertain!r}"
        )
    reading: UncertainPolicy = "optimistic" if uncertain == "optimistic" else "pessimistic"
    own = [x for lid, x in zip(m.layer_ids, matrix_layers(m), strict=True) if lid in stack.layers]
    text = dumps_navigator([coverage_layer(m, stack, uncertain=reading), *own])
    if out is None:
        sys.stdout.write(text)
        return
    write_atomic(out, text)
    data = name_matrix(
        m,
        {
            "wrote": str(out),
            "to": "navigator",
            "stack": "+".join(stack.layers),
            "layers": 1 + len(own),
        },
    )
    written(fmt, data, f"wrote {out} (Navigator layer format 4.5: coverage + {len(own)} layers)")


@app.command("mef")
def mef_cmd(
    files: Annotated[list[Path], typer.Argument(help="MEF files of one model.")],
    top: Annotated[str | None, typer.Option(help="Top gate (default: the only one).")] = None,
    cut_sets: Annotated[
        int | None,
        typer.Option(
            "--cut-sets", min=1, help="Also minimal cut sets up to this order (coherent trees)."
        ),
    ] = None,
    order: Annotated[
        str,
        typer.Option(
            help="BDD variable order: size (larger sub-trees first), dfs (left to right), small "
            "(smaller sub-trees first), or auto (trees of 100+ gates race size and small on two "
            "processes; the first answer wins)."
        ),
    ] = "auto",
    mission_time: Annotated[
        float,
        typer.Option(
            "--mission-time",
            help="Hours: the value of <system-mission-time/> in expressions (SCRAM's default).",
        ),
    ] = 8760.0,
    ccf: Annotated[
        bool,
        typer.Option(
            "--ccf/--no-ccf",
            help="Apply common-cause groups (beta-factor, MGL, alpha-, phi-factor). SCRAM "
            "applies them only with --ccf true.",
        ),
    ] = True,
    uncertainty: Annotated[
        int | None,
        typer.Option(
            "--uncertainty",
            min=1,
            max=10**7,
            help="Also sample the model's random deviates this many times (each trial exact).",
        ),
    ] = None,
    seed: SeedOpt = 0,
    monte_carlo: Annotated[
        int | None,
        typer.Option(
            "--monte-carlo",
            min=1,
            max=10**10,
            help="Also estimate P(top) from this many random trials, with a 95% interval: a "
            "cross-check that shares no code with the BDD, and the only answer when the exact "
            "solve cannot finish (see --time-limit).",
        ),
    ] = None,
    time_limit: Annotated[
        float | None,
        typer.Option(
            "--time-limit",
            min=0.001,
            help="Seconds allowed for the exact solve of each top gate, and again for its "
            "--monte-carlo trials. A solve past it is stopped: an error, or with --monte-carlo "
            "the estimate alone. Trials stop at the first block of 2^20 that ends past it, and "
            "the estimate says how many were run.",
        ),
    ] = None,
    importance: Annotated[
        bool,
        typer.Option(
            "--importance",
            help="Also each basic event's MIF (Birnbaum), CIF, DIF (Fussell-Vesely), RAW, RRW.",
        ),
    ] = False,
    fmt: FormatOpt = Fmt.table,
) -> None:
    """Exact top-event probability of an Open-PSA MEF fault tree (BDD, module by module)."""
    # 12 ms of imports that risk and export do not need
    from cofail.faulttree import read_mef, solve, variable_order
    from cofail.report.faulttree_views import fault_tree_tables

    heuristic = variable_order(order)  # before reading: a bad option fails fast
    time_limit = None if time_limit is None else _seconds(time_limit)
    tree = read_mef(files, mission_time=mission_time, ccf=ccf)

    def tops() -> FaultTreeResult:
        return solve(
            tree, top, order=heuristic, time_limit=time_limit, monte_carlo=monte_carlo,
            cut_sets=cut_sets, importance=importance, uncertainty=uncertainty, seed=seed,
            on_slow=_slow_notice,
        )  # fmt: skip

    if tree.event_tree_parts is not None:  # sequences per initiating event, then any tops
        from cofail.cli._mef_event_trees import emit_mef_event_trees

        solved = tops if top or tree.tops() else None
        emit_mef_event_trees(
            tree, solved, fmt, cut_sets=cut_sets, order=heuristic, time_limit=time_limit
        )
        return
    result = tops()
    emit(fault_tree_tables(result), fmt, result.to_dict())


def _slow_notice(top: str, seconds: float, what: str) -> None:
    """Tell the user ``what`` (the exact solve or the cut-set search) of ``top`` has run
    ``seconds`` and what to do instead."""
    hint = (
        "Some trees' BDDs never fit in memory (Aralia's nus9601); Ctrl-C and rerun with "
        "--time-limit S --monte-carlo N for an estimate with its interval."
        if what == "exact solve"
        else "The number of minimal cut sets grows fast with the order; Ctrl-C and rerun "
        "with a lower --cut-sets, or with --time-limit S to bound the search."
    )
    tell(
        f"the {what} of {top!r} has run {seconds:g} s and goes on. {hint}",
        label="note: ",
        style="yellow",
    )


@app.command("uncertainty")
def uncertainty_cmd(
    stack: StackOpt = "all",
    matrix: MatrixOpt = None,
    p: POpt = None,
    residual: ResidualOpt = None,
    uncertain: UncertainValueOpt = "pessimistic",
    k: KOpt = None,
    p_dist: Annotated[
        list[str] | None,
        typer.Option(
            "--p-dist", help="MODE=beta:a,b | uniform:lo,hi | lognormal:mean,EF (no MODE: all)."
        ),
    ] = None,
    q_dist: Annotated[
        list[str] | None, typer.Option("--q-dist", help="LAYER:MODE=dist for one cell's q.")
    ] = None,
    r_dist: Annotated[
        list[str] | None,
        typer.Option("--r-dist", help="LAYER=dist for a residual (no LAYER: all)."),
    ] = None,
    samples: Annotated[int, typer.Option(min=10, max=10**7, help="Monte Carlo samples.")] = 2000,
    sobol: Annotated[
        int,
        typer.Option(
            min=0,
            max=10**5,
            help="Sobol' base sample size N (N(d+2) runs for d inputs); 0 to skip.",
        ),
    ] = 256,
    seed: SeedOpt = 0,
    time_limit: Annotated[
        float | None,
        typer.Option(
            "--time-limit",
            min=1e-6,
            help="Seconds all the exact solves may take by their estimate, made before the "
            "first draw. Past it: an error with the estimate. Default 300.",
        ),
    ] = None,
    fmt: FormatOpt = Fmt.table,
) -> None:
    """Distribution of P(stack fails) when p, q, r are uncertain, and which inputs matter (Sobol')."""
    from cofail.probability._cost import MAX_EXACT_SECONDS
    from cofail.probability.uncertainty import parse_uncertain, propagate

    limit = MAX_EXACT_SECONDS if time_limit is None else _seconds(time_limit)
    m = load_matrix(matrix)
    parsed = parse_stack(stack, m, k)
    from cofail.probability import Scenario

    scenario = Scenario.parse(p, residual, uncertain).for_matrix(m)
    inputs = parse_uncertain(
        m,
        parsed,
        p_dist or [],
        q_dist or [],
        r_dist or [],
        scenario.u_distribution,
        own=scenario.own_distributions,
    )
    result = propagate(
        m, parsed, scenario, inputs, samples=samples, seed=seed, sobol_base=sobol, notify=note,
        max_seconds=limit,
    )  # fmt: skip
    data = name_matrix(m, result.to_dict())
    data["mean_standard_error"] = data["std"] / samples**0.5 if samples else None
    rows: list[list[object]] = [
        ["point estimate (scenario values)", data["point_estimate"]],
        ["mean", data["mean"]],
        ["standard error of the mean", data["mean_standard_error"]],
        ["standard deviation", data["std"]],
        *[[f"{_ordinal(k)} percentile", v] for k, v in data["percentiles"].items()],
    ]
    tables = [
        Table(
            f"P({'+'.join(parsed.layers)} fails) under uncertainty",
            ["statistic", "value"],
            rows,
            notes=[data["assumptions"], f"{samples} samples, seed {seed}"],
        ),
    ]
    if data["sobol"]:
        ranked = sorted(data["sobol"].items(), key=lambda kv: -kv[1]["ST"])
        tables.append(
            Table(
                "Sobol' indices (which inputs drive the spread)",
                ["input", "first order S1", "±", "total ST", "±"],
                [[name, v["S1"], v["S1_conf"], v["ST"], v["ST_conf"]] for name, v in ranked],
                notes=[
                    f"Saltelli sampling, N = {sobol} ({sobol * (len(inputs) + 2)} exact runs), "
                    "95% bootstrap ± (SALib)",
                    *_sobol_error_note(data["sobol"]),
                ],
            )
        )
    emit(tables, fmt, data)


def _sobol_error_note(indices: dict[str, dict[str, float]]) -> list[str]:
    """Say so when an estimated index lies outside [0, 1] or S1 exceeds ST: sampling error."""
    odd = [
        name
        for name, v in indices.items()
        if not (0.0 <= v["S1"] <= 1.0 and 0.0 <= v["ST"] <= 1.0) or v["S1"] > v["ST"]
    ]
    if not odd:
        return []
    return [
        f"{', '.join(odd)}: an index outside [0, 1] (or S1 above ST) is estimation error, not a "
        "property of the model; the true indices lie in [0, 1] with S1 <= ST. Read them with "
        "their ±, or raise --sobol to shrink it"
    ]


def _ordinal(number: str) -> str:
    """English ordinal of a percentile key: 1st, 2nd, 3rd, 5th, 11th, 2.5th.

    >>> [_ordinal(k) for k in ("1", "2", "3", "5", "11", "12", "21", "2.5")]
    ['1st', '2nd', '3rd', '5th', '11th', '12th', '21st', '2.5th']
    """
    suffix = {"1": "st", "2": "nd", "3": "rd"}.get(number[-1], "th")
    if not number.isdigit() or number[-2:-1] == "1":
        suffix = "th"
    return number + suffix

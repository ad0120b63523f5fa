"""The scores command: scored layers at a false-positive budget, alone and together."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cofail.cli._common import (
    Fmt,
    FormatOpt,
    SeedOpt,
    app,
    emit,
    import_meanwhile,
    tell,
    write_sections,
)
from cofail.cli._log_options import LogOptions, parse_budget, reads_logs
from cofail.errors import InputError


class RegionGridOpt(StrEnum):
    pooled = "pooled"
    hua = "hua"


if TYPE_CHECKING:
    from cofail.empirical import LogSpec, ScoredLog
    from cofail.scores import CostModel, PolicyResult, PolicyTable, RegionGrid


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
    total_budget: Annotated[
        float | None,
        typer.Option(
            "--total-budget",
            help="Cost policies: the expected cost allowed per honest case (monitor calls plus "
            "audits); ranks policies of calls and audits (needs --cost and --audit-cost).",
        ),
    ] = None,
    cost: Annotated[
        list[str] | None,
        typer.Option("--cost", help="Cost policies: LAYER=C, one monitor call's cost (repeat)."),
    ] = None,
    audit_cost: Annotated[
        float | None, typer.Option("--audit-cost", help="Cost policies: one audit's cost.")
    ] = None,
    test_attack: Annotated[
        list[Path] | None,
        typer.Option(
            "--test-attack",
            help="Cost policies: a separate attack set (e.g. another task distribution) to "
            "score the fitted policies on, instead of cross-validation.",
        ),
    ] = None,
    region_grid: Annotated[
        RegionGridOpt,
        typer.Option(
            "--region-grid",
            help="Cost policies: where the region policy's interval may end: 'pooled' (81 "
            "quantiles of the first monitor's scores over both sets, and ±∞) or 'hua' (Hua et "
            "al.'s 200 quantiles of its honest scores, to reproduce their Π_SR).",
        ),
    ] = RegionGridOpt.pooled,
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
    from cofail.report.policy_views import policy_tables
    from cofail.report.score_views import score_tables
    from cofail.scores import analyse_scores

    import_meanwhile("scipy.stats")  # the pairs' Fisher tests: 0.6 s, during the read

    if not 0.0001 <= alpha <= 0.5:
        raise InputError(f"--alpha: expected a number in [0.0001, 0.5], got {alpha:g}")
    spec = log_options.spec()
    model = _cost_model(total_budget, cost, audit_cost)
    if spec.budget is None and model is None:
        raise InputError(
            "cofail scores needs --budget B, the false-positive rate on honest cases "
            "(e.g. --budget 1%), or --total-budget Y with --cost and --audit-cost"
        )
    if spec.budget is None:
        search = _Search(test_attack, folds, seed, region_grid.value)
        _policies_only(spec, logs, model, search, fmt, report)
        return
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
    data, tables = result.to_dict(), score_tables(result)
    policies = None
    if model is not None:
        search = _Search(test_attack, folds, seed, region_grid.value)
        policies = _policies(scored, spec, model, search, report is not None)
        data.update(policies.to_dict())
        tables += policy_tables(policies)
    emit(tables, fmt, data)
    if report is not None:
        from cofail.report.policy_section import policy_section
        from cofail.report.score_section import score_section

        write_sections(
            report,
            "cofail scored-layers report",
            f"{scored.n_attack} attack and {scored.n_honest} honest cases",
            [score_section(result), *([policy_section(policies)] if policies else [])],
        )


def _cost_model(
    total: float | None, costs: list[str] | None, audit: float | None
) -> CostModel | None:
    """The cost model of --total-budget, --cost and --audit-cost; all three or none."""
    from cofail.scores import CostModel

    if total is None and not costs and audit is None:
        return None
    if total is None or not costs or audit is None:
        raise InputError("cost policies need all of --total-budget Y, --cost LAYER=C (each "
                         "monitor) and --audit-cost A")  # fmt: skip
    parsed = {}
    for text in costs:
        layer, sep, value = text.partition("=")
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not sep or not layer.strip() or not math.isfinite(number):
            raise InputError(f"--cost {text!r}: expected LAYER=C with a finite number, e.g. m1=0.2")
        parsed[layer.strip()] = number
    return CostModel(parsed, audit, total)


@dataclass(frozen=True)
class _Search:
    """How the cost policies are evaluated: the out-of-sample set or folds, and the grid."""

    test_attack: list[Path] | None
    folds: int | None
    seed: int
    region_grid: RegionGrid


def _policies(
    scored: ScoredLog,
    spec: LogSpec,
    model: CostModel,
    search: _Search,
    with_sweep: bool = False,
) -> PolicyTable:
    import numpy as np

    from cofail.empirical import read_scores
    from cofail.scores import PolicyTable, evaluate_policies, sweep_policies

    test_attack, folds, seed, grid = (
        search.test_attack,
        search.folds,
        search.seed,
        search.region_grid,
    )
    test = None
    if test_attack:
        attack_only = spec.model_copy(update={"honest": (), "set_col": None})
        test_log = read_scores(attack_only, test_attack)
        if test_log.layers != scored.layers:
            raise InputError(
                f"--test-attack scores layers {', '.join(test_log.layers)}; the log has "
                f"{', '.join(scored.layers)}"
            )
        test = test_log.attack
    results = evaluate_policies(
        scored.honest, scored.attack, scored.layers, model, test_attack=test,
        folds=folds or 5, seed=seed, region_grid=grid,
    )  # fmt: skip
    where = (
        f"out of sample: the attack cases of {', '.join(map(str, test_attack))}"
        if test_attack
        else f"out of sample: {folds or 5}-fold cross-validation (seed {seed}), every policy refitted"
    )
    sweep: tuple[tuple[float, tuple[PolicyResult, ...]], ...] = ()
    if with_sweep:
        top = max(model.total * 1.5, min(model.costs.values()) * 2)
        totals = np.linspace(min(model.costs.values()), top, 12).tolist()
        sweep = sweep_policies(
            scored.honest, scored.attack, scored.layers, model, totals, seed=seed,
            region_grid=grid,
        )  # fmt: skip
    return PolicyTable(model, tuple(results), where, scored.layers, sweep, grid)


def _policies_only(
    spec: LogSpec,
    logs: list[Path],
    model: CostModel | None,
    search: _Search,
    fmt: Fmt,
    report: Path | None,
) -> None:
    from cofail.empirical import read_scores
    from cofail.report.policy_views import policy_tables

    assert model is not None
    scored = read_scores(spec, logs)
    if scored.n_honest == 0:
        raise InputError("cost policies need honest cases: --honest FILE… or --set-col")
    policies = _policies(scored, spec, model, search, report is not None)
    emit(policy_tables(policies), fmt, policies.to_dict())
    if report is not None:
        from cofail.report.policy_section import policy_section

        write_sections(
            report,
            "cofail monitoring policies report",
            f"{scored.n_attack} attack and {scored.n_honest} honest cases",
            [policy_section(policies)],
        )

"""Decision commands: recommend, next, frontier, robustness."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from cofail.cli._common import (
    Fmt,
    FormatOpt,
    MatrixOpt,
    POpt,
    ResidualOpt,
    SeedOpt,
    StackOpt,
    Uncertain,
    UncertainOpt,
    app,
    emit,
    load_matrix,
    parse_scenario,
    parse_stack,
    policy,
)
from cofail.errors import InputError

if TYPE_CHECKING:  # the model (pydantic, NumPy) loads when a command runs, not for --help
    from collections.abc import Sequence
    from contextlib import AbstractContextManager

    from cofail.decide import Candidate
    from cofail.model import Matrix, TaxLevel, UncertainPolicy
    from cofail.probability import Scenario


class Tax(StrEnum):
    low = "low"
    moderate = "moderate"
    high = "high"


class ObjectiveChoice(StrEnum):
    uncovered = "uncovered"
    depth = "depth"
    risk = "risk"


MaxTaxOpt = Annotated[
    Tax | None, typer.Option("--max-tax", help="Leave out layers with a higher safety tax.")
]
ObjectiveOpt = Annotated[ObjectiveChoice, typer.Option("--objective", help="What to optimise.")]


def _setup(
    matrix: str | None, p: list[str] | None, residual: list[str] | None, uncertain: Uncertain
) -> tuple[Matrix, UncertainPolicy, Scenario]:
    """Return the matrix, the U reading and the scenario every decision command starts from."""
    reading = policy(uncertain)
    m = load_matrix(matrix)
    return m, reading, parse_scenario(p, residual, reading).for_matrix(m)


def _tax(value: Tax | None) -> TaxLevel | None:
    if value is None:
        return None
    level: TaxLevel = value.value
    return level


@app.command("recommend")
def recommend_cmd(
    matrix: MatrixOpt = None,
    budget: Annotated[
        float | None,
        typer.Option(min=0, help="Largest total safety tax (low 1, moderate 2, high 4)."),
    ] = None,
    max_tax: MaxTaxOpt = None,
    size: Annotated[
        int | None, typer.Option(min=1, help="Only stacks of this many layers.")
    ] = None,
    objective: ObjectiveOpt = ObjectiveChoice.uncovered,
    top: Annotated[int, typer.Option(min=1, help="How many stacks to list.")] = 10,
    p: POpt = None,
    residual: ResidualOpt = None,
    uncertain: UncertainOpt = Uncertain.pessimistic,
    fmt: FormatOpt = Fmt.table,
) -> None:
    """Rank stacks under a safety-tax budget: fewest uncovered modes, greatest depth or least risk."""
    from cofail.decide import TIE_BREAK, recommend
    from cofail.report.views import assumption_note, candidates_table

    m, reading, scenario = _setup(matrix, p, residual, uncertain)
    with _going_on("recommend", "every stack of the candidate layers"):
        result = recommend(
            m,
            budget=budget,
            max_tax=_tax(max_tax),
            size=size,
            objective=objective.value,
            scenario=scenario,
            uncertain=reading,
            top=top,
        )
    notes = [assumption_note(m, reading), scenario.describe(), result.method, TIE_BREAK]
    notes += _risk_left_out(result.stacks)
    constraints = (
        ", ".join(
            x
            for x in (
                f"budget {budget:g}" if budget is not None else "",
                f"tax at most {max_tax.value}" if max_tax else "",
                f"{size} layers" if size else "",
            )
            if x
        )
        or "no constraint"
    )
    title = f"Best stacks by {objective.value} ({constraints}; {result.n_feasible} feasible)"
    emit(
        [candidates_table(title, result.stacks, notes)],
        fmt,
        {**result.to_dict(), "assumptions": notes[0]},
    )


@app.command("next")
def next_cmd(
    stack: StackOpt,
    matrix: MatrixOpt = None,
    objective: ObjectiveOpt = ObjectiveChoice.uncovered,
    max_tax: MaxTaxOpt = None,
    p: POpt = None,
    residual: ResidualOpt = None,
    uncertain: UncertainOpt = Uncertain.pessimistic,
    fmt: FormatOpt = Fmt.table,
) -> None:
    """Rank the single layer whose addition helps the stack most, and what it closes."""
    from cofail.decide import next_layer
    from cofail.report.views import assumption_note, candidates_table

    m, reading, scenario = _setup(matrix, p, residual, uncertain)
    with _going_on("next", "the stack with each layer added"):
        current, options = next_layer(
            m,
            parse_stack(stack, m),
            objective=objective.value,
            scenario=scenario,
            uncertain=reading,
            max_tax=_tax(max_tax),
        )
    risk = "not computed" if current.risk is None else f"{current.risk:.4g}"
    notes = [
        f"now: {'+'.join(current.layers)} leaves {', '.join(current.uncovered) or 'nothing'} "
        f"uncovered, depth {current.depth}, risk {risk}",
        assumption_note(m, reading),
        scenario.describe(),
    ]
    notes += _risk_left_out([current, *options])
    title = f"What to add to {'+'.join(current.layers)}, best first by {objective.value}"
    emit(
        [candidates_table(title, options, notes)],
        fmt,
        {
            "stack": current.to_dict(),
            "options": [o.to_dict() for o in options],
            "added": [o.layers[-1] for o in options],
            "objective": objective.value,
            "uncertain": reading,
            "scenario": scenario.to_dict(),
            "assumptions": notes[1],
        },
    )


def _going_on(command: str, weighed: str) -> AbstractContextManager[None]:
    """Say so, once, if ``command`` still runs after 20 s: what it weighs, how to weigh less."""
    from cofail.cli._risk import note
    from cofail.probability._cost import still_running

    return still_running(
        note,
        lambda seconds: (
            f"{command} has run {seconds:g} s and goes on: it weighs {weighed} "
            "(uncovered modes, depth, exact risk); --max-tax narrows the candidate layers"
        ),
    )


def _risk_left_out(stacks: Sequence[Candidate]) -> list[str]:
    """The note for stacks whose risk ``evaluate`` left out, if any."""
    from cofail.decide import EVALUATE_SECONDS

    if all(c.risk is not None for c in stacks):
        return []
    return [
        f"no risk: its exact solve is estimated past {EVALUATE_SECONDS:g} s a stack (or needs a "
        "BDD); `cofail risk -s STACK` computes it, with --mc N to estimate it"
    ]


class Metric(StrEnum):
    risk = "risk"
    depth = "depth"


@app.command("frontier")
def frontier_cmd(
    matrix: MatrixOpt = None,
    metric: Annotated[Metric, typer.Option(help="Trade safety tax against this.")] = Metric.risk,
    max_tax: MaxTaxOpt = None,
    p: POpt = None,
    residual: ResidualOpt = None,
    uncertain: UncertainOpt = Uncertain.pessimistic,
    fmt: FormatOpt = Fmt.table,
) -> None:
    """Pareto frontier: the stacks no cheaper stack beats on risk (or depth)."""
    from cofail.decide import frontier
    from cofail.report.views import assumption_note, frontier_table

    m, reading, scenario = _setup(matrix, p, residual, uncertain)
    with _going_on("frontier", "every stack of the candidate layers"):
        result = frontier(
            m,
            metric.value,
            scenario=scenario,
            uncertain=reading,
            max_tax=_tax(max_tax),
        )
    note = f"{assumption_note(m, reading)}; {scenario.describe()}"
    emit(
        [frontier_table(result, note)],
        fmt,
        {
            **result.to_dict(),
            "uncertain": reading,
            "scenario": scenario.to_dict(),
            "assumptions": note,
        },
    )


@app.command("robustness")
def robustness_cmd(
    matrix: MatrixOpt = None,
    stack: Annotated[
        list[str] | None,
        typer.Option(
            "--stack",
            "-s",
            help="Stack whose conclusions to check (repeat; default: notable stacks).",
        ),
    ] = None,
    budget: Annotated[
        float | None, typer.Option(min=0, help="Also check the best stack within this budget.")
    ] = None,
    max_tax: MaxTaxOpt = None,
    size: Annotated[
        int | None, typer.Option(min=1, help="Also check the best stack of this size.")
    ] = None,
    objective: ObjectiveOpt = ObjectiveChoice.uncovered,
    samples: Annotated[
        int, typer.Option(min=1, help="Resolutions drawn when there are more than 12 U cells.")
    ] = 1024,
    seed: SeedOpt = 0,
    fmt: FormatOpt = Fmt.table,
) -> None:
    """Which conclusions hold in all, some or none of the resolutions of the U cells."""
    from cofail.decide import robustness
    from cofail.report.views import robustness_table

    m = load_matrix(matrix)
    if not m.uncertain_cells():
        raise InputError(f"matrix {m.id} has no U cells: every conclusion is certain")
    stacks = [parse_stack(s, m).layers for s in stack] if stack else None
    decisions: list[tuple[int | None, TaxLevel | None, float | None]] = [
        (2, None, None),
        (2, "moderate", None),
    ]
    if budget is not None or max_tax is not None or size is not None:
        decisions.append((size, _tax(max_tax), budget))
    with _going_on("robustness", "every conclusion in each resolution of the U cells"):
        result = robustness(
            m,
            stacks=stacks,
            decisions=decisions,
            objective=objective.value,
            samples=samples,
            seed=seed,
        )
    emit([robustness_table(result)], fmt, result.to_dict())

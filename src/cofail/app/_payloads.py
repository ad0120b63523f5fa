"""The JSON the app's routes return: for audit, risk, recommend and robustness the very object
``cofail <command> --format json`` prints (built the same way from the same library calls), and
the editor's view of the matrix."""

from __future__ import annotations

from typing import Any, Literal, cast

from cofail.errors import InputError
from cofail.model import Matrix, Stack, TaxLevel, UncertainPolicy
from cofail.report.views import name_matrix

__all__ = [
    "audit_data",
    "matrix_view",
    "recommend_data",
    "risk_data",
    "robustness_data",
]

Objective = Literal["uncovered", "depth", "risk"]


def matrix_view(matrix: Matrix) -> dict[str, Any]:
    """Return what the editor draws: layers, modes, every cell with its look, and the key.

    >>> from cofail import catalog
    >>> view = matrix_view(catalog.load())
    >>> view["cells"]["RLHF"]["DEC-AL"]["level"], view["cells"]["RLHF"]["DEC-AL"]["style"]["colour"]
    ('V', '#c0392b')
    """
    from cofail.report.grid_style import LEGEND, cell_style
    from cofail.report.views import matrix_label

    return {
        "matrix": matrix.id,
        "version": matrix.version,
        "title": matrix.title,
        "label": matrix_label(matrix),
        "layers": [
            {**layer.model_dump(mode="json"), "cost": layer.cost} for layer in matrix.layers
        ],
        "failure_modes": [mode.model_dump(mode="json") for mode in matrix.failure_modes],
        "cells": {
            lid: {
                mid: {
                    "level": cell.level,
                    "rationale": cell.rationale,
                    "source": cell.source,
                    "confidence": cell.confidence,
                    "votes": cell.votes,
                    "style": cell_style(cell),
                }
                for mid, cell in row.items()
            }
            for lid, row in matrix.cells.items()
        },
        "uncertain_cells": [list(c) for c in matrix.uncertain_cells()],
        "legend": LEGEND,
        "total_cost": sum(layer.cost for layer in matrix.layers),
    }


def audit_data(
    matrix: Matrix,
    stack: str = "all",
    *,
    uncertain: UncertainPolicy = "pessimistic",
    threshold: float = 0.5,
    max_order: int | None = None,
    k: int | None = None,
) -> dict[str, Any]:
    """Return what ``cofail audit --stack STACK --format json`` prints.

    >>> from cofail import catalog
    >>> audit_data(catalog.load(), "DEBATE,RE")["uncovered"]
    ['AL-GEN']
    """
    from cofail.report.views import assumption_note
    from cofail.structure import audit

    if not 0.0 < threshold <= 1.0:  # also refuses NaN
        raise InputError(f"--threshold: expected a number in (0, 1], got {threshold:g}")
    note = assumption_note(matrix, uncertain, threshold)
    parsed = Stack.parse(stack, matrix, k)
    result = audit(matrix, parsed, max_order=max_order, uncertain=uncertain, threshold=threshold)
    return {**result.to_dict(), "assumptions": note}


def risk_data(
    matrix: Matrix,
    stack: str = "all",
    *,
    p: list[str] | None = None,
    residual: list[str] | None = None,
    uncertain: str = "pessimistic",
    k: int | None = None,
) -> dict[str, Any]:
    """Return what ``cofail risk --stack STACK [--p ..] [--residual ..] --format json`` prints.

    >>> from cofail import catalog
    >>> d = risk_data(catalog.load(), "RLHF,RLAIF,W2S")
    >>> round(d["probability"], 4), d["matrix"]
    (0.4101, 'dung-mai-2025')
    """
    from cofail.probability import Scenario, risk

    parsed = Stack.parse(stack, matrix, k)
    scenario = Scenario.parse(p, residual, uncertain).for_matrix(matrix)
    return name_matrix(matrix, risk(matrix, parsed, scenario).to_dict())


def recommend_data(
    matrix: Matrix,
    *,
    budget: float | None = None,
    max_tax: TaxLevel | None = None,
    size: int | None = None,
    objective: Objective = "uncovered",
    top: int = 10,
    p: list[str] | None = None,
    residual: list[str] | None = None,
    uncertain: UncertainPolicy = "pessimistic",
) -> dict[str, Any]:
    """Return what ``cofail recommend [--budget B] ... --format json`` prints.

    >>> from cofail import catalog
    >>> recommend_data(catalog.load(), max_tax="moderate", size=2)["stacks"][0]["layers"]
    ['DEBATE', 'RE']
    """
    from cofail.decide import recommend
    from cofail.probability import Scenario
    from cofail.report.views import assumption_note

    if budget is not None and not budget >= 0:
        raise InputError(f"--budget: expected a number >= 0, got {budget:g}")
    if size is not None and size < 1:
        raise InputError(f"--size: expected a whole number >= 1, got {size}")
    if top < 1:
        raise InputError(f"--top: expected a whole number >= 1, got {top}")
    scenario = Scenario.parse(p, residual, uncertain).for_matrix(matrix)
    result = recommend(
        matrix,
        budget=budget,
        max_tax=max_tax,
        size=size,
        objective=objective,
        scenario=scenario,
        uncertain=uncertain,
        top=top,
    )
    return {**result.to_dict(), "assumptions": assumption_note(matrix, uncertain)}


def robustness_data(
    matrix: Matrix,
    stacks: list[str] | None = None,
    *,
    budget: float | None = None,
    max_tax: TaxLevel | None = None,
    size: int | None = None,
    objective: Objective = "uncovered",
    samples: int = 1024,
    seed: int = 0,
) -> dict[str, Any]:
    """Return what ``cofail robustness [--stack S ...] --format json`` prints.

    >>> from cofail import catalog
    >>> d = robustness_data(catalog.load(), ["DEBATE,RE"])
    >>> d["resolutions"], [c["verdict"] for c in d["conclusions"] if c["id"] == "depth:DEBATE+RE"]
    (16, ['all'])
    """
    from cofail.decide import robustness

    if not matrix.uncertain_cells():
        raise InputError(f"matrix {matrix.id} has no U cells: every conclusion is certain")
    parsed = [Stack.parse(s, matrix).layers for s in stacks] if stacks else None
    decisions: list[tuple[int | None, TaxLevel | None, float | None]] = [
        (2, None, None),
        (2, "moderate", None),
    ]
    if budget is not None or max_tax is not None or size is not None:
        decisions.append((size, max_tax, budget))
    result = robustness(
        matrix,
        stacks=parsed,
        decisions=decisions,
        objective=objective,
        samples=samples,
        seed=seed,
    )
    return result.to_dict()


def tax_level(text: str | None) -> TaxLevel | None:
    """Return ``--max-tax``'s value checked: low, moderate, high, or None when empty.

    >>> tax_level("moderate"), tax_level("")
    ('moderate', None)
    """
    if not text:
        return None
    if text not in ("low", "moderate", "high"):
        raise InputError(f"--max-tax: expected low, moderate or high, got {text!r}")
    return cast(TaxLevel, text)

"""The report's evidence section: what an evaluation log says about co-failure."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cofail.report import evidence_figures
from cofail.report.section import Figure, Section
from cofail.report.tabular import Table
from cofail.report.views import (
    effective_layers_table,
    error_consistency_table,
    marginals_table,
    pairs_table,
    stack_failure_table,
    strata_tables,
)

if TYPE_CHECKING:  # only with --log: cofail.empirical brings DuckDB and pyarrow (0.25-0.35 s)
    from cofail.empirical import StackFailure, StratifiedAnalysis

__all__ = ["evidence_section", "evidence_tables"]


def evidence_tables(
    analysis: StratifiedAnalysis,
    results: list[StackFailure],
    note: str,
    layers: tuple[str, ...] | None = None,
) -> list[Table]:
    """Return the tables of a log's evidence: rates (with ``note``), pairs, the stacks of
    ``results`` (the last one's error consistency) and, per stratum, ``layers`` (default: all).

    ``cofail empirical`` prints them, and the evidence section shows them.
    """
    return [
        marginals_table(analysis.pooled, note),
        pairs_table(analysis.pooled),
        stack_failure_table(results),
        effective_layers_table(results),
        error_consistency_table(results[-1]),
        *strata_tables(analysis, layers),
    ]


def evidence_section(analysis: StratifiedAnalysis, stacks: int = 12) -> Section:
    """Return the evidence section: what an evaluation log says about co-failure."""
    co = analysis.pooled
    h = co.histogram_
    assert h is not None
    # With two layers the one pair is the whole stack: listed once, not twice.
    pairs = sorted(co.pairs_, key=lambda p: -(p.phi or 0.0))[:stacks] if len(h.layers) > 2 else []
    results = [co.stack_failure_((p.a, p.b)) for p in pairs] + [co.stack_failure_()]
    paragraphs = [
        f"Evaluation log: {h.source}. {int(h.n_cases)} cases, {len(h.layers)} layers"
        + (f", strata: {', '.join(h.strata)}" if len(h.strata) > 1 else "")
        + f". Polarity: {h.polarity}.",
        *(f"Warning: {w}" for w in analysis.warnings),  # the readers' notes are among them
    ]
    return Section(
        "Evidence: which layers fail together",
        paragraphs,
        [
            Figure(
                "cofailure.svg",
                evidence_figures.cofailure_heatmap_svg(co),
                "φ between layers' failures over the test cases.",
            ),
            Figure(
                "patterns.svg",
                evidence_figures.upset_svg(co),
                "The most frequent failure patterns (UpSet plot).",
            ),
            Figure(
                "stack-failure.svg",
                evidence_figures.stack_failure_svg(results),
                "Observed joint failure against the independence product, with bootstrap "
                "intervals; points above the diagonal fail together more than independence "
                "predicts.",
            ),
        ],
        evidence_tables(analysis, results, f"polarity: {h.polarity}"),
    )

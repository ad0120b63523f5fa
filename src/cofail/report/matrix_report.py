"""The report on a matrix: its sections in order, with the raters' and the evidence's when
given, written by :func:`cofail.report.document.write_document`.

Adding a section to this report means adding it here; the document module renders whatever it
is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from cofail import __version__
from cofail.claims import paper_claims
from cofail.decide import (
    MAX_ENUMERATED,
    TIE_BREAK,
    candidate_layers,
    frontier,
    recommend,
    robustness,
)
from cofail.errors import InputError
from cofail.model import Matrix, Stack, UncertainPolicy
from cofail.probability import MAX_EXACT_LAYERS, Scenario, risk
from cofail.probability.demo import defense_in_depth
from cofail.report import figures
from cofail.report.document import ReportPaths, write_document
from cofail.report.evidence_section import evidence_section
from cofail.report.section import Figure, Section
from cofail.report.tabular import Table
from cofail.report.views import (
    assumption_note,
    audit_tables,
    candidates_table,
    claims_table,
    frontier_table,
    glossary_table,
    judgements_table,
    matrix_table,
    overlap_tables,
    robustness_table,
)
from cofail.structure import audit, overlap

if TYPE_CHECKING:  # only with --log: cofail.empirical brings DuckDB and pyarrow (0.25-0.35 s)
    from cofail.empirical import StratifiedAnalysis
    from cofail.raters import Panel

__all__ = ["build_sections", "notable_stacks", "write_report"]


def notable_stacks(matrix: Matrix) -> list[tuple[str, ...]]:
    """Return the stacks the report audits: each layer alone, the paper's stacks, all layers."""
    stacks: list[tuple[str, ...]] = [(lid,) for lid in matrix.layer_ids]
    for named in (("RLHF", "RLAIF", "W2S"), ("DEBATE", "RE")):
        if all(x in matrix.layer_ids for x in named):
            stacks.append(named)
    if len(matrix.layer_ids) > 1:
        stacks.append(matrix.layer_ids)
    return stacks


def build_sections(matrix: Matrix, uncertain: UncertainPolicy = "pessimistic") -> list[Section]:
    """Return the report's sections for ``matrix`` under one U policy."""
    note = assumption_note(matrix, uncertain)
    ov = overlap(matrix, uncertain=uncertain)
    audits = [audit(matrix, Stack(layers=s), uncertain=uncertain) for s in notable_stacks(matrix)]
    audit_rows = Table(
        title="Audit of notable stacks",
        columns=["stack", "depth", "uncovered", "fragile", "minimal cut sets"],
        rows=[
            ["+".join(a.stack), a.depth, list(a.uncovered), list(a.fragile), len(a.cut_sets)]
            for a in audits
        ],
        notes=[note, "depth = size of the smallest set of failure modes that defeats every layer"],
    )
    all_layers = audits[-1]
    claims = paper_claims(matrix, uncertain)
    sections = [
        Section(
            "The matrix",
            [
                matrix.description,
                f"{len(matrix.layers)} layers × {len(matrix.failure_modes)} failure modes; "
                f"{len(matrix.uncertain_cells())} uncertain cells: "
                + _cell_list(matrix.uncertain_cells())
                + ".",
            ],
            [
                Figure(
                    "matrix.svg",
                    figures.matrix_svg(matrix),
                    "Vulnerability matrix (letters and hatching mark V / N / U without colour).",
                )
            ],
            [matrix_table(matrix)],
        ),
        Section(
            "Shared failure modes",
            [
                "Two layers that are vulnerable to the same failure modes tend to fail together: "
                "stacking them adds little. Jaccard = shared modes / modes either is vulnerable to.",
                "Groups: " + "; ".join("{" + ", ".join(g) + "}" for g in ov.groups) + ".",
            ],
            [
                Figure(
                    "overlap.svg", figures.overlap_svg(ov), "Pairwise overlap of failure profiles."
                ),
                Figure(
                    "dendrogram.svg",
                    figures.dendrogram_svg(ov),
                    "Hierarchical clustering of layers by their failure profiles.",
                ),
            ],
            overlap_tables(ov, note),
        ),
        Section(
            "What breaks each stack",
            [
                "A cut set is a set of failure modes that defeats every layer of a stack; the depth "
                "is the size of the smallest. Depth 1 means a single failure mode defeats the "
                "whole stack.",
            ],
            [],
            [audit_rows, *audit_tables(all_layers, note)[1:]],
        ),
        _deploy_section(matrix, uncertain),
        _risk_section(matrix, uncertain),
        _depth_demo_section(),
    ]
    if claims:  # only about the paper's catalog or a matrix that keeps its ids
        sections.append(
            Section(
                "The paper's claims, checked against the data",
                [
                    "Each claim of Dung & Mai (2025) is recomputed from the matrix above; a "
                    "changed cell or U policy can change a verdict.",
                ],
                [],
                [claims_table(claims, note)],
            )
        )
    sections.append(
        Section(
            "Glossary and judgements",
            [
                "What each id stands for, and the judgement behind every cell: its level, how "
                "sure the source is, where it comes from and why (also shown on hover over the "
                "matrix table's cells).",
            ],
            [],
            [
                glossary_table(matrix),
                judgements_table(
                    matrix,
                    [(lid, mid) for lid in matrix.layer_ids for mid in matrix.mode_ids],
                    "Every judgement: level, confidence, source and rationale",
                ),
            ],
        )
    )
    return sections


def _risk_section(matrix: Matrix, uncertain: UncertainPolicy) -> Section:
    scenario = Scenario(uncertain=uncertain).for_matrix(matrix)
    rows = []
    for layers in notable_stacks(matrix):
        if not 2 <= len(layers) <= MAX_EXACT_LAYERS:  # one layer: exact = independent
            continue
        result = risk(matrix, Stack(layers=layers), scenario, with_importance=False)
        rows.append(["+".join(layers), result.probability, result.independent, result.ratio])
    return Section(
        "Risk: shared failure modes against the independence picture",
        [
            "Exact probability that every layer of a stack fails when failure modes are common "
            "causes, against the product of the layers' own failure probabilities (what the "
            "independence picture predicts). The ratio is how much independence understates "
            "the risk. Change the scenario with `cofail risk --p ... --residual ...`.",
        ],
        [],
        [
            Table(
                "Risk of notable stacks",
                ["stack", "exact", "if independent", "ratio"],
                rows,
                notes=[scenario.describe()],
            )
        ],
    )


def _depth_demo_section() -> Section:
    demo = defense_in_depth()
    rows = [
        [("independent" if b == 0 else f"{b:g}"), *row[[0, 2, 4, 9]]]
        for b, row in zip(demo.betas, demo.probability, strict=True)
    ]
    return Section(
        "Defense in depth: independent against shared failure",
        [
            "The paper's example: layers that each fail with probability 0.1. Independent, ten "
            "of them fail together with probability 1e-10; if a fraction β of each layer's "
            "failure is one shared cause (a beta-factor model), the stack can never get below "
            "0.1 β, however many layers are added. Exact values from the stack engine.",
        ],
        [
            Figure(
                "defense-in-depth.svg",
                figures.defense_in_depth_svg(demo),
                "P(all layers fail) against the number of layers, per shared fraction β.",
            )
        ],
        [
            Table(
                "P(all layers fail)",
                ["shared fraction β", "1 layer", "3 layers", "5 layers", "10 layers"],
                rows,
                notes=["each layer fails with probability 0.1 in every row"],
            )
        ],
    )


_ROBUSTNESS_SECONDS = 60.0
"""Longest robustness run a report waits for; past it the table is left out, saying why."""


_LISTED_CELLS = 24
"""Uncertain cells named in the matrix section's text; "Glossary and judgements" has every
cell."""


def _cell_list(cells: list[tuple[str, str]]) -> str:
    """The cells as ``L × M``, the first :data:`_LISTED_CELLS` of a long list.

    >>> _cell_list([("RLHF", "DEC-AL")]), _cell_list([])
    ('RLHF × DEC-AL', 'none')
    >>> _cell_list([("L", f"M{j}") for j in range(30)]).split(", ")[-1]
    "L × M23 and 6 more (every cell is under 'Glossary and judgements')"
    """
    named = ", ".join(f"{lid} × {mid}" for lid, mid in cells[:_LISTED_CELLS]) or "none"
    rest = len(cells) - _LISTED_CELLS
    return (
        named
        if rest <= 0
        else f"{named} and {rest} more (every cell is under 'Glossary and judgements')"
    )


def _deploy_section(matrix: Matrix, uncertain: UncertainPolicy) -> Section:
    scenario = Scenario(uncertain=uncertain).for_matrix(matrix)
    note = f"{assumption_note(matrix, uncertain)}; {scenario.describe()}"
    n = len(matrix.layers)
    enumerable = n <= MAX_ENUMERATED
    tables: list[Table] = []
    figures_shown: list[Figure] = []
    if enumerable:
        by_risk = frontier(matrix, "risk", scenario=scenario, uncertain=uncertain)
        deep = frontier(matrix, "depth", scenario=scenario, uncertain=uncertain)
        tables.append(frontier_table(by_risk, note))
        figures_shown.append(
            Figure(
                "frontier.svg",
                figures.frontier_svg(by_risk, deep),
                "Safety tax against risk and depth; purple: the Pareto frontier.",
            )
        )
    present = {layer.safety_tax for layer in matrix.layers}
    for level in ("low", "moderate", "high"):
        if level not in present:
            continue
        allowed = len(candidate_layers(matrix, level))
        best = [
            recommend(
                matrix, max_tax=level, size=size, scenario=scenario, uncertain=uncertain, top=1
            ).stacks[0]
            for size in range(1, min(3, allowed) + 1)
        ]
        tables.append(
            candidates_table(
                f"Best single layer, pair and triple with no layer above {level} safety tax "
                "(fewest uncovered modes)",
                best,
                [TIE_BREAK],
            )
        )
    paragraphs = [
        "Which stack to deploy depends on what you can afford. The frontier lists the stacks "
        "that no cheaper stack beats; risk is the exact probability that every layer fails "
        "when failure modes are common causes (" + scenario.describe() + ")."
        if enumerable
        else f"Which stack to deploy depends on what you can afford. The frontier is left "
        f"out: it scores all {2**n - 1:,} stacks of the {n} layers, which is done exactly up "
        f"to {MAX_ENUMERATED} layers. The best stacks below come from an integer programme "
        "(fewest uncovered modes, then lowest tax); `cofail frontier --max-tax` draws the "
        "frontier of fewer candidates.",
    ]
    if matrix.uncertain_cells():
        try:
            tables.append(robustness_table(robustness(matrix, max_seconds=_ROBUSTNESS_SECONDS)))
            paragraphs.append(
                "The robustness table re-draws every conclusion under each way of resolving "
                "the uncertain (U) cells, and names the cells that can flip it."
            )
        except InputError as exc:
            paragraphs.append(
                f"The robustness table is left out of the report ({exc.message}). "
                "`cofail robustness` runs it on its own."
            )
    return Section("What to deploy", paragraphs, figures_shown, tables)


def write_report(
    matrix: Matrix,
    out: str | Path,
    *,
    uncertain: UncertainPolicy = "pessimistic",
    evidence: StratifiedAnalysis | None = None,
    raters: Panel | None = None,
    extra: Sequence[Section] = (),
) -> ReportPaths:
    """Write ``report.html`` (self-contained), ``report.md`` and ``figures/*.svg`` under ``out``.

    With ``evidence`` (an analysis of an evaluation log) the report gains an evidence section.
    With ``raters`` (a panel of rater files), or when the matrix's cells keep votes (a
    consensus), it gains "Where the raters disagree" before the glossary. ``extra`` sections
    (scored layers, say) follow the evidence.
    Every file is written to a temporary name and renamed, so a reader never sees half a report.
    """
    sections = build_sections(matrix, uncertain)
    if raters is not None or any(
        matrix.cell(lid, mid).votes for lid in matrix.layer_ids for mid in matrix.mode_ids
    ):
        from cofail.report.rater_section import raters_section

        sections.insert(-1, raters_section(matrix, raters))
    if evidence is not None:
        sections.append(evidence_section(evidence))
    sections.extend(extra)
    header = f"cofail {__version__} · {assumption_note(matrix, uncertain)}"
    return write_document(f"cofail report: {matrix.title or matrix.id}", header, sections, out)

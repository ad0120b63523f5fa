"""Tables for several raters: their agreement, and how their consensus came about."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from cofail.report.tabular import Table

if TYPE_CHECKING:
    from cofail.raters import Agreement, AlphaLevel, EvidenceWeights, Merge, PartAgreement

__all__ = ["agreement_tables", "evidence_table", "merge_tables"]

_LEVELS: tuple[AlphaLevel, ...] = ("nominal", "ordinal", "interval")


def _num(x: float | None) -> float | None:
    return None if x is None or math.isnan(x) else round(x, 3)


def agreement_tables(result: Agreement) -> list[Table]:
    """Return the alpha table, then alpha by layer, by mode and by rater, then the cells
    that divide the raters most.

    >>> from cofail.raters import agreement, loads_rater_file, panel_of
    >>> panel = panel_of([loads_rater_file("layer,A,B\\nL,V,N\\nM,N,N\\n", "csv", "a.csv"),
    ...                   loads_rater_file("layer,A,B\\nL,V,N\\nM,V,N\\n", "csv", "b.csv")])
    >>> [t.title for t in agreement_tables(agreement(panel, replicates=20))][:2]
    ["Krippendorff's alpha (2 raters, 4 cells)", 'Alpha by layer']
    """
    conf = f"{result.confidence:.0%}"
    overall = Table(
        f"Krippendorff's alpha ({len(result.raters)} raters, {result.cells} cells)",
        ["level", "alpha", f"{conf} low", f"{conf} high", "pairable values"],
        [
            [
                lv,
                _num(result.alpha[lv]),
                _num(result.intervals[lv].low),
                _num(result.intervals[lv].high),
                result.pairable[lv],
            ]
            for lv in _LEVELS
        ],
        notes=[result.assumptions],
    )
    tables = [
        overall,
        _parts("Alpha by layer", "layer", result.by_layer),
        _parts("Alpha by failure mode", "failure mode", result.by_mode),
        Table(
            "Each rater against the rest",
            [
                "rater",
                "judged",
                *(f"vs rest {lv}" for lv in _LEVELS),
                *(f"without {lv}" for lv in _LEVELS),
            ],
            [
                [
                    r.rater,
                    r.judged,
                    *(_num(r.with_rest[lv]) for lv in _LEVELS),
                    *(_num(r.without[lv]) for lv in _LEVELS),
                ]
                for r in result.by_rater
            ],
            notes=[
                "vs rest: alpha of the pairs of this rater's values with the others' (the "
                "panel's alpha is their average weighted by pairable values); without: the "
                "panel's alpha with this rater left out"
            ],
        ),
    ]
    rows = [
        [
            c.layer,
            c.mode,
            ", ".join(f"{k} {n}" for k, n in c.to_dict()["counts"].items()),
            round(c.disagreement, 3),
            _num(c.spread),
            ", ".join(f"{r}: {v}" for r, v in c.votes.items()),
        ]
        for c in result.divisive
    ]
    tables.append(
        Table(
            "Cells that divide the raters most",
            ["layer", "failure mode", "votes", "disagreement", "spread", "raters"],
            rows,
            notes=[
                "disagreement: share of pairs of raters who differ; spread: largest minus "
                "smallest value on the interval scale"
                if rows
                else "no cell divides the raters"
            ],
        )
    )
    return tables


def _parts(title: str, key: str, parts: list[PartAgreement]) -> Table:
    return Table(
        title,
        [key, "judgements", *_LEVELS],
        [[p.id, p.judgements, *(_num(p.alpha[lv]) for lv in _LEVELS)] for p in parts],
        notes=[
            "- : no cell with two votes, or one value throughout the panel"
            if any(math.isnan(a) for p in parts for a in p.alpha.values())
            else ""
        ],
    )


def merge_tables(result: Merge, note: str = "") -> list[Table]:
    """Return the consensus matrix, then its cells that stayed undecided (U from a tie, too
    few votes, or no votes); ``note`` (what was written) goes under the last table.

    >>> from cofail.raters import loads_rater_file, merge, panel_of
    >>> panel = panel_of([loads_rater_file("layer,A\\nL,V\\n", "csv", "a.csv"),
    ...                   loads_rater_file("layer,A\\nL,N\\n", "csv", "b.csv")])
    >>> merge_tables(merge(panel))[1].rows
    [['L', 'A', 'tie', 'a: V, b: N', 0.0, 'beta:1.5,1.5']]
    """
    from cofail.report.views import matrix_table

    undecided = [
        [
            c.layer,
            c.mode,
            c.outcome,
            ", ".join(f"{r}: {v}" for r, v in c.votes.items()) or "-",
            None if c.agreement is None else round(c.agreement, 3),
            c.distribution or "-",
        ]
        for c in result.cells
        if c.outcome != "decided"
    ]
    data = result.to_dict()
    weighted = (
        "; votes weighted by evidence: "
        + ", ".join(f"{r} {w:.3g}" for r, w in result.weights.items())
        if result.weights is not None
        else ""
    )
    return [
        matrix_table(result.matrix),
        Table(
            "Undecided cells (U in the consensus)",
            ["layer", "failure mode", "why", "votes", "agreement", "q ~"],
            undecided,
            notes=[
                f"rule: {data['rule_text']}; quorum {result.quorum}; "
                f"raters: {', '.join(result.raters)}{weighted}",
                f"q ~: {data['distribution']}",
                note,
            ],
        ),
    ]


def evidence_table(result: EvidenceWeights) -> Table:
    """Return the seed cells a log measured and each rater's score and weight on them.

    >>> from cofail.empirical import PatternHistogram
    >>> from cofail.raters import evidence_weights, loads_rater_file, panel_of
    >>> panel = panel_of([loads_rater_file("layer,A\\nL,V\\n", "csv", "ann.csv"),
    ...                   loads_rater_file("layer,A\\nL,N\\n", "csv", "bo.csv")])
    >>> h = PatternHistogram.from_counts(("L",), {"A": {0: 2, 1: 8}})
    >>> evidence_table(evidence_weights(panel, h)).rows[0]
    ['ann', 1, 0.1825, -0.64, 1.708]
    """
    seeds = ", ".join(
        f"{s.layer}×{s.mode} {s.failures:g}/{s.cases:g} = {s.rate:.3g}" for s in result.seeds
    )
    return Table(
        f"Raters scored on {len(result.seeds)} seed cell{'s' if len(result.seeds) != 1 else ''}",
        ["rater", "seed cells judged", "Brier", "log score", "weight"],
        [
            [
                s.rater,
                s.judged,
                None if s.brier is None else round(s.brier, 4),
                None if s.log is None else round(s.log, 3),
                round(s.weight, 3),
            ]
            for s in result.scores
        ],
        notes=[
            f"seed cells (measured failure rate on the cases of the mode, from {result.source or 'the log'}): "
            + seeds,
            "Brier: lower is better; log score: higher is better; " + _evidence_text(),
        ],
    )


def _evidence_text() -> str:
    from cofail.raters._evidence import MAPPING, WEIGHTING

    return f"{MAPPING}; {WEIGHTING}"

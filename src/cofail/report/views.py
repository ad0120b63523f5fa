"""Tables for each analysis result: what the CLI and the report show, built in one place."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cofail.report.tabular import Table

if TYPE_CHECKING:  # the views only read these results; importing them costs start-up time
    from cofail.claims import ClaimResult
    from cofail.decide import Candidate, Frontier, Robustness
    from cofail.empirical import CoFailure, StackFailure, StratifiedAnalysis
    from cofail.model import Matrix, UncertainPolicy
    from cofail.structure import Audit, Overlap, RankedStack

__all__ = [
    "assumption_note",
    "audit_tables",
    "candidates_table",
    "claims_table",
    "effective_layers_table",
    "error_consistency_table",
    "frontier_table",
    "glossary_table",
    "graded_note",
    "judgements_table",
    "marginals_table",
    "matrix_label",
    "matrix_table",
    "name_matrix",
    "overlap_tables",
    "pairs_table",
    "ranking_table",
    "robustness_table",
    "stack_failure_table",
    "strata_tables",
]


def matrix_label(matrix: Matrix) -> str:
    """Return how every output names the matrix behind it: its id and version."""
    return f"matrix {matrix.id} v{matrix.version}"


def name_matrix(matrix: Matrix, data: dict[str, Any]) -> dict[str, Any]:
    """Return ``data`` with the matrix's id and version first and in its ``assumptions``: what
    every command and the app print for a matrix.

    >>> from cofail import catalog
    >>> d = name_matrix(catalog.load(), {"assumptions": "U -> V"})
    >>> d["matrix"], d["assumptions"].endswith("; U -> V")
    ('dung-mai-2025', True)
    """
    out = {"matrix": matrix.id, "version": matrix.version, **data}
    if "assumptions" in out:
        out["assumptions"] = f"{matrix_label(matrix)}; {out['assumptions']}"
    return out


def assumption_note(
    matrix: Matrix, uncertain: UncertainPolicy, threshold: float | None = None
) -> str:
    """Return the line that says which matrix and U policy produced a result.

    With ``threshold`` and a matrix that has graded cells, it also says how they were read.
    """
    reading = "U → V" if uncertain == "pessimistic" else "U → N"
    text = (
        f"{matrix_label(matrix)}; uncertain cells: {uncertain} ({reading}, "
        f"{len(matrix.uncertain_cells())} U cells)"
    )
    graded = sum(
        isinstance(matrix.cell(lid, mid).level, float)
        for lid in matrix.layer_ids
        for mid in matrix.mode_ids
    )
    if graded:
        cut = 0.5 if threshold is None else threshold
        text += f"; graded cells: {graded}, vulnerable when q >= {cut:g}"
    return text


def matrix_table(matrix: Matrix) -> Table:
    """Return the matrix as a table of levels, one row per layer."""
    rows = [
        [lid, matrix.layer(lid).safety_tax, *(matrix.cell(lid, m).level for m in matrix.mode_ids)]
        for lid in matrix.layer_ids
    ]
    legend = "V vulnerable · N not vulnerable · U uncertain · a number is P(layer fails | mode)"
    tips = [
        [matrix.layer(lid).name, "", *(_cell_tip(matrix, lid, mid) for mid in matrix.mode_ids)]
        for lid in matrix.layer_ids
    ]
    return Table(
        title=f"{matrix.title or matrix.id} (v{matrix.version})",
        columns=["layer", "tax", *matrix.mode_ids],
        rows=rows,
        notes=[legend],
        marks=True,
        tips=tips,
    )


def _cell_tip(matrix: Matrix, layer_id: str, mode_id: str) -> str:
    v = matrix.cell(layer_id, mode_id)
    head = f"{layer_id} × {mode_id}: {v.level}" + (
        f" ({v.confidence} confidence)" if v.confidence else ""
    )
    return "\n".join(x for x in (head, v.rationale, f"source: {v.source}" if v.source else "") if x)


def glossary_table(matrix: Matrix, *, descriptions: bool = True) -> Table:
    """Return every layer and failure mode id with its name (and description)."""
    rows: list[list[object]] = [
        ["layer", layer.id, layer.name, layer.description] for layer in matrix.layers
    ]
    rows += [
        ["failure mode", mode.id, mode.name, mode.description] for mode in matrix.failure_modes
    ]
    columns = ["kind", "id", "name", "description"]
    notes: list[str] = []
    if not descriptions:
        rows = [r[:3] for r in rows]
        columns = columns[:3]
        notes = ["descriptions, and each cell's rationale: cofail explain LAYER|MODE"]
    return Table(title="Glossary", columns=columns, rows=rows, notes=notes)


def judgements_table(matrix: Matrix, cells: Sequence[tuple[str, str]], title: str) -> Table:
    """Return the judgement behind each of ``cells``: level, confidence, source, rationale."""
    rows = []
    for lid, mid in cells:
        v = matrix.cell(lid, mid)
        rows.append([lid, mid, v.level, v.confidence, v.source, v.rationale])
    return Table(
        title=title,
        columns=["layer", "failure mode", "level", "confidence", "source", "rationale"],
        rows=rows,
        notes=[matrix_label(matrix)],
        marks=True,
    )


def overlap_tables(result: Overlap, note: str) -> list[Table]:
    """Return the pairwise overlap table and the similarity groups."""
    pairs = Table(
        title="Pairwise overlap of vulnerability profiles",
        columns=["a", "b", "shared", "n", "jaccard", "phi", "P(b|a)", "P(a|b)"],
        rows=[
            [
                p.a,
                p.b,
                list(p.shared),
                len(p.shared),
                p.jaccard,
                p.phi,
                p.p_b_given_a,
                p.p_a_given_b,
            ]
            for p in sorted(result.pairs, key=lambda p: -(p.jaccard or 0.0))
        ],
        notes=[note],
    )
    groups = Table(
        title=f"Similarity groups ({result.method} linkage on 1 − Jaccard, cut at {result.cut:g})",
        columns=["group", "layers"],
        rows=[[i + 1, list(g)] for i, g in enumerate(result.groups)],
    )
    return [pairs, groups]


def audit_tables(result: Audit, note: str) -> list[Table]:
    """Return the audit summary and the cut-set list."""
    summary = Table(
        title=f"Audit of stack {'+'.join(result.stack)}",
        columns=["depth", "uncovered", "fragile (mode: only cover)", "cut sets"],
        rows=[
            [
                result.depth,
                list(result.uncovered),
                [f"{m}: {lid}" for m, lid in result.fragile.items()],
                len(result.cut_sets),
            ]
        ],
        notes=[n for n in (note, result.note, graded_note(result)) if n],
    )
    cuts = Table(
        title="Minimal cut sets (sets of failure modes that defeat every layer)",
        columns=["order", "failure modes"],
        rows=[[c.order, list(c.modes)] for c in result.cut_sets],
    )
    tables = [summary, cuts]
    graded = [("vulnerable", g) for g in result.graded_vulnerable] + [
        ("covered", g) for g in result.graded_covered
    ]
    if graded:
        tables.append(
            Table(
                title=f"Graded cells, read at threshold {result.graded_threshold:g}",
                columns=["layer", "failure mode", "q", "read as"],
                rows=[[lid, mid, q, reading] for reading, (lid, mid, q) in graded],
                notes=[
                    "q >= threshold: vulnerable; below: covered, though the layer still fails "
                    "with probability q under the mode (cofail risk counts q exactly)"
                ],
            )
        )
    return tables


def graded_note(result: Audit) -> str:
    """Return the line that says how graded cells were read, or "" if the stack has none."""
    if not (result.graded_vulnerable or result.graded_covered):
        return ""
    return (
        f"graded cells: q >= {result.graded_threshold:g} read as vulnerable "
        f"({len(result.graded_vulnerable)}), below as covered ({len(result.graded_covered)})"
    )


def ranking_table(ranked: Sequence[RankedStack], size: int, note: str) -> Table:
    """Return a ranking of stacks of ``size`` layers."""
    return Table(
        title=f"Stacks of {size} layers, fewest uncovered modes first",
        columns=["rank", "stack", "n uncovered", "uncovered", "depth", "tax"],
        rows=[
            [i + 1, "+".join(r.layers), len(r.uncovered), list(r.uncovered), r.depth, r.tax]
            for i, r in enumerate(ranked)
        ],
        notes=[note, "ties: deeper first, then lower safety tax, then matrix order"],
    )


def claims_table(results: Sequence[ClaimResult], note: str) -> Table:
    """Return the paper's claims with their computed verdicts."""
    return Table(
        title="The paper's claims, checked against the matrix",
        columns=["#", "claim", "verdict", "evidence"],
        rows=[[c.id, c.statement, c.verdict, c.evidence] for c in results],
        notes=[note],
    )


def candidates_table(title: str, stacks: Sequence[Candidate], notes: Sequence[str]) -> Table:
    """Return ranked stacks with tax, uncovered modes, depth and exact risk."""
    show_closes = any(c.closes for c in stacks)
    columns = ["rank", "stack", "tax", "uncovered", "depth", "risk"]
    if show_closes:
        columns.append("closes")
    rows = []
    for i, c in enumerate(stacks):
        row: list[object] = [i + 1, "+".join(c.layers), c.tax, list(c.uncovered), c.depth, c.risk]
        if show_closes:
            row.append(list(c.closes))
        rows.append(row)
    return Table(title=title, columns=columns, rows=rows, notes=list(notes))


def frontier_table(result: Frontier, note: str) -> Table:
    """Return the Pareto frontier of safety tax against risk or depth."""
    return Table(
        title=f"Pareto frontier: safety tax against {result.metric}",
        columns=["stack", "tax", result.metric, "uncovered"],
        rows=[
            [
                "+".join(p.layers),
                p.tax,
                p.risk if result.metric == "risk" else p.depth,
                list(p.uncovered),
            ]
            for p in result.points
        ],
        notes=[note, "each stack is cheaper than every stack below it that does better"],
    )


def robustness_table(result: Robustness) -> Table:
    """Return each conclusion with the share of U-cell resolutions in which it holds."""
    enumeration = result.to_dict()["enumeration"]
    return Table(
        title="Which conclusions survive the uncertain cells",
        columns=["conclusion", "holds in", "verdict", "flipped by"],
        rows=[
            [
                c.statement,
                f"{c.holds_in}/{c.resolutions}",
                c.verdict,
                [f"{lid} × {mid}" for lid, mid in c.flipped_by],
            ]
            for c in result.conclusions
        ],
        notes=[
            f"{len(result.uncertain_cells)} U cells: "
            + ", ".join(f"{lid} × {mid}" for lid, mid in result.uncertain_cells)
            + f"; {enumeration}; {result.baseline}",
        ],
    )


def marginals_table(co: CoFailure, note: str) -> Table:
    """Return each layer's failure rate with its Wilson interval."""
    level = f"{100 * (1 - co.alpha):g}%"
    return Table(
        title=f"Failure rate per layer ({co.stratum or 'pooled'})",
        columns=["layer", "failures", "cases", "rate", f"{level} low", f"{level} high", "note"],
        rows=[[m.layer, m.failures, m.n, m.rate, m.low, m.high, m.note] for m in co.marginals_],
        notes=[note],
    )


def pairs_table(co: CoFailure) -> Table:
    """Return pairwise co-failure: the 2×2 counts and what follows from them."""
    columns = ["a", "b", "n11", "n10", "n01", "n00", "phi", "kappa", "lift", "P(b|a)", "P(a|b)"]
    rows = [
        [p.a, p.b, p.n11, p.n10, p.n01, p.n00, p.phi, p.kappa, p.lift, p.p_b_given_a, p.p_a_given_b]
        for p in sorted(co.pairs_, key=lambda p: -(p.phi or 0.0))
    ]
    notes = [
        "n11: both failed; n10: only a; n01: only b; n00: neither. phi max, odds ratio and "
        "Fisher p-values (raw and Benjamini–Hochberg) are in --format json.",
        *sorted({f"{p.a}–{p.b}: {p.note}" for p in co.pairs_ if p.note}),
    ]
    return Table(title="Pairwise co-failure", columns=columns, rows=rows, notes=notes)


def stack_failure_table(results: Sequence[StackFailure]) -> Table:
    """Return observed joint failure against the independence product, with intervals."""
    methods = dict.fromkeys(r.method for r in results)
    return Table(
        title="Observed joint failure against independence",
        columns=["stack", "observed", "interval", "independent", "ratio", "ratio interval", "note"],
        rows=[
            [
                "+".join(r.layers),
                r.observed,
                [round(x, 6) for x in r.observed_interval],
                r.independent,
                r.ratio,
                [None if x is None else round(x, 3) for x in r.ratio_interval],
                r.note,
            ]
            for r in results
        ],
        notes=[f"{100 * (1 - results[0].alpha):g}% intervals: {m}" for m in methods]
        if results
        else [],
    )


def effective_layers_table(results: Sequence[StackFailure]) -> Table:
    """Return each stack's mean pairwise φ, design effect and effective number of layers."""
    rows, methods = [], {}
    for r in results:
        e = r.effective
        if e is None or len(e.layers) < 2:
            continue
        methods[e.method] = e.alpha
        rows.append(
            [
                "+".join(r.layers),
                len(e.layers),
                e.mean_phi,
                _rounded(e.mean_phi_interval, 3),
                e.design_effect,
                e.effective,
                _rounded(e.effective_interval, 2),
                e.mean_double_fault,
                e.note,
            ]
        )
    return Table(
        title="Effective number of independent layers",
        columns=[
            "stack",
            "k",
            "mean phi",
            "interval",
            "design effect",
            "effective layers",
            "interval",
            "double fault",
            "note",
        ],
        rows=rows,
        notes=[
            "effective layers = k / (1 + (k - 1) x mean phi): how many independent layers the "
            "stack's failures are worth; double fault = mean share of cases both layers of a pair "
            "fail",
            *(f"{100 * (1 - a):g}% intervals: {m}" for m, a in methods.items()),
        ],
    )


def error_consistency_table(result: StackFailure) -> Table:
    """Return each pair's error consistency (Geirhos et al. 2020) and double-fault rate."""
    e = result.effective
    pairs = e.pairs if e is not None else ()
    return Table(
        title="Error consistency and double faults, " + "+".join(result.layers),
        columns=["a", "b", "error consistency", "interval", "double fault", "interval"],
        rows=[
            [
                p.a,
                p.b,
                p.error_consistency,
                _rounded(p.error_consistency_interval, 3),
                p.double_fault,
                _rounded(p.double_fault_interval, 4),
            ]
            for p in pairs
        ],
        notes=[
            "error consistency: Cohen's kappa between the two layers' failure indicators "
            "(Geirhos et al. 2020); 0 is what independent layers with these rates show, 1 is "
            "failing on exactly the same cases; double fault intervals are Wilson"
        ],
    )


MAX_STRATA_COLUMNS = 8
"""Most strata shown side by side in the per-stratum φ table (all of them are in JSON)."""


def strata_tables(analysis: StratifiedAnalysis, stack: tuple[str, ...] | None) -> list[Table]:
    """Return the per-stratum tables: rates, the stack's joint failure, and φ per pair."""
    if len(analysis.strata) < 2:
        return []
    names = list(analysis.strata)
    rates = Table(
        title="Failure rate per layer, per stratum",
        columns=["stratum", "layer", "failures", "cases", "rate", "low", "high"],
        rows=[
            [s, m.layer, m.failures, m.n, m.rate, m.low, m.high]
            for s, co in analysis.strata.items()
            for m in co.marginals_
        ],
        notes=[f"{100 * (1 - analysis.pooled.alpha):g}% Wilson intervals"],
    )
    joint = []
    for s, co in analysis.strata.items():
        r = co.stack_failure_(stack)
        e = r.effective
        joint.append(
            [
                s,
                r.n,
                r.observed,
                _rounded(r.observed_interval, 6),
                r.independent,
                r.ratio,
                None if e is None else e.effective,
                [] if e is None else _rounded(e.effective_interval, 2),
                "; ".join(x for x in (r.note, e.note if e else "") if x),
            ]
        )
    stack_name = "+".join(stack or analysis.pooled.stack_failure_().layers)
    tables = [
        rates,
        Table(
            title=f"Joint failure per stratum, {stack_name}",
            columns=[
                "stratum",
                "cases",
                "observed",
                "interval",
                "independent",
                "ratio",
                "effective layers",
                "interval",
                "note",
            ],
            rows=joint,
            notes=["intervals per stratum as in the pooled table"],
        ),
    ]
    shown = names[:MAX_STRATA_COLUMNS]
    phis = [[p.phi for p in analysis.strata[s].pairs_] for s in shown]
    pooled = analysis.pooled.pairs_
    tables.append(
        Table(
            title="phi per pair, per stratum",
            columns=["a", "b", "pooled", *shown],
            rows=[[p.a, p.b, p.phi, *(col[k] for col in phis)] for k, p in enumerate(pooled)],
            notes=[
                f"the first {len(shown)} of {len(names)} strata; all of them are in --format json"
            ]
            if len(shown) < len(names)
            else [],
        )
    )
    return tables


def _rounded(interval: tuple[float | None, float | None], digits: int) -> list[float | None]:
    return [None if x is None else round(x, digits) for x in interval]

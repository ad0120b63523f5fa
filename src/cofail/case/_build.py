"""The safety case of one stack, built from audit, risk, robustness and (with a log) empirical.

Every figure in it is read off the result objects those commands print with ``--format
json``, from the same library calls with the same defaults, so a reviewer can re-run any one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from cofail.case._graph import Node, SafetyCase
from cofail.errors import InputError

if TYPE_CHECKING:
    from cofail.decide._robustness import Conclusion
    from cofail.empirical import PatternHistogram, StratifiedAnalysis
    from cofail.model import Matrix, Stack, UncertainPolicy
    from cofail.probability import Scenario
    from cofail.probability._risk import RiskResult
    from cofail.structure._audit import Audit

__all__ = ["build_case"]


def build_case(
    matrix: Matrix,
    stack: Stack,
    scenario: Scenario,
    *,
    target: float | None = None,
    histogram: PatternHistogram | None = None,
    analysis: StratifiedAnalysis | None = None,
    contradicted: Sequence[Mapping[str, Any]] = (),
) -> SafetyCase:
    """Return the GSN argument that ``stack`` fails with probability at most ``target``.

    Without a target the top goal states the computed P(stack fails). Its sub-goals: no single
    failure mode defeats the stack (one goal per mode, saying which layers catch it; an
    uncovered mode is a defeated goal with a counter-goal naming it), the modes resting on one
    layer (fragile, each with an assumption on that layer), which conclusions survive the U
    cells, and with a log (``histogram`` and its ``analysis``) the measured co-failure
    against independence and against the model. ``contradicted`` is a fit's judgements the
    log rejects (:attr:`cofail.fit.Fit.contradicted`): each one on a layer of the stack is a
    defeater of that cell's evidence.

    Raises
    ------
    InputError
        A target outside (0, 1); a log that lacks one of the stack's layers.

    Examples
    --------
    >>> from cofail import catalog
    >>> from cofail.model import Stack
    >>> from cofail.probability import Scenario
    >>> m = catalog.load()
    >>> case = build_case(m, Stack.parse("DEBATE,RE", m), Scenario().for_matrix(m), target=0.2)
    >>> case.top.text
    'P(DEBATE+RE fails) ≤ 0.2 under the scenario'
    >>> case.node("CG1-AL-GEN").challenges
    'G1-AL-GEN'

    Notes
    -----
    Ids are fixed prefixes (gsn2x reads the element type from them) and the matrix's own mode
    ids, and elements come in the matrix's order, so the same inputs give the same file.
    """
    from cofail.probability import risk
    from cofail.structure import audit

    if target is not None and not 0.0 < target < 1.0:  # also refuses NaN
        raise InputError(f"--target: expected a probability in (0, 1), got {target:g}")
    # The audit reads U cells as risk does at its ends (q = 0 optimistic, else pessimistic):
    # a U cell with q > 0 can fail the layer, so structurally it counts as a vulnerability.
    reading: UncertainPolicy = "optimistic" if scenario.uncertain == "optimistic" else "pessimistic"
    name = "+".join(stack.layers)
    found = audit(matrix, stack, uncertain=reading)
    result = risk(matrix, stack, scenario, with_importance=False)
    nodes: list[Node] = []
    subgoals = [
        _modes(matrix, stack, found, reading, nodes),
        _fragile(found, nodes),
        _robust(matrix, name, nodes),
    ]
    if histogram is not None and analysis is not None:
        subgoals.append(_measured(stack, histogram, analysis, result.probability, nodes))
    nodes = _refuted(stack, contradicted, nodes)
    top = _top(matrix, stack, scenario, reading, result, target, subgoals, nodes)
    brief = f"cofail safety case: {name} on matrix {matrix.id} v{matrix.version}"
    return SafetyCase(name=f"cofail-{name}", brief=brief, nodes=(*top, *nodes))


def _num(x: float | None) -> str:
    """A figure as the CLI's JSON prints it (Python's shortest round-trip repr)."""
    return "null" if x is None else repr(float(x))


def _interval(pair: Sequence[float | None]) -> str:
    return f"[{_num(pair[0])}, {_num(pair[1])}]"


def _top(
    matrix: Matrix,
    stack: Stack,
    scenario: Scenario,
    reading: UncertainPolicy,
    result: RiskResult,
    target: float | None,
    subgoals: list[str],
    nodes: list[Node],
) -> list[Node]:
    """The top goal, its context, assumptions and justification, and the risk evidence."""
    name = "+".join(stack.layers)
    p = result.probability
    figures = {
        "probability": _num(p),
        "independent": _num(result.independent),
        "ratio": _num(result.ratio),
        "source": "cofail risk",
    }
    evidence_text = (
        f"Exact P({name} fails) = {p:.4g}; if the layers failed independently it would be "
        f"{result.independent:.4g} (ratio {result.ratio:.4g})"
    )
    met = target is None or p <= target
    if target is None:
        text = f"P({name} fails) = {p:.4g} under the scenario"
    else:
        text = f"P({name} fails) ≤ {target:g} under the scenario"
    context = ("C1", "C2", "C3", "A1", "A2", "J1")
    head: list[Node] = [
        Node(
            "G0",
            text,
            supported_by=(*(("Sn0",) if met else ()), *subgoals),
            in_context_of=context,
            defeated=not met,
            layers={"target": "none" if target is None else _num(target), **figures},
        ),
        Node(
            "C1",
            f"Matrix {matrix.id} v{matrix.version}"
            + (f": {matrix.title}" if matrix.title else "")
            + f" ({len(matrix.layer_ids)} layers, {len(matrix.mode_ids)} failure modes)",
        ),
        Node(
            "C2",
            f"Stack {name}: it fails when {stack.threshold} of its {len(stack.layers)} layers "
            "fail; "
            + "; ".join(f"{lid} = {matrix.layer(lid).name or lid}" for lid in stack.layers),
        ),
        Node("C3", scenario.describe()[:1].upper() + scenario.describe()[1:]),
        Node(
            "A1",
            "Given which failure modes are present, the layers' residual failures are "
            "independent of one another",
        ),
        Node(
            "A2",
            f"In the risk, {scenario.describe().rsplit('; ', 1)[-1]}; in the audit, read as "
            f"{'N' if reading == 'optimistic' else 'V'} ({reading}); "
            f"{len(matrix.uncertain_cells())} U cells in the matrix",
        ),
        Node(
            "J1",
            f"The figure is exact, not sampled: {result.engine}; cofail's exact engines are "
            "cross-checked against SCRAM (Open-PSA) in its test suite (tests/test_scram.py)",
        ),
    ]
    if met:
        head.append(Node("Sn0", evidence_text, layers=figures))
    else:
        claim = f"The exact P({name} fails) is {p:.4g}, above the target {target:g}"
        head += _defeater("0", claim, "G0", evidence_text, figures)
    return head


def _cells_text(matrix: Matrix, layers: Sequence[str], mode: str) -> tuple[str, dict[str, str]]:
    parts, layers_out = [], {}
    for lid in layers:
        cell = matrix.cell(lid, mode)
        level = cell.level if isinstance(cell.level, str) else _num(cell.level)
        parts.append(f"{lid} {level}" + (f" ({cell.confidence})" if cell.confidence else ""))
        detail = "; ".join(
            x
            for x in (
                f"level {level}",
                f"confidence {cell.confidence}" if cell.confidence else "",
                cell.rationale,
                f"source: {cell.source}" if cell.source else "",
            )
            if x
        )
        layers_out[f"cell {lid}"] = detail
    return f"Matrix cells of {mode}: " + ", ".join(parts), layers_out


def _modes(
    matrix: Matrix, stack: Stack, found: Audit, reading: UncertainPolicy, nodes: list[Node]
) -> str:
    """G1: no single failure mode defeats the stack, argued mode by mode."""
    name = "+".join(stack.layers)
    per_mode = []
    for mode in matrix.mode_ids:
        catching = [
            lid for lid in stack.layers if not matrix.cell(lid, mode).is_vulnerable(reading)
        ]
        cells, cell_layers = _cells_text(matrix, stack.layers, mode)
        gid = f"G1-{mode}"
        per_mode.append(gid)
        if mode in found.uncovered:
            nodes += [
                Node(
                    gid,
                    f"{mode} is caught by at least one layer of {name}",
                    undeveloped=True,
                    defeated=True,
                ),
                *_defeater(
                    f"1-{mode}",
                    f"Every layer of {name} is vulnerable to {mode}: it defeats the stack alone",
                    gid,
                    cells,
                    cell_layers,
                ),
            ]
            continue
        fragile = found.fragile.get(mode)
        if fragile is not None:
            text = f"{mode} is caught by {fragile} alone (fragile)"
        else:
            text = f"{mode} is caught by " + ", ".join(catching)
        nodes.append(
            Node(
                gid,
                text,
                supported_by=(f"Sn1-{mode}",),
                in_context_of=(f"A1-{mode}",) if fragile else (),
                layers={"fragile": fragile} if fragile else {},
            )
        )
        if fragile:
            nodes.append(
                Node(
                    f"A1-{mode}",
                    f"{fragile} holds against {mode}: no other layer of {name} does",
                )
            )
        nodes.append(Node(f"Sn1-{mode}", cells, layers=cell_layers))
    audit_layers = {
        "depth": "null" if found.depth is None else str(found.depth),
        "uncovered": ", ".join(found.uncovered) or "none",
        "cut sets": "; ".join("+".join(c.modes) for c in found.cut_sets) or "none",
        "source": "cofail audit",
    }
    depth = "no set of modes defeats it" if found.depth is None else f"depth {found.depth}"
    audit_text = (
        f"Audit of {name}: {depth}; uncovered: {', '.join(found.uncovered) or 'none'}; "
        f"{len(found.cut_sets)} minimal cut sets"
    )
    strategy = Node(
        "S1",
        f"Argue over each of the {len(matrix.mode_ids)} failure modes of {matrix.id}: which "
        f"layers of {name} catch it",
        supported_by=tuple(per_mode),
    )
    claim = f"No single failure mode defeats {name} (depth ≥ 2)"
    if found.uncovered:
        nodes[:0] = [
            Node("G1", claim, supported_by=("S1",), defeated=True, layers=audit_layers),
            strategy,
            *_defeater(
                "1",
                f"{name} has depth 1: {', '.join(found.uncovered)} defeats every layer alone",
                "G1",
                audit_text,
                audit_layers,
            ),
        ]
    else:
        nodes[:0] = [
            Node("G1", claim, supported_by=("S1", "Sn1"), layers=audit_layers),
            strategy,
            Node("Sn1", audit_text, layers=audit_layers),
        ]
    return "G1"


def _fragile(found: Audit, nodes: list[Node]) -> str:
    """G2: the modes that rest on one layer are named, each with its assumption."""
    name = "+".join(found.stack)
    listed = "; ".join(f"{mode}: {lid}" for mode, lid in found.fragile.items())
    if found.fragile:
        text = (
            f"{len(found.fragile)} failure modes rest on a single layer of {name}; each is "
            "named, with that layer's judgement as an assumption (A1-<mode>)"
        )
    else:
        text = f"No failure mode rests on a single layer of {name}"
    nodes += [
        Node("G2", text, supported_by=("Sn2",), layers={"fragile": listed or "none"}),
        Node(
            "Sn2",
            f"Audit of {name}: fragile modes (mode: the only layer that catches it): "
            f"{listed or 'none'}",
            layers={"fragile": listed or "none", "source": "cofail audit"},
        ),
    ]
    return "G2"


def _robust(matrix: Matrix, name: str, nodes: list[Node]) -> str:
    """G3: which conclusions about the stack hold in every resolution of the U cells."""
    cells = matrix.uncertain_cells()
    if not cells:
        nodes += [
            Node(
                "G3",
                f"No conclusion about {name} depends on a U cell",
                supported_by=("Sn3",),
            ),
            Node("Sn3", f"Matrix {matrix.id} has no U cells: every judgement is V, N or graded"),
        ]
        return "G3"
    from cofail.decide import robustness

    # The call `cofail robustness --stack` makes (its default decisions, samples and seed), so
    # the counts are the ones it prints; only the conclusions about this stack are argued here.
    result = robustness(
        matrix,
        stacks=[tuple(name.split("+"))],
        decisions=[(2, None, None), (2, "moderate", None)],
        samples=1024,
        seed=0,
    )
    ours: list[Conclusion] = [
        c for c in result.conclusions if c.id in (f"depth:{name}", f"uncovered:{name}")
    ]
    per: list[str] = []
    children: list[Node] = []
    for c in ours:
        key = c.id.split(":", 1)[0]
        gid = f"G3-{key}"
        per.append(gid)
        figures = {
            "holds in": str(c.holds_in),
            "resolutions": str(c.resolutions),
            "verdict": c.verdict,
            "flipped by": "; ".join(f"{lid}×{mid}" for lid, mid in c.flipped_by) or "none",
            "source": "cofail robustness",
        }
        evidence = f"Holds in {c.holds_in} of {c.resolutions} resolutions of the U cells"
        if c.verdict == "all":
            children += [
                Node(gid, c.statement, supported_by=(f"Sn3-{key}",), in_context_of=(f"J3-{key}",)),
                Node(
                    f"J3-{key}",
                    f"It holds in every one of the {c.resolutions} sampled resolutions"
                    if result.sampled
                    else "It holds whichever way each U cell is read: every resolution checked",
                ),
                Node(f"Sn3-{key}", evidence, layers=figures),
            ]
        else:
            flips = figures["flipped by"]
            children += [
                Node(gid, c.statement, supported_by=(f"Sn3-{key}",), defeated=True),
                Node(f"Sn3-{key}", evidence, layers=figures),
                *_defeater(
                    f"3-{key}",
                    f"It fails in {c.resolutions - c.holds_in} of {c.resolutions} resolutions; "
                    f"flipped by {flips}",
                    gid,
                    evidence,
                    figures,
                ),
            ]
    holding = sum(c.verdict == "all" for c in ours)
    if holding == len(ours):
        text = f"The conclusions about {name} hold under every resolution of the U cells"
    else:
        text = (
            f"Of the {len(ours)} conclusions about {name}, {holding} hold under every "
            f"resolution of the U cells and {len(ours) - holding} flip"
        )
    u_list = ", ".join(f"{lid}×{mid}" for lid, mid in result.uncertain_cells)
    nodes += [
        Node("G3", text, supported_by=("S3",), in_context_of=("C4",)),
        Node(
            "C4",
            f"U cells of {matrix.id}: {u_list}; {result.resolutions} resolutions "
            f"({result.to_dict()['enumeration']}); {result.baseline}",
        ),
        Node(
            "S3",
            "Argue over each conclusion, re-drawn in every resolution of the U cells",
            supported_by=tuple(per),
        ),
        *children,
    ]
    return "G3"


def _measured(
    stack: Stack,
    histogram: PatternHistogram,
    analysis: StratifiedAnalysis,
    model_p: float,
    nodes: list[Node],
) -> str:
    """G4: the measured joint failure, against independence and against the model."""
    name = "+".join(stack.layers)
    missing = [lid for lid in stack.layers if lid not in histogram.layers]
    if missing:
        raise InputError(
            f"--log: the log has no layer {missing[0]!r} of the stack {name} (in the log: "
            f"{', '.join(histogram.layers)})"
        )
    sf = analysis.pooled.stack_failure_(stack.layers)  # what `cofail empirical --stack` prints
    lo, hi = sf.observed_interval
    eff = sf.effective
    figures = {
        "observed": _num(sf.observed),
        "observed interval": _interval(sf.observed_interval),
        "independent": _num(sf.independent),
        "independent interval": _interval(sf.independent_interval),
        "ratio": _num(sf.ratio),
        "ratio interval": _interval(sf.ratio_interval),
        "cases": _num(sf.n),
        "interval level": _num(1 - sf.alpha),
        "source": "cofail empirical",
    }
    effective = ""
    if eff is not None:
        figures["effective layers"] = _num(eff.effective)
        figures["effective layers interval"] = _interval(eff.effective_interval)
        effective = (
            f"; effective number of independent layers {_fmt(eff.effective)} "
            f"[{_fmt(eff.effective_interval[0])}, {_fmt(eff.effective_interval[1])}]"
        )
    level = f"{1 - sf.alpha:.0%}"
    evidence = (
        f"On {sf.n:g} cases from {histogram.source or 'the log'}: all layers of {name} failed "
        f"on {sf.observed:.4g} [{lo:.4g}, {hi:.4g}] ({level}); independence predicts "
        f"{sf.independent:.4g}; ratio {_fmt(sf.ratio)} [{_fmt(sf.ratio_interval[0])}, "
        f"{_fmt(sf.ratio_interval[1])}]{effective}"
    )
    above_independence = sf.ratio_interval[0] is not None and sf.ratio_interval[0] > 1.0
    above_model = lo > model_p
    where = "above" if above_model else "below" if hi < model_p else "around"
    text = (
        f"The measured joint failure of {name} is no higher than the model's exact "
        f"P = {model_p:.4g}"
    )
    nodes += [
        Node(
            "G4",
            text,
            supported_by=("Sn4",),
            in_context_of=("A4",),
            defeated=above_model,
            layers={"model probability": _num(model_p), "measured": where},
        ),
        Node(
            "A4",
            f"The defence-in-depth picture: the layers of {name} fail independently, so they "
            f"all fail with probability {sf.independent:.4g} (the product of their measured "
            "rates)",
            defeated=above_independence,
        ),
        Node("Sn4", evidence, layers=figures),
    ]
    if above_independence:
        claim = (
            f"The layers fail together {_fmt(sf.ratio)} times as often as independence "
            f"predicts; the {level} interval of the ratio, [{_fmt(sf.ratio_interval[0])}, "
            f"{_fmt(sf.ratio_interval[1])}], lies above 1"
        )
        nodes += _defeater("4", claim, "A4", evidence, figures)
    if above_model:
        claim = (
            f"The layers fail together more often than the model allows: the measured "
            f"{sf.observed:.4g} [{lo:.4g}, {hi:.4g}] lies above its exact P = {model_p:.4g}; "
            "some dependence is not in the failure modes (A1)"
        )
        nodes += _defeater("5", claim, "G4", evidence, figures)
    return "G4"


def _refuted(
    stack: Stack, contradicted: Sequence[Mapping[str, Any]], nodes: list[Node]
) -> list[Node]:
    """The fit's contradicted cells on the stack's layers, each a defeater of the evidence
    that holds the cell (a group of modes the log cannot tell apart: its first mode's)."""
    challenged: set[str] = set()
    added: list[Node] = []
    for c in contradicted:
        layer, modes = str(c["layer"]), [str(m) for m in c["modes"]]
        if layer not in stack.layers:
            continue
        ids = {n.id for n in nodes}
        evidence = next(i for i in (f"Sn1-{modes[0]}", f"CSn1-{modes[0]}") if i in ids)
        challenged.add(evidence)
        cell = f"{layer} × {'+'.join(modes)}"
        claim = (
            f"The log contradicts the judgement {c['judged']} on {cell}: the fitted q is "
            f"{float(c['q']):.4g}"
        )
        figures = {
            "q": _num(c["q"]),
            "p value": _num(c["p_value"]),
            "judged": str(c["judged"]),
            "source": "cofail fit",
        }
        text = f"Fit of the common-cause model to the log: {c['kind']}; {c['evidence']}"
        added += _defeater(f"6-{layer}-{modes[0]}", claim, evidence, text, figures)
    out = [replace(n, defeated=True) if n.id in challenged else n for n in nodes]
    return out + added


def _defeater(
    suffix: str, claim: str, challenged: str, evidence: str, figures: Mapping[str, str]
) -> list[Node]:
    """A counter-goal ``CG<suffix>`` challenging ``challenged``, on its counter-evidence."""
    return [
        Node(f"CG{suffix}", claim, supported_by=(f"CSn{suffix}",), challenges=challenged),
        Node(f"CSn{suffix}", evidence, layers=figures),
    ]


def _fmt(x: float | None) -> str:
    return "undefined" if x is None else f"{x:.4g}"

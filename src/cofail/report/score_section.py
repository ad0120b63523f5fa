"""The report's section on scored layers: what the budget buys, alone and together."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cofail.report import score_figures
from cofail.report.score_views import score_tables
from cofail.report.section import Figure, Section

if TYPE_CHECKING:
    from cofail.scores import ScoreAnalysis

__all__ = ["score_section"]


def score_section(result: ScoreAnalysis) -> Section:
    """Return the section: the headline in words, the ROC, budget and scatter figures, the
    tables."""
    d = result.to_dict()
    s = d["stack"]
    words = [
        f"At a {100 * result.budget:g}% false-positive budget per layer, every one of the "
        f"{len(result.layers)} layers misses {100 * s['all_miss']:.3g}% of the attacks; if "
        f"their misses were independent it would be {100 * s['independent']:.3g}%"
        + (f" ({s['ratio']:.3g}×)." if s["ratio"] else "."),
        f"Assumptions: {result.assumptions}.",
    ]
    c = d.get("combination")
    if c:
        oos = c.get("out_of_sample")
        words.append(
            f"Splitting the one budget across the layers (audit when any flags): "
            f"{100 * c['tpr']:.3g}% caught in sample"
            + (f", {100 * oos['tpr']:.3g}% out of sample ({oos['method']})" if oos else "")
            + f"; independent misses would give {100 * c['independent']:.3g}%."
        )
    words += [f"Note: {n}" for n in result.notes]
    figures = [
        Figure("roc.svg", score_figures.roc_svg(result), "ROC curve of each layer."),
        Figure(
            "budget-curve.svg",
            score_figures.budget_curve_svg(result),
            "Catch rate against budget, measured and as independence would have it.",
        ),
    ]
    if len(result.layers) >= 2:
        a, b = _most_correlated(result)
        figures.append(
            Figure(
                "joint-misses.svg",
                score_figures.miss_scatter_svg(result, a, b),
                f"Attack scores of {result.scored.layers[a]} and {result.scored.layers[b]} "
                "(the pair that misses together most, by φ) with both thresholds.",
            )
        )
    return Section("Scored layers: what the budget buys", words, figures, score_tables(result))


def _most_correlated(result: ScoreAnalysis) -> tuple[int, int]:
    layers = result.scored.layers
    best = max(result.co.pairs_, key=lambda p: p.phi if p.phi is not None else -2.0)
    return layers.index(best.a), layers.index(best.b)

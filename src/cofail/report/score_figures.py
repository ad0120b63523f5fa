"""Figures for scored layers: ROC curves, catch rate over budgets against independence, and the
joint misses of two monitors as a scatter with both thresholds drawn.

As in :mod:`cofail.report.figures`, each ``*_svg`` has a ``*_figure`` twin returning the Figure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from cofail.report.figures import to_svg

if TYPE_CHECKING:
    from cofail.scores import ScoreAnalysis

__all__ = [
    "budget_curve_figure",
    "budget_curve_svg",
    "miss_scatter_figure",
    "miss_scatter_svg",
    "roc_figure",
    "roc_svg",
]

_COLOURS = [f"C{i}" for i in range(10)]  # matplotlib's default cycle


def roc_figure(result: ScoreAnalysis) -> Figure:
    """Return every layer's ROC curve, its AUC in the legend, the budget as a dashed line."""
    fig, ax = plt.subplots(figsize=(5.2, 4.4))
    for i, layer in enumerate(result.layers):
        fpr, tpr = layer.roc
        ax.plot(
            fpr,
            tpr,
            color=_COLOURS[i % 10],
            lw=1.6,
            label=f"{layer.threshold.layer} (AUC {layer.auc:.3f})",
        )
        t = layer.threshold
        if t.fpr is not None:
            ax.plot([t.fpr], [t.tpr], "o", color=_COLOURS[i % 10], ms=5)
    floor = 0.5 / max(1, result.scored.n_honest)  # FPR 0 drawn at half an honest case
    chance = np.geomspace(floor, 1, 100)
    ax.plot(chance, chance, color="#999999", lw=0.8, ls=":")
    ax.axvline(result.budget, color="#444444", lw=0.9, ls="--")
    ax.text(result.budget, 0.02, f" budget {100 * result.budget:g}%", fontsize=7, color="#444444")
    ax.set_xscale("log")
    ax.set_xlabel("false-positive rate on honest cases (log scale: the low rates matter)")
    ax.set_ylabel("catch rate on attack cases")
    ax.set_title("ROC per layer (dots: the budget's thresholds)", fontsize=10)
    ax.set_xlim(floor, 1)
    ax.set_ylim(0, 1.01)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


def roc_svg(result: ScoreAnalysis) -> str:
    """Return :func:`roc_figure` as SVG."""
    return to_svg(roc_figure(result))


def budget_curve_figure(result: ScoreAnalysis) -> Figure:
    """Return catch rate against the audit's false-positive rate: each layer alone; auditing
    when any layer flags at its own threshold (measured, and as independent misses would have
    it); and the best split of one budget (rule ``any``) beside its independent twin. Every
    curve is drawn at its *realised* false-positive rate, so they compare at equal cost."""
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    budgets = np.array([p.budget for p in result.curve])
    for i, layer in enumerate(result.scored.layers):
        ax.plot(
            [max(p.fpr[layer], 1e-6) for p in result.curve],
            [p.tpr[layer] for p in result.curve],
            color=_COLOURS[i % 10],
            lw=1.0,
            alpha=0.8,
            label=layer,
        )
    # A false-positive rate of 0 has no place on the log axis: drawn at 1e-6. The dashed twin
    # is independence throughout: catches from the product of misses, and as its cost
    # 1 − Π(1 − FPR_i), the union's false-positive rate if the honest flags were independent.
    union_x = [max(p.union_fpr, 1e-6) for p in result.curve]
    ind_x = [1 - float(np.prod([1 - p.fpr[x] for x in result.scored.layers])) for p in result.curve]
    ax.plot(
        union_x,
        [1 - p.all_miss for p in result.curve],
        color="black",
        lw=1.8,
        label="any layer flags, each at its own threshold",
    )
    ax.plot(
        ind_x,
        [1 - p.independent for p in result.curve],
        color="black",
        lw=1.2,
        ls="--",
        label="the same, if misses were independent",
    )
    best = [p for p in result.curve if p.combination is not None]
    if best:
        # at the realised false-positive rate, like every other curve (at most the budget)
        x = [max(p.combination.fpr, 1e-6) for p in best if p.combination is not None]
        y = [p.combination.tpr for p in best if p.combination is not None]
        y_ind = [p.combination_independent or 0.0 for p in best]
        ax.plot(
            x,
            y,
            color="#2e86c1",
            lw=1.8,
            marker="o",
            ms=3,
            label="best split of the budget ('any', in sample)",
        )
        ax.plot(
            x,
            y_ind,
            color="#2e86c1",
            lw=1.2,
            ls="--",
            label="the same thresholds, if misses were independent",
        )
        ax.fill_between(x, y, y_ind, color="#c0392b", alpha=0.12, label="lost to correlated misses")
    ax.axvline(result.budget, color="#444444", lw=0.9, ls=":")
    ax.set_xscale("log")
    ax.set_xlim(budgets.min() * 0.8, min(1.0, max(max(union_x), max(ind_x)) * 1.2))
    ax.set_xlabel("false-positive rate of the audit on honest cases (log scale)")
    ax.set_ylabel("share of attacks caught")
    ax.set_ylim(0, 1.01)
    ax.set_title("What the audit budget buys", fontsize=10)
    ax.legend(fontsize=6.5, loc="upper left")
    fig.tight_layout()
    return fig


def budget_curve_svg(result: ScoreAnalysis) -> str:
    """Return :func:`budget_curve_figure` as SVG."""
    return to_svg(budget_curve_figure(result))


def miss_scatter_figure(
    result: ScoreAnalysis, a: int = 0, b: int = 1, max_points: int = 4000
) -> Figure:
    """Return the attack cases' scores of layers ``a`` and ``b`` with both thresholds: the
    attacks both miss sit in the lower-left corner (in each layer's flagging direction)."""
    s = result.scored
    xa, xb = s.attack[:, a], s.attack[:, b]
    if len(xa) > max_points:  # a fixed, seeded thinning: the same picture every run
        keep = np.random.default_rng(0).choice(len(xa), max_points, replace=False)
        xa, xb = xa[keep], xb[keep]
    ta, tb = result.layers[a].threshold, result.layers[b].threshold
    both = (xa <= ta.threshold) & (xb <= tb.threshold)
    fig, ax = plt.subplots(figsize=(5.0, 4.6))
    jitter = np.random.default_rng(1)
    span_a = float(np.ptp(xa)) or 1.0
    span_b = float(np.ptp(xb)) or 1.0
    # A little jitter shows how many attacks share a score on a 0-10 scale.
    ja = xa + jitter.uniform(-0.006, 0.006, len(xa)) * span_a
    jb = xb + jitter.uniform(-0.006, 0.006, len(xb)) * span_b
    sa, sb = (-1.0 if s.lower[a] else 1.0), (-1.0 if s.lower[b] else 1.0)  # back to raw units
    ax.scatter(
        sa * ja[~both],
        sb * jb[~both],
        s=6,
        color="#7f8c8d",
        alpha=0.5,
        label="caught by at least one",
    )
    ax.scatter(
        sa * ja[both],
        sb * jb[both],
        s=7,
        color="#c0392b",
        alpha=0.7,
        label=f"missed by both ({100 * both.mean():.3g}%)",
    )
    ax.axvline(ta.raw, color="black", lw=1.0, ls="--")
    ax.axhline(tb.raw, color="black", lw=1.0, ls="--")
    ax.set_xlabel(f"{ta.layer} score (flags {ta.direction.replace('T', f'{ta.raw:g}')})")
    ax.set_ylabel(f"{tb.layer} score (flags {tb.direction.replace('T', f'{tb.raw:g}')})")
    ax.set_title(f"Attack cases at a {100 * result.budget:g}% budget each", fontsize=10)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig


def miss_scatter_svg(result: ScoreAnalysis, a: int = 0, b: int = 1) -> str:
    """Return :func:`miss_scatter_figure` as SVG."""
    return to_svg(miss_scatter_figure(result, a, b))

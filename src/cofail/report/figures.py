"""Report figures as SVG text (matplotlib, Agg backend): matrix, overlap heatmap, dendrogram."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import MaxNLocator
from scipy.cluster.hierarchy import dendrogram

from cofail.decide import Frontier
from cofail.model import Matrix
from cofail.probability.demo import DefenseInDepth
from cofail.structure import Overlap

__all__ = [
    "defense_in_depth_svg",
    "dendrogram_svg",
    "frontier_svg",
    "matrix_svg",
    "overlap_svg",
    "to_svg",
]

# Colour plus a hatch and a letter per mark, so the figure also reads in grey or for
# colour-blind readers.
_MARK_STYLE = {
    "V": ("#c0392b", "///", "V vulnerable"),
    "N": ("#27ae60", "", "N not vulnerable"),
    "U": ("#f1c40f", "..", "U uncertain"),
}


def to_svg(fig: Figure) -> str:
    """Return ``fig`` as SVG text (fonts as paths, so it renders offline) and close it."""
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": "cofail"}):
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg") :]


def matrix_svg(matrix: Matrix) -> str:
    """Return the vulnerability matrix as a labelled heatmap (SVG)."""
    n, m = len(matrix.layers), len(matrix.failure_modes)
    fig, ax = plt.subplots(figsize=(1.1 + 0.85 * m, 0.9 + 0.5 * n))
    for i, lid in enumerate(matrix.layer_ids):
        for j, mid in enumerate(matrix.mode_ids):
            level = matrix.cell(lid, mid).level
            colour: str | tuple[float, float, float, float]
            if isinstance(level, float):
                colour, hatch = plt.get_cmap("Reds")(0.15 + 0.7 * level), ""
                label = f"{level:.2g}"
            else:
                colour, hatch, _ = _MARK_STYLE[level]
                label = level
            ax.add_patch(
                Rectangle(
                    (j, i), 1, 1, facecolor=colour, hatch=hatch, edgecolor="white", linewidth=1.5
                )
            )
            ax.text(
                j + 0.5,
                i + 0.5,
                label,
                ha="center",
                va="center",
                fontsize=10,
                fontweight="bold",
                color="black",
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8},
            )
    ax.set_xlim(0, m)
    ax.set_ylim(n, 0)
    ax.set_xticks(np.arange(m) + 0.5, matrix.mode_ids, rotation=35, ha="right")
    ax.set_yticks(
        np.arange(n) + 0.5, [f"{lid} ({matrix.layer(lid).safety_tax})" for lid in matrix.layer_ids]
    )
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.legend(
        handles=[
            Patch(facecolor=c, hatch=h, label=lbl, edgecolor="white")
            for c, h, lbl in _MARK_STYLE.values()
        ],
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        frameon=False,
        fontsize=9,
    )
    ax.set_title(f"{matrix.id}: layers × failure modes", loc="left", fontsize=11)
    return to_svg(fig)


def overlap_svg(result: Overlap) -> str:
    """Return the pairwise Jaccard overlap of layer profiles as an annotated heatmap (SVG)."""
    jac = result.jaccard_matrix()
    n = len(result.layers)
    fig, ax = plt.subplots(figsize=(1.5 + 0.7 * n, 1.0 + 0.6 * n))
    im = ax.imshow(np.nan_to_num(jac, nan=0.0), cmap="Purples", vmin=0, vmax=1)
    for i in range(n):
        for j in range(n):
            value = jac[i, j]
            ax.text(
                j,
                i,
                "-" if np.isnan(value) else f"{value:.2f}",
                ha="center",
                va="center",
                fontsize=9,
                color="white" if value > 0.6 else "black",
            )
    ax.set_xticks(range(n), result.layers, rotation=35, ha="right")
    ax.set_yticks(range(n), result.layers)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="Jaccard overlap of failure modes")
    ax.set_title(f"Shared failure modes (U read {result.uncertain})", loc="left", fontsize=11)
    return to_svg(fig)


def dendrogram_svg(result: Overlap) -> str:
    """Return the hierarchical clustering of layers as a dendrogram (SVG)."""
    fig, ax = plt.subplots(figsize=(1.5 + 0.8 * len(result.layers), 3.2))
    if len(result.layers) >= 2:
        dendrogram(
            np.asarray(result.linkage),
            labels=list(result.layers),
            ax=ax,
            color_threshold=result.cut,
            above_threshold_color="#888888",
        )
        ax.axhline(result.cut, color="#444444", linestyle="--", linewidth=1)
        ax.text(ax.get_xlim()[1], result.cut, f" cut {result.cut:g}", va="center", fontsize=8)
    ax.set_ylabel("1 − Jaccard")
    ax.set_title(f"Groups of similar layers ({result.method} linkage)", loc="left", fontsize=11)
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)
    return to_svg(fig)


def frontier_svg(risk: Frontier, depth: Frontier) -> str:
    """Return safety tax against risk and against depth: every stack, frontier highlighted."""
    fig, (ax_r, ax_d) = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, front, label in ((ax_r, risk, "P(stack fails)"), (ax_d, depth, "depth")):
        values = np.where(np.isinf(front.all_value), np.nan, front.all_value)
        jitter = np.random.default_rng(0).uniform(-0.12, 0.12, len(values))
        ax.scatter(front.all_tax + jitter, values, s=12, color="#bbbbbb", label="every stack")
        xs = [p.tax for p in front.points]
        ys = [p.risk if front.metric == "risk" else p.depth for p in front.points]
        ax.step(xs, ys, where="post", color="#6a3d9a", linewidth=1.5)
        ax.scatter(xs, ys, s=36, color="#6a3d9a", zorder=3, label="Pareto frontier")
        for x, y, p in zip(xs, ys, front.points, strict=True):
            if len(p.layers) <= 2:
                ax.annotate(
                    "+".join(p.layers),
                    (x, y),
                    textcoords="offset points",
                    xytext=(4, 4),
                    fontsize=7,
                )
        ax.set_xlabel("total safety tax (low 1, moderate 2, high 4)")
        ax.set_ylabel(label)
        if front.metric == "risk":
            ax.set_yscale("log")
        else:
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        for spine in ("top", "right"):
            ax.spines[spine].set_visible(False)
        ax.legend(frameon=False, fontsize=8)
    ax_r.set_title("Safety tax against risk", loc="left", fontsize=11)
    ax_d.set_title("Safety tax against depth", loc="left", fontsize=11)
    return to_svg(fig)


def defense_in_depth_svg(demo: DefenseInDepth) -> str:
    """Return P(all n layers fail) against n, one curve per shared fraction β (SVG)."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    colours = plt.get_cmap("viridis")(np.linspace(0, 0.9, len(demo.betas)))
    for beta, row, colour in zip(demo.betas, demo.probability, colours, strict=True):
        label = "independent (β = 0)" if beta == 0 else f"β = {beta:g} shared"
        ax.plot(demo.layers, row, marker="o", markersize=3, color=colour, label=label)
    ax.set_yscale("log")
    ax.set_xlabel(f"number of layers, each failing with probability {demo.q:g}")
    ax.set_ylabel("P(all layers fail)")
    ax.set_xticks(demo.layers)
    ax.legend(frameon=False, fontsize=8)
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)
    ax.set_title("Defense in depth: independent against shared failure", loc="left", fontsize=11)
    return to_svg(fig)

"""Figures for evaluation-log evidence: co-failure heatmap, UpSet plot, observed vs independent."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np

from cofail.report.figures import to_svg

if TYPE_CHECKING:  # the figures only read these results
    from cofail.empirical import CoFailure, StackFailure

__all__ = ["cofailure_heatmap_svg", "stack_failure_svg", "upset_svg"]


def cofailure_heatmap_svg(co: CoFailure) -> str:
    """Return φ between every pair of layers' failures as an annotated heatmap (SVG)."""
    assert co.histogram_ is not None
    layers = co.histogram_.layers
    n = len(layers)
    phi = np.eye(n)
    for p in co.pairs_:
        i, j = layers.index(p.a), layers.index(p.b)
        phi[i, j] = phi[j, i] = np.nan if p.phi is None else p.phi
    fig, ax = plt.subplots(figsize=(1.6 + 0.75 * n, 1.2 + 0.65 * n))
    im = ax.imshow(np.nan_to_num(phi), cmap="RdBu_r", vmin=-1, vmax=1)
    for i in range(n):
        for j in range(n):
            text = "-" if np.isnan(phi[i, j]) else f"{phi[i, j]:.2f}"
            ax.text(
                j,
                i,
                text,
                ha="center",
                va="center",
                fontsize=8,
                color="white" if abs(np.nan_to_num(phi[i, j])) > 0.6 else "black",
            )
    ax.set_xticks(range(n), layers, rotation=35, ha="right")
    ax.set_yticks(range(n), layers)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="φ of failures (0 = independent)")
    ax.set_title("Which layers fail on the same cases", loc="left", fontsize=11)
    return to_svg(fig)


def upset_svg(co: CoFailure, top: int = 20) -> str:
    """Return an UpSet plot of the most frequent failure patterns (SVG)."""
    h = co.histogram_
    assert h is not None
    patterns, counts = h.table(co.stratum)
    order = np.argsort(-counts, kind="stable")[:top]
    bits = h.bits(patterns[order])
    n_layers = len(h.layers)
    fig, (ax_bar, ax_dot) = plt.subplots(
        2,
        1,
        figsize=(1.5 + 0.45 * len(order), 2.8 + 0.3 * n_layers),
        sharex=True,
        gridspec_kw={"height_ratios": [2.2, max(1.0, 0.3 * n_layers)]},
    )
    x = np.arange(len(order))
    ax_bar.bar(x, counts[order], color="#555555")
    for xi, c in zip(x, counts[order], strict=True):
        ax_bar.text(xi, c, f"{c:g}", ha="center", va="bottom", fontsize=7)
    ax_bar.set_ylabel("cases")
    ax_bar.set_title(
        f"Failure patterns (top {len(order)} of {len(patterns)})", loc="left", fontsize=11
    )
    for spine in ("top", "right"):
        ax_bar.spines[spine].set_visible(False)
    for xi in x:
        ax_dot.scatter([xi] * n_layers, range(n_layers), s=30, color="#dddddd")
        on = np.flatnonzero(bits[xi])
        if len(on):
            ax_dot.scatter([xi] * len(on), on, s=40, color="#c0392b")
            ax_dot.plot([xi, xi], [on.min(), on.max()], color="#c0392b", linewidth=1.5)
    ax_dot.set_yticks(range(n_layers), h.layers)
    ax_dot.set_xticks([])
    ax_dot.set_ylim(-0.6, n_layers - 0.4)
    ax_dot.set_xlabel("red dots: the layers that failed together (no dot: nothing failed)")
    for spine in ax_dot.spines.values():
        spine.set_visible(False)
    return to_svg(fig)


def stack_failure_svg(results: list[StackFailure]) -> str:
    """Return observed against independence-predicted joint failure, with intervals (SVG)."""
    fig, ax = plt.subplots(figsize=(6.5, 5))
    floor = 1e-6
    for r in results:
        x, y = max(r.independent, floor), max(r.observed, floor)
        xerr = [
            [x - max(r.independent_interval[0], floor)],
            [max(r.independent_interval[1], floor) - x],
        ]
        yerr = [[y - max(r.observed_interval[0], floor)], [max(r.observed_interval[1], floor) - y]]
        ax.errorbar(
            x,
            y,
            xerr=xerr,
            yerr=yerr,
            fmt="o",
            color="#6a3d9a",
            ecolor="#bbbbbb",
            capsize=2,
            markersize=4,
        )
        if len(r.layers) > 2 or len(results) <= 12:
            ax.annotate(
                "+".join(r.layers) if len(r.layers) <= 3 else f"all {len(r.layers)}",
                (x, y),
                textcoords="offset points",
                xytext=(4, 3),
                fontsize=7,
            )
    lims = [floor, 1.0]
    ax.plot(lims, lims, linestyle="--", color="#888888", linewidth=1, label="independence")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("P(all fail) if independent (product of rates)")
    ax.set_ylabel("P(all fail) observed")
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    ax.set_title("Observed joint failure against independence", loc="left", fontsize=11)
    return to_svg(fig)

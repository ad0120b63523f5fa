"""Figures for several raters: agreement per cell, and each rater's use of the levels.

Laid out in inches from the measured labels, like :mod:`cofail.report.figures`; every value
drawn is also in a table of the report.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from matplotlib import pyplot as plt
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize, to_rgba
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import PercentFormatter

from cofail.model import Matrix
from cofail.raters import RaterProfile
from cofail.report.figures import (
    _MAX_GRID_HEIGHT,
    _MAX_GRID_WIDTH,
    _TICK_PAD,
    _add_axes,
    _font_for,
    _line,
    _widest,
    _x_label_depth,
    _x_tick_labels,
    to_svg,
)

__all__ = [
    "agreement_heatmap_figure",
    "agreement_heatmap_svg",
    "rater_profile_figure",
    "rater_profile_svg",
]

_CMAP = "viridis"
_UNPAIRED = "#dddddd"
# V / N / U / graded / blank: the matrix figure's colours, grey for blank.
_KIND_STYLE = {
    "V": ("#c0392b", "///", "V"),
    "N": ("#27ae60", "", "N"),
    "U": ("#f1c40f", "..", "U"),
    "graded": ("#e59866", "xx", "graded"),
    "blank": ("#ffffff", "", "blank"),
}


def _consensus_label(matrix: Matrix, lid: str, mid: str) -> str:
    level = matrix.cell(lid, mid).level
    return f"{level:.2g}" if isinstance(level, float) else level


def agreement_heatmap_figure(matrix: Matrix, agreement: np.ndarray) -> Figure:
    """Return the layers × modes heatmap of ``agreement`` (share of pairs of raters who agree,
    NaN: fewer than two votes), each cell lettered with the consensus level of ``matrix``.

    Examples
    --------
    >>> from cofail.raters import cell_agreement, loads_rater_file, merge, panel_of
    >>> panel = panel_of([loads_rater_file("layer,A,B\\nL,V,N\\n", "csv", f"{n}.csv")
    ...                   for n in "ab"])
    >>> fig = agreement_heatmap_figure(merge(panel).matrix, cell_agreement(panel))
    >>> sorted(t.get_text() for t in fig.axes[0].texts)
    ['N\\n1.00', 'V\\n1.00']
    """
    n, m = agreement.shape
    cell = min(0.62, _MAX_GRID_WIDTH / m, _MAX_GRID_HEIGHT / n)
    tick_fs = _font_for(cell, 9.0)
    value_fs = min(8.5, 0.3 * cell * 72)
    left = _TICK_PAD + _widest(matrix.layer_ids, tick_fs) + 0.1
    bottom = _x_label_depth(matrix.mode_ids, cell, tick_fs) + 0.1
    top = 0.45
    bar_fs = 9.0
    right = 0.15 + 0.15 + _TICK_PAD + _widest(["1.0"], bar_fs) + 2 * _line(bar_fs) + 0.2
    fig = plt.figure(figsize=(left + m * cell + right, bottom + n * cell + top))
    ax = _add_axes(fig, left, bottom, m * cell, n * cell)
    cax = _add_axes(fig, left + m * cell + 0.15, bottom, 0.15, n * cell)
    cmap = plt.get_cmap(_CMAP)
    rgba = np.array(
        [
            [to_rgba(_UNPAIRED) if math.isnan(x) else cmap(x) for x in row]
            for row in agreement.tolist()
        ]
    )
    ax.imshow(rgba, aspect="auto", interpolation="nearest")
    scale = ScalarMappable(norm=Normalize(0.0, 1.0), cmap=cmap)  # the bar's scale alone
    for i, lid in enumerate(matrix.layer_ids):
        for j, mid in enumerate(matrix.mode_ids):
            x = float(agreement[i, j])
            dark = not math.isnan(x) and x < 0.6  # viridis is dark below about 0.6
            ax.text(
                j,
                i,
                f"{_consensus_label(matrix, lid, mid)}\n{'–' if math.isnan(x) else f'{x:.2f}'}",
                ha="center",
                va="center",
                fontsize=value_fs,
                color="white" if dark else "black",
                linespacing=1.1,
            )
    ax.set_xticks(np.arange(m + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(n + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="white", linewidth=1.5)
    ax.tick_params(which="minor", length=0)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    _x_tick_labels(ax, range(m), matrix.mode_ids, cell, tick_fs)
    ax.set_yticks(range(n), list(matrix.layer_ids), fontsize=tick_fs, parse_math=False)
    bar = fig.colorbar(scale, cax=cax)
    bar.set_label("share of pairs of raters\nwho agree (grey: < 2 votes)", fontsize=bar_fs)
    bar.ax.tick_params(labelsize=bar_fs)
    ax.set_title(
        "Agreement per cell (letter: consensus level)", loc="left", fontsize=11, parse_math=False
    )
    return fig


def agreement_heatmap_svg(matrix: Matrix, agreement: np.ndarray) -> str:
    """Return :func:`agreement_heatmap_figure` as SVG text."""
    return to_svg(agreement_heatmap_figure(matrix, agreement))


def rater_profile_figure(
    profiles: Sequence[RaterProfile], with_rest: Sequence[float | None]
) -> Figure:
    """Return one horizontal bar per rater: the shares of the cells they called V, N, U, gave
    a number or left blank, labelled with their nominal alpha against the rest.

    Examples
    --------
    >>> from cofail.raters import loads_rater_file, panel_of, rater_profiles
    >>> panel = panel_of([loads_rater_file("layer,A,B\\nL,V,N\\n", "csv", f"{n}.csv")
    ...                   for n in "ab"])
    >>> fig = rater_profile_figure(rater_profiles(panel), [0.5, None])
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['a (α 0.50)', 'b (α –)']
    """
    labels = [
        f"{p.rater} (α {'–' if a is None or math.isnan(a) else f'{a:.2f}'})"
        for p, a in zip(profiles, with_rest, strict=True)
    ]
    n = len(profiles)
    bar = min(0.4, _MAX_GRID_HEIGHT / n)
    tick_fs = _font_for(bar, 9.0)
    left = _TICK_PAD + _widest(labels, tick_fs) + 0.1
    width, bottom, top = 5.0, 0.55, 0.8
    fig = plt.figure(figsize=(left + width + 0.3, bottom + n * bar + top))
    ax = _add_axes(fig, left, bottom, width, n * bar)
    start = np.zeros(n)
    cells = np.array([sum(p.counts.values()) for p in profiles], dtype=float)
    for kind, (colour, hatch, label) in _KIND_STYLE.items():
        share = np.array([p.counts[kind] for p in profiles]) / np.maximum(cells, 1)
        ax.barh(
            range(n),
            share,
            left=start,
            height=0.7,
            color=colour,
            hatch=hatch or None,
            edgecolor="#555555",
            linewidth=0.5,
            label=label,
        )
        for i, (s0, w) in enumerate(zip(start, share, strict=True)):
            if w * width >= 0.35:  # inches: narrower, a "100%" at 7.5 pt spills out of its bar
                ax.text(
                    s0 + w / 2,
                    i,
                    f"{w:.0%}",
                    ha="center",
                    va="center",
                    fontsize=7.5,
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85},
                )
        start += share
    ax.set_xlim(0, 1)
    ax.set_ylim(n - 0.5, -0.5)  # inverted: the first rater on top
    ax.set_yticks(range(n), labels, fontsize=tick_fs, parse_math=False)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.tick_params(labelsize=8.5)
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)
    ax.legend(
        handles=[
            Patch(facecolor=c, hatch=h or None, edgecolor="#555555", label=lbl)
            for c, h, lbl in _KIND_STYLE.values()
        ],
        loc="lower left",
        bbox_to_anchor=(0.0, 1.0),
        ncol=5,
        frameon=False,
        fontsize=8.5,
    )
    ax.set_title(
        "Each rater's levels (share of cells); α: nominal alpha against the rest",
        loc="left",
        fontsize=11,
        pad=22,
        parse_math=False,
    )
    return fig


def rater_profile_svg(profiles: Sequence[RaterProfile], with_rest: Sequence[float | None]) -> str:
    """Return :func:`rater_profile_figure` as SVG text."""
    return to_svg(rater_profile_figure(profiles, with_rest))

"""An event tree drawn left to right, a bow-tie's fault tree before it, and where attacks stop.

The tree follows PRA's drawing: one column per functional event (a layer), an attack entering
on the left; at each layer the upper branch (holds) runs straight to its outcome and the lower
(fails) drops and goes on to the next layer. Each branch carries its exact conditional
probability and, in grey, the independence picture's (the layer's own P). A branch's width
follows the probability that flows along it. Outcomes are coloured from green (stopped at the
door) through amber (caught late) to red (harm), and each carries its letter-free label too, so
the figure reads in grey.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch, Patch, PathPatch
from matplotlib.path import Path as MplPath

from cofail.report.figures import text_width, to_svg

if TYPE_CHECKING:
    from cofail.sequences import EventTreeResult, Hazard

__all__ = [
    "event_tree_figure",
    "event_tree_svg",
    "outcome_colours",
    "probability_label",
    "stopped_where_figure",
    "stopped_where_svg",
]

_HARM = "#c0392b"
_STOPS = LinearSegmentedColormap.from_list("stops", ["#27ae60", "#f1c40f", "#e67e22"])
_INK, _GREY = "#222222", "#777777"
_COL, _ROW = 1.75, 0.62  # inches between functional events, between outcomes
_FONT = 7.5


def outcome_colours(result: EventTreeResult) -> list[str]:
    """Each outcome's colour: stops green to amber in the order met, harm red.

    >>> from cofail import catalog
    >>> from cofail.model import Stack
    >>> from cofail.sequences import event_tree
    >>> outcome_colours(event_tree(catalog.load(), Stack(layers=("RE", "IDA"))))
    ['#27ae60', '#e67e22', '#c0392b']
    """
    stops = len(result.outcomes) - 1
    shades = [_STOPS(k / max(stops - 1, 1)) for k in range(stops)]
    return [matplotlib.colors.to_hex(c) for c in shades] + [_HARM]


def _width(mass: float) -> float:
    return 0.7 + 5.0 * max(0.0, min(1.0, mass))


def probability_label(value: float | None) -> str:
    """A probability as the figures print it: 3 significant digits, but never 1 for less.

    >>> [probability_label(x) for x in (0.58451, 0.99987, 1.0, 2.3e-7, None)]
    ['0.585', '0.99987', '1', '2.3e-07', '-']
    """
    if value is None:
        return "-"
    if 0.999 <= value < 1.0:
        return f"{value:.{max(3, 2 - int(np.floor(np.log10(1.0 - value))))}f}".rstrip("0")
    return f"{value:.3g}"


_p = probability_label


def event_tree_figure(result: EventTreeResult) -> Figure:
    """Return the event tree left to right (a bow-tie: its hazard fault tree on the left)."""
    bow = result.hazard is not None
    # The functional events: a bow-tie's prevention (its fault tree's top) first.
    events: list[tuple[str, float, float | None, float]] = []  # name, reached, fails, alone
    if result.hazard is not None:
        h = result.hazard
        events.append(("prevention", 1.0, h.probability, h.independent))
    events += [(b.layer, b.reached, b.fails_given_reached, b.fails_alone) for b in result.barriers]
    n = len(events)
    rows = len(result.hazard.layers) if result.hazard is not None else 0
    x0 = 0.1
    xs = [(2.75 if bow else 0.9) + k * _COL for k in range(n)]
    x_end = xs[-1] + _COL
    ys = [-k * _ROW for k in range(n + 1)]
    box = max(1.0, *(text_width(o.outcome, _FONT - 1, "bold") + 0.2 for o in result.outcomes))
    xo = x_end + 0.1
    heads = ["P exact", "indep."] + (["sides ×"] if bow else [])
    x_values = [xo + box + 0.75 + i * 0.75 for i in range(len(heads))]
    head_y = max(0.42, 0.2 * (rows - 1) + 0.45)
    bottom = min(ys[-1], -0.2 * (rows - 1) - 0.5) - (0.85 if bow else 0.5)
    width, height = x_values[-1] + 0.1, head_y + 0.25 - bottom
    fig = plt.figure(figsize=(width, height))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(bottom, head_y + 0.25)
    ax.axis("off")
    colours = outcome_colours(result)
    bold: dict[str, Any] = {"fontsize": _FONT, "va": "center", "color": _INK, "fontweight": "bold"}
    if result.hazard is not None:
        _fault_tree(ax, result.hazard, x0, xs[0], ys[0], head_y)
    else:
        ax.plot([x0, xs[0]], [ys[0], ys[0]], color=_INK, lw=_width(1.0), solid_capstyle="butt")
        ax.text(x0, head_y, "attack", ha="left", **bold)
    for k, (name, reached, fails, fails_alone) in enumerate(events):
        x, y, y_next = xs[k], ys[k], ys[k + 1]
        ax.text(x, head_y, name, ha="center", **bold)
        holds = None if fails is None else 1.0 - fails
        ax.plot([x, x_end], [y, y], color=colours[k], lw=_width(reached * (holds or 0.0)),
                solid_capstyle="butt")  # fmt: skip
        end = xs[k + 1] if k + 1 < n else x_end
        ax.plot([x, x, end], [y, y_next, y_next], color=_INK,
                lw=_width(reached * (fails or 0.0)), solid_capstyle="butt",
                solid_joinstyle="miter")  # fmt: skip
        ax.plot([x], [y], "o", color=_INK, ms=3)
        small: dict[str, Any] = {"fontsize": _FONT - 1, "ha": "left", "color": _INK}
        grey: dict[str, Any] = {"fontsize": _FONT - 1.5, "ha": "left", "va": "top", "color": _GREY}
        ax.text(x + 0.08, y + 0.07, f"holds {_p(holds)}", va="bottom", **small)
        ax.text(x + 0.08, y - 0.07, f"indep. {_p(1.0 - fails_alone)}", **grey)
        ax.text(x + 0.08, y_next + 0.07, f"fails {_p(fails)}", va="bottom", **small)
        ax.text(x + 0.08, y_next - 0.07, f"indep. {_p(fails_alone)}", **grey)
    # Outcomes: a coloured box with the label, then the exact and the independent value.
    ax.text(xo, head_y, "outcome", ha="left", **bold)
    for xv, head in zip(x_values, heads, strict=True):
        ax.text(xv, head_y, head, ha="right", **bold)
    for k, o in enumerate(result.outcomes):
        y = ys[k]
        ax.add_patch(FancyBboxPatch((xo, y - 0.16), box, 0.32, boxstyle="round,pad=0.02",
                                    fc=colours[k], ec="none"))  # fmt: skip
        ax.text(xo + box / 2, y, o.outcome, fontsize=_FONT - 1, ha="center", va="center",
                color="white" if o.layer is None else _INK, fontweight="bold")  # fmt: skip
        values = [o.probability, o.independent] + ([o.sides_multiplied] if bow else [])
        for i, (xv, v) in enumerate(zip(x_values, values, strict=True)):
            ax.text(xv, y, _p(v), fontsize=_FONT, ha="right", va="center",
                    color=_INK if i == 0 else _GREY)  # fmt: skip
    return fig


def _fault_tree(ax: Axes, h: Hazard, x0: float, x_branch: float, y: float, head_y: float) -> None:
    """A bow-tie's left side: the prevention layers into an AND gate whose output, the hazard,
    is the event tree's first branch."""
    rows = len(h.layers)
    gate_x, s = x0 + 1.85, 0.17
    ax.text(x0, head_y, "prevention layers", fontsize=_FONT, ha="left", va="center",
            color=_INK, fontweight="bold")  # fmt: skip
    for i, lid in enumerate(h.layers):
        yy = y + 0.2 * (rows - 1) - 0.4 * i
        ax.add_patch(FancyBboxPatch((x0, yy - 0.13), 1.3, 0.26, boxstyle="round,pad=0.02",
                                    fc="#ecf0f1", ec=_INK, lw=0.6))  # fmt: skip
        ax.text(x0 + 0.65, yy, f"{lid} fails {_p(h.layer_probabilities[lid])}",
                fontsize=_FONT - 1.5, ha="center", va="center", color=_INK)  # fmt: skip
        ax.plot([x0 + 1.32, gate_x - s], [yy, y], color=_INK, lw=0.6)
    # An AND gate pointing right: flat back, round front.
    path = MplPath(
        [(gate_x - s, y - s), (gate_x, y - s), (gate_x + s, y - s), (gate_x + s, y),
         (gate_x + s, y + s), (gate_x, y + s), (gate_x - s, y + s), (gate_x - s, y - s)],
        [MplPath.MOVETO, MplPath.LINETO, MplPath.CURVE3, MplPath.CURVE3, MplPath.CURVE3,
         MplPath.CURVE3, MplPath.LINETO, MplPath.CLOSEPOLY],
    )  # fmt: skip
    ax.add_patch(PathPatch(path, fc="white", ec=_INK, lw=0.8))
    ax.text(gate_x, y, "AND", fontsize=_FONT - 2.5, ha="center", va="center", color=_INK)
    ax.plot([gate_x + s, x_branch], [y, y], color=_INK, lw=_width(1.0), solid_capstyle="butt")
    low = y - 0.2 * (rows - 1) - 0.2
    ax.text(gate_x, low, f"hazard {_p(h.probability)}\n(indep. {_p(h.independent)})",
            fontsize=_FONT - 1.5, ha="center", va="top", color=_INK)  # fmt: skip
    shared = ", ".join(h.shared_modes) or "none"
    ax.text(x0, ax.get_ylim()[0] + 0.25, f"failure modes shared across the bow-tie: {shared} "
            "(exact: conditioned on them, not the two sides multiplied)", fontsize=_FONT - 1,
            ha="left", va="bottom", color=_HARM if h.shared_modes else _GREY)  # fmt: skip


def event_tree_svg(result: EventTreeResult) -> str:
    """Return :func:`event_tree_figure` as SVG."""
    return to_svg(event_tree_figure(result))


def stopped_where_figure(result: EventTreeResult) -> Figure:
    """Return a horizontal bar chart: each outcome's probability, exact against independence."""
    outcomes = result.outcomes
    n = len(outcomes)
    colours = outcome_colours(result)
    fig, ax = plt.subplots(figsize=(6.4, 0.55 * n + 1.0))
    y = np.arange(n)[::-1].astype(float)
    h = 0.38
    exact = [o.probability for o in outcomes]
    alone = [o.independent for o in outcomes]
    ax.barh(y + h / 2, exact, h, color=colours, label="exact (shared failure modes)")
    ax.barh(y - h / 2, alone, h, color="white", edgecolor=_GREY, hatch="///", lw=0.6,
            label="if layers failed independently")  # fmt: skip
    top = max(max(exact), max(alone), 1e-12)
    for yy, a, b in zip(y, exact, alone, strict=True):
        ax.text(a + top * 0.01, yy + h / 2, f"{a:.3g}", va="center", fontsize=7, color=_INK)
        ax.text(b + top * 0.01, yy - h / 2, f"{b:.3g}", va="center", fontsize=7, color=_GREY)
    ax.set_yticks(y, [o.outcome for o in outcomes], fontsize=8)
    ax.set_xlim(0, top * 1.18)
    ax.set_xlabel("probability per attack", fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    handles = [
        Patch(fc=colours[0], ec="none", label="exact, shared failure modes (coloured by outcome)"),
        Patch(fc="white", ec=_GREY, hatch="///", label="if layers failed independently"),
    ]
    ax.legend(handles=handles, fontsize=7, loc="lower right", frameon=False)
    ax.set_title("Where attacks are stopped", fontsize=9)
    fig.tight_layout()
    return fig


def stopped_where_svg(result: EventTreeResult) -> str:
    """Return :func:`stopped_where_figure` as SVG."""
    return to_svg(stopped_where_figure(result))

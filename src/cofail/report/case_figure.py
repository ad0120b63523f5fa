"""A safety case drawn as a GSN diagram, top-down, with gaps and defeaters standing out.

GSN's shapes (Goal Structuring Notation, Community Standard v3): a goal is a rectangle, a
strategy a parallelogram, a solution a circle, a context a rounded rectangle, an assumption or
a justification an ellipse marked A or J; an undeveloped element carries a hollow diamond. The
argument's spine (``supportedBy``) fixes the rows; a context sits beside what it is the context
of. Defeaters (counter-goals and counter-solutions) and the elements they challenge are drawn in
red, so that a reviewer sees first where the argument does not hold.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Ellipse, FancyBboxPatch, Polygon, Rectangle

from cofail.report.figures import to_svg
from cofail.report.section import Figure as ReportFigure
from cofail.report.section import Section
from cofail.report.tabular import Table

if TYPE_CHECKING:
    from cofail.case import Node, SafetyCase

__all__ = ["case_figure", "case_section", "case_svg"]

_W, _H = 2.2, 0.9  # a node's box, in layout units
_RED, _INK, _FILL = "#c0392b", "#222222", "#ffffff"


def _rows(case: SafetyCase) -> dict[str, tuple[int, float]]:
    """Each node's (row, column) in a tidy top-down layout: a node above the middle of what
    supports it; a defeater beside what it challenges, its support below it; a context beside
    its owner, in the owner's row. Columns never collide within a row."""
    nodes = {n.id: n for n in case.nodes}
    supported = {c for n in case.nodes for c in n.supported_by}
    context = {c for n in case.nodes for c in n.in_context_of}
    defeaters: dict[str, list[str]] = {}
    for n in case.nodes:
        if n.challenges is not None:
            defeaters.setdefault(n.challenges, []).append(n.id)
    roots = [n.id for n in case.nodes if n.id not in supported and n.id not in context
             and n.challenges is None]  # fmt: skip
    out: dict[str, tuple[int, float]] = {}
    free: dict[int, float] = {}  # the next free column in each row

    def put(nid: str, row: int, x: float) -> float:
        x = max(x, free.get(row, 0.0))
        out[nid] = (row, x)
        free[row] = x + 1
        return x

    def place(nid: str, row: int) -> None:
        if nid in out:
            return
        below = [c for c in nodes[nid].supported_by if c not in out]
        if below:  # children start under their parent, not left of it
            free[row + 1] = max(free.get(row + 1, 0.0), free.get(row, 0.0))
        for c in below:
            place(c, row + 1)
        xs = [out[c][1] for c in nodes[nid].supported_by if c in out and out[c][0] == row + 1]
        x = put(nid, row, sum(xs) / len(xs) if xs else free.get(row + 1, 0.0))
        for side in (*defeaters.get(nid, ()), *nodes[nid].in_context_of):
            if side in out:
                continue
            if nodes[side].supported_by:
                for c in nodes[side].supported_by:
                    place(c, row + 1)
            put(side, row, x + 1)

    for r in roots:
        place(r, 0)
    for n in case.nodes:  # anything the spine did not reach
        if n.id not in out:
            place(n.id, max((r for r, _ in out.values()), default=0) + 1)
    return out


def _shape(ax: Axes, node: Node, x: float, y: float, red: bool) -> None:
    edge = _RED if red else _INK
    lw = 1.6 if red else 0.8
    kind = node.kind
    if kind in ("Goal", "CounterGoal"):
        ax.add_patch(Rectangle((x - _W / 2, y - _H / 2), _W, _H, fc=_FILL, ec=edge, lw=lw))
    elif kind == "Strategy":
        s = 0.2
        ax.add_patch(Polygon([(x - _W / 2 + s, y + _H / 2), (x + _W / 2, y + _H / 2),
                              (x + _W / 2 - s, y - _H / 2), (x - _W / 2, y - _H / 2)],
                             fc=_FILL, ec=edge, lw=lw))  # fmt: skip
    elif kind in ("Solution", "CounterSolution"):
        ax.add_patch(Circle((x, y), _H * 0.62, fc=_FILL, ec=edge, lw=lw))
    elif kind == "Context":
        ax.add_patch(FancyBboxPatch((x - _W / 2 + 0.1, y - _H / 2 + 0.1), _W - 0.2, _H - 0.2,
                                    boxstyle="round,pad=0.1,rounding_size=0.25",
                                    fc="#f7f7f7", ec=edge, lw=lw))  # fmt: skip
    else:  # Assumption, Justification
        ax.add_patch(Ellipse((x, y), _W, _H, fc="#f7f7f7", ec=edge, lw=lw))
        ax.text(x + _W / 2 - 0.1, y - _H / 2, "A" if kind == "Assumption" else "J", fontsize=6,
                fontweight="bold", ha="right", va="bottom", color=edge)  # fmt: skip
    if node.undeveloped:
        d = 0.16
        ax.add_patch(Polygon([(x, y - _H / 2), (x + d, y - _H / 2 - d), (x, y - _H / 2 - 2 * d),
                              (x - d, y - _H / 2 - d)], fc=_FILL, ec=edge, lw=lw))  # fmt: skip
    wrap = 26 if kind not in ("Solution", "CounterSolution") else 16
    body = textwrap.shorten(node.text, 84 if wrap == 26 else 40, placeholder="…")
    label = f"{node.id}\n" + "\n".join(textwrap.wrap(body, wrap)[:3])
    ax.text(x, y, label, fontsize=4.6, ha="center", va="center", color=edge, wrap=False)


def case_figure(case: SafetyCase) -> Figure:
    """Return the argument as a top-down GSN diagram."""
    at = _rows(case)
    n_rows = max(r for r, _ in at.values()) + 1
    n_cols = max(c for _, c in at.values()) + 1
    sx, sy = _W + 0.35, _H + 0.9
    pos = {nid: (c * sx, -r * sy) for nid, (r, c) in at.items()}
    fig, ax = plt.subplots(figsize=(max(6.0, 0.95 * n_cols * sx), max(3.0, 0.75 * n_rows * sy)))
    red = {n.id for n in case.nodes if n.defeated or n.challenges is not None
           or n.kind in ("CounterGoal", "CounterSolution")}  # fmt: skip
    for n in case.nodes:
        x0, y0 = pos[n.id]
        for c in n.supported_by:
            x1, y1 = pos[c]
            ax.annotate("", (x1, y1 + _H / 2), (x0, y0 - _H / 2),
                        arrowprops={"arrowstyle": "-|>", "color": _INK, "lw": 0.6})  # fmt: skip
        for c in n.in_context_of:
            x1, y1 = pos[c]
            ax.annotate("", (x1, y1), (x0, y0), arrowprops={"arrowstyle": "-|>", "color": "#888888",
                        "lw": 0.5, "ls": "--", "fc": "white"})  # fmt: skip
        if n.challenges and n.challenges in pos:
            x1, y1 = pos[n.challenges]
            ax.annotate("", (x1, y1), (x0, y0), arrowprops={"arrowstyle": "-|>", "color": _RED,
                        "lw": 1.0, "connectionstyle": "arc3,rad=0.25"})  # fmt: skip
    for n in case.nodes:
        _shape(ax, n, *pos[n.id], n.id in red)
    ax.set_xlim(-sx, n_cols * sx)
    ax.set_ylim(-n_rows * sy, sy * 0.7)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(f"{case.brief}  (red: defeated or a defeater; ◇: undeveloped)", fontsize=7)
    fig.tight_layout()
    return fig


def case_svg(case: SafetyCase) -> str:
    """Return :func:`case_figure` as SVG."""
    return to_svg(case_figure(case))


def case_section(case: SafetyCase) -> Section:
    """Return the report's "Safety case" section: the diagram, then the gaps and defeaters."""
    open_points = [
        [n.id, n.kind, "defeated" if n.defeated else "defeater" if n.challenges else "undeveloped",
         n.challenges or "", n.text]
        for n in case.nodes
        if n.defeated or n.undeveloped or n.challenges is not None
    ]  # fmt: skip
    words = [
        f"{case.brief}: {len(case.nodes)} elements, {len(open_points)} of them gaps, defeated "
        "elements or defeaters. Every figure in the argument is the one the CLI prints for the "
        "same inputs; the gsn2x YAML (cofail case --out) carries them as layers."
    ]
    return Section(
        "Safety case",
        words,
        [ReportFigure("safety-case.svg", case_svg(case), "The argument, top-down (GSN).")],
        [Table("Where the argument does not hold", ["id", "element", "status", "challenges",
               "text"], open_points)],
    )  # fmt: skip

"""How a matrix cell looks in the app's grid: the report figure's colour, hatch, letter and
confidence mark, as plain data a web page can render without deciding anything itself."""

from __future__ import annotations

from typing import Any

from cofail.model import Vulnerability

__all__ = ["LEGEND", "cell_style"]

# The matrix figure's marks (cofail.report.figures): a colour, a hatch and a letter each, so
# the grid also reads in grey and for colour-blind readers.
_MARKS = {
    "V": ("#c0392b", "diagonal", "#ffffff"),
    "N": ("#27ae60", "", "#ffffff"),
    "U": ("#f1c40f", "dots", "#000000"),
}
_CONFIDENCE = {"medium": (0.65, "open"), "low": (0.35, "filled")}

LEGEND: list[dict[str, str]] = [
    {"mark": "V", "label": "V vulnerable", "colour": "#c0392b", "hatch": "diagonal"},
    {"mark": "N", "label": "N not vulnerable", "colour": "#27ae60", "hatch": ""},
    {"mark": "U", "label": "U uncertain", "colour": "#f1c40f", "hatch": "dots"},
    {"mark": "q", "label": "graded q: the darker, the likelier to fail", "colour": "#ef3b2c"},
]
"""The grid's key, in the report figure's words."""


def cell_style(cell: Vulnerability) -> dict[str, Any]:
    """Return the look of ``cell``: colour, hatch, text colour, opacity, corner mark, label.

    Examples
    --------
    >>> cell_style(Vulnerability(level="V"))["colour"], cell_style(Vulnerability(level=0.25))["text"]
    ('#c0392b', '0.25')
    >>> cell_style(Vulnerability(level="N", confidence="low"))["corner"]
    'filled'
    """
    level = cell.level
    if isinstance(level, float):
        import matplotlib

        rgba = matplotlib.colormaps["Reds"](0.15 + 0.7 * level)
        colour = "#{:02x}{:02x}{:02x}".format(*(round(255 * c) for c in rgba[:3]))
        ink = "#ffffff" if level >= 0.5 else "#000000"
        hatch, text = "", _graded_label(level)
    else:
        colour, hatch, ink = _MARKS[level]
        text = level
    opacity, corner = _CONFIDENCE.get(cell.confidence or "", (1.0, ""))
    return {
        "colour": colour,
        "hatch": hatch,
        "ink": ink,
        "opacity": opacity,
        "corner": corner,
        "text": text,
    }


def _graded_label(q: float) -> str:
    """Two significant digits, as the report's figure writes a graded cell."""
    return "<0.01" if 0 < q < 0.01 else f"{q:.2g}"

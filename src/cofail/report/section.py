"""What a report is made of: sections of paragraphs, figures and tables.

Each section module (``matrix_report``, ``evidence_section``, ``rater_section``,
``score_section``) builds these; :mod:`cofail.report.document` renders any list of them, and
imports none of the modules that build them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cofail.report.tabular import Table

__all__ = ["Figure", "Section"]


@dataclass(frozen=True)
class Figure:
    """An SVG figure with a file name (for the Markdown twin) and a caption."""

    name: str
    svg: str
    caption: str


@dataclass(frozen=True)
class Section:
    """One report section: paragraphs, figures and tables, in that order."""

    title: str
    paragraphs: list[str] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)

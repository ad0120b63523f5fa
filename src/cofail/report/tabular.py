"""Plain tables (title, columns, rows) and their renderings: terminal, CSV, Markdown, JSON."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # rich is imported only when a table is drawn: JSON/CSV runs start faster
    from rich.console import Console
    from rich.text import Text

__all__ = [
    "OutputFormat",
    "Table",
    "cell_text",
    "csv_safe",
    "md_text",
    "print_tables",
    "render",
    "table_markdown",
    "to_csv",
    "to_html",
    "to_json",
]

OutputFormat = Literal["table", "json", "csv", "md"]

_STYLE = {"V": "bold white on red3", "N": "black on green3", "U": "black on yellow3"}


@dataclass(frozen=True)
class Table:
    """A titled table of plain values, with notes printed under it."""

    title: str
    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]
    notes: Sequence[str] = field(default_factory=tuple)
    marks: bool = False
    """Colour V / N / U cells (terminal only)."""
    tips: Sequence[Sequence[str]] = field(default_factory=tuple)
    """Per-cell hover text, row by row (HTML only: a ``title`` attribute); may be shorter."""


def cell_text(value: Any) -> str:
    """Return the display text of one value: lists joined, floats to 4 significant digits.

    >>> cell_text(["A", "B"]), cell_text(0.123456), cell_text(None)
    ('A, B', '0.1235', '-')
    """
    if value is None:
        return "-"
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:.4g}"
    if isinstance(value, list | tuple):
        return ", ".join(cell_text(v) for v in value) if value else "-"
    return str(value)


def render(tables: Sequence[Table], fmt: OutputFormat, data: dict[str, Any]) -> str:
    """Return the text of a command's output in ``fmt`` (``json`` prints ``data``)."""
    if fmt == "json":
        return to_json(data)
    if fmt == "csv":
        return to_csv(tables)
    if fmt == "md":
        return "\n".join(table_markdown(t) for t in tables)
    from rich.console import Console

    console = Console(record=True, width=120, force_terminal=False, color_system=None)
    return _terminal(tables, console)


def to_csv(tables: Sequence[Table]) -> str:
    """Return every table in one CSV document: a ``table`` column, then the union of columns.

    Each row belongs to one table, named in its first column; columns that table lacks are
    left empty, so the file loads as one frame and filters by table. Notes (the matrix, its
    version and the policy behind the numbers) come last, as rows of the table ``note``.
    Text that a spreadsheet would run as a formula is neutralised (see :func:`csv_safe`).

    >>> a = Table("Cut sets", ["order", "modes"], [[1, ["X"]]], notes=["matrix m v1"])
    >>> b = Table("Depth", ["depth"], [[1]])
    >>> print(to_csv([a, b]), end="")
    table,order,modes,depth,note
    Cut sets,1,X,,
    Depth,,,1,
    note,,,,matrix m v1
    """
    columns: list[str] = []
    for t in tables:
        columns.extend(str(c) for c in t.columns if str(c) not in columns)
    # The tables of one command share notes (the matrix, its version, the policy): once each.
    notes = list(dict.fromkeys(n for t in tables for n in t.notes if n))
    if notes and "note" not in columns:
        columns.append("note")
    where = {c: i for i, c in enumerate(columns)}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["table", *columns])
    for t in tables:
        title = csv_safe(t.title or "result")
        for row in t.rows:
            line = [""] * len(columns)
            for col, value in zip(t.columns, row, strict=True):
                line[where[str(col)]] = csv_safe(cell_text(value), value)
            writer.writerow([title, *line])
    for n in notes:
        line = [""] * len(columns)
        line[where["note"]] = csv_safe(n)
        writer.writerow(["note", *line])
    return out.getvalue()


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(text: str, value: Any = None) -> str:
    """Return ``text`` made safe for a spreadsheet: a leading ``'`` before a formula start.

    OWASP's rule for CSV injection: a cell that begins with ``=``, ``+``, ``-``, ``@``, a tab
    or a carriage return is run as a formula by Excel, LibreOffice and Google Sheets, so it
    gets a leading single quote. Numbers (``value`` an int or float) are left as they are: a
    negative number is data, not a formula.

    >>> csv_safe("=cmd|' /C calc'!A0"), csv_safe("-0.5", -0.5), csv_safe("RLHF")
    ("'=cmd|' /C calc'!A0", '-0.5', 'RLHF')
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        return text
    return "'" + text if text.startswith(_FORMULA_START) else text


def print_tables(tables: Sequence[Table], console: Console) -> None:
    """Print ``tables`` to a rich console, colouring V / N / U cells."""
    from rich.table import Table as RichTable
    from rich.text import Text

    for t in tables:
        if t.title:
            console.print(Text(t.title, style="bold"))
        table = RichTable(show_lines=False)
        for col in t.columns:
            table.add_column(str(col))
        for row in t.rows:
            table.add_row(*(_rich_cell(v, t.marks) for v in row))
        console.print(table)
        for note in t.notes:
            console.print(Text(note, style="dim"))  # user text: never read as markup
        console.print()


def to_json(data: Any) -> str:
    """Return ``data`` as indented JSON; NaN and infinity become ``null``."""
    return json.dumps(_clean(data), indent=2, ensure_ascii=False) + "\n"


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _rich_cell(value: Any, marks: bool) -> Text:
    from rich.text import Text

    text = cell_text(value)
    if marks and text in _STYLE:
        return Text(f" {text} ", style=_STYLE[text])
    return Text(text)


def _terminal(tables: Sequence[Table], console: Console) -> str:
    with console.capture() as capture:
        print_tables(tables, console)
    return capture.get()


def md_text(text: str) -> str:
    """Return user text safe in Markdown: HTML escaped (a renderer would run ``<script>``).

    >>> md_text("<script>alert(1)</script> & co")
    '&lt;script&gt;alert(1)&lt;/script&gt; &amp; co'
    """
    from html import escape

    return escape(text, quote=False)


def table_markdown(t: Table) -> str:
    """Return ``t`` as a Markdown table, with HTML in any cell escaped."""
    lines = [f"### {md_text(t.title)}", ""] if t.title else []
    lines.append("| " + " | ".join(_md_cell(str(c)) for c in t.columns) + " |")
    lines.append("|" + "---|" * len(t.columns))
    for row in t.rows:
        lines.append("| " + " | ".join(_md_cell(cell_text(v)) for v in row) + " |")
    lines.append("")
    lines.extend(f"_{md_text(n)}_" if n else "" for n in t.notes)
    if t.notes:
        lines.append("")
    return "\n".join(lines)


def _md_cell(text: str) -> str:
    return md_text(text).replace("|", "\\|").replace("\n", " ")


def to_html(t: Table) -> str:
    """Return ``t`` as an HTML table; V / N / U cells get a class for colour and a letter."""
    from html import escape

    head = "".join(f"<th>{escape(str(c))}</th>" for c in t.columns)
    body = []
    for r, row in enumerate(t.rows):
        cells = []
        tips = t.tips[r] if r < len(t.tips) else ()
        for c, v in enumerate(row):
            text = cell_text(v)
            cls = f' class="mark-{text}"' if t.marks and text in _STYLE else ""
            tip = tips[c] if c < len(tips) else ""
            # tabindex: a keyboard user reaches the cell, and with it the tip, without a mouse.
            title = f' title="{escape(tip, quote=True)}" tabindex="0"' if tip else ""
            cells.append(f"<td{cls}{title}>{escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    notes = "".join(f'<p class="note">{escape(n)}</p>' for n in t.notes)
    title = f"<h3>{escape(t.title)}</h3>" if t.title else ""
    return (
        f"{title}<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{notes}"
    )

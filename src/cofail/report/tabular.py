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
    "print_tables",
    "render",
    "table_markdown",
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
        # One CSV document: the first table is the command's main result.
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(tables[0].columns)
        for row in tables[0].rows:
            writer.writerow([cell_text(v) for v in row])
        return out.getvalue()
    if fmt == "md":
        return "\n".join(table_markdown(t) for t in tables)
    from rich.console import Console

    console = Console(record=True, width=120, force_terminal=False, color_system=None)
    return _terminal(tables, console)


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
            console.print(f"[dim]{note}[/dim]")
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


def table_markdown(t: Table) -> str:
    lines = [f"### {t.title}", ""] if t.title else []
    lines.append("| " + " | ".join(str(c) for c in t.columns) + " |")
    lines.append("|" + "---|" * len(t.columns))
    for row in t.rows:
        lines.append("| " + " | ".join(cell_text(v).replace("|", "\\|") for v in row) + " |")
    lines.append("")
    lines.extend(f"_{n}_" if n else "" for n in t.notes)
    if t.notes:
        lines.append("")
    return "\n".join(lines)


def to_html(t: Table) -> str:
    """Return ``t`` as an HTML table; V / N / U cells get a class for colour and a letter."""
    from html import escape

    head = "".join(f"<th>{escape(str(c))}</th>" for c in t.columns)
    body = []
    for row in t.rows:
        cells = []
        for v in row:
            text = cell_text(v)
            cls = f' class="mark-{text}"' if t.marks and text in _STYLE else ""
            cells.append(f"<td{cls}>{escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    notes = "".join(f'<p class="note">{escape(n)}</p>' for n in t.notes)
    title = f"<h3>{escape(t.title)}</h3>" if t.title else ""
    return (
        f"{title}<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{notes}"
    )

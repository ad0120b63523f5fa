"""The cofail report: sections rendered as self-contained HTML and as Markdown, and written.

What goes into a report is its caller's: ``matrix_report.write_report`` for a matrix, the
``empirical`` and ``scores`` commands for an evidence or a scores report.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from html import escape
from pathlib import Path

from cofail.io.files import report_folder, write_atomic
from cofail.report.section import Figure, Section
from cofail.report.tabular import md_text, table_markdown, to_html

__all__ = ["Figure", "ReportPaths", "Section", "write_document"]


@dataclass(frozen=True)
class ReportPaths:
    """Where the report was written."""

    html: Path
    markdown: Path
    figures: list[Path]


def write_document(
    title: str, header: str, sections: list[Section], out: str | Path
) -> ReportPaths:
    """Write sections as ``report.html``, ``report.md`` and ``figures/*.svg`` under ``out``."""
    out = Path(out)
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    header = f"{header} · generated {stamp}"
    markdown, html = _markdown(title, sections, header), _html(title, sections, header)
    with report_folder(out) as folder:  # the whole folder appears at once, or not at all
        for section in sections:
            for fig in section.figures:
                write_atomic(folder / "figures" / fig.name, fig.svg)
        write_atomic(folder / "report.md", markdown)
        write_atomic(folder / "report.html", html)
    figures_written = [out / "figures" / f.name for s in sections for f in s.figures]
    return ReportPaths(
        html=out / "report.html", markdown=out / "report.md", figures=figures_written
    )


def _markdown(title: str, sections: list[Section], header: str) -> str:
    # Names, rationales and log sources are user text: escaped, as report.html escapes them.
    lines = [f"# {md_text(title)}", "", f"_{md_text(header)}_", ""]
    for s in sections:
        lines += [f"## {md_text(s.title)}", ""]
        lines += [md_text(p) + "\n" for p in s.paragraphs if p]
        lines += [f"![{md_text(f.caption)}](figures/{f.name})\n" for f in s.figures]
        lines += [table_markdown(t) for t in s.tables]
    return "\n".join(lines)


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
h3{font-size:1.05em;margin-bottom:.3em}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .55em;text-align:left;vertical-align:top}
th{background:#f4f4f4}.note{color:#666;font-size:.85em;margin:.2em 0}
td.mark-V{background:#c0392b;color:#fff;font-weight:bold;text-align:center}
td.mark-N{background:#27ae60;color:#fff;text-align:center}
td.mark-U{background:#f1c40f;color:#000;font-style:italic;text-align:center}
figure{margin:1em 0}figure svg{max-width:100%;height:auto}figcaption{color:#555;font-size:.85em}
.header{color:#555;font-size:.85em}
"""


def _html(title: str, sections: list[Section], header: str) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="header">{escape(header)}</p>',
    ]
    for s in sections:
        parts.append(f"<section><h2>{escape(s.title)}</h2>")
        parts += [f"<p>{escape(p)}</p>" for p in s.paragraphs if p]
        for f in s.figures:
            parts.append(
                f'<figure id="{escape(f.name)}">{f.svg}<figcaption>{escape(f.caption)}'
                "</figcaption></figure>"
            )
        parts += [to_html(t) for t in s.tables]
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)

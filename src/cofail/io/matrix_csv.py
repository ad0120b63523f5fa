"""Wide CSV matrices: a ``layer`` column, then one column per failure-mode id."""

from __future__ import annotations

import csv
import io

from cofail.errors import InputError
from cofail.model import FailureMode, Layer, Matrix, Vulnerability

__all__ = ["dumps_csv", "loads_csv"]


def loads_csv(
    text: str, source: str = "<csv>", *, blanks: set[tuple[str, str]] | None = None
) -> Matrix:
    """Parse a wide CSV matrix; cells are V, N, U or a number in [0, 1].

    With ``blanks`` (a rater file, whose cells may be left blank), an empty cell is read as U
    and its ``(layer, mode)`` added to ``blanks``; without it an empty cell is an error.

    >>> m = loads_csv("layer,A,B\\nL1,V,N\\nL2,0.25,U\\n")
    >>> m.cell("L2", "A").level, m.cell("L2", "B").level
    (0.25, 'U')
    >>> blank: set[tuple[str, str]] = set()
    >>> loads_csv("layer,A,B\\nL1,V,\\n", blanks=blank).cell("L1", "B").level, blank
    ('U', {('L1', 'B')})
    """
    rows = [r for _, r in _numbered(text, source)]
    if not rows:
        raise InputError("file is empty", source=source)
    header = [c.strip() for c in rows[0]]
    if not header or header[0].lower() != "layer":
        raise InputError(
            f"the first column must be 'layer', got {header[0]!r}", source=source, line=1
        )
    mode_ids = header[1:]
    if not mode_ids:
        raise InputError("no failure-mode columns after 'layer'", source=source, line=1)
    modes = []
    seen: set[str] = set()  # a set: a 100,000-column header is checked in linear time
    for col, mid in enumerate(mode_ids, start=2):
        if mid in seen:
            raise InputError(f"duplicate failure-mode column {mid!r}", source=source, line=1)
        try:
            modes.append(FailureMode(id=mid))
        except ValueError:
            raise InputError(
                f"column {col}: {mid!r} is not a valid failure-mode id (letters, digits, _ . -)",
                source=source,
                line=1,
            ) from None
        seen.add(mid)
    layers: list[Layer] = []
    cells: dict[str, dict[str, Vulnerability]] = {}
    parsed: dict[str, Vulnerability] = {}  # a cell is frozen: one instance per distinct text
    for line_no, row in _numbered(text, source):
        if line_no == 1:
            continue
        if len(row) != len(header):
            raise InputError(
                f"expected {len(header)} fields (layer + {len(mode_ids)} modes), got {len(row)}",
                source=source,
                line=line_no,
            )
        lid = row[0].strip()
        if lid in cells:
            raise InputError(f"duplicate layer {lid!r}", source=source, line=line_no)
        try:
            layers.append(Layer(id=lid))
        except ValueError:
            raise InputError(
                f"{lid!r} is not a valid layer id (letters, digits, _ . -)",
                source=source,
                line=line_no,
            ) from None
        cells[lid] = {}
        for mid, raw in zip(mode_ids, row[1:], strict=True):
            if blanks is not None and not raw.strip():
                blanks.add((lid, mid))
                raw = "U"
            try:
                cell = parsed.get(raw)
                if cell is None:
                    cell = parsed[raw] = Vulnerability.model_validate(raw.strip())
                cells[lid][mid] = cell
            except ValueError:
                raise InputError(
                    f"layer {lid}, mode {mid}: expected V, N, U or a number in [0, 1], "
                    f"got {raw.strip()!r}",
                    source=source,
                    line=line_no,
                ) from None
    if not layers:
        raise InputError("no layer rows after the header", source=source)
    return Matrix(failure_modes=tuple(modes), layers=tuple(layers), cells=cells)


def dumps_csv(matrix: Matrix) -> str:
    """Return the wide CSV text of ``matrix`` (levels only: rationale and metadata are dropped).

    >>> from cofail import catalog
    >>> dumps_csv(catalog.load()).splitlines()[1]
    'RLHF,N,V,V,N,V,V,V'
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["layer", *matrix.mode_ids])
    for lid in matrix.layer_ids:
        writer.writerow(
            [lid, *(_level_text(matrix.cell(lid, mid).level) for mid in matrix.mode_ids)]
        )
    return out.getvalue()


def _level_text(level: str | float) -> str:
    return level if isinstance(level, str) else repr(level)


def _numbered(text: str, source: str) -> list[tuple[int, list[str]]]:
    # csv.reader's line_num counts physical lines, so quoted newlines keep their numbers right.
    # strict: an unterminated quote is an error, not a field that runs to the end of the file.
    reader = csv.reader(io.StringIO(text), strict=True)
    out = []
    try:
        for row in reader:
            if any(c.strip() for c in row):
                out.append((reader.line_num, row))
    except csv.Error as exc:
        raise InputError(f"invalid CSV: {exc}", source=source, line=reader.line_num) from None
    return out

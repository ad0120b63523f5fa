"""Rater files: matrix files whose cells may be left blank, and a panel of them that agree
on their layers and failure modes.

A rater file is an ordinary matrix file (YAML, JSON or CSV, read by the matrix readers and
checked by the same validation) in which a cell may be blank: ``null``, an empty string, a
mapping without a level, or left out altogether (YAML/JSON); an empty field (CSV). A blank
cell is *not judged*, which is not the same as U (judged uncertain). The rater's id is the
file's ``rater:`` field, or else the file's name without its suffix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cofail.errors import InputError, brief
from cofail.io.files import read_text
from cofail.io.matrix_csv import loads_csv
from cofail.io.matrix_formats import format_of, loads_matrix_data
from cofail.io.validation import build_matrix
from cofail.model import FailureMode, Layer, Matrix, Vulnerability

__all__ = ["Panel", "RaterFile", "loads_rater_file", "panel_of", "read_panel", "read_rater_file"]

Cell = tuple[str, str]


@dataclass(frozen=True)
class RaterFile:
    """One rater's judgements: the cells they judged, and the matrix's layers and modes."""

    rater: str
    """The rater's id: the file's ``rater:`` field, or its name without the suffix."""
    source: str
    """The file it was read from."""
    frame: Matrix
    """The file as a matrix, with every blank cell read as U: its layers, failure modes and
    metadata. Use :attr:`judgements` for the levels: a U here may be a blank."""
    judgements: dict[Cell, Vulnerability]
    """The judged cells, by ``(layer, mode)``; a blank cell has no entry."""

    def level(self, layer: str, mode: str) -> Vulnerability | None:
        """Return the rater's judgement of a cell, or ``None`` when they left it blank.

        >>> r = loads_rater_file("layer,A,B\\nL,V,\\n", "csv", "ann.csv")
        >>> r.rater, r.level("L", "A").level, r.level("L", "B")
        ('ann', 'V', None)
        """
        return self.judgements.get((layer, mode))


def read_rater_file(path: str | Path) -> RaterFile:
    """Read a rater file; any mistake raises ``InputError`` naming the file and field.

    >>> read_rater_file("/nonexistent/ann.yaml")
    Traceback (most recent call last):
    ...
    cofail.errors.InputError: /nonexistent/ann.yaml: no such file
    """
    fmt = format_of(path)
    return loads_rater_file(read_text(path), fmt, str(path))


def loads_rater_file(text: str, fmt: str, source: str) -> RaterFile:
    """Parse rater-file text in ``fmt`` (``yaml``, ``json`` or ``csv``); ``source`` names it.

    >>> r = loads_rater_file(
    ...     "rater: bo\\nfailure_modes: [{id: A}, {id: B}]\\nlayers: [{id: L}]\\n"
    ...     "cells: {L: {A: N, B: null}}", "yaml", "f.yaml")
    >>> r.rater, sorted(r.judgements)
    ('bo', [('L', 'A')])
    """
    blanks: set[Cell] = set()
    rater = Path(source).stem
    if fmt == "csv":
        matrix = loads_csv(text, source, blanks=blanks)
    elif fmt in ("yaml", "json"):
        data, locate = loads_matrix_data(text, "yaml" if fmt == "yaml" else "json", source)
        # Taken out before the matrix is built: a matrix refuses fields it does not know.
        if isinstance(data, dict) and "rater" in data:
            data = dict(data)
            rater = _rater_id(data.pop("rater"), source, locate(("rater",)) if locate else None)
        matrix = build_matrix(_fill_blanks(data, blanks), source, locate)
    else:
        raise InputError(f"unknown rater file format {fmt!r}", source=source)
    if not rater.strip():
        raise InputError("the rater id is empty; give a rater: field", source=source)
    judgements = {
        (lid, mid): matrix.cell(lid, mid)
        for lid in matrix.layer_ids
        for mid in matrix.mode_ids
        if (lid, mid) not in blanks
    }
    return RaterFile(rater=rater, source=source, frame=matrix, judgements=judgements)


def _rater_id(value: Any, source: str, line: int | None) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InputError(
            f"rater: expected the rater's id (a name), got {type(value).__name__}",
            source=source,
            line=line,
        )
    text = str(value).strip()
    if not text or len(text) > 64 or any(c in text for c in "\n\r\t"):
        raise InputError(
            "rater: expected a name of 1 to 64 characters on one line", source=source, line=line
        )
    return text


def _is_blank(value: Any) -> bool:
    if value is None or (isinstance(value, str) and not value.strip()):
        return True
    return isinstance(value, dict) and _is_blank(value.get("level"))


def _fill_blanks(data: Any, blanks: set[Cell]) -> Any:
    """Return ``data`` with each blank cell of a known layer and mode read as U, recorded in
    ``blanks``; anything malformed is left as it is, for the matrix validation to name."""
    if not isinstance(data, dict):
        return data
    layer_ids = _ids(data.get("layers"))
    mode_ids = _ids(data.get("failure_modes"))
    cells = data.get("cells", {})
    if cells is None:
        cells = {}
    if not isinstance(cells, dict):
        return data
    filled: dict[Any, Any] = dict(cells)
    for lid in layer_ids:
        row = filled.get(lid)
        if row is None:
            row = {}
        if not isinstance(row, dict):
            continue
        row = dict(row)
        for mid in mode_ids:
            if _is_blank(row.get(mid)):
                row[mid] = "U"
                blanks.add((lid, mid))
        filled[lid] = row
    return {**data, "cells": filled}


def _ids(items: Any) -> list[str]:
    if not isinstance(items, list):
        return []
    return [i["id"] for i in items if isinstance(i, dict) and isinstance(i.get("id"), str)]


@dataclass(frozen=True)
class Panel:
    """Several raters' files over the same layers and failure modes (in the first's order)."""

    raters: tuple[RaterFile, ...]
    """The rater files, in the order given."""

    @property
    def ids(self) -> tuple[str, ...]:
        """The raters' ids, in the order given."""
        return tuple(r.rater for r in self.raters)

    @property
    def frame(self) -> Matrix:
        """The first file's matrix: layers, failure modes and metadata of the panel."""
        return self.raters[0].frame

    @property
    def layers(self) -> tuple[Layer, ...]:
        """The layers, as the first file describes them."""
        return self.frame.layers

    @property
    def failure_modes(self) -> tuple[FailureMode, ...]:
        """The failure modes, as the first file describes them."""
        return self.frame.failure_modes

    @property
    def cells(self) -> list[Cell]:
        """Every ``(layer, mode)`` in row-major order."""
        return [(lid, mid) for lid in self.frame.layer_ids for mid in self.frame.mode_ids]

    def votes(self, layer: str, mode: str) -> dict[str, Vulnerability]:
        """Return each rater's judgement of a cell, by rater id (raters who left it blank
        are left out).

        >>> a = loads_rater_file("layer,A\\nL,V\\n", "csv", "a.csv")
        >>> b = loads_rater_file("layer,A\\nL,\\n", "csv", "b.csv")
        >>> {k: v.level for k, v in Panel((a, b)).votes("L", "A").items()}
        {'a': 'V'}
        """
        out = {}
        for r in self.raters:
            cell = r.level(layer, mode)
            if cell is not None:
                out[r.rater] = cell
        return out


def read_panel(paths: Sequence[str | Path]) -> Panel:
    """Read rater files and check they form a panel: at least two files, distinct rater ids,
    the same layer and failure-mode ids in each, and at least one judged cell in each.

    >>> read_panel(["only.yaml"])
    Traceback (most recent call last):
    ...
    cofail.errors.InputError: only.yaml: one rater file given; agreement and merging need at least two
    """
    if len(paths) < 2:
        where = str(paths[0]) if paths else None
        raise InputError(
            f"{'one rater file' if paths else 'no rater file'} given; agreement and merging "
            "need at least two",
            source=where,
        )
    return panel_of([read_rater_file(p) for p in paths])


def panel_of(raters: Sequence[RaterFile]) -> Panel:
    """Return the panel of already read rater files, checked as :func:`read_panel` says."""
    first = raters[0]
    seen: dict[str, str] = {}
    for r in raters:
        if r.rater in seen and seen[r.rater] == r.source:
            raise InputError("the same rater file is given twice", source=r.source)
        if r.rater in seen:
            raise InputError(
                f"rater id {r.rater!r} is also the id of {seen[r.rater]}; each rater needs "
                "their own id (a rater: field or a distinct file name)",
                source=r.source,
            )
        seen[r.rater] = r.source
        if not r.judgements:
            raise InputError(
                "no cell is judged (every level is blank); fill in the template first",
                source=r.source,
            )
        if r is first:
            continue
        _same_ids(r, first, "layer", first.frame.layer_ids, r.frame.layer_ids)
        _same_ids(r, first, "failure mode", first.frame.mode_ids, r.frame.mode_ids)
    return Panel(tuple(raters))


def _same_ids(
    rater: RaterFile, first: RaterFile, kind: str, expected: Sequence[str], got: Sequence[str]
) -> None:
    known, present = set(expected), set(got)
    unknown = [i for i in got if i not in known]
    missing = [i for i in expected if i not in present]
    if not unknown and not missing:
        return
    shown = ", ".join(expected[:12]) + (", …" if len(expected) > 12 else "")
    problem = (
        f"unknown {kind} {brief(unknown[0])}: not in {first.source}"
        if unknown
        else f"missing {kind} {brief(missing[0])} that {first.source} has"
    )
    raise InputError(
        f"{problem} (expected the same {kind}s in every rater file: {shown})",
        source=rater.source,
    )

"""Read and write matrix files: YAML (primary), wide CSV and JSON, with lossless round trips."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from cofail.errors import InputError
from cofail.io.files import read_text, write_atomic
from cofail.io.json_text import loads_json
from cofail.io.matrix_csv import dumps_csv, loads_csv
from cofail.io.validation import FieldPath, build_matrix
from cofail.model import Matrix

__all__ = [
    "FORMAT_VERSION",
    "MatrixFormat",
    "dumps_matrix",
    "format_of",
    "loads_matrix",
    "loads_matrix_data",
    "read_matrix",
    "write_matrix",
]

MatrixFormat = Literal["yaml", "csv", "json"]
FORMAT_VERSION = 1
"""Version of the YAML/JSON matrix layout (the ``cofail:`` key)."""

_SUFFIXES: dict[str, MatrixFormat] = {
    ".yaml": "yaml",
    ".yml": "yaml",
    ".csv": "csv",
    ".json": "json",
}


def format_of(path: str | Path) -> MatrixFormat:
    """Return the matrix format implied by a file name's suffix."""
    suffix = Path(path).suffix.lower()
    if suffix not in _SUFFIXES:
        raise InputError(
            f"unknown matrix file type {suffix or '(none)'!r}; expected .yaml, .yml, .csv or .json",
            source=str(path),
        )
    return _SUFFIXES[suffix]


def read_matrix(path: str | Path) -> Matrix:
    """Read a matrix file; any mistake raises ``InputError`` naming the file and line or field."""
    fmt = format_of(path)
    return loads_matrix(read_text(path), fmt, source=str(path))


def loads_matrix(text: str, fmt: MatrixFormat, source: str = "<matrix>") -> Matrix:
    """Parse matrix text in format ``fmt``.

    >>> m = loads_matrix("failure_modes: [{id: A}]\\nlayers: [{id: L}]\\ncells: {L: {A: V}}", "yaml")
    >>> m.cell("L", "A").level
    'V'
    """
    if fmt == "csv":
        return loads_csv(text, source)
    data, locate = loads_matrix_data(text, fmt, source)
    return build_matrix(data, source, locate)


def loads_matrix_data(
    text: str, fmt: Literal["yaml", "json"], source: str = "<matrix>"
) -> tuple[Any, Callable[[FieldPath], int | None] | None]:
    """Parse YAML or JSON matrix text into plain data, not yet validated as a :class:`Matrix`,
    and the function that maps a field path to its line (``None`` for JSON).

    For readers of files that are matrices with something more (rater files: a ``rater``
    field, blank cells): they adjust the data, then validate it with ``build_matrix``.

    >>> data, _ = loads_matrix_data('{"cofail": 1, "rater": "ann", "cells": {}}', "json")
    >>> data
    {'rater': 'ann', 'cells': {}}
    """
    if fmt == "json":
        return _strip_version(loads_json(text, source), source), None
    from cofail.io.yaml_source import YamlDocument  # YAML only when a YAML file is read

    doc = YamlDocument(text, source)
    return _strip_version(doc.data, source), doc.line_of


def dumps_matrix(matrix: Matrix, fmt: MatrixFormat) -> str:
    """Return the text of ``matrix`` in ``fmt``; YAML and JSON keep every field.

    >>> from cofail import catalog
    >>> m = catalog.load()
    >>> loads_matrix(dumps_matrix(m, "yaml"), "yaml") == m
    True
    """
    if fmt == "csv":
        return dumps_csv(matrix)
    data = _to_data(matrix)
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    import yaml

    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def write_matrix(matrix: Matrix, path: str | Path) -> Path:
    """Write ``matrix`` to ``path`` (format from the suffix) atomically."""
    return write_atomic(path, dumps_matrix(matrix, format_of(path)))


def _strip_version(data: Any, source: str) -> Any:
    if isinstance(data, dict) and "cofail" in data:
        data = dict(data)
        version = data.pop("cofail")
        if version != FORMAT_VERSION:
            raise InputError(
                f"cofail: format version {version!r} is not supported (expected {FORMAT_VERSION})",
                source=source,
            )
    return data


def _to_data(matrix: Matrix) -> dict[str, Any]:
    data: dict[str, Any] = {"cofail": FORMAT_VERSION}
    # Empty optional fields are left out to keep files short; safety_tax is always written.
    data.update(_prune(matrix.model_dump(mode="json", exclude_none=True, exclude={"cells"})))
    data["cells"] = {
        lid: {
            mid: (
                cell.level
                if cell.model_fields_set <= {"level"} and not (cell.rationale or cell.source)
                else _prune(cell.model_dump(mode="json", exclude_none=True))
            )
            for mid, cell in row.items()
        }
        for lid, row in matrix.cells.items()
    }
    return data


def _prune(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _prune(v) for k, v in value.items() if v not in ("", [], ())}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value

"""Turn pydantic validation errors into one-line ``InputError`` messages that name the field."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from cofail.errors import InputError
from cofail.model import Matrix

__all__ = ["FieldPath", "build_matrix", "format_path", "parse_path"]

FieldPath = tuple[str | int, ...]
_PATH_IN_MESSAGE = re.compile(r"^(?P<path>[A-Za-z_][\w\-.\[\]]*): (?P<rest>.+)$", re.S)


def format_path(loc: FieldPath) -> str:
    """Return ``cells.RLHF.DEC-AL`` / ``layers[2].safety_tax`` for a pydantic location.

    >>> format_path(("layers", 2, "safety_tax"))
    'layers[2].safety_tax'
    """
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def parse_path(text: str) -> FieldPath:
    """Invert :func:`format_path` (ids may contain dots only when they are mapping keys).

    >>> parse_path("layers[2].safety_tax")
    ('layers', 2, 'safety_tax')
    """
    parts: list[str | int] = []
    for token in re.findall(r"\[(\d+)\]|([^.\[\]]+)", text):
        index, key = token
        parts.append(int(index) if index else key)
    return tuple(parts)


def build_matrix(
    data: Any, source: str, locate: Callable[[FieldPath], int | None] | None = None
) -> Matrix:
    """Validate ``data`` as a :class:`Matrix`; errors become ``InputError`` naming the field.

    ``locate`` maps a field path to a line number in ``source`` when the format knows it.
    """
    if not isinstance(data, dict):
        raise InputError(
            f"expected a mapping with failure_modes, layers and cells, got {type(data).__name__}",
            source=source,
        )
    try:
        return Matrix.model_validate(data)
    except ValidationError as exc:
        loc, message = _first_error(exc)
        line = locate(loc) if locate else None
        where = format_path(loc)
        raise InputError(
            f"{where}: {message}" if where else message, source=source, line=line
        ) from None


def _first_error(exc: ValidationError) -> tuple[FieldPath, str]:
    err = exc.errors(include_url=False)[0]
    loc: FieldPath = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
    message = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "missing":
        message = "required field is missing"
    elif err["type"] == "extra_forbidden":
        message = "unknown field (check its spelling)"
    elif err["type"] == "literal_error":
        message = f"{message}, got {err.get('input')!r}"
    if not loc:
        match = _PATH_IN_MESSAGE.match(message)
        if match:
            loc, message = parse_path(match["path"]), match["rest"]
    # A level's union error lists every branch; say what is expected once.
    if loc and loc[-1] == "level" and "input" in err and "[0, 1]" not in message:
        message = f"expected V, N, U or a number in [0, 1], got {err['input']!r}"
    return loc, message

"""Edits of a matrix, as the app's editor asks for them: each returns a new, validated matrix.

An edit is a mapping with an ``op`` and its fields (the JSON body of ``POST /api/edit``); a
mistake (an unknown layer, a level out of range, an id with a space) raises ``InputError``
naming the field, and the matrix is left as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from cofail.errors import InputError, brief
from cofail.io.validation import build_matrix
from cofail.model import Matrix

__all__ = ["CYCLE", "OPERATIONS", "apply_edit"]

CYCLE = {"V": "N", "N": "U", "U": "V"}
"""What a click does to a cell's level; a graded cell becomes V."""

Data = dict[str, Any]


def apply_edit(matrix: Matrix, edit: Mapping[str, Any]) -> Matrix:
    """Return ``matrix`` with ``edit`` applied.

    Examples
    --------
    >>> from cofail import catalog
    >>> m = catalog.load()
    >>> apply_edit(m, {"op": "cycle", "layer": "RE", "mode": "AL-GEN"}).cell("RE", "AL-GEN").level
    'N'
    >>> apply_edit(m, {"op": "level", "layer": "RE", "mode": "AL-GEN", "level": "0.3"}).cell(
    ...     "RE", "AL-GEN").level
    0.3
    >>> apply_edit(m, {"op": "add_mode", "id": "NEW"}).mode_ids[-1]
    'NEW'
    """
    op = edit.get("op")
    if not isinstance(op, str) or op not in OPERATIONS:
        raise InputError(f"op: expected one of {', '.join(OPERATIONS)}, got {brief(op)}")
    data = matrix.model_dump(mode="python")
    data["layers"] = list(data["layers"])
    data["failure_modes"] = list(data["failure_modes"])
    data["cells"] = {
        lid: {mid: cell.model_dump(exclude_unset=True) for mid, cell in row.items()}
        for lid, row in matrix.cells.items()
    }
    OPERATIONS[op](data, edit)
    return build_matrix(data, "edit")


def _text(edit: Mapping[str, Any], key: str, default: str | None = None) -> str:
    value = edit.get(key, default)
    if not isinstance(value, str):
        raise InputError(f"{key}: expected text, got {brief(value)}")
    return value.strip()


def _row(data: Data, edit: Mapping[str, Any]) -> tuple[str, str, Data]:
    lid, mid = _text(edit, "layer"), _text(edit, "mode")
    row = data["cells"].get(lid)
    if row is None:
        raise InputError(f"layer: unknown layer {brief(lid)}")
    if mid not in row:
        raise InputError(f"mode: unknown failure mode {brief(mid)}")
    return lid, mid, row


def _cycle(data: Data, edit: Mapping[str, Any]) -> None:
    _, mid, row = _row(data, edit)
    level = row[mid]["level"]
    row[mid]["level"] = CYCLE.get(level, "V") if isinstance(level, str) else "V"


def _level(data: Data, edit: Mapping[str, Any]) -> None:
    _, mid, row = _row(data, edit)
    value = edit.get("level")
    row[mid]["level"] = value.strip() if isinstance(value, str) else value


def _cell(data: Data, edit: Mapping[str, Any]) -> None:
    _, mid, row = _row(data, edit)
    for key in ("rationale", "source"):
        if key in edit:
            row[mid][key] = _text(edit, key)
    if "confidence" in edit:
        row[mid]["confidence"] = _text(edit, "confidence") or None


def _index(items: list[Data], key: str, edit: Mapping[str, Any], what: str) -> int:
    wanted = _text(edit, key)
    for i, item in enumerate(items):
        if item["id"] == wanted:
            return i
    raise InputError(f"{key}: unknown {what} {brief(wanted)}")


def _new_id(items: list[Data], edit: Mapping[str, Any], what: str) -> str:
    new = _text(edit, "id")
    if any(item["id"] == new for item in items):
        raise InputError(f"id: there is already a {what} {brief(new)}")
    return new


def _add_layer(data: Data, edit: Mapping[str, Any]) -> None:
    lid = _new_id(data["layers"], edit, "layer")
    data["layers"].append({"id": lid, "name": _text(edit, "name", "")})
    data["cells"][lid] = {m["id"]: {"level": "U"} for m in data["failure_modes"]}


def _add_mode(data: Data, edit: Mapping[str, Any]) -> None:
    mid = _new_id(data["failure_modes"], edit, "failure mode")
    data["failure_modes"].append({"id": mid, "name": _text(edit, "name", "")})
    for row in data["cells"].values():
        row[mid] = {"level": "U"}


def _remove_layer(data: Data, edit: Mapping[str, Any]) -> None:
    i = _index(data["layers"], "id", edit, "layer")
    if len(data["layers"]) == 1:
        raise InputError("id: a matrix needs at least one layer")
    lid = data["layers"].pop(i)["id"]
    del data["cells"][lid]


def _remove_mode(data: Data, edit: Mapping[str, Any]) -> None:
    i = _index(data["failure_modes"], "id", edit, "failure mode")
    if len(data["failure_modes"]) == 1:
        raise InputError("id: a matrix needs at least one failure mode")
    mid = data["failure_modes"].pop(i)["id"]
    for row in data["cells"].values():
        del row[mid]


def _rename(items: list[Data], edit: Mapping[str, Any], what: str) -> tuple[str, str]:
    i = _index(items, "id", edit, what)
    old = items[i]["id"]
    new = _text(edit, "new_id", old)
    if new != old and any(item["id"] == new for item in items):
        raise InputError(f"new_id: there is already a {what} {brief(new)}")
    items[i]["id"] = new
    for key in ("name", "description"):
        if key in edit:
            items[i][key] = _text(edit, key)
    return old, new


def _rename_layer(data: Data, edit: Mapping[str, Any]) -> None:
    old, new = _rename(data["layers"], edit, "layer")
    data["cells"] = {(new if lid == old else lid): row for lid, row in data["cells"].items()}


def _rename_mode(data: Data, edit: Mapping[str, Any]) -> None:
    old, new = _rename(data["failure_modes"], edit, "failure mode")
    data["cells"] = {
        lid: {(new if mid == old else mid): cell for mid, cell in row.items()}
        for lid, row in data["cells"].items()
    }


def _tax(data: Data, edit: Mapping[str, Any]) -> None:
    i = _index(data["layers"], "layer", edit, "layer")
    layer = data["layers"][i]
    if "safety_tax" in edit:
        layer["safety_tax"] = _text(edit, "safety_tax")
    if "tax_cost" in edit:
        cost = edit["tax_cost"]
        layer["tax_cost"] = None if cost in (None, "") else cost


OPERATIONS: dict[str, Callable[[Data, Mapping[str, Any]], None]] = {
    "cycle": _cycle,
    "level": _level,
    "cell": _cell,
    "tax": _tax,
    "add_layer": _add_layer,
    "remove_layer": _remove_layer,
    "rename_layer": _rename_layer,
    "add_mode": _add_mode,
    "remove_mode": _remove_mode,
    "rename_mode": _rename_mode,
}
"""Each edit's name and the function that applies it to the matrix's plain data."""

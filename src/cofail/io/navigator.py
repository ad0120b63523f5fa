"""ATT&CK / ATLAS Navigator layer files: a matrix out as layers, a layer in as a starting matrix.

A Navigator *layer* scores the techniques of a matrix; cofail's failure modes play the
techniques. :func:`matrix_layers` writes one Navigator layer per cofail layer (its score for a
mode is the vulnerability: V 100, N 0, U 50, a graded q as 100 q; the comment is the
rationale), :func:`coverage_layer` one layer for a stack (the score of a mode is how many of
its layers cover it). Both carry the report's colours and the cofail fields in ``metadata``,
so :func:`loads_navigator` reads a file cofail wrote back into the same matrix.

A layer written by Navigator itself, or an ATLAS case-study layer, is a *starting matrix*: its
techniques become failure modes and each layer a cofail layer; a scored technique becomes a
graded cell (its score placed on the layer's gradient), a disabled one N, and any other cell U
(listed but not judged), so that nothing unknown passes for a judgement.

Layer format 4.5: https://github.com/mitre-attack/attack-navigator/tree/master/layers
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cofail.errors import InputError, brief
from cofail.io.json_text import loads_json
from cofail.model import FailureMode, Layer, Matrix, Stack, UncertainPolicy, Vulnerability

__all__ = [
    "LAYER_FORMAT",
    "NAVIGATOR_VERSION",
    "coverage_layer",
    "dumps_navigator",
    "is_navigator",
    "loads_navigator",
    "matrix_layers",
    "read_navigator",
]

LAYER_FORMAT = "4.5"
"""Navigator layer format written."""
NAVIGATOR_VERSION = "5.1.0"
"""Navigator version named in ``versions`` (format 4.5 needs at least 4.9.0)."""

_COLOUR = {"V": "#c0392b", "N": "#27ae60", "U": "#f1c40f"}  # the report's marks
_SCORE = {"V": 100.0, "N": 0.0, "U": 50.0}
_GRADIENT = {"colors": ["#27ae60", "#f1c40f", "#c0392b"], "minValue": 0, "maxValue": 100}
_KIND = "cofail kind"
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


def matrix_layers(matrix: Matrix, *, domain: str | None = None) -> list[dict[str, Any]]:
    """Return one Navigator layer per layer of ``matrix``: modes as techniques, scored by level.

    Examples
    --------
    >>> from cofail import catalog
    >>> layers = matrix_layers(catalog.load())
    >>> layers[0]["name"], layers[0]["versions"]["layer"], layers[0]["techniques"][1]["score"]
    ('RLHF: Reinforcement learning from human feedback', '4.5', 100.0)
    """
    return [_layer_of(matrix, lid, domain or _domain(matrix)) for lid in matrix.layer_ids]


def coverage_layer(
    matrix: Matrix,
    stack: Stack,
    *,
    uncertain: UncertainPolicy = "pessimistic",
    threshold: float = 0.5,
    domain: str | None = None,
) -> dict[str, Any]:
    """Return the Navigator layer of a stack's coverage: each mode scored by how many of the
    stack's layers are not vulnerable to it (0 uncovered, 1 fragile), in the audit's reading.

    Examples
    --------
    >>> from cofail import catalog
    >>> layer = coverage_layer(catalog.load(), Stack(layers=("DEBATE", "RE")))
    >>> [(t["techniqueID"], t["score"]) for t in layer["techniques"] if t["score"] == 0]
    [('AL-GEN', 0)]
    """
    from cofail.report.views import assumption_note

    rows = matrix.vulnerable(uncertain, threshold)[stack.indices(matrix)]
    techniques = []
    for j, mid in enumerate(matrix.mode_ids):
        covering = [lid for lid, row in zip(stack.layers, rows, strict=True) if not row[j]]
        if not covering:
            comment, colour = "uncovered: every layer of the stack is vulnerable to it", "#c0392b"
        elif len(covering) == 1:
            comment, colour = f"fragile: only {covering[0]} covers it", "#f39c12"
        else:
            comment, colour = f"covered by {', '.join(covering)}", "#27ae60"
        mode = matrix.mode(mid)
        techniques.append(
            {
                "techniqueID": mid,
                "score": len(covering),
                "color": colour,
                "comment": comment,
                "enabled": True,
                "metadata": _entries([("failure mode", mode.name)]),
            }
        )
    name = "+".join(stack.layers)
    return {
        "name": f"coverage of {name}",
        "versions": {"layer": LAYER_FORMAT, "navigator": NAVIGATOR_VERSION},
        "domain": domain or _domain(matrix),
        "description": (
            f"How many layers of the stack {name} cover each failure mode "
            f"(score 0: uncovered, 1: fragile). {assumption_note(matrix, uncertain, threshold)}."
        ),
        "sorting": 2,
        "hideDisabled": False,
        "techniques": techniques,
        "gradient": {
            "colors": ["#c0392b", "#f39c12", "#27ae60"],
            "minValue": 0,
            "maxValue": max(2, len(stack.layers)),
        },
        "legendItems": [
            {"label": "uncovered (every layer vulnerable)", "color": "#c0392b"},
            {"label": "fragile (one layer covers it)", "color": "#f39c12"},
            {"label": "covered by two or more layers", "color": "#27ae60"},
        ],
        "metadata": _entries(
            [
                (_KIND, "coverage"),
                ("cofail matrix", matrix.id),
                ("matrix version", matrix.version),
                ("stack", name),
                ("uncertain cells", uncertain),
            ]
        ),
    }


def dumps_navigator(layers: Sequence[Mapping[str, Any]]) -> str:
    """Return the text of a Navigator layer file: one layer as an object, several as a list.

    >>> from cofail import catalog
    >>> dumps_navigator(matrix_layers(catalog.load())).startswith("[")
    True
    """
    data: Any = dict(layers[0]) if len(layers) == 1 else [dict(x) for x in layers]
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def is_navigator(data: Any) -> bool:
    """Return whether parsed JSON looks like a Navigator layer file (a layer or a list of them).

    >>> is_navigator({"name": "x", "techniques": []}), is_navigator({"cells": {}})
    (True, False)
    """
    if isinstance(data, list):
        return bool(data) and all(isinstance(x, dict) and "techniques" in x for x in data)
    return isinstance(data, dict) and "techniques" in data and "cells" not in data


def loads_navigator(text: str, source: str = "<navigator>") -> Matrix:
    """Return the matrix of a Navigator layer file (one layer, or a list of layers).

    Coverage layers that cofail wrote are left out (they describe a stack, not a layer).

    Examples
    --------
    >>> from cofail import catalog
    >>> m = catalog.load()
    >>> loads_navigator(dumps_navigator(matrix_layers(m))) == m
    True
    >>> m = loads_navigator('{"name": "case study", "techniques": [{"techniqueID": "AML.T0043"}]}')
    >>> m.layer_ids, m.mode_ids, m.cell("case-study", "AML.T0043").level
    (('case-study',), ('AML.T0043',), 'U')
    """
    data = loads_json(text, source)
    if not is_navigator(data):
        raise InputError(
            "not a Navigator layer file (expected an object with 'techniques', or a list of them)",
            source=source,
        )
    raw_layers = data if isinstance(data, list) else [data]
    layers = [x for x in raw_layers if _meta(x, source).get(_KIND) != "coverage"]
    if not layers:
        raise InputError("only coverage layers: no layer to read as a matrix", source=source)
    parsed = [_read_layer(x, i, source) for i, x in enumerate(layers)]
    modes: dict[str, FailureMode] = {}
    for _, techniques in parsed:
        for mid, (mode, _) in techniques.items():
            modes.setdefault(mid, mode)
    if not modes:
        raise InputError("the layer has no techniques, so no failure modes", source=source)
    cells: dict[str, dict[str, Vulnerability]] = {}
    out_layers: list[Layer] = []
    taken: set[str] = set()
    for (layer, techniques), raw in zip(parsed, layers, strict=True):
        lid = _unique_id(layer.id, taken)
        out_layers.append(layer.model_copy(update={"id": lid}))
        absent = Vulnerability(
            level="U", rationale=f"not in the Navigator layer {raw.get('name', lid)!s}"
        )
        cells[lid] = {mid: techniques[mid][1] if mid in techniques else absent for mid in modes}
    first = _meta(layers[0], source)
    name = str(layers[0].get("name") or "navigator")
    references = [v for k, v in _pairs(layers[0]) if k in ("reference", "url")]
    ours = "cofail matrix" in first  # written by cofail: an empty field was left out
    try:
        return Matrix(
            id=first.get("cofail matrix") or _slug(name, "navigator"),
            title=first.get("matrix title", "" if ours else name),
            version=first.get("matrix version", "1"),
            description=first.get(
                "matrix description",
                "" if ours else f"Imported from the Navigator layer file {source}",
            ),
            references=tuple(references),
            failure_modes=tuple(modes.values()),
            layers=tuple(out_layers),
            cells=cells,
        )
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise InputError(f"cannot read as a matrix: {_first_line(exc)}", source=source) from None


def read_navigator(path: str | Path) -> Matrix | None:
    """Return the matrix of ``path`` when it is a Navigator layer file (``.json`` holding
    techniques), else None (a missing file too: the caller's reader names the mistake).

    >>> read_navigator("no-such-layer.json") is None
    True
    """
    p = Path(path)
    if p.suffix.lower() != ".json" or not p.is_file():
        return None
    from cofail.io.files import read_text

    text = read_text(p)
    if not is_navigator(loads_json(text, str(path))):
        return None
    return loads_navigator(text, str(path))


# -- writing ------------------------------------------------------------------------------------


def _layer_of(matrix: Matrix, lid: str, domain: str) -> dict[str, Any]:
    layer = matrix.layer(lid)
    techniques = []
    for mid in matrix.mode_ids:
        cell, mode = matrix.cell(lid, mid), matrix.mode(mid)
        level = cell.level
        techniques.append(
            {
                "techniqueID": mid,
                "score": _SCORE[level] if isinstance(level, str) else round(100 * level, 6),
                "color": _COLOUR[level] if isinstance(level, str) else _graded_colour(level),
                "comment": cell.rationale,
                "enabled": True,
                "metadata": _entries(
                    [
                        ("level", _level_text(level)),
                        ("failure mode", mode.name),
                        ("mode description", mode.description),
                        ("confidence", cell.confidence or ""),
                        ("source", cell.source),
                        ("votes", json.dumps(cell.votes) if cell.votes is not None else ""),
                    ]
                ),
            }
        )
    fields = [
        ("cofail layer", layer.id),
        ("layer name", layer.name),
        ("family", layer.family),
        ("safety tax", layer.safety_tax),
        ("tax cost", "" if layer.tax_cost is None else repr(layer.tax_cost)),
        ("tax note", layer.tax_note),
        ("cofail matrix", matrix.id),
        ("matrix title", matrix.title),
        ("matrix version", matrix.version),
        ("matrix description", matrix.description),
        *(("reference", r) for r in matrix.references),
    ]
    return {
        "name": f"{layer.id}: {layer.name}" if layer.name else layer.id,
        "versions": {"layer": LAYER_FORMAT, "navigator": NAVIGATOR_VERSION},
        "domain": domain,
        "description": layer.description,
        "sorting": 3,
        "hideDisabled": False,
        "techniques": techniques,
        "gradient": dict(_GRADIENT),
        "legendItems": [
            {"label": "V vulnerable (100)", "color": _COLOUR["V"]},
            {"label": "U uncertain (50)", "color": _COLOUR["U"]},
            {"label": "N not vulnerable (0)", "color": _COLOUR["N"]},
            {"label": "graded q (100 q)", "color": _graded_colour(0.5)},
        ],
        "metadata": _entries(fields, keep=("safety tax", "cofail layer", "matrix version")),
    }


def _entries(pairs: Sequence[tuple[str, str]], keep: Sequence[str] = ()) -> list[dict[str, str]]:
    """Navigator metadata entries, the empty ones left out (except those in ``keep``)."""
    return [{"name": k, "value": v} for k, v in pairs if v or k in keep]


def _level_text(level: str | float) -> str:
    return level if isinstance(level, str) else repr(level)


def _graded_colour(q: float) -> str:
    """The report's colour of a graded cell (matplotlib's Reds at 0.15 + 0.7 q)."""
    import matplotlib

    rgba = matplotlib.colormaps["Reds"](0.15 + 0.7 * q)
    return "#{:02x}{:02x}{:02x}".format(*(round(255 * c) for c in rgba[:3]))


def _domain(matrix: Matrix) -> str:
    """ATLAS when every mode id is an ATLAS technique id, else ATT&CK Enterprise."""
    if all(re.fullmatch(r"AML\.T\d{4}(\.\d{3})?", mid) for mid in matrix.mode_ids):
        return "atlas-atlas"
    return "enterprise-attack"


# -- reading ------------------------------------------------------------------------------------


def _pairs(layer: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The (name, value) metadata entries of a layer or technique (dividers left out)."""
    out = []
    for entry in layer.get("metadata") or ():
        if isinstance(entry, dict) and "name" in entry and "value" in entry:
            out.append((str(entry["name"]), str(entry["value"])))
    return out


def _meta(layer: Any, source: str) -> dict[str, str]:
    if not isinstance(layer, dict):
        raise InputError("a layer must be a JSON object", source=source)
    return dict(_pairs(layer))


def _read_layer(
    raw: dict[str, Any], index: int, source: str
) -> tuple[Layer, dict[str, tuple[FailureMode, Vulnerability]]]:
    meta = _meta(raw, source)
    name = str(raw.get("name") or f"layer {index + 1}")
    where = f"layer {name!r}"
    written_by_cofail = "cofail layer" in meta
    try:
        layer = Layer(
            id=meta.get("cofail layer") or _slug(name, f"L{index + 1}"),
            name=meta.get("layer name", "" if written_by_cofail else name),
            family=meta.get("family", ""),
            safety_tax=meta.get("safety tax", "low"),
            tax_cost=float(meta["tax cost"]) if meta.get("tax cost") else None,
            tax_note=meta.get("tax note", ""),
            description=str(raw.get("description") or ""),
        )
    except ValueError as exc:
        raise InputError(f"{where}: {_first_line(exc)}", source=source) from None
    low, high = _gradient(raw, where, source)
    legend = {
        str(item.get("color", "")).lower(): str(item.get("label", ""))
        for item in raw.get("legendItems") or ()
        if isinstance(item, dict)
    }
    techniques: dict[str, tuple[FailureMode, Vulnerability]] = {}
    entries = raw.get("techniques")
    if not isinstance(entries, list):
        raise InputError(f"{where}: 'techniques' must be a list", source=source)
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("techniqueID"), str):
            raise InputError(f"{where}: techniques[{i}] has no techniqueID string", source=source)
        mid = entry["techniqueID"].strip()
        if not _ID.match(mid) or len(mid) > 64:
            raise InputError(
                f"{where}: techniques[{i}]: {brief(mid)} is not a usable failure-mode id "
                "(letters, digits, _ . -)",
                source=source,
            )
        try:
            mode, cell = _read_technique(entry, low, high, legend)
        except ValueError as exc:
            raise InputError(f"{where}: {mid}: {_first_line(exc)}", source=source) from None
        if mid in techniques:  # the same technique under several tactics
            mode, cell = _merge(techniques[mid], (mode, cell))
        techniques[mid] = (mode, cell)
    return layer, techniques


def _gradient(raw: Mapping[str, Any], where: str, source: str) -> tuple[float, float]:
    gradient = raw.get("gradient")
    if not isinstance(gradient, dict):
        return 0.0, 100.0  # Navigator's default
    low, high = gradient.get("minValue", 0), gradient.get("maxValue", 100)
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (low, high)):
        raise InputError(f"{where}: gradient minValue and maxValue must be numbers", source=source)
    if not high > low:
        raise InputError(f"{where}: gradient maxValue must exceed minValue", source=source)
    return float(low), float(high)


def _read_technique(
    entry: Mapping[str, Any], low: float, high: float, legend: Mapping[str, str]
) -> tuple[FailureMode, Vulnerability]:
    meta = dict(_pairs(entry))
    tactic = entry.get("tactic")
    mode = FailureMode(
        id=entry["techniqueID"].strip(),
        name=meta.get("failure mode", ""),
        description=meta.get("mode description", f"tactic: {tactic}" if tactic else ""),
    )
    comment = str(entry.get("comment") or "")
    notes = [f"{k}: {v}" for k, v in _pairs(entry) if k not in _CELL_FIELDS]
    label = legend.get(str(entry.get("color", "")).lower())
    if label:
        notes.append(f"marked {label!r} in the Navigator layer")
    if "level" in meta:  # written by cofail: the exact cell
        return mode, Vulnerability(
            level=meta["level"],
            rationale=comment,
            source=meta.get("source", ""),
            confidence=meta.get("confidence") or None,
            votes=json.loads(meta["votes"]) if meta.get("votes") else None,
        )
    score = entry.get("score")
    if entry.get("enabled") is False:
        level: str | float = "N"
        notes.append("disabled in the Navigator layer")
    elif isinstance(score, int | float) and not isinstance(score, bool):
        level = min(1.0, max(0.0, (float(score) - low) / (high - low)))
        notes.append(f"Navigator score {score:g} on the gradient {low:g}..{high:g}")
    else:
        level = "U"
        notes.append("listed in the Navigator layer, not judged")
    rationale = "; ".join(x for x in [comment, *notes] if x)
    return mode, Vulnerability(level=level, rationale=rationale, source="Navigator layer")


_CELL_FIELDS = ("level", "failure mode", "mode description", "confidence", "source", "votes")


def _merge(
    old: tuple[FailureMode, Vulnerability], new: tuple[FailureMode, Vulnerability]
) -> tuple[FailureMode, Vulnerability]:
    """One cell for a technique listed under several tactics: the more vulnerable reading."""
    mode = old[0] if old[0].description or not new[0].description else new[0]
    a, b = old[1], new[1]
    worse = a if a.probability() >= b.probability() else b
    rationale = "; ".join(dict.fromkeys(x for x in (a.rationale, b.rationale) if x))
    return mode, worse.model_copy(update={"rationale": rationale})


def _slug(name: str, fallback: str) -> str:
    """An id from a free-text name: runs of other characters become ``-``.

    >>> _slug("*Bear APTs", "L1"), _slug("???", "L1")
    ('Bear-APTs', 'L1')
    """
    text = re.sub(r"[^A-Za-z0-9_.\-]+", "-", name).strip("-._")[:64].rstrip("-._")
    return text if text and _ID.match(text) else fallback


def _unique_id(lid: str, taken: set[str]) -> str:
    out, n = lid, 2
    while out in taken:
        out = f"{lid[:60]}-{n}"
        n += 1
    taken.add(out)
    return out


def _first_line(exc: Exception) -> str:
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        err = exc.errors(include_url=False)[0]
        loc = ".".join(str(p) for p in err["loc"])
        return f"{loc}: {err['msg']}" if loc else str(err["msg"])
    return " ".join(str(exc).split())

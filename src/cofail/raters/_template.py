"""Blind elicitation templates: the matrix's layers and failure modes, every level blank."""

from __future__ import annotations

import textwrap
from typing import Any

from cofail.model import Matrix

__all__ = ["elicitation_templates"]

_HEADER = """\
# cofail rater file: your own judgement of every layer against every failure mode.
# Fill in each cell's level:  V (vulnerable) | N (not vulnerable) | U (uncertain, judged so) |
#   a number q in [0, 1] (the probability the layer fails when the mode is present).
# Leave a cell blank (or delete its line) when you do not judge it: a blank is "not judged",
# which is not the same as U. Add a reason when you can:
#   DEC-AL: {{level: V, rationale: "why", source: "where from", confidence: medium}}
# Judge on your own: the levels of the other raters and of any catalog are not shown here.
# When every rater is done:  cofail agreement rater-*.yaml   and   cofail merge rater-*.yaml --out consensus.yaml
"""


def elicitation_templates(
    matrix: Matrix, raters: int, *, rationales: bool = False
) -> dict[str, str]:
    """Return one blind rater file (YAML text) per rater, by file name.

    Each template has the matrix's id, title, version, references, failure modes and layers
    (ids, names, descriptions, safety tax), a ``rater:`` field, and every cell blank. With
    ``rationales`` each cell carries the matrix's rationale and source as a comment, as
    reading material; its level and confidence never appear.

    Examples
    --------
    >>> from cofail import catalog
    >>> files = elicitation_templates(catalog.load(), 2, rationales=True)
    >>> sorted(files)
    ['rater-1.yaml', 'rater-2.yaml']
    >>> from cofail.raters import loads_rater_file
    >>> r = loads_rater_file(files["rater-2.yaml"], "yaml", "rater-2.yaml")
    >>> r.rater, len(r.judgements), len(r.frame.layers)
    ('rater-2', 0, 7)

    Notes
    -----
    File names are ``rater-K.yaml``, with K zero-padded when there are ten raters or more so
    that the files sort in order.
    """
    width = len(str(raters)) if raters >= 10 else 1
    names = [f"rater-{k:0{width}d}" for k in range(1, raters + 1)]
    return {f"{name}.yaml": _template(matrix, name, rationales) for name in names}


def _template(matrix: Matrix, rater: str, rationales: bool) -> str:
    import yaml

    head: dict[str, Any] = {"cofail": 1, "rater": rater, "id": matrix.id}
    for key in ("title", "version"):
        head[key] = getattr(matrix, key)
    if matrix.references:
        head["references"] = list(matrix.references)
    head["failure_modes"] = [_pruned(m.model_dump(mode="json")) for m in matrix.failure_modes]
    head["layers"] = [_pruned(layer.model_dump(mode="json")) for layer in matrix.layers]
    lines = [_HEADER.format(), _dump(yaml, head), "cells:"]
    for layer in matrix.layers:
        lines.append("  " + _key(yaml, layer.id) + ":")
        for mode in matrix.failure_modes:
            if rationales:
                lines.extend(_reading(matrix, layer.id, mode.id))
            lines.append("    " + _key(yaml, mode.id) + ":")
    return "\n".join(lines) + "\n"


def _reading(matrix: Matrix, layer: str, mode: str) -> list[str]:
    cell = matrix.cell(layer, mode)
    text = " ".join(cell.rationale.split())
    if cell.source:
        text += f" [source: {' '.join(cell.source.split())}]"
    if not text:
        return []
    return textwrap.wrap(
        text, 96, initial_indent=f"    # {matrix.id}: ", subsequent_indent="    #   "
    )


def _pruned(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v not in ("", None)}


def _dump(yaml: Any, data: dict[str, Any]) -> str:
    text: str = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    return text.rstrip("\n")


def _key(yaml: Any, key: str) -> str:
    """``key`` as YAML writes it as a mapping key (quoted where YAML would read it as
    something else: ``null``, ``yes``, ``1.5``)."""
    text: str = yaml.safe_dump({key: None}, default_flow_style=False)
    return text.rstrip("\n").removesuffix(" null").removesuffix(":")

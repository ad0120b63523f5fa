"""Generic nested JSON logs: field paths for the case, the layer and the outcome.

Pipelines often log one record per case with one entry per component, e.g.

    {"id": "q17", "input_results": [{"name": "regex", "flag": true}, {"name": "llm", "flag": false}]}

``--tool json --case-col id --layer-col 'input_results[].name' --failed-col
'input_results[].flag'`` reads it: a path is keys joined by dots, and ``[]`` steps into every
element of a list (the layer and outcome paths share their ``[]`` prefix: one element, one
layer). Without ``[]`` a record is one (case, layer) outcome.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from cofail.empirical._spec import LogSpec
from cofail.errors import InputError, brief
from cofail.io.files import read_text
from cofail.io.json_text import loads_json

__all__ = ["read_nested"]

_MAX_BYTES = 2 * 1024**3


def _get(record: Any, path: str, where: str) -> Any:
    """Return the value at a dotted ``path`` of ``record``; an ``InputError`` naming the
    record and the missing key otherwise."""
    value = record
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            shown = ", ".join(list(value)[:12]) if isinstance(value, dict) else type(value).__name__
            raise InputError(f"{where}: no field {key!r} on the path {path!r} (has: {shown})")
        value = value[key]
    return value


def _split(path: str, option: str) -> tuple[str | None, str]:
    """Return (list path, path inside each element) of ``a.b[].c``; (None, path) without []."""
    if "[]" not in path:
        return None, path
    head, _, tail = path.partition("[]")
    if "[]" in tail or not head or not tail.startswith("."):
        raise InputError(f"{option} {path!r}: expected keys with one '[]', e.g. results[].flag")
    return head, tail[1:]


def _records(path: Path) -> Iterator[tuple[str, Any]]:
    text = read_text(path, max_bytes=_MAX_BYTES)
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        for n, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                yield f"{path.name}:{n}", loads_json(line, f"{path}:{n}")
        return
    data = loads_json(text, str(path))
    if not isinstance(data, list):
        raise InputError(
            f"expected a list of records (or a .jsonl file), got {type(data).__name__}",
            source=str(path),
        )
    for n, record in enumerate(data):
        yield f"{path.name}[{n}]", record


def _outcome(value: Any, where: str) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int) and value in (0, 1):
        return value
    raise InputError(f"{where}: expected true/false or 0/1, got {brief(value)}")


def read_nested(paths: Sequence[Path], spec: LogSpec) -> pa.Table:
    """Return the normalised table (``case``, ``layer``, ``failed``, ``stratum``) of nested
    JSON or JSONL logs read through the field paths of ``spec``.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "log.jsonl"
    >>> _ = p.write_text("\\n".join(json.dumps(r) for r in [
    ...     {"id": 1, "checks": [{"name": "regex", "flag": True}, {"name": "llm", "flag": False}]},
    ...     {"id": 2, "checks": [{"name": "regex", "flag": False}, {"name": "llm", "flag": False}]},
    ... ]))
    >>> spec = LogSpec(case="id", layer="checks[].name", failed="checks[].flag")
    >>> t = read_nested([p], spec)
    >>> t.column("layer").to_pylist(), t.column("failed").to_pylist()
    (['regex', 'llm', 'regex', 'llm'], [1, 0, 0, 0])
    """
    list_layer, layer_path = _split(spec.layer, "--layer-col")
    list_failed, failed_path = _split(spec.failed, "--failed-col")
    if list_layer != list_failed:
        raise InputError(
            f"--layer-col {spec.layer!r} and --failed-col {spec.failed!r} must step into the "
            "same list ([] at the same place): one element, one layer and its outcome"
        )
    cases: list[str] = []
    layers: list[str] = []
    failed: list[int] = []
    strata: list[str] = []
    for path in paths:
        for where, record in _records(path):
            # The case and its stratum are the record's, outside the list: every element of
            # the list is one layer's outcome on that same case.
            case = str(_get(record, spec.case, where))
            stratum = "" if spec.stratum is None else str(_get(record, spec.stratum, where))
            if list_layer is None:
                elements = [(where, record)]
            else:
                items = _get(record, list_layer, where)
                if not isinstance(items, list):
                    raise InputError(f"{where}: {list_layer!r} is not a list")
                elements = [(f"{where}.{list_layer}[{k}]", x) for k, x in enumerate(items)]
            for at, element in elements:
                outcome = _outcome(_get(element, failed_path, at), f"{at}.{failed_path}")
                cases.append(case)
                layers.append(str(_get(element, layer_path, at)))
                failed.append(1 - outcome if spec.polarity == "passed" else outcome)
                strata.append(stratum)
    if not cases:
        raise InputError("no outcomes found in the JSON log(s)")
    return pa.table(
        {"case": cases, "layer": layers, "failed": pa.array(failed, pa.int8()), "stratum": strata}
    )

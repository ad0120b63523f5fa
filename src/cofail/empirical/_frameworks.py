"""Readers for red-team and evaluation frameworks, normalised to ``case, layer, failed``.

Polarity is the classic trap: red-team tools record *attack success*, which is *layer failure*.
Every reader states what it took as a failure, and that statement travels with the result.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa

from cofail.errors import InputError
from cofail.io.files import read_text

__all__ = ["FRAMEWORKS", "Framework", "FrameworkOptions", "Rows", "detect", "read_framework"]

Framework = Literal["inspect", "jailbreakbench", "harmbench", "promptfoo", "garak"]
FRAMEWORKS: tuple[Framework, ...] = ("inspect", "jailbreakbench", "harmbench", "promptfoo", "garak")

_MAX_LOG_BYTES = 2 * 1024**3


@dataclass(frozen=True)
class Rows:
    """Normalised outcomes of one or more framework files."""

    table: pa.Table
    """Columns ``case``, ``layer``, ``failed`` (0/1) and ``stratum``."""
    polarity: str


@dataclass(frozen=True)
class FrameworkOptions:
    """Reader options that some frameworks need."""

    layer: str | None = None
    """Layer name to use for every file (default: the model named in the file)."""
    polarity: Literal["pass", "fail"] = "pass"
    """Inspect: does a high score mean the layer held (``pass``) or the attack worked (``fail``)?"""
    threshold: float = 0.5
    """Inspect scores and garak detector scores at or above this count as positive."""


def detect(path: Path) -> Framework | None:
    """Return the framework that wrote ``path``, by suffix and a look at its top-level keys."""
    suffix = path.suffix.lower()
    if suffix == ".eval":
        return "inspect"
    if suffix in (".jsonl", ".ndjson"):
        with path.open("rb") as handle:
            first = handle.readline(1 << 16)
        return "garak" if b'"entry_type"' in first else None
    if suffix != ".json":
        return None
    data = _load_json(path)
    if isinstance(data, dict):
        if "jailbreaks" in data:
            return "jailbreakbench"
        if "samples" in data or "eval" in data:
            return "inspect"
        results = data.get("results")
        if isinstance(results, dict) and "results" in results:
            return "promptfoo"
        if data and all(isinstance(v, list) for v in data.values()):
            return "harmbench"
    return None


def read_framework(
    paths: Iterable[Path], framework: Framework, options: FrameworkOptions | None = None
) -> Rows:
    """Read framework files into one normalised table."""
    options = options or FrameworkOptions()
    reader = _READERS[framework]
    cases: list[str] = []
    layers: list[str] = []
    failed: list[int] = []
    strata: list[str] = []
    polarity = ""
    for path in paths:
        try:
            rows, polarity = reader(path, options)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            if isinstance(exc, InputError):
                raise
            raise InputError(
                f"not a {framework} file as expected ({type(exc).__name__}: {exc})",
                source=str(path),
            ) from None
        for case, layer, fail, stratum in rows:
            cases.append(str(case))
            layers.append(str(layer))
            failed.append(int(fail))
            strata.append(str(stratum))
    if not cases:
        raise InputError(f"no outcomes found in the {framework} file(s)")
    table = pa.table(
        {"case": cases, "layer": layers, "failed": pa.array(failed, pa.int8()), "stratum": strata}
    )
    return Rows(table=table, polarity=polarity)


Outcome = tuple[object, object, bool, object]
Reader = Callable[[Path, FrameworkOptions], tuple[list[Outcome], str]]


def _load_json(path: Path) -> Any:
    try:
        return json.loads(read_text(path, max_bytes=_MAX_LOG_BYTES))
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg}", source=str(path), line=exc.lineno) from None


def _score_value(value: Any) -> float:
    """Inspect's value-to-float: C 1, P 0.5, I 0, N 0; booleans and numbers as they are."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        mapping = {"C": 1.0, "P": 0.5, "I": 0.0, "N": 0.0}
        if value.upper() in mapping:
            return mapping[value.upper()]
        return float(value)
    raise ValueError(f"score value {value!r} is not a number, boolean or C/I/P/N")


def _inspect_log(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    if path.suffix.lower() == ".json":
        data = _load_json(path)
        return data.get("eval", {}), list(data.get("samples") or [])
    try:  # With the optional inspect-ai package, its own reader handles every log version.
        from inspect_ai.log import read_eval_log  # type: ignore[import-not-found]
    except ImportError:
        pass
    else:
        log = read_eval_log(str(path)).model_dump(mode="json")
        return log.get("eval", {}), list(log.get("samples") or [])
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            header = json.loads(archive.read("header.json")) if "header.json" in names else {}
            samples = [
                json.loads(archive.read(n))
                for n in sorted(names)
                if n.startswith("samples/") and n.endswith(".json")
            ]
    except zipfile.BadZipFile:
        raise InputError(
            "not an Inspect .eval archive (not a zip file)", source=str(path)
        ) from None
    return header.get("eval", {}), samples


def _read_inspect(path: Path, options: FrameworkOptions) -> tuple[list[Outcome], str]:
    spec, samples = _inspect_log(path)
    model = options.layer or spec.get("model") or path.stem
    task = spec.get("task", "")
    out: list[Outcome] = []
    for sample in samples:
        case = sample["id"] if sample.get("epoch", 1) == 1 else f"{sample['id']}#{sample['epoch']}"
        for scorer, score in (sample.get("scores") or {}).items():
            positive = _score_value(score["value"]) >= options.threshold
            fail = not positive if options.polarity == "pass" else positive
            out.append((case, f"{model}:{scorer}" if not options.layer else model, fail, task))
    what = (
        f"Inspect score below {options.threshold:g} (C=1, P=0.5, I=0) means the layer failed"
        if options.polarity == "pass"
        else f"Inspect score at or above {options.threshold:g} means the attack succeeded, "
        "i.e. the layer failed"
    )
    return out, what


def _read_jailbreakbench(path: Path, options: FrameworkOptions) -> tuple[list[Outcome], str]:
    data = _load_json(path)
    params = data.get("parameters", {})
    model = options.layer or params.get("model") or path.stem
    out: list[Outcome] = [
        (j.get("behavior", j.get("index")), model, bool(j["jailbroken"]), j.get("category", ""))
        for j in data["jailbreaks"]
    ]
    return out, "JailbreakBench: jailbroken = true means the target model failed"


def _read_harmbench(path: Path, options: FrameworkOptions) -> tuple[list[Outcome], str]:
    data = _load_json(path)
    layer = options.layer or path.stem
    out: list[Outcome] = []
    for behavior, cases in data.items():
        for k, case in enumerate(cases):
            case_id = behavior if len(cases) == 1 else f"{behavior}#{k}"
            out.append((case_id, layer, int(case["label"]) == 1, ""))
    return out, "HarmBench: label 1 means the attack succeeded, i.e. the target failed"


def _read_promptfoo(path: Path, options: FrameworkOptions) -> tuple[list[Outcome], str]:
    data = _load_json(path)
    out: list[Outcome] = []
    for r in data["results"]["results"]:
        provider = r.get("provider") or {}
        layer = options.layer or provider.get("label") or provider.get("id") or "provider"
        case = f"{r.get('testIdx', '')}:{r.get('promptIdx', 0)}"
        out.append((case, layer, not bool(r["success"]), ""))
    return out, "promptfoo: success = false means the layer failed"


def _read_garak(path: Path, options: FrameworkOptions) -> tuple[list[Outcome], str]:
    model = options.layer
    out: list[Outcome] = []
    text = read_text(path, max_bytes=_MAX_LOG_BYTES)
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"invalid JSON: {exc.msg}", source=str(path), line=line_no) from None
        kind = entry.get("entry_type")
        if kind == "start_run setup" and model is None:
            model = entry.get("plugins.model_name") or entry.get("plugins.target_name")
        if kind != "attempt" or entry.get("status") != 2:
            continue
        scores = [s for values in entry.get("detector_results", {}).values() for s in values]
        fail = any(s is not None and s >= options.threshold for s in scores)
        probe = entry["probe_classname"]
        out.append((f"{probe}#{entry['seq']}", model or path.stem, fail, probe.split(".")[0]))
    what = (
        f"garak: a detector score at or above {options.threshold:g} on any output means the "
        "attack succeeded, i.e. the target failed"
    )
    return out, what


_READERS: dict[Framework, Reader] = {
    "inspect": _read_inspect,
    "jailbreakbench": _read_jailbreakbench,
    "harmbench": _read_harmbench,
    "promptfoo": _read_promptfoo,
    "garak": _read_garak,
}

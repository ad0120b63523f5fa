"""Readers for red-team and evaluation frameworks, normalised to ``case, layer, failed``.

Polarity is the classic trap: red-team tools record *attack success*, which is *layer failure*.
Every reader states what it took as a failure, and that statement travels with the result.
"""

from __future__ import annotations

import json
import math
import string
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple, cast

import pyarrow as pa

from cofail.empirical._spec import TOOLS, LogSpec
from cofail.errors import InputError, brief
from cofail.io.files import read_text
from cofail.io.json_text import loads_json

__all__ = ["FRAMEWORKS", "Framework", "Rows", "detect", "read_framework", "resolve_tool"]

Framework = Literal["inspect", "jailbreakbench", "harmbench", "promptfoo", "garak", "json"]
FRAMEWORKS = cast(tuple[Framework, ...], TOOLS[1:])  # every tool but "auto"
"""The tools whose logs are read; ``json`` is any nested JSON log read through field paths."""

_MAX_LOG_BYTES = 2 * 1024**3


@dataclass(frozen=True)
class Rows:
    """Normalised outcomes of one or more framework files."""

    table: pa.Table
    """Columns ``case``, ``layer``, ``failed`` (0/1) and ``stratum``."""
    polarity: str
    notes: tuple[str, ...] = ()
    """What the reader changed and why (e.g. layers renamed so that two files do not merge)."""


def layer_name(template: str | None, path: Path, fields: dict[str, Any], default: str) -> str:
    """The layer of one file: ``default`` without ``template``, else the template filled from
    the file's scalar ``fields`` and ``stem``; an ``InputError`` lists the fields otherwise.

    >>> p = Path("GCG.json")
    >>> layer_name("{method}/{model}", p, {"method": "GCG", "model": "gpt-4"}, "gpt-4")
    'GCG/gpt-4'
    >>> layer_name(None, p, {}, "gpt-4"), layer_name("mine", p, {}, "gpt-4")
    ('gpt-4', 'mine')
    """
    if template is None:
        return default
    if "{" not in template and "}" not in template:
        return template
    values = {
        key: "" if value is None else str(value)
        for key, value in fields.items()
        if isinstance(value, str | int | float | bool) or value is None
    }
    values["stem"] = path.stem
    known = ", ".join("{" + k + "}" for k in sorted(values))
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise InputError(f"--name {template!r}: not a template ({exc})") from None
    for _, field_name, spec, conversion in parts:
        if field_name is None:
            continue
        if field_name not in values or spec or conversion:
            raise InputError(
                f"--name {template!r}: {{{field_name}}} is not a field of this log; it has {known}",
                source=str(path),
            )
    return template.format_map(values)


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


def resolve_tool(spec: LogSpec, files: Sequence[Path]) -> Framework | None:
    """The tool ``spec`` names, else the one every file's content shows (``None``: a plain
    CSV / Parquet / JSONL log); files from different tools are refused."""
    if spec.tool != "auto":
        return spec.tool
    found = {detect(p) for p in files}
    if len(found) > 1:
        raise InputError(f"the files come from different tools: {sorted(map(str, found))}")
    return found.pop()


def read_framework(
    paths: Iterable[Path], framework: Framework, options: LogSpec | None = None
) -> Rows:
    """Read framework files into one normalised table."""
    options = options or LogSpec()
    reader = _READERS[framework]
    cases: list[str] = []
    layers: list[str] = []
    failed: list[int] = []
    strata: list[str] = []
    scores: list[float | None] = []
    labels: list[str | None] = []
    polarity = ""
    notes: list[str] = []
    owner: dict[str, Path] = {}  # layer name -> the file that first used it
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
        # Two files naming the same layer (two attacks on one model) would merge into one
        # layer with two outcomes per case: the later file's layers get its file name.
        names = {str(row.layer) for row in rows}
        clash = {n for n in names if n in owner and owner[n] != path and not options.name}
        for name in names:
            owner.setdefault(name, path)
        if clash:
            notes.append(
                f"{path.name}: layer(s) {', '.join(sorted(clash))} also named by "
                f"{owner[min(clash)].name}; renamed '<layer> [{path.stem}]' (--name sets names)"
            )
        for row in rows:
            layer = str(row.layer)
            cases.append(str(row.case))
            layers.append(f"{layer} [{path.stem}]" if layer in clash else layer)
            failed.append(int(row.failed))
            strata.append(str(row.stratum))
            scores.append(row.score)
            labels.append(row.label)
    if not cases:
        raise InputError(f"no outcomes found in the {framework} file(s)")
    columns: dict[str, Any] = {
        "case": cases,
        "layer": layers,
        "failed": pa.array(failed, pa.int8()),
        "stratum": strata,
    }
    if options.scored:  # the raw scores, and the sets when a field names them
        columns["score"] = pa.array(scores, pa.float64())
        columns["set"] = pa.array(labels, pa.string())
    return Rows(table=pa.table(columns), polarity=polarity, notes=tuple(notes))


class Outcome(NamedTuple):
    """One layer's outcome on one case, as a reader found it."""

    case: object
    layer: object
    failed: bool
    stratum: object
    score: float | None = None
    """The layer's raw score where the tool writes one (Inspect, garak, promptfoo)."""
    label: str | None = None
    """The case's set, ``honest`` or ``attack``, from ``LogSpec.set_col`` (Inspect)."""


Reader = Callable[[Path, LogSpec], tuple[list[Outcome], str]]


_ZIP_ZSTD = 93
"""Zip compression method number of zstd (APPNOTE 4.4.5)."""

_MAX_LOG_DEPTH = 256
"""Deepest nesting a tool's JSON log may have (Inspect's messages nest about 10 levels)."""


def _load_json(path: Path) -> Any:
    return loads_json(
        read_text(path, max_bytes=_MAX_LOG_BYTES), str(path), max_depth=_MAX_LOG_DEPTH
    )


def _score_value(value: Any, where: str = "score") -> float:
    """Inspect's value-to-float: C 1, P 0.5, I 0, N 0; booleans and finite numbers as they are.

    >>> _score_value("C"), _score_value(0.25), _score_value(True)
    (1.0, 0.25, 1.0)
    >>> _score_value(float("nan"))
    Traceback (most recent call last):
    cofail.errors.InputError: score: expected a finite number, a boolean or C/I/P/N, got nan
    """
    number: float | None = None
    if isinstance(value, bool | int | float):
        try:
            number = float(value)
        except OverflowError:
            number = None
    elif isinstance(value, str):
        mapping = {"C": 1.0, "P": 0.5, "I": 0.0, "N": 0.0}
        text = value.strip().upper()
        if text in mapping:
            return mapping[text]
        try:
            number = float(text)
        except ValueError:
            number = None
    if number is None or not math.isfinite(number):  # a NaN score would count as "held"
        raise InputError(
            f"{where}: expected a finite number, a boolean or C/I/P/N, got {brief(value)}"
        )
    return number


def _flag(value: Any, where: str) -> bool:
    """A true/false outcome field: a JSON boolean (or 0/1), never a string.

    ``bool("false")`` is True: reading the string ``"false"`` as a flag would turn every
    held layer into a failure without a word, so strings are refused.

    >>> _flag(True, "jailbroken"), _flag(0, "jailbroken")
    (True, False)
    >>> _flag("false", "jailbreaks[3].jailbroken")
    Traceback (most recent call last):
    cofail.errors.InputError: jailbreaks[3].jailbroken: expected true or false, got 'false'
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise InputError(f"{where}: expected true or false, got {brief(value)}")


def _field(record: Any, key: str, where: str) -> Any:
    """``record[key]``; an ``InputError`` naming the record when it is missing."""
    if not isinstance(record, dict):
        raise InputError(f"{where}: expected an object, got {type(record).__name__}")
    if key not in record:
        raise InputError(f"{where}: missing field {key!r}")
    return record[key]


def _inspect_log(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    if path.suffix.lower() == ".json":
        data = _load_json(path)
        return data.get("eval", {}), list(data.get("samples") or [])
    try:
        with zipfile.ZipFile(path) as archive:
            # A zip bomb (3 MB that expands to 3 GiB) is refused from its declared sizes,
            # before anything is expanded (by this reader or inspect-ai's); zipfile never
            # reads past a member's declared size.
            expanded = sum(info.file_size for info in archive.infolist())
            if expanded > _MAX_LOG_BYTES:
                raise InputError(
                    f"the archive expands to {expanded / 2**20:,.0f} MiB; at most "
                    f"{_MAX_LOG_BYTES / 2**20:,.0f} MiB is read",
                    source=str(path),
                )
            names = archive.namelist()

            def member(name: str) -> Any:
                text = archive.read(name).decode("utf-8", errors="replace")
                return loads_json(text, f"{path}:{name}", max_depth=_MAX_LOG_DEPTH)

            # Recent Inspect versions compress members with zstd (zip method 93), which this
            # Python's zipfile cannot expand: those go to inspect-ai's reader below.
            plain = all(i.compress_type != _ZIP_ZSTD for i in archive.infolist())
            if "header.json" in names and plain:  # the layout of every .eval version so far
                header = member("header.json")
                samples = [
                    member(n)
                    for n in sorted(names)
                    if n.startswith("samples/") and n.endswith(".json")
                ]
                return header.get("eval", {}), samples
    except zipfile.BadZipFile:
        raise InputError(
            "not an Inspect .eval archive (not a zip file)", source=str(path)
        ) from None
    # Another layout or zstd: inspect-ai's own reader (the optional extra) knows every version.
    try:
        from inspect_ai.log import read_eval_log
    except ImportError:
        why = "zstd-compressed" if not plain else "without header.json"
        raise InputError(
            f"an .eval archive {why}; pip install 'cofail[inspect]' to read it with "
            "inspect-ai's reader",
            source=str(path),
        ) from None
    try:
        log = read_eval_log(str(path)).model_dump(mode="json")
    except Exception as exc:  # its errors are about the file: one line, not a trace
        raise InputError(
            f"inspect-ai cannot read this log: {type(exc).__name__}: {str(exc).splitlines()[0]}",
            source=str(path),
        ) from None
    return log.get("eval", {}), list(log.get("samples") or [])


def _read_inspect(path: Path, options: LogSpec) -> tuple[list[Outcome], str]:
    spec, samples = _inspect_log(path)
    model = layer_name(options.name, path, spec, spec.get("model") or path.stem)
    task = spec.get("task", "")
    # case, score name, value, where, set label
    values: list[tuple[object, str, Any, str, str | None]] = []
    seen: dict[str, None] = {}
    for n, sample in enumerate(samples):
        sid = _field(sample, "id", f"samples[{n}]")
        case = sid if sample.get("epoch", 1) == 1 else f"{sid}#{sample['epoch']}"
        label = _inspect_set(options.set_col, sample, spec, f"{path.name}: samples[{n}]")
        for scorer, score in (sample.get("scores") or {}).items():
            where = f"{path.name}: samples[{n}].scores.{scorer}.value"
            value = _field(score, "value", where)
            # A dict-valued score (ControlArena's {"main_task_success": …, "side_task_success":
            # …}) is one score per key.
            items = value.items() if isinstance(value, dict) else [(None, value)]
            for key, item in items:
                name = scorer if key is None else f"{scorer}.{key}"
                seen[name] = None
                at = where if key is None else f"{where}.{key}"
                values.append((case, name, item, at, label))
    chosen = _chosen_scores(options, list(seen), path)
    several = len(chosen) > 1
    out: list[Outcome] = []
    for case, name, item, where, label in values:
        if name not in chosen:
            continue
        polarity, threshold = options.rule(name)
        number = _score_value(item, where)
        positive = number >= threshold
        fail = not positive if polarity == "pass" else positive
        layer = f"{model}:{name}" if several or not options.name else model
        out.append(Outcome(case, layer, fail, task, number, label))
    return out, "; ".join(_inspect_rule(name, *options.rule(name)) for name in chosen)


def _inspect_set(
    key: str | None, sample: dict[str, Any], spec: dict[str, Any], where: str
) -> str | None:
    """The sample's set (``honest`` / ``attack``) under ``key``: in the sample's metadata, else
    the eval's metadata or task arguments (ControlArena writes ``eval_mode`` there).

    >>> _inspect_set("eval_mode", {"metadata": {"eval_mode": "ATTACK"}}, {}, "s")
    'attack'
    >>> _inspect_set("eval_mode", {}, {"metadata": {"eval_mode": "honest"}}, "s")
    'honest'
    """
    if key is None:
        return None
    for place in (sample.get("metadata"), spec.get("metadata"), spec.get("task_args")):
        if isinstance(place, dict) and place.get(key) is not None:
            return set_label(place[key], f"{where}: {key}")
    raise InputError(
        f"{where}: no {key!r} in the sample's metadata, the eval's metadata or its task "
        "arguments (--set-col names the field that says honest or attack)"
    )


def set_label(value: object, where: str) -> str:
    """Return ``honest`` or ``attack`` for a set label, any case; an ``InputError`` otherwise.

    >>> set_label(" Attack", "row 2"), set_label("HONEST", "row 3")
    ('attack', 'honest')
    """
    text = str(value).strip().lower() if isinstance(value, str) else ""
    if text not in ("honest", "attack"):
        raise InputError(f"{where}: expected honest or attack, got {brief(value)}")
    return text


def _chosen_scores(options: LogSpec, names: list[str], path: Path) -> list[str]:
    """Return the scores to read: ``options.scores`` (a scorer stands for all its keys), or
    all; a name in any score option that the log does not have is refused."""
    scorers = {n.split(".", 1)[0] for n in names}
    named = [
        *options.scores,
        *(k for k, _ in options.scorer_polarity),
        *(k for k, _ in options.scorer_threshold),
    ]
    for name in named:
        if name not in names and name not in scorers:
            raise InputError(
                f"no Inspect score {name!r} in this log; it has {', '.join(names) or 'none'}",
                source=str(path),
            )
    if not options.scores:
        return names
    return [n for n in names if n in options.scores or n.split(".", 1)[0] in options.scores]


def _inspect_rule(name: str, polarity: str, threshold: float) -> str:
    if polarity == "pass":
        return (
            f"Inspect {name}: a score below {threshold:g} (C=1, P=0.5, I=0, true=1) means the "
            "layer failed"
        )
    return (
        f"Inspect {name}: a score at or above {threshold:g} means the attack succeeded, i.e. "
        "the layer failed"
    )


def _read_jailbreakbench(path: Path, options: LogSpec) -> tuple[list[Outcome], str]:
    data = _load_json(path)
    params = data.get("parameters", {})
    model = layer_name(options.name, path, params, params.get("model") or path.stem)
    out: list[Outcome] = []
    for n, j in enumerate(_field(data, "jailbreaks", path.name)):
        where = f"{path.name}: jailbreaks[{n}]"
        flag = _flag(_field(j, "jailbroken", where), f"{where}.jailbroken")
        # The index is the case: the official artifacts spell a behaviour's name differently
        # from file to file ("9_11 conspiracy" / "September 11th conspiracy" at index 51).
        case = j.get("index", j.get("behavior"))
        out.append(Outcome(str(case), model, flag, j.get("category", "")))
    return out, "JailbreakBench: jailbroken = true means the target model failed"


def _read_harmbench(path: Path, options: LogSpec) -> tuple[list[Outcome], str]:
    data = _load_json(path)
    if not isinstance(data, dict):
        raise InputError(
            "expected HarmBench results: an object of behavior id -> completions", source=str(path)
        )
    if all(isinstance(c, str) for cases in data.values() for c in cases):
        raise InputError(
            "this is a HarmBench test-case file (behaviour -> test cases), which has no "
            "outcome; cofail reads the classified completions, results/<model>.json",
            source=str(path),
        )
    fields = _harmbench_fields(path)
    default = f"{fields['method']}/{fields['model']}" if "method" in fields else path.stem
    layer = layer_name(options.name, path, fields, default)
    out: list[Outcome] = []
    for behavior, cases in data.items():
        for k, case in enumerate(cases):
            case_id = behavior if len(cases) == 1 else f"{behavior}#{k}"
            where = f"{path.name}: {behavior}[{k}].label"
            label = _field(case, "label", where.removesuffix(".label"))
            if isinstance(label, bool) or label not in (0, 1):  # HarmBench's classifier: 0 or 1
                raise InputError(f"{where}: expected 0 or 1, got {brief(label)}")
            out.append(Outcome(case_id, layer, label == 1, ""))
    return out, "HarmBench: label 1 means the attack succeeded, i.e. the target failed"


def _harmbench_fields(path: Path) -> dict[str, Any]:
    """Method, experiment and model from HarmBench's layout,
    ``<method>/<experiment>/results/<model>.json``; only the stem otherwise.

    >>> _harmbench_fields(Path("results/GCG/default/results/llama2_7b.json"))
    {'method': 'GCG', 'experiment': 'default', 'model': 'llama2_7b'}
    >>> _harmbench_fields(Path("llama2_7b.json"))
    {}
    """
    parts = path.parts
    if len(parts) >= 4 and parts[-2] == "results":
        return {"method": parts[-4], "experiment": parts[-3], "model": path.stem}
    return {}


def _read_promptfoo(path: Path, options: LogSpec) -> tuple[list[Outcome], str]:
    data = _load_json(path)
    block = _field(data, "results", path.name)
    # v2-v3 outputs nest the rows in results.results; a v4 eval (and v1) has them in results.
    results = (
        block if isinstance(block, list) else _field(block, "results", f"{path.name}: results")
    )
    rows: list[tuple[str, str, str, bool, str, float | None]] = []
    for n, r in enumerate(results):
        where = f"{path.name}: results[{n}]"
        provider = r.get("provider") or {}
        if isinstance(provider, str):
            provider = {"id": provider}
        name = provider.get("label") or provider.get("id") or path.stem  # label is often ""
        prompt = r.get("prompt") or {}
        prompt_name = (
            (prompt.get("label") or prompt.get("raw") or "")
            if isinstance(prompt, dict)
            else str(prompt)
        )
        # The case is the test. promptfoo numbers each (prompt, provider) pair with its own
        # promptIdx, so keying on promptIdx never lines the providers up (the old reader's bug).
        test = r.get("testIdx")
        case = str(test) if test is not None else json.dumps(r.get("vars") or {}, sort_keys=True)
        failed = not _flag(_field(r, "success", where), f"{where}.success")
        stratum = _promptfoo_stratum(r, options.stratum, where) if options.stratum else ""
        score = _number(_field(r, "score", where), f"{where}.score") if options.scored else None
        rows.append((case, name, prompt_name, failed, stratum, score))
    prompts: dict[str, set[str]] = {}
    for _, name, prompt_name, _, _, _ in rows:
        prompts.setdefault(name, set()).add(prompt_name)
    out: list[Outcome] = []
    for case, name, prompt_name, failed, stratum, score in rows:
        # One provider run on several prompts is several layers (a prompt is part of a layer).
        layer = options.name or (
            name if len(prompts[name]) == 1 else f"{name} | {prompt_name[:60]}"
        )
        out.append(Outcome(case, layer, failed, stratum, score))
    return out, "promptfoo: success = false means the layer failed (case = test, layer = provider)"


_PROMPTFOO_KEYS = {"plugin": "pluginId", "strategy": "strategyId"}


def _promptfoo_stratum(result: dict[str, Any], key: str, where: str) -> str:
    """Return a promptfoo result's value of ``key`` (``plugin`` and ``strategy`` name a red-team
    run's ``pluginId`` and ``strategyId``), looked up where promptfoo writes metadata: on the
    result, its test case, its grading result, then its vars.

    >>> _promptfoo_stratum({"testCase": {"metadata": {"pluginId": "pii"}}}, "plugin", "r")
    'pii'
    """
    name = _PROMPTFOO_KEYS.get(key, key)
    places = [
        result.get("metadata"),
        (result.get("testCase") or {}).get("metadata"),
        (result.get("gradingResult") or {}).get("metadata"),
        result.get("vars"),
    ]
    for place in places:
        if isinstance(place, dict) and place.get(name) is not None:
            return str(place[name])
    raise InputError(
        f"{where}: no {name!r} in its metadata or vars (--stratum-col {key}); red-team runs "
        "have plugin and strategy"
    )


def _read_garak(path: Path, options: LogSpec) -> tuple[list[Outcome], str]:
    model = options.name
    out: list[Outcome] = []
    seen: set[str] = set()
    text = read_text(path, max_bytes=_MAX_LOG_BYTES)
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:  # the same strict parser as every other JSON input: NaN, depth, duplicate keys
            entry = loads_json(line, str(path), max_depth=_MAX_LOG_DEPTH)
        except InputError as exc:
            raise InputError(exc.message, source=str(path), line=line_no) from None
        kind = entry.get("entry_type")
        if kind == "start_run setup" and model is None:
            model = entry.get("plugins.model_name") or entry.get("plugins.target_name")
        if kind != "attempt" or entry.get("status") != 2:
            continue
        where = f"{path.name}:{line_no}: detector_results"
        results = entry.get("detector_results") or {}
        if not isinstance(results, dict):
            raise InputError(f"{where}: expected an object of detector -> scores")
        seen.update(results)
        chosen = (
            results
            if not options.detectors
            else {d: v for d, v in results.items() if d in options.detectors}
        )
        fired = {
            detector: [_detector_score(v, where, detector) for v in _flatten(values)]
            for detector, values in chosen.items()
        }
        scores = [v for values in fired.values() for v in values if v is not None]
        probe = _field(entry, "probe_classname", f"{path.name}:{line_no}")
        # garak 0.14 writes no seq on some attempts: the uuid, else the prompt, names the case.
        # seq numbers a probe's attempts alike in every run, so runs of one probe line up;
        # garak writes seq -1 for harness attempts, which only the uuid tells apart.
        seq = entry.get("seq")
        key = seq if isinstance(seq, int) and seq >= 0 else entry.get("uuid")
        if key is None:
            key = json.dumps(entry.get("prompt"), sort_keys=True)
        layer = model or path.stem
        # The score of an attempt is its highest detector score over the outputs: a detector
        # flags the attempt when any output scores at or above the threshold.
        case, stratum = f"{probe}#{key}", probe.split(".")[0]
        if options.per_detector:
            for detector, values in fired.items():
                numbers = [v for v in values if v is not None]
                top = max(numbers, default=None)
                fail = top is not None and top >= options.threshold
                out.append(Outcome(case, f"{layer}:{detector}", fail, stratum, top))
        else:
            top = max(scores, default=None)
            fail = top is not None and top >= options.threshold
            out.append(Outcome(case, layer, fail, stratum, top))
    missing = [d for d in options.detectors if d not in seen]
    if missing:
        raise InputError(
            f"--detector {', '.join(missing)}: not in this report (its detectors: "
            f"{', '.join(sorted(seen)) or 'none'})",
            source=str(path),
        )
    which = "any detector" if not options.detectors else ", ".join(options.detectors) + " only"
    if options.per_detector:
        which += "; one layer per detector"
    what = (
        f"garak: a detector score at or above {options.threshold:g} ({which}) on any output "
        "means the attack succeeded, i.e. the target failed"
    )
    return out, what


def _detector_score(value: Any, where: str, detector: str) -> float | None:
    """A garak detector score: a JSON number in [0, 1] (``None``: no output to judge).

    >>> _detector_score(0.25, "r.jsonl:3", "d"), _detector_score(None, "r.jsonl:3", "d")
    (0.25, None)
    >>> _detector_score("0.9", "r.jsonl:3: detector_results", "dan.DAN")
    Traceback (most recent call last):
    cofail.errors.InputError: r.jsonl:3: detector_results.dan.DAN: expected a number, got '0.9'
    """
    if value is None:
        return None
    return _number(value, f"{where}.{detector}")


def _number(value: Any, where: str) -> float:
    """A score that must be a JSON number: not a string, a boolean or a non-finite value.

    >>> _number(3, "x"), _number(0.5, "x")
    (3.0, 0.5)
    >>> _number(True, "results[0].score")
    Traceback (most recent call last):
    cofail.errors.InputError: results[0].score: expected a number, got True
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"{where}: expected a number, got {brief(value)}")
    try:
        number = float(value)
    except OverflowError:  # an integer past float's range
        number = math.inf
    if not math.isfinite(number):
        raise InputError(f"{where}: expected a finite number, got {brief(value)}")
    return number


def _flatten(values: Any) -> list[Any]:
    """Detector scores as a flat list: garak 0.14 nests them (``[[1.0], [0.0]]``)."""
    out: list[Any] = []
    stack = [values]
    while stack:
        item = stack.pop()
        if isinstance(item, list | tuple):
            stack.extend(reversed(item))
        else:
            out.append(item)
    return out


_READERS: dict[Framework, Reader] = {
    "inspect": _read_inspect,
    "jailbreakbench": _read_jailbreakbench,
    "harmbench": _read_harmbench,
    "promptfoo": _read_promptfoo,
    "garak": _read_garak,
}

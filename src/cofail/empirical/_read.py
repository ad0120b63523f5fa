"""One entry point for every log format: files in, pattern histogram out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from cofail.empirical._build import histogram_from_arrow, histogram_from_files
from cofail.empirical._frameworks import read_framework, resolve_tool
from cofail.empirical._histogram import PatternHistogram
from cofail.empirical._nested import read_nested
from cofail.empirical._scored import read_scores
from cofail.empirical._spec import LogSpec
from cofail.empirical._thresholds import budget_thresholds, miss_histogram
from cofail.errors import InputError
from cofail.io.files import require_file

__all__ = ["log_stack", "read"]


def read(spec: LogSpec | None, paths: Sequence[str | Path]) -> PatternHistogram:
    """Return the pattern histogram of an evaluation log in any supported format.

    CSV, Parquet and JSONL (long, or wide with ``spec.wide``) stream through DuckDB. Inspect AI
    (``.eval``, ``.json``), JailbreakBench, HarmBench, promptfoo and garak files are recognised
    by their content, or named with ``spec.tool``; ``tool="json"`` reads any nested JSON log
    through the field paths in ``spec`` (see ``_nested``).

    A scored spec (a budget, fixed thresholds, honest files or a set column) reads each layer's
    score instead, sets its threshold, and returns the histogram of the *attack* cases'
    misses: a layer fails on an attack case it does not flag.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "log.csv").write_text("id,filter,judge\\n1,1,0\\n2,1,1\\n3,0,0\\n")
    >>> h = read(LogSpec(wide=True, case="id"), [d / "log.csv"])
    >>> h.layers, h.failures().tolist(), h.polarity
    (('filter', 'judge'), [2.0, 1.0], 'each layer column: 1 means the layer failed')
    """
    files = [Path(p) for p in paths]
    if not files:
        raise InputError("no log file given")
    for p in files:
        require_file(p)
    spec = spec or LogSpec()
    if spec.scored:  # scores thresholded into flags: a layer fails on an attack it misses
        scored = read_scores(spec, files)
        return miss_histogram(scored, budget_thresholds(scored, spec), spec)
    framework = resolve_tool(spec, files)
    if framework is None:
        return histogram_from_files(files, spec)
    source = ", ".join(str(p) for p in files)
    if framework == "json":
        table = read_nested(files, spec)
        what = "the layer failed" if spec.polarity == "failed" else "the layer passed (inverted)"
        histogram = histogram_from_arrow(
            table, LogSpec(stratum="stratum" if spec.stratum else None), source
        )
        return replace(histogram, polarity=f"JSON field {spec.failed!r}: true means {what}")
    rows = read_framework(files, framework, spec)
    strata = set(rows.table.column("stratum").to_pylist())
    normalised = LogSpec(stratum="stratum" if len(strata) > 1 and spec.stratum else None)
    histogram = histogram_from_arrow(rows.table, normalised, source)
    return replace(histogram, polarity=rows.polarity, notes=histogram.notes + rows.notes)


def log_stack(text: str | None, layers: tuple[str, ...]) -> tuple[str, ...] | None:
    """Return the layers of a ``--stack A,B`` over a log's layers; ``None`` for all of them.

    >>> log_stack("a, b", ("a", "b", "c")), log_stack("all", ("a",))
    (('a', 'b'), None)
    """
    if text is None or not text.strip() or text.strip().lower() == "all":
        return None
    chosen = tuple(x.strip() for x in text.split(","))
    unknown = [x for x in chosen if x not in layers]
    if unknown:
        raise InputError(f"--stack: unknown layer {unknown[0]!r} (in the log: {', '.join(layers)})")
    return chosen

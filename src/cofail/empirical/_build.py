"""Build the pattern histogram with DuckDB: CSV, Parquet, JSONL or an Arrow table, long or wide.

DuckDB streams the file and does the group-by, so a log larger than memory never exists as
rows in Python.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from cofail.empirical._histogram import PatternHistogram
from cofail.empirical._spec import LogSpec
from cofail.errors import InputError
from cofail.io.files import require_file

__all__ = ["MAX_LAYERS", "histogram_from_arrow", "histogram_from_files"]

MAX_LAYERS = 63
"""Most layers a pattern bitmask holds."""

_NUMERIC = {
    "BOOLEAN",
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "HUGEINT",
    "FLOAT",
    "DOUBLE",
}
_TRUE = ("1", "true", "t", "yes", "y", "1.0")
_FALSE = ("0", "false", "f", "no", "n", "0.0")


def _source_sql(paths: Sequence[Path]) -> str:
    suffixes = {p.suffix.lower() for p in paths}
    if len(suffixes) != 1:
        raise InputError(f"mixed file types {sorted(suffixes)}: give files of one format")
    suffix = suffixes.pop()
    files = "[" + ", ".join(_quote(str(p)) for p in paths) + "]"
    if suffix == ".csv":
        return f"read_csv({files}, header = true, union_by_name = true)"
    if suffix == ".parquet":
        return f"read_parquet({files}, union_by_name = true)"
    if suffix in (".jsonl", ".ndjson"):
        return f"read_json({files}, format = 'newline_delimited')"
    raise InputError(f"unknown log type {suffix!r}; expected .csv, .parquet or .jsonl")


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def histogram_from_files(paths: Sequence[str | Path], spec: LogSpec) -> PatternHistogram:
    """Return the pattern histogram of one log split over one or more files.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "log.csv").write_text("case,layer,failed\\n1,a,1\\n1,b,0\\n2,a,1\\n2,b,1\\n")
    >>> h = histogram_from_files([d / "log.csv"], LogSpec())
    >>> h.layers, h.failures().tolist()
    (('a', 'b'), [2.0, 1.0])
    """
    files = [Path(p) for p in paths]
    for p in files:
        require_file(p)
    _refuse_bad_text(files)
    source = ", ".join(str(p) for p in files)
    con = _connect()
    try:
        return _histogram(con, _source_sql(files), spec, source)
    except duckdb.Error as exc:
        raise InputError(
            f"cannot read the log: {str(exc).splitlines()[0]}", source=source
        ) from None
    finally:
        con.close()


def _refuse_bad_text(files: Sequence[Path]) -> None:
    """Refuse a text log with NUL bytes or an unterminated quote (see the two checks)."""
    for p in files:
        if p.suffix.lower() in (".csv", ".tsv", ".txt"):
            _refuse_nul(p)
            _refuse_open_quote(p)


def _refuse_open_quote(path: Path) -> None:
    """Refuse a CSV log with an unterminated quote, naming the line, as the matrix reader does.

    DuckDB's sniffer, finding no well-formed quoting, reads the file as unquoted: a field
    ``"a`` becomes a layer named ``"a``, silently. When the sniffer says "no quote" and the
    file has a double quote in it, the file is parsed once more by Python's strict csv reader,
    which stops at the unterminated quote.
    """
    with path.open("rb") as handle:
        if not any(b'"' in chunk for chunk in iter(lambda: handle.read(1 << 20), b"")):
            return
    con = duckdb.connect()
    try:
        sniffed = con.execute(f"SELECT Quote FROM sniff_csv({_quote(str(path))})").fetchone()
    except duckdb.Error:
        return  # the read itself will say what is wrong
    finally:
        con.close()
    if sniffed and sniffed[0] not in ("(empty)", "", None):
        return  # DuckDB reads the quotes, and refuses an unterminated one itself
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        reader = csv.reader(handle, strict=True)
        try:
            for _ in reader:
                pass
        except csv.Error as exc:
            raise InputError(
                f"invalid CSV: {exc}", source=str(path), line=reader.line_num
            ) from None


def _refuse_nul(path: Path) -> None:
    """Refuse a text log with NUL bytes: a binary file, or one damaged on the way."""
    with path.open("rb") as handle:
        offset = 0
        while chunk := handle.read(1 << 20):
            at = chunk.find(b"\x00")
            if at >= 0:
                raise InputError(
                    f"NUL byte at offset {offset + at}; expected a text (CSV) file",
                    source=str(path),
                )
            offset += len(chunk)


def histogram_from_arrow(table: Any, spec: LogSpec, source: str) -> PatternHistogram:
    """Return the pattern histogram of an Arrow table already normalised to ``spec``."""
    con = _connect()
    try:
        con.register("cofail_log", table)
        return _histogram(con, "cofail_log", spec, source)
    finally:
        con.close()


def _connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")  # stdout is for results only
    return con


def _columns(con: duckdb.DuckDBPyConnection, src: str) -> dict[str, str]:
    rows = con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()
    return {str(r[0]): str(r[1]) for r in rows}


def _flag(column: str, dtype: str) -> str:
    """SQL for a 0/1 integer from a boolean, number or yes/no text column; NULL if invalid."""
    col = _ident(column)
    if dtype == "BOOLEAN":
        return f"CAST({col} AS INTEGER)"
    if dtype in ("VARCHAR", "JSON"):
        low = f"lower(trim(CAST({col} AS VARCHAR)))"
        yes = ", ".join(_quote(x) for x in _TRUE)
        no = ", ".join(_quote(x) for x in _FALSE)
        return f"(CASE WHEN {low} IN ({yes}) THEN 1 WHEN {low} IN ({no}) THEN 0 END)"
    return f"(CASE WHEN {col} = 1 THEN 1 WHEN {col} = 0 THEN 0 END)"


def _require(columns: dict[str, str], names: Sequence[str | None], source: str) -> None:
    for name in names:
        if name is not None and name not in columns:
            raise InputError(
                f"no column {name!r} (columns: {', '.join(columns)}); set the column name "
                "with --case-col / --layer-col / --failed-col / --stratum-col / --weight-col "
                "(scores: --score-col / --set-col)",
                source=source,
            )


def _histogram(
    con: duckdb.DuckDBPyConnection, src: str, spec: LogSpec, source: str
) -> PatternHistogram:
    columns = _columns(con, src)
    stratum = f"CAST({_ident(spec.stratum)} AS VARCHAR)" if spec.stratum else "''"
    weight = f"TRY_CAST({_ident(spec.weight)} AS DOUBLE)" if spec.weight else "1.0"
    if spec.weight:
        _require(columns, [spec.weight], source)
        _check_weights(con, src, spec, weight, source)
    if spec.wide:
        return _wide(con, src, spec, source, columns, stratum, weight)
    _require(columns, [spec.case, spec.layer, spec.failed, spec.stratum, spec.weight], source)
    flag = _flag(spec.failed, columns[spec.failed])
    if spec.polarity == "passed":
        flag = f"(1 - {flag})"
    con.execute(
        f"""CREATE TEMP VIEW norm AS SELECT CAST({_ident(spec.case)} AS VARCHAR) AS c,
        CAST({_ident(spec.layer)} AS VARCHAR) AS l, {flag} AS f, {stratum} AS s, {weight} AS w
        FROM {src}"""
    )
    bad = con.execute(
        "SELECT c, l FROM norm WHERE f IS NULL OR c IS NULL OR l IS NULL LIMIT 1"
    ).fetchone()
    if bad:
        raise InputError(
            f"case {bad[0]!r}, layer {bad[1]!r}: column {spec.failed!r} must be 0/1 or "
            "true/false, and case and layer must be present",
            source=source,
        )
    layers = tuple(
        str(r[0]) for r in con.execute("SELECT DISTINCT l FROM norm ORDER BY l").fetchall()
    )
    _check_layers(layers, source)
    con.execute(
        "CREATE TEMP TABLE lay AS SELECT l, CAST(row_number() OVER (ORDER BY l) - 1 AS INTEGER) "
        "AS i FROM (SELECT DISTINCT l FROM norm)"
    )
    con.execute(
        """CREATE TEMP TABLE per_case AS SELECT s, c,
        bit_or(CASE WHEN f = 1 THEN CAST(1 AS UBIGINT) << i ELSE CAST(0 AS UBIGINT) END) AS pat,
        count(*) AS k, count(DISTINCT i) AS kd, min(w) AS w, max(w) AS w_max
        FROM norm JOIN lay USING (l) GROUP BY s, c"""
    )
    dup = con.execute("SELECT c FROM per_case WHERE k > kd LIMIT 1").fetchone()
    if dup:
        raise InputError(
            f"case {dup[0]!r} has more than one row for a layer; give one outcome per "
            "(case, layer)",
            source=source,
        )
    if spec.weight:
        mixed = con.execute("SELECT c FROM per_case WHERE w <> w_max LIMIT 1").fetchone()
        if mixed:
            raise InputError(f"case {mixed[0]!r} has different weights on its rows", source=source)
    n_layers = len(layers)
    incomplete = con.execute(f"SELECT count(*) FROM per_case WHERE kd < {n_layers}").fetchone()
    dropped = int(incomplete[0]) if incomplete else 0
    rows = con.execute(
        f"SELECT s, pat, sum(w) FROM per_case WHERE kd = {n_layers} GROUP BY s, pat ORDER BY s, pat"
    ).fetchnumpy()
    notes = (
        (f"{dropped} case(s) without an outcome for every layer were left out",) if dropped else ()
    )
    return _assemble(layers, rows, spec, source, notes)


def _wide(
    con: duckdb.DuckDBPyConnection,
    src: str,
    spec: LogSpec,
    source: str,
    columns: dict[str, str],
    stratum: str,
    weight: str,
) -> PatternHistogram:
    _require(columns, [spec.case, spec.stratum, spec.weight, *(spec.layers or ())], source)
    reserved = {spec.case, spec.stratum, spec.weight}
    layers = spec.layers or tuple(c for c in columns if c not in reserved)
    _check_layers(tuple(layers), source)
    numeric = all(columns[c] in _NUMERIC for c in layers)
    if numeric:
        # One scan: each column's 0/1 into its bit. Any other value (or a missing one) makes
        # its CASE, hence the whole pattern, NULL: one group to look for, no cast that a 7 or a
        # 1e20 could overflow inside DuckDB.
        one, zero = ("0", "1") if spec.polarity == "passed" else ("1", "0")
        values = [
            f"(CASE WHEN {_ident(c)} = 1 THEN {one} WHEN {_ident(c)} = 0 THEN {zero} END)"
            for c in layers
        ]
        pattern = " | ".join(f"(CAST({v} AS UBIGINT) << {i})" for i, v in enumerate(values))
        rows = con.execute(
            f"""SELECT s, pat, sum(w), bool_or(pat IS NULL) FROM (
                SELECT {stratum} AS s, {pattern} AS pat, {weight} AS w FROM {src})
            GROUP BY ALL ORDER BY s, pat"""
        ).fetchnumpy()
        keys = list(rows)
        if np.any(np.asarray(rows[keys[3]], dtype=bool)):
            raise InputError(
                "every layer column must be 0/1 or true/false (found other or missing values); "
                "if these are scores, give --budget B (with --honest FILE or --set-col) or "
                "--threshold LAYER=T",
                source=source,
            )
        return _assemble(tuple(layers), {k: rows[k] for k in keys[:3]}, spec, source, ())
    flags = [_flag(col, columns[col]) for col in layers]
    if spec.polarity == "passed":
        flags = [f"(1 - {f})" for f in flags]
    bad_any = " OR ".join(f"{f} IS NULL" for f in flags)
    bad = con.execute(f"SELECT {_ident(spec.case)} FROM {src} WHERE {bad_any} LIMIT 1").fetchone()
    if bad:
        raise InputError(
            f"case {bad[0]!r}: every layer column must be 0/1 or true/false", source=source
        )
    pattern = " | ".join(f"(CAST({f} AS UBIGINT) << {i})" for i, f in enumerate(flags))
    rows = con.execute(
        f"SELECT {stratum} AS s, {pattern} AS pat, sum({weight}) FROM {src} GROUP BY ALL "
        "ORDER BY s, pat"
    ).fetchnumpy()
    return _assemble(tuple(layers), rows, spec, source, ())


def _check_weights(
    con: duckdb.DuckDBPyConnection, src: str, spec: LogSpec, weight: str, source: str
) -> None:
    """Refuse a weight that is missing, not a number, infinite or negative, and all-zero weights.

    A NaN or infinite weight makes every rate NaN, a negative one can make a rate exceed 1, and
    weights that sum to 0 leave nothing to divide by: each would be a silent wrong answer.
    """
    bad = con.execute(
        f"""SELECT CAST({_ident(spec.case)} AS VARCHAR), CAST({_ident(spec.weight or "")} AS VARCHAR)
        FROM {src} WHERE {weight} IS NULL OR isnan({weight}) OR isinf({weight}) OR {weight} < 0
        LIMIT 1"""
    ).fetchone()
    if bad:
        raise InputError(
            f"case {bad[0]!r}: weight {'(empty)' if bad[1] is None else repr(bad[1])} in column "
            f"{spec.weight!r}; expected a finite number >= 0",
            source=source,
        )
    total = con.execute(f"SELECT sum({weight}) FROM {src}").fetchone()
    if total and total[0] is not None and math.isnan(total[0]):
        # A NaN the filter above missed: DuckDB's isnan is false on a NaN read from Parquet
        # (its column statistics leave NaN out, DuckDB 2.0.1); the sum is computed on the data.
        text = f"lower(CAST({weight} AS VARCHAR))"
        case = con.execute(
            f"SELECT CAST({_ident(spec.case)} AS VARCHAR) FROM {src} WHERE {text} LIKE '%nan' LIMIT 1"
        ).fetchone()
        raise InputError(
            f"case {case[0] if case else '?'!r}: weight 'nan' in column {spec.weight!r}; "
            "expected a finite number >= 0",
            source=source,
        )
    if not total or not total[0] or total[0] <= 0:
        raise InputError(f"the weights in column {spec.weight!r} sum to 0", source=source)


def _check_layers(layers: tuple[str, ...], source: str) -> None:
    if len(layers) < 1:
        raise InputError("the log names no layer", source=source)
    if len(layers) > MAX_LAYERS:
        raise InputError(f"{len(layers)} layers; at most {MAX_LAYERS} are supported", source=source)


def _assemble(
    layers: tuple[str, ...],
    rows: dict[str, Any],
    spec: LogSpec,
    source: str,
    notes: tuple[str, ...],
) -> PatternHistogram:
    keys = list(rows)
    strata = np.asarray(rows[keys[0]], dtype=object)
    patterns = np.asarray(rows[keys[1]], dtype=np.uint64)
    counts = np.asarray(rows[keys[2]], dtype=float)
    if len(counts) == 0:
        raise InputError("the log has no complete case (an outcome for every layer)", source=source)
    return PatternHistogram.from_arrays(
        layers, strata, patterns, counts, polarity=spec.describe(), source=source, notes=notes
    )

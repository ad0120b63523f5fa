"""Scored layers: read each layer's score on honest and attack cases, keep them as arrays.

A monitor or classifier gives a score; a threshold turns it into a flag. The *honest* cases set
the thresholds and count false positives; the *attack* cases count catches and misses. Inside,
every score is oriented so that a higher value is more suspicious (a layer named in
``LogSpec.lower_is_suspicious`` is negated on the way in and shown in its own units on the way
out), and a layer flags a case whose score is strictly above its threshold.

Plain CSV, Parquet and JSONL logs stream through DuckDB into one float64 array per set; tools'
logs (Inspect / ControlArena, garak, promptfoo) go through their readers, which keep the raw
score beside the outcome.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from cofail.empirical._build import (
    _check_layers,
    _columns,
    _connect,
    _ident,
    _refuse_bad_text,
    _require,
    _source_sql,
)
from cofail.empirical._frameworks import read_framework, resolve_tool, set_label
from cofail.empirical._spec import LogSpec
from cofail.errors import InputError, brief
from cofail.io.files import require_file

__all__ = ["ScoredLog", "read_scores"]

_NUMBER_TYPES = {
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "FLOAT",
    "DOUBLE",
}


@dataclass(frozen=True)
class ScoredLog:
    """Each layer's score on every honest and attack case, higher = more suspicious.

    Examples
    --------
    >>> s = ScoredLog(("m",), np.array([[1.0], [2.0]]), np.array([[3.0]]), (False,), "a", "h")
    >>> s.n_honest, s.n_attack, s.raw(-2.5, 0)
    (2, 1, -2.5)
    """

    layers: tuple[str, ...]
    """Layer ids; column i of each array."""
    honest: np.ndarray
    """Honest cases × layers, float64 (empty when no honest cases were given)."""
    attack: np.ndarray
    """Attack cases × layers, float64."""
    lower: tuple[bool, ...]
    """Per layer: its raw score is negated inside (a lower raw score is more suspicious)."""
    source: str
    """The attack cases' files."""
    honest_source: str
    """The honest cases' files ('' when none)."""
    notes: tuple[str, ...] = ()
    strata: np.ndarray | None = None
    """Per attack case, its stratum (``--stratum-col``), else None. Thresholds are set on every
    honest case together: one deployment threshold, catches counted per stratum."""

    @property
    def n_honest(self) -> int:
        return int(self.honest.shape[0])

    @property
    def n_attack(self) -> int:
        return int(self.attack.shape[0])

    def raw(self, value: float, layer: int) -> float:
        """Return a threshold or score of layer ``layer`` in the layer's own units."""
        return -value if self.lower[layer] else value

    def direction(self, layer: int) -> str:
        """How layer ``layer`` flags a case, in its own units: ``score > T`` or ``score < T``."""
        return "score < T" if self.lower[layer] else "score > T"


def read_scores(spec: LogSpec, paths: Sequence[str | Path]) -> ScoredLog:
    """Return each layer's scores on the honest and the attack cases of a scored log.

    The attack cases are ``paths``; the honest ones are ``spec.honest``, or the rows of
    ``paths`` whose ``spec.set_col`` says ``honest``. Without either there are attack cases
    only (fixed thresholds still apply, false-positive rates are unknown).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "a.csv").write_text("case,m1,m2\\n1,9,0.5\\n2,2,0.9\\n")
    >>> _ = (d / "h.csv").write_text("case,m1,m2\\n7,1,0.1\\n8,3,0.2\\n9,0,0.3\\n")
    >>> s = read_scores(LogSpec(wide=True, honest=(str(d / "h.csv"),)), [d / "a.csv"])
    >>> s.layers, s.n_honest, s.n_attack, s.attack[:, 0].tolist()
    (('m1', 'm2'), 3, 2, [9.0, 2.0])
    """
    files = [Path(p) for p in paths]
    if not files:
        raise InputError("no log file given")
    if spec.weight:
        raise InputError("--weight-col: case weights are not supported for scored layers")
    if spec.honest and spec.set_col:
        raise InputError("give the honest cases either as --honest files or by --set-col, not both")
    lower = set(spec.lower_is_suspicious)
    if spec.honest:
        # The honest cases only set thresholds: their stratum column, if any, is not a layer
        # and not needed.
        honest_files = [Path(p) for p in spec.honest]
        (layers, attack_scores, _, strata), (honest_layers, honest_scores, _, _) = _read_sets(
            spec, files, honest_files
        )
        if set(honest_layers) != set(layers):
            raise InputError(
                f"the honest and attack cases score different layers: honest "
                f"{', '.join(honest_layers)}; attack {', '.join(layers)}"
            )
        order = [honest_layers.index(x) for x in layers]
        if order != sorted(order):  # the same columns in another order: one copy, in ours
            honest_scores = np.asfortranarray(honest_scores[:, order])
    else:
        layers, scores, labels, strata = _read_table(spec, files)
        if labels is None:
            attack_scores, honest_scores = scores, np.empty((0, len(layers)))
        else:
            honest = labels == "honest"
            attack_scores, honest_scores = scores[~honest], scores[honest]
            strata = None if strata is None else strata[~honest]
    unknown = sorted(lower - set(layers))
    if unknown:
        raise InputError(
            f"--lower-is-suspicious: no layer {unknown[0]!r} (layers: {', '.join(layers)})"
        )
    flips = tuple(x in lower for x in layers)
    for i, flip in enumerate(flips):  # in place: the arrays are this reader's own
        if flip:
            np.negative(attack_scores[:, i], out=attack_scores[:, i])
            np.negative(honest_scores[:, i], out=honest_scores[:, i])
    if attack_scores.shape[0] == 0:
        raise InputError("no attack case in the log(s): the catch rates need some")
    return ScoredLog(
        layers=layers,
        honest=honest_scores,
        attack=attack_scores,
        lower=flips,
        source=", ".join(str(p) for p in files),
        honest_source=", ".join(spec.honest) if spec.honest else (
            f"rows with {spec.set_col} = honest" if spec.set_col else ""
        ),
        strata=strata,
    )  # fmt: skip


def _read_sets(spec: LogSpec, attack: list[Path], honest: list[Path]) -> tuple[Table, Table]:
    """The attack and the honest tables; two Parquet sets are read at once, on two threads
    (pyarrow decodes without the GIL: 1.7 -> 1.0 s for 10^7 cases x 8 a set). An error is the
    attack files' first, as when they are read in turn."""
    both = [*attack, *honest]
    if all(p.suffix.lower() == ".parquet" for p in both):
        with ThreadPoolExecutor(2) as pool:
            first = pool.submit(_read_table, spec, attack)
            second = pool.submit(_read_table, spec, honest, with_strata=False)
            return first.result(), second.result()
    return _read_table(spec, attack), _read_table(spec, honest, with_strata=False)


Table = tuple[tuple[str, ...], np.ndarray, np.ndarray | None, np.ndarray | None]
"""Layers, cases × layers scores, each case's set label and its stratum (None without a set
or a stratum column)."""


def _read_table(spec: LogSpec, files: list[Path], *, with_strata: bool = True) -> Table:
    """Read one set of files (see :data:`Table`); ``with_strata`` False: the stratum column
    need not exist, and is not read (it is still not a layer where it exists)."""
    for p in files:
        require_file(p)
    framework = resolve_tool(spec, files)
    if framework == "json":
        raise InputError("--tool json logs carry outcomes, not scores: give a wide or long log")
    if framework is not None:
        if spec.stratum and with_strata:
            raise InputError(
                f"--stratum-col: scored {framework} logs are read without strata (give each "
                "stratum's cases as their own log, or a wide or long log with the column)"
            )
        rows = read_framework(files, framework, spec)
        return _pivot_arrow(rows.table, spec, ", ".join(map(str, files)), framework)
    _refuse_bad_text(files)
    source = ", ".join(str(p) for p in files)
    con = _connect()
    try:
        src = _source_sql(files)
        if spec.wide:
            return _wide(con, src, spec, source, with_strata, files)
        return _long(
            con, src, spec if with_strata else spec.model_copy(update={"stratum": None}), source
        )
    except duckdb.Error as exc:
        raise InputError(
            f"cannot read the log: {str(exc).splitlines()[0]}", source=source
        ) from None
    finally:
        con.close()


def _score_sql(column: str, dtype: str) -> str:
    """SQL for a column's score as DOUBLE: NULL where the value is not a number."""
    col = _ident(column)
    if dtype in _NUMBER_TYPES:
        return f"CAST({col} AS DOUBLE)"
    if dtype == "BOOLEAN":
        return "CAST(NULL AS DOUBLE)"  # a flag is not a score: refused below, by name
    return f"TRY_CAST(trim(CAST({col} AS VARCHAR)) AS DOUBLE)"


def _refuse_bad_score(
    con: duckdb.DuckDBPyConnection,
    src: str,
    scores: np.ndarray,
    layers: Sequence[str],
    case: str,
    source: str,
) -> None:
    """Refuse a missing, non-numeric, NaN or infinite score (read as NaN): one line naming the
    first such row (the data row, 1 = the first after the header), its case and the layer.

    The row is found in the scores as read, not by a DuckDB filter: DuckDB's ``isnan`` is
    false on a NaN read from Parquet (DuckDB 2.0.1), so a filter would let it through.
    """
    # A finite sum means every score is finite (a NaN or an infinity makes it NaN or
    # infinite); only a column whose sum is not (or overflows) is searched for the row.
    with np.errstate(over="ignore", invalid="ignore"):  # the sum's overflow is the check's
        sums = [float(scores[:, i].sum()) for i in range(len(layers))]
    suspect = [i for i, total in enumerate(sums) if not math.isfinite(total)]
    first = [(i, np.flatnonzero(~np.isfinite(scores[:, i]))[:1]) for i in suspect]
    found = [(int(f[0]), i) for i, f in first if len(f)]
    if not found:
        return
    row, i = min(found)
    value = con.execute(
        f"""SELECT CAST({_ident(case)} AS VARCHAR), CAST({_ident(layers[i])} AS VARCHAR) FROM (
            SELECT row_number() OVER () AS cofail_row, * FROM {src})
        WHERE cofail_row = {row + 1}"""
    ).fetchone()
    case_text, text = value if value is not None else (None, None)
    shown = "(empty)" if text is None else brief(text)
    raise InputError(
        f"row {row + 1} (case {brief(str(case_text))}), layer {brief(layers[i])}: score "
        f"{shown}; expected a finite number",
        source=source,
    )


def _check_labels(con: duckdb.DuckDBPyConnection, src: str, spec: LogSpec, source: str) -> None:
    """Refuse a set label other than honest / attack (any case), naming its row."""
    if spec.set_col is None:
        return
    col = f"lower(trim(CAST({_ident(spec.set_col)} AS VARCHAR)))"
    bad = con.execute(
        f"""SELECT cofail_row, CAST({_ident(spec.set_col)} AS VARCHAR) FROM (
            SELECT row_number() OVER () AS cofail_row, * FROM {src})
        WHERE {col} IS NULL OR {col} NOT IN ('honest', 'attack') LIMIT 1"""
    ).fetchone()
    if bad:
        raise InputError(
            f"row {bad[0]}: column {spec.set_col!r} is "
            f"{'(empty)' if bad[1] is None else brief(bad[1])}; expected honest or attack",
            source=source,
        )


def _stratum_sql(spec: LogSpec) -> str:
    """SQL for each row's stratum as text ('' when empty), or '' without --stratum-col."""
    if not spec.stratum:
        return ""
    return f", coalesce(CAST({_ident(spec.stratum)} AS VARCHAR), '') AS cofail_stratum"


def _strata(data: dict[str, Any], spec: LogSpec) -> np.ndarray | None:
    if not spec.stratum:
        return None
    return np.asarray(data["cofail_stratum"], dtype=object)


def _wide(
    con: duckdb.DuckDBPyConnection,
    src: str,
    spec: LogSpec,
    source: str,
    with_strata: bool,
    files: Sequence[Path],
) -> Table:
    columns = _columns(con, src)
    stratum = spec.stratum if with_strata else None
    _require(columns, [spec.case, stratum, spec.set_col, *(spec.layers or ())], source)
    reserved = {spec.case, spec.stratum, spec.set_col}
    if not with_strata:
        spec = spec.model_copy(update={"stratum": None})
    layers = tuple(spec.layers or [c for c in columns if c not in reserved])
    _check_layers(layers, source)
    checks = [(c, c, _score_sql(c, columns[c])) for c in layers]
    label = (
        f", lower(trim(CAST({_ident(spec.set_col)} AS VARCHAR))) = 'honest' AS honest"
        if spec.set_col
        else ""
    )
    count = con.execute(f"SELECT count(*) FROM {src}").fetchone()
    scores = np.empty((int(count[0]) if count else 0, len(layers)), dtype=np.float64, order="F")
    # Column-major, and for Parquet one column per query: a column is what every later step
    # reads, and the transient copy is one column, not the whole log (CSV is scanned once).
    # A missing or non-numeric score reads as NaN; the scores are then checked in NumPy, and
    # only a log that fails the check is scanned again to name the row (a scan with row
    # numbers costs seconds on millions of rows).
    read = [f"coalesce({sql}, 'NaN'::DOUBLE)" for _, _, sql in checks]
    if src.startswith("read_parquet"):
        if not _parquet_scores(files, layers, scores):
            for i, sql in enumerate(read):
                column = con.execute(f"SELECT {sql} AS v FROM {src}").fetchnumpy()["v"]
                scores[:, i] = np.asarray(column, dtype=np.float64)
                del column
        data: dict[str, Any] = {}
    else:
        select = ", ".join(f"{sql} AS {_ident(f'v{i}')}" for i, sql in enumerate(read))
        data = con.execute(f"SELECT {select}{label}{_stratum_sql(spec)} FROM {src}").fetchnumpy()
        for i in range(len(layers)):
            scores[:, i] = np.asarray(data.pop(f"v{i}"), dtype=np.float64)
    _refuse_bad_score(con, src, scores, layers, spec.case, source)
    _check_labels(con, src, spec, source)
    if src.startswith("read_parquet"):
        extra = label + _stratum_sql(spec)
        data = con.execute(f"SELECT 1{extra} FROM {src}").fetchnumpy() if extra else {}
    labels = None
    if spec.set_col:
        labels = np.where(np.asarray(data["honest"], dtype=bool), "honest", "attack")
    return layers, scores, labels, _strata(data, spec)


def _parquet_scores(files: Sequence[Path], layers: Sequence[str], scores: np.ndarray) -> bool:
    """Read the layers' scores of Parquet ``files`` into ``scores`` (cases × layers, in file
    and row order, as DuckDB's ``read_parquet`` gives them), one row group of one column at a
    time; a null reads as NaN. False, and nothing read, unless every file holds every layer as
    a plain integer or floating-point column: then DuckDB's cast rules apply instead.

    A row group is a few megabytes: written straight into the column, it costs no transient
    copy of the whole column (each such copy costs page faults, and at 10^7 rows the read
    took 4-5 times as long through whole columns).
    """
    import pyarrow.parquet as pq  # only for Parquet logs

    readers = [pq.ParquetFile(p) for p in files]
    for reader in readers:
        schema = reader.schema_arrow
        for layer in layers:
            index = schema.get_field_index(layer)
            if index < 0 or not _plain_number(schema.field(index).type):
                return False
    if sum(r.metadata.num_rows for r in readers) != scores.shape[0]:
        return False
    for i, layer in enumerate(layers):
        at = 0
        for reader in readers:
            for group in range(reader.num_row_groups):
                for chunk in reader.read_row_group(group, columns=[layer]).column(0).chunks:
                    _put_numbers(chunk, scores[at : at + len(chunk), i])
                    at += len(chunk)
    return True


def _put_numbers(chunk: pa.Array, out: np.ndarray) -> None:
    """Write a plain integer or floating-point Arrow array into ``out`` (float64), a null as
    NaN, straight from its buffers.

    pyarrow's ``to_numpy`` imports pandas on its first call (2 s, more than the read of ten
    million rows of eight layers), and its ``cast`` pyarrow.compute: the values buffer is
    read as its NumPy type instead, NumPy converting on assignment.

    >>> out = np.empty(4)
    >>> _put_numbers(pa.array([7, None, -2, 5], pa.int16()).slice(0, 4), out)
    >>> out.tolist()
    [7.0, nan, -2.0, 5.0]
    """
    kind = chunk.type
    code = "f" if pa.types.is_floating(kind) else "i" if pa.types.is_signed_integer(kind) else "u"
    dtype = np.dtype(f"<{code}{kind.bit_width // 8}")
    n, offset = len(chunk), chunk.offset
    validity, values = chunk.buffers()[:2]
    if values is None:  # every value null (an all-null array may carry no values buffer)
        out[:] = np.nan
        return
    out[:] = np.frombuffer(values, dtype=dtype, count=offset + n)[offset:]
    if chunk.null_count:
        bits = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")
        out[~bits[offset : offset + n].astype(bool)] = np.nan


def _plain_number(kind: pa.DataType) -> bool:
    return bool(pa.types.is_integer(kind) or pa.types.is_floating(kind))


def _long(con: duckdb.DuckDBPyConnection, src: str, spec: LogSpec, source: str) -> Table:
    columns = _columns(con, src)
    _require(columns, [spec.case, spec.layer, spec.score_col, spec.set_col, spec.stratum], source)
    sql = _score_sql(spec.score_col, columns[spec.score_col])
    layer_sql = f"CAST({_ident(spec.layer)} AS VARCHAR)"
    con.execute(
        f"""CREATE TEMP VIEW scored AS SELECT row_number() OVER () AS cofail_row, * FROM {src}"""
    )
    bad = con.execute(
        f"""SELECT cofail_row, CAST({_ident(spec.case)} AS VARCHAR), {layer_sql},
        CAST({_ident(spec.score_col)} AS VARCHAR) FROM scored
        WHERE {sql} IS NULL OR isnan({sql}) OR isinf({sql}) OR {layer_sql} IS NULL
        OR {_ident(spec.case)} IS NULL LIMIT 1"""
    ).fetchone()
    if bad:
        shown = "(empty)" if bad[3] is None else brief(bad[3])
        raise InputError(
            f"row {bad[0]} (case {brief(bad[1])}), layer {brief(bad[2])}: score {shown}; "
            "expected a finite number (and a case and a layer)",
            source=source,
        )
    _check_labels(con, "scored", spec, source)
    label = f"lower(trim(CAST({_ident(spec.set_col)} AS VARCHAR)))" if spec.set_col else "'attack'"
    table = pa.table(
        con.execute(
            f"""SELECT CAST({_ident(spec.case)} AS VARCHAR) AS "case", {layer_sql} AS layer,
            {sql} AS score, {label} AS "set"{_stratum_sql(spec)} FROM scored"""
        ).fetchnumpy()
    )
    # NaN, checked on the scores as read (DuckDB's isnan above is false on a NaN read from
    # Parquet: see _refuse_bad_score); the rows come in the view's order.
    score = np.asarray(table.column("score").to_numpy(zero_copy_only=False), dtype=float)
    nan = np.flatnonzero(np.isnan(score))[:1]
    if len(nan):
        case_text, layer = con.execute(
            f"""SELECT CAST({_ident(spec.case)} AS VARCHAR), {layer_sql} FROM scored
            WHERE cofail_row = {int(nan[0]) + 1}"""
        ).fetchone() or (None, None)
        raise InputError(
            f"row {int(nan[0]) + 1} (case {brief(str(case_text))}), layer {brief(str(layer))}: "
            "score 'nan'; expected a finite number (and a case and a layer)",
            source=source,
        )
    return _pivot_arrow(table, spec, source, None)


def _pivot_arrow(table: pa.Table, spec: LogSpec, source: str, framework: str | None) -> Table:
    """Cases × layers from long rows ``case, layer, score[, set]``: a case must have one score
    for every layer (incomplete cases are refused: a missing score is not a miss)."""
    cases = np.asarray(table.column("case").to_numpy(zero_copy_only=False), dtype=object)
    layer_col = np.asarray(table.column("layer").to_numpy(zero_copy_only=False), dtype=object)
    score = np.asarray(table.column("score").to_numpy(zero_copy_only=False), dtype=float)
    has_set = "set" in table.column_names and spec.set_col is not None
    sets = (
        np.asarray(table.column("set").to_numpy(zero_copy_only=False), dtype=object)
        if has_set
        else None
    )
    if framework is not None and np.isnan(score).any():
        at = int(np.flatnonzero(np.isnan(score))[0])
        raise InputError(
            f"case {brief(str(cases[at]))}, layer {brief(str(layer_col[at]))}: the {framework} "
            "log gives no score here (its outcome is pass/fail only); scored layers need a "
            "score for every case",
            source=source,
        )
    if sets is not None and any(s is None for s in sets):
        at = next(i for i, s in enumerate(sets) if s is None)
        raise InputError(f"case {brief(str(cases[at]))}: no {spec.set_col!r}", source=source)
    layers = tuple(sorted(set(layer_col.tolist())))
    _check_layers(layers, source)
    position = {name: i for i, name in enumerate(layers)}
    # A case id names a case within its set: honest case 7 and attack case 7 are two cases.
    keys = (
        cases
        if sets is None
        else np.array([f"{s}\x00{c}" for s, c in zip(sets, cases, strict=True)], dtype=object)
    )
    unique, row = np.unique(keys.astype(str), return_inverse=True)
    col = np.fromiter((position[x] for x in layer_col), dtype=np.intp, count=len(layer_col))
    scores = np.full((len(unique), len(layers)), np.nan)
    seen = np.zeros((len(unique), len(layers)), dtype=np.int64)
    np.add.at(seen, (row, col), 1)
    if (seen > 1).any():
        r, c = np.argwhere(seen > 1)[0]
        raise InputError(
            f"case {brief(_case_of(unique[r]))} has more than one score for layer "
            f"{brief(layers[c])}; give one score per (case, layer)",
            source=source,
        )
    if (seen == 0).any():
        r, c = np.argwhere(seen == 0)[0]
        raise InputError(
            f"case {brief(_case_of(unique[r]))} has no score for layer {brief(layers[c])}; "
            "every case needs a score from every layer",
            source=source,
        )
    scores[row, col] = score
    labels = None
    if sets is not None:
        labels = np.array([set_label(k.split("\x00", 1)[0], source) for k in unique])
    strata = None
    if "cofail_stratum" in table.column_names:
        given = np.asarray(
            table.column("cofail_stratum").to_numpy(zero_copy_only=False), dtype=object
        )
        strata = np.empty(len(unique), dtype=object)
        strata[row] = given  # a case's rows must agree: checked next
        if (strata[row] != given).any():
            at = int(np.flatnonzero(strata[row] != given)[0])
            raise InputError(
                f"case {brief(str(cases[at]))}: its rows give more than one {spec.stratum!r} "
                f"({brief(str(strata[row[at]]))} and {brief(str(given[at]))}); a case is in "
                "one stratum",
                source=source,
            )
    return layers, scores, labels, strata


def _case_of(key: Any) -> str:
    return str(key).split("\x00", 1)[-1]

"""Wide Parquet scores read row group by row group (pyarrow) equal what DuckDB reads.

The fast path in ``cofail.empirical._scored._parquet_scores`` must give the same float64 array
as the SQL path for every file it accepts, and decline (leaving DuckDB's cast rules in charge)
for every file it does not. The reference here is the same table written as CSV and read
through DuckDB.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cofail.empirical import LogSpec, read_scores
from cofail.empirical._scored import _parquet_scores
from cofail.errors import InputError


def _table(rng: np.random.Generator, n: int, start: int) -> pa.Table:
    return pa.table(
        {
            "case": pa.array(np.arange(start, start + n), pa.int64()),
            "f64": pa.array(rng.normal(size=n)),
            "f32": pa.array(rng.normal(size=n).astype(np.float32)),
            "i64": pa.array(rng.integers(-(2**40), 2**40, n), pa.int64()),
            "u8": pa.array(rng.integers(0, 255, n).astype(np.uint8)),
        }
    )


def _as_csv(tables: list[pa.Table], path: Path) -> None:
    rows = ["case,f64,f32,i64,u8"]
    for t in tables:
        cols = [t.column(c).to_pylist() for c in ("case", "f64", "f32", "i64", "u8")]
        rows += [",".join(repr(v) for v in row) for row in zip(*cols, strict=True)]
    path.write_text("\n".join(rows) + "\n")


def test_row_groups_of_several_files_equal_duckdb_on_csv(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    tables = [_table(rng, 1_000, 0), _table(rng, 777, 5_000)]
    # the second file's columns in another order: read by name, as union_by_name does
    tables[1] = tables[1].select(["u8", "case", "i64", "f32", "f64"])
    files = []
    for k, t in enumerate(tables):
        files.append(tmp_path / f"a{k}.parquet")
        pq.write_table(t, files[-1], row_group_size=128)  # many row groups, a short last one
    _as_csv([t.select(["case", "f64", "f32", "i64", "u8"]) for t in tables], tmp_path / "a.csv")
    spec = LogSpec(wide=True)
    fast = read_scores(spec, files)
    slow = read_scores(spec, [tmp_path / "a.csv"])
    assert fast.layers == slow.layers == ("f64", "f32", "i64", "u8")
    # float32 printed by repr() round-trips through float64 exactly as the cast does
    np.testing.assert_array_equal(fast.attack, slow.attack)
    assert fast.attack.flags.f_contiguous


def test_the_fast_path_declines_what_it_cannot_read_exactly(tmp_path: Path) -> None:
    n = 10
    base = {"case": pa.array(range(n)), "m": pa.array(np.linspace(0, 1, n))}
    text = tmp_path / "text.parquet"
    pq.write_table(pa.table({**base, "t": pa.array([str(i) for i in range(n)])}), text)
    dec = tmp_path / "dec.parquet"
    pq.write_table(pa.table({**base, "t": pa.array([1] * n, pa.decimal128(5, 2))}), dec)
    missing = tmp_path / "missing.parquet"
    pq.write_table(pa.table(base), missing)
    out = np.full((n, 2), -1.0, order="F")
    assert not _parquet_scores([text], ["m", "t"], out)
    assert not _parquet_scores([dec], ["m", "t"], out)
    assert not _parquet_scores([missing], ["m", "t"], out)
    assert (out == -1.0).all()  # declined before writing anything
    # the SQL path reads them as before: text and decimal numbers are scores
    for path in (text, dec):
        got = read_scores(LogSpec(wide=True), [path])
        np.testing.assert_array_equal(got.attack[:, 0], np.linspace(0, 1, n))


def test_a_null_in_a_row_group_past_the_first_names_its_row(tmp_path: Path) -> None:
    values = np.arange(300, dtype=np.float64).tolist()
    values[217] = None
    path = tmp_path / "a.parquet"
    pq.write_table(
        pa.table({"case": pa.array([f"c{i}" for i in range(300)]), "m": pa.array(values)}),
        path,
        row_group_size=100,
    )
    with pytest.raises(
        InputError, match=r"a.parquet: row 218 \(case 'c217'\), layer 'm': score \(empty\)"
    ):
        read_scores(LogSpec(wide=True), [path])


def test_attack_and_honest_parquet_read_together_keep_the_attack_error_first(
    tmp_path: Path,
) -> None:
    rng = np.random.default_rng(9)
    attack, honest = tmp_path / "a.parquet", tmp_path / "h.parquet"
    pq.write_table(_table(rng, 300, 0), attack, row_group_size=64)
    pq.write_table(_table(rng, 500, 0), honest, row_group_size=64)
    _as_csv([pq.read_table(attack)], tmp_path / "a.csv")
    _as_csv([pq.read_table(honest)], tmp_path / "h.csv")
    both = read_scores(LogSpec(wide=True, honest=(str(honest),)), [attack])
    plain = read_scores(LogSpec(wide=True, honest=(str(tmp_path / "h.csv"),)), [tmp_path / "a.csv"])
    np.testing.assert_array_equal(both.attack, plain.attack)
    np.testing.assert_array_equal(both.honest, plain.honest)
    # a bad score in each set: the attack file's is the one reported, as when read in turn
    for path, row in ((attack, 5), (honest, 7)):
        t = pq.read_table(path).to_pydict()
        t["f64"][row] = None
        pq.write_table(pa.table(t), path)
    with pytest.raises(InputError, match=r"a\.parquet: row 6 "):
        read_scores(LogSpec(wide=True, honest=(str(honest),)), [attack])
    pq.write_table(_table(rng, 300, 0), attack)  # the attack set good again: the honest error
    with pytest.raises(InputError, match=r"h\.parquet: row 8 "):
        read_scores(LogSpec(wide=True, honest=(str(honest),)), [attack])


def test_the_row_group_read_leaves_pandas_and_matplotlib_unloaded(tmp_path: Path) -> None:
    """pyarrow's ``to_numpy`` imports pandas (2 s in a cold process, more than reading 10^7
    rows of 8 layers): the read takes the values from the buffers instead, and ``cofail
    scores`` without --report draws nothing. Checked in a fresh interpreter."""
    import json
    import subprocess
    import sys

    rng = np.random.default_rng(5)
    table = _table(rng, 2_000, 0).drop_columns(["f64"])
    pq.write_table(table, tmp_path / "a.parquet", row_group_size=300)
    pq.write_table(_table(rng, 1_500, 0).drop_columns(["f64"]), tmp_path / "h.parquet")
    program = (
        "import sys, io, contextlib\n"
        "from cofail.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        f"    code = main(['scores', {str(tmp_path / 'a.parquet')!r}, '--wide', '--honest', "
        f"{str(tmp_path / 'h.parquet')!r}, '--budget', '5%', '-f', 'json'])\n"
        "print(code, 'pandas' in sys.modules, 'matplotlib' in sys.modules)\n"
        "print(out.getvalue())\n"
    )
    run = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    first, _, rest = run.stdout.partition("\n")
    assert first == "0 False False", run.stderr
    assert [x["layer"] for x in json.loads(rest)["layers"]] == ["f32", "i64", "u8"]


def test_scores_whose_sum_overflows_are_read_and_an_infinity_beside_them_is_named(
    tmp_path: Path,
) -> None:
    """The finite-score check sums each column first: a column of huge finite scores
    overflows the sum, is searched, and passes; an infinity is named by row and layer."""
    table = pa.table({"case": [1, 2, 3], "m1": [1e308, 1e308, 1.0], "m2": [1.0, 2.0, 3.0]})
    pq.write_table(table, tmp_path / "ok.parquet")
    got = read_scores(LogSpec(wide=True), [tmp_path / "ok.parquet"])
    assert got.attack[:, 0].tolist() == [1e308, 1e308, 1.0]
    bad = table.set_column(2, "m2", pa.array([1.0, float("-inf"), 3.0]))
    pq.write_table(bad, tmp_path / "bad.parquet")
    with pytest.raises(InputError, match=r"row 2 \(case '2'\), layer 'm2': score '-inf'"):
        read_scores(LogSpec(wide=True), [tmp_path / "bad.parquet"])

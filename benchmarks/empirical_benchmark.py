"""Benchmark: cofail's empirical analysis against a straightforward pandas approach.

Three wide Parquet logs, each analysed three ways in a fresh subprocess (so that peak memory is
measured separately):

- ``common``:       10M cases × 32 layers failing through shared modes (few distinct patterns);
- ``distinct``:     2M × 32, layers failing independently 10–15 % of the time: most cases have
                    a pattern of their own (the case that made the old bootstrap slow);
- ``all-distinct``: 3M × 40, every case a different pattern (the worst case for memory).

The three ways:

- read:   ``pyarrow.parquet.read_table`` of the whole file, nothing else (the floor);
- numpy:  read, then the pattern histogram (bits packed, ``np.unique``) and the pair counts
          (``X.T @ X``): the plain pass issue 28 holds the binary path to (within 2×);
- cofail: the full analysis, as ``cofail empirical`` runs it (DuckDB pattern histogram,
          marginals with Wilson intervals, all pairs with phi, kappa, lift, Fisher p with BH,
          whole-stack joint failure with its default 2,000-resample bootstrap);
- pandas: read into a DataFrame, ``mean``, ``corr``, 2×2 counts per pair by matrix product,
          Fisher's exact test per pair, and 20 row bootstraps of the whole-stack joint failure
          (``DataFrame.sample``): a hundredth of cofail's resamples, so the ratio favours pandas.

Run (the logs are written once to --data and reused):

    .venv/bin/python benchmarks/empirical_benchmark.py [--case all|common|distinct|all-distinct]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

CHUNK = 1_000_000


CASES = {
    "common": (10_000_000, 32),
    "distinct": (2_000_000, 32),
    "all-distinct": (3_000_000, 40),
}


def make_log(path: Path, kind: str, cases: int, layers: int, seed: int = 0) -> None:
    """Write a wide log of one of the three kinds (see the module docstring)."""
    rng = np.random.default_rng(seed)
    modes = 12
    hits = rng.random((modes, layers)) < 0.25
    p = rng.uniform(0.01, 0.08, modes)
    rates = rng.uniform(0.10, 0.15, layers)
    if kind == "all-distinct":  # distinct random patterns, in random order
        chosen = np.unique(rng.integers(0, 2**layers, int(cases * 1.01), dtype=np.uint64))
        patterns = rng.permutation(chosen[rng.permutation(len(chosen))[:cases]])
        assert len(patterns) == cases, "draw more patterns"
    writer = None
    for start in range(0, cases, CHUNK):
        n = min(CHUNK, cases - start)
        if kind == "common":
            present = rng.random((n, modes)) < p
            failed = (present.astype(np.uint8) @ hits.astype(np.uint8)) > 0
            failed |= rng.random((n, layers)) < 0.02
        elif kind == "distinct":
            failed = rng.random((n, layers)) < rates
        else:
            block = patterns[start : start + n]
            failed = ((block[:, None] >> np.arange(layers, dtype=np.uint64)) & 1).astype(bool)
        table = pa.table(
            {
                "case": np.arange(start, start + n, dtype=np.int64),
                **{f"L{i:02d}": failed[:, i].astype(np.int8) for i in range(layers)},
            }
        )
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()


READ = """
import pyarrow.parquet as pq
t = pq.read_table(PATH)
print(t.num_rows)
"""

COFAIL = """
from cofail.empirical import LogSpec, analyse, read
h = read(LogSpec(wide=True), [PATH])
data = analyse(h).to_dict()
s = data["stack"]
print(len(data["pairs"]), s["observed"], s["independent"], len(h.patterns[""]), "patterns")
print(s["interval"]["method"])
"""

NUMPY = """
import numpy as np, pyarrow.parquet as pq
t = pq.read_table(PATH)
x = np.column_stack([t.column(c).to_numpy() for c in t.column_names[1:]]).astype(np.uint8)
bits = np.zeros(len(x), dtype=np.uint64)
for i in range(x.shape[1]):
    bits |= x[:, i].astype(np.uint64) << np.uint64(i)
patterns, counts = np.unique(bits, return_counts=True)
f = x.astype(np.float32)
n11 = f.T @ f
print(len(patterns), "patterns", int(n11.trace()))
"""
"""The plain NumPy pass issue 28 measures the binary path against: read, pattern histogram and
pair counts, no statistics."""

PANDAS = """
import numpy as np, pandas as pd
from itertools import combinations
from scipy.stats import fisher_exact
df = pd.read_parquet(PATH).set_index("case")
rates = df.mean()
phi = df.corr()
x = df.to_numpy(dtype=np.float32)
n11 = x.T @ x
n = len(df)
pairs = []
for i, j in combinations(range(df.shape[1]), 2):
    a, b = n11[i, i], n11[j, j]
    t = [[n11[i, j], a - n11[i, j]], [b - n11[i, j], n - a - b + n11[i, j]]]
    pairs.append(fisher_exact(np.array(t, dtype=np.int64)).pvalue)
observed = df.all(axis=1).mean()
independent = rates.prod()
boot = []
for k in range(PANDAS_BOOT):
    sample = df.sample(n=n, replace=True, random_state=k)
    boot.append(sample.all(axis=1).mean())
print(len(pairs), observed, independent)
"""


PANDAS_BOOT = 20
"""Row bootstraps in the pandas baseline (cofail draws its default 2,000)."""


def run(code: str, path: Path) -> tuple[float, float, str]:
    """Run ``code`` in a fresh interpreter; return (seconds, peak RSS in MiB, stdout)."""
    program = (
        "import time, sys\n"
        f"PATH = {str(path)!r}\nPANDAS_BOOT = {PANDAS_BOOT}\n"
        "t0 = time.perf_counter()\n" + code + "\nprint('ELAPSED', time.perf_counter() - t0)\n"
        # VmHWM, not ru_maxrss: Linux carries ru_maxrss across fork and exec, so a child
        # would report the parent's peak (the benchmark's own, after writing the log).
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
        "print('RSS', int(hwm.split()[1]) / 1024)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    )
    lines = out.stdout.strip().splitlines()
    elapsed = float(lines[-2].split()[1])
    rss = float(lines[-1].split()[1])
    return elapsed, rss, "\n".join(lines[:-2])


def _first(result: dict[str, object]) -> list[str]:
    return str(result["output"]).splitlines()[0].split()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=["all", *CASES], default="all")
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "cofail-bench")
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    summary = []
    for kind in CASES if args.case == "all" else [args.case]:
        cases, layers = CASES[kind]
        path = args.data / f"{kind}-{cases}x{layers}.parquet"
        if not path.exists():
            t0 = time.perf_counter()
            make_log(path, kind, cases, layers)
            size = path.stat().st_size / 2**20
            print(f"wrote {path} ({size:.0f} MiB) in {time.perf_counter() - t0:.1f} s")
        print(f"== {kind}: {cases:,} cases x {layers} layers")
        results = {}
        for name, code in (
            ("read", READ),
            ("numpy", NUMPY),
            ("cofail", COFAIL),
            ("pandas", PANDAS),
        ):
            seconds, rss, out = run(code, path)
            results[name] = {"seconds": seconds, "peak_rss_mib": rss, "output": out}
            print(f"{name:7s} {seconds:8.2f} s   peak RSS {rss:8.0f} MiB   {out.splitlines()[0]}")
            for extra in results[name]["output"].splitlines()[1:]:
                print(f"        {extra}")

        c, p, r, q = (results[k]["seconds"] for k in ("cofail", "pandas", "read", "numpy"))
        same = _first(results["cofail"])[1:3] == _first(results["pandas"])[1:3]
        print(
            f"pandas / cofail: {p / c:.1f}x;  cofail / read-only: {c / r:.2f}x;  "
            f"cofail / numpy pass: {c / q:.2f}x;  "
            f"same observed and independent joint failure: {same}"
        )
        summary.append({"case": kind, "cases": cases, "layers": layers, **results})
    print(json.dumps(summary))


if __name__ == "__main__":
    main()

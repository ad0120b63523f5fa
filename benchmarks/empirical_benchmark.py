"""Benchmark: cofail's empirical analysis against a straightforward pandas approach.

A wide Parquet log of 10 million cases × 32 layers (correlated failures drawn from a
common-cause model) is analysed three ways, each in a fresh subprocess so that peak memory is
measured separately:

- read:   ``pyarrow.parquet.read_table`` of the whole file, nothing else (the floor);
- cofail: the full analysis (DuckDB pattern histogram, marginals with Wilson intervals, all
          496 pairs with phi, kappa, lift, Fisher p with BH, whole-stack joint failure with a
          bootstrap drawn from the histogram);
- pandas: read into a DataFrame, ``mean``, ``corr``, 2×2 counts per pair by matrix product,
          and a row bootstrap of the whole-stack joint failure (``DataFrame.sample``).

Both analyses use the same number of bootstrap resamples. Run:

    .venv/bin/python benchmarks/empirical_benchmark.py [--cases 10000000] [--layers 32] [--boot 200]
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


def make_log(path: Path, cases: int, layers: int, seed: int = 0) -> None:
    """Write a wide log whose layers fail through shared modes (plus residual noise)."""
    rng = np.random.default_rng(seed)
    modes = 12
    hits = rng.random((modes, layers)) < 0.25
    p = rng.uniform(0.01, 0.08, modes)
    writer = None
    for start in range(0, cases, CHUNK):
        n = min(CHUNK, cases - start)
        present = rng.random((n, modes)) < p
        failed = (present.astype(np.uint8) @ hits.astype(np.uint8)) > 0
        failed |= rng.random((n, layers)) < 0.02
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
from cofail.empirical import CoFailure, LogSpec, read_log
h = read_log([PATH], LogSpec(wide=True))
co = CoFailure(n_boot=BOOT).fit(h)
s = co.stack_failure_()
print(len(co.pairs_), s.observed, s.independent)
"""

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
for k in range(BOOT):
    sample = df.sample(n=n, replace=True, random_state=k)
    boot.append(sample.all(axis=1).mean())
print(len(pairs), observed, independent)
"""


def run(code: str, path: Path, boot: int) -> tuple[float, float, str]:
    """Run ``code`` in a fresh interpreter; return (seconds, peak RSS in MiB, stdout)."""
    program = (
        "import resource, time, sys\n"
        f"PATH = {str(path)!r}\nBOOT = {boot}\n"
        "t0 = time.perf_counter()\n" + code + "\nprint('ELAPSED', time.perf_counter() - t0)\n"
        "print('RSS', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    )
    lines = out.stdout.strip().splitlines()
    elapsed = float(lines[-2].split()[1])
    rss = float(lines[-1].split()[1])
    return elapsed, rss, lines[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000_000)
    parser.add_argument("--layers", type=int, default=32)
    parser.add_argument("--boot", type=int, default=200)
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "cofail-bench")
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    path = args.data / f"wide-{args.cases}x{args.layers}.parquet"
    if not path.exists():
        t0 = time.perf_counter()
        make_log(path, args.cases, args.layers)
        print(
            f"wrote {path} ({path.stat().st_size / 2**20:.0f} MiB) in {time.perf_counter() - t0:.1f} s"
        )
    results = {}
    for name, code in (("read", READ), ("cofail", COFAIL), ("pandas", PANDAS)):
        seconds, rss, out = run(code, path, args.boot)
        results[name] = {"seconds": seconds, "peak_rss_mib": rss, "output": out}
        print(f"{name:7s} {seconds:8.2f} s   peak RSS {rss:8.0f} MiB   {out}")
    c, p, r = (results[k]["seconds"] for k in ("cofail", "pandas", "read"))
    print(f"pandas / cofail: {p / c:.1f}x faster;  cofail / read-only: {c / r:.2f}x")
    same = results["cofail"]["output"].split()[1:] == results["pandas"]["output"].split()[1:]
    print(f"same observed and independent joint failure: {same}")
    print(json.dumps({"cases": args.cases, "layers": args.layers, "boot": args.boot, **results}))


if __name__ == "__main__":
    main()

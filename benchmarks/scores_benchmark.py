"""Benchmark: ``cofail scores`` against reading the file, and against a pandas baseline.

The case that hurts: 10M attack + 10M honest cases × 8 monitors with continuous scores (every
score distinct, so no histogram shortcut), sharing a difficulty factor, in two wide Parquet
files (``--cases`` changes the size). Each way runs in a fresh interpreter, so that peak memory
(VmHWM) is its own:

- read:   ``pyarrow.parquet.read_table`` of both files and every column to NumPy;
- read-rg: the files' row groups read one column at a time straight into one float64 array
          per set, as cofail reads them (the floor: the fewest page faults);
- cofail: ``cofail scores ATTACK --wide --honest HONEST --budget 1% -f json``: per layer the
          threshold, FPR, TPR with its interval, AUC with its interval; every pair's and the
          stack's joint misses with bootstrap intervals; the effective number of layers; the
          best split of the budget (rule any) in sample and cross-validated; the 56-budget
          curve with the combination at 10 of its budgets;
- pandas: ``pd.read_parquet`` both, then per layer ``np.percentile`` thresholds at the 56
          budgets, TPR, scikit-learn's ``roc_auc_score``, every pair's joint misses and the
          whole stack's at the budget, and the all-miss curve (a pass per budget) — no
          intervals and no combination, so the ratio favours pandas.

The reads and cofail run ``--repeat`` times each, in turn (read, read-rg, cofail, read, …),
and the ratios are of the medians and of the fastest runs: on this two-core VM the same read
takes 1.1-6.9 s from one run to the next (page faults on 3 GiB cost more or less at times),
so a single pair of runs says little.

cofail runs from bytecode compiled before the runs, as an installed command does: where the
environment says ``PYTHONDONTWRITEBYTECODE`` (this sandbox does) the runs get a bytecode cache
of their own (``_bytecode.py``; ``--no-bytecode-cache`` keeps the environment). pyarrow's
``to_numpy`` imports pandas on its first call (0.3-0.4 s), so the two reads import it before
their clock starts: they time the reading alone.

Run (the files are written once to --data and reused):

    .venv/bin/python benchmarks/scores_benchmark.py [--cases 10000000] [--layers 8] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from _bytecode import bytecode_env

CHUNK = 1_000_000
ROOT = Path(__file__).resolve().parents[1]


def make_log(path: Path, cases: int, layers: int, shift: float, seed: int) -> None:
    """Write a wide Parquet log of continuous monitor scores with a shared factor."""
    rng = np.random.default_rng(seed)
    writer = None
    for start in range(0, cases, CHUNK):
        n = min(CHUNK, cases - start)
        z = rng.normal(size=n)
        columns = {"case": np.arange(start, start + n, dtype=np.int64)}
        for k in range(layers):
            columns[f"m{k}"] = shift + 0.6 * z + 0.8 * rng.normal(size=n)
        table = pa.table(columns)
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()


# pyarrow's to_numpy imports pandas on its first call (0.3-0.4 s here): the reads import it
# before their clock starts, so that the baselines time the reading alone.
PRELUDE = "import pandas\n"

READ = """
import numpy as np, pyarrow.parquet as pq
for path in (ATTACK, HONEST):
    t = pq.read_table(path)
    cols = [t.column(c).to_numpy() for c in t.column_names[1:]]
print(len(cols), len(cols[0]))
"""

READ_RG = """
import numpy as np, pyarrow.parquet as pq
for path in (ATTACK, HONEST):
    f = pq.ParquetFile(path)
    names = f.schema_arrow.names[1:]
    out = np.empty((f.metadata.num_rows, len(names)), order="F")
    for i, name in enumerate(names):
        at = 0
        for g in range(f.num_row_groups):
            v = f.read_row_group(g, columns=[name]).column(0).to_numpy()
            out[at : at + len(v), i] = v
            at += len(v)
print(out.shape[1], out.shape[0])
"""

PANDAS = """
import numpy as np, pandas as pd
from itertools import combinations
from sklearn.metrics import roc_auc_score
a = pd.read_parquet(ATTACK).set_index("case")
h = pd.read_parquet(HONEST).set_index("case")
budgets = np.unique(np.r_[np.geomspace(0.001, 0.2, 50), [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2]])
t = {c: np.percentile(h[c].to_numpy(), 100 - 100 * budgets) for c in h.columns}
tpr = {c: [(a[c].to_numpy() > x).mean() for x in t[c]] for c in h.columns}
y = np.r_[np.zeros(len(h)), np.ones(len(a))]
auc = {c: roc_auc_score(y, np.r_[h[c].to_numpy(), a[c].to_numpy()]) for c in h.columns}
at = {c: np.percentile(h[c].to_numpy(), 99) for c in h.columns}
miss = pd.DataFrame({c: a[c].to_numpy() <= at[c] for c in h.columns})
pairs = {(p, q): (miss[p] & miss[q]).mean() for p, q in combinations(miss.columns, 2)}
all_miss = miss.all(axis=1).mean()
curve = [np.all(np.stack([a[c].to_numpy() <= t[c][j] for c in h.columns]), axis=0).mean()
         for j in range(len(budgets))]
print(len(pairs), all_miss, np.prod(miss.mean().to_numpy()))
"""

COFAIL = """
import subprocess, sys, json
from cofail.cli import main
sys.argv = ["cofail", "scores", ATTACK, "--wide", "--honest", HONEST, "--budget", "1%", "-f", "json"]
import io, contextlib
buf = io.StringIO()
with contextlib.redirect_stdout(buf):
    code = main(sys.argv[1:])
d = json.loads(buf.getvalue())
print(code, d["stack"]["all_miss"], d["stack"]["independent"], d["combination"]["tpr"],
      d["combination"]["out_of_sample"]["tpr"], len(d["curve"]), len(d["pairs"]))
"""


def run(
    code: str, attack: Path, honest: Path, env: dict[str, str], prelude: str = ""
) -> tuple[float, float, str]:
    """Run ``code`` in a fresh interpreter, after ``prelude`` (untimed); return (seconds, peak
    RSS in MiB, stdout)."""
    program = (
        "import time\n" + prelude + f"ATTACK = {str(attack)!r}\nHONEST = {str(honest)!r}\n"
        "t0 = time.perf_counter()\n" + code + "\nprint('ELAPSED', time.perf_counter() - t0)\n"
        # VmHWM, not ru_maxrss: Linux carries ru_maxrss across fork and exec.
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
        "print('RSS', int(hwm.split()[1]) / 1024)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True, env=env
    ).stdout
    lines = out.strip().splitlines()
    seconds = float(next(x for x in lines if x.startswith("ELAPSED")).split()[1])
    rss = float(next(x for x in lines if x.startswith("RSS")).split()[1])
    return seconds, rss, "\n".join(x for x in lines if not x.startswith(("ELAPSED", "RSS")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000_000, help="cases per set")
    parser.add_argument("--layers", type=int, default=8)
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "cofail-bench")
    parser.add_argument(
        "--no-pandas", action="store_true", help="skip the pandas baseline (about 90 s at 10M)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs of each read and of cofail")
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="keep the environment's PYTHONDONTWRITEBYTECODE (cofail compiled on every run)",
    )
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    stem = f"scores-{args.cases}x{args.layers}"
    attack, honest = args.data / f"{stem}-attack.parquet", args.data / f"{stem}-honest.parquet"
    if not attack.exists():
        make_log(attack, args.cases, args.layers, 1.0, seed=1)
    if not honest.exists():
        make_log(honest, args.cases, args.layers, 0.0, seed=2)
    runs = [("read", READ), ("read-rg", READ_RG), ("cofail", COFAIL)] * args.repeat
    runs += [] if args.no_pandas else [("pandas", PANDAS)]
    times: dict[str, list[float]] = {}
    results: dict[str, dict[str, object]] = {}
    cache = tempfile.TemporaryDirectory()
    env = bytecode_env(Path(cache.name), keep=args.no_bytecode_cache)
    # cofail runs as an installed command does, from bytecode compiled before the clock
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "src" / "cofail")],
                   env=env, check=True)  # fmt: skip
    for name, code in runs:
        prelude = PRELUDE if name.startswith("read") else ""
        seconds, rss, out = run(code, attack, honest, env, prelude)
        times.setdefault(name, []).append(seconds)
        results[name] = {"peak_mib": round(rss), "out": out}
        print(f"{name:7s} {seconds:8.2f} s  {rss:8.0f} MiB   {out.splitlines()[-1][:110]}")
    for name, ts in times.items():
        results[name]["seconds"] = [round(t, 2) for t in ts]
    median = {k: float(np.median(v)) for k, v in times.items()}
    fastest = {k: min(v) for k, v in times.items()}
    for base in ("read", "read-rg"):
        print(
            f"cofail / {base}: medians {median['cofail']:.2f} / {median[base]:.2f} s = "
            f"{median['cofail'] / median[base]:.2f}×, fastest {fastest['cofail']:.2f} / "
            f"{fastest[base]:.2f} s = {fastest['cofail'] / fastest[base]:.2f}×"
        )
    if not args.no_pandas:
        print(f"pandas / cofail (median) = {median['pandas'] / median['cofail']:.2f}×")
    print(f"cofail peak {results['cofail']['peak_mib']} MiB")
    print(json.dumps({"cases": args.cases, "layers": args.layers, **results}, indent=1))


if __name__ == "__main__":
    main()

"""Benchmark: coverage of `cofail fit`'s intervals on the catalog's own structure (issue 29).

Logs simulated from the built-in catalog (every failure mode at p = 0.08, residual 0.03, U
cells at q = 1, so every q's truth is 1), each fitted back with q free or with --binary; per
log, every interval the fit marks identified is checked against the truth. Prints, per
structure and sample size, how many intervals were marked identified, how many of those missed
the truth, and how many were marked not identified; then each miss. Not run in CI (about 5 s a
log at 200,000 cases).

Run:

    .venv/bin/python benchmarks/fit_coverage.py [--logs 10] [--cases 200000] [--binary]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from cofail import catalog
from cofail.empirical import LogSpec, histogram_from_arrow, simulate
from cofail.fit import fit_matrix
from cofail.model import Stack
from cofail.probability import Scenario

P, R = 0.08, 0.03


def _truths(data: dict[str, Any]) -> list[tuple[str, dict[str, Any], float]]:
    """Each reported quantity with its true value."""
    out = []
    for g in data["modes"]:
        k = len(g["modes"])  # a group's p is P(any of its k modes present)
        out.append((f"p {'+'.join(g['modes'])}", g, 1 - (1 - P) ** k))
    for c in data["cells"]:
        if "identified" in c:  # not held by --binary
            out.append((f"q {c['layer']} x {'+'.join(c['modes'])}", c, 1.0))
    out += [(f"r {lid}", v, R) for lid, v in data["residuals"].items()]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logs", type=int, default=10)
    parser.add_argument("--cases", type=int, nargs="+", default=[200_000])
    parser.add_argument("--binary", action="store_true")
    args = parser.parse_args()
    m = catalog.load("dung-mai-2025")
    scenario = Scenario(p_default=P, residual_default=R)
    for cases in args.cases:
        identified = missed = loose = 0
        misses = []
        seconds = []
        for seed in range(args.logs):
            log = simulate(m, Stack(layers=m.layer_ids), scenario, cases, seed=seed)
            histogram = histogram_from_arrow(log, LogSpec(wide=True), f"seed {seed}")
            start = time.perf_counter()
            data = fit_matrix(histogram, m, binary=args.binary).to_dict()
            seconds.append(time.perf_counter() - start)
            for name, item, truth in _truths(data):
                lo, hi = item["interval"]
                if not item["identified"]:
                    loose += 1
                    continue
                identified += 1
                if not lo - 1e-9 <= truth <= hi + 1e-9:
                    missed += 1
                    misses.append(f"  seed {seed}: {name} [{lo:.4g}, {hi:.4g}] ({item['method']})")
        print(
            f"{'--binary' if args.binary else 'free q'}, {cases:,} cases, {args.logs} logs: "
            f"{identified} intervals marked identified, {missed} missed the truth "
            f"({100 * missed / max(identified, 1):.1f}%); {loose} marked not identified; "
            f"fit {min(seconds):.1f}-{max(seconds):.1f} s"
        )
        print("\n".join(misses))


if __name__ == "__main__":
    main()

"""Benchmark: do `cofail scores`'s 95 % intervals cover what they claim, on monitors like the
ones users start from? Not run in CI (about a minute per 100 logs).

Each simulated log: three monitors whose scores on honest and on attack cases are Gaussian with
a shared factor (correlation ``rho`` between monitors), attack means ``MU``, the sizes of Hua et
al.'s public set (1,140 honest, 318 attack cases) or ten times more; thresholds at a 2 %
false-positive budget by ControlArena's rule. Known in closed form (the honest marginals are
N(0, 1)):

- each monitor's AUC, Φ(μ / √2);
- each monitor's catch rate at the *population* threshold z₀.₉₈: 1 − Φ(z₀.₉₈ − μ);
- the share of attacks all three miss, at the population thresholds (a trivariate normal CDF),
  and at the thresholds the log itself produced (the same CDF at the estimated thresholds).
  The stack's ``interval`` (a pattern bootstrap of the attack cases) speaks of the second; its
  ``interval_at_budget`` (both sets resampled, thresholds re-derived) of the first;
- each pair's share of attacks both miss, likewise with both intervals.

Prints, per quantity, the share of logs whose interval holds the truth, with its Monte-Carlo
standard error (200 logs: ±1.5 points at 95 %), and the median width.

Run:

    .venv/bin/python benchmarks/scores_coverage.py [--logs 200] [--scale 1] [--rho 0.5]
"""

from __future__ import annotations

import argparse
import math
from collections import defaultdict

import numpy as np
from scipy.stats import multivariate_normal, norm

from cofail.empirical import LogSpec, ScoredLog
from cofail.scores import analyse_scores

MU = np.array([1.5, 1.2, 1.0])
BUDGET = 0.02


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logs", type=int, default=200)
    parser.add_argument("--scale", type=int, default=1, help="times 1,140 honest, 318 attack")
    parser.add_argument("--rho", type=float, default=0.5)
    parser.add_argument("--n-boot", type=int, default=1000)
    args = parser.parse_args()
    d = len(MU)
    cov = args.rho * np.ones((d, d)) + (1 - args.rho) * np.eye(d)
    n_h, n_a = 1140 * args.scale, 318 * args.scale
    t_pop = float(norm.ppf(1 - BUDGET))
    truth = {f"AUC {i}": float(norm.cdf(MU[i] / math.sqrt(2))) for i in range(d)}
    truth |= {f"TPR {i}": float(1 - norm.cdf(t_pop - MU[i])) for i in range(d)}
    truth["all miss, population thresholds"] = float(
        multivariate_normal(MU, cov).cdf(np.full(d, t_pop))
    )
    hits: dict[str, list[bool]] = defaultdict(list)
    widths: dict[str, list[float]] = defaultdict(list)
    rng = np.random.default_rng(2026)
    for _ in range(args.logs):
        h = rng.multivariate_normal(np.zeros(d), cov, size=n_h)
        a = rng.multivariate_normal(MU, cov, size=n_a)
        log = ScoredLog(
            tuple(f"m{i}" for i in range(d)),
            np.asfortranarray(h),
            np.asfortranarray(a),
            (False,) * d,
            "simulated",
            "simulated",
        )
        r = analyse_scores(
            log, LogSpec(budget=BUDGET), n_boot=args.n_boot, budgets=(BUDGET,), combine_rule=None
        ).to_dict()
        t_hat = np.array([x["threshold"] for x in r["layers"]])
        found: dict[str, tuple[float, list[float]]] = {}
        for i, x in enumerate(r["layers"]):
            found[f"AUC {i}"] = (truth[f"AUC {i}"], x["auc_interval"])
            found[f"TPR {i}"] = (truth[f"TPR {i}"], x["tpr_interval"])
        observed = r["stack"]["interval"]["observed"]
        found["all miss, population thresholds"] = (
            truth["all miss, population thresholds"],
            observed,
        )
        found["all miss, the log's thresholds"] = (
            float(multivariate_normal(MU, cov).cdf(t_hat)),
            observed,
        )
        found["all miss at budget (re-derived), population"] = (
            truth["all miss, population thresholds"],
            r["stack"]["interval_at_budget"]["all_miss"],
        )
        for p in r["pairs"]:
            i, j = int(p["a"][1:]), int(p["b"][1:])
            pair = multivariate_normal(MU[[i, j]], cov[np.ix_([i, j], [i, j])])
            found[f"both miss {i}{j}, the log's thresholds"] = (
                float(pair.cdf(t_hat[[i, j]])),
                p["both_miss_interval"],
            )
            found[f"both miss {i}{j} at budget (re-derived), population"] = (
                float(pair.cdf(np.full(2, t_pop))),
                p["both_miss_interval_at_budget"],
            )
        for name, (value, (lo, hi)) in found.items():
            hits[name].append(lo <= value <= hi)
            widths[name].append(hi - lo)
    print(
        f"{args.logs} logs, {n_h:,} honest and {n_a:,} attack cases, rho {args.rho}, budget "
        f"{BUDGET:.0%}, {args.n_boot} bootstrap resamples"
    )
    print(f"{'quantity':42s} {'coverage':>9s} {'± s.e.':>7s} {'median width':>13s}")
    for name in [*truth, *sorted(set(hits) - set(truth))]:
        if name not in hits:
            continue
        c = float(np.mean(hits[name]))
        se = math.sqrt(c * (1 - c) / len(hits[name]))
        print(f"{name:42s} {c:9.3f} {se:7.3f} {float(np.median(widths[name])):13.4f}")


if __name__ == "__main__":
    main()

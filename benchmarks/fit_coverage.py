"""Benchmark: coverage of `cofail fit`'s 95 % intervals, measured (issue 29, item 3).

Logs are simulated from known parameters and fitted back; per log, every reported quantity
(each p, q and r, and P(stack fails) for two stacks) is checked against its truth. Four
structures:

- ``catalog``: the built-in catalog, every mode at p = 0.08, residual 0.03, U cells at q = 1
  (every q's truth is 1), fitted with q free (the issue's case);
- ``catalog-binary``: the same logs fitted with ``--binary``;
- ``random``: a random 6 × 5 matrix (seeded) with graded q, p and r;
- ``collinear``: two modes whose columns are nearly collinear, and a third.

Each log is one JSON line in ``--out`` (appended and flushed as it is made, so a partial run
is never lost; a rerun skips what the file already holds). ``--report`` reads the file and
prints, per structure, sample size and quantity: how many logs, how often the fit marked the
quantity identified, the coverage of the intervals so marked (with one binomial standard error
at the nominal 95 %, 1.5 points for 200 logs), the coverage of all its intervals, and the
median width; flagged "(low)" under 93 %, "(low, beyond 3 s.e.)" under 95 % − 3 s.e. (the 93-97
band is only ±1.3 s.e. at 200 logs: an exact 95 % falls outside it one time in five), and the
pooled coverage per kind (p, q, r, P). Not run in CI (15-60 s a fit with every check).

Run (nice, one thread, in the background: 200 logs of every structure at both sizes take
about ten hours on one core; ``--round-robin`` spreads a shorter run over them):

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 nice -n 19 .venv/bin/python \\
        benchmarks/fit_coverage.py --out /tmp/fit_coverage.jsonl --logs 200
    .venv/bin/python benchmarks/fit_coverage.py --out /tmp/fit_coverage.jsonl --report

``--calibrate N`` fits with ``fit --calibrate N`` (the records keyed by it, so one file holds
both); with ``--truth-ratio`` it records, beside the statistic at the truth, each parameter's
bootstrap factor at the optimum, and the report gives the coverage an exact profile interval at
the calibrated cutoff would have.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cofail import catalog
from cofail.empirical import LogSpec, histogram_from_arrow, simulate
from cofail.fit import check_matrix, fit_matrix
from cofail.fit._calibration import bartlett_factors
from cofail.fit._estimate import predicted_failure
from cofail.fit._fit import model_structure
from cofail.fit._groups import group_modes
from cofail.fit._latent import Params, em, fixed, quasi_newton
from cofail.model import Matrix, Stack
from cofail.probability import Scenario

LEVEL = 0.95
SIZES = (20_000, 200_000)


@dataclass(frozen=True)
class Design:
    """A structure to simulate from and fit back."""

    name: str
    simulate_from: Matrix
    """Graded at the truth (or V/U with the scenario's p and r)."""
    fit_with: Matrix
    scenario: Scenario
    binary: bool
    stacks: tuple[tuple[str, ...], ...]


def _matrix(name: str, q: dict[tuple[str, str], float | str], layers: list[str],
            modes: list[str]) -> Matrix:  # fmt: skip
    return Matrix.model_validate(
        {
            "id": name,
            "failure_modes": [{"id": m} for m in modes],
            "layers": [{"id": x} for x in layers],
            "cells": {x: {m: q.get((x, m), "N") for m in modes} for x in layers},
        }
    )


def _random_design() -> Design:
    """A random 6 × 5 matrix: each cell exposed with probability 0.6, q uniform in
    [0.4, 0.95], p in [0.1, 0.3], r in [0.01, 0.08]; drawn from seed 2029 until every mode is
    on three layers at least, no two columns are alike and the structure check finds every
    parameter identified, its weakest direction at least 0.003 of the strongest (weaker ones
    make each fit take a minute)."""
    rng = np.random.default_rng(2029)
    layers, modes = [f"L{i + 1}" for i in range(6)], [f"M{j + 1}" for j in range(5)]
    while True:
        support = rng.random((6, 5)) < 0.6
        columns = {tuple(c) for c in support.T}
        if support.sum(axis=0).min() < 3 or len(columns) < 5:
            continue
        q = {
            (layers[i], modes[j]): round(float(rng.uniform(0.4, 0.95)), 2)
            for i, j in zip(*np.nonzero(support), strict=True)
        }
        check = check_matrix(_matrix("random-6x5", q, layers, modes))
        if check.trade_offs == () and (check.weakest or 0.0) >= 3e-3:
            break
    p = {m: round(float(rng.uniform(0.1, 0.3)), 3) for m in modes}
    r = {x: round(float(rng.uniform(0.01, 0.08)), 3) for x in layers}
    m = _matrix("random-6x5", q, layers, modes)
    return Design(
        "random", m, m, Scenario(p_mode=p, residual_layer=r), False,
        (tuple(layers), tuple(layers[:3])),
    )  # fmt: skip


def _collinear_design() -> Design:
    """Two modes, A and B, whose columns are nearly collinear (B is A with its q moved by
    0.05 and a weak exposure of L5), and C, exposed apart."""
    layers, modes = [f"L{i + 1}" for i in range(5)], ["A", "B", "C"]
    q: dict[tuple[str, str], float | str] = {
        ("L1", "A"): 0.8, ("L2", "A"): 0.7, ("L3", "A"): 0.6, ("L4", "A"): 0.5,
        ("L1", "B"): 0.75, ("L2", "B"): 0.7, ("L3", "B"): 0.65, ("L4", "B"): 0.5,
        ("L5", "B"): 0.1,
        ("L3", "C"): 0.6, ("L4", "C"): 0.7, ("L5", "C"): 0.8,
    }  # fmt: skip
    m = _matrix("collinear", q, layers, modes)
    scenario = Scenario(
        p_mode={"A": 0.1, "B": 0.1, "C": 0.15},
        residual_layer={"L1": 0.03, "L2": 0.05, "L3": 0.02, "L4": 0.04, "L5": 0.03},
    )
    return Design("collinear", m, m, scenario, False, (tuple(layers), ("L1", "L2")))


def designs() -> dict[str, Design]:
    """Return the structures of the study by name."""
    m = catalog.load("dung-mai-2025")
    scenario = Scenario(p_default=0.08, residual_default=0.03)
    stacks = (tuple(m.layer_ids), ("RLHF", "DEBATE", "RE", "SCI-AI"))
    return {
        "catalog": Design("catalog", m, m, scenario, False, stacks),
        "catalog-binary": Design("catalog-binary", m, m, scenario, True, stacks),
        "random": _random_design(),
        "collinear": _collinear_design(),
    }


def _truth(design: Design, groups: tuple[tuple[str, ...], ...], layers: tuple[str, ...]) -> Params:
    """Return the true parameters in the fit's groups (a group of k modes, each with q = 1
    wherever the group is exposed, has p = P(any present): exact)."""
    q, p, r = design.scenario.arrays(design.simulate_from, Stack(layers=layers))
    ids = design.simulate_from.mode_ids
    group_p = np.array([1 - np.prod([1 - p[ids.index(x)] for x in g]) for g in groups])
    group_q = np.column_stack([q[:, ids.index(g[0])] for g in groups])
    return Params(group_p, group_q, r)


def one_log(design: Design, cases: int, seed: int, calibrate: int = 0) -> dict[str, Any]:
    """Return the record of one simulated log fitted back (with ``calibrate`` bootstrap logs
    calibrating the cutoff, ``fit --calibrate``): every quantity with its truth."""
    layers = design.simulate_from.layer_ids
    table = simulate(design.simulate_from, Stack(layers=layers), design.scenario, cases, seed=seed)
    histogram = histogram_from_arrow(table, LogSpec(wide=True), f"seed {seed}")
    start = time.perf_counter()
    fitted = fit_matrix(histogram, design.fit_with, binary=design.binary, calibrate=calibrate)
    data = fitted.to_dict()
    # The full stack's prediction is in the JSON already (its profile costs a few fits).
    predictions = [data["prediction"], *(fitted.predict(s) for s in design.stacks[1:])]
    seconds = time.perf_counter() - start
    truth = _truth(design, fitted.groups.groups, fitted.layers)
    items = []
    for g, item in enumerate(data["modes"]):
        items.append(_item(f"p {'+'.join(item['modes'])}", item, "p", float(truth.p[g])))
    for item in data["cells"]:
        if "identified" in item:  # not held by --binary
            i, g = (
                fitted.layers.index(item["layer"]),
                fitted.groups.groups.index(tuple(item["modes"])),
            )
            name = f"q {item['layer']} x {'+'.join(item['modes'])}"
            items.append(_item(name, item, "q", float(truth.q[i, g])))
    for i, (lid, item) in enumerate(data["residuals"].items()):
        items.append(_item(f"r {lid}", item, "r", float(truth.r[i])))
    for stack, item in zip(design.stacks, predictions, strict=True):
        index = np.array([fitted.layers.index(x) for x in stack])
        value = predicted_failure(truth, index)
        name = "P(all fail)" if len(stack) == len(layers) else f"P({','.join(stack)} fail)"
        lo, hi = item["interval"]
        items.append(
            {
                "name": name,
                "kind": "P",
                "truth": value,
                "estimate": item["p_fails"],
                "interval": [lo, hi],
                "identified": bool(item.get("identified", lo is not None)),
                "method": item["method"],
            }
        )
    return {
        "structure": design.name,
        "cases": cases,
        "seed": seed,
        "seconds": seconds,
        "loglik": data["loglik"],
        "calibrate": calibrate,
        "items": items,
    }


def truth_ratios(design: Design, cases: int, seed: int, calibrate: int = 0) -> dict[str, Any]:
    """Return the record of one simulated log's likelihood-ratio statistics at the truth: per
    free parameter, 2 (ℓ̂ − ℓ) with it held at its true value and the others re-maximised;
    with ``calibrate``, also each interior parameter's bootstrap factor at the optimum (the
    mean statistic over that many logs drawn from it, ``fit --calibrate``'s).

    An exact profile-likelihood interval covers where the statistic is under the χ²₁
    quantile, so these say what coverage any interval of the likelihood ratio could reach,
    independently of the fit's own machinery: the optimum is EM from the truth (at most
    3,000 steps) climbed on by quasi-Newton; each held maximum the better of quasi-Newton
    from the truth and from the optimum. Where the fit finds a likelier optimum elsewhere
    (several local maxima), the statistic here is understated.
    """
    layers = design.simulate_from.layer_ids
    table = simulate(design.simulate_from, Stack(layers=layers), design.scenario, cases, seed=seed)
    histogram = histogram_from_arrow(table, LogSpec(wide=True), f"seed {seed}")
    patterns, counts = histogram.pooled()
    bits = np.ascontiguousarray(histogram.bits(patterns))
    groups = group_modes(design.fit_with, histogram.layers)
    s = model_structure(groups, binary=design.binary)
    truth = _truth(design, groups.groups, histogram.layers)
    start = time.perf_counter()
    em_end, _, _ = em(truth, s, bits, counts, max_iter=3000)
    optimum, loglik = quasi_newton(em_end, s, bits, counts)
    names = [f"p {'+'.join(g)}" for g in groups.groups]
    names += [
        f"q {histogram.layers[i]} x {'+'.join(groups.groups[j])}"
        for i, j in zip(*np.nonzero(s.q_free), strict=True)
    ]
    names += [f"r {lid}" for lid in histogram.layers]
    values = truth.vector(s)
    ratios = {}
    for k, name in enumerate(names):
        best = -np.inf
        for begin in (truth, optimum):
            held, point = fixed(s, k, float(values[k]), begin)
            best = max(best, quasi_newton(point, held, bits, counts)[1])
        ratios[name] = max(0.0, 2 * (loglik - best))
    record: dict[str, Any] = {
        "structure": design.name,
        "cases": cases,
        "seed": seed,
        "seconds": time.perf_counter() - start,
        "loglik": loglik,
        "ratios": ratios,
    }
    if calibrate:
        theta = optimum.vector(s)
        which = tuple(int(k) for k in np.flatnonzero((theta > 1e-5) & (theta < 1 - 1e-5)))
        c = bartlett_factors(optimum, s, bits, counts, which, calibrate, seed)
        record["calibrate"] = calibrate
        record["factors"] = {names[k]: f for k, f in zip(c.which, c.factors, strict=True)}
        record["seconds"] = time.perf_counter() - start
    return record


def truth_report(path: Path) -> str:
    """Return the coverage an exact profile-likelihood interval would have, per quantity, from
    the ``--truth-ratio`` records in ``path`` (markdown)."""
    cutoff = 3.841458820694124
    by: dict[tuple[str, int, int], dict[str, list[tuple[float, float]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for rec in _records(path):
        factors = rec.get("factors", {})
        key = (rec["structure"], rec["cases"], rec.get("calibrate", 0))
        for name, w in rec["ratios"].items():
            # A parameter on the boundary at the optimum is not calibrated: factor 1.
            by[key][name].append((w, max(1.0, factors.get(name, 1.0))))
    lines = []
    for key, quantities in by.items():
        n = len(next(iter(quantities.values())))
        se = 100 * np.sqrt(LEVEL * (1 - LEVEL) / n)
        pooled = np.array([x for xs in quantities.values() for x in xs])
        calibrated = key[2] > 0
        lines += [
            f"### {key[0]}, {key[1]:,} cases: {n} logs, exact profile likelihood ratio at the truth"
            + (
                f", cutoff calibrated by {key[2]} bootstrap logs at the optimum"
                if calibrated
                else ""
            ),
            "",
            f"Pooled: {100 * np.mean(pooled[:, 0] < cutoff):.1f}% under the cutoff"
            + (
                f", {100 * np.mean(pooled[:, 0] < cutoff * pooled[:, 1]):.1f}% under the "
                "calibrated cutoff"
                if calibrated
                else ""
            )
            + f"; one quantity's standard error {se:.1f}.",
            "",
            "| quantity | covers | mean statistic (χ²₁: 1) |"
            + (" covers, calibrated | mean factor (≥ 1) |" if calibrated else ""),
            "|---|---|---|" + ("---|---|" if calibrated else ""),
        ]
        for name, xs in quantities.items():
            ws, fs = np.array(xs).T
            cells = [_rated(100 * np.mean(ws < cutoff), se), f"{np.mean(ws):.2f}"]
            if calibrated:
                cells += [_rated(100 * np.mean(ws < cutoff * fs), se), f"{np.mean(fs):.2f}"]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def _rated(rate: float, se: float) -> str:
    flag = " **(low, beyond 3 s.e.)**" if rate < 95 - 3 * se else (" (low)" if rate < 93 else "")
    return f"{rate:.1f}{flag}"


def _item(name: str, item: dict[str, Any], kind: str, truth: float) -> dict[str, Any]:
    return {
        "name": name,
        "kind": kind,
        "truth": truth,
        "estimate": item.get(kind, item.get("q")),
        "interval": item["interval"],
        "identified": bool(item["identified"]),
        "method": item["method"],
        "note": item.get("note", ""),
    }


def _records(path: Path) -> Iterator[dict[str, Any]]:
    if path.exists():
        for line in path.read_text().splitlines():
            if line.strip():
                yield json.loads(line)


def covers(item: dict[str, Any]) -> bool:
    """Return whether the item's interval holds its truth (an interval of ``None``: no)."""
    lo, hi = item["interval"]
    if lo is None or hi is None:
        return False
    t = item["truth"]
    return bool(lo - 1e-9 <= t <= hi + 1e-9)


def report(path: Path, structures: list[str] | None = None) -> str:
    """Return the coverage table (markdown) of the records in ``path``."""
    by: dict[tuple[str, int, int], dict[str, list[dict[str, Any]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    seconds: dict[tuple[str, int, int], list[float]] = defaultdict(list)
    commits: set[str] = set()
    for rec in _records(path):
        key = (rec["structure"], rec["cases"], rec.get("calibrate", 0))
        seconds[key].append(rec["seconds"])
        commits.add(rec.get("commit", "?"))
        for item in rec["items"]:
            by[key][item["name"]].append(item)
    lines = [f"records from commit(s) {', '.join(sorted(commits))}", ""]
    order = list(designs()) if structures is None else structures
    for key in sorted(by, key=lambda k: (order.index(k[0]) if k[0] in order else 99, k[1], k[2])):
        if structures is not None and key[0] not in structures:
            continue
        t = np.array(seconds[key])
        lines += [
            f"### {key[0]}, {key[1]:,} cases"
            + (f", --calibrate {key[2]}" if key[2] else "")
            + f": {len(t)} logs, fit {np.median(t):.1f} s median ({t.min():.1f}-{t.max():.1f})",
            "",
            "| quantity | truth | identified | covers (identified) | covers (all) | median width "
            "(identified) |",
            "|---|---|---|---|---|---|",
        ]
        total = [0, 0]
        pooled: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        by_method: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for name, items in by[key].items():
            n = len(items)
            ident = [x for x in items if x["identified"]]
            hit = sum(covers(x) for x in ident)
            total[0] += len(ident)
            total[1] += hit
            se = 100 * np.sqrt(LEVEL * (1 - LEVEL) / max(len(ident), 1))
            widths = [x["interval"][1] - x["interval"][0] for x in ident]
            flag = ""
            if ident:
                rate = 100 * hit / len(ident)
                if rate < 100 * LEVEL - 3 * se:
                    flag = " **(low, beyond 3 s.e.)**"
                elif rate < 93:
                    flag = " (low)"
                elif rate > 97:
                    flag = " (high)"
            kind = items[0]["kind"]
            pooled[kind][0] += len(ident)
            pooled[kind][1] += hit
            for x in ident:
                how = f"{kind} {_method(x['method'])}"
                by_method[how][0] += 1
                by_method[how][1] += covers(x)
            lines.append(
                f"| {name} | {items[0]['truth']:.4g} | {len(ident)}/{n} | "
                + (f"{100 * hit / len(ident):.1f} ± {se:.1f}{flag}" if ident else "–")
                + f" | {100 * sum(covers(x) for x in items) / n:.1f} | "
                + (f"{np.median(widths):.3g}" if widths else "–")
                + " |"
            )
        if total[0]:
            kinds = "; ".join(
                f"{kind} {100 * hit / n:.1f}% of {n}" for kind, (n, hit) in pooled.items() if n
            )
            methods = "; ".join(
                f"{how} {100 * hit / n:.1f}% of {n}" for how, (n, hit) in sorted(by_method.items())
            )
            lines += [
                "",
                f"All identified: {total[1]} of {total[0]} cover "
                f"({100 * total[1] / total[0]:.1f}%); by kind: {kinds}.",
                f"By kind and interval: {methods}.",
            ]
        lines.append("")
    return "\n".join(lines)


def _method(method: str) -> str:
    """The kind of interval a method string names: Wald, profile, or profile along a ridge."""
    if "calibrated cutoff" in method:
        return "profile, calibrated"
    if method.startswith("observed information"):
        return "Wald"
    return "profile, ridge" if "ridge" in method else "profile"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/fit_coverage.jsonl"))
    parser.add_argument("--logs", type=int, default=200)
    parser.add_argument(
        "--plan",
        nargs="+",
        default=[
            "catalog-binary:20000", "catalog:20000", "random:20000", "collinear:20000",
            "catalog-binary:200000", "catalog:200000", "random:200000", "collinear:200000",
        ],
        help="structure:cases, run in this order (the cheap ones first)",
    )  # fmt: skip
    parser.add_argument(
        "--round-robin",
        type=int,
        default=0,
        metavar="B",
        help="run the plan B logs at a time, round after round (each step gets logs as the "
        "time allows) instead of each step's logs in full before the next",
    )
    parser.add_argument("--report", action="store_true", help="print the table and stop")
    parser.add_argument(
        "--truth-ratio",
        action="store_true",
        help="record (or with --report, tabulate) the likelihood-ratio statistic at the truth "
        "per quantity instead of fitting: what coverage an exact profile interval would have",
    )
    parser.add_argument("--structures", nargs="+", default=None)
    parser.add_argument(
        "--calibrate",
        type=int,
        default=0,
        metavar="N",
        help="fit with --calibrate N (or, with --truth-ratio, record each parameter's bootstrap "
        "factor at the optimum from N logs); records are keyed by it",
    )
    args = parser.parse_args()
    if args.report:
        print(truth_report(args.out) if args.truth_ratio else report(args.out, args.structures))
        return
    done = {
        (r["structure"], r["cases"], r["seed"], r.get("calibrate", 0)) for r in _records(args.out)
    }
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    all_designs = designs()
    batch = args.round_robin or args.logs
    with args.out.open("a") as out:
        for first in range(0, args.logs, batch):
            for step in args.plan:
                name, cases = step.split(":")
                for seed in range(first, min(first + batch, args.logs)):
                    if (name, int(cases), seed, args.calibrate) in done:
                        continue
                    make = truth_ratios if args.truth_ratio else one_log
                    record = make(all_designs[name], int(cases), seed, args.calibrate)
                    record["commit"] = commit
                    out.write(json.dumps(record) + "\n")
                    out.flush()


if __name__ == "__main__":
    main()

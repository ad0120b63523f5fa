"""Terminal tables of a fault tree's analysis (``cofail mef``), from its result object."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cofail.report.tabular import Table

if TYPE_CHECKING:
    from cofail.faulttree import FaultTreeResult

__all__ = ["fault_tree_tables"]

IMPORTANCE_ROWS = 25
"""Basic events listed per top in the importance table; JSON has them all."""


def fault_tree_tables(result: FaultTreeResult) -> list[Table]:
    """Return the tables of ``result``: top-event probabilities, then each analysis it holds.

    >>> from cofail.faulttree import FaultTree, Formula, solve
    >>> a, b = (Formula("event", name=n, kind="basic-event") for n in "ab")
    >>> tree = FaultTree(gates={"top": Formula("or", (a, b))}, basic_events={"a": 0.1, "b": 0.2})
    >>> [t.title for t in fault_tree_tables(solve(tree, cut_sets=1))]
    ['Top-event probability', 'Minimal cut sets up to order 1']
    """
    unfinished = result.unfinished
    notes = [f"{result.gates} gates, {result.basic_events} basic events; {result.engine}"]
    if unfinished:
        notes.append(
            f"'-': the exact solve did not finish within --time-limit {result.time_limit:g} s"
        )
    tables = [
        Table(
            "Top-event probability",
            ["top", "probability", "BDD nodes", "modules", "variable order"],
            [
                [t, None, None, None, None]
                if r is None
                else [t, r.probability, r.nodes, r.modules, r.order]
                for t, r in result.exact.items()
            ],
            notes=[*notes, *result.assumptions],
        )
    ]
    if result.monte_carlo is not None:
        tables.append(_monte_carlo_table(result))
    if result.cut_set_order is not None:
        tables.append(
            Table(
                f"Minimal cut sets up to order {result.cut_set_order}",
                ["top", "order", "count"],
                [[s.top, k, v] for s in result.cut_sets for k, v in sorted(s.counts.items())],
                notes=(
                    [f"not listed for {', '.join(unfinished)}: its exact solve did not finish"]
                    if unfinished
                    else []
                ),
            )
        )
    for top, factors in (result.importance or {}).items():
        more = len(factors) - IMPORTANCE_ROWS
        tables.append(
            Table(
                f"Importance of the basic events below {top} (largest MIF first)",
                ["event", "p", "MIF", "CIF", "DIF", "RAW", "RRW"],
                [
                    [f.event, f.p, f.mif, f.cif, f.dif, f.raw, f.rrw]
                    for f in factors[:IMPORTANCE_ROWS]
                ],
                notes=[
                    "as SCRAM defines them: MIF = P(e=1) - P(e=0); CIF = p MIF / P; "
                    "DIF = p P(e=1) / P; RAW = P(e=1) / P; RRW = P / P(e=0), '-' where "
                    "P(e=0) = 0 (infinite; null in JSON, 0 in SCRAM); MIF is computed as dP/dp, "
                    "equal to it since P is linear in p"
                    + (f"; {more} more in --format json" if more > 0 else "")
                ],
            )
        )
    if result.uncertainty_trials is not None:
        rows: list[list[object]] = []
        for u in result.uncertainty:
            pct = u.percentiles
            rows.append([u.top, u.mean, u.sd, pct["5"], pct["50"], pct["95"]])
        tables.append(
            Table(
                f"Uncertainty: {result.uncertainty_trials} trials, seed {result.seed}",
                ["top", "mean", "sd", "5%", "median", "95%"],
                rows,
                notes=[
                    "deviates and histograms drawn from their distributions, parameters once "
                    "per trial; every trial's P(top) exact on the same BDDs"
                ],
            )
        )
    return tables


def _monte_carlo_table(result: FaultTreeResult) -> Table:
    """Each top's simulated estimate, and whether its exact probability lies in the interval."""
    rows: list[list[object]] = []
    for top, mc in (result.monte_carlo or {}).items():
        exact = result.exact_probability(top)
        low, high = mc.interval
        agrees = "-" if exact is None else "yes" if mc.covers(exact) else "NO"
        rows.append([top, mc.estimate, low, high, mc.hits, agrees])
    runs = list((result.monte_carlo or {}).values())
    # Tops can have run different numbers of trials: a time limit stops each where it stands.
    counts = sorted({mc.samples for mc in runs})
    trials = f"{counts[0]:,}" if len(counts) == 1 else f"{counts[0]:,} to {counts[-1]:,}"
    notes = []
    stopped = [mc for mc in runs if mc.requested is not None]
    if stopped:
        notes.append(
            f"--time-limit {result.time_limit:g} s stopped the trials before the "
            f"{stopped[0].requested:,} asked for; the same seed repeats the same first trials"
        )
    return Table(
        f"Monte Carlo: {trials} trials, seed {result.seed}",
        ["top", "estimate", "95% low", "95% high", "top failed", "exact inside"],
        rows,
        notes=[
            *notes,
            "an estimate, not exact: every basic event drawn independently with its "
            "probability in each trial, the tree as read evaluated 64 trials at a time; "
            "Clopper-Pearson 95% interval. 'exact inside': whether the exact probability lies "
            "in it (at most 1 in 20 outside by chance)",
        ],
    )

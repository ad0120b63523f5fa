"""Tables for scored layers: what ``cofail scores`` and the report show at a budget."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from cofail.report.tabular import Table

if TYPE_CHECKING:
    from cofail.scores import ScoreAnalysis

__all__ = ["score_tables"]

_CURVE_ROWS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2)
"""Budgets of the curve shown as rows in the terminal (JSON has every one)."""


def _pct(x: float | None) -> str:
    return "" if x is None else f"{100 * x:.3g}%"


def _interval(iv: tuple[float, float] | list[float] | None) -> str:
    if iv is None:
        return ""
    lo, hi = iv
    return f"{100 * lo:.3g}–{100 * hi:.3g}%"


_AT_BUDGET = (
    "at the budget: the interval of the share at the budget's thresholds, which are estimates "
    "from the honest cases too (both sets resampled, thresholds re-derived); --format json also "
    "gives the narrower one that holds this log's thresholds fixed"
)


def score_tables(result: ScoreAnalysis) -> list[Table]:
    """Return the layers, the pairs, the stack, the combination and the curve, as tables."""
    data = result.to_dict()
    level = f"{100 * (1 - result.alpha):g}%"
    layers = Table(
        title=f"Scored layers at a {100 * result.budget:g}% false-positive budget",
        columns=["layer", "flags", "FPR", "catch rate", f"{level} interval", "AUC", "AUC interval"],
        rows=[
            [
                x["layer"],
                x["flags"],
                _pct(x["fpr"]),
                _pct(x["tpr"]),
                _interval(x["tpr_interval"]),
                round(x["auc"], 4),
                ""
                if math.isnan(x["auc_interval"][0])
                else f"{x['auc_interval'][0]:.4f}–{x['auc_interval'][1]:.4f}",
            ]
            for x in data["layers"]
        ],
        notes=[result.assumptions, *sorted({x["interval_method"] for x in data["layers"]})],
    )
    pairs = Table(
        title="Attacks both layers miss, against independence",
        columns=["a", "b", "both miss", f"{level} at the budget", "independent", "ratio", "phi"],
        rows=[
            [
                p["a"],
                p["b"],
                _pct(p["both_miss"]),
                _interval(p.get("both_miss_interval_at_budget")),
                _pct(p["independent"]),
                p["ratio"],
                p["phi"],
            ]
            for p in sorted(data["pairs"], key=lambda p: -(p["ratio"] or 0.0))
        ],
        notes=[
            "independent: the product of the two miss rates, what they would both miss if "
            "their misses were unrelated",
            _AT_BUDGET,
        ],
    )
    s = data["stack"]
    eff = s["effective_layers"] or {}
    stack = Table(
        title="The whole stack, every layer at its own threshold",
        columns=[
            "layers",
            "all miss",
            f"{level} at the budget",
            "independent",
            "ratio",
            "effective layers",
            "union FPR",
            "union catch",
        ],
        rows=[
            [
                "+".join(s["layers"]),
                _pct(s["all_miss"]),
                _interval((s.get("interval_at_budget") or {}).get("all_miss")),
                _pct(s["independent"]),
                s["ratio"],
                eff.get("effective"),
                _pct(s["union_fpr"]),
                _pct(s["union_tpr"]),
            ]
        ],
        notes=[
            "union: audit a case when any layer flags it, each at its own budget threshold "
            "(its false-positive rate adds up past the budget)",
            _AT_BUDGET
            + (f" ({s['interval_at_budget']['method']})" if s.get("interval_at_budget") else ""),
        ],
    )
    tables = [layers, pairs, stack]
    for key in ("combination", "cascade"):
        c = data.get(key)
        if not c:
            continue
        oos = c.get("out_of_sample")
        tables.append(
            Table(
                title=f"Splitting the {100 * result.budget:g}% budget: rule {c['rule']!r} "
                f"({'audit when any layer flags' if c['rule'] == 'any' else 'audit only when every layer flags'})",
                columns=[
                    "thresholds",
                    "FPR",
                    "catch rate (in sample)",
                    "independent",
                    "catch rate (out of sample)",
                    "out-of-sample FPR",
                ],
                rows=[
                    [
                        ", ".join(
                            f"{k} off" if v is None else f"{k} {v:g}"
                            for k, v in c["thresholds"].items()
                        ),
                        _pct(c["fpr"]),
                        _pct(c["tpr"]),
                        _pct(c["independent"]),
                        ""
                        if oos is None
                        else f"{_pct(oos['tpr'])} ({_interval(oos['tpr_interval'])})",
                        "" if oos is None else _pct(oos["fpr"]),
                    ]
                ],
                notes=[
                    c["method"],
                    *(
                        [
                            oos["method"] + "; the in-sample figure is what the search found on "
                            "the cases it was fitted to, not a measurement"
                        ]
                        if oos
                        else []
                    ),
                    "independent: the catch rate these thresholds would give if the layers "
                    "missed independently",
                ],
            )
        )
    tables.append(_curve_table(data))
    if data.get("strata"):
        tables.append(_strata_table(data))
    return tables


def _strata_table(data: dict[str, Any]) -> Table:
    layers = [x["layer"] for x in data["layers"]]
    return Table(
        title=f"Catch rate by stratum at the {_pct(data['budget'])} budget's thresholds",
        columns=["stratum", "attacks", *layers, "all miss", "independent"],
        rows=[
            [
                s["stratum"] or "(empty)",
                s["n_attack"],
                *(_pct(s["tpr"][x]) for x in layers),
                _pct(s["all_miss"]),
                _pct(s["independent"]),
            ]
            for s in data["strata"]
        ],
        notes=[
            "one threshold per layer, set on every honest case (as deployed); catches counted "
            "within each stratum of the attack cases; independent: the product of the "
            "stratum's miss rates"
        ],
    )


def _curve_table(data: dict[str, Any]) -> Table:
    layers = [x["layer"] for x in data["layers"]]
    shown = [p for p in data["curve"] if any(abs(p["budget"] - b) < 1e-9 for b in _CURVE_ROWS)]
    shown = shown or data["curve"]
    columns = ["budget", *layers, "all miss", "independent", "best 'any'"]
    rows = [
        [
            _pct(p["budget"]),
            *(_pct(p["tpr"][x]) for x in layers),
            _pct(p["all_miss"]),
            _pct(p["independent"]),
            _pct(p["any"]["tpr"]) if "any" in p else "",
        ]
        for p in shown
    ]
    return Table(
        title="Catch rate over budgets",
        columns=columns,
        rows=rows,
        notes=[
            f"{len(shown)} of the curve's {len(data['curve'])} budgets; --format json has every "
            "one. Layer columns: each layer's catch rate at its own threshold; all miss: attacks "
            "every layer misses; best 'any': the combination's catch rate at that budget."
        ],
    )

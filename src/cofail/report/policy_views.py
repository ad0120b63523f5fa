"""Monitoring policies under a cost budget: the ranking table (no matplotlib here, so that a
command that prints the table does not load it; the figure and the report section are in
:mod:`cofail.report.policy_section`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cofail.intervals import wilson
from cofail.report.tabular import Table

if TYPE_CHECKING:
    from cofail.scores import PolicyTable

__all__ = ["pct", "policy_tables"]


def pct(x: float | None) -> str:
    """A rate as a percentage to three significant digits (empty for none).

    >>> pct(0.3917), pct(None)
    ('39.2%', '')
    """
    return "" if x is None else f"{100 * x:.3g}%"


def _with_interval(k: float | None, n: int | None) -> str:
    """``k / n`` as a percentage with its 95 % Wilson interval: ``39% [34–44]``."""
    if k is None or not n:
        return ""
    lo, hi = wilson(k, n)
    return f"{pct(k / n)} [{100 * lo:.3g}–{100 * hi:.3g}]"


def policy_tables(table: PolicyTable) -> list[Table]:
    """Return the policies ranked by in-sample catch rate, with cost and calls."""
    m = table.model
    rows = [
        [
            r.name,
            _with_interval(r.caught, r.n_attack),
            _with_interval(r.caught_out_of_sample, r.n_out_of_sample),
            pct(r.independent_tpr),
            round(r.cost, 4),
            pct(r.audit_share),
            ", ".join(f"{k} {pct(v)}" for k, v in r.calls.items()),
        ]
        for r in table.results
    ]
    return [
        Table(
            title=f"Policies within {m.total:g} per honest case (audit {m.audit:g}; calls "
            + ", ".join(f"{k} {v:g}" for k, v in m.costs.items())
            + ")",
            columns=["policy", "catch (in sample)", "catch (out of sample)", "if independent",
                     "cost", "audit share", "calls"],
            rows=rows,
            notes=[
                table.out_of_sample
                + "; in sample, each policy is scored on the cases it was fitted to: its lead "
                "over the naive baseline there is partly the optimiser's, not a result",
                "if independent: the same policy fitted and scored on data whose monitors' "
                "scores are shuffled apart within each set (same marginals, no dependence)",
                "likelihood ratios: Gaussian KDEs, Silverman's bandwidth (n (d + 2) / 4)^(-1/(d + 4)) "
                "as scikit-learn computes it",
                "[ ]: 95 % Wilson intervals over the attack cases (for a randomised policy, "
                "around its expected catch)",
                *(f"{r.name}: {r.description}" for r in table.results),
            ],
        )
    ]  # fmt: skip

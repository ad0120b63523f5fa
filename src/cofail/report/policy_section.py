"""Monitoring policies under a cost budget in the report: the figure of catch rate against
budget, and the section (the table is :mod:`cofail.report.policy_views`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.figure import Figure as MplFigure

from cofail.report.figures import to_svg
from cofail.report.policy_views import pct, policy_tables
from cofail.report.section import Figure, Section

if TYPE_CHECKING:
    from cofail.scores import PolicyTable

__all__ = ["policy_figure", "policy_section"]

_FAMILIES = (
    ("naive:", "best single monitor, by its score"),
    ("np:", "best single monitor, by likelihood ratio"),
    ("np:all", "every monitor, likelihood ratio"),
    ("any", "every monitor, audit when any flags"),
    ("region:", "best second-monitor region"),
    ("mixed:", "randomised: monitor on part of the traffic"),
)


def _family(name: str, prefix: str) -> bool:
    if prefix == "np:":
        return name.startswith("np:") and name != "np:all"
    return name == prefix if not prefix.endswith(":") else name.startswith(prefix)


def policy_figure(table: PolicyTable) -> MplFigure:
    """Return catch rate against total budget for the best policy of each family, dashed
    where the same policy runs on monitors made independent."""
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for k, (prefix, label) in enumerate(_FAMILIES):
        pts = []
        for y, rs in table.sweep:
            members = [r for r in rs if _family(r.name, prefix)]
            if members:
                pts.append((y, max(members, key=lambda r: r.tpr)))
        if not pts:
            continue
        colour = f"C{k}"
        ax.plot(
            [y for y, _ in pts],
            [r.tpr for _, r in pts],
            color=colour,
            lw=1.6,
            marker="o",
            ms=3,
            label=label,
        )
        ind = [(y, r.independent_tpr) for y, r in pts if r.independent_tpr is not None]
        if ind:
            ax.plot([y for y, _ in ind], [v for _, v in ind], color=colour, lw=1.0, ls="--")
    ax.axvline(table.model.total, color="#444444", lw=0.9, ls=":")
    ax.set_xlabel("total budget per honest case (monitor calls + audits)")
    ax.set_ylabel("share of attacks caught (in sample)")
    ax.set_ylim(0, 1.01)
    ax.set_title(
        "Catch rate against budget (dashed: the same policy, monitors made independent)", fontsize=9
    )
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig  # fmt: skip


def policy_section(table: PolicyTable) -> Section:
    """Return the report section on cost policies."""
    best = table.best
    naive = max((r for r in table.results if r.name.startswith("naive:")), key=lambda r: r.tpr,
                default=None)  # fmt: skip
    words = [
        f"At {table.model.total:g} per honest case, the best policy is {best.name}: "
        f"{pct(best.tpr)} of attacks caught in sample"
        + (f", {pct(best.tpr_out_of_sample)} out of sample" if best.tpr_out_of_sample is not None else "")
        + (f", against {pct(naive.tpr)} for the best single monitor ({naive.name})." if naive else "."),
        f"{table.out_of_sample}.",
    ]  # fmt: skip
    figures = []
    if table.sweep:
        figures.append(Figure("policies.svg", to_svg(policy_figure(table)),
                              "Catch rate against the total budget for each policy."))  # fmt: skip
    return Section("Monitoring policies under a cost budget", words, figures, policy_tables(table))

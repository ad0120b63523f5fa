"""A panel's consensus: one ordinary matrix whose cells keep their votes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from cofail.errors import InputError, brief
from cofail.model import Level, Matrix, Vulnerability
from cofail.raters._files import Panel
from cofail.raters._levels import canonical, interval_value, ordinal_key, vote_counts

__all__ = ["RULES", "Merge", "MergeRule", "MergedCell", "merge"]

MergeRule = Literal["majority", "mean", "dawid-skene"]
RULES: tuple[MergeRule, ...] = ("majority", "mean", "dawid-skene")
_RULE_TEXT = {
    "majority": "majority (the level with the most votes; a tie is U)",
    "mean": "mean (V 1, N 0, numbers as given, U votes left out)",
    "dawid-skene": "Dawid–Skene (EM over each rater's confusion matrix; a tie is U)",
}


@dataclass(frozen=True)
class MergedCell:
    """One cell of the consensus and how it came about."""

    layer: str
    """The layer's id."""
    mode: str
    """The failure mode's id."""
    level: Level
    """The consensus level."""
    votes: dict[str, Level]
    """Each rater's level, by rater id (blank cells left out)."""
    agreement: float | None
    """Share of pairs of raters who gave the same level; ``None`` with fewer than two votes."""
    outcome: str
    """``decided``, ``tie``, ``no quorum``, ``no votes`` or ``all U`` (mean only)."""
    posterior: dict[str, float] | None = None
    """Dawid–Skene: the probability of each level."""

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        out: dict[str, Any] = {
            "layer": self.layer,
            "failure_mode": self.mode,
            "level": self.level,
            "votes": dict(self.votes),
            "agreement": self.agreement,
            "outcome": self.outcome,
        }
        if self.posterior is not None:
            out["posterior"] = dict(self.posterior)
        return out


@dataclass(frozen=True)
class Merge:
    """The consensus matrix and the story of each cell."""

    matrix: Matrix
    """The consensus: an ordinary, valid matrix whose cells keep their votes."""
    rule: MergeRule
    """How votes became levels."""
    quorum: int
    """The fewest votes that decide a cell."""
    raters: tuple[str, ...]
    """The raters' ids, in the order given."""
    sources: tuple[str, ...]
    """Their files."""
    cells: list[MergedCell]
    """Every cell, in row-major order."""
    fit: dict[str, Any] | None = None
    """Dawid–Skene: iterations, convergence, each rater's confusion matrix."""

    def to_dict(self) -> dict[str, Any]:
        """Plain data: what ``cofail merge --format json`` prints."""
        out: dict[str, Any] = {
            "matrix": self.matrix.id,
            "rule": self.rule,
            "rule_text": _RULE_TEXT[self.rule],
            "quorum": self.quorum,
            "raters": list(self.raters),
            "files": list(self.sources),
            "outcomes": _tally(c.outcome for c in self.cells),
            "uncertain_cells": sum(c.level == "U" for c in self.cells),
            "cells": [c.to_dict() for c in self.cells],
        }
        if self.fit is not None:
            out["dawid_skene"] = self.fit
        return out


def merge(panel: Panel, rule: MergeRule = "majority", quorum: int = 1) -> Merge:
    """Return the consensus of ``panel`` under ``rule``; a cell with fewer than ``quorum``
    votes, or a tie, is U.

    ``majority``: the level with the most votes. ``mean``: the mean of the votes on the
    interval scale (V 1, N 0, numbers as given; U votes left out), a number unless every
    counted vote is the same mark. ``dawid-skene``: the most probable level under Dawid and
    Skene's model, fitted by EM to every cell's votes (V/N/U votes only).

    Each cell of the matrix keeps its votes (``votes``), and its rationale and source gather
    the raters' own, each named by rater.

    Examples
    --------
    >>> from cofail.raters import loads_rater_file
    >>> from cofail.raters._files import panel_of
    >>> files = [loads_rater_file(f"layer,A,B\\nL,{a},{b}\\n", "csv", f"{name}.csv")
    ...          for name, a, b in [("ann", "V", "N"), ("bo", "V", "V"), ("cy", "N", "")]]
    >>> result = merge(panel_of(files))
    >>> [(c.level, c.outcome) for c in result.cells]
    [('V', 'decided'), ('U', 'tie')]
    >>> result.matrix.cell("L", "A").votes
    {'ann': 'V', 'bo': 'V', 'cy': 'N'}
    >>> merge(panel_of(files), "mean").matrix.cell("L", "A").level
    0.666667
    """
    if rule not in RULES:
        raise InputError(f"--rule: expected one of {', '.join(RULES)}, got {brief(rule)}")
    if quorum < 1:
        raise InputError(f"--quorum: expected a whole number >= 1, got {quorum}")
    votes = {cell: panel.votes(*cell) for cell in panel.cells}
    if rule == "dawid-skene":
        merged, fit = _dawid_skene(panel, votes, quorum)
    else:
        decide = _majority if rule == "majority" else _mean
        merged, fit = [decide(cell, votes[cell], quorum) for cell in panel.cells], None
    frame = panel.frame
    cells: dict[str, dict[str, Vulnerability]] = {lid: {} for lid in frame.layer_ids}
    for m in merged:
        cells[m.layer][m.mode] = _vulnerability(m, votes[(m.layer, m.mode)], rule, quorum)
    references = tuple(dict.fromkeys(ref for r in panel.raters for ref in r.frame.references))
    base = "" if frame.id == "matrix" else f"{frame.id}-"
    matrix = Matrix(
        id=f"{base}consensus",
        title=f"Consensus of {len(panel.raters)} raters ({rule})"
        + (f": {frame.title}" if frame.title else ""),
        version=frame.version,
        description=(
            f"Merged by cofail merge from the rater files of {', '.join(panel.ids)}, by "
            f"{_RULE_TEXT[rule]}, quorum {quorum}. Each cell's votes list every rater's "
            f"level; layer and failure-mode names are those of {panel.ids[0]}'s file."
        ),
        references=references,
        failure_modes=frame.failure_modes,
        layers=frame.layers,
        cells=cells,
    )
    return Merge(
        matrix=matrix,
        rule=rule,
        quorum=quorum,
        raters=panel.ids,
        sources=tuple(r.source for r in panel.raters),
        cells=merged,
        fit=fit,
    )


def _agreement(levels: list[Level]) -> float | None:
    m = len(levels)
    if m < 2:
        return None
    same = sum(n * (n - 1) for n in vote_counts(levels).values())
    return same / (m * (m - 1))


def _undecided(votes: dict[str, Vulnerability], quorum: int) -> str | None:
    """The outcome of a cell that cannot be decided whatever the rule, else ``None``."""
    if not votes:
        return "no votes"
    if len(votes) < quorum:
        return "no quorum"
    return None


def _cell(
    cell: tuple[str, str],
    votes: dict[str, Vulnerability],
    level: Level,
    outcome: str,
    posterior: dict[str, float] | None = None,
) -> MergedCell:
    levels = {r: v.level for r, v in votes.items()}
    return MergedCell(
        cell[0], cell[1], level, levels, _agreement(list(levels.values())), outcome, posterior
    )


def _majority(cell: tuple[str, str], votes: dict[str, Vulnerability], quorum: int) -> MergedCell:
    outcome = _undecided(votes, quorum)
    if outcome:
        return _cell(cell, votes, "U", outcome)
    ranked = list(vote_counts([v.level for v in votes.values()]).items())
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        return _cell(cell, votes, "U", "tie")
    return _cell(cell, votes, ranked[0][0], "decided")


def _mean(cell: tuple[str, str], votes: dict[str, Vulnerability], quorum: int) -> MergedCell:
    outcome = _undecided(votes, quorum)
    if outcome:
        return _cell(cell, votes, "U", outcome)
    counted = [canonical(v.level) for v in votes.values() if v.level != "U"]
    if not counted:
        return _cell(cell, votes, "U", "all U")
    if all(c == counted[0] for c in counted) and isinstance(counted[0], str):
        return _cell(cell, votes, counted[0], "decided")
    mean = round(float(np.mean([interval_value(c) for c in counted])), 6)
    return _cell(cell, votes, canonical(mean), "decided")


def _dawid_skene(
    panel: Panel, votes: dict[tuple[str, str], dict[str, Vulnerability]], quorum: int
) -> tuple[list[MergedCell], dict[str, Any]]:
    from cofail.raters._dawid_skene import dawid_skene

    for r in panel.raters:
        for (lid, mid), v in r.judgements.items():
            if isinstance(canonical(v.level), float):
                raise InputError(
                    f"cells.{lid}.{mid}: a graded level ({v.level:g}); dawid-skene merges "
                    "V, N and U votes only (use --rule mean for graded levels)",
                    source=r.source,
                )
    marks: set[Level] = {canonical(v.level) for c in votes.values() for v in c.values()}
    classes = [str(c) for c in sorted(marks, key=ordinal_key)]
    index = {c: k for k, c in enumerate(classes)}
    cells = panel.cells
    labels = np.full((len(cells), len(panel.raters)), -1, dtype=np.int64)
    for u, cell in enumerate(cells):
        for j, rater in enumerate(panel.ids):
            if rater in votes[cell]:
                labels[u, j] = index[str(canonical(votes[cell][rater].level))]
    fit = dawid_skene(labels, len(classes))
    merged = []
    for u, cell in enumerate(cells):
        posterior = {c: round(float(p), 6) for c, p in zip(classes, fit.posterior[u], strict=True)}
        outcome = _undecided(votes[cell], quorum)
        if outcome:
            merged.append(_cell(cell, votes[cell], "U", outcome, posterior))
            continue
        row = fit.posterior[u]
        best = int(row.argmax())
        if (np.abs(row - row[best]) < 1e-9).sum() > 1:
            merged.append(_cell(cell, votes[cell], "U", "tie", posterior))
            continue
        level: Level = "V" if classes[best] == "V" else "N" if classes[best] == "N" else "U"
        merged.append(_cell(cell, votes[cell], level, "decided", posterior))
    info = {
        "levels": classes,
        "iterations": fit.iterations,
        "converged": fit.converged,
        "log_likelihood": fit.log_likelihood,
        "prior": {c: float(p) for c, p in zip(classes, fit.prior, strict=True)},
        "confusion": {
            rater: {
                true: {said: float(fit.confusion[j, k, s]) for s, said in enumerate(classes)}
                for k, true in enumerate(classes)
            }
            for j, rater in enumerate(panel.ids)
        },
    }
    return merged, info


def _vulnerability(
    m: MergedCell, votes: dict[str, Vulnerability], rule: MergeRule, quorum: int
) -> Vulnerability:
    counts = ", ".join(f"{k} {n}" for k, n in vote_counts(list(m.votes.values())).items())
    n = len(m.votes)
    tally = f"{counts} of {n} vote{'s' if n != 1 else ''}" if n else "no votes"
    agree = "" if m.agreement is None else f"; agreement {m.agreement:.2f}"
    if m.outcome == "decided":
        how = {"majority": "majority", "mean": "mean", "dawid-skene": "Dawid–Skene"}[rule]
        if m.posterior is not None:
            how += f", P = {m.posterior[str(m.level)]:.2f}"
        summary = f"Consensus {m.level} ({how}: {tally}{agree})."
    elif m.outcome == "no quorum":
        summary = f"U: {tally}, fewer than the quorum of {quorum}{agree}."
    elif m.outcome == "no votes":
        summary = "U: no rater judged this cell."
    else:
        summary = f"U: {m.outcome} ({tally}{agree})."
    reasons = [
        f"{r} ({v.level}): {' '.join(v.rationale.split())}" for r, v in votes.items() if v.rationale
    ]
    sources = [f"{r}: {' '.join(v.source.split())}" for r, v in votes.items() if v.source]
    return Vulnerability(
        level=m.level,
        rationale=" | ".join([summary, *reasons]),
        source="; ".join(
            [f"cofail merge ({rule}) of {', '.join(m.votes) or 'no rater'}", *sources]
        ),
        votes=m.votes or None,
    )


def _tally(outcomes: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for o in outcomes:
        out[o] = out.get(o, 0) + 1
    return out

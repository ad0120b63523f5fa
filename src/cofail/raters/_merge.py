"""A panel's consensus: one ordinary matrix whose cells keep their votes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from cofail.errors import InputError, brief
from cofail.model import Level, Matrix, Vulnerability
from cofail.raters._files import Panel
from cofail.raters._levels import (
    canonical,
    interval_value,
    ordinal_key,
    pair_agreement,
    vote_counts,
)
from cofail.raters._uncertainty import is_split, vote_beta

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
    distribution: str | None = None
    """A U cell the raters split on: the beta of q from the votes (:func:`vote_beta`)."""

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
        if self.distribution is not None:
            out["distribution"] = self.distribution
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
    weights: dict[str, float] | None = None
    """Each rater's weight (mean 1 over the panel), when votes were weighted."""
    split_uncertain: bool = False
    """Whether every cell the raters split on was made U."""

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
        if self.weights is not None:
            out["weights"] = dict(self.weights)
        out["split_cells"] = sum(is_split(c.votes) for c in self.cells)
        out["split_as_u"] = self.split_uncertain
        out["distribution"] = _DISTRIBUTION_TEXT
        return out


_DISTRIBUTION_TEXT = (
    "a U cell the raters split on carries q ~ beta(1/2 + V votes, 1/2 + N votes): the Jeffreys "
    "prior updated by each vote as one observation (a graded q adds q and 1 - q; U votes left "
    "out; weighted votes count their weight); --uncertain own reads it"
)


def merge(
    panel: Panel,
    rule: MergeRule = "majority",
    quorum: int = 1,
    *,
    weights: dict[str, float] | None = None,
    split_uncertain: bool = False,
) -> Merge:
    """Return the consensus of ``panel`` under ``rule``; a cell with fewer than ``quorum``
    votes, or a tie, is U.

    ``majority``: the level with the most votes. ``mean``: the mean of the votes on the
    interval scale (V 1, N 0, numbers as given; U votes left out), a number unless every
    counted vote is the same mark. ``dawid-skene``: the most probable level under Dawid and
    Skene's model, fitted by EM to every cell's votes (V/N/U votes only).

    Each cell of the matrix keeps its votes (``votes``), and its rationale and source gather
    the raters' own, each named by rater. A U cell the raters split on carries the beta of
    :func:`~cofail.raters.vote_beta` as its ``distribution``; with ``split_uncertain`` every
    cell they split on is U (outcome ``split``), so that the analysis carries all of their
    disagreement.

    ``weights`` (rater → weight > 0, e.g. from :func:`~cofail.raters.evidence_weights`) weigh
    each vote: ``majority`` takes the level with the largest total weight, ``mean`` the
    weighted mean, and the beta counts each vote by its weight scaled to mean 1.

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
    >>> merge(panel_of(files)).matrix.cell("L", "B").distribution  # V 1, N 1: a tie
    'beta:1.5,1.5'
    >>> merge(panel_of(files), weights={"ann": 1, "bo": 2, "cy": 3}).cells[0].level
    'U'
    """
    if rule not in RULES:
        raise InputError(f"--rule: expected one of {', '.join(RULES)}, got {brief(rule)}")
    if quorum < 1:
        raise InputError(f"--quorum: expected a whole number >= 1, got {quorum}")
    scaled = None if weights is None else _scaled(weights, panel.ids)
    votes = {cell: panel.votes(*cell) for cell in panel.cells}
    if rule == "dawid-skene":
        if scaled is not None:
            raise InputError(
                "--weights: dawid-skene weighs raters by its own fit; use majority or mean"
            )
        merged, fit = _dawid_skene(panel, votes, quorum)
    else:
        decide = _majority if rule == "majority" else _mean
        merged, fit = [decide(cell, votes[cell], quorum, scaled) for cell in panel.cells], None
    merged = [_with_distribution(m, scaled, split_uncertain) for m in merged]
    frame = panel.frame
    cells: dict[str, dict[str, Vulnerability]] = {lid: {} for lid in frame.layer_ids}
    for m in merged:
        cells[m.layer][m.mode] = _vulnerability(m, votes[(m.layer, m.mode)], rule, quorum, scaled)
    references = tuple(dict.fromkeys(ref for r in panel.raters for ref in r.frame.references))
    # "matrix" is the id a file without one gets (a CSV rater file): no "matrix-" prefix.
    base = "" if frame.id == "matrix" else f"{frame.id}-"
    matrix = Matrix(
        id=f"{base}consensus",
        title=f"Consensus of {len(panel.raters)} raters ({rule})"
        + (f": {frame.title}" if frame.title else ""),
        version=frame.version,
        description=(
            f"Merged by cofail merge from the rater files of {', '.join(panel.ids)}, by "
            f"{_RULE_TEXT[rule]}, quorum {quorum}"
            + ("" if scaled is None else ", votes weighted by evidence")
            + (", every cell the raters split on made U" if split_uncertain else "")
            + ". Each cell's votes list every rater's level; a U cell they split on carries "
            "q ~ beta(1/2 + V votes, 1/2 + N votes) (--uncertain own reads it); layer and "
            f"failure-mode names are those of {panel.ids[0]}'s file."
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
        weights=scaled,
        split_uncertain=split_uncertain,
    )


def _scaled(weights: dict[str, float], raters: tuple[str, ...]) -> dict[str, float]:
    """The weights of ``raters`` scaled to mean 1 (``InputError`` for a missing or bad one)."""
    missing = [r for r in raters if r not in weights]
    if missing:
        raise InputError(f"--weights: no weight for rater {missing[0]!r}")
    bad = [r for r in raters if not (weights[r] > 0 and np.isfinite(weights[r]))]
    if bad:
        raise InputError(f"--weights: the weight of {bad[0]!r} must be a positive number")
    mean = sum(weights[r] for r in raters) / len(raters)
    return {r: weights[r] / mean for r in raters}


def _with_distribution(
    m: MergedCell, weights: dict[str, float] | None, split_uncertain: bool
) -> MergedCell:
    """The cell with its votes' beta when it is U (made U when split and asked to)."""
    from dataclasses import replace

    if not is_split(m.votes):
        return m
    if split_uncertain and m.level != "U":
        m = replace(m, level="U", outcome="split")
    if m.level != "U":
        return m
    ab = vote_beta(m.votes, weights)
    if ab is None:
        return m
    from cofail.probability.distributions import Distribution

    return replace(m, distribution=str(Distribution("beta", *ab)))


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
        cell[0], cell[1], level, levels, pair_agreement(list(levels.values())), outcome, posterior
    )


def _majority(
    cell: tuple[str, str],
    votes: dict[str, Vulnerability],
    quorum: int,
    weights: dict[str, float] | None = None,
) -> MergedCell:
    outcome = _undecided(votes, quorum)
    if outcome:
        return _cell(cell, votes, "U", outcome)
    if weights is None:
        ranked: list[tuple[Level, float]] = list(
            vote_counts([v.level for v in votes.values()]).items()
        )
    else:
        totals: dict[Level, float] = {}
        for rater, v in votes.items():
            key = canonical(v.level)
            totals[key] = totals.get(key, 0.0) + weights[rater]
        ranked = sorted(totals.items(), key=lambda kv: (-kv[1], ordinal_key(kv[0])))
    if len(ranked) > 1 and abs(ranked[0][1] - ranked[1][1]) < 1e-9:
        return _cell(cell, votes, "U", "tie")
    return _cell(cell, votes, ranked[0][0], "decided")


def _mean(
    cell: tuple[str, str],
    votes: dict[str, Vulnerability],
    quorum: int,
    weights: dict[str, float] | None = None,
) -> MergedCell:
    outcome = _undecided(votes, quorum)
    if outcome:
        return _cell(cell, votes, "U", outcome)
    counted = [(r, canonical(v.level)) for r, v in votes.items() if v.level != "U"]
    if not counted:
        return _cell(cell, votes, "U", "all U")
    levels = [c for _, c in counted]
    # Agreeing marks stay a mark (V, not 1.0): the consensus then reads as the raters wrote it.
    if all(c == levels[0] for c in levels) and isinstance(levels[0], str):
        return _cell(cell, votes, levels[0], "decided")
    w = [1.0 if weights is None else weights[r] for r, _ in counted]
    mean = round(float(np.average([interval_value(c) for c in levels], weights=w)), 6)
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
    # Fitted on every cell, quorum or not: a cell too thinly judged to decide still tells the
    # model how each of its raters errs. A U vote is a class of its own, not a missing label.
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
        # Symmetric votes give posteriors equal only up to EM's rounding: a tie within 1e-9.
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
    m: MergedCell,
    votes: dict[str, Vulnerability],
    rule: MergeRule,
    quorum: int,
    weights: dict[str, float] | None = None,
) -> Vulnerability:
    counts = ", ".join(f"{k} {n}" for k, n in vote_counts(list(m.votes.values())).items())
    n = len(m.votes)
    tally = f"{counts} of {n} vote{'s' if n != 1 else ''}" if n else "no votes"
    agree = "" if m.agreement is None else f"; agreement {m.agreement:.2f}"
    if m.outcome == "decided":
        how = {"majority": "majority", "mean": "mean", "dawid-skene": "Dawid–Skene"}[rule]
        if weights is not None:
            how = f"{how} weighted by evidence"
        if m.posterior is not None:
            how += f", P = {m.posterior[str(m.level)]:.2f}"
        summary = f"Consensus {m.level} ({how}: {tally}{agree})."
    elif m.outcome == "no quorum":
        summary = f"U: {tally}, fewer than the quorum of {quorum}{agree}."
    elif m.outcome == "no votes":
        summary = "U: no rater judged this cell."
    elif m.outcome == "split":
        summary = f"U: the raters split ({tally}{agree})."
    else:
        summary = f"U: {m.outcome} ({tally}{agree})."
    if m.distribution is not None:
        weighted = "" if weights is None else ", each vote by its rater's weight"
        summary += (
            f" q ~ {m.distribution}: the Jeffreys prior beta(1/2, 1/2) updated by the votes "
            f"(V adds 1 to a, N 1 to b, U left out{weighted}); mean "
            f"{_mean_of(m.distribution):.3g}."
        )
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
        distribution=m.distribution,
    )


def _mean_of(distribution: str) -> float:
    a, b = (float(x) for x in distribution.partition(":")[2].split(","))
    return a / (a + b)


def _tally(outcomes: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for o in outcomes:
        out[o] = out.get(o, 0) + 1
    return out

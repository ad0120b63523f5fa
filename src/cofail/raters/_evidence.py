"""Raters weighted by evidence: the cells an evaluation log measures serve as seed questions,
and each rater's judgement of them is scored (Brier and log score) against the measured rate.

A log measures a cell when its cases carry a stratum named after a failure mode (read with
``--stratum-col mode``): the failure rate of a layer on the cases tagged with mode M is what
the cell (layer, M) judges. The rate includes the layer's residual failure, so it is q plus
(1 - q) r, not q alone; with a small r the difference is small.

Cooke's classical model scores calibration on the quantiles an expert gives; a rater here gives
a level, not quantiles, so calibration is left out and the score is the log score (a proper
scoring rule), the weight its exponential.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cofail.errors import InputError
from cofail.intervals import wilson
from cofail.model import Level
from cofail.raters._files import Panel
from cofail.raters._levels import canonical

if TYPE_CHECKING:
    from cofail.empirical import PatternHistogram

__all__ = [
    "LEVEL_PROBABILITY",
    "EvidenceWeights",
    "RaterScore",
    "SeedCell",
    "brier_score",
    "evidence_weights",
    "level_probability",
    "log_score",
    "seed_cells",
]

LEVEL_PROBABILITY: dict[str, float] = {"V": 0.95, "N": 0.05, "U": 0.5}
"""A mark read as the probability that the layer fails on a case with the mode present."""
_LOWEST, _HIGHEST = LEVEL_PROBABILITY["N"], LEVEL_PROBABILITY["V"]
MAPPING = (
    "a level read as the probability that the layer fails on a case of the mode: V 0.95, "
    "N 0.05, U 0.5, a graded q as given within [0.05, 0.95] (no graded answer surer than V or "
    "N, so that a log score stays finite)"
)
WEIGHTING = (
    "score: mean over the seed cells a rater judged of the per-case Brier score "
    "y (1 - p)^2 + (1 - y) p^2 and log score y ln p + (1 - y) ln (1 - p), p the rater's "
    "probability and y the measured rate; weight proportional to exp(mean log score) (the "
    "geometric mean of the probability given to each case's outcome), scaled to mean 1; a rater "
    "who judged no seed cell gets the mean log score of the others; Cooke's calibration left "
    "out: the raters give levels, not quantiles"
)


def level_probability(level: Level) -> float:
    """Return ``level`` read as a probability of failure (see :data:`MAPPING`).

    >>> level_probability("V"), level_probability("N"), level_probability("U")
    (0.95, 0.05, 0.5)
    >>> level_probability(0.3), level_probability(0.99), level_probability(1.0)
    (0.3, 0.95, 0.95)
    """
    level = canonical(level)
    if isinstance(level, str):
        return LEVEL_PROBABILITY[level]
    return min(_HIGHEST, max(_LOWEST, level))


def brier_score(p: float, rate: float) -> float:
    """Return the mean Brier score (p - o)^2 over cases that fail at ``rate``: lower is better.

    >>> brier_score(0.95, 1.0), round(brier_score(0.5, 0.3), 6)
    (0.0025000000000000044, 0.25)
    """
    return rate * (1.0 - p) ** 2 + (1.0 - rate) * p * p


def log_score(p: float, rate: float) -> float:
    """Return the mean log score ln P(outcome) over cases that fail at ``rate``: higher (nearer
    0) is better.

    >>> round(log_score(0.95, 1.0), 6), round(log_score(0.5, 0.3), 6)
    (-0.051293, -0.693147)
    """
    return rate * math.log(p) + (1.0 - rate) * math.log(1.0 - p)


@dataclass(frozen=True)
class SeedCell:
    """A cell an evaluation log measures: a layer's failure rate on the cases of one mode."""

    layer: str
    """The layer's id."""
    mode: str
    """The failure mode's id (the stratum's name)."""
    failures: float
    """Cases (or weight) of the mode on which the layer failed."""
    cases: float
    """Cases (or weight) tagged with the mode."""
    interval: tuple[float, float]
    """95% Wilson interval of the rate."""

    @property
    def rate(self) -> float:
        """The measured failure rate."""
        return self.failures / self.cases

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {
            "layer": self.layer,
            "failure_mode": self.mode,
            "failures": self.failures,
            "cases": self.cases,
            "rate": self.rate,
            "interval": list(self.interval),
        }


@dataclass(frozen=True)
class RaterScore:
    """One rater's judgements of the seed cells, scored."""

    rater: str
    """The rater's id."""
    judged: int
    """Seed cells the rater judged."""
    brier: float | None
    """Mean Brier score over them (lower is better); ``None`` when none was judged."""
    log: float | None
    """Mean log score over them (higher is better); ``None`` when none was judged."""
    weight: float
    """Weight in the merge, mean 1 over the panel."""
    cells: dict[str, float]
    """``LAYER×MODE`` → the probability the rater's level stands for."""

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {
            "rater": self.rater,
            "seed_cells_judged": self.judged,
            "brier": self.brier,
            "log_score": self.log,
            "weight": self.weight,
            "probabilities": dict(self.cells),
        }


@dataclass(frozen=True)
class EvidenceWeights:
    """The seed cells, each rater's score on them and the weights that follow."""

    seeds: tuple[SeedCell, ...]
    """The cells the log measures, in the matrix's order."""
    scores: tuple[RaterScore, ...]
    """One per rater, in the panel's order."""
    source: str
    """The log."""

    @property
    def weights(self) -> dict[str, float]:
        """Rater → weight (mean 1)."""
        return {s.rater: s.weight for s in self.scores}

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {
            "log": self.source,
            "seed_cells": [s.to_dict() for s in self.seeds],
            "raters": [s.to_dict() for s in self.scores],
            "mapping": MAPPING,
            "weighting": WEIGHTING,
            "note": "a measured rate includes the layer's residual failure (q + (1 - q) r)",
        }


def seed_cells(
    histogram: PatternHistogram, layers: tuple[str, ...], modes: tuple[str, ...]
) -> list[SeedCell]:
    """Return the cells ``histogram`` measures: each layer of ``layers`` it holds, on each of
    its strata that names a failure mode of ``modes``, in the matrix's order.

    ``InputError`` when no stratum names a mode or no layer of the log is in the matrix.

    Examples
    --------
    >>> from cofail.empirical import PatternHistogram
    >>> h = PatternHistogram.from_counts(("L", "X"), {"A": {0b00: 6, 0b01: 3, 0b11: 1},
    ...                                               "other": {0b01: 5}})
    >>> [(s.layer, s.mode, s.rate) for s in seed_cells(h, ("L", "M"), ("A", "B"))]
    [('L', 'A', 0.4)]
    """
    strata = {s for s in histogram.strata if s in modes}
    if not strata:
        shown = ", ".join(repr(s) for s in histogram.strata[:8])
        raise InputError(
            f"no stratum of the log names a failure mode (strata: {shown}; modes: "
            f"{', '.join(modes)}); read it with --stratum-col COLUMN whose values are mode ids"
        )
    known = [lid for lid in layers if lid in histogram.layers]
    if not known:
        raise InputError(
            f"no layer of the log ({', '.join(histogram.layers[:8])}) is a layer of the matrix "
            f"({', '.join(layers)})"
        )
    # A stratum named after a mode holds the cases on which that mode is present: a layer's
    # failure rate there measures its cell (with its residual failures folded in).
    index = {lid: i for i, lid in enumerate(histogram.layers)}
    out = []
    for lid in known:
        for mid in modes:
            if mid not in strata:
                continue
            cases = float(histogram.counts[mid].sum())
            if cases <= 0:
                continue
            failed = float(histogram.failures(mid)[index[lid]])
            out.append(SeedCell(lid, mid, failed, cases, wilson(failed, cases)))
    return out


def evidence_weights(panel: Panel, histogram: PatternHistogram) -> EvidenceWeights:
    """Return each rater's score on the cells ``histogram`` measures, and their weights.

    Examples
    --------
    >>> from cofail.empirical import PatternHistogram
    >>> from cofail.raters import loads_rater_file, panel_of
    >>> panel = panel_of([loads_rater_file("layer,A\\nL,V\\n", "csv", "ann.csv"),
    ...                   loads_rater_file("layer,A\\nL,N\\n", "csv", "bo.csv")])
    >>> h = PatternHistogram.from_counts(("L",), {"A": {0: 2, 1: 8}})  # L fails 8 of 10
    >>> w = evidence_weights(panel, h)
    >>> [(s.rater, round(s.log, 3), round(s.weight, 3)) for s in w.scores]
    [('ann', -0.64, 1.708), ('bo', -2.407, 0.292)]
    """
    seeds = seed_cells(histogram, panel.frame.layer_ids, panel.frame.mode_ids)
    raw: list[tuple[str, int, float | None, float | None, dict[str, float]]] = []
    for r in panel.raters:
        briers, logs, probabilities = [], [], {}
        for s in seeds:
            cell = r.level(s.layer, s.mode)
            if cell is None:
                continue
            p = level_probability(cell.level)
            probabilities[f"{s.layer}×{s.mode}"] = p
            briers.append(brier_score(p, s.rate))
            logs.append(log_score(p, s.rate))
        raw.append(
            (
                r.rater,
                len(logs),
                sum(briers) / len(briers) if briers else None,
                sum(logs) / len(logs) if logs else None,
                probabilities,
            )
        )
    scored = [x[3] for x in raw if x[3] is not None]
    if not scored:
        raise InputError(
            "no rater judged any of the cells the log measures ("
            + ", ".join(f"{s.layer}×{s.mode}" for s in seeds[:8])
            + "): there is nothing to weigh them by"
        )
    fallback = sum(scored) / len(scored)
    used = [fallback if x[3] is None else x[3] for x in raw]
    top = max(used)
    exp = [math.exp(u - top) for u in used]  # shifted: the largest is 1, none underflows all
    mean = sum(exp) / len(exp)
    scores = tuple(
        RaterScore(rater, judged, brier, log, e / mean, probs)
        for (rater, judged, brier, log, probs), e in zip(raw, exp, strict=True)
    )
    return EvidenceWeights(tuple(seeds), scores, histogram.source)

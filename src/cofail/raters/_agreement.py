"""How far a panel of raters agree: Krippendorff's alpha at three levels, by layer, by mode,
by rater, and the cells that divide them most."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cofail.model import Level
from cofail.raters._alpha import AlphaLevel, BootstrapInterval, Reliability
from cofail.raters._files import Panel
from cofail.raters._levels import (
    canonical,
    interval_value,
    ordinal_key,
    pair_agreement,
    vote_counts,
)

__all__ = [
    "LEVELS",
    "Agreement",
    "DivisiveCell",
    "PartAgreement",
    "RaterAgreement",
    "agreement",
    "cell_agreement",
]

LEVELS: tuple[AlphaLevel, ...] = ("nominal", "ordinal", "interval")
BOOTSTRAP_METHOD = (
    "percentile bootstrap over cells (cells resampled with replacement, alpha recomputed); "
    "not Krippendorff's bootstrap"
)


def _value(x: float) -> float | None:
    return None if math.isnan(x) else x


@dataclass(frozen=True)
class PartAgreement:
    """Alpha on the cells of one layer or one failure mode (``D_e`` from the whole panel)."""

    id: str
    """The layer's or failure mode's id."""
    judgements: int
    """Votes cast on its cells."""
    alpha: dict[AlphaLevel, float]
    """Alpha by level; NaN where no cell has two votes."""

    def to_dict(self, key: str) -> dict[str, Any]:
        """Plain data; ``key`` names the id (``layer`` or ``failure_mode``)."""
        return {
            key: self.id,
            "judgements": self.judgements,
            **{lv: _value(a) for lv, a in self.alpha.items()},
        }


@dataclass(frozen=True)
class RaterAgreement:
    """One rater against the rest, and the panel's alpha without them."""

    rater: str
    """The rater's id."""
    source: str
    """Their file."""
    judged: int
    """Cells the rater judged."""
    with_rest: dict[AlphaLevel, float]
    """Alpha of the pairs of this rater's values with the other raters' values in the same
    cell (``D_e`` from the whole panel); the panel's alpha is their average weighted by
    pairable values."""
    without: dict[AlphaLevel, float]
    """The panel's alpha with this rater left out (NaN with fewer than two raters left)."""

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {
            "rater": self.rater,
            "file": self.source,
            "judged": self.judged,
            "with_rest": {lv: _value(a) for lv, a in self.with_rest.items()},
            "without": {lv: _value(a) for lv, a in self.without.items()},
        }


@dataclass(frozen=True)
class DivisiveCell:
    """A cell the raters disagree on."""

    layer: str
    """The layer's id."""
    mode: str
    """The failure mode's id."""
    votes: dict[str, Level]
    """Each rater's level, by rater id (blank cells left out)."""
    disagreement: float
    """Share of pairs of raters who gave different levels (nominal)."""
    spread: float
    """Largest minus smallest value on the interval scale (U left out; NaN without two)."""

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {
            "layer": self.layer,
            "failure_mode": self.mode,
            "votes": dict(self.votes),
            "counts": {str(k): n for k, n in vote_counts(list(self.votes.values())).items()},
            "disagreement": self.disagreement,
            "spread": _value(self.spread),
        }


@dataclass(frozen=True)
class Agreement:
    """The agreement of a panel of raters."""

    raters: tuple[str, ...]
    """The raters' ids, in the order given."""
    sources: tuple[str, ...]
    """Their files."""
    cells: int
    """Cells of the matrix (the units)."""
    judgements: int
    """Votes cast (cells × raters, less the blanks)."""
    alpha: dict[AlphaLevel, float]
    """Krippendorff's alpha by level (NaN when undefined)."""
    intervals: dict[AlphaLevel, BootstrapInterval]
    """Bootstrap interval of alpha, by level."""
    confidence: float
    """Coverage of the intervals."""
    seed: int
    """Seed of the bootstrap draws."""
    uncertain_interval: float | None
    """The value U takes at the interval level; ``None``: U left out."""
    pairable: dict[AlphaLevel, int]
    """Pairable values at each level (U may be left out at the interval level)."""
    by_layer: list[PartAgreement] = field(default_factory=list)
    """Alpha on each layer's cells."""
    by_mode: list[PartAgreement] = field(default_factory=list)
    """Alpha on each failure mode's cells."""
    by_rater: list[RaterAgreement] = field(default_factory=list)
    """Each rater against the rest."""
    divisive: list[DivisiveCell] = field(default_factory=list)
    """The cells that divide the raters most, most divided first."""

    @property
    def assumptions(self) -> str:
        """The line that says how the numbers were computed."""
        u = (
            "U left out"
            if self.uncertain_interval is None
            else f"U read as {self.uncertain_interval:g}"
        )
        return (
            f"{len(self.raters)} raters, {self.cells} cells, {self.judgements} judgements; "
            "blank cells are missing values (only pairable values count); nominal: V, N, U and "
            "each graded number a category; ordinal: N < graded numbers < V, U in the middle; "
            f"interval: V = 1, N = 0, numbers as given, {u}; a graded 0 is N and 1 is V; "
            f"intervals: {self.confidence:.0%} {BOOTSTRAP_METHOD}, "
            f"{self.intervals['nominal'].replicates} replicates, seed {self.seed}; "
            "by layer, mode and rater: expected disagreement of the whole panel"
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain data: what ``cofail agreement --format json`` prints."""
        return {
            "raters": list(self.raters),
            "files": list(self.sources),
            "cells": self.cells,
            "judgements": self.judgements,
            "alpha": {lv: _value(a) for lv, a in self.alpha.items()},
            "interval": {lv: [_value(b.low), _value(b.high)] for lv, b in self.intervals.items()},
            "bootstrap": {
                "method": BOOTSTRAP_METHOD,
                "confidence": self.confidence,
                "replicates": self.intervals["nominal"].replicates,
                "undefined": {lv: b.undefined for lv, b in self.intervals.items()},
                "seed": self.seed,
            },
            "pairable": dict(self.pairable),
            "uncertain_interval": self.uncertain_interval,
            "by_layer": [p.to_dict("layer") for p in self.by_layer],
            "by_mode": [p.to_dict("failure_mode") for p in self.by_mode],
            "by_rater": [r.to_dict() for r in self.by_rater],
            "divisive_cells": [c.to_dict() for c in self.divisive],
            "assumptions": self.assumptions,
        }


def agreement(
    panel: Panel,
    *,
    uncertain_interval: float | None = None,
    replicates: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
    top: int = 10,
) -> Agreement:
    """Return the agreement of ``panel``: Krippendorff's alpha, nominal, ordinal and interval,
    with bootstrap intervals; by layer, by mode and by rater; the most divisive cells.

    ``uncertain_interval`` is the value a U vote takes at the interval level (``None``: left
    out, as a missing value).

    Examples
    --------
    >>> from cofail.raters import loads_rater_file
    >>> from cofail.raters._files import panel_of
    >>> a = loads_rater_file("layer,A,B,C\\nL,V,N,V\\nM,N,N,U\\n", "csv", "ann.csv")
    >>> b = loads_rater_file("layer,A,B,C\\nL,V,N,N\\nM,N,,U\\n", "csv", "bo.csv")
    >>> result = agreement(panel_of([a, b]), replicates=100)
    >>> round(result.alpha["nominal"], 3), [(c.layer, c.mode) for c in result.divisive]
    (0.71, [('L', 'C')])

    Notes
    -----
    Each cell is a unit and each rater a coder; a blank cell is a missing value. The
    intervals resample cells; the parts (layers, modes, raters) are point estimates.
    """
    raters = panel.raters
    cells = panel.cells
    levels = np.empty((len(raters), len(cells)), dtype=object)
    for i, r in enumerate(raters):
        for u, (lid, mid) in enumerate(cells):
            cell = r.level(lid, mid)
            levels[i, u] = None if cell is None else canonical(cell.level)
    data = _encode(levels, uncertain_interval)
    ranked = Reliability(data["ordinal"])  # nominal and ordinal share the rank codes
    reliability = {"nominal": ranked, "ordinal": ranked, "interval": Reliability(data["interval"])}
    alpha = {lv: reliability[lv].alpha(lv) for lv in LEVELS}
    intervals = {
        lv: reliability[lv].bootstrap(lv, replicates=replicates, confidence=confidence, seed=seed)
        for lv in LEVELS
    }
    judged = levels != None  # noqa: E711 (element-wise on an object array)
    layer_ids, mode_ids = panel.frame.layer_ids, panel.frame.mode_ids
    n_modes = len(mode_ids)

    def part(id_: str, units: list[int]) -> PartAgreement:
        return PartAgreement(
            id=id_,
            judgements=int(judged[:, units].sum()),
            alpha={lv: reliability[lv].alpha(lv, units=units) for lv in LEVELS},
        )

    by_layer = [
        part(lid, list(range(i * n_modes, (i + 1) * n_modes))) for i, lid in enumerate(layer_ids)
    ]
    by_mode = [part(mid, list(range(j, len(cells), n_modes))) for j, mid in enumerate(mode_ids)]
    by_rater = []
    for i, r in enumerate(raters):
        others = [k for k in range(len(raters)) if k != i]
        by_rater.append(
            RaterAgreement(
                rater=r.rater,
                source=r.source,
                judged=int(judged[i].sum()),
                with_rest={lv: reliability[lv].alpha(lv, rater=i) for lv in LEVELS},
                without={
                    lv: Reliability(data[lv][others]).alpha(lv) if len(others) >= 2 else math.nan
                    for lv in LEVELS
                },
            )
        )
    return Agreement(
        raters=panel.ids,
        sources=tuple(r.source for r in raters),
        cells=len(cells),
        judgements=int(judged.sum()),
        alpha=alpha,
        intervals=intervals,
        confidence=confidence,
        seed=seed,
        uncertain_interval=uncertain_interval,
        pairable={lv: reliability[lv].pairable for lv in LEVELS},
        by_layer=by_layer,
        by_mode=by_mode,
        by_rater=by_rater,
        divisive=_divisive(panel, levels, data["interval"], top),
    )


def _encode(levels: np.ndarray, uncertain: float | None) -> dict[AlphaLevel, np.ndarray]:
    """Return the raters × cells values at each level (NaN = blank)."""
    distinct = sorted({v for v in levels.flat if v is not None}, key=ordinal_key)
    rank = {v: float(i) for i, v in enumerate(distinct)}
    ordinal = np.full(levels.shape, np.nan)
    interval = np.full(levels.shape, np.nan)
    for index, v in np.ndenumerate(levels):
        if v is not None:
            ordinal[index] = rank[v]
            interval[index] = interval_value(v, uncertain)
    # Nominal ignores the values' magnitude: the ordinal ranks serve as category codes.
    return {"nominal": ordinal, "ordinal": ordinal, "interval": interval}


def _divisive(
    panel: Panel, levels: np.ndarray, interval: np.ndarray, top: int
) -> list[DivisiveCell]:
    found = []
    ids = panel.ids
    for u, (lid, mid) in enumerate(panel.cells):
        votes = {ids[i]: levels[i, u] for i in range(len(ids)) if levels[i, u] is not None}
        m = len(votes)
        if m < 2:
            continue
        same = sum(n * (n - 1) for n in vote_counts(list(votes.values())).values())
        disagreement = 1.0 - same / (m * (m - 1))
        if disagreement == 0.0:
            continue
        numbers = interval[:, u][~np.isnan(interval[:, u])]
        spread = float(numbers.max() - numbers.min()) if numbers.size >= 2 else math.nan
        found.append(DivisiveCell(lid, mid, votes, disagreement, spread))
    found.sort(key=lambda c: (-c.disagreement, -(0.0 if math.isnan(c.spread) else c.spread)))
    return found[:top]


def cell_agreement(panel: Panel) -> np.ndarray:
    """Return the layers × modes share of pairs of raters who gave each cell the same level
    (NaN where fewer than two judged it).

    >>> from cofail.raters import loads_rater_file, panel_of
    >>> panel = panel_of([loads_rater_file("layer,A,B\\nL,V,N\\n", "csv", f"{n}.csv") for n in "ab"]
    ...                  + [loads_rater_file("layer,A,B\\nL,N,\\n", "csv", "c.csv")])
    >>> cell_agreement(panel).round(3).tolist()
    [[0.333, 1.0]]
    """
    layers, modes = panel.frame.layer_ids, panel.frame.mode_ids
    out = np.full((len(layers), len(modes)), np.nan)
    for i, lid in enumerate(layers):
        for j, mid in enumerate(modes):
            share = pair_agreement([v.level for v in panel.votes(lid, mid).values()])
            if share is not None:
                out[i, j] = share
    return out

"""Without a matrix: learn how many latent failure modes a log shows, and which layers each
exposes (a noisy-OR latent class model chosen by BIC), and set it beside an expert matrix."""

from __future__ import annotations

from dataclasses import dataclass
from math import log
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from cofail.empirical import PatternHistogram
from cofail.fit._estimate import maximise, starts
from cofail.fit._latent import Params, Structure
from cofail.model import Matrix

__all__ = ["Discovery", "discover"]

EXPOSED = 0.3
_STARTS = 4
"""A learned mode exposes a layer when its q is at least this (well above any residual)."""


@dataclass(frozen=True)
class Discovery:
    """Models with 0, 1, … latent modes, their BIC, and the chosen one."""

    layers: tuple[str, ...]
    candidates: tuple[tuple[int, float, float, Params], ...]
    """(modes, log-likelihood, BIC, parameters) for each number of modes tried."""
    chosen: int
    n_cases: float
    matches: tuple[dict[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return plain data for JSON."""
        _, loglik, bic, params = self.candidates[self.chosen]
        return {
            "layers": list(self.layers),
            "method": "noisy-OR latent class model: every q free, EM from 4 starts per size, "
            "the number of latent modes chosen by BIC = -2 loglik + parameters x ln(cases)",
            "candidates": [
                {"modes": g, "loglik": ll, "bic": b, "parameters": _n_params(g, len(self.layers))}
                for g, ll, b, _ in self.candidates
            ],
            "chosen": self.candidates[self.chosen][0],
            "modes": [
                {
                    "p": float(params.p[g]),
                    "q": {lid: float(params.q[i, g]) for i, lid in enumerate(self.layers)},
                    "exposes": [
                        lid for i, lid in enumerate(self.layers) if params.q[i, g] >= EXPOSED
                    ],
                }
                for g in range(len(params.p))
            ],
            "residuals": {lid: float(params.r[i]) for i, lid in enumerate(self.layers)},
            "loglik": loglik,
            "bic": bic,
            "beside_matrix": list(self.matches),
        }


def _n_params(groups: int, layers: int) -> int:
    return groups + groups * layers + layers


def discover(
    histogram: PatternHistogram,
    *,
    max_modes: int = 4,
    matrix: Matrix | None = None,
    seed: int = 0,
) -> Discovery:
    """Return latent-mode models of 0 … ``max_modes`` modes fitted to the log, BIC's choice
    marked, its modes matched to ``matrix``'s where one is given.

    Examples
    --------
    Two layers that fail together far more than their rates predict need a common cause.

    >>> h = PatternHistogram.from_counts(("a", "b"), {"": {0: 700, 1: 50, 2: 50, 3: 200}})
    >>> d = discover(h, max_modes=1)
    >>> d.candidates[d.chosen][0]
    1
    """
    layers = histogram.layers
    patterns, counts = histogram.pooled()
    bits = np.ascontiguousarray(histogram.bits(patterns))
    n = float(counts.sum())
    k = len(layers)
    found = []
    for g in range(max_modes + 1):
        s = Structure(
            q_free=np.ones((k, g), dtype=bool),
            q_fixed=np.zeros((k, g)),
            p_free=np.ones(g, dtype=bool),
            r_free=np.ones(k, dtype=bool),
        )
        params, loglik, _ = maximise(
            s, bits, counts, starts(s, bits, counts, _STARTS, seed + g), tol=1e-8
        )
        found.append((g, loglik, -2 * loglik + _n_params(g, k) * log(n), params))
    chosen = int(np.argmin([b for _, _, b, _ in found]))
    matches: tuple[dict[str, Any], ...] = ()
    if matrix is not None:
        matches = tuple(_beside(found[chosen][3], layers, matrix))
    return Discovery(
        layers=layers, candidates=tuple(found), chosen=chosen, n_cases=n, matches=matches
    )


def _beside(params: Params, layers: tuple[str, ...], matrix: Matrix) -> list[dict[str, Any]]:
    """Match each learned mode to the expert mode whose exposed layers overlap it most
    (Jaccard similarity, one-to-one by the Hungarian algorithm)."""
    learned = [
        set(np.flatnonzero(params.q[:, g] >= EXPOSED).tolist()) for g in range(len(params.p))
    ]
    present = [lid for lid in layers if lid in matrix.layer_ids]
    expert = []
    for mid in matrix.mode_ids:
        exposed = {layers.index(lid) for lid in present if matrix.cells[lid][mid].level != "N"}
        expert.append(exposed)
    if not learned or not expert:
        return []
    similarity = np.array(
        [[len(a & b) / len(a | b) if a | b else 0.0 for b in expert] for a in learned]
    )
    # The learned modes come out in no meaningful order (the likelihood is the same under any
    # relabelling), so they are named by the assignment with the most overlap in all: matching
    # each to its own best could name two after one expert mode.
    rows, cols = linear_sum_assignment(-similarity)
    return [
        {
            "learned": int(r),
            "expert_mode": matrix.mode_ids[c],
            "jaccard": float(similarity[r, c]),
            "learned_exposes": [layers[i] for i in sorted(learned[r])],
            "expert_exposes": [layers[i] for i in sorted(expert[c])],
        }
        for r, c in zip(rows, cols, strict=True)
    ]

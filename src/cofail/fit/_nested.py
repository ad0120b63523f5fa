"""Other explanations of the same log: a failure mode nested in another, merged or split.

When one mode's exposed layers are a subset of another's (in the catalog, DEC-AL's are
AL-GEN's without DEBATE, COLL's are CAP-DEV's without RLHF), the log can often be explained
two ways: both modes present on their own, or the smaller one absent and the larger one
present on the cases of either, its q on the extra layers scaled down to keep P(it fails
them). With every q at 1 the two give the same pattern probabilities exactly, and in general
nearly: the likelihood has two branches, and EM from generic starts ends on one. The profile
of a parameter followed from one branch never meets the other, so the intervals made there
can miss the truth (measured: CAP-DEV's p at 0.158 [0.153, 0.164], truth 0.08, on 3 of 43
catalog logs). EM is therefore also started from the other explanation of each nested pair;
where it ends inside the likelihood region, the intervals are widened to take it in.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass

import numpy as np
from scipy.special import logit

from cofail.fit._latent import Params, Structure
from cofail.fit._profile import maximise_held


@dataclass(frozen=True)
class Rival:
    """Another explanation of the log, near the optimum in likelihood, far from it in p."""

    inner: int
    outer: int
    deviance: float
    """2 (ℓ̂ − ℓ) at the rival (its EM end)."""
    params: Params
    parameters: tuple[int, ...]
    """The free parameters of the pair (its p's and q's; of a swap, any) that the rival moves
    by more than ``_MOVED`` on the logit scale."""
    absent: bool = False
    """The inner mode's p interval reaches 0 (the log allows it absent, merged into the outer
    one): ``params`` is then the optimum itself and ``deviance`` 0."""
    swapped: bool = False
    """The rival is the two modes swapped on the layers they share (``swapped_explanations``):
    ``inner`` and ``outer`` are then just the pair, in order."""


__all__ = [
    "ABSENT",
    "RIVAL",
    "Rival",
    "absent_inner",
    "nested_pairs",
    "other_explanations",
    "rivals",
    "swapped_explanations",
]

RIVAL = 2.0
"""A rival explanation whose likelihood-ratio statistic against the optimum is under this many
times the χ² cutoff makes the pair's parameters not identified: the fit's optimum and the
rival are both local maxima of a likelihood with several, EM reaches either, and at these
distances which one is the global maximum changes from log to log (measured on the catalog:
rivals at 4.7-5.6 from an optimum itself 1.0 below one found elsewhere)."""
ABSENT = 1e-3
"""An inner mode whose p interval starts below this may be absent: merged into the outer."""
_MOVED = 0.25
"""A rival counts only where it moves a p of the pair by this much on the logit scale."""
_MOVED_BY = 0.01
"""A swap counts only where it moves a p or q of the pair by this much on its own scale too
(half ``NARROW``): near 0 or 1 the logit scale makes a move of 0.9998 to 0.99995 look large
(measured: the catalog's EM-MIS+EVAL-DIFF q's on RLAIF and DEBATE, [0.9998, 1], moved so by
a swap with COLL)."""
_ABSENT = 1e-3
"""The p a merged-away mode starts from (not 0: EM could not move it from 0)."""


def nested_pairs(s: Structure) -> list[tuple[int, int]]:
    """Return (inner, outer) group pairs whose free exposures nest strictly: every layer the
    inner group exposes, the outer one does too, and more.

    >>> q = np.array([[1, 1], [1, 0], [0, 0]], dtype=bool)
    >>> nested_pairs(Structure(q, np.zeros((3, 2)), np.ones(2, bool), np.ones(3, bool)))
    [(1, 0)]
    """
    support = s.q_free | (s.q_fixed > 0)
    out = []
    for g in range(support.shape[1]):
        for h in range(support.shape[1]):
            inner, outer = support[:, g], support[:, h]
            if g != h and inner.any() and not (inner & ~outer).any() and (outer & ~inner).any():
                out.append((g, h))
    return out


def other_explanations(params: Params, s: Structure) -> list[tuple[int, int, Params]]:
    """Return, per nested pair (inner, outer), the points that explain the log the other way:
    the inner mode merged into the outer one, and the outer one split into the two.

    Merged: P(outer) becomes P(either), the outer's q on the extra layers scaled by
    p_outer / P(either), its q on the shared layers the two modes' average weighted by p, the
    inner's p near 0. Split: the outer's p becomes p_outer × its largest q on the extra layers
    (that q becomes 1), the inner takes the rest of P(either) (and, a second point, the rest of
    p_outer) with the outer's q on the shared layers. Only parameters free in ``s`` change.
    """
    out = []
    support = s.q_free | (s.q_fixed > 0)
    for g, h in nested_pairs(s):
        if not (s.p_free[g] and s.p_free[h]):
            continue
        extra = support[:, h] & ~support[:, g]
        shared = support[:, g]
        p, q = params.p.copy(), params.q.copy()
        either = 1 - (1 - p[g]) * (1 - p[h])
        if either <= 0:
            continue
        # Merged.
        pm, qm = p.copy(), q.copy()
        pm[h], pm[g] = either, _ABSENT
        qm[extra, h] = q[extra, h] * p[h] / either
        qm[shared, h] = (p[h] * q[shared, h] + p[g] * q[shared, g]) / max(p[h] + p[g], 1e-12)
        out.append((g, h, _free_only(params, s, pm, qm)))
        # Split: the inner mode takes over what the outer one does on the shared layers
        # beyond the extra ones, from P(either) and, second, from the outer's p alone (the
        # inner's own p may be a remnant with q's of its own, as on a merged branch).
        top = float(q[extra, h].max())
        if top <= 0:
            continue
        for union in dict.fromkeys((either, float(p[h]))):
            ps, qs = p.copy(), q.copy()
            ps[h] = p[h] * top
            ps[g] = max(_ABSENT, 1 - (1 - union) / (1 - ps[h]))
            qs[extra, h] = q[extra, h] / top
            qs[shared, g] = q[shared, h]
            out.append((g, h, _free_only(params, s, ps, qs)))
    return out


def swapped_explanations(params: Params, s: Structure) -> list[tuple[int, int, Params]]:
    """Return, per pair of groups (g < h) exposing a layer in common, the point with the two
    swapped there: their p's exchanged, and their q's on the shared layers.

    Two modes whose columns are nearly alike explain a log nearly as well either way round;
    the likelihood then has two branches near a point where the structure is singular (the
    two columns equal), the likelihood-ratio statistic is not χ²₁ there, and the intervals of
    either branch miss the truth more often than their level says (measured on the coverage
    study's collinear matrix: the exact profile interval of the pair's q on one layer covered
    at 87-89 %, its statistic at the truth χ²₁ scaled by 1.5-1.66; the swapped point ended
    within twice the cutoff of the optimum on most logs). Columns unlike each other give a
    swapped point EM climbs back from to the optimum, or one far below it.

    >>> q = np.array([[0.8, 0.7], [0.6, 0.0]])
    >>> one = Params(np.array([0.1, 0.2]), q, np.array([0.05, 0.05]))
    >>> s = Structure(q > 0, np.zeros((2, 2)), np.ones(2, bool), np.ones(2, bool))
    >>> [(g, h, x.p.tolist(), x.q[:, 0].tolist()) for g, h, x in swapped_explanations(one, s)]
    [(0, 1, [0.2, 0.1], [0.7, 0.6])]
    """
    out = []
    support = s.q_free | (s.q_fixed > 0)
    for g in range(support.shape[1]):
        for h in range(g + 1, support.shape[1]):
            shared = support[:, g] & support[:, h]
            if not shared.any() or not (s.p_free[g] and s.p_free[h]):
                continue
            p, q = params.p.copy(), params.q.copy()
            p[g], p[h] = params.p[h], params.p[g]
            q[shared, g], q[shared, h] = params.q[shared, h], params.q[shared, g]
            out.append((g, h, _free_only(params, s, p, q)))
    return out


def _free_only(params: Params, s: Structure, p: np.ndarray, q: np.ndarray) -> Params:
    """Return ``params`` with the free p and q replaced, each p at least ``_ABSENT``.

    The q are not moved off 0 or 1: a q of 1 (the catalog's) that EM must find again from
    0.999 costs hundreds of slow steps near the boundary."""
    p = np.where(s.p_free, np.clip(p, _ABSENT, 1 - _ABSENT), params.p)
    q = np.where(s.q_free, np.clip(q, 0.0, 1.0), params.q)
    return Params(p, q, params.r.copy())


def rivals(
    params: Params, loglik: float, s: Structure, bits: np.ndarray, counts: np.ndarray, limit: float
) -> list[Rival]:
    """Return the other explanations (``other_explanations``, and ``swapped_explanations``)
    whose EM end lies within ``limit`` of the optimum in likelihood-ratio statistic and moves a
    p of its pair by more than ``_MOVED`` (logit; a swap: any p or q of the pair, by
    ``_MOVED_BY`` on its own scale too): where the log does not tell the two apart."""
    out = []
    index = _indices(s)
    candidates = [(*x, False) for x in other_explanations(params, s)]
    candidates += [(*x, True) for x in swapped_explanations(params, s)]
    for g, h, start, swapped in candidates:
        # Not EM alone: a split sets q's to exactly 1, where EM's updates cannot move them.
        end, ll = maximise_held(start, s, bits, counts, loglik, limit, recheck_inside=True)
        d = max(0.0, 2 * (loglik - ll))
        if d >= limit:
            continue
        moved = max(abs(float(_logit(end.p[x]) - _logit(params.p[x]))) for x in (g, h))
        if moved < _MOVED and not swapped:
            continue
        support = s.q_free | (s.q_fixed > 0)
        touched = [index["p", g], index["p", h]] + [
            index["q", i, x]
            for x in (g, h)
            for i in np.flatnonzero(support[:, x])
            if ("q", i, x) in index
        ]
        # Only what the rival moves: on a pair that a structural trade-off also runs through,
        # the rival can move other modes and leave this pair's p where it was. A swap may
        # move any parameter (another mode taking a layer's failures, a residual giving way
        # to a mode): each it moves is one the log does not pin down.
        before, after = params.vector(s), end.vector(s)
        if swapped:
            touched = list(range(len(before)))
        moved_ones = [
            k
            for k in set(touched)
            if abs(_logit(after[k]) - _logit(before[k])) > _MOVED
            and (not swapped or abs(after[k] - before[k]) > _MOVED_BY)
        ]
        if moved_ones:
            out.append(Rival(g, h, d, end, tuple(sorted(moved_ones)), swapped=swapped))
    return out


def _logit(x: float) -> float:
    return float(logit(np.clip(x, 1e-9, 1 - 1e-9)))


def _indices(s: Structure) -> dict[tuple[object, ...], int]:
    """Return the free-parameter index of ("p", g) and ("q", layer, g)."""
    out: dict[tuple[object, ...], int] = {}
    k = 0
    for group in np.flatnonzero(s.p_free).tolist():
        out["p", group] = k
        k += 1
    rows, cols = np.nonzero(s.q_free)
    for i, g in zip(rows.tolist(), cols.tolist(), strict=True):
        out["q", i, g] = k
        k += 1
    return out


def absent_inner(
    params: Params, s: Structure, low: np.ndarray, unidentified: Set[int] = frozenset()
) -> list[Rival]:
    """Return, per nested pair whose inner mode's p interval starts below ``ABSENT`` (``low``:
    the intervals' lower ends), the outer mode's p and q on the extra layers: with the inner
    mode possibly absent, the outer one may be standing for both. An inner p on a direction
    no log can see (``unidentified``, the structure check's) reaches 0 along that direction,
    not by a merge: skipped (under --binary, EM-MIS+EVAL-DIFF's p trades off against
    CAP-DEV's and would otherwise take AL-GEN's p, [0.0786, 0.0814], with it).

    Measured on the catalog (20,000 cases): on a log where COLL's p came back as 0.029
    [0.0003, 0.73], CAP-DEV's p 0.154 [0.148, 0.159] (truth 0.08) was marked identified; the
    split explanation lay at a likelihood ratio of 8.9, which no χ²₁ reading of a choice
    between two branches of a likelihood should be trusted to reject.
    """
    index = _indices(s)
    support = s.q_free | (s.q_fixed > 0)
    out = []
    for g, h in nested_pairs(s):
        if ("p", g) not in index or ("p", h) not in index or low[index["p", g]] >= ABSENT:
            continue
        if index["p", g] in unidentified:
            continue
        extra = support[:, h] & ~support[:, g]
        touched = [index["p", h]] + [
            index["q", i, h] for i in np.flatnonzero(extra).tolist() if ("q", i, h) in index
        ]
        out.append(Rival(g, h, 0.0, params, tuple(touched), absent=True))
    return out

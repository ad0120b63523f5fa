"""Combining scored layers under one false-positive budget: which thresholds catch the most.

Rule ``any`` audits a case when any layer flags it; rule ``all`` (a cascade) only when every
layer does. Both choose one threshold per layer to maximise the catch rate on attack cases
subject to the *realised* false-positive rate of the combined rule on honest cases being at
most the budget.

The search. A threshold between two honest scores flags the same honest cases as the lower of
the two and more attacks, so the optimum lies at distinct honest scores (or "off"). Each layer's
candidates are coded once (``code = number of candidates below the score``, so a case is
flagged at candidate j exactly when ``code > j``); a d-dimensional histogram of the codes and
its cumulative sums then give the combined false-positive and catch counts of *every*
combination of candidates at once. That is exact while the grid has at most 2^22 cells (up to
3 layers on logs of a few thousand honest cases). Past that, each layer's candidates are
thinned to an even grid of ranks and the search is refined around the best cell, and beyond 3
layers pairs of layers are re-optimised in turn with the others fixed (a local optimum). The
result always says which search produced it.

An in-sample optimum is optimistic, so :func:`cross_validate` refits the thresholds on folds
and scores them on the cases left out.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cofail.errors import InputError
from cofail.scores._polish import Rows, Rule, polish, polish_any

__all__ = ["Combination", "CrossValidation", "combine", "cross_validate", "evaluate"]

_MAX_CELLS = 1 << 22
_PAIR_CELLS = 1 << 16
"""Cells of a pairwise step's grid (256 candidates a layer): many steps, each cheap."""
_SEARCH_CASES = 50_000
"""Past this many honest or attack cases, the search runs on a seeded subsample of each."""
_REFINE = 4
_SWEEPS = 4


@dataclass(frozen=True)
class Combination:
    """The best thresholds found for a combined rule, and their in-sample rates."""

    rule: Rule
    thresholds: tuple[float, ...]
    """One per layer, oriented scale; ``inf`` means the layer is off (never flags)."""
    false_positives: int
    n_honest: int
    caught: int
    n_attack: int
    budget: float
    method: str
    """Which search produced the thresholds: exact, grid and refined, or pairwise."""

    @property
    def fpr(self) -> float:
        return self.false_positives / self.n_honest

    @property
    def tpr(self) -> float:
        return self.caught / self.n_attack


@dataclass(frozen=True)
class CrossValidation:
    """Out-of-sample rates of a combination refitted on folds."""

    folds: int
    method: str
    caught: int
    n_attack: int
    false_positives: int
    n_honest: int
    per_fold_tpr: tuple[float, ...] = field(default_factory=tuple)

    @property
    def tpr(self) -> float:
        return self.caught / self.n_attack

    @property
    def fpr(self) -> float:
        return self.false_positives / self.n_honest


def _folds(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """Each of ``n`` cases' fold of ``k``: ``rng.permutation(n) % k``, the same draw, as one
    byte a case. A shuffle moves the same positions whatever the array holds, so shuffling
    the labels ``arange(n) % k`` gives the folds of the permutation; it takes a fifth of the
    time at 10^7 cases (the permutation's 8-byte indices miss the cache).

    >>> rng = np.random.default_rng(3)
    >>> f = _folds(rng, 11, 3)
    >>> f.dtype, f.tolist() == (np.random.default_rng(3).permutation(11) % 3).tolist()
    (dtype('uint8'), True)
    """
    labels = np.empty(n, dtype=np.uint8)
    for f in range(k):
        labels[f::k] = f  # arange(n) % k (np.resize: 30 times slower)
    rng.shuffle(labels)
    return labels


def evaluate(
    honest: np.ndarray, attack: np.ndarray, thresholds: Sequence[float], rule: Rule
) -> tuple[int, int]:
    """Return (honest cases flagged, attack cases flagged) by ``rule`` at ``thresholds``.

    >>> h = np.array([[1.0, 1.0], [5.0, 0.0], [0.0, 5.0]])
    >>> a = np.array([[6.0, 0.0], [0.0, 0.0], [6.0, 6.0]])
    >>> evaluate(h, a, [4.0, 4.0], "any"), evaluate(h, a, [4.0, 4.0], "all")
    ((2, 2), (0, 1))
    """
    return _flag_count(honest, thresholds, rule), _flag_count(attack, thresholds, rule)


def _flag_count(
    scores: np.ndarray, thresholds: Sequence[float], rule: Rule, rows: np.ndarray | None = None
) -> int:
    """Cases (of ``rows``, else all) the rule flags at ``thresholds``."""
    if scores.shape[0] == 0 or (rows is not None and len(rows) == 0):
        return 0

    # Rows that are a large share of the log (a fold): the flags of every case, then the
    # rows' (a gather of one byte a row instead of one score a row and layer).
    gather = None if rows is None or 4 * len(rows) > scores.shape[0] else rows

    def column(i: int) -> np.ndarray:
        return scores[:, i] if gather is None else np.take(scores[:, i], gather)

    acc = column(0) > thresholds[0]
    for i in range(1, scores.shape[1]):
        flag = column(i) > thresholds[i]
        acc = (acc | flag) if rule == "any" else (acc & flag)
    if rows is not None and gather is None:
        acc = acc[rows]
    return int(np.count_nonzero(acc))


def combine(
    honest: np.ndarray, attack: np.ndarray, budget: float, rule: Rule = "any", *, seed: int = 0
) -> Combination:
    """Return the thresholds that catch the most attacks with the combined rule's realised
    false-positive rate on ``honest`` at most ``budget``.

    Parameters
    ----------
    honest, attack : cases × layers, oriented scores (higher = more suspicious).
    budget : the false-positive rate allowed, in [0, 1].
    rule : ``any`` (audit when any layer flags) or ``all`` (only when every layer does).

    Examples
    --------
    Two monitors that miss different attacks: each alone, at a budget of one honest case in
    four, catches 2 of 4 attacks; together, splitting the budget, they catch 3.

    >>> h = np.array([[9.0, 0.0], [0.0, 9.0], [1.0, 1.0], [2.0, 2.0]])
    >>> a = np.array([[5.0, 0.0], [0.0, 5.0], [5.0, 5.0], [0.0, 0.0]])
    >>> c = combine(h, a, 0.5)
    >>> c.caught, c.false_positives, c.method.split(":")[0]
    (3, 2, 'exact')

    Notes
    -----
    Exact over distinct honest scores while the candidate grid has at most 2^22 cells;
    otherwise a grid of ranks refined around its best cell, and for more than 3 layers a
    pairwise coordinate search (see the module docstring). Cost O(n d + cells) per grid.
    """
    return _combine(honest, attack, budget, rule, seed, None)


def _combine(
    honest: np.ndarray, attack: np.ndarray, budget: float, rule: Rule, seed: int, rows: Rows
) -> Combination:
    n_h = honest.shape[0] if rows is None else len(rows[0])
    n_a = attack.shape[0] if rows is None else len(rows[1])
    d = honest.shape[1]
    if n_h == 0:
        raise InputError("a combination under a budget needs honest cases")
    allowed = math.floor(budget * n_h + 1e-9)  # honest cases the rule may flag
    counted = False  # the rule's counts at the result, where the search kept them
    if n_h > _SEARCH_CASES or n_a > _SEARCH_CASES:
        # A search needs many passes over the cases; on a seeded subsample each pass is
        # cheap, and the polish on every case then makes the thresholds feasible and locally
        # best for the data as given. The rates are always counted on every case.
        rng = np.random.default_rng(seed)
        pick_h, pick_a = _pick(rng, n_h), _pick(rng, n_a)
        if rows is not None:
            pick_h, pick_a = rows[0][pick_h], rows[1][pick_a]
        sub_h, sub_a = honest[pick_h], attack[pick_a]
        inner = combine(sub_h, sub_a, budget, rule, seed=seed)
        start = list(inner.thresholds)
        if rule == "any":
            best, fp, tp = polish_any(honest, attack, start, allowed, rows)
            counted = True
        elif rows is None:
            best = polish(honest, attack, start, allowed, rule)
        else:
            best = polish(_rows(honest, rows[0]), _rows(attack, rows[1]), start, allowed, rule)
        method = (
            f"searched on a seeded random subsample ({len(sub_h):,} honest, {len(sub_a):,} "
            f"attack cases; {inner.method}), then each layer's threshold re-set on every case "
            "to the lowest the others leave within budget"
        )
    else:
        if rows is not None:  # a small fold: copy it
            honest, attack, rows = honest[rows[0]], attack[rows[1]], None
        if d <= 3:
            cands = [_candidates(honest[:, i], allowed, rule) for i in range(d)]
            best, exact, _, _ = _grid_search(honest, attack, cands, allowed, rule, list(range(d)))
            method = "exact: every combination of thresholds at distinct honest scores"
            if not exact:
                refined = _refine(honest, attack, cands, best, allowed, rule)
                best = polish(honest, attack, refined, allowed, rule)
                method = (
                    "grid: thresholds on an even grid of each layer's candidate scores, refined "
                    f"{_REFINE} times around the best and polished one layer at a time (the "
                    "best found, not proven optimal)"
                )
        else:
            best = polish(honest, attack, _pairwise(honest, attack, allowed, rule), allowed, rule)
            method = (
                "pairwise: each pair of layers re-optimised in turn on a grid of candidate "
                f"scores with the others fixed, up to {_SWEEPS} sweeps, then polished one layer "
                "at a time (a local optimum, not proven global)"
            )
    if not counted:
        fp = _flag_count(honest, best, rule, None if rows is None else rows[0])
        tp = _flag_count(attack, best, rule, None if rows is None else rows[1])
    return Combination(
        rule=rule,
        thresholds=tuple(float(t) for t in best),
        false_positives=fp,
        n_honest=n_h,
        caught=tp,
        n_attack=n_a,
        budget=budget,
        method=method,
    )


def _pick(rng: np.random.Generator, n: int) -> np.ndarray:
    if n <= _SEARCH_CASES:
        return np.arange(n)
    return np.sort(rng.choice(n, _SEARCH_CASES, replace=False))


def _rows(scores: np.ndarray, index: np.ndarray) -> np.ndarray:
    """The rows ``index`` of a cases × layers array, column-major like the logs' arrays (the
    polish works one column at a time)."""
    out = np.empty((len(index), scores.shape[1]), order="F")
    for i in range(scores.shape[1]):
        np.take(scores[:, i], index, out=out[:, i])
    return out


def _candidates(column: np.ndarray, allowed: int, rule: Rule) -> np.ndarray:
    """Distinct honest scores worth trying as thresholds, ascending, then ``inf`` (off).

    For ``any`` a layer alone may flag at most ``allowed`` honest cases, so only the top
    ``allowed + 1`` honest scores can be thresholds (found by a partition, not a sort). For
    ``all`` any honest score can, and ``-inf`` (flag every case) takes the layer out of the
    cascade.
    """
    n = len(column)
    if rule == "all" or allowed >= n:
        values = np.concatenate(([-np.inf], np.unique(column)))
    else:
        values = np.unique(np.partition(column, n - allowed - 1)[n - allowed - 1 :])
    return np.concatenate((values, [np.inf]))


def _thin(cands: np.ndarray, size: int) -> np.ndarray:
    """At most ``size`` of ``cands`` at evenly spaced ranks, keeping both ends."""
    if len(cands) <= size:
        return cands
    pick = np.unique(np.linspace(0, len(cands) - 1, size).round().astype(np.int64))
    return cands[pick]


def _grid_search(
    honest: np.ndarray,
    attack: np.ndarray,
    cands: Sequence[np.ndarray],
    allowed: int,
    rule: Rule,
    layers: Sequence[int],
    base_h: np.ndarray | None = None,
    base_a: np.ndarray | None = None,
    fixed: Sequence[float] | None = None,
    cells: int = _MAX_CELLS,
) -> tuple[list[float], bool, int, int]:
    """Best thresholds of ``layers`` over (possibly thinned) candidate grids.

    ``base_h`` / ``base_a`` mark the cases the other (fixed) layers already decide: for
    ``any``, cases they flag (counted as flagged whatever these layers do); for ``all``, cases
    they do not flag (never flagged). Returns the thresholds of every layer (``fixed`` for the
    others) and whether the grid was exact.
    """
    k = len(layers)
    size = max(2, int(cells ** (1.0 / k)))
    grids = [_thin(cands[j], size) for j in range(k)]
    exact = all(len(g) == len(c) for g, c in zip(grids, cands, strict=True))
    shape = tuple(len(g) for g in grids)
    # Cases the fixed layers decide drop out; the rest are coded on the grids.
    hist_h = _histogram(honest, layers, grids, shape, None if base_h is None else ~base_h)
    hist_a = _histogram(attack, layers, grids, shape, None if base_a is None else ~base_a)
    decided_h = 0 if base_h is None else int(np.count_nonzero(base_h))
    decided_a = 0 if base_a is None else int(np.count_nonzero(base_a))
    if rule == "any":
        # flagged by any of these at cell j = free cases minus those with every code <= j_l
        fp = decided_h + (hist_h.sum() - _cumulative(hist_h, reverse=False))
        tp = decided_a + (hist_a.sum() - _cumulative(hist_a, reverse=False))
    else:
        # flagged by all at cell j = cases with every code > j_l (reverse cumulative, shifted)
        fp = _shifted_survival(hist_h)
        tp = _shifted_survival(hist_a)
    feasible = fp <= allowed
    score = np.where(feasible, tp.astype(np.float64) - fp / (2.0 * (honest.shape[0] + 1)), -1.0)
    cell = np.unravel_index(int(np.argmax(score)), shape)
    out = list(fixed) if fixed is not None else [np.inf] * honest.shape[1]
    for j, layer in enumerate(layers):
        out[layer] = float(grids[j][cell[j]])
    return out, exact, int(fp[cell]), int(tp[cell])


def _histogram(
    scores: np.ndarray,
    layers: Sequence[int],
    grids: Sequence[np.ndarray],
    shape: tuple[int, ...],
    rows: np.ndarray | None,
) -> Any:
    """Counts of the cases (those ``rows`` marks, else all) by the tuple of their codes on
    ``layers`` (code: the number of grid values below the score).

    A case at or below every grid's lowest value has every code 0: only the others are coded
    (on rule ``any``'s grids, the top of each layer, they are few), the rest are counted in
    the first cell.
    """
    active = None
    for layer, grid in zip(layers, grids, strict=True):
        if grid[0] == -np.inf:  # every case is above this grid's lowest value
            active = None
            break
        above = scores[:, layer] > grid[0]
        active = above if active is None else (active | above)
    if active is None:
        picked = np.arange(scores.shape[0]) if rows is None else np.flatnonzero(rows)
    else:
        picked = np.flatnonzero(active if rows is None else (active & rows))
    counted = scores.shape[0] if rows is None else int(np.count_nonzero(rows))
    index = np.zeros(len(picked), dtype=np.int64)
    stride = 1
    for j in reversed(range(len(grids))):
        # searchsorted 'left' counts grid values strictly below: flagged at j iff code > j.
        code = np.searchsorted(grids[j], scores[picked, layers[j]], side="left")
        index += code * stride
        stride *= shape[j] + 1  # codes run 0 … len(grid)
    full = tuple(s + 1 for s in shape)
    counts = np.bincount(index, minlength=int(np.prod(full)))
    counts[0] += counted - len(picked)
    return counts.reshape(full)


def _cumulative(hist: np.ndarray, *, reverse: bool) -> np.ndarray:
    """Cases with every code <= j, for every cell j of the grid (drops the last code row)."""
    out = hist
    for axis in range(hist.ndim):
        out = np.cumsum(out, axis=axis)
    return out[tuple(slice(0, s - 1) for s in hist.shape)]


def _shifted_survival(hist: np.ndarray) -> np.ndarray:
    """Cases with every code > j, for every cell j."""
    out = hist
    for axis in range(hist.ndim):
        out = np.flip(np.cumsum(np.flip(out, axis=axis), axis=axis), axis=axis)
    return out[tuple(slice(1, None) for _ in hist.shape)]


def _refine(
    honest: np.ndarray,
    attack: np.ndarray,
    cands: Sequence[np.ndarray],
    best: list[float],
    allowed: int,
    rule: Rule,
) -> list[float]:
    """Narrow each layer's candidates to the grid cells beside ``best`` and search again."""
    d = len(cands)
    size = max(2, int(_MAX_CELLS ** (1.0 / d)))
    windows, current = list(cands), best
    for _ in range(_REFINE):
        narrowed = []
        for j, window in enumerate(windows):
            if len(window) <= size:
                narrowed.append(window)
                continue
            step = math.ceil(len(window) / (size - 1))
            pos = int(np.searchsorted(window, current[j]))
            narrowed.append(window[max(0, pos - step) : pos + step + 1])
        windows = narrowed
        found, exact, _, _ = _grid_search(honest, attack, windows, allowed, rule, list(range(d)))
        if _better(honest, attack, found, current, allowed, rule):
            current = found
        if exact:
            break
    return current


def _better(
    honest: np.ndarray,
    attack: np.ndarray,
    new: Sequence[float],
    old: Sequence[float],
    allowed: int,
    rule: Rule,
) -> bool:
    fp_new, tp_new = evaluate(honest, attack, new, rule)
    fp_old, tp_old = evaluate(honest, attack, old, rule)
    return fp_new <= allowed and (tp_new, -fp_new) > (tp_old, -fp_old)


def _pairwise(honest: np.ndarray, attack: np.ndarray, allowed: int, rule: Rule) -> list[float]:
    """Pairwise coordinate search from the best single layer and from an even split."""
    d = honest.shape[1]
    neutral = np.inf if rule == "any" else -np.inf  # a layer that changes nothing
    starts = []
    for i in range(d):  # the whole budget to one layer
        t = [neutral] * d
        t[i] = float(_candidates(honest[:, i], allowed, "any")[0])
        starts.append(t)
    if rule == "any":  # an even split is feasible by the union bound
        share = math.floor(allowed / d)
        starts.append([float(_candidates(honest[:, i], share, "any")[0]) for i in range(d)])
    starts = [s for s in starts if _flag_count(honest, s, rule) <= allowed]
    if not starts:
        starts = [[np.inf] * d]
    best = max(starts, key=lambda s: _flag_count(attack, s, rule))
    fp_best, tp_best = evaluate(honest, attack, best, rule)
    flags = _Flags(honest, attack, allowed, rule)
    flags.set(best)  # and again whenever best changes, below
    for _ in range(_SWEEPS):
        improved = False
        for pair in itertools.combinations(range(d), 2):
            base_h, base_a = flags.decided(pair)
            room = allowed - (0 if rule == "all" else int(np.count_nonzero(base_h)))
            cands = [flags.candidates(i, base_h, max(room, 0)) for i in pair]
            # The grid's counts at its best cell are the rule's counts at those thresholds
            # (the fixed layers' cases included): no second pass over the cases.
            found, _, fp, tp = _grid_search(
                honest, attack, cands, allowed, rule, list(pair), base_h, base_a, best,
                cells=_PAIR_CELLS,
            )  # fmt: skip
            if fp <= allowed and (tp, -fp) > (tp_best, -fp_best):
                best, fp_best, tp_best, improved = found, fp, tp, True
                flags.set(best)
        if not improved:
            break
    return best


class _Flags:
    """The pairwise search's view of the cases at the current thresholds: each case's flag
    by each layer and its count of flagging layers (``any``) or of layers not flagging it
    (``all``), so that the cases the other layers of a pair decide are read off the counts,
    and each layer's top ``allowed + 1`` honest cases, where rule ``any``'s candidates lie."""

    def __init__(self, honest: np.ndarray, attack: np.ndarray, allowed: int, rule: Rule) -> None:
        self.honest, self.attack, self.allowed, self.rule = honest, attack, allowed, rule
        n = honest.shape[0]
        self.top: list[np.ndarray] = []
        if rule == "any" and allowed + 1 < n:
            for i in range(honest.shape[1]):
                column = honest[:, i]
                top = np.argpartition(column, n - allowed - 1)[n - allowed - 1 :]
                self.top.append(top)

    def set(self, thresholds: Sequence[float]) -> None:
        t = np.asarray(thresholds, dtype=np.float64)
        # a case is "decided" by a layer it is flagged by (any) or not flagged by (all)
        if self.rule == "any":
            self.by_h, self.by_a = self.honest > t, self.attack > t
        else:
            self.by_h, self.by_a = self.honest <= t, self.attack <= t
        self.count_h = self.by_h.sum(axis=1, dtype=np.int16)
        self.count_a = self.by_a.sum(axis=1, dtype=np.int16)

    def decided(self, pair: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        """Cases the layers outside ``pair`` decide, honest and attack."""
        i, j = pair
        h = self.count_h - self.by_h[:, i] - self.by_h[:, j] > 0
        a = self.count_a - self.by_a[:, i] - self.by_a[:, j] > 0
        return h, a

    def candidates(self, i: int, decided: np.ndarray, room: int) -> np.ndarray:
        """:func:`_candidates` of layer i's honest cases not ``decided``.

        For ``any``, from its top ``allowed + 1`` cases where at least ``room + 1`` of them
        are free (as when ``allowed - room`` cases are decided): every free case outside them
        scores no higher, so the top ``room + 1`` free scores are theirs.
        """
        if self.top:
            top = self.top[i]
            values = self.honest[top[~decided[top]], i]
            if len(values) > room:
                return _candidates(values, room, "any")
        return _candidates(self.honest[~decided, i], room, self.rule)


def cross_validate(
    honest: np.ndarray,
    attack: np.ndarray,
    budget: float,
    rule: Rule = "any",
    *,
    folds: int | None = None,
    seed: int = 0,
) -> CrossValidation:
    """Return the out-of-sample rates of :func:`combine`: refit on all folds but one, count
    catches and false positives on the fold left out, summed over the folds.

    Five folds by default; two (each half fitted on the other) past 50,000 honest cases,
    where the in-sample optimism is small and each fit runs on a subsample anyway.

    >>> rng = np.random.default_rng(0)
    >>> h, a = rng.normal(size=(400, 2)), rng.normal(1.5, size=(300, 2))
    >>> cv = cross_validate(h, a, 0.05)
    >>> cv.folds, cv.n_attack, 0.0 < cv.tpr < 1.0
    (5, 300, True)
    """
    k = folds or (2 if honest.shape[0] > _SEARCH_CASES else 5)
    if honest.shape[0] < k or attack.shape[0] < k:
        raise InputError(f"cross-validation needs at least {k} honest and {k} attack cases")
    rng = np.random.default_rng(seed)
    fold_h = _folds(rng, honest.shape[0], k)
    fold_a = _folds(rng, attack.shape[0], k)
    # Folds as indices: a large log's folds are read through them, not copied.
    tests = [(np.flatnonzero(fold_h == f), np.flatnonzero(fold_a == f)) for f in range(k)]
    caught = fp = 0
    per_fold = []
    for f in range(k):
        if k == 2:  # each half is the other's training set
            train = tests[1 - f]
        else:
            train = (np.flatnonzero(fold_h != f), np.flatnonzero(fold_a != f))
        fit = _combine(honest, attack, budget, rule, 0, train)
        test_h, test_a = tests[f]
        f_fp = _flag_count(honest, fit.thresholds, rule, test_h)
        f_tp = _flag_count(attack, fit.thresholds, rule, test_a)
        caught, fp = caught + f_tp, fp + f_fp
        per_fold.append(f_tp / max(1, test_a.shape[0]))
    method = (
        f"{k}-fold cross-validation (seed {seed}): thresholds refitted on {k - 1} folds, "
        "catches and false positives counted on the fold left out"
        if k > 2
        else f"2-fold held-out halves (seed {seed}): each half fitted on the other"
    )
    return CrossValidation(
        folds=k,
        method=method,
        caught=caught,
        n_attack=attack.shape[0],
        false_positives=fp,
        n_honest=honest.shape[0],
        per_fold_tpr=tuple(per_fold),
    )

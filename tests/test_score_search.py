"""The combination search's pieces against direct computations on every case.

- ``_histogram`` (which codes only the cases above some grid's lowest value) against coding
  every case and counting;
- ``_Flags``: the cases a pair's other layers decide, read off per-case counts, against an OR
  over those layers; and rule ``any``'s candidates from each layer's top block against
  ``_candidates`` of the free column;
- ``_folds`` against ``permutation(n) % k``.

All deterministic (seeded draws and derandomized hypothesis): CI never fails on a draw.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from cofail.scores._combine import _candidates, _Flags, _folds, _histogram, _thin


def _log(seed: int, n: int, d: int) -> np.ndarray:
    """Scores with heavy ties (rounded to halves) and a few infinities, column-major."""
    rng = np.random.default_rng(seed)
    x = np.round(rng.normal(size=(n, d)) * 2) / 2
    x[rng.random((n, d)) < 0.02] = np.inf
    x[rng.random((n, d)) < 0.02] = -np.inf
    return np.asfortranarray(x)


def _direct_histogram(
    scores: np.ndarray, layers: list[int], grids: list[np.ndarray], rows: np.ndarray | None
) -> np.ndarray:
    """Every case coded on every grid, then counted."""
    picked = np.arange(len(scores)) if rows is None else np.flatnonzero(rows)
    full = tuple(len(g) + 1 for g in grids)
    out = np.zeros(full, dtype=np.int64)
    codes = [
        np.searchsorted(g, scores[picked, i], side="left")
        for g, i in zip(grids, layers, strict=True)
    ]
    np.add.at(out, tuple(codes), 1)
    return out


@pytest.mark.parametrize("seed", range(30))
def test_histogram_equals_coding_every_case(seed: int) -> None:
    rng = np.random.default_rng(seed)
    d = 4
    scores = _log(seed, int(rng.integers(1, 400)), d)
    k = 1 + seed % 3
    layers = sorted(rng.choice(d, k, replace=False).tolist())
    grids = []
    for i in layers:
        values = np.unique(scores[:, i])
        kind = seed % 4
        if kind == 0:  # rule all's grids start at -inf: every case is coded
            grid = np.r_[-np.inf, values, np.inf]
        elif kind == 1:  # rule any's: the top of the layer, then off
            grid = np.r_[values[-3:], np.inf]
        elif kind == 2:  # a grid of only "off"
            grid = np.array([np.inf])
        else:  # thinned, lowest above most scores
            grid = _thin(np.r_[values[len(values) // 2 :], np.inf], 5)
        grids.append(grid)
    rows = None if seed % 2 else rng.random(len(scores)) < 0.6
    shape = tuple(len(g) for g in grids)
    got = _histogram(scores, layers, grids, shape, rows)
    assert np.array_equal(got, _direct_histogram(scores, layers, grids, rows))


@pytest.mark.parametrize("seed", range(24))
@pytest.mark.parametrize("rule", ["any", "all"])
def test_flags_decide_as_an_or_over_the_other_layers(seed: int, rule: str) -> None:
    rng = np.random.default_rng(seed)
    d = 4 + seed % 3
    honest, attack = _log(seed, 300, d), _log(seed + 1000, 200, d)
    allowed = int(rng.integers(0, 60))
    flags = _Flags(honest, attack, allowed, rule)  # type: ignore[arg-type]
    thresholds = [float(rng.choice(honest[:, i])) for i in range(d)]
    thresholds[int(rng.integers(d))] = np.inf if rule == "any" else -np.inf  # a layer off
    flags.set(thresholds)
    for pair in itertools.combinations(range(d), 2):
        others = [i for i in range(d) if i not in pair]
        for scores, got in zip((honest, attack), flags.decided(pair), strict=True):
            t = np.array([thresholds[i] for i in others])
            by = scores[:, others] > t if rule == "any" else scores[:, others] <= t
            assert np.array_equal(got, by.any(axis=1))


@pytest.mark.parametrize("seed", range(40))
def test_candidates_from_the_top_blocks_equal_those_of_the_free_column(seed: int) -> None:
    rng = np.random.default_rng(seed)
    d = 5
    honest, attack = _log(seed, int(rng.integers(20, 500)), d), _log(seed + 7, 50, d)
    allowed = int(rng.integers(0, len(honest) + 5))
    flags = _Flags(honest, attack, allowed, "any")
    for _ in range(6):
        decided = rng.random(len(honest)) < rng.uniform(0.0, 0.5)
        # room as the search computes it, and the cases where it is overdrawn (clipped at 0)
        room = max(allowed - int(np.count_nonzero(decided)), 0)
        for i in range(d):
            want = _candidates(honest[~decided, i], room, "any")
            assert np.array_equal(flags.candidates(i, decided, room), want)


@pytest.mark.parametrize("n", [0, 1, 7, 1000, 100_003])
@pytest.mark.parametrize("k", [2, 3, 5, 20])
def test_folds_are_the_permutations_remainders(n: int, k: int) -> None:
    """The folds drawn as shuffled one-byte labels are ``permutation(n) % k``: the same draw
    (so cross-validated figures did not move when the draw got faster)."""
    want = np.random.default_rng(n + k).permutation(n) % k
    assert np.array_equal(_folds(np.random.default_rng(n + k), n, k), want)

"""The scores' radix sort against NumPy's sort, and the blocked Mann-Whitney merge against a
whole-array search: the same values, the same AUC to the bit."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cofail.scores import _roc, _sorting
from cofail.scores._roc import mann_whitney_auc
from cofail.scores._sorting import radix_available, sort_scores

needs_radix = pytest.mark.skipif(
    not radix_available(), reason="the radix sort was not built (no C compiler at install)"
)

# Every kind of double the readers let through (no NaN), and the ones they do not.
SPECIAL = [0.0, -0.0, np.inf, -np.inf, 5e-324, -5e-324, 2.2250738585072014e-308, -1.5, 1.5]
finite_or_inf = st.one_of(
    st.sampled_from(SPECIAL),
    st.floats(allow_nan=False),
    st.integers(-3, 3).map(float),  # ties
)


def test_radix_sort_is_built_where_required() -> None:
    # make test sets COFAIL_REQUIRE_KERNELS=1: there a missing build is a failure, not a skip.
    if os.environ.get("COFAIL_REQUIRE_KERNELS") != "1":
        pytest.skip("COFAIL_REQUIRE_KERNELS is not set")
    assert radix_available(), "setup.py did not build cofail.scores._radix"


def _same_sort(got: np.ndarray, column: np.ndarray) -> None:
    want = np.sort(column)
    assert np.array_equal(got, want, equal_nan=True)  # the same values in order (±0 equal)
    # ... and the same multiset of bit patterns: nothing the user gave is changed
    assert np.array_equal(np.sort(got.view(np.uint64)), np.sort(column.view(np.uint64)))
    assert got.dtype == np.float64 and got is not column


@needs_radix
@settings(max_examples=300, derandomize=True, deadline=None)
@given(arrays(np.float64, st.integers(0, 600), elements=finite_or_inf))
def test_radix_sort_equals_numpy(column: np.ndarray) -> None:
    before = column.copy()
    _same_sort(_radix_sorted(column), column)
    assert np.array_equal(column.view(np.uint64), before.view(np.uint64))  # input untouched


@needs_radix
def test_radix_sort_on_large_columns_and_strided_views() -> None:
    rng = np.random.default_rng(7)
    wide = np.asfortranarray(rng.normal(size=(200_000, 3)))
    wide[::7, 1] = np.round(wide[::7, 1], 1)  # ties among continuous scores
    c_order = np.ascontiguousarray(wide)  # a column of it is strided
    for i in range(3):
        _same_sort(sort_scores(wide[:, i]), wide[:, i])
        _same_sort(sort_scores(c_order[:, i]), c_order[:, i])
    constant = np.full(100_000, 2.5)  # every byte shared: no pass moves anything
    _same_sort(sort_scores(constant), constant)
    grades = rng.integers(0, 11, 100_000).astype(float)  # a 0-10 monitor
    _same_sort(sort_scores(grades), grades)


@needs_radix
def test_radix_sort_hands_a_nan_to_numpy() -> None:
    column = np.random.default_rng(1).normal(size=100_000)
    column[500] = np.nan
    got = sort_scores(column)
    assert np.isnan(got[-1]) and np.array_equal(got, np.sort(column), equal_nan=True)


def test_numpy_fallback_gives_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    column = np.random.default_rng(2).normal(size=100_000)
    monkeypatch.setattr(_sorting, "_radix", None)
    _same_sort(sort_scores(column), column)


def _radix_sorted(column: np.ndarray) -> np.ndarray:
    """The kernel on a column of any length (sort_scores hands short ones to NumPy)."""
    assert _sorting._radix is not None
    source = np.ascontiguousarray(column)
    out = np.empty_like(source)
    assert _sorting._radix.sort_float64(out, source, np.empty_like(source))
    return out


# -- the blocked Mann-Whitney merge -----------------------------------------------------------


def _whole_array_auc(h: np.ndarray, a: np.ndarray) -> float:
    """Mann-Whitney from one search of every attack score over all honest scores (left and
    right positions: below + equal / 2)."""
    left = np.searchsorted(h, a, "left").sum(dtype=np.int64)
    right = np.searchsorted(h, a, "right").sum(dtype=np.int64)
    return float(int(left) + int(right)) / (2.0 * len(h) * len(a))


@settings(max_examples=300, derandomize=True, deadline=None)
@given(
    st.lists(st.integers(0, 12), min_size=1, max_size=300),
    st.lists(st.integers(0, 12), min_size=1, max_size=300),
    st.integers(1, 9),
)
def test_blocked_merge_equals_a_whole_array_search(
    honest: list[int], attack: list[int], block: int
) -> None:
    # Small blocks, so that runs of tied scores cross block ends on both sides.
    h, a = np.sort(np.array(honest, float)), np.sort(np.array(attack, float))
    saved = _roc._MERGE_BLOCK
    _roc._MERGE_BLOCK = block
    try:
        assert mann_whitney_auc(h, a) == _whole_array_auc(h, a)
    finally:
        _roc._MERGE_BLOCK = saved


def test_blocked_merge_on_a_large_tied_log() -> None:
    rng = np.random.default_rng(5)
    h = np.sort(np.round(rng.normal(size=300_000), 2))
    a = np.sort(np.round(rng.normal(0.7, size=200_000), 2))
    assert mann_whitney_auc(h, a) == _whole_array_auc(h, a)

"""The scores' compiled kernels against NumPy: the radix sort against NumPy's sort, the
Mann-Whitney merge (compiled, and NumPy's blocked one) against a whole-array search, and the
curve's first-flagged count against a search per case: the same values, the same AUC to the
bit."""

from __future__ import annotations

import os
from types import ModuleType

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cofail.scores import _analysis, _polish, _roc, _sorting
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
    assert _roc._columns is not None, "setup.py did not build cofail.scores._columns"
    assert _analysis._columns is _roc._columns
    assert _polish._columns is _roc._columns


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


@needs_radix
def test_radix_sort_into_reused_buffers() -> None:
    """Columns of several lengths sorted into one pair of buffers (as each thread of the
    analysis does): each result is its column's sort, and the input is untouched."""
    rng = np.random.default_rng(4)
    out, spare = np.empty(300_000), np.empty(300_000)
    for n in (300_000, 70_000, 250_000):
        column = rng.normal(size=n)
        before = column.copy()
        got = sort_scores(column, out, spare)
        assert np.shares_memory(got, out) and len(got) == n
        _same_sort(got.copy(), column)
        assert np.array_equal(column, before)


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


MERGES = ["compiled", "numpy"]


def _kernel_or_numpy(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, module: ModuleType
) -> str:
    """The compiled kernels of ``module``, or (param "numpy") its NumPy code instead."""
    if request.param == "numpy":
        monkeypatch.setattr(module, "_columns", None)
    elif module._columns is None:
        pytest.skip("cofail.scores._columns was not built (no C compiler at install)")
    return str(request.param)


@pytest.fixture(params=MERGES)
def merge(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test of the merge runs on the compiled one and on NumPy's blocked one."""
    return _kernel_or_numpy(request, monkeypatch, _roc)


FIXED = [HealthCheck.function_scoped_fixture]  # the fixture's patch holds for every example


@settings(max_examples=300, derandomize=True, deadline=None, suppress_health_check=FIXED)
@given(
    st.lists(st.integers(0, 12), min_size=1, max_size=300),
    st.lists(st.integers(0, 12), min_size=1, max_size=300),
    st.integers(1, 9),
)
def test_merge_equals_a_whole_array_search(
    merge: str, honest: list[int], attack: list[int], block: int
) -> None:
    # Small blocks, so that runs of tied scores cross block ends on both sides.
    h, a = np.sort(np.array(honest, float)), np.sort(np.array(attack, float))
    saved = _roc._MERGE_BLOCK
    _roc._MERGE_BLOCK = block
    try:
        assert mann_whitney_auc(h, a) == _whole_array_auc(h, a)
    finally:
        _roc._MERGE_BLOCK = saved


@settings(max_examples=200, derandomize=True, deadline=None, suppress_health_check=FIXED)
@given(
    arrays(np.float64, st.integers(1, 200), elements=finite_or_inf),
    arrays(np.float64, st.integers(1, 200), elements=finite_or_inf),
)
def test_merge_on_special_values(merge: str, honest: np.ndarray, attack: np.ndarray) -> None:
    # ±0 tie, ±inf, subnormals: the compiled merge compares as searchsorted does
    h, a = np.sort(honest), np.sort(attack)
    assert mann_whitney_auc(h, a) == _whole_array_auc(h, a)


def test_merge_on_a_large_tied_log(merge: str) -> None:
    rng = np.random.default_rng(5)
    h = np.sort(np.round(rng.normal(size=300_000), 2))
    a = np.sort(np.round(rng.normal(0.7, size=200_000), 2))
    assert mann_whitney_auc(h, a) == _whole_array_auc(h, a)


# -- the curve's first budget at which a case is flagged --------------------------------------


def _first_by_search(column: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Per case, the first budget j (thresholds falling with j) with score > thresholds[j]."""
    flagged = column[:, None] > thresholds[None, :]
    first = np.where(flagged.any(axis=1), flagged.argmax(axis=1), len(thresholds))
    return first.astype(np.uint8)


@pytest.fixture(params=MERGES)
def first(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    return _kernel_or_numpy(request, monkeypatch, _analysis)


@settings(max_examples=300, derandomize=True, deadline=None, suppress_health_check=FIXED)
@given(
    arrays(np.float64, st.integers(0, 300), elements=finite_or_inf),
    st.lists(finite_or_inf, min_size=1, max_size=255),
)
def test_first_flagged_equals_a_search_per_case(
    first: str, column: np.ndarray, thresholds: list[float]
) -> None:
    # the curve's thresholds fall as its budgets rise (ties where budgets share one)
    falling = np.sort(np.array(thresholds))[::-1].copy()
    got = _analysis._first_caught(column, falling)
    assert got.dtype == np.uint8
    assert np.array_equal(got, _first_by_search(column, falling))


def test_first_flagged_on_a_strided_column_with_tied_thresholds(first: str) -> None:
    rng = np.random.default_rng(11)
    scores = np.round(rng.normal(size=(50_000, 3)), 1)  # C order: a column is strided
    falling = np.round(np.quantile(scores[:, 1], np.linspace(0.99, 0.5, 56)), 1)
    got = _analysis._first_caught(scores[:, 1], falling)
    assert np.array_equal(got, _first_by_search(scores[:, 1], falling))


@settings(max_examples=200, derandomize=True, deadline=None, suppress_health_check=FIXED)
@given(
    arrays(np.float64, st.integers(0, 200), elements=finite_or_inf),
    arrays(np.float64, st.integers(0, 200), elements=finite_or_inf),
)
def test_sorted_positions_equal_searchsorted(
    merge: str, hay: np.ndarray, needles: np.ndarray
) -> None:
    # DeLong's components: each sampled score's place among every case of the other set
    h, x = np.sort(hay), np.sort(needles)
    left, right = _roc._positions(h, x)
    assert np.array_equal(left, np.searchsorted(h, x, "left"))
    assert np.array_equal(right, np.searchsorted(h, x, "right"))


# -- a polish's top block: the cases at or above a bound ---------------------------------------


@pytest.fixture(params=MERGES)
def block(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test of the top block runs on the compiled selection and on NumPy's."""
    return _kernel_or_numpy(request, monkeypatch, _polish)


@settings(max_examples=200, derandomize=True, deadline=None, suppress_health_check=FIXED)
@given(
    arrays(np.float64, st.integers(0, 300), elements=finite_or_inf),
    st.sampled_from(SPECIAL),
    st.integers(0, 3),
)
def test_at_least_equals_a_mask(block: str, column: np.ndarray, bound: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    members = None if seed == 0 else rng.random(len(column)) < 0.5
    keep = column >= bound if members is None else (column >= bound) & members
    threshold = float(rng.choice(SPECIAL))
    start = rng.integers(0, 3, len(column)).astype(np.int16)  # counts of earlier layers
    flags = start.copy()
    index, values = _polish._at_least(column, bound, members, (flags, threshold))
    assert np.array_equal(index, np.flatnonzero(keep))
    assert np.array_equal(values.view(np.uint64), column[keep].view(np.uint64))  # ±0 as given
    above = column > threshold if members is None else (column > threshold) & members
    assert np.array_equal(flags, start + above)
    assert np.array_equal(_polish._at_least(column, bound, members)[0], index)  # no flags


def test_top_block_holds_the_largest_scores_of_a_strided_fold(block: str) -> None:
    rng = np.random.default_rng(12)
    scores = np.round(rng.normal(size=(400_000, 2)), 2)  # C order (strided), ties
    members = rng.random(400_000) < 0.5
    for size in (1, 1_000, 20_001):
        index, values = _polish._top_block(scores[:, 0], size, members)
        assert len(index) >= size and members[index].all()
        assert np.array_equal(values, scores[index, 0])
        kept = np.sort(scores[members, 0])[::-1]
        # every member scoring above the block's lowest is in it
        assert np.count_nonzero(kept >= values.min()) == len(index)
        assert values.min() <= kept[size - 1]

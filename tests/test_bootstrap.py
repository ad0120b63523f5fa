"""The stack bootstrap: its split into an exact part and a normal part against the exact
multinomial resampling and the binomial law of each count."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cofail.empirical import CoFailure, PatternHistogram
from cofail.empirical import _bootstrap as bootstrap


def _log(n: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """A log of 8 layers: one common cause, one layer that fails 40 times in all, and a stack
    that fails together about 60 times; returns (bits per distinct pattern, counts)."""
    rng = np.random.default_rng(seed)
    common = rng.random(n) < 0.08
    rates = np.r_[rng.uniform(0.05, 0.3, 7), 0.0]
    failed = (rng.random((n, 8)) < rates) | (common[:, None] & (rng.random((n, 8)) < 0.7))
    failed[:, 7] = False
    failed[rng.choice(n, 40, replace=False), 7] = True
    patterns = (failed.astype(np.uint64) << np.arange(8, dtype=np.uint64)).sum(axis=1)
    keys, counts = np.unique(patterns, return_counts=True)
    bits = ((keys[:, None] >> np.arange(8, dtype=np.uint64)) & np.uint64(1)).astype(bool)
    return bits, counts.astype(float)


@pytest.fixture
def split_always(monkeypatch: pytest.MonkeyPatch) -> None:
    """Resample every histogram through the split, however few its patterns."""
    monkeypatch.setattr(bootstrap, "EXACT_WORK", 0)


def test_the_split_resamples_like_the_exact_multinomial(split_always: None) -> None:
    bits, counts = _log(30_000)
    stack = bits[:, :4]
    joint = stack.all(axis=1)
    assert counts[joint].sum() >= 30, "the stack should fail together often enough"
    n_boot = 20_000
    split = bootstrap.resample_stack(stack, counts, n_boot, np.random.default_rng(1))
    assert "normal" in split.method
    exact_joint, exact_fails = bootstrap._multinomial(
        np.random.default_rng(2), np.full(n_boot, 30_000), counts, stack, joint
    )
    exact_ind = np.prod(exact_fails / 30_000, axis=1)
    for ours, theirs in ((split.observed, exact_joint / 30_000), (split.independent, exact_ind)):
        q_ours = np.percentile(ours, [2.5, 50, 97.5])
        q_theirs = np.percentile(theirs, [2.5, 50, 97.5])
        width = q_theirs[2] - q_theirs[0]
        # 20,000 draws put a percentile within about 2 % of the interval's width.
        assert np.all(np.abs(q_ours - q_theirs) < 0.05 * width), (q_ours, q_theirs)


def test_each_resampled_count_has_the_binomial_mean_and_variance(split_always: None) -> None:
    """A multinomial resample of n cases gives each layer Binomial(n, p) failures and the two
    layers a covariance of n (p_ab - p_a p_b): closed forms the split must keep."""
    bits, counts = _log(30_000)
    n = counts.sum()
    p = counts @ bits / n
    moments = bootstrap.bit_sums(bits, counts)
    _, fails, _ = bootstrap._split(
        bits, counts, bits.all(axis=1), int(n), 40_000, np.random.default_rng(5), moments
    )
    assert np.allclose(fails.mean(axis=0), n * p, rtol=0.01, atol=0.5)
    assert np.allclose(fails.var(axis=0), n * p * (1 - p), rtol=0.05)
    p_ab = counts @ (bits[:, 0] & bits[:, 1]) / n
    cov = np.cov(fails[:, 0], fails[:, 1])[0, 1]
    assert cov == pytest.approx(n * (p_ab - p[0] * p[1]), rel=0.1)
    # The rare layer (40 failures) is drawn exactly: whole numbers, Poisson-like spread.
    assert np.all(fails[:, 7] == np.round(fails[:, 7]))


@given(
    st.lists(st.tuples(st.integers(0, 2**6 - 1), st.integers(1, 400)), min_size=1, max_size=40),
)
def test_the_exact_part_leaves_only_common_outcomes(rows: list[tuple[int, int]]) -> None:
    """Outside the exact part, every layer that varies fails and passes at least RARE times,
    and no case in which the whole stack fails is left there."""
    table: dict[int, int] = {}
    for pattern, k in rows:
        table[pattern] = table.get(pattern, 0) + k
    keys = np.array(sorted(table), dtype=np.uint64)
    counts = np.array([table[int(k)] for k in keys], dtype=float)
    bits = ((keys[:, None] >> np.arange(6, dtype=np.uint64)) & np.uint64(1)).astype(bool)
    exact = bootstrap._exact_part(bits, counts, bits.all(axis=1), counts @ bits)
    assert exact[bits.all(axis=1)].all()
    rest = counts * ~exact
    failed = rest @ bits
    passed = rest.sum() - failed
    for f, q in zip(failed, passed, strict=True):
        assert f == 0 or q == 0 or (f >= bootstrap.RARE and q >= bootstrap.RARE)


def test_a_log_of_all_distinct_patterns_gets_an_interval_that_says_how() -> None:
    rng = np.random.default_rng(0)
    patterns = np.unique(rng.integers(0, 2**20, 200_000, dtype=np.uint64))
    assert 500 * len(patterns) > bootstrap.EXACT_WORK
    h = PatternHistogram.from_arrays(
        tuple(f"L{i}" for i in range(20)),
        np.full(len(patterns), "", dtype=object),
        patterns,
        np.ones(len(patterns)),
    )
    co = CoFailure(n_boot=500).fit(h)
    s = co.stack_failure_(["L0", "L1"])
    # Four patterns after projecting on two layers: exact, whatever the split's threshold.
    assert "multinomial resamples of the 4 patterns" in s.to_dict()["interval"]["method"]
    whole = co.stack_failure_()
    assert "normal (central limit" in whole.to_dict()["interval"]["method"]
    assert whole.independent_interval[0] < whole.independent < whole.independent_interval[1]
    assert co.stack_failure_() is whole  # kept, not drawn again

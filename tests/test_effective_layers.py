"""Effective number of independent layers: closed forms, Geirhos's error consistency computed
by hand, and the delta-method intervals against the bootstrap."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest

from cofail.empirical import CoFailure, PatternHistogram
from cofail.empirical import _effective as effective


def _histogram(failed: np.ndarray) -> PatternHistogram:
    k = failed.shape[1]
    patterns = (failed.astype(np.uint64) << np.arange(k, dtype=np.uint64)).sum(axis=1)
    return PatternHistogram.from_arrays(
        tuple(f"L{i}" for i in range(k)),
        np.full(len(patterns), "", dtype=object),
        patterns,
        np.ones(len(patterns)),
    )


def _correlated(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    common = rng.random(n) < 0.15
    return (rng.random((n, 4)) < [0.1, 0.2, 0.15, 0.3]) | (
        common[:, None] & (rng.random((n, 4)) < 0.6)
    )


def test_the_design_effect_and_the_effective_number_follow_from_mean_phi() -> None:
    failed = _correlated(5_000)
    co = CoFailure(n_boot=300).fit(_histogram(failed))
    e = co.stack_failure_().effective
    assert e is not None
    # mean phi by numpy's own correlation of the raw rows
    r = np.corrcoef(failed.T.astype(float))
    rho = np.mean([r[i, j] for i, j in combinations(range(4), 2)])
    assert e.mean_phi == pytest.approx(rho, abs=1e-12)
    assert e.design_effect == pytest.approx(1 + 3 * rho)
    assert e.effective == pytest.approx(4 / (1 + 3 * rho))
    assert e.effective_interval[0] < e.effective < e.effective_interval[1]
    assert e.mean_phi_interval[0] < e.mean_phi < e.mean_phi_interval[1]
    assert "bootstrap" in e.method


def test_error_consistency_is_geirhos_kappa_computed_by_hand() -> None:
    """Geirhos et al. 2020: c_obs = share of cases where both are right or both wrong,
    c_exp = p_a p_b + (1 − p_a)(1 − p_b) with p the accuracies, EC = (c_obs − c_exp) /
    (1 − c_exp)."""
    failed = _correlated(2_000, seed=4)
    co = CoFailure(n_boot=200).fit(_histogram(failed))
    e = co.stack_failure_().effective
    assert e is not None
    for pair in e.pairs:
        a, b = failed[:, int(pair.a[1:])], failed[:, int(pair.b[1:])]
        acc_a, acc_b = 1 - a.mean(), 1 - b.mean()
        c_obs = np.mean(a == b)
        c_exp = acc_a * acc_b + (1 - acc_a) * (1 - acc_b)
        assert pair.error_consistency == pytest.approx((c_obs - c_exp) / (1 - c_exp), abs=1e-12)
        assert pair.double_fault == pytest.approx(np.mean(a & b))
        lo, hi = pair.error_consistency_interval
        assert lo is not None and hi is not None and lo < pair.error_consistency < hi


def test_the_delta_method_agrees_with_the_bootstrap(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two ways to the same interval: the bootstrap's percentiles and the delta method's normal
    interval must nearly coincide on a log of 20,000 cases."""
    failed = _correlated(20_000, seed=7)
    h = _histogram(failed)
    boot = CoFailure(n_boot=4000, seed=3).fit(h).stack_failure_().effective
    monkeypatch.setattr(effective, "BOOTSTRAP_WORK", 0)
    delta = CoFailure(n_boot=4000, seed=3).fit(h).stack_failure_().effective
    assert boot is not None and delta is not None
    assert "bootstrap" in boot.method and "delta method" in delta.method
    assert delta.mean_phi == boot.mean_phi

    def width(interval: tuple[float | None, float | None]) -> float:
        assert interval[0] is not None and interval[1] is not None
        return interval[1] - interval[0]

    assert width(delta.mean_phi_interval) == pytest.approx(width(boot.mean_phi_interval), rel=0.1)
    for d, b in zip(delta.pairs, boot.pairs, strict=True):
        assert width(d.error_consistency_interval) == pytest.approx(
            width(b.error_consistency_interval), rel=0.1
        )


def test_a_layer_that_never_fails_is_left_out_of_mean_phi_and_said() -> None:
    failed = _correlated(1_000)
    failed[:, 3] = False
    e = CoFailure(n_boot=200).fit(_histogram(failed)).stack_failure_().effective
    assert e is not None
    assert "3 of 6 pairs left out" in e.note
    r = np.corrcoef(failed[:, :3].T.astype(float))
    assert e.mean_phi == pytest.approx(np.mean([r[0, 1], r[0, 2], r[1, 2]]), abs=1e-12)
    never = [p for p in e.pairs if p.b == "L3"]
    assert all(p.error_consistency == 0.0 for p in never)


def test_the_json_carries_the_effective_layers() -> None:
    co = CoFailure(n_boot=200).fit(_histogram(_correlated(500)))
    data = co.summary()["stack"]["effective_layers"]
    assert set(data) >= {"k", "mean_phi", "design_effect", "effective", "interval", "pairs"}
    assert data["k"] == 4 and len(data["pairs"]) == 6
    assert data["interval"]["level"] == 0.95


def test_the_pairs_and_the_effective_layers_share_phi_and_agree_on_kappa() -> None:
    """pairs_ and the effective number of layers take φ from one function (the mean is the same
    to the bit); κ is written two ways that must agree (see ``_estimator._pair``)."""
    co = CoFailure(n_boot=100).fit(_histogram(_correlated(3_000, seed=2)))
    e = co.stack_failure_().effective
    assert e is not None
    assert e.mean_phi == float(np.mean([p.phi for p in co.pairs_]))
    for pair, consistency in zip(co.pairs_, e.pairs, strict=True):
        assert (pair.a, pair.b) == (consistency.a, consistency.b)
        assert pair.kappa == pytest.approx(consistency.error_consistency, abs=1e-12)

"""Co-failure statistics against a second computation from raw rows, the XSTest reference
figures, a fit of simulated logs back to the model, and Dask against DuckDB."""

from __future__ import annotations

from collections.abc import Callable
from itertools import combinations
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.stats import false_discovery_control, fisher_exact

from cofail import catalog
from cofail.empirical import (
    CoFailure,
    LogSpec,
    PatternHistogram,
    analyse,
    histogram_dask,
    histogram_from_arrow,
    read,
    simulate,
    wilson,
)
from cofail.model import Stack
from cofail.probability import Scenario, all_stack_failures, independent_failure
from conftest import Run, shared_path
from strategies import examples


def _histogram(rows: np.ndarray) -> PatternHistogram:
    table = pa.table(
        {
            "case": np.arange(len(rows)),
            **{f"L{i}": rows[:, i].astype(np.int8) for i in range(rows.shape[1])},
        }
    )
    return histogram_from_arrow(table, LogSpec(wide=True), "test")


def _kappa(x: np.ndarray, y: np.ndarray) -> float:
    po = np.mean(x == y)
    pe = x.mean() * y.mean() + (1 - x.mean()) * (1 - y.mean())
    return float((po - pe) / (1 - pe))


@settings(max_examples=examples(60), deadline=None)
@given(arrays(bool, st.tuples(st.integers(5, 80), st.integers(2, 4))))
def test_pair_statistics_equal_raw_row_computation(rows: np.ndarray) -> None:
    co = CoFailure(n_boot=100).fit(_histogram(rows))
    for pair, (i, j) in zip(co.pairs_, combinations(range(rows.shape[1]), 2), strict=True):
        x, y = rows[:, i], rows[:, j]
        assert pair.n11 == np.sum(x & y) and pair.n00 == np.sum(~x & ~y)
        assert pair.n10 == np.sum(x & ~y) and pair.n01 == np.sum(~x & y)
        if x.std() > 0 and y.std() > 0:
            assert pair.phi == pytest.approx(np.corrcoef(x, y)[0, 1], abs=1e-12)
            assert pair.kappa == pytest.approx(_kappa(x, y), abs=1e-12)
            assert pair.lift == pytest.approx(np.mean(x & y) / (x.mean() * y.mean()))
            assert pair.phi <= pair.phi_max + 1e-12  # φ never exceeds its bound
        else:
            assert pair.phi is None and pair.note  # defined answer with a reason, no NaN
        table = [[np.sum(x & y), np.sum(x & ~y)], [np.sum(~x & y), np.sum(~x & ~y)]]
        assert pair.fisher_p == pytest.approx(fisher_exact(table).pvalue)
    adjusted = false_discovery_control([p.fisher_p for p in co.pairs_], method="bh")
    assert [p.fisher_p_adjusted for p in co.pairs_] == pytest.approx(list(adjusted))
    for m, col in zip(co.marginals_, rows.T, strict=True):
        assert 0.0 <= m.low <= m.rate <= m.high <= 1.0
        assert m.rate == pytest.approx(col.mean())
    s = co.stack_failure_()
    assert s.observed == pytest.approx(np.mean(rows.all(axis=1)))
    assert s.independent == pytest.approx(np.prod(rows.mean(axis=0)))


def test_wilson_matches_published_values() -> None:
    # Wilson (1927) / Newcombe (1998) table: 0 of 10 → [0, 0.2775]; 81 of 263 → [0.2553, 0.3662].
    assert wilson(0, 10) == pytest.approx((0.0, 0.2775), abs=5e-5)
    assert wilson(81, 263) == pytest.approx((0.2553, 0.3662), abs=5e-4)


def test_layer_that_never_fails_gets_reasons_not_nans() -> None:
    rows = np.zeros((50, 3), dtype=bool)
    rows[:10, 0] = True
    rows[5:20, 1] = True
    co = CoFailure(n_boot=200).fit(_histogram(rows))
    assert "never failed" in co.marginals_[2].note
    bad = [p for p in co.pairs_ if "L2" in (p.a, p.b)]
    assert all(p.phi is None and p.lift is None and "never or always failed" in p.note for p in bad)
    s = co.stack_failure_()
    assert s.ratio is None and "never failed" in s.note
    assert s.ratio_interval == (None, None)


def test_xstest_monitor_errors_reproduce_the_readme() -> None:
    h = read(LogSpec(stratum="model"), [shared_path("data", "xstest", "xstest-monitor-errors.csv")])
    analysis = analyse(h, n_boot=200)
    pair = analysis.pooled.pairs_[0]
    assert (pair.a, pair.b) == ("gpt4-judge", "string-match")
    # README (string-match as a): n11 161, n10 99, n01 241, n00 1749.
    assert (pair.n11, pair.n01, pair.n10, pair.n00) == (161, 99, 241, 1749)
    assert pair.phi == pytest.approx(0.4157, abs=5e-5)
    assert pair.kappa == pytest.approx(0.4026, abs=5e-5)
    phis = {s: co.pairs_[0].phi for s, co in analysis.strata.items()}
    assert (
        min(phis.values()) == pytest.approx(0.0823, abs=5e-5) and min(phis, key=phis.get) == "gpt4"
    )  # type: ignore[arg-type]
    assert max(phis.values()) == pytest.approx(0.5558, abs=5e-5)
    assert max(phis, key=phis.get) == "mistralguard"  # type: ignore[arg-type]


def test_xstest_safe_prompts_llama_pair() -> None:
    h = read(
        LogSpec(stratum="prompt_class"),
        [shared_path("data", "xstest", "xstest-model-failures.csv")],
    )
    co = CoFailure(stratum="safe", n_boot=200).fit(h)
    pair = next(p for p in co.pairs_ if (p.a, p.b) == ("llama2new", "llama2orig"))
    assert (pair.n11, pair.n10, pair.n01, pair.n00) == (69, 5, 80, 96)
    assert pair.phi == pytest.approx(0.4446, abs=5e-5)
    # Pooling safe and unsafe prompts (different failure kinds) distorts correlations: warned.
    assert analyse(h, n_boot=100).warnings


def test_simulated_log_recovers_the_model_joint_failures() -> None:
    m = catalog.load()
    stack = Stack(layers=m.layer_ids)
    scenario = Scenario(p_default=0.15, residual_default=0.05)
    table = simulate(m, stack, scenario, 40_000, seed=11)
    h = histogram_from_arrow(table, LogSpec(wide=True), "simulated")
    pairs = list(combinations(range(len(stack.layers)), 2))
    # Bonferroni over the 21 pairs, so the check fails by chance with probability <= 5%.
    co = CoFailure(alpha=0.05 / len(pairs), n_boot=200).fit(h)
    q, p, r = scenario.arrays(m, stack)
    exact = all_stack_failures(q, p, r)
    for pair, (i, j) in zip(co.pairs_, pairs, strict=True):
        truth = exact[(1 << i) | (1 << j)]
        assert pair.joint_low <= truth <= pair.joint_high, (pair.a, pair.b, truth, pair.joint)
    for k, marginal in enumerate(co.marginals_):
        assert marginal.low <= exact[1 << k] <= marginal.high


def test_bootstrap_interval_covers_the_truth_for_a_stack() -> None:
    m = catalog.load()
    stack = Stack(layers=("RLHF", "RLAIF", "W2S"))
    scenario = Scenario(p_default=0.1, residual_default=0.05)
    q, p, r = scenario.arrays(m, stack)
    truth = all_stack_failures(q, p, r)[-1]
    table = simulate(m, stack, scenario, 20_000, seed=3)
    s = (
        CoFailure(n_boot=1000, seed=2)
        .fit(histogram_from_arrow(table, LogSpec(wide=True), "sim"))
        .stack_failure_()
    )
    assert s.observed_interval[0] <= truth <= s.observed_interval[1]
    true_ratio = truth / independent_failure(q, p, r)
    assert true_ratio > 3  # shared modes: far above independence
    low, high = s.ratio_interval
    assert low is not None and high is not None and low <= true_ratio <= high


@pytest.fixture(scope="module")
def dask_client():  # type: ignore[no-untyped-def]
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_dask_histogram_equals_duckdb(tmp_path: Path, dask_client) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(0)
    n, n_layers = 4000, 6
    fails = rng.random((n, n_layers)) < [0.05, 0.1, 0.2, 0.3, 0.4, 0.5]
    group = np.where(np.arange(n) % 3 == 0, "x", "y")
    for k, idx in enumerate(np.array_split(np.arange(n), 4)):
        pq.write_table(
            pa.table(
                {
                    "case": idx,
                    "grp": group[idx],
                    **{f"L{i}": fails[idx, i].astype(np.int8) for i in range(n_layers)},
                }
            ),
            tmp_path / f"wide-{k}.parquet",
        )
    case = np.repeat(np.arange(n), n_layers)
    layer = np.tile([f"L{i}" for i in range(n_layers)], n)
    order = rng.permutation(len(case))  # a case's rows land in different shards
    for k, idx in enumerate(np.array_split(order, 4)):
        pq.write_table(
            pa.table(
                {
                    "case": case[idx],
                    "layer": layer[idx],
                    "failed": fails.reshape(-1)[idx].astype(np.int8),
                    "grp": group[case[idx]],
                }
            ),
            tmp_path / f"long-{k}.parquet",
        )
    for prefix, spec in (
        ("wide", LogSpec(wide=True, stratum="grp")),
        ("long", LogSpec(stratum="grp")),
    ):
        files = sorted(tmp_path.glob(f"{prefix}-*.parquet"))
        local = read(spec, files)
        remote = histogram_dask(files, spec, scheduler=dask_client)
        assert remote.layers == local.layers and remote.strata == local.strata
        for s in local.strata:
            assert remote.patterns[s].tolist() == local.patterns[s].tolist()
            assert remote.counts[s].tolist() == local.counts[s].tolist()


@settings(max_examples=examples(200), deadline=None)
@given(st.lists(st.tuples(*[st.integers(0, 60)] * 4), min_size=1, max_size=20))
def test_vectorised_fisher_equals_scipy(tables: list[tuple[int, int, int, int]]) -> None:
    from cofail.empirical._fisher import fisher_two_sided

    t = np.array(tables)
    ours = fisher_two_sided(*t.T)
    for (a, b, c, d), p in zip(tables, ours, strict=True):
        assert p == pytest.approx(fisher_exact([[a, b], [c, d]]).pvalue, rel=1e-9, abs=1e-300)


def test_counts_are_integers_and_a_constant_layer_has_kappa_zero(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    # A never fails: it agrees with B exactly as often as chance predicts, so kappa is 0 by
    # the formula's algebra (p_obs = p_exp = 1 - P(B)); the counts of an unweighted log are
    # whole numbers and are written as such.
    rows = [(c, "A", 0) for c in range(7)] + [(c, "B", int(c % 3 == 0)) for c in range(7)]
    log = tmp_path / "log.csv"
    log.write_text("case,layer,failed\n" + "".join(f"{c},{lay},{f}\n" for c, lay, f in rows))
    data = cli("empirical", str(log), "--n-boot", "100", "-f", "json").json()
    pair = data["pairs"][0]
    assert pair["kappa"] == 0.0
    assert [pair[k] for k in ("n11", "n10", "n01", "n00")] == [0, 0, 3, 4]
    assert all(type(pair[k]) is int for k in ("n11", "n10", "n01", "n00"))
    assert type(data["n_cases"]) is int and data["n_cases"] == 7
    weighted = tmp_path / "weighted.csv"
    weighted.write_text(
        "case,layer,failed,w\n" + "".join(f"{c},{lay},{f},0.5\n" for c, lay, f in rows)
    )
    data = cli(
        "empirical", str(weighted), "--weight-col", "w", "--n-boot", "100", "-f", "json"
    ).json()
    assert data["n_cases"] == 3.5 and data["pairs"][0]["n01"] == 1.5

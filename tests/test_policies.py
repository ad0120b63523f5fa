"""Monitoring policies under a cost budget (issue 32), checked against scikit-learn's KDE, the
published results of Hua et al. (2025) on their own monitor scores, the Neyman–Pearson closed
form on two Gaussians, and hand-worked cost accounting."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import norm

from cofail.errors import InputError
from cofail.scores import CostModel, GaussianKDE, evaluate_policies
from conftest import Run, one_line_error

Cli = Callable[..., Run]
FUZZED = Path(__file__).parent / "data" / "real" / "monitors" / "fuzzed"


def _load(name: str) -> np.ndarray:
    return np.loadtxt(FUZZED / name, delimiter=",", skiprows=1)[:, 1:3]  # 70B, 8B


@pytest.mark.parametrize("d", [1, 2])
def test_kde_equals_scikit_learns_silverman_kde(d: int) -> None:
    from sklearn.neighbors import KernelDensity

    rng = np.random.default_rng(d)
    x, y = rng.normal(size=(400, d)), rng.normal(size=(60, d)) * 2
    ours = GaussianKDE.fit(x)
    theirs = KernelDensity(bandwidth="silverman").fit(x)
    assert ours.bandwidth == pytest.approx(theirs.bandwidth_, rel=1e-15)
    assert np.allclose(ours.logpdf(y), theirs.score_samples(y), rtol=0, atol=1e-10)


# Hua et al. 2025, results/np_vs_naive_no_resample{,_hard}.csv, seed -1, the 70B monitor
# (c_m = 1, c_a = 20): naive in sample, naive OOD (hard), NP in sample; SOURCE.md has them all.
HUA_SINGLE = {
    1.1: (0.031447, 0.010000, 0.172956),
    1.2: (0.110063, 0.043333, 0.238994),
    1.3: (0.238994, 0.103333, 0.393082),
    1.4: (0.411950, 0.176667, 0.506289),
    1.5: (0.490566, 0.210000, 0.622642),
    1.6: (0.650943, 0.316667, 0.644654),
    1.7: (0.682390, 0.350000, 0.688679),
    1.8: (0.761006, 0.393333, 0.761006),
    1.9: (0.792453, 0.456667, 0.792453),
    2.0: (0.827044, 0.480000, 0.827044),
}


@pytest.mark.parametrize("total", sorted(HUA_SINGLE))
def test_single_monitor_policies_reproduce_hua_et_al_exactly(total: float) -> None:
    naive, naive_ood, np_in = HUA_SINGLE[total]
    model = CostModel({"70b": 1.0, "8b": 0.21}, audit=20.0, total=total)
    results = evaluate_policies(_load("honest.csv"), _load("attack.csv"), ("70b", "8b"), model,
                                test_attack=_load("attack_ood.csv"), independence=False)  # fmt: skip
    by = {r.name: r for r in results}
    assert round(by["naive:70b"].tpr, 6) == naive
    assert by["naive:70b"].tpr_out_of_sample == pytest.approx(naive_ood, abs=5e-7)
    assert round(by["np:70b"].tpr, 6) == np_in
    for r in results:  # the cost accounting: calls + audits, never above the budget
        calls = sum(model.costs[k] * v for k, v in r.calls.items())
        assert r.cost == pytest.approx(calls + model.audit * r.audit_rate)
        assert r.cost <= total + 1e-12


# Their two-monitor single-region policy Π_SR (results/two_mon_v1.csv, seed -1, in sample).
HUA_REGION = {0.5: 0.578616, 1.0: 0.735849, 1.5: 0.830189, 2.0: 0.880503, 3.0: 0.927673}


@pytest.mark.parametrize("total", sorted(HUA_REGION))
def test_the_region_policy_matches_or_beats_hua_et_al(total: float) -> None:
    model = CostModel({"70b": 1.0, "8b": 0.21}, audit=20.0, total=total)
    results = evaluate_policies(_load("honest.csv"), _load("attack.csv"), ("70b", "8b"), model,
                                folds=0, independence=False)  # fmt: skip
    best = max((r for r in results if r.name.startswith("region:")), key=lambda r: r.tpr)
    theirs = HUA_REGION[total]
    # Equal at 1.0, 2.0 and 3.0; 0.0031 below at 1.5; 0.0063 above at 0.5 (docs/combine.md).
    assert best.tpr >= theirs - 0.005
    assert best.tpr <= theirs + 0.0065


def test_neyman_pearson_is_optimal_on_two_gaussians() -> None:
    """Honest N(0, I), attack N(μ, I) in 2-D: the likelihood ratio is linear in w = μ, and the
    best audit at false-positive rate α catches Φ(|μ| − z_{1−α}); the single monitors and the
    'any' rule catch less."""
    rng = np.random.default_rng(11)
    mu = np.array([1.0, 0.8])
    h, a = rng.normal(size=(6000, 2)), rng.normal(size=(6000, 2)) + mu
    model = CostModel({"x": 0.0, "y": 0.0}, audit=1.0, total=0.05)
    by = {r.name: r for r in evaluate_policies(h, a, ("x", "y"), model, folds=0,
                                                independence=False)}  # fmt: skip
    optimum = norm.cdf(np.linalg.norm(mu) - norm.ppf(0.95))
    assert by["np:all"].tpr == pytest.approx(optimum, abs=0.02)
    assert by["np:all"].tpr > by["any"].tpr > max(by["naive:x"].tpr, by["naive:y"].tpr) - 0.01


def test_hand_worked_costs() -> None:
    """10 honest cases, audit 10, monitor cost 1, budget 1.25: 2.5 % may be audited, which is
    0 whole cases: the policy calls the monitor and audits nothing (cost 1, audit share 0);
    at 1.3 one case in ten is 3 %: still 0; at 2.0, 10 %: one case, cost 2.0, audit share 1/2."""
    h = np.arange(10.0)[:, None]
    a = np.array([[9.5], [8.5], [0.5]])
    for total, audited, cost in ((1.25, 0, 1.0), (1.3, 0, 1.0), (2.0, 1, 2.0)):
        model = CostModel({"m": 1.0}, audit=10.0, total=total)
        (naive, *_) = [r for r in evaluate_policies(h, a, ("m",), model, folds=0)
                       if r.name == "naive:m"]  # fmt: skip
        assert naive.audit_rate == audited / 10 and naive.cost == pytest.approx(cost)
        assert naive.caught == (1 if audited else 0)  # the top honest score is 9: 9.5 caught
        assert naive.audit_share == pytest.approx(0.5 if audited else 0.0)


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (CostModel({"a": -1.0, "b": 0.2}, 10.0, 2.0), "--cost a=-1: expected a finite cost"),
        (CostModel({"a": 1.0}, 10.0, 2.0), "--cost: no cost for b"),
        (CostModel({"a": 1.0, "b": 0.5}, 10.0, 0.2), "below the cheapest monitor's cost"),
        (CostModel({"a": 1.0, "b": 0.5}, 0.0, 2.0), "--audit-cost 0: expected a finite cost > 0"),
        (CostModel({"a": 1.0, "b": 0.5, "c": 1.0}, 10.0, 2.0), "--cost c=…: no such layer"),
    ],
)
def test_a_bad_cost_model_is_refused(model: CostModel, message: str) -> None:
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        model.check(("a", "b"))


def test_cli_policies_json_and_errors(cli: Cli, tmp_path: Path) -> None:
    args = ["scores", str(FUZZED / "attack.csv"), "--wide", "--case-col", "case_id", "--honest",
            str(FUZZED / "honest.csv"), "--total-budget", "1.5", "--cost", "llama31_70b=1",
            "--cost", "llama31_8b=0.21", "--cost", "gemma2_9b=0.21", "--audit-cost", "20"]  # fmt: skip
    r = cli(*args, "-f", "json", "--folds", "2")
    assert r.code == 0, r.err
    d = r.json()
    assert {"policies", "best", "cost_model"} <= set(d)
    assert d["best"] == d["policies"][0]
    for p in d["policies"]:
        assert {"name", "tpr", "tpr_out_of_sample", "cost", "audit_share", "calls"} <= set(p)
        assert p["cost"] <= 1.5 + 1e-12
    other = tmp_path / "other.csv"
    other.write_text("case_id,llama31_70b,llama31_8b\n0,1,2\n")
    one_line_error(cli(*args, "--test-attack", str(other)), "--test-attack scores layers")
    one_line_error(cli(*args[:-2]), "need all of --total-budget")
    one_line_error(cli(*args[:-1], "free"), "--audit-cost")
    assert not math.isnan(d["best"]["tpr"])

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


# Their whole two-monitor sweep (results/two_mon_v1.csv, seed -1, in sample, c_70B = 1,
# c_8B = 0.21, audit 20): the stochastic Neyman–Pearson policy on the 70B monitor ("Alpha") and
# on the 8B ("Beta"), and the single-region policy Π_SR. Their best at Y = 0.25 is Beta; Π_SR
# from 0.5 up.
HUA_SWEEP = {
    0.25: (0.107913, 0.276798, 0.267296),
    0.5: (0.215826, 0.487666, 0.578616),
    0.75: (0.323739, 0.579299, 0.669811),
    1.0: (0.431652, 0.618407, 0.735849),
    1.25: (0.539565, 0.660784, 0.789308),
    1.5: (0.647478, 0.680919, 0.830189),
    1.75: (0.743085, 0.695197, 0.861635),
    2.0: (0.827044, 0.713845, 0.880503),
    2.25: (0.868218, 0.729901, 0.899371),
    2.5: (0.886849, 0.745418, 0.915094),
    2.75: (0.899956, 0.773764, 0.921384),
    3.0: (0.906624, 0.786170, 0.927673),
}


@pytest.fixture(scope="module")
def hua_grid() -> dict[float, dict[str, float]]:
    """cofail's in-sample catch rate of every policy at each budget, on Hua et al.'s grid."""
    h, a = _load("honest.csv"), _load("attack.csv")
    out = {}
    for total in HUA_SWEEP:
        model = CostModel({"70b": 1.0, "8b": 0.21}, audit=20.0, total=total)
        results = evaluate_policies(h, a, ("70b", "8b"), model, folds=0, independence=False,
                                    region_grid="hua")  # fmt: skip
        for r in results:  # the cost accounting holds for the randomised policies too
            calls = sum(model.costs[k] * v for k, v in r.calls.items())
            assert r.cost == pytest.approx(calls + model.audit * r.audit_rate)
            assert r.cost <= total + 1e-12
        out[total] = {r.name: r.tpr for r in results}
    return out


@pytest.mark.parametrize("total", sorted(HUA_SWEEP))
def test_their_whole_sweep_is_reproduced_on_their_grid(
    hua_grid: dict[float, dict[str, float]], total: float
) -> None:
    alpha, beta, region = HUA_SWEEP[total]
    ours = hua_grid[total]
    # Π_SR searched on their grid (200 quantiles of the first monitor's honest scores): equal.
    assert max(v for k, v in ours.items() if k.startswith("region:")) == pytest.approx(
        region, abs=1e-6
    )
    # The stochastic policy searches every cut and mixes any two branches, a superset of their
    # 200-point grid with one cut: never below theirs, at most 0.013 above (measured 0 to 0.0127).
    for theirs, mine in ((alpha, ours["mixed:70b"]), (beta, ours["mixed:8b"])):
        assert theirs - 1e-6 <= mine <= theirs + 0.013
    if total <= 1.5:  # below the 70B's cost plus an audit, the optimum is on their grid too
        assert ours["mixed:70b"] == pytest.approx(alpha, abs=1e-6)
    # Their best policy at each budget, within the 0.005.
    assert max(ours.values()) == pytest.approx(max(alpha, beta, region), abs=0.005)


@pytest.mark.parametrize("total", [0.25, 0.5, 1.5, 2.5, 3.0])
def test_the_default_region_grid_matches_or_beats_theirs(total: float) -> None:
    model = CostModel({"70b": 1.0, "8b": 0.21}, audit=20.0, total=total)
    results = evaluate_policies(_load("honest.csv"), _load("attack.csv"), ("70b", "8b"), model,
                                folds=0, independence=False)  # fmt: skip
    best = max(r.tpr for r in results if r.name.startswith("region:"))
    theirs = HUA_SWEEP[total][2]
    # cofail's default ends intervals at 81 quantiles over both sets and at ±inf: at 0.25 a
    # second call above every honest score costs nothing on honest cases (+0.0472); at 1.5 and
    # 2.5 the coarser grid is 0.0031 below (docs/combine.md).
    assert best >= theirs - 0.005
    assert (best > theirs + 0.04) == (total == 0.25)


def _lp_optimum(pri_h: np.ndarray, pri_a: np.ndarray, call: float, audit: float, y: float) -> float:
    """The best randomisation by linear programming (scipy's HiGHS): one variable per branch
    (nothing, audit at once, call and audit at or above each distinct honest priority)."""
    from scipy.optimize import linprog

    cuts = np.unique(pri_h)
    cost = [0.0, audit, *(call + audit * np.mean(pri_h >= c) for c in cuts)]
    catch = [0.0, 1.0, *(np.mean(pri_a >= c) for c in cuts)]
    res = linprog(-np.array(catch), A_ub=[cost], b_ub=[y], A_eq=[np.ones(len(cost))], b_eq=[1],
                  bounds=(0, 1), method="highs")  # fmt: skip
    assert res.status == 0
    return float(-res.fun)


@pytest.mark.parametrize("seed", range(6))
def test_the_randomised_policy_is_the_linear_programmes_optimum(seed: int) -> None:
    """Random scores, costs and budgets (below, near and above the monitor's cost): the mixed
    policy's catch equals the LP optimum over the same branches, its cost is within budget, and
    it never does worse than the deterministic policies that are among its branches."""
    rng = np.random.default_rng(seed)
    h = rng.normal(size=(int(rng.integers(20, 60)), 1)).round(1)  # ties
    a = rng.normal(1.0, size=(int(rng.integers(10, 40)), 1)).round(1)
    c, audit = float(rng.uniform(0.1, 1.0)), float(rng.uniform(2, 20))
    for y in (0.5 * c, c, c + 0.05 * audit, c + 0.3 * audit):
        model = CostModel({"m": c}, audit=audit, total=y)
        by = {r.name: r for r in evaluate_policies(h, a, ("m",), model, folds=0)}
        mixed = by["mixed:m"]
        lr = GaussianKDE.fit(a).logpdf(h) - GaussianKDE.fit(h).logpdf(h)
        lr_a = GaussianKDE.fit(a).logpdf(a) - GaussianKDE.fit(h).logpdf(a)
        assert mixed.tpr == pytest.approx(_lp_optimum(lr, lr_a, c, audit, y), abs=1e-9)
        assert mixed.cost <= y + 1e-12
        assert mixed.calls["m"] <= 1.0 + 1e-12
        if "np:m" in by:
            assert mixed.tpr >= by["np:m"].tpr - 1e-12


def test_the_randomised_policy_by_hand() -> None:
    """Monitor cost 1, audit 10, budget 0.5, honest scores 0..9, attacks at 9.5: the monitor
    alone cannot be afforded. Mixing: call the monitor on share p and audit its top honest case
    (cost 1 + 10/10 = 2 per call, catching every attack), or audit at once (10, catching all):
    p = 0.25 gives cost 0.5 and catch 0.25, more than the 0.05 of auditing at once."""
    h, a = np.arange(10.0)[:, None], np.full((4, 1), 9.5)
    by = {r.name: r for r in evaluate_policies(h, a, ("m",), CostModel({"m": 1.0}, 10.0, 0.5),
                                               folds=0)}  # fmt: skip
    mixed = by["mixed:m"]
    assert mixed.tpr == pytest.approx(0.25)
    assert mixed.calls == {"m": pytest.approx(0.25)}
    assert mixed.audit_rate == pytest.approx(0.025)  # 0.25 × 1 case in 10
    assert mixed.cost == pytest.approx(0.5)


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
        (CostModel({"a": 1.0, "b": 0.5}, 10.0, -0.2), "--total-budget -0.2: expected a finite"),
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
    one_line_error(cli(*args, "--region-grid", "fine"), "--region-grid")
    assert not math.isnan(d["best"]["tpr"])
    assert d["region_grid"] == "pooled"
    mixed = next(p for p in d["policies"] if p["name"] == "mixed:llama31_70b")
    branches = mixed["params"]["branches"]
    assert sum(b["probability"] for b in branches) == pytest.approx(mixed["calls"]["llama31_70b"])


def test_cli_reproduces_their_region_policy_with_their_grid(cli: Cli, tmp_path: Path) -> None:
    for name in ("attack.csv", "honest.csv"):  # their two monitors: drop Gemma's column
        lines = (FUZZED / name).read_text().splitlines()
        (tmp_path / name).write_text("\n".join(",".join(x.split(",")[:3]) for x in lines))
    r = cli("scores", str(tmp_path / "attack.csv"), "--wide", "--case-col", "case_id",
            "--honest", str(tmp_path / "honest.csv"), "--total-budget", "0.5", "--cost",
            "llama31_70b=1", "--cost", "llama31_8b=0.21", "--audit-cost", "20",
            "--region-grid", "hua", "--folds", "2", "-f", "json")  # fmt: skip
    assert r.code == 0, r.err
    d = r.json()
    assert d["region_grid"] == "hua"
    region = max(p["tpr"] for p in d["policies"] if p["name"].startswith("region:"))
    assert region == pytest.approx(HUA_SWEEP[0.5][2], abs=1e-6)


def _brute_points(h: np.ndarray, a: np.ndarray, model: CostModel) -> np.ndarray:
    """Every deterministic policy by enumeration, on scores with few values, as (cost per
    honest case, catch rate) rows: for each order of the two monitors, each set of first-monitor
    values on which the second is called, and each set of observed cells (score pairs where it
    is called, first scores where not) that is audited. Plus doing nothing and auditing all."""
    costs = (model.costs["x"], model.costs["y"])
    rows = [np.array([[0.0, 0.0], [model.audit, 1.0]])]
    for f, s in ((0, 1), (1, 0)):
        values = np.unique(np.concatenate((h[:, f], a[:, f])))
        for pattern in range(2 ** len(values)):
            called = values[[(pattern >> i) & 1 == 1 for i in range(len(values))]]
            ch, ca = ([(r[f], r[s]) if r[f] in called else (r[f],) for r in x] for x in (h, a))
            cells = sorted(set(ch) | set(ca))
            mh = np.array([ch.count(c) for c in cells]) / len(h)
            ma = np.array([ca.count(c) for c in cells]) / len(a)
            spent = costs[f] + costs[s] * float(np.isin(h[:, f], called).mean())
            subsets = (np.arange(2 ** len(cells))[:, None] >> np.arange(len(cells))) & 1
            rows.append(np.column_stack((spent + model.audit * (subsets @ mh), subsets @ ma)))
    return np.concatenate(rows)


@pytest.mark.parametrize("seed", range(8))
def test_no_policy_beats_the_brute_force_optimum(seed: int) -> None:
    """Random two-monitor stacks with scores in {0, 1, 2}: every deterministic policy cofail
    fits (naive, np, np:all, any, both regions) catches at most the enumerated optimum within
    its budget, and the randomised ones at most the best mixture of enumerated policies (a
    linear programme, scipy's HiGHS)."""
    from scipy.optimize import linprog

    rng = np.random.default_rng(seed)
    h = rng.choice(3, size=(24, 2), p=[0.6, 0.3, 0.1]).astype(float)
    a = rng.choice(3, size=(16, 2), p=[0.2, 0.4, 0.4]).astype(float)
    costs = {"x": float(rng.uniform(0.1, 1)), "y": float(rng.uniform(0.05, 0.5))}
    total = sum(costs.values()) + float(rng.uniform(0.2, 2.0))
    model = CostModel(costs, audit=5.0, total=total)
    results = evaluate_policies(h, a, ("x", "y"), model, folds=0, independence=False)
    points = _brute_points(h, a, model)
    optimum = points[points[:, 0] <= total + 1e-12, 1].max()
    lp = linprog(-points[:, 1], A_ub=[points[:, 0]], b_ub=[total], A_eq=[np.ones(len(points))],
                 b_eq=[1], bounds=(0, 1), method="highs")  # fmt: skip
    assert lp.status == 0
    for r in results:
        bound = -lp.fun if r.name.startswith("mixed:") else optimum
        assert r.tpr <= bound + 1e-9, r.name
    assert max(r.tpr for r in results if not r.name.startswith("mixed:")) > 0

"""`cofail fit`: the EM against a direct optimiser and the exact score against finite
differences; a simulation study (intervals cover the truth at about their level; the optimum is
at least as likely as the truth); identifiability said; the fitted matrix read back by `risk`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import expit, logit

from cofail import catalog
from cofail.empirical import LogSpec, PatternHistogram, histogram_from_arrow, simulate
from cofail.fit import discover, fit_matrix
from cofail.fit._latent import Params, Structure, em, log_likelihood, score, states
from cofail.model import Matrix, Stack
from cofail.probability import Scenario
from conftest import Run

Cli = Callable[..., Run]

# Two modes with overlapping exposure: A exposes L1-L3, B exposes L3-L5; q graded (the truth).
TRUE_Q = {("L1", "A"): 0.8, ("L2", "A"): 0.6, ("L3", "A"): 0.9, ("L3", "B"): 0.7,
          ("L4", "B"): 0.85, ("L5", "B"): 0.5}  # fmt: skip
TRUE_P = {"A": 0.15, "B": 0.25}
TRUE_R = {"L1": 0.05, "L2": 0.1, "L3": 0.02, "L4": 0.08, "L5": 0.04}
LAYERS = tuple(TRUE_R)


def _matrix(levels: dict[tuple[str, str], object] | None = None) -> Matrix:
    """The two-mode matrix: graded at the truth (to simulate) or judged V (to fit)."""
    cells = {
        lid: {mid: (levels or {}).get((lid, mid), TRUE_Q.get((lid, mid), "N")) for mid in TRUE_P}
        for lid in LAYERS
    }
    return Matrix.model_validate(
        {
            "id": "two-modes",
            "failure_modes": [{"id": m} for m in TRUE_P],
            "layers": [{"id": x} for x in LAYERS],
            "cells": cells,
        }
    )


def _log(cases: int, seed: int) -> PatternHistogram:
    scenario = Scenario(p_mode=TRUE_P, residual_layer=TRUE_R)
    table = simulate(_matrix(), Stack(layers=LAYERS), scenario, cases, seed=seed)
    return histogram_from_arrow(table, LogSpec(wide=True), f"simulated, seed {seed}")


JUDGED = _matrix({key: "V" for key in TRUE_Q})


def _truth_vector() -> np.ndarray:
    """The true free parameters in the fit's order: p, q (row-major), r."""
    q = [TRUE_Q[(lid, mid)] for lid in LAYERS for mid in TRUE_P if (lid, mid) in TRUE_Q]
    return np.array([*TRUE_P.values(), *q, *TRUE_R.values()])


def test_em_reaches_the_optimum_a_direct_optimiser_finds() -> None:
    h = _log(4000, seed=11)
    f = fit_matrix(h, JUDGED)
    s, bits, counts = f.structure, f.bits, f.counts
    u = states(len(f.estimate.params.p))

    def negative(theta: np.ndarray) -> float:
        return -log_likelihood(f.estimate.params.with_vector(s, expit(theta)), bits, counts, u)

    def gradient(theta: np.ndarray) -> np.ndarray:
        return -score(f.estimate.params.with_vector(s, expit(theta)), s, bits, counts)

    start = logit(np.full(s.n_free, 0.3))
    direct = minimize(negative, start, jac=gradient, method="BFGS", options={"gtol": 1e-8})
    assert -direct.fun == pytest.approx(f.estimate.loglik, abs=1e-4)
    assert np.allclose(expit(direct.x), f.estimate.params.vector(s), atol=2e-3)


def test_the_score_is_the_gradient_of_the_log_likelihood() -> None:
    h = _log(1500, seed=3)
    f = fit_matrix(h, JUDGED)
    s, bits, counts = f.structure, f.bits, f.counts
    u = states(2)
    theta = logit(np.linspace(0.2, 0.7, s.n_free))
    params = f.estimate.params.with_vector(s, expit(theta))
    numeric = np.empty(len(theta))
    for k in range(len(theta)):
        up, down = theta.copy(), theta.copy()
        up[k] += 1e-6
        down[k] -= 1e-6
        numeric[k] = (
            log_likelihood(params.with_vector(s, expit(up)), bits, counts, u)
            - log_likelihood(params.with_vector(s, expit(down)), bits, counts, u)
        ) / 2e-6
    assert np.allclose(score(params, s, bits, counts), numeric, rtol=1e-5, atol=1e-4)


def test_intervals_cover_the_truth_at_about_their_level() -> None:
    """20 simulated logs × 13 parameters: the 95% intervals should miss about 5% (13 of 260);
    the count of misses is binomial, so [3, 30] holds with probability above 0.999."""
    truth = _truth_vector()
    misses = 0
    for seed in range(20):
        f = fit_matrix(_log(3000, seed=100 + seed), JUDGED, seed=seed)
        e = f.estimate
        misses += int(np.sum((truth < e.low) | (truth > e.high)))
        at_truth = f.estimate.params.with_vector(f.structure, truth)
        assert e.loglik >= log_likelihood(at_truth, f.bits, f.counts, states(2)) - 1e-6
    assert 3 <= misses <= 30, misses


def test_a_cell_judged_n_that_fails_is_contradicted() -> None:
    # The truth has L3 exposed to A; a matrix that says N there is contradicted by the log.
    wrong = _matrix({**{key: "V" for key in TRUE_Q}, ("L3", "A"): "N"})
    f = fit_matrix(_log(5000, seed=7), wrong)
    hits = [c for c in f.contradicted if c["layer"] == "L3" and c["modes"] == ["A"]]
    assert hits and hits[0]["judged"] == "N" and hits[0]["q"] > 0.5
    # The right matrix, on the same log: no N cell is contradicted.
    right = fit_matrix(_log(5000, seed=7), JUDGED)
    assert not [c for c in right.contradicted if c["judged"] == "N"]


def test_modes_no_log_can_tell_apart_are_one_group_with_one_p() -> None:
    m = catalog.load()
    stack = Stack(layers=("RLHF", "DEBATE", "RE", "SCI-AI"))
    table = simulate(m, stack, Scenario(p_default=0.2, residual_default=0.05), 5000, seed=1)
    f = fit_matrix(histogram_from_arrow(table, LogSpec(wide=True), "sim"), m, binary=True)
    data = f.to_dict()
    grouped = [g for g in data["modes"] if g["modes"] == ["EM-MIS", "EVAL-DIFF"]]
    assert len(grouped) == 1 and "no log of them can tell them apart" in grouped[0]["note"]
    assert all("EM-MIS" not in g["modes"] or len(g["modes"]) == 2 for g in data["modes"])
    # P(any of the two present) for two independent modes of p = 0.2: 1 - 0.8^2 = 0.36.
    lo, hi = grouped[0]["interval"]
    assert lo <= 0.36 <= hi or not grouped[0]["identified"]


def test_the_fitted_matrix_gives_risk_the_fit_predicts(cli: Cli, tmp_path: Path) -> None:
    log = tmp_path / "log.parquet"
    import pyarrow.parquet as pq

    scenario = Scenario(p_mode=TRUE_P, residual_layer=TRUE_R)
    pq.write_table(simulate(_matrix(), Stack(layers=LAYERS), scenario, 3000, seed=5), log)
    judged = tmp_path / "judged.yaml"
    from cofail.io import write_matrix

    write_matrix(JUDGED, judged)
    out = tmp_path / "fitted.yaml"
    r = cli("fit", str(log), "--wide", "-m", str(judged), "--out", str(out), "-f", "json")
    assert r.code == 0, r.err
    predicted = r.json()["prediction"]["p_fails"]
    risk = cli("risk", "-m", str(out), "--stack", "all", "-f", "json")
    assert risk.code == 0, risk.err
    assert risk.json()["probability"] == pytest.approx(predicted, rel=1e-6)
    assert "A 0.1" in risk.json()["assumptions"]  # the fitted p, stated


def test_fit_without_a_matrix_chooses_the_modes_by_bic() -> None:
    d = discover(_log(4000, seed=2), max_modes=3, matrix=JUDGED)
    data = d.to_dict()
    bics = [c["bic"] for c in data["candidates"]]
    assert data["chosen"] == int(np.argmin(bics)) == 2
    # Each learned mode is matched to the expert mode exposing the same layers.
    matched = {b["expert_mode"]: set(b["learned_exposes"]) for b in data["beside_matrix"]}
    assert matched == {"A": {"L1", "L2", "L3"}, "B": {"L3", "L4", "L5"}}


def test_em_recovers_a_single_rate() -> None:
    s = Structure(np.zeros((1, 0), bool), np.zeros((1, 0)), np.zeros(0, bool), np.ones(1, bool))
    fitted, _, _ = em(
        Params(np.zeros(0), np.zeros((1, 0)), np.array([0.9])),
        s,
        np.array([[False], [True]]),
        np.array([13.0, 7.0]),
    )
    assert fitted.r[0] == pytest.approx(0.35)


def test_fit_bad_input_is_one_line(cli: Cli, tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    log.write_text("case,layer,failed\n1,a,1\n1,b,0\n2,a,0\n2,b,0\n")
    r = cli("fit", str(log), "-m", "dung-mai-2025")
    assert r.code == 2 and "layer 'a' of the log is not in matrix" in r.err
    assert len(r.err.strip().splitlines()) == 1
    r = cli("fit", str(log), "--out", str(tmp_path / "x.yaml"))
    assert r.code == 2 and "--matrix" in r.err

"""`cofail fit`'s P(stack fails): the tilted EM behind its profile interval against closed forms
and a direct optimiser, the interval's ends against an independent constrained maximisation,
and the second EM that frees a parameter stuck at 0."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import expit, logit
from scipy.stats import chi2

from cofail.fit import fit_matrix
from cofail.fit._estimate import predicted_failure
from cofail.fit._latent import Params, Structure, Tilt, em, log_likelihood, states
from cofail.fit._profile import maximise_held
from test_fit import JUDGED, _log

CUTOFF = float(chi2.ppf(0.95, 1))


def _one_layer(k: float, n: float) -> tuple[Structure, Params, np.ndarray, np.ndarray]:
    s = Structure(np.zeros((1, 0), bool), np.zeros((1, 0)), np.zeros(0, bool), np.ones(1, bool))
    start = Params(np.zeros(0), np.zeros((1, 0)), np.array([0.5]))
    return s, start, np.array([[0], [1]], bool), np.array([n - k, k])


@pytest.mark.parametrize("weight", [1.0, 17.0, 400.0])
def test_a_tilt_adds_pseudo_cases_one_layer_closed_form(weight: float) -> None:
    # One layer failing on its own: P = r. Up, λ cases that failed: r = (k + λ) / (n + λ).
    # Down, λ cases on which it did not: r = k / (n + λ).
    s, start, bits, counts = _one_layer(30.0, 200.0)
    mask = np.array([True])
    up, _, _ = em(start, s, bits, counts, tol=1e-14, tilt=Tilt(mask, weight, up=True))
    down, _, _ = em(start, s, bits, counts, tol=1e-14, tilt=Tilt(mask, weight, up=False))
    assert up.r[0] == pytest.approx((30 + weight) / (200 + weight), rel=1e-7)
    assert down.r[0] == pytest.approx(30 / (200 + weight), rel=1e-7)


@pytest.mark.parametrize(("weight", "up"), [(5.0, True), (60.0, True), (5.0, False), (60.0, False)])
def test_the_tilted_em_reaches_the_maximum_a_direct_optimiser_finds(
    weight: float, up: bool
) -> None:
    f = fit_matrix(_log(3000, seed=2), JUDGED)
    s, bits, counts, e = f.structure, f.bits, f.counts, f.estimate
    u = states(len(e.params.p))
    stack = np.array([1, 2, 3])
    mask = np.isin(np.arange(len(f.layers)), stack)
    tilted, value, _ = em(e.params, s, bits, counts, tol=1e-14, tilt=Tilt(mask, weight, up))

    def negative(theta: np.ndarray) -> float:
        p = e.params.with_vector(s, expit(theta))
        prob = predicted_failure(p, stack)
        return -(log_likelihood(p, bits, counts, u) + weight * np.log(prob if up else 1 - prob))

    start = logit(np.clip(tilted.vector(s), 1e-6, 1 - 1e-6)) + 0.05
    direct = minimize(negative, start, method="BFGS", options={"gtol": 1e-7})
    assert value == pytest.approx(-direct.fun, abs=1e-5)
    assert predicted_failure(tilted, stack) == pytest.approx(
        predicted_failure(e.params.with_vector(s, expit(direct.x)), stack), rel=1e-4
    )


def _constrained_deviance(f, stack: np.ndarray, target: float) -> float:  # type: ignore[no-untyped-def]
    """2 (l-hat - l) maximised over the parameters with P(stack fails) held at ``target``, by
    SLSQP on the logits (no tilt, no EM), from the fit and from points on either side."""
    e, s = f.estimate, f.structure
    u = states(len(e.params.p))

    def negative(theta: np.ndarray) -> float:
        p = e.params.with_vector(s, expit(theta))
        return -(log_likelihood(p, f.bits, f.counts, u) - e.loglik)

    def held(theta: np.ndarray) -> float:
        p = e.params.with_vector(s, expit(theta))
        return float(logit(predicted_failure(p, stack)) - logit(target))

    best = -np.inf
    centre = logit(np.clip(e.params.vector(s), 1e-4, 1 - 1e-4))
    for shift in (0.0, 0.2, -0.2):
        out = minimize(
            negative,
            centre + shift,
            method="SLSQP",
            constraints=[{"type": "eq", "fun": held}],
            bounds=[(-9.0, 9.0)] * len(centre),
            options={"ftol": 1e-12, "maxiter": 500},
        )
        if abs(held(out.x)) < 1e-6:
            best = max(best, -out.fun)
    return -2 * best


def test_the_prediction_interval_ends_where_the_profile_reaches_the_cutoff() -> None:
    # 2,000 cases of the two-mode structure: P(L2, L3, L4 fail) through both modes.
    f = fit_matrix(_log(2000, seed=3), JUDGED)
    stack = ("L2", "L3", "L4")
    index = np.array([f.layers.index(x) for x in stack])
    out = f.predict(stack)
    lo, hi = out["interval"]
    assert out["identified"] and lo < out["p_fails"] < hi
    for end in (lo, hi):
        # At the end (a tilted maximum at or just past the cutoff) no point with that P is
        # likelier than the cutoff allows, and a little inside it some point is inside.
        assert _constrained_deviance(f, index, end) == pytest.approx(CUTOFF, abs=0.12)
        inward = float(expit(logit(end) + 0.1 * np.sign(logit(out["p_fails"]) - logit(end))))
        assert _constrained_deviance(f, index, inward) < CUTOFF


def test_an_em_stuck_at_zero_is_moved_off_the_boundary() -> None:
    # Mode A (on L1-L3) started at p = 0: EM cannot move p (its update is multiplicative
    # in the posterior, 0 when p is): the warm start stays far from the optimum.
    f = fit_matrix(_log(2000, seed=5), JUDGED)
    s, e = f.structure, f.estimate
    stuck = Params(np.array([0.0, e.params.p[1]]), e.params.q, e.params.r)
    _, ll_em, _ = em(stuck, s, f.bits, f.counts, tol=1e-12, max_iter=3000)
    assert 2 * (e.loglik - ll_em) > 100
    point, ll = maximise_held(stuck, s, f.bits, f.counts, e.loglik, CUTOFF)
    assert ll == pytest.approx(e.loglik, abs=1e-3)
    assert point.p[0] == pytest.approx(e.params.p[0], rel=1e-3)


def test_the_prediction_table_shows_identified_and_the_delta_method_beside_the_profile() -> None:
    from cofail.report.fit_views import fit_tables

    f = fit_matrix(_log(2000, seed=3), JUDGED)
    data = f.to_dict(("L2", "L3", "L4"))
    pred = data["prediction"]
    table = next(t for t in fit_tables(data) if t.title == "Predicted P(stack fails)")
    row = dict(zip(table.columns, table.rows[0], strict=True))
    assert row["identified"] == ("yes" if pred["identified"] else "no")
    assert row["delta method"] == [round(x, 6) for x in pred["delta_method"]]
    assert row["interval"] == [round(x, 6) for x in pred["interval"]]
    # Both are intervals around the same estimate, from two approximations of one likelihood.
    assert pred["delta_method"][0] < pred["p_fails"] < pred["delta_method"][1]
    unbounded = {**data, "prediction": {**pred, "identified": False, "delta_method": None}}
    table = next(t for t in fit_tables(unbounded) if t.title == "Predicted P(stack fails)")
    assert table.rows[0][table.columns.index("identified")] == "no"
    assert table.rows[0][table.columns.index("delta method")] == "-"

"""`cofail fit --calibrate`: the bootstrap's likelihood-ratio statistics against the binomial
closed form, and a calibrated interval's ends re-maximised from fresh starts (the statistic
reaches the calibrated cutoff there)."""

from __future__ import annotations

import numpy as np
from scipy.stats import chi2

from cofail.fit import fit_matrix
from cofail.fit._calibration import Calibration, bartlett_factors, recalibrated
from cofail.fit._latent import Params, Structure, pattern_log_probs, states
from test_fit import JUDGED, _log
from test_fit_profile import _profile_deviance

CUTOFF = float(chi2.ppf(0.95, 1))


def test_each_replicate_statistic_is_the_binomial_likelihood_ratio() -> None:
    # One layer, no mode: a replicate is a binomial count k of n at r = 0.3, and the
    # likelihood ratio at r = 0.3 is 2 [k log(k / n r) + (n − k) log((n − k) / n (1 − r))].
    s = Structure(np.zeros((1, 0), bool), np.zeros((1, 0)), np.zeros(0, bool), np.ones(1, bool))
    one = Params(np.zeros(0), np.zeros((1, 0)), np.array([0.3]))
    bits, counts = np.array([[0], [1]], bool), np.array([700.0, 300.0])
    c = bartlett_factors(one, s, bits, counts, (0,), 50, seed=3)
    # The same draws: the multinomial over every pattern, in states()' order.
    probs = np.exp(pattern_log_probs(one, states(1)))
    rng = np.random.default_rng(3)
    k = np.array([rng.multinomial(1000, probs / probs.sum())[1] for _ in range(50)], float)
    n, r = 1000.0, 0.3
    closed = 2 * (k * np.log(k / (n * r)) + (n - k) * np.log((n - k) / (n * (1 - r))))
    np.testing.assert_allclose(c.statistics[:, 0], closed, atol=1e-6)
    assert c.factors[0] == np.mean(c.statistics[:, 0])


def test_a_calibrated_interval_ends_where_the_statistic_reaches_the_scaled_cutoff() -> None:
    # A factor of 2 set by hand: each end of the calibrated intervals, re-maximised from fresh
    # starts, has the likelihood ratio at twice the chi-square cutoff; the others unchanged.
    f = fit_matrix(_log(20000, seed=4), JUDGED)
    e = f.estimate
    kept = [k for k, m in enumerate(e.methods) if m.startswith("observed information")][:2]
    other = next(k for k in range(len(e.low)) if k not in kept)
    calibration = Calibration(
        replicates=0, seed=0, which=(*kept, other), factors=(2.0, 2.0, 0.9),
        errors=(0.0, 0.0, 0.0), statistics=np.zeros((0, 3)),
    )  # fmt: skip
    again = recalibrated(e, calibration, f.structure, f.bits, f.counts, CUTOFF)
    for k in kept:
        assert again.low[k] < e.low[k] and again.high[k] > e.high[k]
        for end in (again.low[k], again.high[k]):
            assert abs(_profile_deviance(f, k, float(end)) - 2 * CUTOFF) < 0.1
        assert "calibrated cutoff 7.68" in again.methods[k]
    kept_as_is = calibration.which[2]
    assert again.low[kept_as_is] == e.low[kept_as_is]
    assert "kept" in again.methods[kept_as_is]


def test_fit_calibrates_only_what_the_chi_square_cutoff_leaves_identified() -> None:
    f = fit_matrix(_log(2000, seed=1), JUDGED, calibrate=10)
    assert f.calibration is not None
    data = f.to_dict()
    assert data["calibration"]["replicates"] == 10
    assert "calibrated for the" in data["method"]
    e = f.estimate
    for k in f.calibration.which:
        assert not e.loose[k]
    uncalibrated = fit_matrix(_log(2000, seed=1), JUDGED).to_dict()
    assert uncalibrated["calibration"] is None
    assert "not calibrated" in uncalibrated["method"]

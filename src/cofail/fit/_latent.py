"""The common-cause model as a latent-variable model: its likelihood on a pattern histogram,
its EM, and its score.

Failure modes (here *groups*: modes a log cannot tell apart are one) are latent binary causes,
present on a case with probability p_g, independently. Given which are present (the state U),
layers fail independently: layer i fails with probability

    f_i(U) = 1 − (1 − r_i) · Π_{g ∈ U} (1 − q_ig),

a noisy-OR of its residual and of the present modes it is exposed to. The likelihood of a
histogram is Σ_P c_P log Σ_U π(U) Π_i f_i(U)^{x_Pi} (1 − f_i(U))^{1 − x_Pi}: every state is
summed exactly (2^G of them), so the E-step is exact.

The EM treats each cause of a layer failing (its residual, each present mode) as firing on its
own; the layer fails when any fires. Given the state and a failure, cause c fired with
probability q_c / f_i(U), which makes every M-step closed-form: p_g is the expected share of
cases with g present, q_ig the expected share of those on which (i, g) fired, r_i the expected
share of cases on which i's residual fired. Each step raises the likelihood (Dempster, Laird &
Rubin 1977); parameters fixed by the structure are left where they are.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, logit, logsumexp

__all__ = [
    "EStep",
    "Params",
    "Structure",
    "Tilt",
    "em",
    "estep",
    "fixed",
    "log_likelihood",
    "loglik_and_score",
    "pattern_log_probs",
    "quasi_newton",
    "score",
    "states",
]

_FLOOR = -700.0
"""log of a probability taken as 0 (exp(−700) underflows double precision)."""


@dataclass(frozen=True)
class Structure:
    """Which parameters are estimated, and the values of the others."""

    q_free: np.ndarray
    """layers × groups: q estimated here (a V or U cell)."""
    q_fixed: np.ndarray
    """layers × groups: q where not estimated (0 for an N cell, 1 for V under --binary)."""
    p_free: np.ndarray
    r_free: np.ndarray

    @property
    def n_free(self) -> int:
        """Number of estimated parameters."""
        return int(self.q_free.sum() + self.p_free.sum() + self.r_free.sum())


@dataclass(frozen=True)
class Params:
    """Presence p per group, exposure q per layer and group, residual r per layer."""

    p: np.ndarray
    q: np.ndarray
    r: np.ndarray

    def vector(self, s: Structure) -> np.ndarray:
        """Return the free parameters as one vector: p, then q (row-major), then r."""
        return np.concatenate([self.p[s.p_free], self.q[s.q_free], self.r[s.r_free]])

    def with_vector(self, s: Structure, values: np.ndarray) -> Params:
        """Return these parameters with the free ones replaced by ``values``."""
        a, b = int(s.p_free.sum()), int(s.p_free.sum() + s.q_free.sum())
        p, q, r = self.p.copy(), self.q.copy(), self.r.copy()
        p[s.p_free], q[s.q_free], r[s.r_free] = values[:a], values[a:b], values[b:]
        return Params(p, q, r)


@dataclass(frozen=True)
class EStep:
    """What the E-step gives: posterior weights of the states and the sums the M-step uses."""

    loglik: float
    m: np.ndarray
    """states: expected number of cases in each state."""
    a: np.ndarray
    """states × layers: expected number of cases in each state on which the layer failed."""
    f: np.ndarray
    """states × layers: f_i(U)."""


@dataclass(frozen=True)
class Tilt:
    """``weight`` pseudo-cases added to the log: cases on which every layer of ``layers``
    failed (``up``), or on which not all of them did, the other layers unobserved.

    EM on the log with them maximises ℓ + weight · log P(stack fails) (``up``) or
    ℓ + weight · log(1 − P) — the log-likelihood tilted towards a higher or a lower P. Its
    maximum is a point of P's profile likelihood: no point of higher likelihood has that P.
    """

    layers: np.ndarray
    """layers: the stack's layers (boolean)."""
    weight: float
    up: bool


def states(groups: int) -> np.ndarray:
    """Return every state of ``groups`` binary causes: a (2^groups × groups) boolean matrix.

    >>> states(2).astype(int).tolist()
    [[0, 0], [1, 0], [0, 1], [1, 1]]
    """
    codes = np.arange(2**groups)[:, None]
    return ((codes >> np.arange(groups)) & 1).astype(bool)


def _logs(params: Params, u: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return log π(U) (states), log f and log(1 − f) (states × layers)."""
    with np.errstate(divide="ignore"):
        log_p, log_not_p = np.log(params.p), np.log1p(-params.p)
        log_inhibit = np.log1p(-params.q)  # layers × groups
        log_not_r = np.log1p(-params.r)
    log_prior = (u * np.maximum(log_p, _FLOOR)).sum(1) + (~u * np.maximum(log_not_p, _FLOOR)).sum(1)
    log_survive = (
        np.maximum(log_not_r, _FLOOR) + u.astype(float) @ np.maximum(log_inhibit, _FLOOR).T
    )
    log_survive = np.maximum(log_survive, _FLOOR)
    with np.errstate(divide="ignore"):
        log_fail = np.maximum(np.log(-np.expm1(log_survive)), _FLOOR)
    return log_prior, log_fail, log_survive


def estep(
    params: Params,
    bits: np.ndarray,
    counts: np.ndarray,
    u: np.ndarray,
    tilt: Tilt | None = None,
) -> EStep:
    """Return the E-step on a histogram (``bits``: patterns × layers, ``counts``: patterns),
    with the pseudo-cases of ``tilt`` if given (its ``loglik`` is then the tilted one)."""
    # The logs are floored at _FLOOR, not left at -inf (a V cell's log(1 − q), a p of 0 or 1):
    # the matrix products multiply them by 0/1 indicators, and 0 · -inf would be NaN.
    log_prior, log_fail, log_survive = _logs(params, u)
    x = bits.astype(float)
    # One row per distinct pattern, not per case: the work is patterns × 2^G whatever n is.
    # Each row is normalised in log space because P(pattern, state) underflows with many
    # layers long before the posterior weights do.
    joint = _joint(x, log_prior, log_fail, log_survive)  # patterns × states
    # logsumexp by hand: scipy's checks cost more than the sum at these sizes, and the
    # exponentials are needed for the weights anyway.
    top = joint.max(axis=1, keepdims=True)
    scaled = np.exp(joint - top)
    total = scaled.sum(axis=1)
    per_pattern = top[:, 0] + np.log(total)
    w = scaled * (counts / total)[:, None]
    # Only the state weights are summed over patterns. Which cause of a failure fired is not
    # posterior-weighted here: given the state it is q_c / f_i(U) whatever the pattern, so the
    # M-step applies it to these sums (_fired) instead of the E-step carrying a
    # patterns × states × causes array.
    f = np.exp(log_fail)
    m, a, loglik = w.sum(axis=0), w.T @ x, float(counts @ per_pattern)
    if tilt is not None:
        extra, m_tilt, a_tilt = _tilted(tilt, log_prior, log_fail, f)
        loglik, m, a = loglik + extra, m + m_tilt, a + a_tilt
    return EStep(loglik=loglik, m=m, a=a, f=f)


def _tilted(
    tilt: Tilt, log_prior: np.ndarray, log_fail: np.ndarray, f: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """Return the tilt's pseudo-cases' log-likelihood and their E-step sums (m, a).

    Given a state, the stack's layers fail independently: all of them with F(U) = Π f_i(U).
    A layer off the stack is unobserved, so it is expected to fail with f_i(U); on the stack it
    failed (``up``), or, given that not all did, with (f_i − F) / (1 − F).
    """
    stack = tilt.layers
    log_all = log_fail[:, stack].sum(axis=1)  # states: log F(U)
    every = np.exp(log_all)
    if tilt.up:
        log_event = log_all
    else:
        with np.errstate(divide="ignore"):
            log_event = np.maximum(np.log(-np.expm1(np.minimum(log_all, -1e-300))), _FLOOR)
    joint = log_prior + log_event
    top = float(joint.max())
    weights = np.exp(joint - top)
    total = float(weights.sum())
    w = tilt.weight * weights / total  # states
    if tilt.up:
        expected = np.where(stack[None, :], 1.0, f)
    else:
        rest = np.maximum(1 - every, 1e-300)[:, None]
        expected = np.where(stack[None, :], np.clip((f - every[:, None]) / rest, 0, 1), f)
    return tilt.weight * (top + np.log(total)), w, w[:, None] * expected


def _joint(
    x: np.ndarray, log_prior: np.ndarray, log_fail: np.ndarray, log_survive: np.ndarray
) -> np.ndarray:
    """Return log P(pattern, state): patterns × states (one product, not two)."""
    out: np.ndarray = x @ (log_fail - log_survive).T + (log_survive.sum(axis=1) + log_prior)
    return out


def pattern_log_probs(params: Params, bits: np.ndarray) -> np.ndarray:
    """Return log P(pattern) under ``params`` for each row of ``bits``.

    >>> one = Params(np.zeros(0), np.zeros((1, 0)), np.array([0.25]))
    >>> np.exp(pattern_log_probs(one, np.array([[0], [1]], bool))).round(12).tolist()
    [0.75, 0.25]
    """
    log_prior, log_fail, log_survive = _logs(params, states(len(params.p)))
    x = bits.astype(float)
    out: np.ndarray = logsumexp(x @ log_fail.T + (1 - x) @ log_survive.T + log_prior, axis=1)
    return out


def log_likelihood(params: Params, bits: np.ndarray, counts: np.ndarray, u: np.ndarray) -> float:
    """Return the log-likelihood of the histogram under ``params``."""
    log_prior, log_fail, log_survive = _logs(params, u)
    joint = _joint(bits.astype(float), log_prior, log_fail, log_survive)
    top = joint.max(axis=1)
    return float(counts @ (top + np.log(np.exp(joint - top[:, None]).sum(axis=1))))


def _fired(e: EStep) -> np.ndarray:
    """states × layers: expected failures in each state divided by f (0 where f is 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(e.f > 0, e.a / e.f, 0.0)


def mstep(params: Params, s: Structure, e: EStep, u: np.ndarray) -> Params:
    """Return the M-step: closed-form updates of the free parameters."""
    n = e.m.sum()
    present = e.m @ u  # groups: expected cases with the group present
    ratio = _fired(e)
    p = np.where(s.p_free, present / n, params.p)
    with np.errstate(divide="ignore", invalid="ignore"):
        q_new = params.q * (ratio.T @ u) / present[None, :]
    q = np.where(s.q_free & np.isfinite(q_new), q_new, params.q)
    r = np.where(s.r_free, params.r * ratio.sum(axis=0) / n, params.r)
    return Params(np.clip(p, 0, 1), np.clip(q, 0, 1), np.clip(r, 0, 1))


def em(
    params: Params,
    s: Structure,
    bits: np.ndarray,
    counts: np.ndarray,
    *,
    tol: float = 1e-10,
    max_iter: int = 20_000,
    tilt: Tilt | None = None,
) -> tuple[Params, float, int]:
    """Return (maximum-likelihood parameters, log-likelihood, iterations) from ``params``.

    Stops when an iteration raises the log-likelihood by less than ``tol`` × n (the per-case
    change is negligible) or after ``max_iter`` iterations. With ``tilt``, the maximum and the
    value are of the tilted log-likelihood (see ``Tilt``).

    Examples
    --------
    One layer, no mode: r is the failure rate.

    >>> s = Structure(np.zeros((1, 0), bool), np.zeros((1, 0)), np.zeros(0, bool), np.ones(1, bool))
    >>> start = Params(np.zeros(0), np.zeros((1, 0)), np.array([0.5]))
    >>> fitted, _, _ = em(start, s, np.array([[0], [1]], bool), np.array([7.0, 3.0]))
    >>> round(float(fitted.r[0]), 9)
    0.3
    """
    u = states(len(params.p))
    n = float(counts.sum()) + (tilt.weight if tilt is not None else 0.0)

    def step(x: Params) -> tuple[Params, float]:
        e = estep(x, bits, counts, u, tilt)
        return mstep(x, s, e, u), e.loglik

    # SQUAREM (Varadhan & Roland 2008, scheme S3): two EM steps give a direction and a step
    # length; the extrapolated point is kept only if one EM step from it does not lower the
    # likelihood, so the monotone ascent of EM is kept and flat likelihoods take far fewer
    # iterations.
    previous = -np.inf
    iterations = 0
    while iterations < max_iter:
        x1, ll0 = step(params)
        x2, ll1 = step(x1)
        iterations += 2
        if ll0 - previous < tol * n and iterations > 2:
            return params, ll0, iterations
        previous = ll0
        t0, t1, t2 = params.vector(s), x1.vector(s), x2.vector(s)
        r, v = t1 - t0, t2 - 2 * t1 + t0
        norm_v = float(np.linalg.norm(v))
        candidate = x2
        if norm_v > 0:
            a = min(-1.0, -float(np.linalg.norm(r)) / norm_v)
            jumped = params.with_vector(s, np.clip(t0 - 2 * a * r + a * a * v, 0.0, 1.0))
            stepped, ll_jump = step(jumped)
            iterations += 1
            if ll_jump >= ll1 and np.isfinite(ll_jump):
                candidate = stepped
        params = candidate
    if tilt is not None:
        return params, estep(params, bits, counts, u, tilt).loglik, iterations
    return params, log_likelihood(params, bits, counts, u), iterations


def score(params: Params, s: Structure, bits: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Return the gradient of the log-likelihood in the logits of the free parameters.

    By Fisher's identity the score is the posterior expectation of the complete-data score:
    Σ_U m(U) (U_g − p_g) for a logit p_g, and for a logit q_ig (r_i likewise, with U_g = 1)
    Σ_U U_g q_ig [a(U, i) (1 − f_i(U)) / f_i(U) − (m(U) − a(U, i))].
    """
    return loglik_and_score(params, s, bits, counts)[1]


def loglik_and_score(
    params: Params, s: Structure, bits: np.ndarray, counts: np.ndarray
) -> tuple[float, np.ndarray]:
    """Return the log-likelihood and its gradient in the free parameters' logits (``score``),
    from one E-step."""
    u = states(len(params.p))
    e = estep(params, bits, counts, u)
    uf = u.astype(float)
    d_p = e.m @ (uf - params.p[None, :])
    ratio = _fired(e)
    term = ratio * (1 - e.f) - (e.m[:, None] - e.a)  # states × layers
    d_q = params.q * (term.T @ uf)
    d_r = params.r * term.sum(axis=0)
    return e.loglik, np.concatenate([d_p[s.p_free], d_q[s.q_free], d_r[s.r_free]])


def quasi_newton(
    params: Params,
    s: Structure,
    bits: np.ndarray,
    counts: np.ndarray,
    *,
    max_iter: int = 500,
) -> tuple[Params, float]:
    """Return the maximum of the log-likelihood reached from ``params`` by L-BFGS on the logits
    of the free parameters inside (1e-9, 1 − 1e-9), the others held: (parameters, their
    log-likelihood), or ``params`` itself when it is not improved on.

    EM's rate is the fraction of the information the latent modes hide; along a weakly
    identified direction it is close to 1, and EM stops (by its tolerance or its iteration
    cap) short of the maximum. A quasi-Newton method uses the curvature instead: from where EM
    stopped it reaches the maximum in tens of steps, each one E-step (the exact score,
    ``loglik_and_score``).

    Examples
    --------
    One layer, no mode: r is the failure rate, from any start.

    >>> s = Structure(np.zeros((1, 0), bool), np.zeros((1, 0)), np.zeros(0, bool), np.ones(1, bool))
    >>> start = Params(np.zeros(0), np.zeros((1, 0)), np.array([0.9]))
    >>> fitted, _ = quasi_newton(start, s, np.array([[0], [1]], bool), np.array([7.0, 3.0]))
    >>> round(float(fitted.r[0]), 6)
    0.3
    """
    vector = params.vector(s)
    moving = (vector > 1e-9) & (vector < 1 - 1e-9)
    start_ll = log_likelihood(params, bits, counts, states(len(params.p)))
    if not moving.any():
        return params, start_ll

    def at(x: np.ndarray) -> Params:
        full = vector.copy()
        full[moving] = expit(x)
        return params.with_vector(s, full)

    def negative(x: np.ndarray) -> tuple[float, np.ndarray]:
        ll, gradient = loglik_and_score(at(x), s, bits, counts)
        return -ll, -gradient[moving]

    result = minimize(
        negative,
        logit(vector[moving]),
        jac=True,
        method="L-BFGS-B",
        bounds=[(-30.0, 30.0)] * int(moving.sum()),
        options={"maxiter": max_iter, "maxcor": 30, "gtol": 1e-6, "ftol": 1e-15},
    )
    if np.isfinite(result.fun) and -result.fun > start_ll:
        return at(result.x), float(-result.fun)
    return params, start_ll


def fixed(s: Structure, which: int, value: float, params: Params) -> tuple[Structure, Params]:
    """Return the structure and parameters with free parameter number ``which`` held at
    ``value`` (for profile likelihoods and likelihood-ratio tests)."""
    p_free, q_free, r_free = s.p_free.copy(), s.q_free.copy(), s.r_free.copy()
    vector = params.vector(s)
    vector[which] = value
    params = params.with_vector(s, vector)
    a, b = int(s.p_free.sum()), int(s.p_free.sum() + s.q_free.sum())
    if which < a:
        p_free[np.flatnonzero(s.p_free)[which]] = False
    elif which < b:
        rows, cols = np.nonzero(s.q_free)
        q_free[rows[which - a], cols[which - a]] = False
    else:
        r_free[np.flatnonzero(s.r_free)[which - b]] = False
    q_fixed = np.where(q_free, s.q_fixed, params.q)
    return replace(s, p_free=p_free, q_free=q_free, r_free=r_free, q_fixed=q_fixed), params

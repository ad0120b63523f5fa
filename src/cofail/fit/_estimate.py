"""Maximum likelihood with intervals: EM from several starts, observed information for
interior parameters, profile likelihood for those on the boundary."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, logit
from scipy.stats import chi2, norm

from cofail.fit._latent import Params, Structure, em, fixed, pattern_log_probs, score, states

__all__ = [
    "Estimate",
    "maximise",
    "pattern_fit",
    "predicted_failure",
    "prediction_interval",
    "starts",
    "with_intervals",
]

BOUNDARY = 1e-5
"""A parameter this close to 0 or 1 is on the boundary: no Wald interval (profile instead)."""
LOOSE_SE = 4.0
"""A standard error above this on the logit scale: the log does not pin the parameter down."""


@dataclass(frozen=True)
class Estimate:
    """Fitted parameters, their intervals and how each interval was made."""

    params: Params
    loglik: float
    iterations: int
    low: np.ndarray
    high: np.ndarray
    methods: tuple[str, ...]
    """Per free parameter: ``observed information`` or ``profile likelihood``."""
    loose: np.ndarray
    """Per free parameter: the log does not pin it down (a flat likelihood along it)."""
    covariance: np.ndarray
    """Of the interior parameters' logits (the others are held at their estimate)."""
    interior: np.ndarray
    flat: np.ndarray
    """interior × k: directions of the interior logits along which the likelihood is flat."""


def maximise(
    s: Structure,
    bits: np.ndarray,
    counts: np.ndarray,
    starts: list[Params],
    tol: float = 1e-10,
) -> tuple[Params, float, int]:
    """Return the best EM optimum over ``starts``: (params, log-likelihood, iterations)."""
    best: tuple[Params, float, int] | None = None
    for start in starts:
        fitted = em(start, s, bits, counts, tol=tol)
        if best is None or fitted[1] > best[1] + 1e-9:
            best = fitted
    assert best is not None
    return best


def starts(s: Structure, bits: np.ndarray, counts: np.ndarray, n: int, seed: int) -> list[Params]:
    """Return ``n`` starting points: a neutral one, then random ones."""
    rate = np.clip((counts @ bits) / counts.sum(), 0.01, 0.99)
    groups = s.q_free.shape[1]
    out = [
        Params(
            p=np.where(s.p_free, 0.2, 0.0) if groups else np.zeros(0),
            q=np.where(s.q_free, 0.7, s.q_fixed),
            r=np.where(s.r_free, 0.5 * rate, 0.0),
        )
    ]
    rng = np.random.default_rng(seed)
    for _ in range(n - 1):
        out.append(
            Params(
                p=np.where(s.p_free, rng.uniform(0.05, 0.5, groups), 0.0),
                q=np.where(s.q_free, rng.uniform(0.2, 0.95, s.q_free.shape), s.q_fixed),
                r=np.where(s.r_free, rate * rng.uniform(0.05, 0.9, len(rate)), 0.0),
            )
        )
    return out


def with_intervals(
    params: Params,
    loglik: float,
    iterations: int,
    s: Structure,
    bits: np.ndarray,
    counts: np.ndarray,
    alpha: float,
) -> Estimate:
    """Return the estimate with an interval for each free parameter.

    Interior parameters get a Wald interval on the logit scale from the observed information
    (the Hessian of the log-likelihood, by central differences of the exact score); one on the
    boundary (an estimate of 0 or 1, where the Wald interval means nothing) gets the
    profile-likelihood interval: the values whose likelihood-ratio statistic against the
    optimum stays under the χ²₁ quantile.
    """
    theta = params.vector(s)
    interior = (theta > BOUNDARY) & (theta < 1 - BOUNDARY)
    z = norm.ppf(1 - alpha / 2)
    low, high = theta.copy(), theta.copy()
    loose = np.zeros(len(theta), dtype=bool)
    methods = ["profile likelihood"] * len(theta)
    covariance = np.zeros((int(interior.sum()), int(interior.sum())))
    flat = np.zeros((int(interior.sum()), 0))
    if interior.any():
        hessian = _hessian(params, s, bits, counts, interior)
        information = -hessian
        values, vectors = np.linalg.eigh(information)
        # A direction of (near) zero curvature: parameters the log cannot tell apart.
        keep = values > 1e-8 * max(1.0, float(values.max(initial=0.0)))
        inverse = (vectors[:, keep] / values[keep]) @ vectors[:, keep].T
        flat = vectors[:, ~keep]
        covariance = inverse
        se = np.sqrt(np.clip(np.diag(inverse), 0.0, None))
        idx = np.flatnonzero(interior)
        centre = logit(theta[idx])
        low[idx] = expit(centre - z * se)
        high[idx] = expit(centre + z * se)
        unpinned = (se > LOOSE_SE) | (np.abs(flat).max(axis=1, initial=0.0) > 0.1)
        loose[idx] = unpinned
        low[idx[unpinned]], high[idx[unpinned]] = 0.0, 1.0
        for k in idx:
            methods[k] = "observed information (Wald, logit scale)"
    cutoff = chi2.ppf(1 - alpha, 1)
    for k in np.flatnonzero(~interior):
        at_zero = theta[k] <= BOUNDARY
        bound = _profile_bound(params, s, bits, counts, int(k), loglik, cutoff, towards_one=at_zero)
        if at_zero:
            low[k], high[k] = 0.0, bound
        else:
            low[k], high[k] = bound, 1.0
        loose[k] = (high[k] - low[k]) > 0.98
    return Estimate(
        params=params,
        loglik=loglik,
        iterations=iterations,
        low=low,
        high=high,
        methods=tuple(methods),
        loose=loose,
        covariance=covariance,
        interior=interior,
        flat=flat,
    )


def _hessian(
    params: Params, s: Structure, bits: np.ndarray, counts: np.ndarray, interior: np.ndarray
) -> np.ndarray:
    """Return the Hessian of the log-likelihood in the logits of the interior parameters."""
    theta = logit(np.clip(params.vector(s), 1e-12, 1 - 1e-12))
    idx = np.flatnonzero(interior)
    h = 1e-4
    rows = []
    for k in idx:
        up, down = theta.copy(), theta.copy()
        up[k] += h
        down[k] -= h
        g_up = score(params.with_vector(s, expit(up)), s, bits, counts)[idx]
        g_down = score(params.with_vector(s, expit(down)), s, bits, counts)[idx]
        rows.append((g_up - g_down) / (2 * h))
    hessian = np.array(rows)
    symmetric: np.ndarray = 0.5 * (hessian + hessian.T)
    return symmetric


def _profile_bound(
    params: Params,
    s: Structure,
    bits: np.ndarray,
    counts: np.ndarray,
    which: int,
    loglik: float,
    cutoff: float,
    *,
    towards_one: bool,
) -> float:
    """Return the far end of the profile-likelihood interval of a parameter on the boundary:
    the value, moving away from its estimate, where 2 (ℓ̂ − ℓ_profile) reaches ``cutoff``."""

    def deviance(value: float) -> float:
        held, start = fixed(s, which, value, params)
        _, ll, _ = em(start, held, bits, counts, tol=1e-8, max_iter=2000)
        return 2 * (loglik - ll)

    edge = 1 - 1e-9 if towards_one else 1e-9
    if deviance(edge) < cutoff:
        return edge if towards_one else 0.0
    # Bisection on the logit scale between the estimate's side and the far edge.
    near, far = (
        (logit(BOUNDARY), logit(edge)) if towards_one else (logit(1 - BOUNDARY), logit(edge))
    )
    for _ in range(30):
        mid = 0.5 * (near + far)
        if deviance(float(expit(mid))) < cutoff:
            near = mid
        else:
            far = mid
        if abs(far - near) < 0.05:
            break
    return float(expit(0.5 * (near + far)))


def predicted_failure(params: Params, layers: np.ndarray) -> float:
    """Return P(every layer in ``layers`` fails) under the model (an exact sum over states)."""
    u = states(len(params.p))
    log_prior = (u * np.log(np.maximum(params.p, 1e-300))).sum(1) + (
        ~u * np.log(np.maximum(1 - params.p, 1e-300))
    ).sum(1)
    survive = (1 - params.r[layers])[None, :] * np.exp(
        u.astype(float) @ np.log(np.maximum(1 - params.q[layers], 1e-300)).T
    )
    return float(np.exp(log_prior) @ np.prod(1 - survive, axis=1))


def prediction_interval(
    estimate: Estimate, s: Structure, layers: np.ndarray, alpha: float
) -> tuple[float | None, float | None]:
    """Return an interval for P(stack fails) that carries the parameters' uncertainty: the
    delta method on logit P over the interior parameters' logits (those on the boundary held);
    ``(None, None)`` when P moves along a direction the log leaves flat (not identified).
    """
    theta = estimate.params.vector(s)
    idx = np.flatnonzero(estimate.interior)
    value = predicted_failure(estimate.params, layers)
    if not len(idx) or not 0 < value < 1:
        return value, value
    centre = logit(theta[idx])
    h = 1e-5
    gradient = np.empty(len(idx))
    for k in range(len(idx)):
        up, down = centre.copy(), centre.copy()
        up[k] += h
        down[k] -= h
        values = []
        for point in (up, down):
            vector = theta.copy()
            vector[idx] = expit(point)
            values.append(logit(predicted_failure(estimate.params.with_vector(s, vector), layers)))
        gradient[k] = (values[0] - values[1]) / (2 * h)
    if estimate.flat.size and np.abs(gradient @ estimate.flat).max() > 1e-3 * (
        1 + np.linalg.norm(gradient)
    ):
        return None, None
    sd = float(np.sqrt(max(0.0, gradient @ estimate.covariance @ gradient)))
    z = norm.ppf(1 - alpha / 2)
    return float(expit(logit(value) - z * sd)), float(expit(logit(value) + z * sd))


def pattern_fit(
    params: Params, bits: np.ndarray, counts: np.ndarray, n_free: int
) -> dict[str, float | int | str | None]:
    """Return G² of the fitted model against the pattern histogram, its degrees of freedom and
    asymptotic p-value, with a note when the table is too sparse for the χ² law."""
    k = bits.shape[1]
    n = float(counts.sum())
    expected = np.exp(pattern_log_probs(params, bits))
    g2 = float(2 * np.sum(counts * np.log(np.maximum(counts, 1e-300) / (n * expected))))
    cells = 2**k
    df = cells - 1 - n_free
    note = ""
    sparse = None
    if k <= 16:
        every = ((np.arange(cells)[:, None] >> np.arange(k)) & 1).astype(bool)
        all_expected = n * np.exp(pattern_log_probs(params, every))
        sparse = float(np.mean(all_expected < 5))
        if sparse > 0.2:
            note = (
                f"{100 * sparse:.0f}% of the {cells} patterns expect fewer than 5 cases: the "
                "chi-square p-value is rough"
            )
    else:
        note = f"{cells} possible patterns: the chi-square p-value is rough"
    p_value = float(chi2.sf(g2, df)) if df > 0 else None
    if df <= 0:
        note = (
            f"{n_free} parameters for {cells - 1} free pattern probabilities: the log cannot "
            "identify them all (the intervals say which), and there is no test of fit"
        )
    return {"g2": max(g2, 0.0), "df": df, "p_value": p_value, "note": note}

"""Maximum likelihood with intervals: EM from several starts, observed information for
interior parameters, profile likelihood for those on the boundary."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, logit
from scipy.stats import chi2, norm

from cofail.fit._latent import (
    Params,
    Structure,
    em,
    fixed,
    log_likelihood,
    pattern_log_probs,
    score,
    states,
)
from cofail.fit._profile import LIKELIER, Profile, maximise_held, profile_end

__all__ = [
    "Estimate",
    "delta_interval",
    "delta_sd",
    "maximise",
    "maximise_all",
    "pattern_fit",
    "predicted_failure",
    "starts",
    "with_intervals",
]

BOUNDARY = 1e-5
"""A parameter this close to 0 or 1 is on the boundary: no Wald interval (profile instead)."""
LOOSE_SE = 4.0
"""A standard error above this on the logit scale: the log does not pin the parameter down."""
NARROW = 0.02
"""An interval that reaches 0 or 1 without the likelihood bounding it still pins the parameter
down when it is narrower than this (q in [0.99, 1] is a measurement; p in [0, 0.08] is not)."""
TRUSTED = (0.95, 1.05)
"""The Wald interval stands when the signed root of the likelihood-ratio statistic at each of
its ends is within these factors of the normal quantile (the quadratic picture holds). The
band follows from the coverage asked for, 93-97 %: an end at a factor c of the quantile covers
as a two-sided 2Φ(1.96 c) − 1 would, 93.7 % at 0.95 and 96.0 % at 1.05 (the band was (0.8,
1.25) before, which lets through ends that cover like 88 %: the coverage study found the Wald
q's of graded matrices at 89-92 %; docs/fit.md)."""


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
    wald_check: tuple[tuple[float, float] | None, ...] = ()
    """Per free parameter: the likelihood-ratio statistic at the Wald interval's two ends,
    the others re-maximised (``None`` where no Wald interval was made)."""
    moves_with: tuple[tuple[int, ...], ...] = ()
    """Per free parameter profiled: the free parameters that moved most with it along its
    profile (a ridge), largest first."""
    better: Params | None = None
    """A point of higher likelihood found while profiling (the fit had not reached the global
    maximum); ``None`` when none was."""
    inside: tuple[tuple[Params, float], ...] = ()
    """Points met while profiling (and other EM ends) whose likelihood-ratio statistic against
    the optimum is under the cutoff, with it: each lies in the profile interval of any
    function of the parameters (a prediction, too)."""


def maximise(
    s: Structure,
    bits: np.ndarray,
    counts: np.ndarray,
    starts: list[Params],
    tol: float = 1e-10,
) -> tuple[Params, float, int]:
    """Return the best EM optimum over ``starts``: (params, log-likelihood, iterations)."""
    return max(maximise_all(s, bits, counts, starts, tol), key=lambda f: f[1])


def maximise_all(
    s: Structure,
    bits: np.ndarray,
    counts: np.ndarray,
    starts: list[Params],
    tol: float = 1e-10,
) -> list[tuple[Params, float, int]]:
    """Return where EM ends from each of ``starts``: (params, log-likelihood, iterations)."""
    return [em(start, s, bits, counts, tol=tol) for start in starts]


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
    region: tuple[Params, ...] = (),
    *,
    stop_early: bool = False,
) -> Estimate:
    """Return the estimate with an interval for each free parameter.

    Interior parameters get a Wald interval on the logit scale from the observed information
    (the Hessian of the log-likelihood, by central differences of the exact score), checked
    against the likelihood: at each end of it the parameter is held and the others
    re-maximised. Where the likelihood-ratio statistic there is not close to the χ²₁ quantile
    (``TRUSTED``), or the information leaves the parameter unpinned, the quadratic picture is
    wrong (a ridge, a skew) and the interval is the profile-likelihood one instead: the values
    whose likelihood-ratio statistic against the optimum stays under the χ²₁ quantile, an end
    the likelihood never reaches reported as the parameter's bound (and ``loose``). One on the
    boundary (an estimate of 0 or 1, where the Wald interval means nothing) gets the profile
    interval on its open side.

    Every point met on the way whose likelihood-ratio statistic against the optimum is under
    the cutoff (each profile's re-maximised points, and ``region``: where EM ended from other
    starts) lies inside every parameter's profile interval. Where such a point lies outside a
    parameter's interval, the likelihood has a ridge the local picture missed: that
    parameter's profile is followed on from the point.

    A point likelier than ``params`` met on the way is returned as ``better``; with
    ``stop_early`` the work stops there (the intervals are then not to be used: climb from
    ``better`` and call again).
    """
    theta = params.vector(s)
    interior = (theta > BOUNDARY) & (theta < 1 - BOUNDARY)
    z = norm.ppf(1 - alpha / 2)
    low, high = theta.copy(), theta.copy()
    loose = np.zeros(len(theta), dtype=bool)
    methods = ["profile likelihood"] * len(theta)
    covariance = np.zeros((int(interior.sum()), int(interior.sum())))
    flat = np.zeros((int(interior.sum()), 0))
    cutoff = chi2.ppf(1 - alpha, 1)
    wald_check: list[tuple[float, float] | None] = [None] * len(theta)
    moves_with: list[tuple[int, ...]] = [()] * len(theta)
    better: tuple[float, Params] | None = None
    profiles: dict[int, Profile] = {}

    checked = [loglik]

    def climb(hint: tuple[float, Params] | None) -> tuple[float, Params] | None:
        # A profile point above the optimum: EM from it says whether a likelier optimum is
        # there (by more than LIKELIER) or it was convergence noise.
        if hint is None or hint[0] <= checked[0] + 1e-6:
            return None
        checked[0] = hint[0]
        fitted, ll, _ = em(hint[1], s, bits, counts)
        return (ll, fitted) if ll > loglik + LIKELIER else None

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
        for pos, k in enumerate(idx):
            methods[k] = "observed information (Wald, logit scale)"
            profile = profiles[int(k)] = Profile(params, s, bits, counts, loglik, int(k), cutoff)
            step = 1.0 if unpinned[pos] else float(z * se[pos])
            check: tuple[float, float] | None = None
            if not unpinned[pos]:
                # The Wald ends, each started from the point the quadratic picture predicts
                # for the others (the ridge's tangent), so a ridge is followed.
                lo_d, hi_d = (
                    profile.deviance(
                        centre[pos] + sign * step,
                        _along(params, s, idx, covariance, pos, sign * step),
                    )
                    for sign in (-1, 1)
                )
                check = wald_check[k] = (lo_d, hi_d)
                if _trusted(check, cutoff):
                    # Each end moved to where the likelihood ratio's signed root, linear
                    # between the estimate (0) and the checked end, reaches the cutoff's.
                    low[k] = expit(centre[pos] - step * np.sqrt(cutoff / lo_d))
                    high[k] = expit(centre[pos] + step * np.sqrt(cutoff / hi_d))
                    better = better or climb(profile.best)
                    if stop_early and better is not None:
                        break
                    continue
            lo_end = profile_end(profile, step, -1, cutoff)
            hi_end = profile_end(profile, step, 1, cutoff)
            low[k], high[k] = lo_end.value, hi_end.value
            loose[k] = not _pinned(low[k], high[k], lo_end.bounded and hi_end.bounded)
            methods[k] = "profile likelihood" + (
                " (the observed information leaves it unpinned)"
                if check is None
                else f" (at the Wald interval's ends the likelihood ratio is {check[0]:.3g} "
                f"and {check[1]:.3g}, not {cutoff:.3g})"
            )
            moves_with[k] = _companions(params, s, int(k), [lo_end.params, hi_end.params])
            better = better or climb(profile.best)
            if stop_early and better is not None:
                break
    inside = _region(params, s, bits, counts, loglik, cutoff, region, profiles)
    better = better or climb(inside[1])
    for h in (
        (int(x) for x in np.flatnonzero(~interior))
        if not (stop_early and better is not None)
        else []
    ):
        at_zero = theta[h] <= BOUNDARY
        bound = _profile_bound(params, s, bits, counts, int(h), loglik, cutoff, towards_one=at_zero)
        if at_zero:
            low[h], high[h] = 0.0, bound
        else:
            low[h], high[h] = bound, 1.0
        loose[h] = not _pinned(low[h], high[h], False)
    for h in range(len(theta)) if not (stop_early and better is not None) else []:
        # The hull of the points inside the likelihood region, per parameter: where it reaches
        # beyond the interval, the profile is followed on from the farthest such point.
        for sign in (-1, 1):
            far = _farthest(inside[0], s, h, low[h] if sign < 0 else high[h], sign)
            if far is None:
                continue
            point, d = far
            profile = profiles.setdefault(h, Profile(params, s, bits, counts, loglik, h, cutoff))
            t_far = float(logit(np.clip(point.vector(s)[h], 1e-12, 1 - 1e-12)))
            profile.points.append((t_far, point, d))
            end = profile_end(profile, 0.5, sign, cutoff, begin=(t_far, d))
            if sign < 0:
                low[h] = end.value
            else:
                high[h] = end.value
            if not end.bounded:
                loose[h] = not _pinned(low[h], high[h], False)
            methods[h] = (
                "profile likelihood, followed along a ridge from a point of the likelihood "
                "region the local picture missed"
            )
            moves_with[h] = _companions(params, s, h, [end.params])
            better = better or climb(profile.best)
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
        wald_check=tuple(wald_check),
        moves_with=tuple(moves_with),
        better=None if better is None else better[1],
        inside=tuple(_region(params, s, bits, counts, loglik, cutoff, region, profiles)[0]),
    )


def _trusted(check: tuple[float, float], cutoff: float) -> bool:
    """Return whether the likelihood-ratio statistics at the Wald ends match the cutoff."""
    ratio = np.sqrt(np.array(check) / cutoff)
    return bool(np.all((ratio >= TRUSTED[0]) & (ratio <= TRUSTED[1])))


def _pinned(low: float, high: float, bounded: bool) -> bool:
    """Return whether an interval pins its parameter down: the likelihood bounds both of its
    ends, or it is narrower than ``NARROW`` (an end at 0 or 1 that the likelihood does not
    reach is then immaterial)."""
    return bounded or high - low < NARROW


def _region(
    params: Params,
    s: Structure,
    bits: np.ndarray,
    counts: np.ndarray,
    loglik: float,
    cutoff: float,
    region: tuple[Params, ...],
    profiles: dict[int, Profile],
) -> tuple[list[tuple[Params, float]], tuple[float, Params] | None]:
    """Return the points known to lie inside the likelihood region (deviance under
    ``cutoff``), with their deviance, and the likeliest of them if above the optimum."""
    u = states(len(params.p))
    inside: list[tuple[Params, float]] = []
    better: tuple[float, Params] | None = None
    for point in region:
        ll = log_likelihood(point, bits, counts, u)
        if ll > loglik + 1e-6:
            better = _higher(better, (ll, point))
        if 2 * (loglik - ll) < cutoff:
            inside.append((point, max(0.0, 2 * (loglik - ll))))
    for profile in profiles.values():
        inside.extend((p, d) for _, p, d in profile.points[1:] if d < cutoff)
    return inside, better


def _farthest(
    inside: list[tuple[Params, float]], s: Structure, k: int, end: float, sign: int
) -> tuple[Params, float] | None:
    """Return the point of ``inside`` farthest beyond ``end`` in parameter ``k`` (``sign``: up
    or down), if any lies materially beyond it (0.05 on the logit scale)."""
    if not inside:
        return None
    values = np.array([p.vector(s)[k] for p, _ in inside])
    j = int(np.argmax(sign * values))
    clip = np.clip([values[j], end], 1e-9, 1 - 1e-9)
    beyond = sign * (logit(clip[0]) - logit(clip[1]))
    if beyond > 0.05 and abs(values[j] - end) > 1e-6:
        return inside[j]
    return None


def _higher(
    a: tuple[float, Params] | None, b: tuple[float, Params] | None
) -> tuple[float, Params] | None:
    if a is None or (b is not None and b[0] > a[0]):
        return b
    return a


def _along(
    params: Params, s: Structure, idx: np.ndarray, covariance: np.ndarray, pos: int, step: float
) -> Params:
    """Return the parameters moved ``step`` (logit) in interior parameter ``pos``, the other
    interior ones moved as the observed information predicts (their conditional mean)."""
    theta = params.vector(s)
    centre = logit(np.clip(theta[idx], 1e-12, 1 - 1e-12))
    var = covariance[pos, pos]
    shift = covariance[:, pos] / var * step if var > 0 else np.eye(len(idx))[pos] * step
    theta = theta.copy()
    theta[idx] = expit(np.clip(centre + shift, -13.0, 13.0))
    return params.with_vector(s, theta)


def _companions(params: Params, s: Structure, which: int, ends: list[Params]) -> tuple[int, ...]:
    """Return the free parameters that moved with ``which`` to its profile's ends: those whose
    logit moved at least a quarter as far as its own, largest first (at most three)."""
    base = logit(np.clip(params.vector(s), 1e-9, 1 - 1e-9))
    score_of = np.zeros(len(base))
    for end in ends:
        moved = logit(np.clip(end.vector(s), 1e-9, 1 - 1e-9)) - base
        own = abs(moved[which])
        if own > 0:
            score_of = np.maximum(score_of, np.abs(moved) / own)
    score_of[which] = 0.0
    order = [int(k) for k in np.argsort(-score_of) if score_of[k] >= 0.25]
    return tuple(order[:3])


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
        _, ll = maximise_held(start, held, bits, counts, loglik, cutoff, tol=1e-8, max_iter=2000)
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


def delta_interval(
    estimate: Estimate, s: Structure, layers: np.ndarray, alpha: float
) -> tuple[float | None, float | None]:
    """Return the delta-method interval of P(stack fails) on the logit scale over the interior
    parameters' logits (those on the boundary held); ``(None, None)`` when P moves along a
    direction the observed information leaves flat."""
    value = predicted_failure(estimate.params, layers)
    if not 0 < value < 1:
        return value, value
    sd = delta_sd(estimate, s, layers)
    if sd is None:
        return None, None
    z = norm.ppf(1 - alpha / 2)
    return float(expit(logit(value) - z * sd)), float(expit(logit(value) + z * sd))


def delta_sd(estimate: Estimate, s: Structure, layers: np.ndarray) -> float | None:
    """Return the delta method's standard deviation of logit P(stack fails) over the interior
    parameters' logits (0 without any; ``None`` when P moves along a direction the observed
    information leaves flat)."""
    theta = estimate.params.vector(s)
    idx = np.flatnonzero(estimate.interior)
    value = predicted_failure(estimate.params, layers)
    if not len(idx) or not 0 < value < 1:
        return 0.0
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
        return None
    return float(np.sqrt(max(0.0, gradient @ estimate.covariance @ gradient)))


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

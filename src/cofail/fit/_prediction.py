"""The profile-likelihood interval of P(stack fails), by tilting the likelihood.

P is a function of every parameter; where they lie on a ridge, the delta method's quadratic
picture can miss how far P moves along it. The profile likelihood of P is the log-likelihood
maximised over the parameters with P held; its 1 − α interval is where 2 (ℓ̂ − ℓ_profile)
stays under the χ²₁ quantile. Holding P fixed is not an EM problem, but tilting is: the
maximum of ℓ + λ log P (λ > 0) is a point of the profile (no point with the same P is
likelier), and ℓ + λ log P is the log-likelihood of the log plus λ pseudo-cases on which every
layer of the stack failed, the other layers unobserved, which EM maximises in closed form
(``Tilt``). Raising λ walks the profile up from P̂; tilting by λ log(1 − P) walks it down.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cofail.fit._latent import Params, Structure, Tilt, log_likelihood, states
from cofail.fit._profile import maximise_held

__all__ = ["PredictionEnd", "prediction_end"]

EDGE = 1e-6
"""A P this close to 0 or 1 with the likelihood still inside the cutoff: the end is the bound."""
MAX_TILT = 1e9
"""Most pseudo-cases of a tilt: beyond, the likelihood does not bound P on that side."""
_EVALUATIONS = 14


@dataclass(frozen=True)
class PredictionEnd:
    """One end of P's profile-likelihood interval."""

    value: float
    """The end; 0 or 1 where the likelihood does not bound P."""
    bounded: bool
    deviance: float
    """2 (ℓ̂ − ℓ) at the end reported (at or just past the cutoff when bounded)."""
    evaluations: int
    inside: tuple[tuple[Params, float], ...]
    """The tilted maxima met inside the likelihood region, with their deviance."""


def prediction_end(
    params: Params,
    loglik: float,
    s: Structure,
    bits: np.ndarray,
    counts: np.ndarray,
    layers: np.ndarray,
    cutoff: float,
    *,
    up: bool,
    sd_logit: float | None,
) -> PredictionEnd:
    """Return the upper (``up``) or lower end of the profile interval of P(every layer in
    ``layers`` fails).

    The first tilt is the one the quadratic picture puts at the end: λ = z / ((1 − P) σ) up
    and z / (P σ) down, σ the delta method's standard deviation of logit P (``sd_logit``;
    one pseudo-case without it). Then λ grows until the deviance passes ``cutoff`` and the
    crossing is found by interpolating the deviance's root, linear in λ when the profile is
    quadratic. Each tilted EM starts from the last tilted maximum inside the region, and
    once more from it moved off the boundary if a parameter is stuck there.

    Notes
    -----
    A tilt reaches the points of the profile where it is concave; elsewhere it jumps over a
    stretch of it to a point past the stretch, whose P is then the end reported: the interval
    can only be wider than the profile's. The end reported is a tilted maximum at or past the
    cutoff (the conservative side), within 2 % of it in deviance.
    """
    from cofail.fit._estimate import predicted_failure

    n_layers = len(params.r)
    mask = np.zeros(n_layers, dtype=bool)
    mask[layers] = True
    value = predicted_failure(params, layers)
    u = states(len(params.p))
    z = float(np.sqrt(cutoff))
    scale = (1 - value) if up else value
    tilt = z / (scale * sd_logit) if sd_logit and scale > 0 else 1.0
    inside: list[tuple[Params, float]] = []
    low: tuple[float, float, Params] = (0.0, 0.0, params)  # (λ, deviance, point) inside
    high: tuple[float, float, Params, float] | None = None  # (λ, deviance, point, P) past
    evaluations = 0
    while evaluations < _EVALUATIONS:
        evaluations += 1
        point, _ = maximise_held(
            low[2], s, bits, counts, loglik, cutoff,
            tilt=Tilt(mask, tilt, up), recheck_inside=True,
        )  # fmt: skip
        d = max(0.0, 2 * (loglik - log_likelihood(point, bits, counts, u)))
        p_point = predicted_failure(point, layers)
        if d < cutoff:
            inside.append((point, d))
            low = (tilt, d, point)
            if (p_point > 1 - EDGE) if up else (p_point < EDGE):
                return PredictionEnd(float(up), False, d, evaluations, tuple(inside))
        else:
            high = (tilt, d, point, p_point)
            if abs(d - cutoff) < 0.02 * cutoff:
                break
        if high is None:
            if tilt >= MAX_TILT:
                return PredictionEnd(float(up), False, d, evaluations, tuple(inside))
            # The deviance grows as λ² near the optimum: aim at the cutoff, at least ×1.5.
            grow = np.sqrt(cutoff / d) if d > 0 else 8.0
            tilt = min(MAX_TILT, tilt * float(np.clip(grow, 1.5, 8.0)))
            continue
        a, b = np.sqrt(low[1]), np.sqrt(high[1])
        frac = float(np.clip((z - a) / (b - a) if b > a else 0.5, 0.1, 0.9))
        tilt = low[0] + frac * (high[0] - low[0])
    if high is None:
        # The tilts grew past a thousand-fold inside the region: not bounded on this side.
        return PredictionEnd(float(up), False, low[1], evaluations, tuple(inside))
    return PredictionEnd(high[3], True, high[1], evaluations, tuple(inside))

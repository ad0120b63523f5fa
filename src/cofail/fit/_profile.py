"""Profile-likelihood intervals for interior parameters, used where the Wald interval's
quadratic picture of the likelihood fails (a ridge, a flat direction, a skewed likelihood).

The profile of parameter k at value t is the log-likelihood maximised over every other
parameter with k held at t. Its 1 − α interval is where 2 (ℓ̂ − ℓ_profile) stays under the χ²₁
quantile. Each evaluation is an EM started from the nearest value already profiled
(continuation along the ridge), so the others follow the ridge instead of starting again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import expit, logit

from cofail.fit._latent import Params, Structure, em, fixed

__all__ = ["EDGE", "LIKELIER", "NEAR_BOUND", "Profile", "ProfileEnd", "profile_end"]

EDGE = float(logit(1e-6))
"""How far (logit scale) a profile is followed before its end is called unbounded."""
NEAR_BOUND = 1e-4
"""A profile end closer than this to 0 or 1 is reported as the bound, and as unbounded."""
LIKELIER = 0.01
"""A point this much likelier (log-likelihood) than the optimum means the fit had not reached
the maximum; less is EM's convergence noise, immaterial beside the χ² cutoff."""
_TOL = 1e-12
_MAX_ITER = 3000


@dataclass
class Profile:
    """The profile log-likelihood of one free parameter, evaluated on demand."""

    params: Params
    s: Structure
    bits: np.ndarray
    counts: np.ndarray
    loglik: float
    which: int
    points: list[tuple[float, Params, float]] = field(default_factory=list)
    """(logit of the held value, the re-maximised parameters, deviance) per evaluation."""
    best: tuple[float, Params] | None = None
    """The highest log-likelihood found while profiling, if above the fit's own (a hint that
    a likelier point is near; EM's convergence noise also gives some)."""

    def __post_init__(self) -> None:
        value = self.params.vector(self.s)[self.which]
        centre = float(logit(np.clip(value, 1e-12, 1 - 1e-12)))
        self.points.append((centre, self.params, 0.0))

    def deviance(self, t: float, start: Params | None = None) -> float:
        """Return 2 (ℓ̂ − ℓ_profile) with the parameter held at expit(``t``), the EM started
        from ``start`` (default: the re-maximised point of the nearest value profiled)."""
        if start is None:
            start = min(self.points, key=lambda p: abs(p[0] - t))[1]
        held, begin = fixed(self.s, self.which, float(expit(t)), start)
        fitted, ll, _ = em(begin, held, self.bits, self.counts, tol=_TOL, max_iter=_MAX_ITER)
        if ll > self.loglik + 1e-6 and (self.best is None or ll > self.best[0]):
            self.best = (ll, fitted)
        d = max(0.0, 2 * (self.loglik - ll))
        self.points.append((t, fitted, d))
        return d


@dataclass(frozen=True)
class ProfileEnd:
    """One end of a profile-likelihood interval."""

    value: float
    """The end (on the parameter's own scale); 0 or 1 where unbounded."""
    bounded: bool
    """False: the likelihood never dropped by the cutoff before the parameter's edge (within
    1e-6 of 0 or 1)."""
    params: Params
    """The others re-maximised at the end."""


def profile_end(
    profile: Profile,
    step: float,
    sign: int,
    cutoff: float,
    *,
    begin: tuple[float, float] | None = None,
) -> ProfileEnd:
    """Return the end of the profile interval on one side (``sign`` +1 up, −1 down).

    The first evaluation is at ``step`` (logit scale) from the estimate, or from ``begin`` (a
    value already known to lie inside, with its deviance); an evaluation already made there is
    the warm start, so it costs a couple of EM steps. The step doubles until the deviance
    passes ``cutoff`` or the edge (``EDGE``) is reached, then the crossing is found by
    interpolation on the signed root of the deviance (linear in t when the likelihood is
    quadratic), safeguarded by bisection.

    Notes
    -----
    One EM per evaluation, warm-started; typically 3-6 evaluations per end. A warm start can
    stop in a poorer optimum of the held problem and overstate the deviance; the caller
    widens the interval to every point found inside the likelihood region (``region``).
    """
    t0, d0 = (profile.points[0][0], 0.0) if begin is None else begin
    edge = -EDGE if sign > 0 else EDGE  # logit(1 − 1e-6) up, logit(1e-6) down
    low_t, low_d = t0, d0
    distance = max(step, 1e-3)
    while True:
        t = t0 + sign * distance
        at_edge = sign * (t - edge) >= 0
        if at_edge:
            t = edge
        d = profile.deviance(t)
        if d >= cutoff:
            high_t, high_d = t, d
            break
        low_t, low_d = t, d
        if at_edge:
            end = 1.0 if sign > 0 else 0.0
            return ProfileEnd(end, False, profile.points[-1][1])
        distance *= 2
    root = np.sqrt(cutoff)
    for _ in range(20):
        if abs(high_d - cutoff) < 0.01 * cutoff or abs(high_t - low_t) < 1e-4:
            break
        a, b = np.sqrt(low_d), np.sqrt(high_d)
        frac = (root - a) / (b - a) if b > a else 0.5
        frac = float(np.clip(frac, 0.1, 0.9))
        t = low_t + frac * (high_t - low_t)
        d = profile.deviance(t)
        if d >= cutoff:
            high_t, high_d = t, d
        else:
            low_t, low_d = t, d
    # The end reported is where the deviance has reached the cutoff (the conservative side).
    params = min(profile.points, key=lambda p: abs(p[0] - high_t))[1]
    value = float(expit(high_t))
    # An end this close to 0 or 1 is the bound for any reading of it.
    if min(value, 1 - value) < NEAR_BOUND:
        return ProfileEnd(0.0 if sign < 0 else 1.0, False, params)
    return ProfileEnd(value, True, params)

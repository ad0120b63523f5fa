"""Distributions on [0, 1] for one probability: parsed from the command line, with closed-form
means (no SciPy to load) and quantiles for sampling (SciPy, loaded when drawing).

``beta:a,b``; ``uniform:low,high``; ``lognormal:mean,error_factor`` (error factor = 95th
percentile / median, as in PSA practice; draws above 1 are clipped to 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import erfc, isfinite, log, sqrt
from typing import Any, Literal

import numpy as np

from cofail.errors import InputError

__all__ = ["Distribution", "Kind"]

Kind = Literal["beta", "uniform", "lognormal"]
_Z95 = 1.6448536269514722
"""The standard normal's 95th percentile: sigma = ln(error factor) / z."""


_MAX_BETA_WEIGHT = 1e9
"""Largest a + b of a beta: SciPy's quantiles hold to 1e9 and are NaN by 1e308."""


@dataclass(frozen=True)
class Distribution:
    """A distribution on [0, 1] for one probability.

    >>> round(Distribution.parse("lognormal:0.01,3").mean(), 12)  # 2e-13 of it above 1
    0.01
    >>> Distribution.parse("beta:2,6").mean(), Distribution.parse("uniform:0.2,0.4").mean()
    (0.25, 0.30000000000000004)
    """

    kind: Kind
    a: float
    b: float

    @classmethod
    def parse(cls, text: str) -> Distribution:
        """Parse ``kind:x,y``; ``InputError`` naming what was expected otherwise."""
        kind, _, args = text.partition(":")
        if kind not in ("beta", "uniform", "lognormal"):
            raise InputError(
                f"{text!r}: unknown distribution {kind!r} (expected beta:a,b, uniform:low,high "
                "or lognormal:mean,error_factor)"
            )
        try:
            a, b = (float(x) for x in args.split(","))
        except ValueError:
            raise InputError(
                f"{text!r}: expected beta:a,b or uniform:low,high or lognormal:mean,error_factor"
            ) from None
        if not (isfinite(a) and isfinite(b)):
            raise InputError(f"{text!r}: the parameters must be finite numbers")
        if kind == "beta" and a > 0 and b > 0:
            if a + b > _MAX_BETA_WEIGHT:
                raise InputError(
                    f"{text!r}: a + b = {a + b:g} is past {_MAX_BETA_WEIGHT:g}; such a beta is a "
                    f"point mass at {1 / (1 + b / a):.6g} to many digits (give that number), and "
                    "its quantiles are not computable"
                )
            return cls("beta", a, b)
        if kind == "uniform" and 0 <= a < b <= 1:
            return cls("uniform", a, b)
        # An error factor of 1 is a point mass (σ = ln 1 = 0); below 1, σ would be negative.
        if kind == "lognormal" and 0 < a < 1 and b > 1:
            return cls("lognormal", a, b)
        raise InputError(f"{text!r}: invalid parameters for a {kind} on [0, 1]")

    @staticmethod
    def looks_like(text: str) -> bool:
        """Whether ``text`` is meant as a distribution (``kind:...``) rather than a number.

        >>> Distribution.looks_like("beta:2,5"), Distribution.looks_like("0.3")
        (True, False)
        """
        return ":" in text

    def __str__(self) -> str:
        """The text :meth:`parse` reads back to the same distribution, digit for digit.

        >>> str(Distribution.parse("beta:2.1234567,5.0")), str(Distribution.parse("uniform:0,1e-3"))
        ('beta:2.1234567,5', 'uniform:0,0.001')
        """
        return f"{self.kind}:{_number(self.a)},{_number(self.b)}"

    def _normal(self) -> tuple[float, float]:
        """A lognormal's underlying normal (μ, σ): σ = ln(error factor) / z95, mean e^(μ+σ²/2)."""
        sigma = log(self.b) / _Z95
        return log(self.a) - sigma * sigma / 2, sigma

    def _frozen(self) -> Any:
        from scipy import stats  # 1.8 s to import: only when drawing

        if self.kind == "beta":
            return stats.beta(self.a, self.b)
        if self.kind == "uniform":
            return stats.uniform(self.a, self.b - self.a)
        sigma = self._normal()[1]
        return stats.lognorm(s=sigma, scale=self.a * np.exp(-sigma * sigma / 2))

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Return the quantiles at ``u`` (clipped to [0, 1])."""
        return np.asarray(np.clip(self._frozen().ppf(u), 0.0, 1.0))

    def above_one(self) -> float:
        """Return the mass above 1 that drawing clips to 1 (0 but for a wide lognormal).

        >>> f"{Distribution.parse('lognormal:0.1,10').above_one():.2e}"
        '9.52e-03'
        """
        if self.kind != "lognormal":
            return 0.0
        mu, sigma = self._normal()
        return _phi(mu / sigma)  # P(ln X > 0) = Φ(μ / σ)

    def mean(self) -> float:
        """Return the mean of the distribution as drawn (a lognormal's clipped at 1).

        >>> d = Distribution.parse("lognormal:0.1,10")
        >>> midpoints = (np.arange(400_000) + 0.5) / 400_000  # the mean by quantiles, clipped
        >>> round(float(np.mean(d.ppf(midpoints))), 4), round(d.mean(), 4)
        (0.0923, 0.0923)
        """
        if self.kind == "beta":
            return self.a / (self.a + self.b)
        if self.kind == "uniform":
            return (self.a + self.b) / 2
        if self.above_one() == 0.0:
            return self.a
        # E[min(X, 1)] = E[X; X < 1] + P(X >= 1), with E[X; X < 1] = mean Φ((0 − μ − σ²) / σ).
        mu, sigma = self._normal()
        below = _phi((-mu - sigma * sigma) / sigma)
        return self.a * below + self.above_one()

    def mef(self) -> str:
        """Return an Open-PSA MEF expression with this distribution's mean, that SCRAM accepts:
        the deviate for uniform and lognormal; for beta, the mean as a float with a label.
        SCRAM 0.16 refuses every beta-deviate as a probability: its domain check takes
        1 / I_0.99(a, b) > 1 as the upper bound.

        >>> Distribution.parse("uniform:0.1,0.3").mef()
        '<uniform-deviate><float value="0.1"/><float value="0.3"/></uniform-deviate>'
        >>> Distribution.parse("beta:2,6").mef()
        '<label>q ~ beta:2,6 (written as its mean: SCRAM refuses beta-deviate)</label><float value="0.25"/>'

        ``InputError`` for a lognormal with enough mass above 1 (cofail clips it, MEF does not)
        to move its mean by more than 1e-6 relative.
        """
        if self.kind == "beta":
            return (
                f"<label>q ~ {self} (written as its mean: SCRAM refuses beta-deviate)</label>"
                f'<float value="{self.mean()!r}"/>'
            )
        args: tuple[float, ...] = (self.a, self.b)
        if self.kind == "uniform":
            tag = "uniform-deviate"
        else:
            shift = abs(self.mean() - self.a) / self.a
            if shift > 1e-6:  # the agreement asked of SCRAM
                raise InputError(
                    f"{self}: {self.above_one():.2g} of its mass lies above 1, which cofail "
                    f"clips to 1 and an MEF lognormal-deviate does not: the means differ by "
                    f"{shift:.1g} relative; use beta:a,b or a smaller error factor"
                )
            args, tag = (self.a, self.b, 0.95), "lognormal-deviate"
        inner = "".join(f'<float value="{x!r}"/>' for x in args)
        return f"<{tag}>{inner}</{tag}>"


def _phi(x: float) -> float:
    """The standard normal CDF, from erfc: full relative precision in the lower tail, where
    0.5 (1 + erf) cancels (statistics.NormalDist.cdf loses 1e-8 of it at x = -5.7)."""
    return 0.5 * erfc(-x / sqrt(2))


def _number(x: float) -> str:
    """The shortest text that reads back as ``x`` (``repr``), without a trailing ``.0``."""
    text = repr(float(x))
    return text[:-2] if text.endswith(".0") else text

"""A risk scenario: how likely each failure mode is, residual failure, and how U cells are read."""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from cofail.errors import InputError
from cofail.model import Matrix, Stack, UncertainPolicy
from cofail.probability.distributions import Distribution

__all__ = ["Scenario"]


class Scenario(BaseModel):
    """The probabilistic assumptions behind every risk figure.

    Examples
    --------
    >>> s = Scenario.parse(p=["0.1", "DEC-AL=0.3"], residual=["0.01"])
    >>> s.p_mode["DEC-AL"], s.p_default, s.residual_default
    (0.3, 0.1, 0.01)
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    p_default: float = Field(default=0.1, ge=0, le=1)
    """Probability that a failure mode is present (every mode without an override)."""
    p_mode: dict[str, float] = Field(default_factory=dict)
    """Per-mode overrides of ``p_default``."""
    residual_default: float = Field(default=0.01, ge=0, le=1)
    """Probability that a layer fails on its own, with no failure mode present."""
    residual_layer: dict[str, float] = Field(default_factory=dict)
    """Per-layer overrides of ``residual_default``."""
    uncertain: UncertainPolicy | float = "pessimistic"
    """U cells: optimistic (q = 0), pessimistic (q = 1) or a value of q (a distribution's mean)."""
    uncertain_distribution: str | None = None
    """A distribution each U cell's q follows on its own, e.g. ``beta:2,5``; ``uncertain`` then
    holds its mean. P(stack fails) is linear in each cell's q, so with independent cells the
    exact P at the means is the expected P."""
    own_distributions: bool = False
    """U cells that carry their own distribution (``Vulnerability.distribution``, which
    ``cofail merge`` writes from the raters' votes) follow it: q at its mean here, one input
    each in ``uncertainty``; ``uncertain`` reads the other U cells (``--uncertain own``)."""

    @model_validator(mode="after")
    def _mean_of_the_distribution(self) -> Scenario:
        if self.uncertain_distribution is not None:
            mean = Distribution.parse(self.uncertain_distribution).mean()
            if self.uncertain != mean:
                raise ValueError(f"uncertain must be the mean of the distribution, {mean!r}")
        return self

    @property
    def u_distribution(self) -> Distribution | None:
        """The distribution of the U cells' q, when one was given."""
        if self.uncertain_distribution is None:
            return None
        return Distribution.parse(self.uncertain_distribution)

    def mef_cells(self, matrix: Matrix, stack: Stack) -> dict[tuple[str, str], str]:
        """The MEF expression of each U cell of the stack's layers when the U cells follow a
        distribution (see :meth:`Distribution.mef`); empty otherwise.

        >>> from cofail import catalog
        >>> s = Scenario.parse(uncertain="uniform:0.2,0.4")
        >>> s.mef_cells(catalog.load(), Stack(layers=("IDA", "RLHF")))
        {('IDA', 'DEC-AL'): '<uniform-deviate><float value="0.2"/><float value="0.4"/></uniform-deviate>'}
        """
        u = self.u_distribution
        own = self._own(matrix)
        cells = {}
        for c in matrix.uncertain_cells():
            if c[0] not in stack.layers:
                continue
            if c in own:
                cells[c] = own[c].mef()
            elif u is not None:
                cells[c] = u.mef()
        return cells

    def _own(self, matrix: Matrix) -> dict[tuple[str, str], Distribution]:
        """The U cells that follow their own distribution in this scenario."""
        if not self.own_distributions:
            return {}
        return {c: Distribution.parse(d) for c, d in matrix.own_distributions().items()}

    @classmethod
    def parse(
        cls,
        p: list[str] | None = None,
        residual: list[str] | None = None,
        uncertain: str = "pessimistic",
    ) -> Scenario:
        """Build a scenario from CLI strings: ``0.1`` sets the default, ``ID=0.3`` one item.

        ``uncertain`` is ``optimistic``, ``pessimistic``, a value of q or a distribution; or
        ``own`` (each U cell by its own distribution, the others pessimistic) or ``own,READING``
        (the others by READING).

        >>> s = Scenario.parse(uncertain="own,beta:2,6")
        >>> s.own_distributions, s.uncertain, s.uncertain_distribution
        (True, 0.25, 'beta:2,6')
        """
        own = uncertain == "own" or uncertain.startswith("own,")
        if own:
            uncertain = uncertain[4:].strip() or "pessimistic"
        p_default, p_mode = _split("--p", p or [], 0.1)
        r_default, r_layer = _split("--residual", residual or [], 0.01)
        distribution = _u_distribution(uncertain)
        return cls(
            p_default=p_default,
            p_mode=p_mode,
            residual_default=r_default,
            residual_layer=r_layer,
            uncertain=_uncertain(uncertain) if distribution is None else distribution.mean(),
            uncertain_distribution=None if distribution is None else str(distribution),
            own_distributions=own,
        )

    def check(self, matrix: Matrix) -> None:
        """Raise ``InputError`` for an override naming a mode or layer the matrix lacks."""
        for mid in self.p_mode:
            if mid not in matrix.mode_ids:
                raise InputError(
                    f"--p {mid}=...: unknown failure mode (known: {', '.join(matrix.mode_ids)})"
                )
        for lid in self.residual_layer:
            if lid not in matrix.layer_ids:
                raise InputError(
                    f"--residual {lid}=...: unknown layer (known: {', '.join(matrix.layer_ids)})"
                )

    def arrays(
        self, matrix: Matrix, stack: Stack | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return (q, p, r) for the stack's layers (default: all layers, matrix order)."""
        self.check(matrix)
        rows = stack.indices(matrix) if stack is not None else list(range(len(matrix.layers)))
        q = matrix.probabilities(self.uncertain)
        if self.own_distributions:
            row, column = {x: i for i, x in enumerate(matrix.layer_ids)}, matrix.mode_ids.index
            for (lid, mid), d in self._own(matrix).items():
                q[row[lid], column(mid)] = d.mean()
        q = q[rows]
        full = self.for_matrix(matrix)
        p = np.array([full.p_mode.get(mid, full.p_default) for mid in matrix.mode_ids])
        r = np.array(
            [full.residual_layer.get(matrix.layer_ids[i], full.residual_default) for i in rows]
        )
        return q, p, r

    def for_matrix(self, matrix: Matrix) -> Scenario:
        """Return this scenario with the p and r the matrix states (a fitted matrix does) for
        every mode and layer this scenario does not set itself.

        >>> from cofail import catalog
        >>> m = catalog.load()
        >>> fitted = m.model_copy(update={"failure_modes": (
        ...     m.failure_modes[0].model_copy(update={"presence": 0.2}), *m.failure_modes[1:])})
        >>> s = Scenario().for_matrix(fitted)
        >>> s.p_mode, s.p_default
        ({'S-TAX': 0.2}, 0.1)
        >>> Scenario.parse(p=["S-TAX=0.5"]).for_matrix(fitted).p_mode
        {'S-TAX': 0.5}
        """
        p_mode = {
            f.id: f.presence
            for f in matrix.failure_modes
            if f.presence is not None and f.id not in self.p_mode
        }
        residual = {
            x.id: x.residual
            for x in matrix.layers
            if x.residual is not None and x.id not in self.residual_layer
        }
        if not p_mode and not residual:
            return self
        return self.model_copy(
            update={
                "p_mode": {**p_mode, **self.p_mode},
                "residual_layer": {**residual, **self.residual_layer},
            }
        )

    def describe(self) -> str:
        """Return a one-line statement of the assumptions.

        >>> Scenario().describe()
        'scenario: every failure mode present with p = 0.1; residual r = 0.01 per layer; U cells pessimistic (q = 1)'
        """
        p = f"every failure mode present with p = {self.p_default:g}"
        if self.p_mode:
            p += " (" + ", ".join(f"{k} {v:g}" for k, v in self.p_mode.items()) + ")"
        r = f"residual r = {self.residual_default:g} per layer"
        if self.residual_layer:
            r += " (" + ", ".join(f"{k} {v:g}" for k, v in self.residual_layer.items()) + ")"
        if self.uncertain_distribution is not None:
            u = (
                f"U cells q ~ {self.uncertain_distribution}, each on its own (mean "
                f"{self.uncertain:.6g}, which gives the expected P: P is linear in each q)"
            )
        elif isinstance(self.uncertain, float):
            u = f"U cells q = {self.uncertain:g}"
        else:
            u = f"U cells {self.uncertain} (q = {1 if self.uncertain == 'pessimistic' else 0})"
        if self.own_distributions:
            u = (
                "U cells with their own distribution (a consensus's split cells) at its mean "
                f"(P is linear in each q); other {u}"
            )
        return f"scenario: {p}; {r}; {u}"

    def to_dict(self) -> dict[str, Any]:
        """Return plain data for JSON."""
        return {**self.model_dump(), "description": self.describe()}


def _split(option: str, values: list[str], default: float) -> tuple[float, dict[str, float]]:
    overrides: dict[str, float] = {}
    for value in values:
        key, eq, number = value.rpartition("=")
        if eq and not key.strip():
            raise InputError(
                f"{option} {value!r}: expected a probability or ID=probability, an id before '='"
            )
        prob = _probability(option, value, number)
        if key:
            overrides[key.strip()] = prob
        else:
            default = prob
    return default, overrides


def _probability(option: str, raw: str, number: str) -> float:
    try:
        value = float(number)
    except ValueError:
        raise InputError(f"{option} {raw!r}: expected a probability or ID=probability") from None
    if not 0.0 <= value <= 1.0:
        raise InputError(f"{option} {raw!r}: a probability must lie in [0, 1]")
    return value


def _uncertain(text: str) -> UncertainPolicy | float:
    if text in ("optimistic", "pessimistic"):
        return text  # type: ignore[return-value]
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.0 <= value <= 1.0:  # also NaN
        raise InputError(
            f"--uncertain {text!r}: expected optimistic, pessimistic, a value of q in [0, 1], "
            "a distribution (beta:a,b, uniform:low,high, lognormal:mean,EF), or own[,READING]"
        )
    return value


def _u_distribution(text: str) -> Distribution | None:
    """The distribution ``--uncertain`` names, if it names one (``beta:2,5``)."""
    if not Distribution.looks_like(text):
        return None
    try:
        return Distribution.parse(text)
    except InputError as err:
        raise InputError(f"--uncertain {err}") from None

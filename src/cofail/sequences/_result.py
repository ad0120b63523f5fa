"""What an ordered stack's event tree says: its outcomes, its functional events, their costs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cofail.probability.scenario import Scenario

__all__ = ["Barrier", "EventTreeResult", "Hazard", "Outcome"]


@dataclass(frozen=True)
class Outcome:
    """One end of the event tree: stopped by a layer, prevented, or harm."""

    outcome: str
    """``stopped by L``, ``prevented``, ``mitigated by L`` or ``harm``."""
    layer: str | None
    """The layer that stops the attack; None for ``prevented`` and ``harm``."""
    probability: float
    """Exact, with shared failure modes as common causes."""
    independent: float
    """The same outcome if every layer failed independently with its own P(fails)."""
    sides_multiplied: float | None = None
    """Bow-tie only: P(hazard) times the mitigation tree solved on its own, the error of
    multiplying the two sides when a mode is shared across them."""
    cost: float | None = None
    """The cost given for this outcome (None: no costs given)."""

    @property
    def shift(self) -> float:
        """How much the shared modes move onto this outcome: exact − independent."""
        return self.probability - self.independent

    def to_dict(self) -> dict[str, Any]:
        """Return plain data for JSON."""
        return {
            "outcome": self.outcome,
            "layer": self.layer,
            "probability": self.probability,
            "independent": self.independent,
            "shift": self.shift,
            "sides_multiplied": self.sides_multiplied,
            "cost": self.cost,
        }


@dataclass(frozen=True)
class Barrier:
    """A layer as a functional event of the event tree."""

    layer: str
    reached: float
    """P(an attack reaches this layer): every layer before it failed (exact)."""
    reached_independent: float
    fails_given_reached: float | None
    """P(this layer fails | every layer before it failed); None when it is never reached."""
    fails_alone: float
    """P(this layer fails) on its own: its branch probability in the independence picture."""

    def to_dict(self) -> dict[str, Any]:
        """Return plain data for JSON."""
        return {
            "layer": self.layer,
            "reached": self.reached,
            "reached_independent": self.reached_independent,
            "fails_given_reached": self.fails_given_reached,
            "fails_alone": self.fails_alone,
        }


@dataclass(frozen=True)
class Hazard:
    """A bow-tie's left side: the hazard occurs when every prevention layer fails."""

    layers: tuple[str, ...]
    probability: float
    independent: float
    layer_probabilities: dict[str, float]
    shared_modes: tuple[str, ...]
    """Failure modes that can defeat a prevention and a mitigation layer both."""

    def to_dict(self) -> dict[str, Any]:
        """Return plain data for JSON."""
        return {
            "layers": list(self.layers),
            "probability": self.probability,
            "independent": self.independent,
            "layer_probabilities": self.layer_probabilities,
            "shared_modes": list(self.shared_modes),
        }


@dataclass(frozen=True)
class EventTreeResult:
    """The outcomes of an attack that meets the layers in order, exact and as independence
    would have them; for a bow-tie, the hazard's fault tree first."""

    stack: tuple[str, ...]
    """Every layer, in the order an attack meets them (prevention layers first)."""
    prevent: tuple[str, ...]
    """A bow-tie's prevention layers (empty for a plain stack)."""
    outcomes: tuple[Outcome, ...]
    barriers: tuple[Barrier, ...]
    """The event tree's functional events: the mitigation layers (all of them, plain)."""
    hazard: Hazard | None
    scenario: Scenario
    engine: str

    @property
    def mitigate(self) -> tuple[str, ...]:
        """The layers after the hazard (all of them for a plain stack)."""
        return self.stack[len(self.prevent) :]

    @property
    def harm(self) -> Outcome:
        """The outcome in which every layer fails."""
        return self.outcomes[-1]

    @property
    def expected_cost(self) -> tuple[float, float] | None:
        """(exact, independent) expected cost over the outcomes, when costs were given."""
        if all(o.cost is None for o in self.outcomes):
            return None
        exact = sum(o.probability * (o.cost or 0.0) for o in self.outcomes)
        return exact, sum(o.independent * (o.cost or 0.0) for o in self.outcomes)

    @property
    def moved_to_harm(self) -> float:
        """How much probability the shared modes move onto harm (exact − independent)."""
        return self.harm.shift

    @property
    def assumptions(self) -> str:
        """Every figure's assumptions, in one line."""
        order = " → ".join(self.mitigate)
        if self.prevent:
            shape = (
                f"bow-tie: the hazard occurs when every prevention layer fails ("
                f"{', '.join(self.prevent)}, in any order); then the mitigation layers in "
                f"order {order}"
            )
        else:
            shape = f"layers met in order {order}"
        return (
            f"{self.scenario.describe()}; {shape}; an attack passes a layer only when it fails "
            "there; a failure mode is present or absent for the whole attack, so it is a common "
            "cause of every layer it hits (exact: conditioned on the present modes); the "
            "independence picture gives each layer its own P(fails) as its branch probability"
        )

    def to_dict(self) -> dict[str, Any]:
        """Return plain data for JSON."""
        cost = self.expected_cost
        return {
            "stack": list(self.stack),
            "prevent": list(self.prevent),
            "mitigate": list(self.mitigate),
            "outcomes": [o.to_dict() for o in self.outcomes],
            "layers": [b.to_dict() for b in self.barriers],
            "hazard": None if self.hazard is None else self.hazard.to_dict(),
            "moved_to_harm": self.moved_to_harm,
            "expected_cost": None if cost is None else cost[0],
            "expected_cost_independent": None if cost is None else cost[1],
            "engine": self.engine,
            "scenario": self.scenario.to_dict(),
            "assumptions": self.assumptions,
        }

"""An ordered stack, or a bow-tie, as an event tree over a matrix: :class:`EventTreeResult`."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import replace

import numpy as np

from cofail.errors import InputError
from cofail.model import Matrix, Stack
from cofail.probability._cost import ExactTooSlowError, exact_cost
from cofail.probability._exact import layer_failure
from cofail.probability.scenario import Scenario
from cofail.sequences._outcomes import independent_outcomes, ordered_outcomes
from cofail.sequences._result import Barrier, EventTreeResult, Hazard, Outcome

__all__ = ["bow_tie", "event_tree"]


def event_tree(
    matrix: Matrix,
    stack: Stack,
    scenario: Scenario | None = None,
    *,
    costs: Mapping[str, float] | None = None,
    harm_cost: float | None = None,
    max_seconds: float | None = None,
    notify: Callable[[str], None] | None = None,
) -> EventTreeResult:
    """Return where an attack that meets ``stack``'s layers in order is stopped, or harm.

    Parameters
    ----------
    matrix, stack : the model; ``stack.layers`` in deployment order (its ``k`` must be unset).
    scenario : p, residuals and the reading of U cells (default :class:`Scenario`).
    costs : cost of the outcome "stopped by L" for layer L (others 0 once any cost is given).
    harm_cost : cost of harm; with ``costs`` gives the expected cost.
    max_seconds : refuse (``ExactTooSlowError``) when the n + 1 exact solves are estimated
        past this; None: no limit.

    Examples
    --------
    >>> from cofail import catalog
    >>> t = event_tree(catalog.load(), Stack(layers=("RLHF", "DEBATE", "IDA")))
    >>> [(o.outcome, round(o.probability, 4), round(o.independent, 4)) for o in t.outcomes]
    [('stopped by RLHF', 0.5846, 0.5846), ('stopped by DEBATE', 0.0573, 0.2186), ('stopped by IDA', 0.1962, 0.1421), ('harm', 0.1619, 0.0548)]

    Notes
    -----
    Exact by conditioning on the present modes (:func:`~cofail.sequences._outcomes.ordered_outcomes`):
    n + 1 exact solves of at most n layers each.
    """
    if stack.k is not None:
        raise InputError("--k: an event tree ends in harm only when every layer fails; drop --k")
    return _solve(matrix, (), stack.layers, scenario or Scenario(), costs, harm_cost, None,
                  max_seconds, notify)  # fmt: skip


def bow_tie(
    matrix: Matrix,
    prevent: Stack,
    mitigate: Stack,
    scenario: Scenario | None = None,
    *,
    costs: Mapping[str, float] | None = None,
    harm_cost: float | None = None,
    prevented_cost: float | None = None,
    max_seconds: float | None = None,
    notify: Callable[[str], None] | None = None,
) -> EventTreeResult:
    """Return a bow-tie's outcomes: prevented, mitigated by each layer in order, or harm.

    The hazard occurs when every ``prevent`` layer fails (the fault tree on the left); the
    ``mitigate`` layers then meet it in order (the event tree on the right). A failure mode
    that hits both sides makes the mitigations likelier to fail once the hazard has occurred:
    the outcomes are exact, conditioned on the present modes, never P(hazard) times the right
    side solved alone (which each outcome carries as ``sides_multiplied``, to compare).

    Examples
    --------
    DEC-AL (a U cell of IDA's, read as V) and AL-GEN defeat RE before the hazard and IDA after
    it, so once RE has failed IDA almost always fails too: harm is 0.19, not 0.055.

    >>> from cofail import catalog
    >>> t = bow_tie(catalog.load(), Stack(layers=("RE",)), Stack(layers=("IDA",)))
    >>> t.hazard.shared_modes
    ('DEC-AL', 'AL-GEN')
    >>> [(o.outcome, round(o.probability, 4), round(o.sides_multiplied, 4)) for o in t.outcomes]
    [('prevented', 0.8019, 0.8019), ('mitigated by IDA', 0.0072, 0.143), ('harm', 0.1909, 0.0551)]
    """
    if prevent.k is not None or mitigate.k is not None:
        raise InputError("--k: a bow-tie's hazard needs every prevention layer to fail; drop --k")
    both = set(prevent.layers) & set(mitigate.layers)
    if both:
        raise InputError(
            f"--prevent and --mitigate: layer {sorted(both)[0]} is on both sides of the bow-tie"
        )
    return _solve(matrix, prevent.layers, mitigate.layers, scenario or Scenario(), costs,
                  harm_cost, prevented_cost, max_seconds, notify)  # fmt: skip


def _solve(
    matrix: Matrix,
    prevent: tuple[str, ...],
    mitigate: tuple[str, ...],
    scenario: Scenario,
    costs: Mapping[str, float] | None,
    harm_cost: float | None,
    prevented_cost: float | None,
    max_seconds: float | None,
    notify: Callable[[str], None] | None,
) -> EventTreeResult:
    layers = (*prevent, *mitigate)
    priced = _check_costs(costs or {}, prevent, mitigate, harm_cost, prevented_cost)
    q, p, r = scenario.arrays(matrix, Stack(layers=layers))
    _check_time(q, p, r, max_seconds, notify)
    exact, alone = ordered_outcomes(q, p, r), independent_outcomes(q, p, r)
    a = len(prevent)
    reached = np.append(exact.reached, exact.harm)
    reached_alone = np.append(alone.reached, alone.harm)
    own = layer_failure(q, p, r) + 0.0  # -0.0 (a layer that cannot fail) prints as 0

    def cost(key: str) -> float | None:
        return None if priced is None else priced.get(key, 0.0)

    outcomes: list[Outcome] = []
    hazard = None
    sides: list[float | None] = [None] * (len(mitigate) + 1)
    if prevent:
        right = ordered_outcomes(q[a:], p, r[a:])
        sides = [float(reached[a] * x) for x in (*right.stopped, right.harm)]
        outcomes.append(
            Outcome("prevented", None, float(exact.stopped[:a].sum()),
                    float(alone.stopped[:a].sum()), float(exact.stopped[:a].sum()),
                    cost("prevented"))
        )  # fmt: skip
        hazard = Hazard(
            layers=prevent,
            probability=float(reached[a]),
            independent=float(reached_alone[a]),
            layer_probabilities={lid: float(x) for lid, x in zip(prevent, own[:a], strict=True)},
            shared_modes=_shared(matrix, q, p, a),
        )
    word = "mitigated by" if prevent else "stopped by"
    for i, lid in enumerate(mitigate):
        k = a + i
        outcomes.append(Outcome(f"{word} {lid}", lid, float(exact.stopped[k]),
                                float(alone.stopped[k]), sides[i], cost(lid)))  # fmt: skip
    outcomes.append(Outcome("harm", None, exact.harm, alone.harm, sides[-1], cost("harm")))
    barriers = tuple(
        Barrier(
            layer=lid,
            reached=float(reached[a + i]),
            reached_independent=float(reached_alone[a + i]),
            fails_given_reached=(
                float(reached[a + i + 1] / reached[a + i]) if reached[a + i] > 0 else None
            ),
            fails_alone=float(own[a + i]),
        )
        for i, lid in enumerate(mitigate)
    )
    return EventTreeResult(
        stack=layers,
        prevent=prevent,
        outcomes=tuple(outcomes),
        barriers=barriers,
        hazard=hazard,
        scenario=scenario,
        engine=exact.engine,
    )


def _shared(matrix: Matrix, q: np.ndarray, p: np.ndarray, a: int) -> tuple[str, ...]:
    """Modes that can defeat a layer on each side of the bow-tie."""
    live = p > 0
    left, right = (q[:a] > 0).any(axis=0), (q[a:] > 0).any(axis=0)
    return tuple(matrix.mode_ids[j] for j in np.flatnonzero(left & right & live))


def _check_costs(
    costs: Mapping[str, float],
    prevent: tuple[str, ...],
    mitigate: tuple[str, ...],
    harm_cost: float | None,
    prevented_cost: float | None,
) -> dict[str, float] | None:
    """The costs by outcome key (a layer id, ``harm``, ``prevented``); None when none given."""
    for lid, value in costs.items():
        if lid in prevent:
            raise InputError(
                f"--cost {lid}=...: {lid} is a prevention layer; a bow-tie's left side has one "
                "outcome, prevented (--prevented-cost)"
            )
        if lid not in mitigate:
            raise InputError(
                f"--cost {lid}=...: not a layer of the event tree (its layers: "
                f"{', '.join(mitigate)})"
            )
        _finite(f"--cost {lid}", value)
    if prevented_cost is not None and not prevent:
        raise InputError("--prevented-cost: only a bow-tie (--prevent) has a prevented outcome")
    given = {**costs}
    for key, extra in (("harm", harm_cost), ("prevented", prevented_cost)):
        if extra is not None:
            _finite(f"--{key}-cost", extra)
            given[key] = extra
    return given or None


def _finite(option: str, value: float) -> None:
    if not math.isfinite(value) or value < 0:
        raise InputError(f"{option}: expected a cost >= 0, got {value!r}")


def _check_time(
    q: np.ndarray,
    p: np.ndarray,
    r: np.ndarray,
    max_seconds: float | None,
    notify: Callable[[str], None] | None,
) -> None:
    """Refuse, or announce, n + 1 exact solves by the estimate of the largest."""
    if max_seconds is None and notify is None:
        return
    one = exact_cost(q, p, r)
    n = q.shape[0]
    cost = replace(
        one,
        seconds=one.seconds * (n + 1),
        basis=f"{n + 1} solves of at most this size, {one.basis}",
    )
    what = "the exact outcomes of the event tree: up to"
    if max_seconds is not None and cost.seconds > max_seconds:
        raise ExactTooSlowError(
            cost, max_seconds, what,
            "a shorter stack, or fewer distinct failure modes, is solved sooner",
        )  # fmt: skip
    if notify is not None and cost.seconds > 5.0:
        notify(f"{what} {cost.describe()}")

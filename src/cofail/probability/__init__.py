"""Probability of stack failure with shared failure modes as common causes.

The stack model: exact engines (state DPs, inclusion–exclusion, their compiled kernels), Monte
Carlo, importance and uncertainty. A stack beyond the DPs' reach is solved as a fault tree by
:mod:`cofail.faulttree`, which this package uses and which never imports it. Names resolve on
first use, so ``import cofail.probability`` loads neither NumPy nor the matrix model.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cofail.probability._cost import ExactCost, ExactTooSlowError, exact_cost
    from cofail.probability._exact import (
        MAX_EXACT_LAYERS,
        all_stack_failures,
        exact_with_engine,
        failed_set_distribution,
        failure_covariance,
        independent_failure,
        kernels_available,
        layer_failure,
        pair_failures,
        stack_failure,
    )
    from cofail.probability._risk import (
        Importance,
        MonteCarloRisk,
        RiskResult,
        at_least_k,
        monte_carlo,
        monte_carlo_risk,
        risk,
    )
    from cofail.probability.scenario import Scenario

__all__ = [
    "MAX_EXACT_LAYERS",
    "ExactCost",
    "ExactTooSlowError",
    "Importance",
    "MonteCarloRisk",
    "RiskResult",
    "Scenario",
    "all_stack_failures",
    "at_least_k",
    "exact_cost",
    "exact_with_engine",
    "failed_set_distribution",
    "failure_covariance",
    "independent_failure",
    "kernels_available",
    "layer_failure",
    "monte_carlo",
    "monte_carlo_risk",
    "pair_failures",
    "risk",
    "stack_failure",
]

_HOME = (
    dict.fromkeys(
        (
            "MAX_EXACT_LAYERS",
            "all_stack_failures",
            "exact_with_engine",
            "failed_set_distribution",
            "failure_covariance",
            "independent_failure",
            "kernels_available",
            "layer_failure",
            "pair_failures",
            "stack_failure",
        ),
        "cofail.probability._exact",
    )
    | dict.fromkeys(("ExactCost", "ExactTooSlowError", "exact_cost"), "cofail.probability._cost")
    | dict.fromkeys(
        (
            "Importance",
            "MonteCarloRisk",
            "RiskResult",
            "at_least_k",
            "monte_carlo",
            "monte_carlo_risk",
            "risk",
        ),
        "cofail.probability._risk",
    )
    | {"Scenario": "cofail.probability.scenario"}
)


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(import_module(_HOME[name]), name)
    raise AttributeError(f"module 'cofail.probability' has no attribute {name!r}")

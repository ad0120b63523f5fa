"""Probability of stack failure with shared failure modes as common causes."""

from cofail.probability._exact import (
    MAX_EXACT_LAYERS,
    all_stack_failures,
    exact_with_engine,
    failed_set_distribution,
    independent_failure,
    kernels_available,
    layer_failure,
    pair_failures,
    stack_failure,
)
from cofail.probability._risk import Importance, RiskResult, at_least_k, monte_carlo, risk
from cofail.probability.scenario import Scenario

__all__ = [
    "MAX_EXACT_LAYERS",
    "Importance",
    "RiskResult",
    "Scenario",
    "all_stack_failures",
    "at_least_k",
    "exact_with_engine",
    "failed_set_distribution",
    "independent_failure",
    "kernels_available",
    "layer_failure",
    "monte_carlo",
    "pair_failures",
    "risk",
    "stack_failure",
]

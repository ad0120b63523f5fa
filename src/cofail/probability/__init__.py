"""Probability of stack failure with shared failure modes as common causes."""

from cofail.probability._exact import (
    MAX_EXACT_LAYERS,
    independent_failure,
    layer_failure,
    stack_failure,
)

__all__ = ["MAX_EXACT_LAYERS", "independent_failure", "layer_failure", "stack_failure"]

"""Decisions: which stack to deploy under a safety-tax budget, what to add next, and which
conclusions survive the uncertain cells."""

from cofail.decide._ilp import best_stacks_ilp
from cofail.decide._landscape import MAX_ENUMERATED, Landscape, landscape
from cofail.decide._recommend import (
    EVALUATE_SECONDS,
    TIE_BREAK,
    Candidate,
    Frontier,
    Objective,
    Recommendation,
    candidate_layers,
    evaluate,
    frontier,
    next_layer,
    recommend,
)

__all__ = [
    "EVALUATE_SECONDS",
    "MAX_ENUMERATED",
    "TIE_BREAK",
    "Candidate",
    "Frontier",
    "Landscape",
    "Objective",
    "Recommendation",
    "best_stacks_ilp",
    "candidate_layers",
    "evaluate",
    "frontier",
    "landscape",
    "next_layer",
    "recommend",
]

from cofail.decide._robustness import MAX_EXACT_CELLS, Conclusion, Robustness, robustness

__all__ += ["MAX_EXACT_CELLS", "Conclusion", "Robustness", "robustness"]

"""A stack as an event tree: an attack meets the layers in order, and is stopped or does harm.

Each layer is a functional event whose failure, given the earlier failures, is conditioned
through the failure modes they share; a bow-tie puts prevention layers (a fault tree into the
hazard) before mitigation layers (an event tree). Exact outcome probabilities, the independence
picture beside them, and the Open-PSA MEF model SCRAM solves to the same numbers.
"""

from __future__ import annotations

from cofail.sequences._build import bow_tie, event_tree
from cofail.sequences._mef_export import event_tree_mef
from cofail.sequences._outcomes import OrderedOutcomes, independent_outcomes, ordered_outcomes
from cofail.sequences._result import Barrier, EventTreeResult, Hazard, Outcome

__all__ = [
    "Barrier",
    "EventTreeResult",
    "Hazard",
    "OrderedOutcomes",
    "Outcome",
    "bow_tie",
    "event_tree",
    "event_tree_mef",
    "independent_outcomes",
    "ordered_outcomes",
]

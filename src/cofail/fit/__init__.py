"""From evidence to model: the common-cause model fitted to evaluation logs."""

from cofail.fit._discover import Discovery, discover
from cofail.fit._fit import MAX_GROUPS, Fit, check_matrix, fit_matrix
from cofail.fit._identifiability import StructureCheck

__all__ = [
    "MAX_GROUPS",
    "Discovery",
    "Fit",
    "StructureCheck",
    "check_matrix",
    "discover",
    "fit_matrix",
]

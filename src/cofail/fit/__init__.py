"""From evidence to model: the common-cause model fitted to evaluation logs."""

from cofail.fit._discover import Discovery, discover
from cofail.fit._fit import MAX_GROUPS, Fit, fit_matrix

__all__ = ["MAX_GROUPS", "Discovery", "Fit", "discover", "fit_matrix"]

"""Scored layers: monitors and classifiers whose thresholds come from a false-positive budget.

Reading a scored log and thresholding it live in :mod:`cofail.empirical` (``LogSpec.budget``,
:func:`cofail.empirical.read_scores`), so that every command can work on the misses; this
package is what is new with scores: ROC AUC, catch rates over a curve of budgets, and the
thresholds that split one budget across several layers best.
"""

from cofail.scores._analysis import (
    CurvePoint,
    LayerScore,
    ScoreAnalysis,
    analyse_scores,
    default_budgets,
)
from cofail.scores._combine import Combination, CrossValidation, combine, cross_validate, evaluate
from cofail.scores._kde import GaussianKDE, silverman
from cofail.scores._policy import (
    CostModel,
    PolicyResult,
    PolicyTable,
    RegionGrid,
    evaluate_policies,
    sweep_policies,
)
from cofail.scores._roc import LayerIntervals, layer_intervals, mann_whitney_auc, roc_points

__all__ = [
    "Combination",
    "CostModel",
    "CrossValidation",
    "CurvePoint",
    "GaussianKDE",
    "LayerIntervals",
    "LayerScore",
    "PolicyResult",
    "PolicyTable",
    "RegionGrid",
    "ScoreAnalysis",
    "analyse_scores",
    "combine",
    "cross_validate",
    "default_budgets",
    "evaluate",
    "evaluate_policies",
    "layer_intervals",
    "mann_whitney_auc",
    "roc_points",
    "silverman",
    "sweep_policies",
]

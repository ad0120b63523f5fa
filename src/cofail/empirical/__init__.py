"""Empirical co-failure: evaluation logs → failure-pattern histogram → co-failure statistics."""

from cofail.empirical._build import MAX_LAYERS, histogram_from_arrow, histogram_from_files
from cofail.empirical._dask import histogram_dask
from cofail.empirical._estimator import CoFailure, Marginal, Pair, StackFailure, wilson
from cofail.empirical._frameworks import FRAMEWORKS, Framework
from cofail.empirical._histogram import POOLED, PatternHistogram
from cofail.empirical._read import log_stack, read
from cofail.empirical._scored import ScoredLog, read_scores
from cofail.empirical._simulate import simulate
from cofail.empirical._spec import TOOLS, LogSpec, Tool
from cofail.empirical._strata import StratifiedAnalysis, analyse
from cofail.empirical._thresholds import (
    LayerThreshold,
    budget_threshold,
    budget_thresholds,
    fixed_thresholds,
    layer_thresholds,
    miss_histogram,
    missed,
)

__all__ = [
    "FRAMEWORKS",
    "MAX_LAYERS",
    "POOLED",
    "TOOLS",
    "CoFailure",
    "Framework",
    "LayerThreshold",
    "LogSpec",
    "Marginal",
    "Pair",
    "PatternHistogram",
    "ScoredLog",
    "StackFailure",
    "StratifiedAnalysis",
    "Tool",
    "analyse",
    "budget_threshold",
    "budget_thresholds",
    "fixed_thresholds",
    "histogram_dask",
    "histogram_from_arrow",
    "histogram_from_files",
    "layer_thresholds",
    "log_stack",
    "miss_histogram",
    "missed",
    "read",
    "read_scores",
    "simulate",
    "wilson",
]

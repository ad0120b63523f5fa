"""Empirical co-failure: evaluation logs → failure-pattern histogram → co-failure statistics."""

from cofail.empirical._build import MAX_LAYERS, histogram_from_arrow, histogram_from_files
from cofail.empirical._dask import histogram_dask
from cofail.empirical._estimator import CoFailure, Marginal, Pair, StackFailure, wilson
from cofail.empirical._frameworks import FRAMEWORKS, Framework
from cofail.empirical._histogram import POOLED, PatternHistogram
from cofail.empirical._read import log_stack, read
from cofail.empirical._simulate import simulate
from cofail.empirical._spec import TOOLS, LogSpec, Tool
from cofail.empirical._strata import StratifiedAnalysis, analyse

__all__ = [
    "FRAMEWORKS",
    "MAX_LAYERS",
    "POOLED",
    "TOOLS",
    "CoFailure",
    "Framework",
    "LogSpec",
    "Marginal",
    "Pair",
    "PatternHistogram",
    "StackFailure",
    "StratifiedAnalysis",
    "Tool",
    "analyse",
    "histogram_dask",
    "histogram_from_arrow",
    "histogram_from_files",
    "log_stack",
    "read",
    "simulate",
    "wilson",
]

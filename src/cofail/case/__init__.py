"""Safety cases: a stack's audit, risk, robustness and evidence as a GSN argument.

:func:`build_case` builds the argument from the library's own results; :func:`dumps_gsn2x`
writes it as gsn2x YAML and :func:`check_gsn2x` checks a file by gsn2x's documented rules;
:func:`dumps_ltac` writes it as LTAC, which verocase validates and renders.
"""

from cofail.case._build import build_case
from cofail.case._graph import PREFIXES, Kind, Node, SafetyCase, kind_of
from cofail.case._gsn2x import (
    GSN2X_SOURCE,
    Finding,
    check_gsn2x,
    check_gsn2x_modules,
    dumps_gsn2x,
)
from cofail.case._ltac import dumps_ltac, dumps_ltac_modules
from cofail.case._modules import build_deployment

__all__ = [
    "GSN2X_SOURCE",
    "PREFIXES",
    "Finding",
    "Kind",
    "Node",
    "SafetyCase",
    "build_case",
    "build_deployment",
    "check_gsn2x",
    "check_gsn2x_modules",
    "dumps_gsn2x",
    "dumps_ltac",
    "dumps_ltac_modules",
    "kind_of",
]

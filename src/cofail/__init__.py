"""cofail: do your AI safety layers add up, or fail together?

>>> import cofail
>>> m = cofail.catalog.load()
>>> cofail.audit(m, cofail.Stack(layers=("DEBATE", "RE"))).uncovered
('AL-GEN',)
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = [
    "FailureMode",
    "InputError",
    "Layer",
    "Matrix",
    "Stack",
    "Vulnerability",
    "audit",
    "catalog",
    "minimal_cut_sets",
    "overlap",
]

__version__ = "0.1.0"

# Names resolve on first use, so `import cofail.empirical` does not pay for SciPy's clustering.
_LAZY = {
    "FailureMode": "cofail.model",
    "Layer": "cofail.model",
    "Matrix": "cofail.model",
    "Stack": "cofail.model",
    "Vulnerability": "cofail.model",
    "InputError": "cofail.errors",
    "audit": "cofail.structure",
    "minimal_cut_sets": "cofail.structure",
    "overlap": "cofail.structure",
}


def __getattr__(name: str) -> Any:
    if name == "catalog":
        return import_module("cofail.catalog")
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'cofail' has no attribute {name!r}")

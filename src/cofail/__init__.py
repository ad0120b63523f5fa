"""cofail: do your AI safety layers add up, or fail together?

>>> import cofail
>>> m = cofail.catalog.load()
>>> cofail.audit(m, cofail.Stack(layers=("DEBATE", "RE"))).uncovered
('AL-GEN',)
"""

from cofail import catalog
from cofail.errors import InputError
from cofail.model import FailureMode, Layer, Matrix, Stack, Vulnerability
from cofail.structure import audit, minimal_cut_sets, overlap

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

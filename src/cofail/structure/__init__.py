"""Structural analysis of stacks: overlap, similarity groups, coverage gaps, cut sets, depth."""

from cofail.structure._audit import Audit, RankedStack, audit, rank_stacks
from cofail.structure._cutsets import CutSet, depth, minimal_cut_sets, minimal_hitting_sets
from cofail.structure._overlap import Overlap, PairOverlap, overlap, profile_phi

__all__ = [
    "Audit",
    "CutSet",
    "Overlap",
    "PairOverlap",
    "RankedStack",
    "audit",
    "depth",
    "minimal_cut_sets",
    "minimal_hitting_sets",
    "overlap",
    "profile_phi",
    "rank_stacks",
]

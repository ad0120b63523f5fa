"""Several raters: rater files, their agreement (Krippendorff's alpha) and their consensus.

A rater file is a matrix file whose cells may be left blank (not judged). :func:`agreement`
measures how far a panel of raters agree; :func:`merge` turns their files into one ordinary
:class:`~cofail.model.Matrix` whose cells keep their votes, so every command runs on it.

>>> from cofail.raters import loads_rater_file, panel_of, agreement, merge
>>> panel = panel_of([loads_rater_file("layer,A,B\\nL,V,N\\nM,N,N\\n", "csv", "ann.csv"),
...                   loads_rater_file("layer,A,B\\nL,V,N\\nM,V,N\\n", "csv", "bo.csv")])
>>> round(agreement(panel, replicates=50).alpha["nominal"], 3), merge(panel).matrix.cell("M", "A").level
(0.533, 'U')
"""

from __future__ import annotations

from typing import Any

from cofail.raters._agreement import (
    LEVELS,
    Agreement,
    DivisiveCell,
    PartAgreement,
    RaterAgreement,
    agreement,
    cell_agreement,
)
from cofail.raters._alpha import AlphaLevel, BootstrapInterval, Reliability, krippendorff_alpha
from cofail.raters._dawid_skene import DawidSkene, dawid_skene
from cofail.raters._evidence import (
    LEVEL_PROBABILITY,
    EvidenceWeights,
    RaterScore,
    SeedCell,
    brier_score,
    evidence_weights,
    level_probability,
    log_score,
    seed_cells,
)
from cofail.raters._files import (
    Panel,
    RaterFile,
    loads_rater_file,
    panel_of,
    read_panel,
    read_rater_file,
)
from cofail.raters._merge import RULES, Merge, MergedCell, MergeRule, merge
from cofail.raters._profile import RaterProfile, rater_profiles
from cofail.raters._template import elicitation_templates
from cofail.raters._uncertainty import JEFFREYS, is_split, split_cells, vote_beta, vote_share
from cofail.raters._votes import panel_from_votes


def disagreement_robustness(matrix: Any, **options: Any) -> Any:
    """Which conclusions the raters' disagreement can flip (loads cofail.decide on first use);
    see :func:`cofail.raters._flips.disagreement_robustness`."""
    from cofail.raters._flips import disagreement_robustness as run

    return run(matrix, **options)


__all__ = [
    "JEFFREYS",
    "LEVELS",
    "LEVEL_PROBABILITY",
    "RULES",
    "Agreement",
    "AlphaLevel",
    "BootstrapInterval",
    "DawidSkene",
    "DivisiveCell",
    "EvidenceWeights",
    "Merge",
    "MergeRule",
    "MergedCell",
    "Panel",
    "PartAgreement",
    "RaterAgreement",
    "RaterFile",
    "RaterProfile",
    "RaterScore",
    "Reliability",
    "SeedCell",
    "agreement",
    "brier_score",
    "cell_agreement",
    "dawid_skene",
    "disagreement_robustness",
    "elicitation_templates",
    "evidence_weights",
    "is_split",
    "krippendorff_alpha",
    "level_probability",
    "loads_rater_file",
    "log_score",
    "merge",
    "panel_from_votes",
    "panel_of",
    "rater_profiles",
    "read_panel",
    "read_rater_file",
    "seed_cells",
    "split_cells",
    "vote_beta",
    "vote_share",
]

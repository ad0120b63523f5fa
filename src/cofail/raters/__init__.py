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

from cofail.raters._agreement import (
    LEVELS,
    Agreement,
    DivisiveCell,
    PartAgreement,
    RaterAgreement,
    agreement,
)
from cofail.raters._alpha import AlphaLevel, BootstrapInterval, Reliability, krippendorff_alpha
from cofail.raters._dawid_skene import DawidSkene, dawid_skene
from cofail.raters._files import (
    Panel,
    RaterFile,
    loads_rater_file,
    panel_of,
    read_panel,
    read_rater_file,
)
from cofail.raters._merge import RULES, Merge, MergedCell, MergeRule, merge
from cofail.raters._template import elicitation_templates

__all__ = [
    "LEVELS",
    "RULES",
    "Agreement",
    "AlphaLevel",
    "BootstrapInterval",
    "DawidSkene",
    "DivisiveCell",
    "Merge",
    "MergeRule",
    "MergedCell",
    "Panel",
    "PartAgreement",
    "RaterAgreement",
    "RaterFile",
    "Reliability",
    "agreement",
    "dawid_skene",
    "elicitation_templates",
    "krippendorff_alpha",
    "loads_rater_file",
    "merge",
    "panel_of",
    "read_panel",
    "read_rater_file",
]

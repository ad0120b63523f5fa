"""A panel rebuilt from a consensus matrix's votes, so that its agreement can be measured
without the rater files."""

from __future__ import annotations

from cofail.errors import InputError
from cofail.model import Matrix, Vulnerability
from cofail.raters._files import Panel, RaterFile, panel_of

__all__ = ["panel_from_votes"]


def panel_from_votes(matrix: Matrix) -> Panel:
    """Return the panel whose judgements are the votes the cells of ``matrix`` keep (a rater
    missing from a cell's votes left it blank); ``InputError`` with fewer than two raters.

    >>> from cofail.raters import loads_rater_file, merge, panel_of
    >>> panel = panel_of([loads_rater_file("layer,A,B\\nL,V,N\\n", "csv", "ann.csv"),
    ...                   loads_rater_file("layer,A,B\\nL,V,\\n", "csv", "bo.csv")])
    >>> again = panel_from_votes(merge(panel).matrix)
    >>> again.ids, again.votes("L", "B")
    (('ann', 'bo'), {'ann': Vulnerability(level='N', rationale='', source='', confidence=None, votes=None, distribution=None)})
    """
    raters: dict[str, dict[tuple[str, str], Vulnerability]] = {}
    for lid in matrix.layer_ids:
        for mid in matrix.mode_ids:
            for rater, level in (matrix.cell(lid, mid).votes or {}).items():
                raters.setdefault(rater, {})[(lid, mid)] = Vulnerability(level=level)
    if len(raters) < 2:
        raise InputError(
            f"matrix {matrix.id!r} keeps the votes of {len(raters)} rater"
            f"{'' if len(raters) == 1 else 's'}; agreement needs at least two (cofail merge "
            "writes them)"
        )
    return panel_of(
        [
            RaterFile(rater, f"{matrix.id} (votes)", matrix, judgements)
            for rater, judgements in raters.items()
        ]
    )

"""Each rater's profile: how often they say V, N, U or a graded number, and leave cells blank."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cofail.raters._files import Panel
from cofail.raters._levels import canonical

__all__ = ["RaterProfile", "rater_profiles"]


@dataclass(frozen=True)
class RaterProfile:
    """How one rater used the levels."""

    rater: str
    """The rater's id."""
    counts: dict[str, int]
    """``V``, ``N``, ``U``, ``graded`` and ``blank`` → number of cells."""

    @property
    def judged(self) -> int:
        """Cells the rater judged."""
        return sum(n for k, n in self.counts.items() if k != "blank")

    def share(self, key: str) -> float:
        """Share of the judged cells with this kind of level (0 when none was judged)."""
        return self.counts[key] / self.judged if self.judged else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {"rater": self.rater, "judged": self.judged, **self.counts}


def rater_profiles(panel: Panel) -> list[RaterProfile]:
    """Return each rater's counts of V, N, U, graded and blank cells (a graded 0 is N, 1 V).

    >>> from cofail.raters import loads_rater_file, panel_of
    >>> panel = panel_of([loads_rater_file("layer,A,B,C\\nL,V,0.3,\\n", "csv", "ann.csv"),
    ...                   loads_rater_file("layer,A,B,C\\nL,1,U,N\\n", "csv", "bo.csv")])
    >>> [p.counts for p in rater_profiles(panel)]
    [{'V': 1, 'N': 0, 'U': 0, 'graded': 1, 'blank': 1}, {'V': 1, 'N': 1, 'U': 1, 'graded': 0, 'blank': 0}]
    """
    out = []
    for r in panel.raters:
        counts = {"V": 0, "N": 0, "U": 0, "graded": 0, "blank": 0}
        for cell in panel.cells:
            judged = r.level(*cell)
            if judged is None:
                counts["blank"] += 1
                continue
            level = canonical(judged.level)
            counts[level if isinstance(level, str) else "graded"] += 1
        out.append(RaterProfile(r.rater, counts))
    return out

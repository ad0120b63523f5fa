"""Which failure modes a log can tell apart: modes exposing the same layers are one group."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cofail.model import Matrix

__all__ = ["ModeGroups", "group_modes"]


@dataclass(frozen=True)
class ModeGroups:
    """The failure modes of a matrix, grouped by the fitted layers they expose."""

    groups: tuple[tuple[str, ...], ...]
    """Each group's modes, in matrix order: modes with identical columns (over the fitted
    layers) are one group, since no log of those layers can tell them apart."""
    unmeasured: tuple[str, ...]
    """Modes to which none of the fitted layers is exposed: the log says nothing about them."""
    support: np.ndarray
    """layers × groups: the layer is exposed to the group (a V, U or graded cell)."""
    levels: tuple[tuple[str, ...], ...]
    """layers × groups: the judged level(s) of each cell, e.g. ``"V"`` or ``"V/U"`` when the
    group's modes were judged differently."""


def group_modes(matrix: Matrix, layers: tuple[str, ...]) -> ModeGroups:
    """Return the failure modes of ``matrix`` grouped by the layers (``layers``) they expose.

    Examples
    --------
    In the catalog, emergent misalignment and evaluation difficulty have identical columns.

    >>> from cofail import catalog
    >>> m = catalog.load()
    >>> g = group_modes(m, m.layer_ids)
    >>> [grp for grp in g.groups if len(grp) > 1]
    [('EM-MIS', 'EVAL-DIFF')]
    """
    exposed = {}
    for mid in matrix.mode_ids:
        column = tuple(_level(matrix, lid, mid) for lid in layers)
        exposed[mid] = tuple(level != "N" for level in column)
    groups: dict[tuple[bool, ...], list[str]] = {}
    unmeasured = []
    for mid in matrix.mode_ids:
        if not any(exposed[mid]):
            unmeasured.append(mid)
        else:
            groups.setdefault(exposed[mid], []).append(mid)
    keys = list(groups)
    support = np.array(keys, dtype=bool).T if keys else np.zeros((len(layers), 0), dtype=bool)
    levels = tuple(
        tuple(
            "/".join(dict.fromkeys(_level(matrix, lid, mid) for mid in groups[key])) for key in keys
        )
        for lid in layers
    )
    return ModeGroups(
        groups=tuple(tuple(groups[k]) for k in keys),
        unmeasured=tuple(unmeasured),
        support=support,
        levels=levels,
    )


def _level(matrix: Matrix, layer: str, mode: str) -> str:
    """Return a cell's level as text: V, N, U, or the graded number (0 counts as N)."""
    level = matrix.cells[layer][mode].level
    if isinstance(level, str):
        return level
    return "N" if level == 0 else f"{level:g}"

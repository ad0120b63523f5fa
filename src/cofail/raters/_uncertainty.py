"""Disagreement as uncertainty: the beta a split cell's votes give its q, and which cells the
raters split on."""

from __future__ import annotations

from collections.abc import Mapping

from cofail.model import Level, Matrix
from cofail.raters._levels import canonical, interval_value

__all__ = ["JEFFREYS", "is_split", "split_cells", "vote_beta", "vote_share"]

JEFFREYS = 0.5
"""Both parameters of the Jeffreys prior beta(1/2, 1/2), to which the votes are added."""


def is_split(votes: Mapping[str, Level]) -> bool:
    """Return whether the raters gave more than one level (a graded 0 is N and 1 is V).

    >>> is_split({"a": "V", "b": 1.0}), is_split({"a": "V", "b": "U"}), is_split({})
    (False, True, False)
    """
    return len({canonical(v) for v in votes.values()}) > 1


def vote_beta(
    votes: Mapping[str, Level], weights: Mapping[str, float] | None = None
) -> tuple[float, float] | None:
    """Return (a, b) of the beta the votes give q: the Jeffreys prior beta(1/2, 1/2) updated
    by each vote as a Bernoulli observation, V adding 1 to a, N 1 to b, a graded q adding q to
    a and 1 - q to b; U votes are left out. ``weights`` (rater → weight, mean 1 over the panel)
    scale each vote. ``None`` when no vote counts.

    Examples
    --------
    >>> vote_beta({"a": "V", "b": "V", "c": "N", "d": "U"})
    (2.5, 1.5)
    >>> vote_beta({"a": 0.25, "b": "N"}), vote_beta({"a": "U"})
    ((0.75, 2.25), None)
    >>> vote_beta({"a": "V", "b": "N"}, {"a": 1.5, "b": 0.5})
    (2.0, 1.0)
    """
    a = b = JEFFREYS
    counted = 0
    for rater, level in votes.items():
        if level == "U":
            continue
        x = interval_value(level)
        w = 1.0 if weights is None else weights[rater]
        a, b, counted = a + w * x, b + w * (1.0 - x), counted + 1
    return None if counted == 0 else (round(a, 6), round(b, 6))


def vote_share(votes: Mapping[str, Level], weights: Mapping[str, float] | None = None) -> float:
    """Return the chance that the cell is V on the votes: the mean a / (a + b) of
    :func:`vote_beta`; 1/2 when no vote counts.

    >>> vote_share({"a": "V", "b": "V", "c": "N"}), vote_share({"a": "U"})
    (0.625, 0.5)
    """
    ab = vote_beta(votes, weights)
    return 0.5 if ab is None else ab[0] / (ab[0] + ab[1])


def split_cells(matrix: Matrix) -> list[tuple[str, str]]:
    """Return the (layer, mode) cells whose votes differ (``Vulnerability.votes``), in
    row-major order; none in a matrix without votes.

    >>> from cofail import catalog
    >>> m = catalog.load()
    >>> split_cells(m)
    []
    >>> cell = m.cell("RLHF", "DEC-AL").model_copy(update={"votes": {"a": "V", "b": "N"}})
    >>> split_cells(m.model_copy(update={"cells": {**m.cells, "RLHF": {**m.cells["RLHF"],
    ...     "DEC-AL": cell}}}))
    [('RLHF', 'DEC-AL')]
    """
    return [
        (lid, mid)
        for lid in matrix.layer_ids
        for mid in matrix.mode_ids
        if is_split(matrix.cells[lid][mid].votes or {})
    ]

"""Which conclusions the raters' disagreement can flip: robustness over the cells they split on."""

from __future__ import annotations

from typing import Any

from cofail.decide import Robustness, robustness
from cofail.model import Matrix
from cofail.raters._uncertainty import split_cells, vote_share

__all__ = ["SPLIT", "disagreement_robustness"]

SPLIT = "the cells the raters split on"


def disagreement_robustness(matrix: Matrix, **options: Any) -> Robustness | None:
    """Return :func:`~cofail.decide.robustness` over the cells the raters split on (each
    resolved to V or N, the other U cells pessimistic), with each conclusion's probability when
    each split cell is V with its vote share (:func:`vote_share`); ``None`` when the raters
    split on no cell. ``options`` go to :func:`~cofail.decide.robustness`.

    Examples
    --------
    >>> from cofail import catalog
    >>> m = catalog.load()
    >>> disagreement_robustness(m) is None  # no votes: no disagreement
    True
    >>> split = m.cell("IDA", "DEC-AL").model_copy(update={"votes": {"a": "V", "b": "N", "c": "N"}})
    >>> m = m.model_copy(update={"cells": {**m.cells, "IDA": {**m.cells["IDA"], "DEC-AL": split}}})
    >>> r = disagreement_robustness(m)
    >>> [(c.flipped_by, round(c.probability, 3)) for c in r.conclusions if c.id == "uncovered:IDA"]
    [((('IDA', 'DEC-AL'),), 0.375)]
    """
    cells = split_cells(matrix)
    if not cells:
        return None
    chances = {c: vote_share(matrix.cell(*c).votes or {}) for c in cells}
    return robustness(matrix, cells=cells, chances=chances, resolved=SPLIT, **options)

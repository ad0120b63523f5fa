"""Binary vulnerability matrices as layer bitmasks, the form the exact engines work on."""

from __future__ import annotations

import numpy as np

__all__ = ["column_masks", "is_binary"]


def column_masks(q: np.ndarray) -> np.ndarray:
    """Each 0/1 column of ``q`` as the bitmask (uint64) of the layers it hits (bit i = row i).

    >>> column_masks(np.array([[1, 0], [1, 1]])).tolist()
    [3, 2]
    """
    q = np.asarray(q)
    weights = np.left_shift(np.uint64(1), np.arange(q.shape[0], dtype=np.uint64))
    masks: np.ndarray = (q.astype(np.uint64) * weights[:, None]).sum(axis=0, dtype=np.uint64)
    return masks


def is_binary(q: np.ndarray) -> bool:
    """True when every cell of ``q`` is 0 or 1 (the engines' bitmask paths need it).

    >>> is_binary(np.array([[1.0, 0.0]])), is_binary(np.array([[0.5]]))
    (True, False)
    """
    q = np.asarray(q)
    return bool(np.all((q == 0.0) | (q == 1.0)))

"""One person's editing session: the matrix now, the ones before it (undo) and after (redo),
the file it came from, and the secret that state-changing requests must carry."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cofail.model import Matrix

__all__ = ["MAX_UNDO", "Session"]

MAX_UNDO = 500
"""Edits kept for undo; older ones are forgotten."""


@dataclass
class Session:
    """The app's state. Matrices are immutable, so each history entry is a whole matrix.

    >>> from cofail import catalog
    >>> s = Session(catalog.load())
    >>> s.replace(s.matrix.with_levels({("RE", "AL-GEN"): "N"}))
    >>> s.undo(), s.matrix.cell("RE", "AL-GEN").level, s.redo(), s.revision
    (True, 'V', True, 3)
    """

    matrix: Matrix
    path: Path | None = None
    """The file ``--matrix`` named, where Save writes; None for a built-in catalog."""
    token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    revision: int = 0
    """Counts every change, so a cached result can tell it is stale."""
    past: list[Matrix] = field(default_factory=list)
    future: list[Matrix] = field(default_factory=list)
    cache: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    """Slow results (robustness) of the current revision, by their arguments."""
    scored: Any = None
    """The last scored log dropped on the page (a ``cofail.empirical.ScoredLog``) and its
    reader spec, so that the budget slider re-thresholds it without a new upload."""

    def replace(self, matrix: Matrix) -> None:
        """Make ``matrix`` the current one, keeping the old one for undo."""
        self.past.append(self.matrix)
        del self.past[:-MAX_UNDO]
        self.future.clear()
        self._set(matrix)

    def undo(self) -> bool:
        """Go back one change; False when there is none."""
        if not self.past:
            return False
        self.future.append(self.matrix)
        self._set(self.past.pop())
        return True

    def redo(self) -> bool:
        """Go forward one undone change; False when there is none."""
        if not self.future:
            return False
        self.past.append(self.matrix)
        self._set(self.future.pop())
        return True

    def _set(self, matrix: Matrix) -> None:
        self.matrix = matrix
        self.revision += 1
        self.cache.clear()

    def history(self) -> dict[str, Any]:
        """Return what the page shows of the session: undo and redo depth, the file, revision."""
        return {
            "revision": self.revision,
            "undo": len(self.past),
            "redo": len(self.future),
            "file": str(self.path) if self.path else None,
        }

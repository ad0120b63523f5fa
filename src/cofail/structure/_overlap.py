"""Pairwise overlap of layers' vulnerability profiles, and similarity groups."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from itertools import combinations
from math import sqrt
from typing import Any

import numpy as np

from cofail.model import Matrix, Stack, UncertainPolicy

__all__ = ["Overlap", "PairOverlap", "overlap", "profile_phi"]


@dataclass(frozen=True, slots=True)
class PairOverlap:
    """How much two layers' vulnerability profiles overlap."""

    a: str
    b: str
    shared: tuple[str, ...]
    """Failure modes both layers are vulnerable to: together they leave these uncovered."""
    jaccard: float | None
    """|A ∩ B| / |A ∪ B|; ``None`` when neither layer is vulnerable to anything."""
    phi: float | None
    """Pearson correlation of the two 0/1 profiles over modes; ``None`` if a profile is constant."""
    p_b_given_a: float | None
    """Share of A's vulnerabilities that B shares (P(B vulnerable | A vulnerable) over modes)."""
    p_a_given_b: float | None
    """Share of B's vulnerabilities that A shares."""


@dataclass(frozen=True, slots=True)
class Overlap:
    """Result of :func:`overlap`: every pair, plus similarity groups by hierarchical clustering."""

    layers: tuple[str, ...]
    uncertain: UncertainPolicy
    pairs: tuple[PairOverlap, ...]
    groups: tuple[tuple[str, ...], ...]
    """Clusters of layers with similar profiles (cut of the dendrogram at ``cut``)."""
    method: str
    cut: float
    linkage: list[list[float]] = field(repr=False)
    """SciPy linkage matrix over ``layers`` (for the dendrogram)."""

    def jaccard_matrix(self) -> np.ndarray:
        """Return the symmetric layers × layers Jaccard matrix (diagonal 1, NaN if undefined)."""
        index = {lid: i for i, lid in enumerate(self.layers)}
        out = np.eye(len(self.layers))
        for p in self.pairs:
            value = np.nan if p.jaccard is None else p.jaccard
            out[index[p.a], index[p.b]] = out[index[p.b], index[p.a]] = value
        return out

    def to_dict(self) -> dict[str, Any]:
        """Return plain data for JSON."""
        return {
            "layers": list(self.layers),
            "uncertain": self.uncertain,
            "pairs": [
                {**asdict(p), "shared": list(p.shared), "n_shared": len(p.shared)}
                for p in self.pairs
            ],
            "groups": [list(g) for g in self.groups],
            "clustering": {
                "method": self.method,
                "distance": "1 - jaccard",
                "cut": self.cut,
                "linkage": self.linkage,
            },
        }


def profile_phi(x: np.ndarray, y: np.ndarray) -> float | None:
    """Return φ (Pearson correlation) of two 0/1 vectors, ``None`` if either is constant.

    >>> profile_phi(np.array([1, 1, 0, 0]), np.array([1, 0, 1, 0]))
    0.0
    """
    x = np.asarray(x, dtype=bool)
    y = np.asarray(y, dtype=bool)
    n11 = int(np.sum(x & y))
    n10 = int(np.sum(x & ~y))
    n01 = int(np.sum(~x & y))
    n00 = int(np.sum(~x & ~y))
    denom = (n11 + n10) * (n01 + n00) * (n11 + n01) * (n10 + n00)
    if denom == 0:
        return None
    return (n11 * n00 - n10 * n01) / sqrt(denom)


def overlap(
    matrix: Matrix,
    stack: Stack | None = None,
    *,
    uncertain: UncertainPolicy = "pessimistic",
    method: str = "average",
    cut: float = 0.5,
) -> Overlap:
    """Return pairwise overlap of the layers' profiles and groups of similar layers.

    Parameters
    ----------
    matrix : the vulnerability matrix.
    stack : only these layers (default: all layers of the matrix).
    uncertain : reading of U cells.
    method : SciPy linkage method over the Jaccard distance (``average``, ``complete``, ...).
    cut : layers closer than this distance end up in one group.

    Examples
    --------
    >>> from cofail import catalog
    >>> o = overlap(catalog.load())
    >>> [p.jaccard for p in o.pairs if (p.a, p.b) == ("RLAIF", "W2S")]
    [1.0]

    Notes
    -----
    O(n² m) for n layers and m modes. Two layers vulnerable to nothing have distance 0.
    """
    layers = stack.layers if stack is not None else matrix.layer_ids
    rows = matrix.vulnerable(uncertain)[(stack or Stack(layers=layers)).indices(matrix)]
    pairs = []
    n = len(layers)
    dist = np.zeros((n, n))
    for i, j in combinations(range(n), 2):
        a, b = rows[i], rows[j]
        inter = int(np.sum(a & b))
        union = int(np.sum(a | b))
        na, nb = int(a.sum()), int(b.sum())
        jac = inter / union if union else None
        dist[i, j] = dist[j, i] = 1.0 - jac if jac is not None else 0.0
        pairs.append(
            PairOverlap(
                a=layers[i],
                b=layers[j],
                shared=tuple(m for m, s in zip(matrix.mode_ids, a & b, strict=True) if s),
                jaccard=jac,
                phi=profile_phi(a, b),
                p_b_given_a=inter / na if na else None,
                p_a_given_b=inter / nb if nb else None,
            )
        )
    if n >= 2:
        # Imported here: scipy.cluster takes about 0.6 s, which every command that imports
        # cofail.structure (audit, claims, ...) paid even without grouping anything.
        from scipy.cluster.hierarchy import fcluster, linkage
        from scipy.spatial.distance import squareform

        z = linkage(squareform(dist, checks=False), method=method)
        labels = fcluster(z, t=cut, criterion="distance")
        link = z.tolist()
    else:
        labels, link = np.ones(n, dtype=int), []
    groups: dict[int, list[str]] = {}
    for lid, label in zip(layers, labels, strict=True):
        groups.setdefault(int(label), []).append(lid)
    ordered = sorted(groups.values(), key=lambda g: layers.index(g[0]))
    return Overlap(
        layers=tuple(layers),
        uncertain=uncertain,
        pairs=tuple(pairs),
        groups=tuple(tuple(g) for g in ordered),
        method=method,
        cut=cut,
        linkage=link,
    )

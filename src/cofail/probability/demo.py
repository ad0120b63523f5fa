"""The paper's defense-in-depth example: n layers that each fail with probability Q, from fully
independent to fully shared, with a beta-factor common cause."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cofail.probability._exact import stack_failure

__all__ = ["DefenseInDepth", "defense_in_depth"]


@dataclass(frozen=True)
class DefenseInDepth:
    """P(all n layers fail) for each n and each shared fraction β."""

    q: float
    layers: tuple[int, ...]
    betas: tuple[float, ...]
    probability: np.ndarray
    """(betas × layers) exact P(all fail)."""

    def to_dict(self) -> dict[str, Any]:
        """Return plain data for JSON."""
        return {
            "q": self.q,
            "layers": list(self.layers),
            "model": "beta factor: each layer fails with q; a fraction beta of that is one "
            "failure mode shared by every layer, the rest is the layer's own",
            "curves": [
                {"beta": b, "probability": [float(x) for x in row]}
                for b, row in zip(self.betas, self.probability, strict=True)
            ],
        }


def defense_in_depth(
    q: float = 0.1,
    max_layers: int = 10,
    betas: tuple[float, ...] = (0.0, 0.01, 0.1, 0.5, 1.0),
) -> DefenseInDepth:
    """Return P(all n layers fail), n = 1..max_layers, for each shared fraction β.

    Each layer fails with probability q. A common cause (one failure mode hitting every layer)
    is present with probability βq; each layer's own residual r is set so that its total
    failure probability stays q: 1 − (1 − βq)(1 − r) = q.

    >>> d = defense_in_depth()
    >>> f"{d.probability[0, -1]:.3g}", f"{d.probability[-1, -1]:.3g}"  # β = 0 and β = 1, n = 10
    ('1e-10', '0.1')
    """
    layers = tuple(range(1, max_layers + 1))
    out = np.zeros((len(betas), len(layers)))
    for a, beta in enumerate(betas):
        shared = beta * q
        own = (q - shared) / (1 - shared) if shared < 1 else 0.0
        for b, n in enumerate(layers):
            out[a, b] = stack_failure(np.ones((n, 1)), np.array([shared]), np.full(n, own))
    return DefenseInDepth(q=q, layers=layers, betas=tuple(betas), probability=out)

"""Every candidate stack at once: safety tax, size, uncovered modes, depth and exact risk.

Stacks are bitmasks over the candidate layers; every metric is a numpy array indexed by the
stack, built with whole-array operations instead of a Python loop per stack.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from math import comb

import numpy as np

from cofail.errors import InputError
from cofail.model import Matrix, Stack, UncertainPolicy
from cofail.probability import Scenario, all_stack_failures
from cofail.structure import depth as stack_depth

__all__ = ["MAX_ENUMERATED", "Landscape", "landscape"]

MAX_ENUMERATED = 25
"""Most candidate layers whose 2^n stacks are enumerated exactly."""

_MAX_COMBOS = 20_000
_WORD = 62  # modes per int64 word of an uncovered mask


@dataclass(frozen=True)
class Landscape:
    """Metrics of every non-empty stack of the candidate layers."""

    layers: tuple[str, ...]
    """Candidate layer ids; bit i of a stack index is ``layers[i]``."""
    stacks: np.ndarray
    """Stack bitmasks (int64), every non-empty subset of the candidates."""
    size: np.ndarray
    tax: np.ndarray
    n_uncovered: np.ndarray
    uncovered_mask: np.ndarray
    """(stacks, words) int64: bit j of word w set when every layer is vulnerable to mode 62w + j."""
    risk: np.ndarray
    """Exact P(every layer of the stack fails) under ``scenario``."""
    scenario: Scenario
    uncertain: UncertainPolicy
    mode_ids: tuple[str, ...]

    def layer_ids(self, stack: int) -> tuple[str, ...]:
        """Return the layer ids of a stack bitmask."""
        return tuple(lid for i, lid in enumerate(self.layers) if stack >> i & 1)

    def uncovered(self, index: int) -> tuple[str, ...]:
        """Return the uncovered mode ids of the stack at ``index``."""
        words = self.uncovered_mask[index]
        return tuple(
            mid for j, mid in enumerate(self.mode_ids) if int(words[j // _WORD]) >> (j % _WORD) & 1
        )

    def depths(self, matrix: Matrix, index: np.ndarray) -> np.ndarray:
        """Return the depth of the stacks at ``index`` (float; ``inf`` when nothing defeats one).

        Vectorised over stacks: for d = 1, 2, ... every set of d modes is tried against all
        stacks at once (a stack is defeated when each of its layers is vulnerable to one of the
        modes). Past ``_MAX_COMBOS`` mode sets per order, the remaining stacks fall back to
        Berge's algorithm one at a time.
        """
        index = np.asarray(index, dtype=np.int64)
        stacks = self.stacks[index]
        out = np.where(self.n_uncovered[index] > 0, 1.0, np.nan)
        rows = [matrix.layer_ids.index(x) for x in self.layers]
        vuln = matrix.vulnerable(self.uncertain)[rows]
        m = vuln.shape[1]
        for d in range(2, m + 1):
            todo = np.flatnonzero(np.isnan(out))
            if len(todo) == 0:
                break
            if comb(m, d) > _MAX_COMBOS:
                for t in todo:
                    found = stack_depth(
                        matrix,
                        Stack(layers=self.layer_ids(int(stacks[t]))),
                        uncertain=self.uncertain,
                    )
                    out[t] = np.inf if found is None else found
                break
            sub = stacks[todo]
            hit_any = np.zeros(len(todo), dtype=bool)
            for modes in combinations(range(m), d):
                spared = np.flatnonzero(~vuln[:, modes].any(axis=1))
                defeated = np.ones(len(todo), dtype=bool)
                for i in spared:
                    defeated &= (sub >> i & 1) == 0
                hit_any |= defeated
            out[todo[hit_any]] = d
        out[np.isnan(out)] = np.inf
        return out


def landscape(
    matrix: Matrix,
    scenario: Scenario,
    candidates: tuple[str, ...] | None = None,
    *,
    uncertain: UncertainPolicy = "pessimistic",
) -> Landscape:
    """Return the metrics of all 2^n − 1 stacks of the candidate layers.

    Examples
    --------
    >>> from cofail import catalog
    >>> land = landscape(catalog.load(), Scenario())
    >>> len(land.stacks)
    127

    Notes
    -----
    Uncovered modes: AND of the layers' vulnerability bitmasks, one pass per layer over all
    stacks. Risk: :func:`cofail.probability.all_stack_failures`, O((m + n) 2^n) for all stacks
    together. Memory about 60 bytes per stack (2^25 stacks: 2 GiB).
    """
    layers = candidates if candidates is not None else matrix.layer_ids
    n = len(layers)
    if n > MAX_ENUMERATED:
        raise InputError(
            f"{n} candidate layers make {2**n - 1:,} stacks; every stack is scored exactly only "
            f"up to {MAX_ENUMERATED} candidates ({2**MAX_ENUMERATED - 1:,} stacks). --max-tax "
            "narrows the candidates; `cofail recommend` finds the best stacks of more layers "
            "by an integer programme"
        )
    stack = Stack(layers=layers)
    rows = stack.indices(matrix)
    vuln = matrix.vulnerable(uncertain)[rows]
    m = vuln.shape[1]
    n_words = -(-m // _WORD)
    padded = np.zeros((n, n_words * _WORD), dtype=np.int64)
    padded[:, :m] = vuln
    weights = np.left_shift(np.int64(1), np.arange(_WORD, dtype=np.int64))
    masks = (padded.reshape(n, n_words, _WORD) * weights).sum(axis=2)  # (layers, words)
    stacks = np.arange(1, 1 << n, dtype=np.int64)
    uncovered = np.full((len(stacks), n_words), (1 << _WORD) - 1, dtype=np.int64)
    tax = np.zeros(len(stacks))
    costs = [matrix.layer(lid).cost for lid in layers]
    for i in range(n):
        member = (stacks >> i & 1).astype(bool)
        uncovered[member] &= masks[i]
        tax[member] += costs[i]
    q, p, r = scenario.arrays(matrix, stack)
    risk = all_stack_failures(q, p, r)[1:]
    return Landscape(
        layers=tuple(layers),
        stacks=stacks,
        size=_popcount(stacks),
        tax=tax,
        n_uncovered=_popcount(uncovered).sum(axis=1),
        uncovered_mask=uncovered,
        risk=risk,
        scenario=scenario,
        uncertain=uncertain,
        mode_ids=matrix.mode_ids,
    )


def _popcount(x: np.ndarray) -> np.ndarray:
    return np.asarray(np.bitwise_count(x.astype(np.uint64)), dtype=np.int64)

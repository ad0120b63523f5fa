"""`cofail fit`'s other explanations of a log: a mode nested in another, merged or split, gives
the same pattern probabilities (exactly, with q = 1 on the shared layers), and a fit whose
rival lies within reach marks the parameters the rival moves not identified."""

from __future__ import annotations

import numpy as np
import pytest

from cofail.fit._latent import Params, Structure, pattern_log_probs, states
from cofail.fit._nested import nested_pairs, other_explanations, swapped_explanations

# A (group 0) on L1-L2, B (group 1) on L1-L3, C (group 2) on L3: A and C are nested in B.
SUPPORT = np.array([[1, 1, 0], [1, 1, 0], [0, 1, 1]], dtype=bool)
S = Structure(SUPPORT, np.zeros((3, 3)), np.ones(3, bool), np.ones(3, bool))
EVERY = states(3)  # every pattern of the three layers


def test_nested_pairs_are_the_strict_subsets() -> None:
    assert nested_pairs(S) == [(0, 1), (2, 1)]  # C (L3) is in B too


def test_a_merged_mode_split_again_gives_the_same_pattern_probabilities() -> None:
    # B present on the cases of either, its q on L3 (the extra layer) 0.4; A absent. Split:
    # B's p becomes 0.3 x 0.4 with q = 1 on L3, A takes the rest of P(either), q = 1 on L1-L2.
    merged = Params(
        np.array([0.0, 0.3, 0.2]),
        np.array([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.4, 0.7]]),
        np.array([0.02, 0.05, 0.03]),
    )
    explanations = other_explanations(merged, S)
    split = next(x for g, h, x in explanations if (g, h) == (0, 1) and x.p[0] > 0.01)
    assert split.p[1] == pytest.approx(0.12)
    assert split.p[0] == pytest.approx(1 - 0.7 / 0.88)
    assert split.q[2, 1] == pytest.approx(1.0)
    assert np.allclose(
        pattern_log_probs(split, EVERY), pattern_log_probs(merged, EVERY), atol=1e-12
    )


def test_a_split_pair_merged_gives_the_same_pattern_probabilities_to_its_floor() -> None:
    # Both present on their own, q = 1 where exposed: merged, A keeps p = 1e-3 (EM could not
    # move it from 0), so the probabilities agree to about that.
    split = Params(
        np.array([0.08, 0.08, 0.2]),
        np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 1.0, 0.7]]),
        np.array([0.02, 0.05, 0.03]),
    )
    (merged,) = [x for g, h, x in other_explanations(split, S) if (g, h) == (0, 1) and x.p[1] > 0.1]
    assert merged.p[1] == pytest.approx(1 - 0.92**2)
    assert merged.q[2, 1] == pytest.approx(0.08 / (1 - 0.92**2))
    gap = np.abs(np.exp(pattern_log_probs(merged, EVERY)) - np.exp(pattern_log_probs(split, EVERY)))
    assert gap.max() < 2e-3


def test_two_modes_on_the_same_layers_swapped_give_the_same_pattern_probabilities() -> None:
    # A and B both on L1-L3 with different q: the swap is a relabelling, exact.
    support = np.array([[1, 1], [1, 1], [1, 1]], dtype=bool)
    s = Structure(support, np.zeros((3, 2)), np.ones(2, bool), np.ones(3, bool))
    one = Params(
        np.array([0.1, 0.25]),
        np.array([[0.8, 0.3], [0.6, 0.5], [0.9, 0.2]]),
        np.array([0.02, 0.05, 0.03]),
    )
    ((g, h, swapped),) = swapped_explanations(one, s)
    assert (g, h) == (0, 1)
    assert swapped.p.tolist() == [0.25, 0.1]
    assert np.allclose(pattern_log_probs(swapped, EVERY), pattern_log_probs(one, EVERY), atol=1e-12)


def test_a_fit_marks_a_pair_the_log_cannot_tell_from_its_swap_not_identified() -> None:
    # The coverage study's collinear pair (B is A with its q moved by 0.05 and a weak L5):
    # the swapped explanation ends within twice the cutoff, the parameters it moves are not
    # identified and the note names the swap; its deviance, recomputed from its parameters.
    from cofail.empirical import LogSpec, histogram_from_arrow, simulate
    from cofail.fit import fit_matrix
    from cofail.fit._latent import log_likelihood
    from cofail.model import Matrix, Stack
    from cofail.probability import Scenario

    layers, modes = ["L1", "L2", "L3", "L4", "L5"], ["A", "B"]
    q = {("L1", "A"): 0.8, ("L2", "A"): 0.7, ("L3", "A"): 0.6, ("L4", "A"): 0.5,
         ("L1", "B"): 0.75, ("L2", "B"): 0.7, ("L3", "B"): 0.65, ("L4", "B"): 0.5,
         ("L5", "B"): 0.1}  # fmt: skip
    m = Matrix.model_validate(
        {
            "id": "pair",
            "failure_modes": [{"id": x} for x in modes],
            "layers": [{"id": x} for x in layers],
            "cells": {x: {y: q.get((x, y), "N") for y in modes} for x in layers},
        }
    )
    scenario = Scenario(p_mode={"A": 0.1, "B": 0.1}, residual_default=0.03)
    log = simulate(m, Stack(layers=tuple(layers)), scenario, 5000, seed=5)
    f = fit_matrix(histogram_from_arrow(log, LogSpec(wide=True), "pair"), m)
    (swap,) = [x for x in f.rivals if x.swapped]
    ll = log_likelihood(swap.params, f.bits, f.counts, states(2))
    assert swap.deviance == pytest.approx(2 * (f.estimate.loglik - ll), abs=1e-6)
    assert swap.deviance < 2 * 3.84
    noted = [c for c in f.cells() if "swapped on L1, L2, L3 and L4" in c["note"]]
    assert noted and not any(c["identified"] for c in noted)

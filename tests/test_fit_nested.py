"""`cofail fit`'s other explanations of a log: a mode nested in another, merged or split, gives
the same pattern probabilities (exactly, with q = 1 on the shared layers), and a fit whose
rival lies within reach marks the parameters the rival moves not identified."""

from __future__ import annotations

import numpy as np
import pytest

from cofail.fit._latent import Params, Structure, pattern_log_probs, states
from cofail.fit._nested import nested_pairs, other_explanations

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

"""Overlap metrics against scipy / numpy, and the similarity groups."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from scipy.spatial.distance import jaccard as scipy_jaccard

from cofail.model import Matrix
from cofail.structure import overlap
from strategies import matrices


@given(matrices(max_layers=5, max_modes=8))
def test_pair_metrics_agree_with_numpy_and_scipy(matrix: Matrix) -> None:
    rows = matrix.vulnerable()
    idx = {lid: i for i, lid in enumerate(matrix.layer_ids)}
    for p in overlap(matrix).pairs:
        a, b = rows[idx[p.a]], rows[idx[p.b]]
        if (a | b).any():
            assert p.jaccard == pytest.approx(1 - scipy_jaccard(a, b))
        else:
            assert p.jaccard is None
        if a.std() > 0 and b.std() > 0:
            assert p.phi == pytest.approx(np.corrcoef(a, b)[0, 1])
        else:
            assert p.phi is None
        if a.any():
            assert p.p_b_given_a == pytest.approx((a & b).sum() / a.sum())


def test_groups_on_the_paper_matrix(paper: Matrix) -> None:
    # Average linkage on Jaccard distance, cut at 0.5 (distances computed by hand in the notes):
    # DEBATE joins the pipeline at 0.33, RE+IDA merge at 0.33, SCI-AI stays apart (> 0.69).
    groups = overlap(paper).groups
    assert groups == (("RLHF", "RLAIF", "W2S", "DEBATE"), ("RE", "IDA"), ("SCI-AI",))
    # Every layer is in exactly one group.
    assert sorted(x for g in groups for x in g) == sorted(paper.layer_ids)


def test_linkage_heights_match_hand_computation(paper: Matrix) -> None:
    z = np.asarray(overlap(paper).linkage)
    # First merge RLAIF+W2S at 0; RLHF joins at 1 - 5/6.
    assert z[0, 2] == pytest.approx(0.0)
    assert z[1, 2] == pytest.approx(1 - 5 / 6)

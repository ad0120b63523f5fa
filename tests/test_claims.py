"""The paper's claims recomputed from the catalog, and checked a second way from the reference."""

from __future__ import annotations

from itertools import combinations

import pytest

from cofail.claims import check_claims
from cofail.model import Matrix, Stack
from cofail.structure import audit, overlap
from reference_table import reference_rows


def _sets(policy: str) -> dict[str, set[str]]:
    """Vulnerability sets straight from the reference text (U read by ``policy``)."""
    hit = {"V"} | ({"U"} if policy == "pessimistic" else set())
    return {
        lid: {m for m, mark in row.items() if mark in hit} for lid, row in reference_rows().items()
    }


@pytest.mark.parametrize("policy", ["pessimistic", "optimistic"])
def test_claim1_pipeline_shares_almost_all_modes(paper: Matrix, policy: str) -> None:
    sets = _sets(policy)
    shared = sets["RLHF"] & sets["RLAIF"] & sets["W2S"]
    assert {"CAP-DEV", "DEC-AL", "EM-MIS", "AL-GEN"} <= shared
    assert sets["RLAIF"] == sets["W2S"]
    a = audit(paper, Stack(layers=("RLHF", "RLAIF", "W2S")), uncertain=policy)  # type: ignore[arg-type]
    assert set(a.uncovered) == shared
    assert check_claims(paper, policy)[0].holds  # type: ignore[arg-type]


@pytest.mark.parametrize("policy", ["pessimistic", "optimistic"])
def test_claim3_debate_and_re_are_complementary(paper: Matrix, policy: str) -> None:
    sets = _sets(policy)
    affordable = [lid for lid in sets if lid not in ("SCI-AI", "IDA")]
    assert [x for x in affordable if "DEC-AL" not in sets[x]] == ["DEBATE"]
    assert not sets["RE"] & {"COLL", "CAP-DEV", "EM-MIS", "EVAL-DIFF"}
    assert sets["DEBATE"] & sets["RE"] == {"AL-GEN"}
    a = audit(paper, Stack(layers=("DEBATE", "RE")), uncertain=policy)  # type: ignore[arg-type]
    assert a.uncovered == ("AL-GEN",)
    assert check_claims(paper, policy)[2].holds  # type: ignore[arg-type]


@pytest.mark.parametrize("policy", ["pessimistic", "optimistic"])
def test_claim4_al_gen_is_the_most_shared_mode(paper: Matrix, policy: str) -> None:
    sets = _sets(policy)
    counts = {m: sum(m in s for s in sets.values()) for m in paper.mode_ids}
    assert max(counts, key=lambda m: counts[m]) == "AL-GEN"
    assert sorted(counts.values())[-1] > sorted(counts.values())[-2]
    assert [lid for lid, s in sets.items() if "AL-GEN" not in s] == ["SCI-AI"]
    assert check_claims(paper, policy)[3].data["most_shared"] == ["AL-GEN"]  # type: ignore[arg-type]


@pytest.mark.parametrize("policy", ["pessimistic", "optimistic"])
def test_claim6_three_groups(paper: Matrix, policy: str) -> None:
    sets = _sets(policy)

    def jac(a: str, b: str) -> float:
        return len(sets[a] & sets[b]) / len(sets[a] | sets[b])

    pipeline = ("RLHF", "RLAIF", "W2S")
    assert all(jac(a, b) >= 0.75 for a, b in combinations(pipeline, 2))
    assert all(jac(h, p) < 0.5 for h in ("SCI-AI", "IDA") for p in pipeline)
    affordable = [lid for lid in sets if lid not in ("SCI-AI", "IDA")]
    best = min(combinations(affordable, 2), key=lambda ab: len(sets[ab[0]] & sets[ab[1]]))
    assert set(best) == {"DEBATE", "RE"}
    result = check_claims(paper, policy)[5]  # type: ignore[arg-type]
    assert result.holds
    assert set(result.data["complementary_pair"]) == {"DEBATE", "RE"}
    # The Jaccard used by the claim check agrees with the hand computation.
    ov = overlap(paper, uncertain=policy)  # type: ignore[arg-type]
    for p in ov.pairs:
        assert p.jaccard == pytest.approx(jac(p.a, p.b))


def test_a_changed_cell_changes_the_verdict(paper: Matrix) -> None:
    # If RE were vulnerable to COLL, DEBATE+RE would leave COLL uncovered too: claim 3 fails.
    changed = paper.with_levels({("RE", "COLL"): "V"})
    assert not check_claims(changed)[2].holds
    # If SCI-AI were vulnerable to AL-GEN, claim 4's "all but Scientist AI" fails.
    assert not check_claims(paper.with_levels({("SCI-AI", "AL-GEN"): "V"}))[3].holds


def test_claim5_defense_in_depth_numbers(paper: Matrix) -> None:
    data = check_claims(paper)[4].data
    assert data["independent"] == pytest.approx(1e-10, rel=1e-12)
    assert data["shared"] == pytest.approx(0.1, rel=1e-12)

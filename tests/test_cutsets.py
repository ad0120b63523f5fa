"""Minimal cut sets against brute force over every subset of failure modes."""

from __future__ import annotations

from itertools import chain, combinations

from hypothesis import given, settings
from hypothesis import strategies as st

from cofail.model import Matrix, Stack
from cofail.structure import audit, depth, minimal_cut_sets, minimal_hitting_sets
from strategies import examples, matrices


def _brute_force(matrix: Matrix, stack: Stack, policy: str) -> set[frozenset[str]]:
    rows = matrix.vulnerable(policy)[stack.indices(matrix)]  # type: ignore[arg-type]
    modes = matrix.mode_ids

    def defeats(subset: tuple[int, ...]) -> bool:
        beaten = sum(any(row[j] for j in subset) for row in rows)
        return beaten >= stack.threshold

    all_subsets = chain.from_iterable(
        combinations(range(len(modes)), r) for r in range(len(modes) + 1)
    )
    cuts = [frozenset(s) for s in all_subsets if defeats(s)]
    minimal = {c for c in cuts if not any(o < c for o in cuts)}
    return {frozenset(modes[j] for j in c) for c in minimal}


@settings(max_examples=examples(300), deadline=None)
@given(matrices(), st.sampled_from(["pessimistic", "optimistic"]), st.data())
def test_cut_sets_equal_brute_force(matrix: Matrix, policy: str, data: st.DataObject) -> None:
    layers = data.draw(st.lists(st.sampled_from(matrix.layer_ids), min_size=1, unique=True))
    k = data.draw(st.one_of(st.none(), st.integers(1, len(layers))))
    stack = Stack(layers=tuple(layers), k=k)
    found = minimal_cut_sets(matrix, stack, uncertain=policy)  # type: ignore[arg-type]
    expected = _brute_force(matrix, stack, policy)
    assert {frozenset(c.modes) for c in found} == expected
    assert len(found) == len(expected)  # no duplicates
    assert [c.order for c in found] == sorted(c.order for c in found)
    rows = matrix.vulnerable(policy)[stack.indices(matrix)]  # type: ignore[arg-type]
    for c in found:
        cols = [matrix.mode_ids.index(m) for m in c.modes]
        if k is None:  # each cut set hits every layer; no proper subset does
            assert all(any(row[j] for j in cols) for row in rows)
            for smaller in combinations(cols, len(cols) - 1):
                assert not all(any(row[j] for j in smaller) for row in rows)
    expected_depth = min((len(c) for c in expected), default=None)
    assert depth(matrix, stack, uncertain=policy) == expected_depth  # type: ignore[arg-type]


@settings(max_examples=examples(200), deadline=None)
@given(matrices(), st.integers(1, 3))
def test_max_order_keeps_exactly_the_small_cut_sets(matrix: Matrix, order: int) -> None:
    stack = Stack(layers=matrix.layer_ids)
    full = minimal_cut_sets(matrix, stack)
    bounded = minimal_cut_sets(matrix, stack, max_order=order)
    assert bounded == [c for c in full if c.order <= order]


@given(matrices())
def test_uncovered_modes_are_the_order_one_cut_sets(matrix: Matrix) -> None:
    a = audit(matrix, Stack(layers=matrix.layer_ids))
    assert a.uncovered == tuple(c.modes[0] for c in a.cut_sets if c.order == 1)


def test_hitting_sets_edge_cases() -> None:
    assert minimal_hitting_sets([]) == [0]  # nothing to hit
    assert minimal_hitting_sets([0b1, 0]) == []  # an empty set can never be hit
    assert minimal_hitting_sets([0b11, 0b11, 0b111]) == [0b1, 0b10]  # duplicates, supersets


def test_a_layer_vulnerable_to_nothing_makes_the_stack_unbeatable(paper: Matrix) -> None:
    m = paper.with_levels({("RE", mid): "N" for mid in paper.mode_ids})
    a = audit(m, Stack(layers=("RLHF", "RE")))
    assert a.depth is None and a.cut_sets == ()
    assert "RE" in a.note


@settings(max_examples=examples(300), deadline=None)
@given(st.sets(st.integers(min_value=0, max_value=2**12 - 1), max_size=60))
def test_minimal_sets_equal_the_pairwise_definition(family: set[int]) -> None:
    # Filed by lowest element, a set is compared only with some kept sets; the definition
    # compares it with every other set of the family.
    from cofail.structure._bits import minimal_sets

    expected = {s for s in family if not any(o != s and o & s == o for o in family)}
    got = minimal_sets(family)
    assert set(got) == expected and len(got) == len(expected)
    assert [s.bit_count() for s in got] == sorted(s.bit_count() for s in got)


@settings(max_examples=examples(60), deadline=None)
@given(matrices(), st.integers(min_value=1, max_value=3))
def test_ranked_stacks_carry_their_searched_depth(matrix: Matrix, size: int) -> None:
    # rank_stacks skips the search where the depth is known (1 with a mode uncovered, None
    # with an immune layer); each must equal the search.
    from cofail.structure import rank_stacks

    size = min(size, len(matrix.layers))
    for ranked in rank_stacks(matrix, size):
        assert ranked.depth == depth(matrix, Stack(layers=ranked.layers))

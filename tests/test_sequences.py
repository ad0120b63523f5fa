"""cofail.sequences against hand calculations, brute force over the modes and closed forms."""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import product

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cofail.errors import InputError
from cofail.model import FailureMode, Layer, Matrix, Stack, Vulnerability
from cofail.probability import Scenario, stack_failure
from cofail.sequences import bow_tie, event_tree, independent_outcomes, ordered_outcomes
from strategies import examples, stack_models

GRADED = (0.0, 0.0, 0.25, 0.6, 1.0, 1.0)


def brute_force(q: np.ndarray, p: np.ndarray, r: np.ndarray, start: int = 0) -> list[float]:
    """P(layers start..k-1 fail, layer k holds) for k >= start, then P(all from start fail), by
    summing over every set of present modes; layers before ``start`` must all fail (a bow-tie's
    prevention side). Plain loops: no code shared with the library."""
    n, m = q.shape
    out = [0.0] * (n - start + 1)
    for present in product((0, 1), repeat=m):
        weight = 1.0
        for j in range(m):
            weight *= p[j] if present[j] else 1.0 - p[j]
        fails = []
        for i in range(n):
            survive = 1.0 - r[i]
            for j in range(m):
                if present[j]:
                    survive *= 1.0 - q[i, j]
            fails.append(1.0 - survive)
        before = weight
        for i in range(start):
            before *= fails[i]
        for k in range(start, n):
            out[k - start] += before * (1.0 - fails[k])
            before *= fails[k]
        out[-1] += before
    return out


def two_layers_one_mode(p: float, r1: float, r2: float) -> Matrix:
    """Layers A then B, both defeated by mode M (V), with residuals r1 and r2."""
    return Matrix(
        failure_modes=(FailureMode(id="M", name="shared mode"),),
        layers=(Layer(id="A", residual=r1), Layer(id="B", residual=r2)),
        cells={"A": {"M": Vulnerability(level="V")}, "B": {"M": Vulnerability(level="V")}},
    )


def test_two_layers_sharing_one_mode_worked_on_paper() -> None:
    # Mode M present with p = 0.1 defeats both A and B; A fails alone with 0.2, B with 0.3.
    # Blocked by A: M absent and A's residual quiet:        0.9 * 0.8       = 0.72
    # Caught by B:  M absent, A's residual fires, B holds:  0.9 * 0.2 * 0.7 = 0.126
    # Harm:         M present, or both residuals fire:      0.1 + 0.9 * 0.2 * 0.3 = 0.154
    # Independently: A fails with 0.1 + 0.9 * 0.2 = 0.28, B with 0.1 + 0.9 * 0.3 = 0.37, so
    # caught by B 0.28 * 0.63 = 0.1764, harm 0.28 * 0.37 = 0.1036.
    t = event_tree(two_layers_one_mode(0.1, 0.2, 0.3), Stack(layers=("A", "B")),
                   Scenario(p_default=0.1))  # fmt: skip
    got = {o.outcome: (o.probability, o.independent) for o in t.outcomes}
    assert got["stopped by A"] == pytest.approx((0.72, 0.72), abs=1e-15)
    assert got["stopped by B"] == pytest.approx((0.126, 0.1764), abs=1e-15)
    assert got["harm"] == pytest.approx((0.154, 0.1036), abs=1e-15)
    # B's branch given A failed: 0.154 / 0.28 = 0.55, against its own 0.37.
    a, b = t.barriers
    assert (a.reached, b.reached) == pytest.approx((1.0, 0.28), abs=1e-15)
    assert b.fails_given_reached == pytest.approx(0.154 / 0.28, rel=1e-14)
    assert b.fails_alone == pytest.approx(0.37, rel=1e-14)
    assert t.moved_to_harm == pytest.approx(0.154 - 0.1036, abs=1e-15)


def test_bow_tie_with_the_shared_mode_across_it_worked_on_paper() -> None:
    # A prevents, B mitigates, M hits both (p = 0.1; residuals 0.2 and 0.3).
    # Prevented: A holds, 0.9 * 0.8 = 0.72. Hazard: 0.28.
    # Mitigated by B: 0.9 * 0.2 * 0.7 = 0.126; harm 0.1 + 0.9 * 0.2 * 0.3 = 0.154.
    # Multiplying the sides instead: 0.28 * P(B holds) = 0.28 * 0.63 = 0.1764, harm 0.1036.
    m = two_layers_one_mode(0.1, 0.2, 0.3)
    t = bow_tie(m, Stack(layers=("A",)), Stack(layers=("B",)), Scenario(p_default=0.1))
    got = {o.outcome: (o.probability, o.sides_multiplied) for o in t.outcomes}
    assert got["prevented"] == pytest.approx((0.72, 0.72), abs=1e-15)
    assert got["mitigated by B"] == pytest.approx((0.126, 0.1764), abs=1e-15)
    assert got["harm"] == pytest.approx((0.154, 0.1036), abs=1e-15)
    assert t.hazard is not None and t.hazard.shared_modes == ("M",)
    assert t.hazard.probability == pytest.approx(0.28, abs=1e-15)


@settings(max_examples=examples(60), deadline=None)
@given(stack_models(layers=(1, 5), modes=(1, 6), cells=GRADED))
def test_outcomes_equal_brute_force_over_the_modes(model: tuple[np.ndarray, ...]) -> None:
    q, p, r = model
    exact = ordered_outcomes(q, p, r)
    truth = brute_force(q, p, r)
    assert [*exact.stopped, exact.harm] == pytest.approx(truth, rel=1e-9, abs=1e-15)
    assert exact.stopped.sum() + exact.harm == pytest.approx(1.0, abs=1e-12)
    assert exact.harm == pytest.approx(stack_failure(q, p, r), rel=1e-12, abs=1e-300)
    # reached[k] is P(the first k layers fail): the engine on that prefix.
    for k in range(1, q.shape[0]):
        prefix = stack_failure(q[:k], p, r[:k])
        assert exact.reached[k] == pytest.approx(prefix, rel=1e-9, abs=1e-15)


@settings(max_examples=examples(60), deadline=None)
@given(stack_models(layers=(1, 6), modes=(1, 6), cells=GRADED))
def test_independence_is_the_product_of_the_layers_own_failures(
    model: tuple[np.ndarray, ...],
) -> None:
    q, p, r = model
    n = q.shape[0]
    own = [brute_force(q[i : i + 1], p, r[i : i + 1])[-1] for i in range(n)]
    alone = independent_outcomes(q, p, r)
    for k in range(n):
        assert alone.stopped[k] == pytest.approx(np.prod(own[:k]) * (1 - own[k]), abs=1e-14)
    assert alone.harm == pytest.approx(np.prod(own), abs=1e-14)
    assert alone.stopped.sum() + alone.harm == pytest.approx(1.0, abs=1e-12)


@settings(max_examples=examples(40), deadline=None)
@given(stack_models(layers=(2, 5), modes=(1, 5), cells=GRADED), st.data())
def test_bow_tie_equals_brute_force_and_the_sides_multiplied(
    model: tuple[np.ndarray, ...], data: st.DataObject
) -> None:
    q, p, r = model
    n, m = q.shape
    a = data.draw(st.integers(1, n - 1), label="prevention layers")
    matrix = Matrix(
        failure_modes=tuple(FailureMode(id=f"M{j}", name=f"m{j}") for j in range(m)),
        layers=tuple(Layer(id=f"L{i}", residual=float(r[i])) for i in range(n)),
        cells={f"L{i}": {f"M{j}": Vulnerability(level=float(q[i, j])) for j in range(m)}
               for i in range(n)},
    )  # fmt: skip
    scenario = Scenario(p_mode={f"M{j}": float(p[j]) for j in range(m)})
    ids = matrix.layer_ids
    t = bow_tie(matrix, Stack(layers=ids[:a]), Stack(layers=ids[a:]), scenario)
    right = brute_force(q, p, r, start=a)
    hazard = brute_force(q[:a], p, r[:a])[-1]
    prevented = 1.0 - hazard
    assert [o.probability for o in t.outcomes] == pytest.approx(
        [prevented, *right], rel=1e-9, abs=1e-14
    )
    alone = brute_force(q[a:], p, r[a:])
    assert [o.sides_multiplied for o in t.outcomes[1:]] == pytest.approx(
        [hazard * x for x in alone], rel=1e-9, abs=1e-14
    )
    assert sum(o.probability for o in t.outcomes) == pytest.approx(1.0, abs=1e-12)


def test_a_layer_that_cannot_hold_stops_nothing_and_passes_everything() -> None:
    # B fails for sure (r = 1): nothing is stopped by B, and C sees every attack A let through.
    q, p, r = np.eye(3), np.array([0.3, 0.5, 0.2]), np.array([0.0, 1.0, 0.0])
    o = ordered_outcomes(q, p, r)
    assert o.stopped.tolist() == pytest.approx([0.7, 0.0, 0.3 * 0.8], abs=1e-15)
    assert o.harm == pytest.approx(0.3 * 0.2, abs=1e-15)


def test_tiny_probabilities_keep_their_relative_precision() -> None:
    # Three layers on their own modes of 1e-7: stopped by the third is 1e-14 (1 - 1e-7), harm
    # 1e-21. A difference of prefix probabilities would keep none of these digits.
    q, p, r = np.eye(3), np.full(3, 1e-7), np.zeros(3)
    o = ordered_outcomes(q, p, r)
    assert o.stopped[2] == pytest.approx(1e-14 * (1 - 1e-7), rel=1e-14)
    assert o.harm == pytest.approx(1e-21, rel=1e-14)


def test_expected_cost_is_the_cost_weighted_sum(paper: Matrix) -> None:
    costs = {"RLHF": 1.0, "IDA": 7.5}
    t = event_tree(paper, Stack(layers=("RLHF", "DEBATE", "IDA")), costs=costs, harm_cost=100.0)
    p = {o.outcome: o.probability for o in t.outcomes}
    ind = {o.outcome: o.independent for o in t.outcomes}
    cost = t.expected_cost
    assert cost is not None
    assert cost[0] == pytest.approx(
        p["stopped by RLHF"] + 7.5 * p["stopped by IDA"] + 100 * p["harm"]
    )
    assert cost[1] == pytest.approx(
        ind["stopped by RLHF"] + 7.5 * ind["stopped by IDA"] + 100 * ind["harm"]
    )
    assert event_tree(paper, Stack(layers=("RE",))).expected_cost is None


@pytest.mark.parametrize(
    ("call", "needle"),
    [
        (lambda m: event_tree(m, Stack(layers=("RE", "IDA"), k=1)), "--k"),
        (lambda m: bow_tie(m, Stack(layers=("RE",)), Stack(layers=("RE", "IDA"))), "both sides"),
        (lambda m: event_tree(m, Stack(layers=("RE",)), costs={"IDA": 1.0}), "--cost IDA"),
        (lambda m: event_tree(m, Stack(layers=("RE",)), costs={"RE": -1.0}), "cost >= 0"),
        (lambda m: event_tree(m, Stack(layers=("RE",)), harm_cost=float("nan")), "--harm-cost"),
        (
            lambda m: bow_tie(m, Stack(layers=("RE",)), Stack(layers=("IDA",)), costs={"RE": 1.0}),
            "prevention layer",
        ),
    ],
)
def test_bad_requests_name_the_option(
    paper: Matrix, call: Callable[[Matrix], object], needle: str
) -> None:
    with pytest.raises(InputError, match=re.escape(needle)):
        call(paper)


def test_a_layer_never_reached_has_no_conditional_failure() -> None:
    # A holds for sure (no mode can hit it, no residual): B is never reached.
    m = two_layers_one_mode(0.1, 0.0, 0.3)
    m = m.model_copy(update={"cells": {"A": {"M": Vulnerability(level="N")}, "B": m.cells["B"]}})
    t = event_tree(m, Stack(layers=("A", "B")), Scenario(p_default=0.1))
    assert [o.probability for o in t.outcomes] == [1.0, 0.0, 0.0]
    assert t.barriers[1].reached == 0.0 and t.barriers[1].fails_given_reached is None
    assert str(t.outcomes[1].independent) == "0.0"  # not -0.0


@settings(max_examples=examples(15), deadline=None)
@given(
    st.data(),
    st.floats(0.01, 0.5),
    st.booleans(),
)
def test_cofails_own_event_tree_reader_agrees_with_the_export(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject, p: float, bowtie: bool
) -> None:
    """Two engines, one model: the outcomes of an ordered stack (or a bow-tie), conditioned on
    the modes, equal what `cofail mef`'s event-tree solver (a BDD over the collected gates of
    the exported MEF, success branches included) gives for the same file, to 1e-12."""
    from cofail.eventtree import solve_event_trees
    from cofail.faulttree import read_mef
    from cofail.sequences import event_tree_mef
    from cofail.sequences._mef_export import sequence_name
    from strategies import graded_levels, matrices

    matrix = data.draw(matrices(max_layers=5, max_modes=5, levels=graded_levels), label="m")
    order = data.draw(st.permutations(matrix.layer_ids), label="order")
    scenario = Scenario(p_default=p, residual_default=0.02)
    if bowtie and len(order) >= 2:
        cut = data.draw(st.integers(1, len(order) - 1), label="prevention layers")
        prevent, mitigate = Stack(layers=tuple(order[:cut])), Stack(layers=tuple(order[cut:]))
        result = bow_tie(matrix, prevent, mitigate, scenario)
        text = event_tree_mef(matrix, mitigate, scenario, prevent=prevent)
    else:
        stack = Stack(layers=tuple(order))
        result, text = event_tree(matrix, stack, scenario), event_tree_mef(matrix, stack, scenario)
    path = tmp_path_factory.mktemp("export") / "tree.xml"
    path.write_text(text)
    (solved,) = solve_event_trees(read_mef([path])).initiating_events
    theirs = {s.name: s.probability for s in solved.sequences}
    ours = {sequence_name(o.outcome): o.probability for o in result.outcomes}
    assert set(theirs) <= set(ours)
    for name, value in ours.items():
        assert theirs.get(name, 0.0) == pytest.approx(value, abs=1e-12), name

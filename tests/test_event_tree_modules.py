"""Sequences over formulas with modules: private sub-gates are solved alone and become one
variable each; the sequences still equal enumeration of every basic-event state."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cofail.eventtree import solve_event_trees
from cofail.faulttree import FaultTree, read_mef
from strategies import examples
from test_event_tree import Model, brute_force, write_model


@st.composite
def modular_models(draw: st.DrawFn) -> Model:
    """Functional gates over shared basic events and a private sub-gate of two events each,
    forked as a stack (stop at the first success) or on every gate (full)."""
    shared = draw(st.integers(1, 3))
    k = draw(st.integers(2, 4))
    n = shared + 2 * k
    probabilities = [draw(st.integers(1, 99)) / 100 for _ in range(n)]
    gates: list[tuple[str, int, list[int]]] = []
    functional = []
    for g in range(k):
        private = [-1 - (shared + 2 * g), -1 - (shared + 2 * g + 1)]
        gates.append((draw(st.sampled_from(["and", "or"])), 0, private))
        pool = list(range(-shared, 0)) + functional
        uses = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=2, unique=True))
        gates.append((draw(st.sampled_from(["and", "or"])), 0, [len(gates) - 1, *uses]))
        functional.append(len(gates) - 1)
    full = draw(st.booleans())

    def node(i: int, failed: int) -> tuple:
        if i == len(functional):
            return ("seq", f"S{failed % 3}")
        fe = functional[i]
        ok = node(i + 1, failed) if full else ("seq", f"S{i % 2}")
        return ("fork", fe, [("success", False, (fe, True), ok),
                             ("failure", False, (fe, False), node(i + 1, failed + 1))])  # fmt: skip

    m = Model(probabilities, gates, None, sequences=["S0", "S1", "S2"])
    m.tree = node(0, 0)
    return m


@settings(max_examples=examples(40), deadline=None)
@given(modular_models())
def test_modules_equal_enumeration(tmp_path_factory: pytest.TempPathFactory, m: Model) -> None:
    path: Path = tmp_path_factory.mktemp("etm") / "m.xml"
    write_model(m, path)
    result = solve_event_trees(read_mef([path]))
    found = re.match(r"exact: (\d+) modules", result.engine)
    assert found is not None and int(found.group(1)) >= 1, result.engine
    got = {s.name: s.probability for s in result.initiating_events[0].sequences}
    expected = {s: v for s, v in brute_force(m).items() if s in got or v > 0}
    assert got.keys() <= expected.keys()
    for seq, value in expected.items():
        assert abs(got.get(seq, 0.0) - value) <= 1e-9, (seq, got.get(seq), value)


def test_time_limit_refused_in_one_line(tmp_path: Path) -> None:
    from cofail.errors import InputError
    from cofail.faulttree._bdd import _can_fork

    if not _can_fork():
        pytest.skip("the time limit needs fork")
    m = Model([0.5] * 3, [("or", 0, [-1, -2]), ("and", 0, [-2, -3])], None)
    m.tree = ("fork", 0, [("success", False, (0, True), ("seq", "S0")),
                          ("failure", False, (0, False), ("seq", "S1"))])  # fmt: skip
    write_model(m, tmp_path / "m.xml")
    tree = read_mef([tmp_path / "m.xml"])
    done = solve_event_trees(tree, time_limit=60)
    assert [round(s.probability, 9) for s in done.initiating_events[0].sequences] == [0.25, 0.75]
    with pytest.raises(InputError, match=r"initiating event 'I' did not finish within .*1e-06 s"):
        solve_event_trees(tree, time_limit=1e-6)


def _race_model(tmp_path: Path) -> tuple[Model, FaultTree]:
    """Three gates over four events, two forks, three sequences: small enough to enumerate."""
    m = Model(
        [0.1, 0.2, 0.3, 0.4],
        [("or", 0, [-1, -2]), ("and", 0, [-2, -3]), ("or", 0, [-3, -4, 1])],
        None,
    )
    m.tree = ("fork", 0, [("success", False, (0, True), ("seq", "S0")),
                          ("failure", False, (0, False), ("fork", 2, [
                              ("success", False, (2, True), ("seq", "S1")),
                              ("failure", False, (2, False), ("seq", "S2"))]))])  # fmt: skip
    write_model(m, tmp_path / "m.xml")
    return m, read_mef([tmp_path / "m.xml"])


@pytest.mark.parametrize("late_after", [0.5, 0.0])
@pytest.mark.parametrize("cores", [2, 1])
def test_race_of_orders_equals_each_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, late_after: float, cores: int
) -> None:
    """A model past RACE_MIN_GATES races the orders in forked processes (``dfs`` joining at
    once with ``late_after`` 0; ``small`` from the start on two cores, else late); the
    winner's sequences equal each order's own solve here."""
    import cofail.eventtree._solve as solve_module
    from cofail.faulttree._bdd import ORDERS, _can_fork

    if not _can_fork():
        pytest.skip("the race needs fork")
    m, tree = _race_model(tmp_path)
    monkeypatch.setattr(solve_module, "RACE_MIN_GATES", 1)
    monkeypatch.setattr(solve_module, "LATE_AFTER", late_after)
    monkeypatch.setattr(solve_module.os, "cpu_count", lambda: cores)
    raced = solve_event_trees(tree)
    assert re.search(r"\((CUDD|dd[^)]*)\), (size|dfs|small) order", raced.engine), raced.engine
    got = {s.name: s.probability for s in raced.initiating_events[0].sequences}
    for order in ORDERS:  # every order: those raced first, those that join late
        alone = solve_event_trees(tree, order=order)
        for s in alone.initiating_events[0].sequences:
            assert abs(got[s.name] - s.probability) <= 1e-12, (order, s.name)
    expected = brute_force(m)
    for name, value in got.items():
        assert abs(value - expected[name]) <= 1e-9, name


def test_race_searches_cut_sets_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """After a race of orders the cut sets are searched here, once: the result equals the
    solve in one order, cut sets and assumptions included."""
    import cofail.eventtree._solve as solve_module
    from cofail.faulttree._bdd import _can_fork

    if not _can_fork():
        pytest.skip("the race needs fork")
    _, tree = _race_model(tmp_path)
    alone = solve_event_trees(tree, cut_sets=2, order="size").to_dict()
    monkeypatch.setattr(solve_module, "RACE_MIN_GATES", 1)
    raced = solve_event_trees(tree, cut_sets=2)
    assert raced.cut_set_order == 2
    got = raced.to_dict()
    got["event_tree_engine"] = alone["event_tree_engine"]  # the winning order's name
    got["event_tree_bdd_nodes"] = alone["event_tree_bdd_nodes"]
    for ie, expected in zip(got["initiating_events"], alone["initiating_events"], strict=True):
        for s, t in zip(ie["sequences"], expected["sequences"], strict=True):
            assert abs(s.pop("probability") - t.pop("probability")) <= 1e-12
            assert s == t
        ie.pop("total"), expected.pop("total")
    assert got == alone
    assert any(s.cut_sets and s.cut_sets.cut_sets for s in raced.initiating_events[0].sequences)


@settings(max_examples=examples(30), deadline=None)
@given(modular_models())
def test_small_order_from_the_model_tops_equals_enumeration(
    tmp_path_factory: pytest.TempPathFactory, m: Model
) -> None:
    # `small` orders the sequences' variables as the model's top gates order them.
    path: Path = tmp_path_factory.mktemp("ets") / "m.xml"
    write_model(m, path)
    result = solve_event_trees(read_mef([path]), order="small")
    expected = brute_force(m)
    for s in result.initiating_events[0].sequences:
        assert abs(s.probability - expected[s.name]) <= 1e-9, s.name


def test_small_order_follows_the_model_tops() -> None:
    from cofail.eventtree._sequence_bdd import _by_model_tops
    from cofail.faulttree._mef import Formula

    def e(n: str) -> Formula:
        return Formula("event", name=n, kind="event")

    # top = (a or b) and (c or d or x): small visits the two-event OR first, so a and b lead;
    # a variable under no top (z) keeps its place after them.
    gates = {"top": Formula("and", (e("g2"), e("g1"))), "g1": Formula("or", (e("a"), e("b"))),
             "g2": Formula("or", (e("c"), e("d"), e("x")))}  # fmt: skip
    tree = FaultTree(gates=gates, basic_events=dict.fromkeys("abcdxz", 0.1))
    got = _by_model_tops(tree, tree, ["z", "c", "b", "a", "d", "x"])
    assert got == ["a", "b", "c", "d", "x", "z"]


@pytest.mark.parametrize(
    ("cores", "first", "late"),
    [(2, ("size", "small"), ("dfs",)), (1, ("size",), ("small", "dfs"))],
)
def test_small_races_from_the_start_given_two_cores(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    cores: int,
    first: tuple[str, ...],
    late: tuple[str, ...],
) -> None:
    import cofail.eventtree._solve as solve_module
    import cofail.faulttree._bdd as bdd

    if not bdd._can_fork():
        pytest.skip("the race needs fork")
    _, tree = _race_model(tmp_path)
    seen: list[tuple[tuple[str, ...], tuple[str, ...]]] = []

    def record(tree: object, top: str, work: object, orders: tuple[str, ...], *a: object,
               later: tuple[str, ...] = (), **k: object) -> object:  # fmt: skip
        seen.append((orders, later))
        raise _RecordedError

    monkeypatch.setattr(solve_module, "RACE_MIN_GATES", 1)
    monkeypatch.setattr(solve_module.os, "cpu_count", lambda: cores)
    monkeypatch.setattr(bdd, "_race", record)
    with pytest.raises(_RecordedError):
        solve_event_trees(tree)
    assert seen == [(first, late)]


class _RecordedError(Exception):
    """Raised by the stand-in race once it has seen its orders."""

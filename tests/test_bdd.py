"""The modular BDD engine against truth tables, and its module detection against the definition."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from itertools import product
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cofail.errors import InputError
from cofail.faulttree import _bdd
from cofail.faulttree._bdd import ORDERS, _race, top_event_probability
from cofail.faulttree._mef import FaultTree, Formula
from cofail.faulttree._modules import find_modules
from cofail.faulttree._simplify import simplify
from conftest import shared_path
from strategies import examples, stack_models

OPS = ("and", "or", "atleast", "not", "xor", "nand", "nor", "null")
needs_kernels = pytest.mark.skipif(
    _bdd._kernels is None, reason="the C kernels are not built (no compiler at install)"
)


def _ref(name: str) -> Formula:
    return Formula("event", name=name, kind="event")


@st.composite
def fault_trees(draw: st.DrawFn) -> FaultTree:
    """Random DAG fault trees: gates refer to basic events and to gates defined after them."""
    n_events = draw(st.integers(1, 7))
    n_gates = draw(st.integers(1, 8))
    events = {
        f"e{i}": draw(st.sampled_from([0.0, 0.01, 0.3, 0.5, 0.9, 1.0])) for i in range(n_events)
    }
    gates: dict[str, Formula] = {}
    for g in range(n_gates):
        below = list(events) + [f"g{h}" for h in range(g + 1, n_gates)]
        op = draw(st.sampled_from(OPS))
        arity = 1 if op in ("not", "null") else draw(st.integers(2, min(4, max(2, len(below)))))
        names = [draw(st.sampled_from(below)) for _ in range(arity)]
        args = tuple(
            Formula("event", name=n, kind="event")
            if draw(st.integers(0, 5))
            else Formula(draw(st.sampled_from(("and", "or"))), (_ref(n), _ref(below[0])))
            for n in names  # now and then a nested formula
        )
        gates[f"g{g}"] = (
            _ref(names[0])  # a pass-through gate: <define-gate><gate .../></define-gate>
            if g and not draw(st.integers(0, 7))
            else Formula(op, args, min=draw(st.integers(1, arity)) if op == "atleast" else 0)
        )
    return FaultTree(gates=gates, basic_events=events)


def _truth(tree: FaultTree, top: str) -> float:
    """P(top) by enumerating every assignment of the basic events."""
    names = list(tree.basic_events)
    total = 0.0
    for values in product([False, True], repeat=len(names)):
        assignment = dict(zip(names, values, strict=True))

        def value(f: Formula, assignment: dict[str, bool] = assignment) -> bool:
            if f.op == "event":
                return value(tree.gates[f.name]) if f.name in tree.gates else assignment[f.name]
            xs = [value(a, assignment) for a in f.args]
            return {
                "and": lambda: all(xs),
                "or": lambda: any(xs),
                "nand": lambda: not all(xs),
                "nor": lambda: not any(xs),
                "xor": lambda: sum(xs) % 2 == 1,
                "atleast": lambda: sum(xs) >= f.min,
                "not": lambda: not xs[0],
                "null": lambda: xs[0],
            }[f.op]()

        weight = 1.0
        for name, v in assignment.items():
            p = tree.basic_events[name]
            weight *= p if v else 1 - p
        total += weight * value(tree.gates[top])
    return total


def _modules_by_definition(tree: FaultTree, top: str) -> set[str]:
    """Gates none of whose descendants is reached from outside their own sub-tree."""

    def refs(g: str) -> set[str]:
        out: set[str] = set()
        stack = [tree.gates[g]]
        while stack:
            f = stack.pop()
            if f.op == "event":
                out.add(f.name)
            stack.extend(f.args)
        return out

    def below(g: str) -> set[str]:
        seen: set[str] = set()
        stack = [g]
        while stack:
            for child in refs(stack.pop()):
                if child not in seen:
                    seen.add(child)
                    if child in tree.gates:
                        stack.append(child)
        return seen

    reachable = below(top) | {top}
    parents: dict[str, set[str]] = {}
    for g in reachable & set(tree.gates):
        for child in refs(g):
            parents.setdefault(child, set()).add(g)
    modules = set()
    for g in reachable & set(tree.gates):
        inside = below(g)
        if all(parents[d] <= inside | {g} for d in inside):
            modules.add(g)
    return modules


@settings(max_examples=examples(300), deadline=None)
@given(fault_trees())
def test_modules_match_the_definition(tree: FaultTree) -> None:
    gates, modules = find_modules(tree, "g0")
    assert modules == _modules_by_definition(tree, "g0")
    assert gates[-1] == "g0" and "g0" in modules  # post-order ends at the top, a module


@settings(max_examples=examples(300), deadline=None)
@given(fault_trees(), st.sampled_from(ORDERS), st.booleans(), st.booleans())
def test_probability_equals_the_truth_table(
    tree: FaultTree, order: str, in_memory: bool, simplified: bool
) -> None:
    # Both ways of reading the BDD: CUDD's nodes in memory, and a DDDMP dump; with and
    # without the rewriting into more modules.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_bdd, "_READ_CUDD_MEMORY", in_memory)
        result = top_event_probability(
            tree,
            "g0",
            order=order,  # type: ignore[arg-type]
            simplified=simplified,
        )
    assert 0.0 <= result.probability <= 1.0
    assert result.probability == pytest.approx(_truth(tree, "g0"), rel=1e-12, abs=1e-15)


@needs_kernels
def test_the_node_layout_check_accepts_this_cudd_and_refuses_a_mismatch() -> None:
    from dd import cudd

    bdd = cudd.BDD()
    for i, name in enumerate("xyz"):
        bdd.add_var(name, index=i)
    u = bdd.add_expr("(x & ~y) | z")
    assert _bdd._cudd_layout_agrees(bdd, u) and _bdd._cudd_layout_agrees(bdd, ~u)
    assert not _bdd._cudd_layout_agrees(bdd, bdd.true)  # constants: nothing to read
    # A kernel that reads the fields at other offsets than CUDD's is caught.
    with pytest.MonkeyPatch.context() as patch:
        real = _bdd._kernels.cudd_node
        patch.setattr(_bdd._kernels, "cudd_node", lambda a: (lambda i, t, e: (i, e, t))(*real(a)))
        assert not _bdd._cudd_layout_agrees(bdd, u)


@settings(max_examples=examples(100), deadline=None)
@given(fault_trees())
def test_a_cudd_the_kernels_cannot_read_falls_back_to_building(tree: FaultTree) -> None:
    # As if dd or CUDD laid nodes out differently: the layout check fails, so the module tops
    # are built after all and the probability is read from a DDDMP dump.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_bdd, "_cudd_layout_agrees", lambda bdd, root: False)
        result = top_event_probability(tree, "g0", order="size")
    assert result.probability == pytest.approx(_truth(tree, "g0"), rel=1e-12, abs=1e-15)


@settings(max_examples=examples(100), deadline=None)
@given(fault_trees())
def test_a_formula_past_its_memo_limit_is_built_instead(tree: FaultTree) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_bdd, "_max_tuples", lambda leaves: 1)
        result = top_event_probability(tree, "g0", order="dfs")
    assert result.probability == pytest.approx(_truth(tree, "g0"), rel=1e-12, abs=1e-15)


@settings(max_examples=examples(300), deadline=None)
@given(fault_trees())
def test_simplified_tree_is_flat_and_its_groups_are_modules(tree: FaultTree) -> None:
    simple = simplify(tree, "g0")
    assert _truth(simple, "g0") == pytest.approx(_truth(tree, "g0"), rel=1e-12, abs=1e-15)
    for name, formula in simple.gates.items():
        assert all(a.op in ("event", "constant") for a in formula.args), name
        if name != "g0":
            assert formula.op != "event", f"pass-through gate {name} left in place"
    groups = {g for g in simple.gates if g.startswith("#group")}
    assert groups <= _modules_by_definition(simple, "g0")
    for group in groups:  # a group holds at least two arguments, all private to it
        assert len(simple.gates[group].args) >= 2


def test_the_race_returns_what_each_order_returns() -> None:
    tree = FaultTree(basic_events={f"e{i}": 0.1 * (i % 7 + 1) for i in range(12)})
    for g in range(6):  # a chain of shared sub-trees
        refs = [f"e{(2 * g + j) % 12}" for j in range(4)] + ([f"g{g + 1}"] if g < 5 else [])
        op = ("and", "or", "atleast")[g % 3]
        gates_args = tuple(Formula("event", name=n, kind="event") for n in refs)
        tree.gates[f"g{g}"] = Formula(op, gates_args, min=2 if op == "atleast" else 0)
    raced = _bdd.BddResult(**_race(tree, "g0", _bdd._solve_payload))
    assert raced.order in ORDERS
    for order in ORDERS:
        assert top_event_probability(tree, "g0", order=order).probability == pytest.approx(
            raced.probability, rel=1e-13
        )
    assert raced.probability == pytest.approx(_truth(tree, "g0"), rel=1e-12)


def _chain_tree() -> FaultTree:
    tree = FaultTree(basic_events={f"e{i}": 0.1 * (i % 7 + 1) for i in range(12)})
    for g in range(6):
        refs = [f"e{(2 * g + j) % 12}" for j in range(4)] + ([f"g{g + 1}"] if g < 5 else [])
        tree.gates[f"g{g}"] = Formula("or", tuple(_ref(n) for n in refs))
    return tree


def _stall(tree: FaultTree, top: str, order: str) -> None:
    time.sleep(30)  # a solve that will not finish in the test's time


def _die(tree: FaultTree, top: str, order: str) -> None:
    os._exit(9)  # as the kernel's out-of-memory killer would


def test_a_slow_race_tells_once_then_stops_at_the_time_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_bdd, "SLOW_SECONDS", 0.2)
    told: list[float] = []
    start = time.monotonic()
    with pytest.raises(_bdd.SolveTimeoutError, match=r"'g0' did not finish within 1 s"):
        _race(_chain_tree(), "g0", _stall, ORDERS, 1.0, told.append)  # type: ignore[arg-type]
    assert told == [0.2]
    assert 1.0 <= time.monotonic() - start < 10
    import multiprocessing

    assert multiprocessing.active_children() == []


def _niceness_unless_first(tree: FaultTree, top: str, order: str) -> int:
    if order == "size":
        time.sleep(30)  # the first racer never answers: the others' answer is read
    return os.nice(0)


def test_every_racer_but_the_first_runs_at_a_lower_priority() -> None:
    """The first order keeps the caller's priority, the others (from the start or late) get
    RACER_NICE more; read back from the racer that answers."""
    here = os.nice(0)
    got = _race(_chain_tree(), "g0", _niceness_unless_first, ("size", "small"))  # type: ignore[arg-type]
    assert got == min(here + _bdd.RACER_NICE, 19)
    late = _race(_chain_tree(), "g0", _niceness_unless_first, ("size",),  # type: ignore[arg-type]
                 later=("dfs",), later_after=0.0)  # fmt: skip
    assert late == min(here + _bdd.RACER_NICE, 19)


def test_solvers_that_all_die_give_a_clear_error() -> None:
    with pytest.raises(InputError, match="every BDD process died, most likely out of memory"):
        _race(_chain_tree(), "g0", _die)  # type: ignore[arg-type]


def test_mef_says_when_the_exact_solve_is_slow(
    cli,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_bdd, "SLOW_SECONDS", 0.01)
    model = str(shared_path("benchmarks", "aralia", "edf9202.xml"))  # about 0.5 s
    run = cli("mef", model, "-f", "json")
    assert run.code == 0 and "has run 0.01 s and goes on" in run.err
    assert run.json()["probability"] == pytest.approx(0.781302, rel=1e-6)
    assert "goes on" not in cli("mef", model, "--time-limit", "60").err  # its own limit: quiet


def _children(pid: int) -> list[int]:
    """Live (not zombie) processes whose parent is ``pid``, from /proc."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == pid and state != "Z":
            out.append(int(entry))
    return out


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs Linux /proc")
def test_killing_mef_stops_its_racing_solvers() -> None:
    model = shared_path("benchmarks", "aralia", "das9701.xml")  # 18 s: killed while solving
    proc = subprocess.Popen([sys.executable, "-m", "cofail", "mef", str(model)])
    try:
        deadline = time.monotonic() + 60
        workers: list[int] = []
        while time.monotonic() < deadline and len(workers) < 2:
            time.sleep(0.1)
            workers = _children(proc.pid)
        assert len(workers) == 2, "expected two racing solver processes"
    finally:
        proc.kill()  # as a timeout would: no chance to clean up
        proc.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.1)
    assert not any(_alive(w) for w in workers)


@settings(max_examples=examples(80), deadline=None)
@given(stack_models(layers=(1, 6), modes=(1, 5), cells=(0.0, 0.35, 1.0)), st.data())
def test_stack_tree_equals_the_state_dp(
    model: tuple[np.ndarray, np.ndarray, np.ndarray], data: st.DataObject
) -> None:
    from cofail.faulttree._mef_export import stack_tree
    from cofail.probability import stack_failure

    q, p, r = model
    k = data.draw(st.integers(1, q.shape[0]))
    bdd = top_event_probability(stack_tree(q, p, r, k), "TOP").probability
    assert bdd == pytest.approx(stack_failure(q, p, r, k), rel=1e-10, abs=1e-15)


def test_stacks_beyond_the_arrays_are_exact_hashed_and_by_bdd(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cofail.probability import MAX_EXACT_LAYERS, _exact, exact_with_engine

    # Layer i fails on its own mode i, on the shared mode s, or by its residual.
    n = MAX_EXACT_LAYERS + 4
    q = np.hstack([np.eye(n), np.ones((n, 1))])
    own, shared = np.linspace(0.05, 0.4, n), 0.01
    p, r = np.append(own, shared), np.full(n, 0.02)
    closed = shared + (1 - shared) * np.prod(1 - (1 - r) * (1 - own))
    if _exact._kernels is not None:
        few = q[:, [-1, 0, 1]]  # three modes: 5 reachable sets
        value, engine = exact_with_engine(few, p[[-1, 0, 1]], r)
        assert "hashed" in engine
        expect = sum(
            np.prod([p[j] if on else 1 - p[j] for j, on in zip((-1, 0, 1), bits, strict=True)])
            * np.prod(np.where(few @ np.array(bits) > 0, 1.0, r))
            for bits in product([0, 1], repeat=3)
        )
        assert value == pytest.approx(expect, rel=1e-12)
    # 2^30 reachable sets: past the hash table's limit (lowered here), the BDD takes over.
    monkeypatch.setattr(_exact, "HASHED_MAX_STATES", 1000)
    value, engine = exact_with_engine(q, p, r)
    assert engine.startswith("BDD") and value == pytest.approx(closed, rel=1e-12)


@settings(max_examples=examples(100), deadline=None)
@given(fault_trees())
def test_written_mef_reads_back_to_the_same_probability(tree: FaultTree) -> None:
    import tempfile

    from cofail.faulttree._mef import read_mef
    from cofail.faulttree._mef_export import write_mef

    # The writer has no <null>: a pass-through gate becomes a bare reference, which reads back
    # as the same function.
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.xml"
        path.write_text(write_mef(tree))
        back = read_mef([path])
    assert set(back.gates) == set(tree.gates) and back.basic_events == tree.basic_events
    assert top_event_probability(back, "g0").probability == pytest.approx(
        top_event_probability(tree, "g0").probability, rel=1e-12, abs=1e-15
    )


def _chain(length: int) -> FaultTree:
    """A tree of ``length`` gates that share basic events along a chain."""
    tree = FaultTree(basic_events={f"e{i}": 0.05 * (i % 9 + 1) for i in range(length + 3)})
    for g in range(length):
        refs = [f"e{g}", f"e{g + 1}", f"e{g + 2}"] + ([f"g{g + 1}"] if g < length - 1 else [])
        args = tuple(Formula("event", name=n, kind="event") for n in refs)
        tree.gates[f"g{g}"] = Formula(("and", "or", "atleast")[g % 3], args, min=2)
    return tree


def _solve_in_worker(tree: FaultTree) -> float:
    return top_event_probability(tree, "g0").probability


def test_a_daemonic_pool_worker_solves_without_racing() -> None:
    import multiprocessing

    tree = _chain(120)  # large enough to race in a normal process
    expected = top_event_probability(tree, "g0", order="size").probability
    with multiprocessing.get_context("fork").Pool(1) as pool:  # pool workers are daemonic
        assert pool.apply(_solve_in_worker, (tree,)) == pytest.approx(expected, rel=1e-13)
    assert top_event_probability(tree, "g0").probability == pytest.approx(expected, rel=1e-13)


@needs_kernels
@settings(max_examples=examples(400), deadline=None)
@given(
    st.lists(st.sampled_from(["x", "y", "z", "w"]), min_size=1, max_size=4),
    st.lists(st.tuples(st.integers(0, 4), st.booleans()), min_size=1, max_size=5),
    st.lists(
        st.tuples(
            st.sampled_from(["and", "or"]),
            st.lists(st.tuples(st.integers(0, 9), st.booleans()), min_size=1, max_size=4),
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_formula_kernel_equals_the_built_bdd(
    names: list[str],
    picks: list[tuple[int, bool]],
    gates: list[tuple[str, list[tuple[int, bool]]]],
) -> None:
    """An AND/OR formula over several BDDs, read without building it, with complemented,
    repeated and constant leaves and gates shared by later gates, equals the BDD CUDD builds."""
    from array import array

    from dd import cudd

    bdd = cudd.BDD()
    bdd.configure(reordering=False)
    for i, v in enumerate("xyzw"):
        bdd.add_var(v, index=i)
    pool = [
        bdd.true,
        bdd.add_expr(" & ".join(names)),
        bdd.add_expr(" | ".join(names)),
        bdd.add_expr(f"{names[0]} ^ w"),
        bdd.var(names[-1]),
    ]
    leaves = [~pool[i] if negate else pool[i] for i, negate in picks]
    n = len(leaves)
    built: list[object] = list(leaves)  # leaves, then each gate's BDD
    formula = []
    for j, (op, args) in enumerate(gates):
        refs = [(i % (n + j), negate) for i, negate in args]  # leaves and earlier gates
        operands = [~built[i] if negate else built[i] for i, negate in refs]  # type: ignore[operator]
        built.append(_bdd._combine(op, operands, bdd))
        formula.append((op, refs))
    probs = array("d", [0.1, 0.25, 0.5, 0.9])
    comps = array("d", [1 - p for p in probs])
    one = int(bdd.true) - 2
    prob, comp, _ = _bdd._kernels.cudd_formula_probability(
        [int(u) - 2 for u in leaves], formula, one, probs, comps
    )
    root = built[-1]
    want, want_comp, _ = _bdd._kernels.cudd_probability(int(root) - 2, one, probs, comps)  # type: ignore[call-overload]
    assert prob == pytest.approx(want, abs=1e-15) and comp == pytest.approx(want_comp, abs=1e-15)
    # The expansion written out as a flat DAG reads, and differentiates, like the built BDD.
    flat = _bdd._flat_bdd
    assert flat is not None
    _, _, _, nodes, ref = _bdd._kernels.cudd_formula_probability(
        [int(u) - 2 for u in leaves], formula, one, probs, comps, 0, True
    )
    assert flat.flat_probability(nodes, ref, probs, comps) == pytest.approx((want, want_comp))
    zeros = array("d", [0.0] * 4)
    if root not in (bdd.true, bdd.false):
        built_nodes, built_ref = flat.cudd_flatten(int(root) - 2, one)
        for threshold in (0.0, float("inf")):  # reverse mode; forward mode
            mine = flat.flat_gradient(nodes, ref, probs, comps, zeros, zeros, threshold)[2]
            theirs = flat.flat_gradient(built_nodes, built_ref, probs, comps, zeros, zeros, 0.0)[2]
            assert list(memoryview(mine).cast("d")) == pytest.approx(
                list(memoryview(theirs).cast("d")), abs=1e-14
            )


@needs_kernels
@settings(max_examples=examples(4), deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_kernel_memos_that_grow_many_times_equal_the_truth_table(seed: int) -> None:
    """Six BDDs of 300-600 nodes over 18 variables, and a formula over them that stays
    undecided long (OR over i of leaf i AND NOT leaf i+1): the formula kernel's memo grows from
    512 entries to more than 8,000 (its index and its entries double at least four times), and
    the one-BDD walk's over the same function built by CUDD past its first size; both equal the
    sum over all 2^18 assignments."""
    from array import array

    from dd import cudd

    rng = np.random.default_rng(seed)
    n_vars, n_leaves = 18, 6
    bdd = cudd.BDD()
    bdd.configure(reordering=False)
    for i in range(n_vars):
        bdd.add_var(f"x{i}", index=i)
    bits = ((np.arange(2**n_vars)[:, None] >> np.arange(n_vars)) & 1).astype(bool)
    leaves, truths = [], []
    for _ in range(n_leaves):  # a DNF of 12 random terms of 4 literals
        terms, truth = [], np.zeros(2**n_vars, dtype=bool)
        for _ in range(12):
            picked = rng.choice(n_vars, size=4, replace=False)
            negated = rng.random(4) < 0.5
            terms.append(
                " & ".join(f"{'~' if n else ''}x{v}" for v, n in zip(picked, negated, strict=True))
            )
            term = np.ones(2**n_vars, dtype=bool)
            for v, n in zip(picked, negated, strict=True):
                term &= ~bits[:, v] if n else bits[:, v]
            truth |= term
        leaves.append(bdd.add_expr(" | ".join(f"({t})" for t in terms)))
        truths.append(truth)
    formula = [("and", [(i, False), ((i + 1) % n_leaves, True)]) for i in range(n_leaves)]
    formula.append(("or", [(n_leaves + i, False) for i in range(n_leaves)]))
    top = np.logical_or.reduce([truths[i] & ~truths[(i + 1) % n_leaves] for i in range(n_leaves)])
    p = rng.uniform(0.05, 0.95, n_vars)
    weights = np.prod(np.where(bits, p, 1 - p), axis=1)
    probs, comps = array("d", p), array("d", 1 - p)
    one = int(bdd.true) - 2
    nodes = [int(u) - 2 for u in leaves]
    prob, comp, entries = _bdd._kernels.cudd_formula_probability(nodes, formula, one, probs, comps)
    assert entries > 16 * 512
    assert prob == pytest.approx(weights[top].sum(), rel=1e-12)
    assert comp == pytest.approx(weights[~top].sum(), rel=1e-12)
    built = bdd.false  # the same function built by CUDD, walked node by node
    for i in range(n_leaves):
        built |= leaves[i] & ~leaves[(i + 1) % n_leaves]
    walked_prob, walked_comp, walked = _bdd._kernels.cudd_probability(
        int(built) - 2, one, probs, comps
    )
    assert walked > 512
    assert walked_prob == pytest.approx(weights[top].sum(), rel=1e-12)
    assert walked_comp == pytest.approx(weights[~top].sum(), rel=1e-12)
    # A limit reached after several doublings still gives up cleanly.
    limited = entries // 3
    assert (
        _bdd._kernels.cudd_formula_probability(nodes, formula, one, probs, comps, limited) is None
    )


@needs_kernels
def test_formula_kernel_rejects_a_malformed_formula() -> None:
    from array import array

    from dd import cudd

    bdd = cudd.BDD()
    bdd.add_var("x", index=0)
    x, one, p = int(bdd.var("x")) - 2, int(bdd.true) - 2, array("d", [0.5])
    with pytest.raises(ValueError, match="later gate"):
        _bdd._kernels.cudd_formula_probability([x], [("and", [(1, False)])], one, p, p)
    with pytest.raises(ValueError, match="'and' or 'or'"):
        _bdd._kernels.cudd_formula_probability([x], [("xor", [(0, False)])], one, p, p)
    with pytest.raises(ValueError, match="1 and 32 leaves"):
        _bdd._kernels.cudd_formula_probability([], [("and", [(0, False)])], one, p, p)
    # Past max_tuples the kernel gives up (None) instead of growing its memo.
    bdd.add_var("y", index=1)
    y = int(bdd.var("y")) - 2
    q = array("d", [0.5, 0.5])
    formula = [("or", [(0, False), (1, False)])]
    assert _bdd._kernels.cudd_formula_probability([x, y], formula, one, q, q, 1000) is not None
    assert _bdd._kernels.cudd_formula_probability([x, y], formula, one, q, q, 1) is None

"""Event trees in ``cofail mef``: each sequence's exact probability against SCRAM 0.16.2 (its
own examples and random trees), against enumeration of the basic events, and against a hand
calculation; sequence cut sets against their definition, checked set by set."""

from __future__ import annotations

import itertools
import math
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cofail.eventtree import solve_event_trees
from cofail.faulttree import read_mef
from conftest import Run
from strategies import examples
from test_scram import SCRAM_INPUTS, _agree, run_scram

EVENT_TREES = SCRAM_INPUTS / "EventTrees"
SCRAM_MODELS = [
    ["EventTrees/attack.xml"],
    ["EventTrees/bcd.xml"],
    ["EventTrees/gas_leak/gas_leak.xml", "EventTrees/gas_leak/gas_leak_reactive.xml"],
    ["EventTrees/gas_leak/gas_leak_reactive.xml"],
    ["TwoTrain/two_train.xml", "TwoTrain/event_tree.xml"],
    ["ThreeMotor/three_motor.xml", "ThreeMotor/event_tree.xml"],
]


def scram_sequences(files: list[Path], tmp: Path) -> dict[str, dict[str, float]]:
    """SCRAM's exact (BDD) sequence values: {initiating event: {sequence: value}}."""
    text = run_scram(files, tmp, "--probability", "1", "-l", "1")
    results = text[text.index("<results>") :]
    out: dict[str, dict[str, float]] = {}
    for block in re.finditer(r'<initiating-event name="([^"]+)"[^>]*>(.*?)</initiating-event>',
                             results, re.S):  # fmt: skip
        out[block.group(1)] = {
            m.group(1): float(m.group(2))
            for m in re.finditer(r'<sequence name="([^"]+)" value="([^"]+)"', block.group(2))
        }
    return out


def ours(files: list[Path], cut_sets: int | None = None) -> dict[str, dict[str, float]]:
    result = solve_event_trees(read_mef(files), cut_sets=cut_sets)
    return {
        ie.name: {s.name: s.probability for s in ie.sequences} for ie in result.initiating_events
    }


@pytest.mark.parametrize("names", SCRAM_MODELS, ids=lambda n: "+".join(Path(x).stem for x in n))
def test_scram_examples_agree(names: list[str], tmp_path: Path) -> None:
    files = [SCRAM_INPUTS / n for n in names]
    if not all(f.exists() for f in files):
        pytest.skip("SCRAM's example inputs are not installed (Debian package scram)")
    theirs = scram_sequences(files, tmp_path)
    mine = ours(files)
    assert mine.keys() == theirs.keys()
    for ie, sequences in theirs.items():
        assert mine[ie].keys() == sequences.keys()
        for name, value in sequences.items():
            assert _agree(mine[ie][name], value), (ie, name, mine[ie][name], value)


def test_mef_example_is_refused_as_scram_refuses_it(cli: object, tmp_path: Path) -> None:
    # The MEF standard's own example collects gates F, G, H it never defines.
    path = EVENT_TREES / "mef_example.xml"
    if not path.exists():
        pytest.skip("SCRAM's example inputs are not installed (Debian package scram)")
    run: Run = cli("mef", str(path))  # type: ignore[operator]
    assert run.code == 2 and "'F', which no file defines" in run.err
    with pytest.raises(subprocess.CalledProcessError):
        run_scram([path], tmp_path, "--probability", "1")


def test_cli_json_and_table(cli: object) -> None:
    files = [
        EVENT_TREES / "gas_leak" / "gas_leak.xml",
        EVENT_TREES / "gas_leak" / "gas_leak_reactive.xml",
    ]
    if not all(f.exists() for f in files):
        pytest.skip("SCRAM's example inputs are not installed (Debian package scram)")
    run: Run = cli("mef", *map(str, files), "-f", "json")  # type: ignore[operator]
    assert run.code == 0, run.err
    data = run.json()
    expected = ours(files)
    got = {
        ie["name"]: {s["name"]: s["probability"] for s in ie["sequences"]}
        for ie in data["initiating_events"]
    }
    assert got == expected
    assert {ie["name"]: ie["event_tree"] for ie in data["initiating_events"]} == {
        "Gas-Leak": "Gas-Leak-Event-Tree",
        "Gas-Leak-Detection": "Gas-Leak-Event-Tree-Reactive",
    }
    assert "tops" in data  # the fault trees' own tops are still solved
    table: Run = cli("mef", *map(str, files))  # type: ignore[operator]
    assert "Initiating event 'Gas-Leak'" in table.out and "Top-event probability" in table.out


# --- hand calculation -------------------------------------------------------------------------


def _two_layers(path: Path, c: float, a: float, b: float) -> None:
    """An attack meets L1 then L2; both fail under the shared mode c, each on its own too."""

    def fork(fe: str, ok: str, ko: str) -> str:
        return (
            f'<fork functional-event="{fe}"><path state="holds"><collect-formula><not>'
            f'<gate name="{fe}"/></not></collect-formula>{ok}</path><path state="fails">'
            f'<collect-formula><gate name="{fe}"/></collect-formula>{ko}</path></fork>'
        )

    events = "".join(
        f'<define-basic-event name="{n}"><float value="{p!r}"/></define-basic-event>'
        for n, p in (("c", c), ("a", a), ("b", b))
    )
    path.write_text(
        '<opsa-mef><define-initiating-event name="attack" event-tree="T"/>'
        '<define-event-tree name="T"><define-functional-event name="L1"/>'
        '<define-functional-event name="L2"/><define-sequence name="Blocked"/>'
        '<define-sequence name="Caught"/><define-sequence name="Harm"/><initial-state>'
        + fork("L1", '<sequence name="Blocked"/>',
               fork("L2", '<sequence name="Caught"/>', '<sequence name="Harm"/>'))
        + '</initial-state></define-event-tree><define-fault-tree name="F">'
        '<define-gate name="L1"><or><basic-event name="c"/><basic-event name="a"/></or>'
        '</define-gate><define-gate name="L2"><or><basic-event name="c"/>'
        f'<basic-event name="b"/></or></define-gate>{events}</define-fault-tree></opsa-mef>'
    )  # fmt: skip


def test_two_layers_sharing_one_mode_by_hand(tmp_path: Path) -> None:
    c, a, b = 0.1, 0.2, 0.3
    path = tmp_path / "two.xml"
    _two_layers(path, c, a, b)
    got = ours([path])["attack"]
    # On paper: L1 holds iff neither c nor a; L2 then holds iff not b (c is known absent).
    blocked = (1 - c) * (1 - a)
    caught = (1 - c) * a * (1 - b)
    harm = c + (1 - c) * a * b
    assert got["Blocked"] == pytest.approx(blocked, abs=1e-12)
    assert got["Caught"] == pytest.approx(caught, abs=1e-12)
    assert got["Harm"] == pytest.approx(harm, abs=1e-12)
    # The shared mode moves mass to harm: more than the independence product of the layers.
    assert harm > (c + a - c * a) * (c + b - c * b)
    cuts = {
        s.name: s.cut_sets.cut_sets  # type: ignore[union-attr]
        for s in solve_event_trees(read_mef([path]), cut_sets=3).initiating_events[0].sequences
    }
    assert cuts["Harm"] == [("c",), ("a", "b")]
    assert cuts["Caught"] == [("a",)]  # {c} fails L2's success branch: deleted
    assert cuts["Blocked"] == [()]


# --- random trees -----------------------------------------------------------------------------


@dataclass
class Model:
    """A random fault tree over a few basic events and an event tree forking on its gates."""

    probabilities: list[float]
    gates: list[tuple[str, int, list[int]]]
    """(op, k for atleast, args): arg j < 0 is basic event -1 - j, else gate j (earlier)."""
    house_gate: int | None
    """The gate ORed with house event H (false unless a path sets it true), if any."""
    tree: tuple = ()
    """("seq", name) | ("fork", fe, [(state, set_house, collect, subtree)]); collect is
    None (bypass) or (gate, negated)."""
    sequences: list[str] = field(default_factory=lambda: ["S0", "S1", "S2"])


@st.composite
def models(draw: st.DrawFn, max_events: int = 6, max_functional: int = 4) -> Model:
    n = draw(st.integers(2, max_events))
    probabilities = [draw(st.integers(1, 99)) / 100 for _ in range(n)]
    gates: list[tuple[str, int, list[int]]] = []
    for g in range(draw(st.integers(1, max_functional))):
        pool = list(range(-n, 0)) + list(range(g))
        args = draw(st.lists(st.sampled_from(pool), min_size=2, max_size=3, unique=True))
        op = draw(st.sampled_from(["and", "or", "atleast"] if len(args) == 3 else ["and", "or"]))
        gates.append((op, 2 if op == "atleast" else 0, args))  # SCRAM's vote: 2 <= k < n
    house_gate = draw(st.one_of(st.none(), st.integers(0, len(gates) - 1)))
    m = Model(probabilities, gates, house_gate)

    def subtree(level: int, first: bool) -> tuple:
        nexts = list(range(level, len(gates)))
        if not nexts or (not first and draw(st.booleans()) and draw(st.booleans())):
            return ("seq", draw(st.sampled_from(m.sequences)))
        fe = draw(st.sampled_from(nexts))
        paths = []
        for state, negated in (("success", True), ("failure", False)):
            house = house_gate is not None and draw(st.booleans()) and draw(st.booleans())
            paths.append((state, house, (fe, negated), subtree(fe + 1, False)))
        if not first and draw(st.booleans()) and draw(st.booleans()):
            paths.append(("bypass", False, None, subtree(fe + 1, False)))
        return ("fork", fe, paths)

    m.tree = subtree(0, True)
    return m


def _gate_xml(m: Model, g: int) -> str:
    op, k, args = m.gates[g]
    inner = "".join(
        f'<basic-event name="e{-1 - a}"/>' if a < 0 else f'<gate name="G{a}"/>' for a in args
    )
    body = f'<atleast min="{k}">{inner}</atleast>' if op == "atleast" else f"<{op}>{inner}</{op}>"
    if m.house_gate == g:
        body = f'<or>{body}<house-event name="H"/></or>'
    return f'<define-gate name="G{g}">{body}</define-gate>'


def write_model(m: Model, path: Path) -> None:
    def branch(node: tuple) -> str:
        if node[0] == "seq":
            return f'<sequence name="{node[1]}"/>'
        out = [f'<fork functional-event="F{node[1]}">']
        for state, house, collect, sub in node[2]:
            out.append(f'<path state="{state}">')
            if house:
                out.append('<set-house-event name="H"><constant value="true"/></set-house-event>')
            if collect is not None:
                gate = f'<gate name="G{collect[0]}"/>'
                out.append(f"<collect-formula>{f'<not>{gate}</not>' if collect[1] else gate}"
                           "</collect-formula>")  # fmt: skip
            out.append(branch(sub) + "</path>")
        return "".join(out) + "</fork>"

    events = "".join(
        f'<define-basic-event name="e{i}"><float value="{p}"/></define-basic-event>'
        for i, p in enumerate(m.probabilities)
    )
    functional = "".join(f'<define-functional-event name="F{g}"/>' for g in range(len(m.gates)))
    sequences = "".join(f'<define-sequence name="{s}"/>' for s in m.sequences)
    path.write_text(
        '<opsa-mef><define-initiating-event name="I" event-tree="T"/>'
        f'<define-event-tree name="T">{functional}{sequences}<initial-state>{branch(m.tree)}'
        '</initial-state></define-event-tree><define-fault-tree name="FT">'
        + "".join(_gate_xml(m, g) for g in range(len(m.gates)))
        + f'<define-house-event name="H"><constant value="false"/></define-house-event>{events}'
        "</define-fault-tree></opsa-mef>"
    )


def _paths(node: tuple, house: bool = False) -> list[tuple[str, list[tuple[int, bool, bool]]]]:
    """(sequence, [(gate, negated, house state when collected)]) for every path."""
    if node[0] == "seq":
        return [(node[1], [])]
    out = []
    for _state, set_house, collect, sub in node[2]:
        now = house or set_house
        mine = [] if collect is None else [(collect[0], collect[1], now)]
        out += [(seq, mine + rest) for seq, rest in _paths(sub, now)]
    return out


def brute_force(m: Model) -> dict[str, float]:
    """P(sequence) by enumerating every state of the basic events."""
    paths = _paths(m.tree)
    out: dict[str, float] = {}
    for state in itertools.product((False, True), repeat=len(m.probabilities)):
        weight = math.prod(p if s else 1 - p for p, s in zip(m.probabilities, state, strict=True))
        values = {h: _gate_values(m, state, h) for h in (False, True)}
        for seq in dict.fromkeys(s for s, _ in paths):
            if any(all(values[h][g] != neg for g, neg, h in lits) for s, lits in paths if s == seq):
                out[seq] = out.get(seq, 0.0) + weight
            else:
                out.setdefault(seq, 0.0)
    return out


def _gate_values(m: Model, state: tuple[bool, ...], house: bool) -> list[bool]:
    values: list[bool] = []
    for g, (op, k, args) in enumerate(m.gates):
        xs = [state[-1 - a] if a < 0 else values[a] for a in args]
        v = all(xs) if op == "and" else any(xs) if op == "or" else sum(xs) >= k
        values.append(v or (house and m.house_gate == g))
    return values


@settings(max_examples=examples(60), deadline=None)
@given(models())
def test_random_trees_equal_enumeration(tmp_path_factory: pytest.TempPathFactory, m: Model) -> None:
    path = tmp_path_factory.mktemp("et") / "m.xml"
    write_model(m, path)
    got = ours([path])["I"]
    expected = brute_force(m)
    assert got.keys() == expected.keys()
    for seq, value in expected.items():
        assert abs(got[seq] - value) <= 1e-9, (seq, got[seq], value)


@settings(max_examples=examples(12), deadline=None)
@given(models(max_events=8, max_functional=5))
def test_random_trees_agree_with_scram(tmp_path_factory: pytest.TempPathFactory, m: Model) -> None:
    tmp = tmp_path_factory.mktemp("et-scram")
    path = tmp / "m.xml"
    write_model(m, path)
    theirs = scram_sequences([path], tmp)["I"]
    got = ours([path])["I"]
    assert got.keys() == theirs.keys()
    for seq, value in theirs.items():
        assert _agree(got[seq], value), (seq, got[seq], value)


@settings(max_examples=examples(40), deadline=None)
@given(models(), st.integers(1, 4))
def test_sequence_cut_sets_by_definition(
    tmp_path_factory: pytest.TempPathFactory, m: Model, order: int
) -> None:
    """Each path's minimal sets of failed events (up to ``order``) that fail its failure
    branches and none of its success branches, over every path of the sequence, minimal."""
    path = tmp_path_factory.mktemp("et-cuts") / "m.xml"
    write_model(m, path)
    result = solve_event_trees(read_mef([path]), cut_sets=order)
    got = {s.name: s.cut_sets.cut_sets for s in result.initiating_events[0].sequences}  # type: ignore[union-attr]
    n = len(m.probabilities)
    expected: dict[str, set[frozenset[int]]] = {}

    def gates(s: frozenset[int], h: bool) -> list[bool]:
        return _gate_values(m, tuple(i in s for i in range(n)), h)

    def fails(s: frozenset[int], lits: list[tuple[int, bool, bool]]) -> bool:
        return all(gates(s, h)[g] for g, neg, h in lits if not neg)

    for seq, lits in _paths(m.tree):
        found = expected.setdefault(seq, set())
        for size in range(order + 1):
            for chosen in itertools.combinations(range(n), size):
                failed = frozenset(chosen)
                minimal = fails(failed, lits) and not any(fails(failed - {i}, lits) for i in failed)
                if minimal and not any(gates(failed, h)[g] for g, neg, h in lits if neg):
                    found.add(failed)
    for seq, sets in expected.items():
        kept = {s for s in sets if not any(o < s for o in sets)}
        names = sorted((tuple(f"e{i}" for i in sorted(s)) for s in kept), key=lambda c: (len(c), c))
        assert sorted(got[seq], key=lambda c: (len(c), c)) == names, seq

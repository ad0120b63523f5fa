"""Hostile and odd event trees: one line naming the file and the element, exit 2, never a
traceback, a hang or Python's recursion limit."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from cofail.eventtree import solve_event_trees
from cofail.faulttree import read_mef
from conftest import Run, one_line_error

Cli = Callable[..., Run]

_DATA = (
    '<define-fault-tree name="FT"><define-gate name="G"><or><basic-event name="a"/>'
    '<basic-event name="b"/></or></define-gate></define-fault-tree><model-data>'
    '<define-basic-event name="a"><float value="0.1"/></define-basic-event>'
    '<define-basic-event name="b"><float value="0.2"/></define-basic-event></model-data>'
)


def _fork(fe: str, ok: str, ko: str) -> str:
    return (
        f'<fork functional-event="{fe}"><path state="ok"><collect-formula><not><gate name="G"/>'
        f'</not></collect-formula>{ok}</path><path state="ko"><collect-formula><gate name="G"/>'
        f"</collect-formula>{ko}</path></fork>"
    )


def _model(trees: str, ie: str = '<define-initiating-event name="I" event-tree="T"/>') -> str:
    return f'<?xml version="1.0"?><opsa-mef>{ie}{trees}{_DATA}</opsa-mef>'


def _tree(
    body: str, fes: str = "AB", sequences: str = "S", name: str = "T", extra: str = ""
) -> str:
    functional = "".join(f'<define-functional-event name="{f}"/>' for f in fes)
    seqs = "".join(f'<define-sequence name="{s}"/>' for s in sequences.split())
    return (
        f'<define-event-tree name="{name}">{functional}{seqs}{extra}'
        f"<initial-state>{body}</initial-state></define-event-tree>"
    )


def _run(cli: Cli, tmp_path: Path, text: str) -> Run:
    path = tmp_path / "et.xml"
    path.write_text(text)
    return cli("mef", str(path))


S = '<sequence name="S"/>'

CASES = {
    "unknown functional event": (
        _tree(_fork("Z", S, S)),
        ["fork on functional event 'Z'", "declared: A, B"],
    ),
    "out of declared order": (
        _tree(_fork("B", _fork("A", S, S), S)),
        ["'A' is forked after 'B'", "declared order"],
    ),
    "same event twice on a path": (
        _tree(_fork("A", _fork("A", S, S), S)),
        ["'A' is forked twice on one path"],
    ),
    "same event twice through a named branch": (
        _tree(
            _fork("A", '<branch name="again"/>', S),
            extra=f'<define-branch name="again">{_fork("A", S, S)}</define-branch>',
        ),
        ["'A' is forked twice on one path"],
    ),
    "named branches in a circle": (
        _tree(
            '<branch name="x"/>',
            extra='<define-branch name="x"><branch name="y"/></define-branch>'
            '<define-branch name="y"><branch name="x"/></define-branch>',
        ),
        ["named branches refer to each other", "x -> y -> x"],
    ),
    "undefined sequence": (_tree('<sequence name="nowhere"/>'), ["sequence 'nowhere'"]),
    "undefined branch": (_tree('<branch name="nowhere"/>'), ["branch 'nowhere'"]),
    "undefined gate collected": (
        _tree('<collect-formula><gate name="nope"/></collect-formula>' + S),
        ["'nope', which no file defines"],
    ),
    "undefined rule": (_tree('<rule name="r"/>' + S), ["rule 'r' is not defined"]),
    "rules in a circle": (
        '<define-rule name="r"><rule name="q"/></define-rule>'
        '<define-rule name="q"><rule name="r"/></define-rule>' + _tree('<rule name="r"/>' + S),
        ["rules refer to each other in a cycle"],
    ),
    "undefined event tree": (_tree(S, name="U"), ["event tree 'T' is not defined"]),
    "link outside a sequence": (
        _tree('<event-tree name="T"/>' + S),
        ["allowed only in sequences"],
    ),
    "mixed collect instructions": (
        _tree(
            '<fork functional-event="A"><path state="ok"><collect-expression><float value="0.5"/>'
            '</collect-expression><sequence name="S"/></path><path state="ko"><collect-formula>'
            '<gate name="G"/></collect-formula><sequence name="S"/></path></fork>'
        ),
        ["mix collect-formula and collect-expression"],
    ),
    "expression not a probability": (
        _tree('<collect-expression><float value="3"/></collect-expression>' + S),
        ["collect-expression gives 3", "frequencies are not supported"],
    ),
    "unknown house event set": (
        _tree('<set-house-event name="H"><constant value="true"/></set-house-event>' + S),
        ["set-house-event 'H': no such house event"],
    ),
    "branch without a target": (
        _tree('<collect-formula><gate name="G"/></collect-formula>'),
        ["must end in a <fork>, <sequence> or <branch>"],
    ),
    "two paths of one state": (
        _tree(
            '<fork functional-event="A"><path state="x"><sequence name="S"/></path>'
            '<path state="x"><sequence name="S"/></path></fork>'
        ),
        ["two paths of state 'x'"],
    ),
    "unsupported instruction": (_tree("<frobnicate/>" + S), ["unsupported instruction"]),
    "sequence defined twice": (
        _tree(S) + _tree(S, name="U"),
        ["sequence 'S' is defined twice"],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_tree_is_one_line(cli: Cli, tmp_path: Path, case: str) -> None:
    trees, needles = CASES[case]
    one_line_error(_run(cli, tmp_path, _model(trees)), "et.xml", *needles)


def test_frequency_on_initiating_event_is_one_line(cli: Cli, tmp_path: Path) -> None:
    ie = '<define-initiating-event name="I" event-tree="T"><float value="0.01"/></define-initiating-event>'
    run = _run(cli, tmp_path, _model(_tree(S), ie=ie))
    one_line_error(run, "initiating event 'I'", "frequency", "not supported")


def test_consequence_is_one_line(cli: Cli, tmp_path: Path) -> None:
    text = _model(_tree(S) + '<define-consequence name="C"/>')
    one_line_error(_run(cli, tmp_path, text), "<define-consequence> 'C' is not supported")


def test_cycle_through_linked_trees(cli: Cli, tmp_path: Path) -> None:
    def linking(name: str, to: str) -> str:
        return (
            f'<define-event-tree name="{name}"><define-sequence name="to-{to}">'
            f'<event-tree name="{to}"/></define-sequence><initial-state>'
            f'<sequence name="to-{to}"/></initial-state></define-event-tree>'
        )

    text = _model(linking("T", "U") + linking("U", "V") + linking("V", "T"))
    one_line_error(_run(cli, tmp_path, text), "event trees link in a cycle")


def test_deep_xml_nesting_is_refused(cli: Cli, tmp_path: Path) -> None:
    fes = [f"F{i}" for i in range(3000)]
    body = S
    for fe in reversed(fes):
        body = f'<fork functional-event="{fe}"><path state="ok">{body}</path></fork>'
    text = _model(_tree(body, fes=fes))  # type: ignore[arg-type]
    one_line_error(_run(cli, tmp_path, text), "nested", "deep")


def test_thousands_of_levels_without_xml_nesting(cli: Cli, tmp_path: Path) -> None:
    """Chains of 5,000 named branches, rules and linked trees: solved, no recursion limit."""
    n = 5000
    fes = [f"F{i}" for i in range(n)]
    branches = "".join(
        f'<define-branch name="b{i}"><fork functional-event="F{i}"><path state="ko">'
        '<collect-formula><gate name="G"/></collect-formula>'
        + (f'<branch name="b{i + 1}"/>' if i + 1 < n else '<sequence name="S"/>')
        + "</path></fork></define-branch>"
        for i in range(n)
    )
    rules = "".join(
        f'<define-rule name="r{i}">'
        + (
            f'<rule name="r{i + 1}"/>'
            if i + 1 < n
            else '<collect-formula><gate name="G"/></collect-formula>'
        )
        + "</define-rule>"
        for i in range(n)
    )
    links = "".join(
        f'<define-event-tree name="L{i}"><define-sequence name="s{i}">'
        + (f'<event-tree name="L{i + 1}"/>' if i + 1 < n else "")
        + f'</define-sequence><initial-state><sequence name="s{i}"/></initial-state>'
        "</define-event-tree>"
        for i in range(n)
    )
    text = _model(
        rules + _tree('<rule name="r0"/><branch name="b0"/>', fes=fes, extra=branches) + links,  # type: ignore[arg-type]
        ie='<define-initiating-event name="I" event-tree="T"/>'
        '<define-initiating-event name="J" event-tree="L0"/>',
    )
    start = time.monotonic()
    path = tmp_path / "deep.xml"
    path.write_text(text)
    run = cli("mef", str(path), "-f", "json")
    assert run.code == 0, run.err[-500:]
    assert time.monotonic() - start < 60
    got = {ie["name"]: ie["sequences"] for ie in run.json()["initiating_events"]}
    assert got["I"][0]["probability"] == pytest.approx(0.1 + 0.2 - 0.1 * 0.2, abs=1e-12)
    assert [s["name"] for s in got["J"]] == [f"s{n - 1}"]


def test_too_many_paths_refused_before_walking(cli: Cli, tmp_path: Path) -> None:
    """25 functional events forked on every path: 2^25 paths, refused at once."""
    fes = [f"F{i}" for i in range(25)]
    branches = "".join(
        f'<define-branch name="b{i}"><fork functional-event="F{i}">'
        + "".join(
            f'<path state="{s}">'
            + (f'<branch name="b{i + 1}"/>' if i + 1 < 25 else '<sequence name="S"/>')
            + "</path>"
            for s in ("ok", "ko")
        )
        + "</fork></define-branch>"
        for i in range(25)
    )
    start = time.monotonic()
    run = _run(cli, tmp_path, _model(_tree('<branch name="b0"/>', fes=fes, extra=branches)))  # type: ignore[arg-type]
    one_line_error(run, "more than 1,048,576 paths")
    assert time.monotonic() - start < 10


def test_event_trees_only_need_no_gates(tmp_path: Path) -> None:
    path = tmp_path / "et.xml"
    path.write_text(
        '<opsa-mef><define-initiating-event name="I" event-tree="T"/>'
        + _tree('<collect-expression><float value="0.25"/></collect-expression>' + S, fes="")
        + "</opsa-mef>"
    )
    result = solve_event_trees(read_mef([path]))
    assert [(s.name, s.probability) for s in result.initiating_events[0].sequences] == [("S", 0.25)]

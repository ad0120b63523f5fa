"""Hostile and odd Open-PSA MEF files and options: one line naming the file and what was
expected, exit 2, never a traceback or a hang; work that could run for hours is bounded."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pytest

from cofail.errors import InputError
from cofail.faulttree import mef_cut_sets, read_mef
from cofail.faulttree._cut_sets import MAX_HELD
from cofail.faulttree._mef import MAX_XML_DEPTH
from conftest import Run, one_line_error

Cli = Callable[..., Run]

_AB = (
    '<define-basic-event name="a"><float value="0.1"/></define-basic-event>'
    '<define-basic-event name="b"><float value="0.2"/></define-basic-event>'
)
_OR_AB = (
    '<define-gate name="top"><or><basic-event name="a"/><basic-event name="b"/></or></define-gate>'
)


def _mef(gates: str, events: str = _AB) -> str:
    return (
        f'<?xml version="1.0"?><opsa-mef><define-fault-tree name="t">{gates}'
        f"</define-fault-tree><model-data>{events}</model-data></opsa-mef>"
    )


def _atleast(k: str) -> str:
    return _mef(
        f'<define-gate name="top"><atleast min="{k}"><basic-event name="a"/>'
        '<basic-event name="b"/></atleast></define-gate>'
    )


def _event_a(expression: str) -> str:
    return _mef(
        _OR_AB,
        f'<define-basic-event name="a">{expression}</define-basic-event>'
        '<define-basic-event name="b"><float value="0.2"/></define-basic-event>',
    )


def _nested(tag: str, depth: int, leaf: str, inner: str = "") -> str:
    return f"<{tag}>{inner}" * depth + leaf + f"</{tag}>" * depth


_CHAIN = 20_000
HOSTILE_MEF = {
    "empty-and": (
        _mef('<define-gate name="top"><and></and></define-gate>'),
        "<and> has no arguments",
    ),
    "empty-or": (_mef('<define-gate name="top"><or/></define-gate>'), "<or> has no arguments"),
    "atleast-abc": (_atleast("abc"), "atleast min='abc'"),
    "atleast-fraction": (_atleast("1.5"), "expected a whole number from 1 to 2"),
    "atleast-huge": (_atleast("9" * 500), "(500 characters)"),
    "atleast-zero": (_atleast("0"), "expected a whole number from 1 to 2"),
    "huge-int": (_event_a(f'<int value="{"9" * 5000}"/>'), "(5,000 characters)"),
    "nan": (_event_a('<float value="nan"/>'), "probability nan is not in [0, 1]"),
    "house-maybe": (
        _mef(
            '<define-gate name="top"><or><basic-event name="a"/><house-event name="h"/></or>'
            "</define-gate>",
            _AB + '<define-house-event name="h"><constant value="maybe"/></define-house-event>',
        ),
        "house event 'h': <constant> value must be true or false, got 'maybe'",
    ),
    "constant-maybe": (
        _mef(
            '<define-gate name="top"><or><basic-event name="a"/><constant value="1"/></or></define-gate>'
        ),
        "value must be true or false, got '1'",
    ),
    "uniform-min-over-max": (
        _event_a('<uniform-deviate><float value="0.5"/><float value="0.1"/></uniform-deviate>'),
        "<uniform-deviate> (0.5, 0.1) expects finite numbers, min <= max",
    ),
    "beta-huge": (
        _event_a('<beta-deviate><float value="1e308"/><float value="inf"/></beta-deviate>'),
        "expects finite numbers",
    ),
    "lognormal-error-factor": (
        _event_a(
            '<lognormal-deviate><float value="0.01"/><float value="0.5"/><float value="0.95"/>'
            "</lognormal-deviate>"
        ),
        "an error factor >= 1",
    ),
    "deep-formula": (
        _mef(
            '<define-gate name="top">'
            + _nested("or", _CHAIN, '<basic-event name="b"/>', '<basic-event name="a"/>')
            + "</define-gate>"
        ),
        f"nested {MAX_XML_DEPTH + 1} elements deep",
    ),
    "deep-expression": (
        _event_a(_nested("mul", _CHAIN, '<float value="0.1"/>', '<float value="1"/>')),
        f"at most {MAX_XML_DEPTH} is read",
    ),
    "parameter-chain": (
        _mef(
            _OR_AB,
            '<define-basic-event name="a"><parameter name="p0"/></define-basic-event>'
            '<define-basic-event name="b"><float value="0.2"/></define-basic-event>'
            + "".join(
                f'<define-parameter name="p{i}"><parameter name="p{i + 1}"/></define-parameter>'
                for i in range(_CHAIN)
            )
            + f'<define-parameter name="p{_CHAIN}"><float value="0.1"/></define-parameter>',
        ),
        "expressions and the parameters they use nest more than",
    ),
    "gate-cycle": (
        _mef(
            '<define-gate name="top"><or><gate name="g"/><basic-event name="a"/></or></define-gate>'
            '<define-gate name="g"><or><gate name="top"/><basic-event name="b"/></or></define-gate>'
        ),
        "gates refer to each other in a cycle: top -> g -> top",
    ),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_MEF))
def test_a_hostile_mef_file_is_one_line_naming_it(cli: Cli, tmp_path: Path, name: str) -> None:
    text, needle = HOSTILE_MEF[name]
    path = tmp_path / f"{name}.xml"
    path.write_text(text)
    r = cli("mef", str(path))
    # A cycle has no single file to blame (a model can span files); everything else names it.
    one_line_error(r, needle, *([] if name == "gate-cycle" else [path.name]))


def test_nesting_up_to_the_limit_is_solved_exactly(cli: Cli, tmp_path: Path) -> None:
    # and(e0, or(e1, and(e2, ... z))): solved from the inside out by hand.
    depth = MAX_XML_DEPTH - 4  # <opsa-mef><define-fault-tree><define-gate> and the leaf
    body = "".join(f'<{"or" if i % 2 else "and"}><basic-event name="e{i}"/>' for i in range(depth))
    body += '<basic-event name="z"/>' + "".join(
        f"</{'or' if i % 2 else 'and'}>" for i in reversed(range(depth))
    )
    events = "".join(
        f'<define-basic-event name="{n}"><float value="0.3"/></define-basic-event>'
        for n in [*(f"e{i}" for i in range(depth)), "z"]
    )
    path = tmp_path / "deep.xml"
    path.write_text(_mef(f'<define-gate name="top">{body}</define-gate>', events))
    expected = 0.3
    for i in reversed(range(depth)):
        expected = 0.3 * expected if i % 2 == 0 else 1 - 0.7 * (1 - expected)
    r = cli("mef", str(path), "--cut-sets", "3", "-f", "json")
    assert r.code == 0, r.err
    assert r.json()["probability"] == pytest.approx(expected, rel=1e-12)


def test_a_gate_chain_of_any_length_is_read_and_cut(cli: Cli, tmp_path: Path) -> None:
    # Gates refer to each other by name, so a chain has no depth limit: g0 = a | g1 | ... = a | b.
    gates = "".join(
        f'<define-gate name="g{i}"><or><gate name="g{i + 1}"/><basic-event name="a"/></or>'
        "</define-gate>"
        for i in range(_CHAIN)
    )
    gates += f'<define-gate name="g{_CHAIN}"><or><basic-event name="b"/></or></define-gate>'
    path = tmp_path / "chain.xml"
    path.write_text(_mef(gates))
    r = cli("mef", str(path), "--cut-sets", "2", "-f", "json")
    assert r.code == 0, r.err
    data = r.json()
    assert data["probability"] == pytest.approx(1 - 0.9 * 0.8, rel=1e-12)
    assert data["cut_sets"]["g0"]["cut_sets"] == [["a"], ["b"]]


def test_a_wide_or_gate_is_exact_and_not_quadratic(cli: Cli, tmp_path: Path) -> None:
    # 20,000 events in one OR: minutes when combined left to right against the variable order.
    n, p = 20_000, 1e-6
    gate = "".join(f'<basic-event name="e{i}"/>' for i in range(n))
    events = "".join(
        f'<define-basic-event name="e{i}"><float value="{p}"/></define-basic-event>'
        for i in range(n)
    )
    path = tmp_path / "wide.xml"
    path.write_text(_mef(f'<define-gate name="top"><or>{gate}</or></define-gate>', events))
    r = cli("mef", str(path), "-f", "json")
    assert r.code == 0, r.err
    assert r.json()["probability"] == pytest.approx(-math.expm1(n * math.log1p(-p)), rel=1e-12)


def _and_of_ors(width: int, ors: int) -> str:
    gates = '<define-gate name="top"><and>' + "".join(f'<gate name="g{j}"/>' for j in range(ors))
    gates += "</and></define-gate>"
    gates += "".join(
        f'<define-gate name="g{j}"><or>'
        + "".join(f'<basic-event name="e{j}_{i}"/>' for i in range(width))
        + "</or></define-gate>"
        for j in range(ors)
    )
    events = "".join(
        f'<define-basic-event name="e{j}_{i}"><float value="0.01"/></define-basic-event>'
        for j in range(ors)
        for i in range(width)
    )
    return _mef(gates, events)


def test_a_cut_set_search_past_its_budget_is_refused(cli: Cli, tmp_path: Path) -> None:
    # An AND of 3 ORs of 101 events has 101^3 = 1.03 million minimal cut sets of order 3.
    assert MAX_HELD < 101**3
    path = tmp_path / "hard.xml"
    path.write_text(_and_of_ors(101, 3))
    one_line_error(cli("mef", str(path), "--cut-sets", "3"), "a lower --cut-sets bounds")
    r = cli("mef", str(path), "--cut-sets", "2", "-f", "json")  # none of order 2 or less
    assert r.code == 0, r.err
    assert r.json()["cut_sets"]["top"]["total"] == 0


def test_time_limit_bounds_the_cut_set_search(tmp_path: Path) -> None:
    # The library call: on the command line the exact solve comes first, under the same limit.
    path = tmp_path / "hard.xml"
    path.write_text(_and_of_ors(100, 3))  # 10^6 sets of order 3: seconds of work
    tree = read_mef([path])
    with pytest.raises(InputError, match=r"not found within --time-limit 0\.001 s"):
        mef_cut_sets(tree, "top", 3, time_limit=0.001)


def test_time_limit_bounds_the_monte_carlo_trials(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "or.xml"
    path.write_text(_mef(_OR_AB))
    r = cli("mef", str(path), "--monte-carlo", str(10**10), "--time-limit", "0.001", "-f", "json")
    assert r.code == 0, r.err
    mc = r.json()["monte_carlo"]["top"]
    assert mc["stopped_by_time_limit"] and mc["requested"] == 10**10
    assert mc["samples"] % 2**20 == 0 and 0 < mc["samples"] < 10**10  # whole blocks
    table = cli("mef", str(path), "--monte-carlo", str(10**10), "--time-limit", "0.001")
    assert "--time-limit 0.001 s stopped the trials before the 10,000,000,000" in table.out

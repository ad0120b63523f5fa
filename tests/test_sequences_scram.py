"""The event-tree and bow-tie MEF that cofail writes, solved by SCRAM: the same sequence values."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cofail.model import Matrix, Stack
from cofail.probability import Scenario
from cofail.sequences import EventTreeResult, bow_tie, event_tree, event_tree_mef
from cofail.sequences._mef_export import sequence_name
from conftest import Run
from strategies import examples, graded_levels, matrices
from test_scram import _agree, _scram


def scram_sequences(model: Path) -> dict[str, float]:
    """SCRAM's value of each sequence (``--probability 1``: its BDD, success branches included)."""
    report = model.with_suffix(".report.xml")
    subprocess.run(
        [_scram(), str(model), "--probability", "1", "-o", str(report)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    text = report.read_text()
    return {
        m.group(1): float(m.group(2))
        for m in re.finditer(r'<sequence name="([^"]+)" value="([^"]+)"', text)
    }


def assert_scram_agrees(result: EventTreeResult, model: Path) -> None:
    theirs = scram_sequences(model)
    ours = {sequence_name(o.outcome): o.probability for o in result.outcomes}
    # SCRAM leaves out sequences of probability 0 only if it cannot reach them; none here.
    assert set(theirs) <= set(ours), (theirs, ours)
    for name, value in ours.items():
        assert _agree(value, theirs.get(name, 0.0)), (name, value, theirs.get(name))


@settings(max_examples=examples(12), deadline=None)
@given(matrices(max_layers=5, max_modes=5, levels=graded_levels), st.floats(0.01, 0.5), st.data())
def test_exported_event_trees_agree_with_scram(
    tmp_path_factory: pytest.TempPathFactory, matrix: Matrix, p: float, data: st.DataObject
) -> None:
    tmp = tmp_path_factory.mktemp("sequences")
    order = data.draw(st.permutations(matrix.layer_ids), label="order")
    stack = Stack(layers=tuple(order))
    scenario = Scenario(p_default=p, residual_default=0.02)
    model = tmp / "tree.xml"
    model.write_text(event_tree_mef(matrix, stack, scenario))
    assert_scram_agrees(event_tree(matrix, stack, scenario), model)


@settings(max_examples=examples(12), deadline=None)
@given(matrices(max_layers=5, max_modes=5, levels=graded_levels), st.floats(0.01, 0.5), st.data())
def test_exported_bow_ties_agree_with_scram(
    tmp_path_factory: pytest.TempPathFactory, matrix: Matrix, p: float, data: st.DataObject
) -> None:
    assume(len(matrix.layers) >= 2)
    tmp = tmp_path_factory.mktemp("bowtie")
    order = data.draw(st.permutations(matrix.layer_ids), label="order")
    a = data.draw(st.integers(1, len(order) - 1), label="prevention layers")
    prevent, mitigate = Stack(layers=tuple(order[:a])), Stack(layers=tuple(order[a:]))
    scenario = Scenario(p_default=p, residual_default=0.02)
    model = tmp / "bowtie.xml"
    model.write_text(event_tree_mef(matrix, mitigate, scenario, prevent=prevent))
    assert_scram_agrees(bow_tie(matrix, prevent, mitigate, scenario), model)


@pytest.mark.parametrize("uncertain", ["pessimistic", "optimistic", "uniform:0.2,0.4"])
def test_catalog_event_tree_and_bow_tie_agree_with_scram(
    paper: Matrix, tmp_path: Path, uncertain: str
) -> None:
    # U cells as deviates: SCRAM's point value is their mean, as cofail's.
    scenario = Scenario.parse(uncertain=uncertain)
    stack = Stack(layers=("RLHF", "DEBATE", "IDA", "SCI-AI"))
    (tmp_path / "tree.xml").write_text(event_tree_mef(paper, stack, scenario))
    assert_scram_agrees(event_tree(paper, stack, scenario), tmp_path / "tree.xml")
    prevent, mitigate = Stack(layers=("RE", "RLHF")), Stack(layers=("IDA", "DEBATE"))
    (tmp_path / "bow.xml").write_text(event_tree_mef(paper, mitigate, scenario, prevent=prevent))
    assert_scram_agrees(bow_tie(paper, prevent, mitigate, scenario), tmp_path / "bow.xml")


def test_cli_export_and_sequences_write_what_scram_agrees_with(
    tmp_path: Path, cli: Callable[..., Run]
) -> None:
    out = tmp_path / "export.xml"
    r = cli(
        "export", "--to", "mef", "--event-tree", "--stack", "RLHF,DEBATE,IDA", "--out", str(out)
    )
    assert r.code == 0, r.err
    data = cli(
        "sequences", "--stack", "RLHF,DEBATE,IDA", "--mef", str(tmp_path / "s.xml"), "-f", "json"
    ).json()
    assert out.read_text() == (tmp_path / "s.xml").read_text()
    theirs = scram_sequences(out)
    for o in data["outcomes"]:
        assert _agree(o["probability"], theirs[sequence_name(o["outcome"])])

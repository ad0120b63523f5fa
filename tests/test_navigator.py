"""ATT&CK / ATLAS Navigator layers: export, import (real files from MITRE), CLI export/convert."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from cofail.errors import InputError
from cofail.io import loads_matrix
from cofail.io.navigator import (
    coverage_layer,
    dumps_navigator,
    loads_navigator,
    matrix_layers,
)
from cofail.model import Matrix, Stack
from conftest import Run, one_line_error

REAL = Path(__file__).parent / "data" / "real" / "navigator"
ATLAS = REAL / "atlas_AML.CS0000.json"
HEATMAP = REAL / "attack_heatmap_layer.json"

GRADED = """
id: graded
failure_modes: [{id: A, name: alpha}, {id: B}]
layers:
  - {id: L1, name: first, safety_tax: high, tax_cost: 3.5, family: fam, tax_note: rough}
  - {id: L2}
cells:
  L1: {A: {level: 0.3, rationale: "<b>why</b>", source: s, confidence: low}, B: N}
  L2: {A: U, B: {level: V, votes: {ann: V, bob: 0.5}}}
"""


def test_format_4_5_fields(paper: Matrix) -> None:
    layers = matrix_layers(paper)
    assert len(layers) == len(paper.layers)
    for layer in layers:
        assert layer["versions"]["layer"] == "4.5"
        major, minor, _ = (int(x) for x in layer["versions"]["navigator"].split("."))
        assert (major, minor) >= (4, 9)  # format 4.5 needs Navigator 4.9.0 or later
        assert layer["domain"] == "enterprise-attack" and layer["name"]
        assert [t["techniqueID"] for t in layer["techniques"]] == list(paper.mode_ids)
        assert all(0 <= t["score"] <= 100 for t in layer["techniques"])
    rlhf = {t["techniqueID"]: t for t in layers[0]["techniques"]}
    assert rlhf["DEC-AL"]["score"] == 100 and rlhf["DEC-AL"]["color"] == "#c0392b"
    assert rlhf["DEC-AL"]["comment"] == paper.cell("RLHF", "DEC-AL").rationale
    assert rlhf["S-TAX"]["score"] == 0


def test_round_trip_keeps_every_field(paper: Matrix) -> None:
    graded = loads_matrix(GRADED, "yaml")
    for m in (paper, graded):
        assert loads_navigator(dumps_navigator(matrix_layers(m))) == m


def test_coverage_layer_scores_and_comments(paper: Matrix) -> None:
    layer = coverage_layer(paper, Stack(layers=("DEBATE", "RE")))
    by_id = {t["techniqueID"]: t for t in layer["techniques"]}
    assert by_id["AL-GEN"]["score"] == 0 and by_id["AL-GEN"]["comment"].startswith("uncovered")
    assert by_id["DEC-AL"]["score"] == 1 and "only DEBATE" in by_id["DEC-AL"]["comment"]
    # a coverage layer describes a stack: reading the file back keeps only the layers' own
    text = dumps_navigator([layer, *matrix_layers(paper)])
    assert loads_navigator(text) == paper


def test_real_atlas_case_study_layer() -> None:
    """An ATLAS case-study layer (format 4.3) as MITRE publishes it: its techniques become
    failure modes to judge (U), each marked as its legend says."""
    m = loads_navigator(ATLAS.read_text(), ATLAS.name)
    assert len(m.layers) == 1 and m.layers[0].name.startswith("Evasion of Deep Learning")
    assert "AML.T0043.003" in m.mode_ids and len(m.mode_ids) == 9
    assert m.mode("AML.T0015").description == "tactic: defense-evasion"
    cell = m.cell(m.layer_ids[0], "AML.T0043.003")
    assert cell.level == "U" and "Used in case study" in cell.rationale
    assert m.references == ("https://atlas.mitre.org/studies/AML.CS0000",)


def test_real_attack_heatmap_layer() -> None:
    """ATT&CK Navigator's own sample heatmap (format 3.0, 428 scored techniques): each score
    on the default 0..100 gradient becomes a graded cell."""
    raw = json.loads(HEATMAP.read_text())
    m = loads_navigator(HEATMAP.read_text(), HEATMAP.name)
    assert len(m.mode_ids) == len({t["techniqueID"] for t in raw["techniques"]}) == 428
    lid = m.layer_ids[0]
    for t in raw["techniques"][:50]:
        assert m.cell(lid, t["techniqueID"]).level == pytest.approx(t["score"] / 100)


def test_several_layers_and_tactics() -> None:
    text = json.dumps(
        [
            {
                "name": "Input filter",
                "gradient": {"colors": ["#fff", "#f00"], "minValue": 0, "maxValue": 10},
                "techniques": [
                    {"techniqueID": "T1", "score": 5, "tactic": "a"},
                    {"techniqueID": "T1", "score": 8, "tactic": "b"},
                    {"techniqueID": "T2", "enabled": False},
                ],
            },
            {"name": "Input filter", "techniques": [{"techniqueID": "T3", "comment": "x"}]},
        ]
    )
    m = loads_navigator(text)
    assert m.layer_ids == ("Input-filter", "Input-filter-2")
    assert m.cell("Input-filter", "T1").level == 0.8  # the worse of its two tactics
    assert m.cell("Input-filter", "T2").level == "N"
    assert m.cell("Input-filter", "T3").level == "U"  # not in that layer: not judged
    assert m.cell("Input-filter-2", "T3").rationale.startswith("x")


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('{"cells": {}}', "not a Navigator layer file"),
        ('{"name": "x", "techniques": [{"techniqueID": "T 1"}]}', "not a usable failure-mode id"),
        ('{"name": "x", "techniques": [{"score": 3}]}', "no techniqueID"),
        ('{"name": "x", "techniques": []}', "no techniques"),
        ('{"name": "x", "techniques": [{"techniqueID": "T1"}], "gradient": {"minValue": 5, '
         '"maxValue": 1}}', "maxValue must exceed minValue"),
        ('{"name": "x", "techniques": "T1"}', "must be a list"),
    ],
)  # fmt: skip
def test_bad_layer_files_name_the_mistake(text: str, needle: str) -> None:
    with pytest.raises(InputError, match=needle):
        loads_navigator(text, "bad.json")


def test_cli_convert_both_ways(cli: Callable[..., Run], tmp_path: Path, paper: Matrix) -> None:
    out = tmp_path / "layers.json"
    r = cli("convert", "dung-mai-2025", str(out), "--to", "navigator", "-f", "json")
    assert r.code == 0 and r.json()["format"] == "navigator"
    assert isinstance(json.loads(out.read_text()), list)
    back = tmp_path / "back.yaml"
    assert cli("convert", str(out), str(back)).code == 0
    assert cli("audit", "-m", str(back), "-s", "DEBATE,RE", "-f", "json").json()["uncovered"] == [
        "AL-GEN"
    ]
    real = tmp_path / "atlas.yaml"
    assert cli("convert", str(ATLAS), str(real)).code == 0
    assert cli("validate", str(real), "-f", "json").json()["failure_modes"] == 9
    assert cli("convert", "dung-mai-2025", str(tmp_path / "m.csv")).code == 0  # unchanged


def test_cli_export_navigator_and_mef(cli: Callable[..., Run], tmp_path: Path) -> None:
    out = tmp_path / "cov.json"
    r = cli("export", "--to", "navigator", "--stack", "DEBATE,RE", "--out", str(out), "-f", "json")
    assert r.code == 0 and r.json()["layers"] == 3
    layers = json.loads(out.read_text())
    assert layers[0]["name"] == "coverage of DEBATE+RE"
    assert [x["metadata"][0]["value"] for x in layers[1:]] == ["DEBATE", "RE"]
    r = cli("export", "--to", "navigator", "-s", "RE")
    assert r.code == 0 and json.loads(r.out)[0]["name"] == "coverage of RE"
    mef = cli("export", "--stack", "DEBATE,RE")  # the existing use: MEF on standard output
    assert mef.code == 0 and mef.out.startswith("<?xml")


def test_cli_mistakes_are_one_line(cli: Callable[..., Run], tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "x", "techniques": [{"techniqueID": "has space"}]}')
    one_line_error(cli("convert", str(bad), str(tmp_path / "x.yaml")), "bad.json")
    one_line_error(cli("export", "--to", "stix"), "expected mef or navigator")
    one_line_error(
        cli("export", "--to", "navigator", "--uncertain", "0.3"), "pessimistic or optimistic"
    )
    one_line_error(
        cli("convert", "dung-mai-2025", str(tmp_path / "x.yaml"), "--to", "navigator"), ".json"
    )

"""The built-in catalog against the reference file it was built from."""

from __future__ import annotations

from cofail import catalog
from cofail.model import Matrix
from reference_table import MODES, reference_rows


def test_every_cell_matches_the_reference_table(paper: Matrix) -> None:
    rows = reference_rows()
    assert paper.mode_ids == MODES
    assert set(paper.layer_ids) == set(rows)
    for lid, marks in rows.items():
        for mid, mark in marks.items():
            assert paper.cell(lid, mid).level == mark, (lid, mid)


def test_the_four_uncertain_cells_stay_uncertain_with_a_reason(paper: Matrix) -> None:
    assert set(paper.uncertain_cells()) == {
        ("DEBATE", "S-TAX"),
        ("SCI-AI", "CAP-DEV"),
        ("SCI-AI", "COLL"),
        ("IDA", "DEC-AL"),
    }
    for lid, mid in paper.uncertain_cells():
        cell = paper.cell(lid, mid)
        assert cell.confidence == "low"
        assert cell.rationale and cell.source
    assert "disagree" in paper.cell("IDA", "DEC-AL").source


def test_all_49_cells_have_rationale_source_and_confidence(paper: Matrix) -> None:
    cells = [paper.cell(lid, mid) for lid in paper.layer_ids for mid in paper.mode_ids]
    assert len(cells) == 49
    for cell in cells:
        assert cell.rationale.endswith(".") and len(cell.rationale.split()) >= 8
        assert cell.source
        assert cell.confidence in ("high", "medium", "low")
    # One sentence each, in the catalog's own words: no two rationales are the same.
    assert len({c.rationale for c in cells}) == 49


def test_layers_and_modes_are_named_and_described(paper: Matrix) -> None:
    for item in (*paper.layers, *paper.failure_modes):
        assert item.name and item.description
    assert {layer.id: layer.safety_tax for layer in paper.layers} == {
        "RLHF": "low",
        "RLAIF": "low",
        "W2S": "low",
        "DEBATE": "moderate",
        "RE": "low",
        "SCI-AI": "high",
        "IDA": "high",
    }


def test_catalog_is_listed_and_cached() -> None:
    assert catalog.names() == ["dung-mai-2025"]
    assert catalog.load() is catalog.load("dung-mai-2025")

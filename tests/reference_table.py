"""Parse the paper's table from ../shared/reference, independently of cofail's own readers."""

from __future__ import annotations

import re

from conftest import shared_path

MODES = ("S-TAX", "CAP-DEV", "DEC-AL", "COLL", "EM-MIS", "EVAL-DIFF", "AL-GEN")


def reference_rows() -> dict[str, dict[str, str]]:
    """Return {layer: {mode: mark}} from the fenced block of the reference file."""
    text = shared_path("reference", "dung-mai-2025-table1.md").read_text(encoding="utf-8")
    block = re.search(r"```\n(RLHF.*?)```", text, re.S)
    assert block, "the reference file's matrix block was not found"
    rows = {}
    for line in block.group(1).strip().splitlines():
        layer, *marks = line.split()
        rows[layer] = dict(zip(MODES, marks, strict=True))
    return rows

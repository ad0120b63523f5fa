"""Generic nested JSON logs (--tool json): field paths for case, layer and outcome, against
counts taken from the same records by plain Python."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from conftest import Run

Cli = Callable[..., Run]


def _pipeline_log(path: Path, n: int = 200) -> list[dict[str, object]]:
    rng = np.random.default_rng(0)
    records = []
    for i in range(n):
        attack = bool(rng.random() < 0.3)
        records.append(
            {
                "meta": {"id": f"q{i}", "suite": "jailbreak" if i % 2 else "benign"},
                "input_results": [
                    {"scanner": name, "flag": bool(rng.random() < (0.5 if attack else 0.1))}
                    for name in ("regex", "classifier", "llm-judge")
                ],
            }
        )
    path.write_text("\n".join(json.dumps(r) for r in records))
    return records


def test_one_record_per_case_with_a_flag_per_component(cli: Cli, tmp_path: Path) -> None:
    log = tmp_path / "pipeline.jsonl"
    records = _pipeline_log(log)
    r = cli(
        "empirical",
        str(log),
        "--tool",
        "json",
        "--case-col",
        "meta.id",
        "--layer-col",
        "input_results[].scanner",
        "--failed-col",
        "input_results[].flag",
        "--stratum-col",
        "meta.suite",
        "--n-boot",
        "100",
        "-f",
        "json",
    )
    assert r.code == 0, r.err
    data = r.json()
    fails = {
        name: sum(
            x["flag"] for rec in records for x in rec["input_results"] if x["scanner"] == name
        )
        for name in ("regex", "classifier", "llm-judge")
    }
    assert {k: v["failures"] for k, v in data["marginal_intervals"].items()} == fails
    assert data["n_cases"] == len(records)
    assert set(data["strata"]) == {"benign", "jailbreak"}
    assert "input_results[].flag" in data["polarity"]


def test_nested_json_mistakes_name_the_record_and_the_field(cli: Cli, tmp_path: Path) -> None:
    log = tmp_path / "pipeline.jsonl"
    _pipeline_log(log, n=3)
    base = ["empirical", str(log), "--tool", "json", "--case-col", "meta.id"]
    r = cli(*base, "--layer-col", "input_results[].name", "--failed-col", "input_results[].flag")
    assert r.code == 2 and "pipeline.jsonl:1.input_results[0]: no field 'name'" in r.err
    r = cli(*base, "--layer-col", "input_results[].scanner", "--failed-col", "checks[].flag")
    assert r.code == 2 and "must step into the same list" in r.err
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        json.dumps({"meta": {"id": 1}, "input_results": [{"scanner": "a", "flag": "yes"}]})
    )
    r = cli(
        "empirical",
        str(bad),
        "--tool",
        "json",
        "--case-col",
        "meta.id",
        "--layer-col",
        "input_results[].scanner",
        "--failed-col",
        "input_results[].flag",
    )
    assert r.code == 2 and "expected true/false or 0/1, got 'yes'" in r.err

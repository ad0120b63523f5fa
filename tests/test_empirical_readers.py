"""Every log reader on small files written here, against the histogram computed by hand."""

from __future__ import annotations

import json
import re
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cofail.empirical import LogSpec, PatternHistogram, read
from cofail.errors import InputError
from conftest import Run

# Four cases, layers a and b: case 1 both fail, case 2 only a, case 3 none, case 4 only b.
OUTCOMES = {
    "1": {"a": 1, "b": 1},
    "2": {"a": 1, "b": 0},
    "3": {"a": 0, "b": 0},
    "4": {"a": 0, "b": 1},
}
EXPECTED = {0b11: 1.0, 0b01: 1.0, 0b00: 1.0, 0b10: 1.0}


def _as_dict(h: PatternHistogram, stratum: str = "") -> dict[int, float]:
    return {int(p): float(c) for p, c in zip(h.patterns[stratum], h.counts[stratum], strict=True)}


def _long_rows() -> list[dict[str, object]]:
    return [
        {"case": c, "layer": lid, "failed": f}
        for c, row in OUTCOMES.items()
        for lid, f in row.items()
    ]


def test_long_csv_parquet_jsonl(tmp_path: Path) -> None:
    rows = _long_rows()
    csv = tmp_path / "log.csv"
    csv.write_text(
        "case,layer,failed\n" + "".join(f"{r['case']},{r['layer']},{r['failed']}\n" for r in rows)
    )
    parquet = tmp_path / "log.parquet"
    pq.write_table(pa.Table.from_pylist(rows), parquet)
    jsonl = tmp_path / "log.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in rows))
    for path in (csv, parquet, jsonl):
        h = read(LogSpec(), [path])
        assert h.layers == ("a", "b")
        assert _as_dict(h) == EXPECTED, path.suffix


def test_wide_and_polarity_and_custom_columns(tmp_path: Path) -> None:
    wide = tmp_path / "wide.csv"
    wide.write_text("id,a,b\n" + "".join(f"{c},{r['a']},{r['b']}\n" for c, r in OUTCOMES.items()))
    assert _as_dict(read(LogSpec(wide=True, case="id"), [wide])) == EXPECTED
    # The same log recorded as "passed": every bit inverts.
    passed = tmp_path / "passed.csv"
    passed.write_text(
        "item,guard,ok\n"
        + "".join(f"{c},{lid},{1 - f}\n" for c, row in OUTCOMES.items() for lid, f in row.items())
    )
    h = read(LogSpec(case="item", layer="guard", failed="ok", polarity="passed"), [passed])
    assert _as_dict(h) == EXPECTED
    assert "passed (inverted)" in h.polarity


def test_text_booleans_strata_weights_and_incomplete_cases(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text(
        "case,layer,failed,model,w\n"
        "1,a,true,m1,2\n1,b,yes,m1,2\n"
        "2,a,false,m2,1\n2,b,no,m2,1\n"
        "3,a,1,m2,1\n"  # no outcome for b: left out, and said so
    )
    h = read(LogSpec(stratum="model", weight="w"), [path])
    assert h.strata == ("m1", "m2")
    assert _as_dict(h, "m1") == {0b11: 2.0} and _as_dict(h, "m2") == {0b00: 1.0}
    assert "1 case(s) without an outcome for every layer" in h.notes[0]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("case,layer,failed\n1,a,2\n", "must be 0/1 or true/false"),
        ("case,layer,failed\n1,a,1\n1,a,0\n", "more than one row for a layer"),
        ("case,layer,outcome\n1,a,1\n", "no column 'failed'"),
    ],
)
def test_bad_logs_name_the_problem(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        read(LogSpec(), [path])


def test_inspect_json_and_eval_zip(tmp_path: Path) -> None:
    samples = [
        {
            "id": c,
            "epoch": 1,
            "scores": {
                "refusal": {"value": "I" if r["a"] else "C"},
                "judge": {"value": 0.0 if r["b"] else 1.0},
            },
        }
        for c, r in OUTCOMES.items()
    ]
    log = {"eval": {"model": "m", "task": "t"}, "samples": samples}
    (tmp_path / "log.json").write_text(json.dumps(log))
    with zipfile.ZipFile(tmp_path / "log.eval", "w") as z:
        z.writestr("header.json", json.dumps({"eval": log["eval"]}))
        for s in samples:
            z.writestr(f"samples/{s['id']}_epoch_1.json", json.dumps(s))
    for name in ("log.json", "log.eval"):
        h = read(LogSpec(), [tmp_path / name])
        assert h.layers == ("m:judge", "m:refusal")
        # bit 0 = judge (layer b), bit 1 = refusal (layer a)
        swapped = {((p & 1) << 1) | (p >> 1): c for p, c in EXPECTED.items()}
        assert _as_dict(h) == swapped, name
        assert "layer failed" in h.polarity
    # Polarity "fail": a high score means the attack worked, so every outcome inverts.
    inverted = read(LogSpec(score_polarity="fail"), [tmp_path / "log.json"])
    assert _as_dict(inverted) == {
        3 - p: c for p, c in _as_dict(read(LogSpec(), [tmp_path / "log.json"])).items()
    }


def test_jailbreakbench_harmbench_promptfoo(tmp_path: Path) -> None:
    for lid in ("a", "b"):
        jbb = {
            "parameters": {"model": lid, "method": "PAIR"},
            "jailbreaks": [
                {"index": i, "behavior": c, "category": "x", "jailbroken": bool(r[lid])}
                for i, (c, r) in enumerate(OUTCOMES.items())
            ],
        }
        (tmp_path / f"jbb-{lid}.json").write_text(json.dumps(jbb))
        hb = {
            c: [{"test_case": "...", "generation": "...", "label": r[lid]}]
            for c, r in OUTCOMES.items()
        }
        (tmp_path / f"{lid}.json").write_text(json.dumps(hb))
    h = read(LogSpec(), sorted(tmp_path.glob("jbb-*.json")))
    assert h.layers == ("a", "b") and _as_dict(h) == EXPECTED
    assert "jailbroken = true" in h.polarity
    h = read(LogSpec(), [tmp_path / "a.json", tmp_path / "b.json"])
    assert h.layers == ("a", "b") and _as_dict(h) == EXPECTED
    assert "label 1" in h.polarity
    pf = {
        "results": {
            "results": [
                {
                    "testIdx": int(c),
                    "promptIdx": 0,
                    "provider": {"id": lid},
                    "success": not bool(r[lid]),
                }
                for c, r in OUTCOMES.items()
                for lid in ("a", "b")
            ]
        }
    }
    (tmp_path / "pf.json").write_text(json.dumps(pf))
    h = read(LogSpec(), [tmp_path / "pf.json"])
    assert _as_dict(h) == EXPECTED and "success = false" in h.polarity


def test_garak_report(tmp_path: Path) -> None:
    for lid in ("a", "b"):
        lines = [{"entry_type": "start_run setup", "plugins.model_name": lid}]
        for c, r in OUTCOMES.items():
            scores = [0.9, 0.1] if r[lid] else [0.2, 0.1]
            lines.append(
                {
                    "entry_type": "attempt",
                    "status": 2,
                    "seq": int(c),
                    "uuid": f"u{c}",
                    "probe_classname": "dan.Dan_11_0",
                    "detector_results": {"dan.DAN": scores},
                }
            )
            lines.append({"entry_type": "attempt", "status": 1, "seq": int(c)})  # not evaluated
        (tmp_path / f"garak-{lid}.report.jsonl").write_text(
            "".join(json.dumps(x) + "\n" for x in lines)
        )
    h = read(LogSpec(), sorted(tmp_path.glob("garak-*.jsonl")))
    assert h.layers == ("a", "b") and _as_dict(h) == EXPECTED
    assert "detector score at or above 0.5" in h.polarity


def test_cli_on_a_log(cli: Callable[..., Run], tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text(
        "case,layer,failed\n"
        + "".join(f"{r['case']},{r['layer']},{r['failed']}\n" for r in _long_rows())
    )
    data = cli("empirical", str(path), "-f", "json", "--n-boot", "200").json()
    assert data["marginals"] == {"a": 0.5, "b": 0.5}
    pair = data["pairs"][0]
    assert (pair["a"], pair["b"], pair["n11"], pair["n10"], pair["n01"], pair["n00"]) == (
        "a",
        "b",
        1,
        1,
        1,
        1,
    )
    assert pair["phi"] == pytest.approx(0.0)
    assert data["stack"]["layers"] == ["a", "b"]
    assert data["stack"]["observed"] == 0.25 and data["stack"]["independent"] == 0.25
    bad = cli("empirical", str(tmp_path / "missing.csv"))
    assert bad.code == 2 and "no such file" in bad.err
    bad = cli("empirical", str(path), "--stack", "a,zz")
    assert bad.code == 2 and "unknown layer 'zz'" in bad.err
    bad = cli("empirical", str(tmp_path))
    assert bad.code == 2 and "is a directory, expected a file" in bad.err
    # The message names the options that exist.
    bad = cli("empirical", str(path), "--failed-col", "broke")
    assert bad.code == 2 and "no column 'broke'" in bad.err
    named = re.findall(r"--[a-z-]+", bad.err)
    assert named and all(f"--{n}" in named for n in ("case-col", "failed-col"))
    help_text = cli("empirical", "--help").out
    assert all(option in help_text for option in named)


def test_histogram_counts_match_a_row_count(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    fails = rng.random((500, 4)) < [0.1, 0.3, 0.5, 0.05]
    path = tmp_path / "wide.parquet"
    pq.write_table(
        pa.table({"case": np.arange(500), **{f"L{i}": fails[:, i] for i in range(4)}}), path
    )
    h = read(LogSpec(wide=True), [path])
    patterns = Counter(int((row * (1 << np.arange(4))).sum()) for row in fails)
    assert _as_dict(h) == {p: float(c) for p, c in patterns.items()}


@pytest.mark.parametrize("bad", ["2", "-1", "0.5", ""])
def test_wide_numeric_columns_must_be_zero_or_one(tmp_path: Path, bad: str) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(f"case,a,b\n1,1,0\n2,{bad},1\n3,0,0\n")
    with pytest.raises(InputError):
        read(LogSpec(wide=True), [path])


def test_wide_booleans_and_passed_polarity(tmp_path: Path) -> None:
    path = tmp_path / "wide.parquet"
    pq.write_table(
        pa.table(
            {"case": [1, 2, 3, 4], "a": [True, True, False, False], "b": [True, False, False, True]}
        ),
        path,
    )
    assert _as_dict(read(LogSpec(wide=True), [path])) == EXPECTED
    inverted = read(LogSpec(wide=True, polarity="passed"), [path])
    assert _as_dict(inverted) == {3 - p: c for p, c in EXPECTED.items()}

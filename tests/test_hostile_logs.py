"""Hostile logs, second pass (issue 30, items 2 and 3): an unterminated quote in a CSV log, and
numbers given as strings where a JSON reader wants numbers. Each is one line naming the file
(and line), exit 2, nothing written; generated variants run deterministically here and with
random seeds under ``make fuzz-long`` (the ``any_`` tests)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Run, one_line_error

Cli = Callable[..., Run]
SETTINGS = settings(max_examples=40, derandomize=True, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip


def test_an_unterminated_quote_in_a_log_is_refused_with_its_line(cli: Cli, tmp_path: Path) -> None:
    """The matrix reader already refused this file; the log reader read a layer named '"a'."""
    log = tmp_path / "log.csv"
    log.write_text('case,layer,failed\n1,"a,1\n1,b,0\n2,a,1\n2,b,1\n')
    one_line_error(cli("empirical", str(log)), f"{log}:5: invalid CSV: unexpected end of data")
    matrix = tmp_path / "m.csv"
    matrix.write_text('layer,S-TAX\n1,"a\n')
    one_line_error(cli("validate", str(matrix)), "invalid CSV: unexpected end of data")


@SETTINGS
@given(
    rows=st.lists(st.tuples(st.integers(0, 5), st.sampled_from("ab"), st.integers(0, 1)),
                  min_size=1, max_size=12),
    at=st.integers(0, 11),
    where=st.sampled_from(["case", "layer", "failed"]),
    wide=st.booleans(),
)  # fmt: skip
def test_any_quote_left_open_is_one_line(
    cli: Cli, tmp_path: Path, rows: list[tuple[int, str, int]], at: int, where: str, wide: bool
) -> None:
    lines = [f"{c},{layer},{f}" for c, layer, f in rows]
    k = at % len(lines)
    fields = lines[k].split(",")
    fields[["case", "layer", "failed"].index(where)] = (
        '"' + fields[["case", "layer", "failed"].index(where)]
    )
    lines[k] = ",".join(fields)
    log = tmp_path / "q.csv"
    log.write_text("case,layer,failed\n" + "\n".join(lines) + "\n")
    r = cli("empirical", str(log), "--n-boot", "100", *(["--wide"] if wide else []))
    one_line_error(r, str(log))
    assert '"' not in r.out  # no layer or case named with a stray quote, ever


def _garak(tmp_path: Path, value: object) -> Path:
    lines = [{"entry_type": "start_run setup", "plugins.model_name": "m"},
             {"entry_type": "attempt", "status": 2, "seq": 0, "probe_classname": "dan.Dan",
              "detector_results": {"dan.DAN": value}}]  # fmt: skip
    path = tmp_path / "r.report.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


@pytest.mark.parametrize("value", [["0.9"], [["0.9"]], [True], ["high"], [{"s": 0.9}]])
def test_a_garak_score_that_is_not_a_number_names_file_line_and_detector(
    cli: Cli, tmp_path: Path, value: object
) -> None:
    path = _garak(tmp_path, value)
    one_line_error(cli("empirical", str(path)), f"{path.name}:2: detector_results.dan.DAN",
                   "expected a number")  # fmt: skip


@SETTINGS
@given(st.lists(st.one_of(st.floats(0, 1), st.text(max_size=4), st.booleans()), min_size=1,
                max_size=4))  # fmt: skip
def test_any_garak_detector_list_is_read_or_refused_by_name(
    cli: Cli, tmp_path: Path, value: list[object]
) -> None:
    r = cli("empirical", str(_garak(tmp_path, value)), "-f", "json", "--n-boot", "100")
    numbers = all(isinstance(v, float) for v in value)
    if numbers:
        assert r.code in (0, 2)  # 2 only for a log too small to analyse, never a traceback
        if r.code == 2:
            one_line_error(r)
    else:
        one_line_error(r, "detector_results.dan.DAN", "expected a number")


def test_a_promptfoo_score_as_a_string_is_refused_in_a_scored_read(
    cli: Cli, tmp_path: Path
) -> None:
    results = [{"testIdx": i, "provider": {"id": "p"}, "success": True, "score": s}
               for i, s in enumerate([0.9, "0.1"])]  # fmt: skip
    path = tmp_path / "pf.json"
    path.write_text(json.dumps({"results": {"results": results}}))
    one_line_error(cli("scores", str(path), "--honest", str(path), "--budget", "10%"),
                   "results[1].score: expected a number, got '0.1'")  # fmt: skip

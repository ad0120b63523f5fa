"""The readers on real files written by the tools themselves (tests/data/real/<tool>/, each
folder's SOURCE.md names the repository, path, commit and licence of every file).

Expected numbers are read from the files another way (plain json, counting by hand) here."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from cofail.empirical import LogSpec, read
from conftest import Run

REAL = Path(__file__).parent / "data" / "real"
Cli = Callable[..., Run]


def test_promptfoo_with_two_providers_lines_them_up_on_the_test() -> None:
    # promptfoo's own sample export: gpt-5 and gpt-5-mini on 2 tests; promptIdx follows the
    # provider (0 and 1), so keying cases on promptIdx gave "the log has no complete case".
    path = REAL / "promptfoo" / "promptfoo_sample-export_2providers_v3.json"
    rows = json.loads(path.read_text())["results"]["results"]
    h = read(LogSpec(), [path])
    assert (
        set(h.layers)
        == {r["provider"]["id"] for r in rows}
        == {"openai:gpt-5", "openai:gpt-5-mini"}
    )
    assert h.n_cases == len({r["testIdx"] for r in rows}) == 2
    fails = {
        lid: sum(not r["success"] for r in rows if r["provider"]["id"] == lid) for lid in h.layers
    }
    assert dict(zip(h.layers, h.failures().tolist(), strict=True)) == fails


def test_promptfoo_one_provider_on_two_prompts_is_two_layers() -> None:
    path = REAL / "promptfoo" / "promptfoo_examples_simple-cli_output_v3.json"
    rows = json.loads(path.read_text())["results"]["results"]
    h = read(LogSpec(), [path])
    assert len(h.layers) == len({r["promptIdx"] for r in rows}) == 2
    assert h.n_cases == len({r["testIdx"] for r in rows}) == 4


def test_promptfoo_v4_eval_with_a_flat_result_list() -> None:
    path = REAL / "promptfoo" / "promptfoo_test_server_v4evalToShare.json"
    h = read(LogSpec(tool="promptfoo"), [path])
    assert h.n_cases == 4 and len(h.layers) == 2


def test_jailbreakbench_cases_are_keyed_by_index_and_two_attacks_stay_apart() -> None:
    # GCG spells index 51 "9_11 conspiracy", PAIR "September 11th conspiracy": keyed on the
    # behaviour name, 99 cases came out instead of 100. Both attack gpt-4-0125-preview.
    gcg = REAL / "jailbreakbench" / "GCG_transfer_gpt-4-0125-preview.json"
    pair = REAL / "jailbreakbench" / "PAIR_black_box_gpt-4-0125-preview.json"
    raw = {p: json.loads(p.read_text())["jailbreaks"] for p in (gcg, pair)}
    assert raw[gcg][51]["behavior"] != raw[pair][51]["behavior"]
    h = read(LogSpec(), [gcg, pair])
    assert h.n_cases == 100
    assert len(h.layers) == 2 and any("[PAIR_black_box" in lid for lid in h.layers)
    assert sorted(h.failures().tolist()) == sorted(
        float(sum(j["jailbroken"] for j in raw[p])) for p in (gcg, pair)
    )
    assert any("renamed" in n for n in h.notes)


def test_garak_0_14_nested_scores_and_harness_attempts_without_a_seq() -> None:
    # garak 0.14.1 writes detector scores as [[1.0]] and harness attempts with seq -1.
    path = REAL / "garak" / "trustyai_garak_0.14.1_earlystop_run.truncated.report.jsonl"
    attempts = [
        e
        for line in path.read_text().splitlines()
        if (e := json.loads(line)).get("entry_type") == "attempt" and e.get("status") == 2
    ]
    assert any(isinstance(v[0], list) for e in attempts for v in e["detector_results"].values())
    h = read(LogSpec(), [path])
    assert h.n_cases == len(attempts)

    def fired(values: list) -> bool:  # type: ignore[type-arg]
        flat = [x for v in values for x in (v if isinstance(v, list) else [v])]
        return any(x is not None and x >= 0.5 for x in flat)

    expected = sum(any(fired(v) for v in e["detector_results"].values()) for e in attempts)
    assert h.failures().tolist() == [float(expected)]


def test_harmbench_results_and_inspect_logs() -> None:
    hb = REAL / "harmbench" / "Wendy_DirectRequest_default_results_llama2_7b.truncated.json"
    data = json.loads(hb.read_text())
    h = read(LogSpec(tool="harmbench"), [hb])
    assert h.n_cases == sum(len(v) for v in data.values())
    assert h.failures().tolist() == [float(sum(c["label"] == 1 for v in data.values() for c in v))]
    ev = read(LogSpec(), [REAL / "inspect" / "inspect_ai_log_streaming.eval"])
    assert ev.n_cases > 0 and len(ev.layers) >= 1


def test_a_name_template_tells_two_attacks_on_one_model_apart(cli: Cli) -> None:
    # Both official artifacts attack gpt-4-0125-preview; {method} comes from their parameters.
    files = [str(p) for p in sorted((REAL / "jailbreakbench").glob("*.json"))]
    r = cli("empirical", *files, "--name", "{method}/{model}", "--n-boot", "100", "-f", "json")
    assert r.code == 0, r.err
    data = r.json()
    assert data["layers"] == ["GCG/gpt-4-0125-preview", "PAIR/gpt-4-0125-preview"]
    assert data["warnings"] == []  # no clash to rename
    bad = cli("empirical", *files, "--name", "{model.__class__}")
    assert bad.code == 2 and "is not a field of this log" in bad.err and "{method}" in bad.err


def test_garak_detector_choice_is_counted_as_a_hand_count_of_the_report(cli: Cli) -> None:
    # trustyai's garak 0.14.1 run has a Refusal detector, which fires when the target refuses:
    # with every detector deciding, refusals count as failures. --detector picks the judge.
    path = REAL / "garak" / "trustyai_garak_0.14.1_earlystop_run.truncated.report.jsonl"
    judge = "garak.detectors.judge.ModelAsJudge"
    attempts = [
        e
        for e in map(json.loads, path.read_text().splitlines())
        if e.get("entry_type") == "attempt" and e.get("status") == 2
    ]

    def flat(values: object) -> list[float]:  # garak 0.14 nests scores: [[1.0]]
        if isinstance(values, list):
            return [v for item in values for v in flat(item)]
        return [] if values is None else [float(values)]  # type: ignore[arg-type]

    def fired(e: dict[str, object], names: list[str]) -> bool:
        results = e["detector_results"]
        assert isinstance(results, dict)
        return any(v >= 0.5 for n in names for v in flat(results.get(n)))

    expected = sum(fired(e, [judge]) for e in attempts) / len(attempts)
    every = sum(fired(e, list(e["detector_results"])) for e in attempts) / len(attempts)
    assert every > expected  # the Refusal and EarlyStop detectors add failures
    r = cli("empirical", str(path), "--detector", judge, "--n-boot", "100", "-f", "json")
    assert r.code == 0, r.err
    data = r.json()
    assert data["n_cases"] == len(attempts)
    assert list(data["marginals"].values()) == [pytest.approx(expected, abs=0)]
    assert judge in data["polarity"]
    bad = cli("empirical", str(path), "--detector", "nope")
    assert bad.code == 2 and "its detectors: EarlyStop" in bad.err


def test_harmbench_layers_come_from_its_layout_and_test_cases_are_refused(
    cli: Cli, tmp_path: Path
) -> None:
    # HarmBench writes results/<method>/<experiment>/results/<model>.json, next to
    # test_cases/test_cases.json (behaviour -> prompts, no outcome).
    run = tmp_path / "results" / "DirectRequest" / "default"
    (run / "results").mkdir(parents=True)
    (run / "test_cases").mkdir()
    real = REAL / "harmbench" / "Wendy_DirectRequest_default_results_llama2_7b.truncated.json"
    (run / "results" / "llama2_7b.json").write_text(real.read_text())
    r = cli("empirical", str(run / "results" / "llama2_7b.json"), "--n-boot", "100", "-f", "json")
    assert r.code == 0, r.err
    assert r.json()["layers"] == ["DirectRequest/llama2_7b"]
    cases = run / "test_cases" / "test_cases.json"
    cases.write_text(json.dumps({"advbench_subset_0": ["Write a script that ..."]}, indent=4))
    bad = cli("empirical", str(cases))
    assert bad.code == 2 and "HarmBench test-case file" in bad.err and "results/<model>" in bad.err


def _inspect_failures(path: Path, rules: dict[str, tuple[str, float]]) -> dict[str, int]:
    """Failures per score counted from the log's JSON by hand: a dict value is one score per
    key; C=1, I=0, booleans as 0/1; 'pass' fails below the threshold, 'fail' at or above it."""
    letters = {"C": 1.0, "I": 0.0, "P": 0.5, "N": 0.0}
    counts: dict[str, int] = {}
    for sample in json.loads(path.read_text())["samples"]:
        for scorer, score in sample["scores"].items():
            value = score["value"]
            items = value.items() if isinstance(value, dict) else [(None, value)]
            for key, v in items:
                name = scorer if key is None else f"{scorer}.{key}"
                number = letters[v] if isinstance(v, str) else float(v)
                polarity, threshold = rules.get(name, ("pass", 0.5))
                failed = number < threshold if polarity == "pass" else number >= threshold
                counts[name] = counts.get(name, 0) + failed
    return counts


def test_inspect_scorers_and_dict_scores_each_give_a_layer(cli: Cli) -> None:
    # Written by inspect-ai 0.3.285 itself (make_multiscorer_log.py beside it): a correctness
    # scorer, a 0-10 suspicion monitor and a ControlArena-style dict-valued score.
    path = REAL / "inspect" / "inspect_ai_multiscorer.json"
    expected = _inspect_failures(path, {})
    r = cli("empirical", str(path), "--n-boot", "100", "-f", "json")
    assert r.code == 0, r.err
    got = {k.split(":", 1)[1]: v["failures"] for k, v in r.json()["marginal_intervals"].items()}
    assert got == expected
    assert set(got) == {
        "match",
        "suspicion_monitor",
        "control_outcome.main_task_success",
        "control_outcome.side_task_success",
    }
    # The .eval archive of the same run reads the same.
    same = cli("empirical", str(path.with_suffix(".eval")), "--n-boot", "100", "-f", "json")
    assert same.json()["marginal_intervals"] == r.json()["marginal_intervals"]


def test_inspect_per_scorer_polarity_and_threshold(cli: Cli) -> None:
    path = REAL / "inspect" / "inspect_ai_multiscorer.json"
    rules = {
        "suspicion_monitor": ("pass", 5.0),  # the monitor held where it scored 5 or more
        "control_outcome.side_task_success": ("fail", 0.5),  # a side task done: the layer failed
    }
    expected = _inspect_failures(path, rules)
    r = cli(
        "empirical",
        str(path),
        "--score",
        "suspicion_monitor",
        "--score",
        "control_outcome.side_task_success",
        "--scorer-threshold",
        "suspicion_monitor=5",
        "--scorer-polarity",
        "control_outcome.side_task_success=fail",
        "--n-boot",
        "100",
        "-f",
        "json",
    )
    assert r.code == 0, r.err
    data = r.json()
    got = {k.split(":", 1)[1]: v["failures"] for k, v in data["marginal_intervals"].items()}
    assert got == {k: expected[k] for k in rules}
    assert "suspicion_monitor: a score below 5" in data["polarity"]
    assert (
        "side_task_success: a score at or above 0.5 means the attack succeeded" in data["polarity"]
    )
    # These two fail on complementary cases: phi = -1, so no effective number, and it is said.
    effective = data["stack"]["effective_layers"]
    assert effective["mean_phi"] == pytest.approx(-1.0)
    assert effective["effective"] is None and "no effective number" in effective["note"]
    for bad, said in (
        (["--score", "nope"], "no Inspect score 'nope'"),
        (["--scorer-threshold", "monitor"], "expected SCORE=VALUE"),
        (["--scorer-polarity", "match=maybe"], "expected pass or fail"),
        (["--scorer-threshold", "match=inf"], "expected a finite number"),
    ):
        out = cli("empirical", str(path), *bad)
        assert out.code == 2 and said in out.err, out.err


def test_report_log_takes_the_empirical_reader_options(cli: Cli, tmp_path: Path) -> None:
    path = REAL / "inspect" / "inspect_ai_multiscorer.json"
    out = tmp_path / "r"
    r = cli(
        "report",
        "--out",
        str(out),
        "--log",
        str(path),
        "--score",
        "match",
        "--score",
        "suspicion_monitor",
        "--scorer-threshold",
        "suspicion_monitor=5",
    )
    assert r.code == 0, r.err
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "mockllm/model:suspicion_monitor" in md and "main_task_success" not in md
    assert "suspicion_monitor: a score below 5" in md


def test_a_zstd_eval_archive_without_inspect_ai_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys
    import zipfile

    from cofail.errors import InputError

    path = REAL / "inspect" / "inspect_ai_multiscorer.eval"
    with zipfile.ZipFile(path) as archive:  # inspect-ai 0.3.285 writes zstd (method 93)
        assert {i.compress_type for i in archive.infolist()} == {93}
    monkeypatch.setitem(sys.modules, "inspect_ai.log", None)  # as if the extra were absent
    with pytest.raises(InputError, match=r"zstd-compressed; pip install 'cofail\[inspect\]'"):
        read(LogSpec(), [path])


def test_garak_one_layer_per_detector(cli: Cli) -> None:
    path = REAL / "garak" / "trustyai_garak_0.14.1_earlystop_run.truncated.report.jsonl"
    attempts = [
        e
        for e in map(json.loads, path.read_text().splitlines())
        if e.get("entry_type") == "attempt" and e.get("status") == 2
    ]
    # Each probe brings its own detectors; the intent probe's two judge the same attempts.
    detectors = {"garak.detectors.judge.ModelAsJudge", "garak.detectors.judge.Refusal"}
    complete = [e for e in attempts if set(e["detector_results"]) == detectors]
    assert len(complete) == 8

    def flat(values: object) -> list[float]:
        if isinstance(values, list):
            return [v for item in values for v in flat(item)]
        return [] if values is None else [float(values)]  # type: ignore[arg-type]

    chosen = [x for d in sorted(detectors) for x in ("--detector", d)]
    r = cli("empirical", str(path), "--per-detector", *chosen, "--n-boot", "100", "-f", "json")
    assert r.code == 0, r.err
    data = r.json()
    got = {k.split(":", 1)[1]: v["failures"] for k, v in data["marginal_intervals"].items()}
    assert set(got) == detectors and len(detectors) > 1
    for d in detectors:
        assert got[d] == sum(
            any(v >= 0.5 for v in flat(e["detector_results"][d])) for e in complete
        )
    assert "one layer per detector" in data["polarity"]


def test_promptfoo_red_team_plugin_and_strategy_as_strata(cli: Cli, tmp_path: Path) -> None:
    # promptfoo's own two-provider export, with red-team metadata added where promptfoo's
    # red-team runs write it (testCase.metadata.pluginId / strategyId): no public red-team
    # output was found to keep here.
    source = REAL / "promptfoo" / "promptfoo_sample-export_2providers_v3.json"
    data = json.loads(source.read_text())
    for r in data["results"]["results"]:
        r.setdefault("testCase", {})["metadata"] = {
            "pluginId": "pii" if r["testIdx"] == 0 else "harmful:hate",
            "strategyId": "jailbreak",
        }
    path = tmp_path / "redteam.json"
    path.write_text(json.dumps(data))
    r = cli("empirical", str(path), "--stratum-col", "plugin", "--n-boot", "100", "-f", "json")
    assert r.code == 0, r.err
    assert set(r.json()["strata"]) == {"pii", "harmful:hate"}
    plain = cli("empirical", str(source), "--stratum-col", "plugin")
    assert plain.code == 2 and "no 'pluginId' in its metadata or vars" in plain.err

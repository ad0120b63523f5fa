"""cofail case: the GSN argument's structure, its figures against the CLI's, and the command."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from cofail import catalog
from cofail.case import (
    SafetyCase,
    build_case,
    build_deployment,
    check_gsn2x,
    check_gsn2x_modules,
    dumps_gsn2x,
    dumps_ltac,
    dumps_ltac_modules,
)
from cofail.empirical import PatternHistogram, analyse
from cofail.errors import InputError
from cofail.model import Matrix, Stack
from cofail.probability import Scenario
from conftest import Run, one_line_error

Cli = Callable[..., Run]
PAPER = catalog.load()


def case_of(
    stack: str, matrix: Matrix = PAPER, *, uncertain: str = "pessimistic", **kw: object
) -> SafetyCase:
    scenario = Scenario.parse(None, None, uncertain).for_matrix(matrix)
    return build_case(matrix, Stack.parse(stack, matrix), scenario, **kw)


def certain_matrix() -> Matrix:
    return Matrix(
        id="certain",
        version="1",
        failure_modes=[{"id": "A"}, {"id": "B"}],
        layers=[{"id": "L1"}, {"id": "L2"}],
        cells={"L1": {"A": "V", "B": "N"}, "L2": {"A": "N", "B": "N"}},
    )


def counts_log(both: int, first: int, second: int, none: int) -> PatternHistogram:
    return PatternHistogram.from_counts(
        ("DEBATE", "RE"), {"": {0b11: both, 0b01: first, 0b10: second, 0b00: none}}
    )


WRITTEN = [
    ("DEBATE,RE", {}),
    ("DEBATE,RE", {"target": 0.1}),
    ("DEBATE,RE", {"target": 0.5}),
    ("DEBATE,RE", {"uncertain": "optimistic"}),
    ("DEBATE,RE", {"uncertain": "0.3", "target": 0.01}),
    ("RLHF,RLAIF,W2S", {}),
    ("SCI-AI", {}),
    ("IDA,RE", {"target": 0.2}),
    ("all", {}),
    ("DEBATE,RE", {"log": (60, 40, 20, 280)}),
    ("DEBATE,RE", {"log": (500, 0, 0, 500), "target": 0.3}),
    ("DEBATE,RE", {"log": (1, 99, 99, 801)}),
]


@pytest.mark.parametrize(("stack", "options"), WRITTEN, ids=lambda x: str(x))
def test_every_case_cofail_writes_passes_gsn2x_checks(stack: str, options: dict) -> None:
    options = dict(options)
    if "log" in options:
        h = counts_log(*options.pop("log"))
        options.update(histogram=h, analysis=analyse(h, n_boot=200))
    text = dumps_gsn2x(case_of(stack, **options))
    assert check_gsn2x(text, extended_check=True) == []
    assert text == dumps_gsn2x(case_of(stack, **options))  # stable: a diff shows what changed


def test_a_matrix_without_u_cells_passes_too() -> None:
    case = case_of("L1,L2", certain_matrix())
    assert check_gsn2x(dumps_gsn2x(case)) == []
    assert "no U cells" in case.node("Sn3").text


def test_the_same_inputs_give_the_same_bytes() -> None:
    h = counts_log(60, 40, 20, 280)
    texts = {
        dumps_gsn2x(case_of("DEBATE,RE", histogram=h, analysis=analyse(h, n_boot=300)))
        for _ in range(2)
    }
    assert len(texts) == 1


def test_a_target_the_stack_misses_is_defeated_not_claimed() -> None:
    case = case_of("DEBATE,RE", target=0.1)  # the exact P is 0.1408
    top = case.top
    assert top.text == "P(DEBATE+RE fails) ≤ 0.1 under the scenario"
    assert top.defeated and "Sn0" not in top.supported_by
    assert case.node("CG0").challenges == "G0"
    assert "0.1408, above the target 0.1" in case.node("CG0").text
    met = case_of("DEBATE,RE", target=0.2)
    assert not met.top.defeated and "Sn0" in met.top.supported_by


def test_without_a_target_the_top_goal_states_the_figure() -> None:
    assert case_of("DEBATE,RE").top.text == "P(DEBATE+RE fails) = 0.1408 under the scenario"


def test_an_uncovered_mode_is_a_visible_gap_with_its_defeater() -> None:
    case = case_of("DEBATE,RE")
    gap = case.node("G1-AL-GEN")
    assert gap.undeveloped and gap.defeated
    assert case.node("CG1-AL-GEN").challenges == "G1-AL-GEN"
    assert case.node("CG1").challenges == "G1" and case.node("G1").defeated
    assert "DEBATE V" in case.node("CSn1-AL-GEN").text and "RE V" in case.node("CSn1-AL-GEN").text


def test_a_fragile_mode_rests_on_an_assumption_about_its_one_layer() -> None:
    case = case_of("DEBATE,RE")
    goal = case.node("G1-DEC-AL")
    assert goal.text == "DEC-AL is caught by DEBATE alone (fragile)"
    assert goal.in_context_of == ("A1-DEC-AL",)
    assert case.node("A1-DEC-AL").text.startswith("DEBATE holds against DEC-AL")


def test_a_conclusion_that_flips_with_a_u_cell_is_defeated() -> None:
    case = case_of("IDA,RE")
    assert case.node("G3-uncovered").defeated
    defeater = case.node("CG3-uncovered")
    assert defeater.challenges == "G3-uncovered" and "IDA×DEC-AL" in defeater.text
    assert "J3-depth" in case.node("G3-depth").in_context_of  # depth holds in all 16


def test_measured_co_failure_above_independence_defeats_the_independence_assumption() -> None:
    h = counts_log(500, 0, 0, 500)  # the layers always fail together
    case = case_of("DEBATE,RE", histogram=h, analysis=analyse(h, n_boot=200))
    assert case.node("A4").defeated and case.node("CG4").challenges == "A4"
    # 0.5 measured against the model's exact 0.1408: the model misses some dependence
    assert case.node("G4").defeated and case.node("CG5").challenges == "G4"


def test_a_log_consistent_with_independence_raises_no_defeater() -> None:
    h = counts_log(1, 99, 99, 801)  # 0.001 joint; independence gives 0.01
    case = case_of("DEBATE,RE", histogram=h, analysis=analyse(h, n_boot=200))
    ids = {n.id for n in case}
    assert "CG4" not in ids and "CG5" not in ids and not case.node("A4").defeated


def test_a_log_without_the_stack_s_layers_is_refused() -> None:
    h = PatternHistogram.from_counts(("a", "b"), {"": {0: 5, 3: 5}})
    with pytest.raises(InputError, match="no layer 'DEBATE'"):
        case_of("DEBATE,RE", histogram=h, analysis=analyse(h, n_boot=100))


# -- every figure is the CLI's --------------------------------------------------------------


def layers_of(path: Path) -> dict[str, dict[str, object]]:
    loaded = yaml.safe_load(path.read_text())
    loaded.pop("module")
    return loaded


def write_log(path: Path) -> Path:
    rows = [(1, 1)] * 60 + [(1, 0)] * 40 + [(0, 1)] * 20 + [(0, 0)] * 280
    path.write_text("case,DEBATE,RE\n" + "".join(f"{i},{a},{b}\n" for i, (a, b) in enumerate(rows)))
    return path


def test_the_figures_are_the_ones_the_commands_print(cli: Cli, tmp_path: Path) -> None:
    log = write_log(tmp_path / "log.csv")
    out = tmp_path / "case.gsn.yaml"
    scenario = ("--p", "0.2", "--residual", "RE=0.05", "--uncertain", "optimistic")
    r = cli("case", "--stack", "DEBATE,RE", *scenario, "--log", str(log), "--wide",
            "--out", str(out), "-f", "json")  # fmt: skip
    assert r.code == 0, r.err
    case = layers_of(out)
    risk = cli("risk", "--stack", "DEBATE,RE", *scenario, "-f", "json", "--no-importance").json()
    for key in ("probability", "independent", "ratio"):
        assert float(case["G0"][key]) == risk[key]
    audit = cli("audit", "--stack", "DEBATE,RE", "-u", "optimistic", "-f", "json").json()
    assert case["CSn1"]["depth"] == str(audit["depth"])
    assert case["CSn1"]["uncovered"] == ", ".join(audit["uncovered"])
    assert case["CSn1"]["cut sets"] == "; ".join("+".join(c) for c in audit["cut_sets"])
    assert case["Sn2"]["fragile"] == "; ".join(f"{m}: {lid}" for m, lid in audit["fragile"].items())
    robust = cli("robustness", "--stack", "DEBATE,RE", "-f", "json").json()
    by_id = {c["id"]: c for c in robust["conclusions"]}
    for key in ("depth", "uncovered"):
        c = by_id[f"{key}:DEBATE+RE"]
        assert case[f"Sn3-{key}"]["holds in"] == str(c["holds_in"])
        assert case[f"Sn3-{key}"]["resolutions"] == str(c["resolutions"])
    measured = cli("empirical", str(log), "--wide", "--stack", "DEBATE,RE", "-f", "json").json()
    stack = measured["stack"]
    sn4 = case["Sn4"]
    assert float(sn4["observed"]) == stack["observed"]
    assert float(sn4["ratio"]) == stack["ratio"]
    assert json.loads(sn4["observed interval"]) == stack["interval"]["observed"]
    assert json.loads(sn4["ratio interval"]) == stack["interval"]["ratio"]
    eff = stack["effective_layers"]
    assert float(sn4["effective layers"]) == eff["effective"]
    assert json.loads(sn4["effective layers interval"]) == eff["interval"]["effective"]


# -- the command ----------------------------------------------------------------------------


def test_case_writes_the_file_and_a_json_summary(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "case.gsn.yaml"
    r = cli("case", "--stack", "DEBATE,RE", "--target", "0.1", "--out", str(out), "-f", "json")
    assert r.code == 0, r.err
    data = r.json()
    assert data["wrote"] == str(out) and data["matrix"] == "dung-mai-2025"
    assert data["target"] == 0.1 and "G0" in data["defeated"]
    assert {"id": "CG0", "challenges": "G0"}.items() <= data["defeaters"][0].items()
    assert data["warnings"] == []
    assert check_gsn2x(out.read_text()) == []
    stdout = cli("case", "--stack", "DEBATE,RE", "--target", "0.1")
    assert stdout.out == out.read_text()


def test_case_refuses_to_overwrite_without_force(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "case.gsn.yaml"
    out.write_text("mine")
    one_line_error(cli("case", "--stack", "DEBATE,RE", "--out", str(out)), "--force")
    assert out.read_text() == "mine"
    assert cli("case", "--stack", "DEBATE,RE", "--out", str(out), "--force").code == 0
    assert out.read_text().startswith("module:")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--stack", "DEBATE,RE", "--target", "1.5"), "--target"),
        (("--stack", "DEBATE,RE", "--target", "0"), "--target"),
        (("--stack", "DEBATE,RE", "--target", "nan"), "--target"),
        (("--stack", ""), "stack"),
        (("--stack", "DEBATE,NOPE"), "NOPE"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    cli: Cli, tmp_path: Path, args: tuple[str, ...], needle: str
) -> None:
    out = tmp_path / "case.gsn.yaml"
    one_line_error(cli("case", *args, "--out", str(out)), needle)
    assert not out.exists()


def test_a_log_of_other_layers_is_one_line_and_writes_nothing(cli: Cli, tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    log.write_text("case,a,b\n0,1,0\n1,0,1\n")
    out = tmp_path / "case.gsn.yaml"
    r = cli("case", "--stack", "DEBATE,RE", "--log", str(log), "--wide", "--out", str(out))
    one_line_error(r, "DEBATE")
    assert not out.exists()


# -- LTAC, checked by verocase itself -------------------------------------------------------


def verocase_validate(path: Path) -> subprocess.CompletedProcess[str]:
    pytest.importorskip("verocase", reason="verocase (dev extra) is not installed")
    # `python -m verocase`, not the `verocase` script: 0.7.2's script passes main()'s True
    # (success) to sys.exit, so it exits 1 on a valid file; its __main__ block exits right.
    return subprocess.run(
        [sys.executable, "-m", "verocase", "--ltac", str(path), "--validate", "--error"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_verocase_refuses_what_it_should(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ltac"  # two statuses on one element (SACM section 11)
    bad.write_text("- Claim G0: top {needsSupport, defeated}\n")
    assert verocase_validate(bad).returncode == 1


@pytest.mark.parametrize(("stack", "options"), WRITTEN, ids=lambda x: str(x))
def test_every_case_cofail_writes_as_ltac_passes_verocase(
    stack: str, options: dict, tmp_path: Path
) -> None:
    options = dict(options)
    if "log" in options:
        h = counts_log(*options.pop("log"))
        options.update(histogram=h, analysis=analyse(h, n_boot=200))
    path = tmp_path / "case.ltac"
    path.write_text(dumps_ltac(case_of(stack, **options)))
    r = verocase_validate(path)
    assert (r.returncode, r.stderr) == (0, "")


def test_case_to_ltac_writes_what_verocase_validates(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "case.ltac"
    r = cli("case", "--stack", "DEBATE,RE", "--target", "0.1", "--to", "ltac", "--out", str(out))
    assert r.code == 0, r.err
    text = out.read_text()
    assert text.startswith("- Claim G0: P(DEBATE+RE fails) ≤ 0.1 under the scenario {defeated}")
    assert "  - Claim CG0: The exact P(DEBATE+RE fails) is 0.1408" in text
    assert verocase_validate(out).returncode == 0
    one_line_error(cli("case", "--stack", "DEBATE,RE", "--to", "dot"), "--to")


# -- a fit's contradicted cells -------------------------------------------------------------


def test_a_contradicted_cell_defeats_its_evidence(tmp_path: Path) -> None:
    contradicted = [
        {"layer": "RE", "modes": ["COLL"], "judged": "N", "q": 0.4, "p_value": 1e-9,
         "kind": "N, but the layer fails", "evidence": "likelihood ratio 40"},
        {"layer": "DEBATE", "modes": ["AL-GEN"], "judged": "V", "q": 0.2, "p_value": 1e-4,
         "kind": "V, but rarely", "evidence": "likelihood ratio 12"},
        {"layer": "SCI-AI", "modes": ["COLL"], "judged": "N", "q": 0.3, "p_value": 1e-5,
         "kind": "not in the stack", "evidence": "-"},
    ]  # fmt: skip
    case = case_of("DEBATE,RE", contradicted=contradicted)
    assert case.node("Sn1-COLL").defeated and case.node("CG6-RE-COLL").challenges == "Sn1-COLL"
    assert case.node("CG6-DEBATE-AL-GEN").challenges == "CSn1-AL-GEN"  # an uncovered mode's
    assert "CG6-SCI-AI-COLL" not in {n.id for n in case}  # a layer outside the stack
    assert check_gsn2x(dumps_gsn2x(case), extended_check=True) == []
    path = tmp_path / "case.ltac"
    path.write_text(dumps_ltac(case))
    r = verocase_validate(path)
    assert (r.returncode, r.stderr) == (0, "")


def test_case_fit_takes_the_cells_cofail_fit_contradicts(cli: Cli, tmp_path: Path) -> None:
    import pyarrow.csv as pacsv

    from cofail.empirical import simulate

    flipped = PAPER.with_levels({("RE", "COLL"): "V"})  # the log says RE fails on COLL
    stack = Stack(layers=("DEBATE", "RE", "SCI-AI"))
    log = tmp_path / "log.csv"
    scenario = Scenario(p_default=0.2, residual_default=0.02)
    pacsv.write_csv(simulate(flipped, stack, scenario, 5000, seed=1), log)
    out = tmp_path / "case.gsn.yaml"
    r = cli("case", "--stack", "DEBATE,RE", "--log", str(log), "--wide", "--fit", "--out", str(out))
    assert r.code == 0, r.err
    fitted = cli("fit", str(log), "--wide", "-m", "dung-mai-2025", "-f", "json").json()
    ours = [c for c in fitted["contradicted"] if c["layer"] in ("DEBATE", "RE")]
    assert ours, "the flipped cell should be contradicted"
    case = layers_of(out)
    for c in ours:
        node = case[f"CSn6-{c['layer']}-{c['modes'][0]}"]
        assert float(node["q"]) == c["q"] and float(node["p value"]) == c["p_value"]
    one_line_error(cli("case", "--stack", "DEBATE,RE", "--fit"), "--log")


# -- a deployment as modules ----------------------------------------------------------------


def deployment(matrix: Matrix = PAPER, **parts: str) -> tuple[SafetyCase, ...]:
    stacks = {name: Stack.parse(layers, matrix) for name, layers in parts.items()}
    return build_deployment(matrix, stacks, Scenario().for_matrix(matrix), target=0.05)


def test_a_deployment_s_modules_pass_gsn2x_checks_together() -> None:
    cases = deployment(input="RLHF,W2S", output="DEBATE,RE")
    files = {f"{c.name}.gsn.yaml": dumps_gsn2x(c) for c in cases}
    assert check_gsn2x_modules(files, extended_check=True) == []
    assert [f.rule for f in check_gsn2x(files["deployment.gsn.yaml"])] == ["C03", "C03"]
    top = cases[0]
    assert top.uses == ("input.gsn.yaml", "output.gsn.yaml")
    assert top.node("S0").supported_by == ("G0.input", "G0.output")
    assert all(n.id.endswith(".output") for n in cases[2])


def test_shared_modes_defeat_the_subsystems_independence(cli: Cli) -> None:
    top = deployment(input="RLHF,W2S", output="DEBATE,RE")[0]
    assert top.node("A5").defeated and top.node("CG7").challenges == "A5"
    figures = top.node("CSn7").layers
    whole = cli("risk", "--stack", "RLHF,W2S,DEBATE,RE", "-f", "json", "--no-importance").json()
    assert float(figures["probability"]) == whole["probability"]
    for name, layers in (("input", "RLHF,W2S"), ("output", "DEBATE,RE")):
        part = cli("risk", "--stack", layers, "-f", "json", "--no-importance").json()
        assert float(figures[f"P {name}"]) == part["probability"]


def test_subsystems_without_a_shared_mode_keep_their_independence() -> None:
    top = deployment(certain_matrix(), a="L1", b="L2")[0]
    assert not top.node("A5").defeated and "CG7" not in {n.id for n in top}


def test_a_layer_in_two_subsystems_is_refused() -> None:
    with pytest.raises(InputError, match="RE is in two subsystems"):
        deployment(input="RLHF,RE", output="DEBATE,RE")


def test_a_deployment_as_ltac_passes_verocase(tmp_path: Path) -> None:
    path = tmp_path / "case.ltac"
    path.write_text(dumps_ltac_modules(deployment(input="RLHF,W2S", output="DEBATE,RE")))
    assert "    - Claim ^G0.input\n" in path.read_text()
    r = verocase_validate(path)
    assert (r.returncode, r.stderr) == (0, "")


def test_case_subsystem_writes_one_file_per_module(cli: Cli, tmp_path: Path) -> None:
    args = ("case", "--subsystem", "input=RLHF,W2S", "--subsystem", "output=DEBATE,RE")
    r = cli(*args, "--out", str(tmp_path), "-f", "json")
    assert r.code == 0, r.err
    assert r.json()["modules"] == ["deployment", "input", "output"]
    files = {p.name: p.read_text() for p in sorted(tmp_path.glob("*.gsn.yaml"))}
    assert list(files) == ["deployment.gsn.yaml", "input.gsn.yaml", "output.gsn.yaml"]
    assert check_gsn2x_modules(files) == []
    one_line_error(cli(*args, "--out", str(tmp_path)), "--force")
    one_line_error(cli(*args), "--out")
    one_line_error(cli("case", "--stack", "RE", "--subsystem", "a=RE"), "not both")
    one_line_error(cli("case", "--subsystem", "RE", "--subsystem", "b=RLHF"), "NAME=LAYERS")


def test_the_report_draws_the_argument(tmp_path: Path) -> None:
    """`cofail case --report` writes a "Safety case" section whose SVG draws every element,
    gaps and defeaters in red, and lists where the argument does not hold."""
    from cofail.cli import main

    out = tmp_path / "rep"
    assert main(["case", "--stack", "DEBATE,RE", "--report", str(out), "--out",
                 str(tmp_path / "c.yaml")]) == 0  # fmt: skip
    svg = (out / "figures" / "safety-case.svg").read_text()
    md = (out / "report.md").read_text()
    assert "## Safety case" in md and "Where the argument does not hold" in md
    assert "CG1-AL-GEN" in md and "defeater" in md  # AL-GEN defeats the stack alone
    assert svg.count("#c0392b") >= 4  # defeated goals and their defeaters are drawn red

"""The command line: the output contract for scripts, and one-line errors for user mistakes."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from cofail.faulttree._mef import INDEPENDENCE
from cofail.io import dumps_matrix
from cofail.model import Matrix
from conftest import Run

Cli = Callable[..., Run]


def test_pipeline_stack_has_depth_one_and_five_uncovered_modes(cli: Cli) -> None:
    r = cli("audit", "--stack", "RLHF,RLAIF,W2S", "--format", "json")
    assert r.code == 0
    data = r.json()
    assert data["stack"] == ["RLHF", "RLAIF", "W2S"]
    assert data["depth"] == 1
    assert data["uncovered"] == ["CAP-DEV", "DEC-AL", "EM-MIS", "EVAL-DIFF", "AL-GEN"]
    assert data["cut_sets"] == [[m] for m in data["uncovered"]]
    assert data["uncertain"] == "pessimistic"


def test_debate_plus_re_leaves_only_al_gen(cli: Cli) -> None:
    data = cli("audit", "--stack", "DEBATE,RE", "--format", "json").json()
    assert data["uncovered"] == ["AL-GEN"]
    assert data["depth"] == 1
    orders = [len(c) for c in data["cut_sets"]]
    assert orders == sorted(orders)


def test_uncertain_policy_is_applied_and_reported(cli: Cli) -> None:
    pess = cli("audit", "--stack", "SCI-AI,IDA", "-f", "json").json()
    opt = cli("audit", "--stack", "SCI-AI,IDA", "-f", "json", "--uncertain", "optimistic").json()
    assert pess["uncertain"] == "pessimistic" and opt["uncertain"] == "optimistic"
    assert "U → V" in pess["assumptions"] and "U → N" in opt["assumptions"]
    assert pess["uncovered"] == ["S-TAX"] and opt["uncovered"] == ["S-TAX"]
    # SCI-AI × CAP-DEV and IDA × DEC-AL are U: pessimism adds cut sets.
    assert len(pess["cut_sets"]) > len(opt["cut_sets"])


@pytest.mark.parametrize(
    "args",
    [
        ["show"],
        ["overlap"],
        ["overlap", "--stack", "RLHF,RE,IDA"],
        ["audit", "--stack", "all"],
        ["audit", "--size", "3"],
        ["audit", "--stack", "all", "--k", "5"],
        ["claims"],
        ["catalogs"],
    ],
)
@pytest.mark.parametrize("fmt", ["table", "json", "csv", "md"])
def test_every_command_renders_every_format(cli: Cli, args: list[str], fmt: str) -> None:
    r = cli(*args, "--format", fmt)
    assert r.code == 0, r.err
    assert r.out.strip()
    if fmt == "json":
        assert isinstance(r.json(), dict)


def test_size_ranking_json(cli: Cli) -> None:
    data = cli("audit", "--size", "2", "--top", "3", "-f", "json").json()
    assert [s["layers"] for s in data["stacks"]][:2] == [["RE", "SCI-AI"], ["DEBATE", "RE"]]
    assert len(data["stacks"]) == 3


def test_k_out_of_n_audit_matches_definition(cli: Cli) -> None:
    # 1-out-of-2: any single layer failing defeats it, so order-1 cut sets are the union.
    data = cli("audit", "--stack", "RE,SCI-AI", "--k", "1", "-f", "json").json()
    assert data["k"] == 1
    assert sorted(data["uncovered"]) == sorted(["S-TAX", "CAP-DEV", "DEC-AL", "COLL", "AL-GEN"])


def test_claims_json_has_all_six_supported(cli: Cli) -> None:
    data = cli("claims", "-f", "json").json()
    assert [c["verdict"] for c in data["claims"]] == ["supported"] * 6


def _assert_user_error(r: Run, *needles: str) -> None:
    assert r.code == 2, (r.out, r.err)
    assert "Traceback" not in r.err
    lines = [line for line in r.err.strip().splitlines() if line.strip()]
    assert len(lines) == 1, r.err
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_unknown_layer_id(cli: Cli) -> None:
    _assert_user_error(cli("audit", "--stack", "RLHF,NOPE"), "unknown layer 'NOPE'", "known: RLHF")
    _assert_user_error(cli("audit", "--stack", "RLHF,,RE"), "empty layer id")
    _assert_user_error(cli("audit", "--stack", "RE,re"), "listed twice")


def _write(tmp_path: Path, name: str, data: str | bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return str(path)


def test_bad_files_exit_2_with_one_line(cli: Cli, tmp_path: Path, paper: Matrix) -> None:
    good = dumps_matrix(paper, "yaml")
    cases = {
        "bad-level.yaml": (
            good.replace("level: N", "level: Q", 1),
            ["bad-level.yaml:", "cells.RLHF.S-TAX.level"],
        ),
        "dup-layer.yaml": (
            good.replace("id: RLAIF", "id: RLHF", 1),
            ["dup-layer.yaml:", "duplicate id 'RLHF'"],
        ),
        "empty.yaml": ("", ["empty.yaml: file is empty"]),
        "wrong-type.yaml": (
            good.replace("safety_tax: low", "safety_tax: [1, 2]", 1),
            ["safety_tax"],
        ),
        "wrong-top.json": ("[1, 2, 3]", ["expected a mapping"]),
        "latin1.csv": (b"layer,A\nL\xe9,V\n", ["latin1.csv:2: not UTF-8"]),
        "unknown-mode.csv": ("layer,A,B\nL1,V,N\nL2,V,Z\n", ["unknown-mode.csv:3:", "got 'Z'"]),
    }
    for name, (data, needles) in cases.items():
        path = _write(tmp_path, name, data)
        _assert_user_error(cli("validate", path), *needles)
        _assert_user_error(cli("audit", "--matrix", path), *needles)


def test_a_50_mb_file_is_refused_without_reading_it(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    with path.open("wb") as handle:
        handle.write(b"layer,A\n")
        handle.write(b"L,V\n" * (50 * 2**20 // 4))
    _assert_user_error(cli("show", "--matrix", str(path)), "huge.csv", "50.0 MiB", "at most 10 MiB")


def test_usage_errors_exit_2(cli: Cli) -> None:
    assert cli("audit", "--format", "xml").code == 2
    assert cli("audit", "--no-such-option").code == 2
    assert cli("frobnicate").code == 2
    _assert_user_error(cli("audit", "--size", "9"), "--size must be between 1 and 7")
    _assert_user_error(cli("overlap", "--method", "ward2"), "--method")
    _assert_user_error(cli("show", "--matrix", "nope.yaml"), "nope.yaml: no such file")


def test_init_validate_convert(cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "mine.yaml"
    assert cli("init", str(target)).code == 0
    before = target.read_text()
    _assert_user_error(cli("init", str(target)), "file exists")
    assert target.read_text() == before  # nothing the user had is lost
    r = cli("validate", str(target), "-f", "json")
    assert r.code == 0 and r.json()["layers"] == 2
    out_csv = tmp_path / "mine.csv"
    r = cli("convert", str(target), str(out_csv))
    assert r.code == 0 and "CSV keeps ids and levels only" in r.err
    assert out_csv.read_text().splitlines()[0] == "layer,JAILBREAK,DIST-SHIFT"
    data = cli("audit", "--matrix", str(out_csv), "--stack", "all", "-f", "json").json()
    assert data["uncovered"] == ["DIST-SHIFT"]  # U read pessimistically; q = 0.3 < 0.5


def test_python_dash_m_and_console_script(tmp_path: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "cofail", "audit", "--stack", "DEBATE,RE", "-f", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert r.returncode == 0 and json.loads(r.stdout)["uncovered"] == ["AL-GEN"]
    script = Path(sys.executable).parent / "cofail"
    if script.exists():
        r = subprocess.run(
            [str(script), "audit", "--stack", "NOPE"], capture_output=True, text=True, check=False
        )
        assert r.returncode == 2 and r.stderr.startswith("cofail: error:")


def test_the_commands_own_process_collects_garbage_while_the_command_runs() -> None:
    # main() without argv pauses the collector for the imports only, then freezes their objects.
    probe = (
        "import gc, sys; from cofail.cli import _load_for_this_process as load; "
        "run = load(['show']); print(gc.isenabled(), gc.get_freeze_count() > 1000); "
        "sys.exit(run(['show', '-f', 'json']))"
    )
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr
    first, rest = r.stdout.split("\n", 1)
    assert first == "True True" and json.loads(rest)


def test_lazy_registration_knows_every_command() -> None:
    # `cofail X` imports only X's module: the map must name every command and its module.
    import typer.main

    from cofail.cli import _root as cli

    cli.register([])  # all modules
    group = typer.main.get_group(cli.app)
    registered = {
        name: command.callback.__module__.rsplit(".", 1)[1]  # type: ignore[union-attr]
        for name, command in group.commands.items()
    }
    assert registered == cli._COMMANDS


def test_a_named_command_is_built_alone_with_the_full_apps_help(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # `cofail X` builds only X's click command; its help must be the one the full app gives.
    import typer.main

    from cofail.cli import _root as cli

    cli.register([])
    for name in cli._COMMANDS:
        alone = cli._app_for([name, "--help"])
        assert list(typer.main.get_group(alone).commands) == [name]
        capsys.readouterr()
        for app in (cli.app, alone):
            app(args=[name, "--help"], prog_name="cofail", standalone_mode=False)
        full_help, alone_help = capsys.readouterr().out.split("Usage: ", 2)[1:]
        assert alone_help == full_help, name
    assert cli._app_for(["--help"]) is cli.app and cli._app_for(["nope"]) is cli.app


def _mef(tmp: Path, name: str, body: str) -> Path:
    path = tmp / name
    path.write_text(f"<opsa-mef>{body}</opsa-mef>")
    return path


def test_mef_reports_the_mission_time_it_used(cli: Cli, tmp_path: Path) -> None:
    model = _mef(
        tmp_path,
        "pump.xml",
        '<define-fault-tree name="F"><define-gate name="top"><or><basic-event name="a"/>'
        '<basic-event name="b"/></or></define-gate></define-fault-tree><model-data>'
        '<define-basic-event name="a"><exponential><float value="1e-4"/><system-mission-time/>'
        '</exponential></define-basic-event><define-basic-event name="b"><float value="0.5"/>'
        "</define-basic-event></model-data>",
    )
    for hours in (1000.0, 8760.0):
        args = ["mef", str(model), "-f", "json"]
        r = cli(*args, *([] if hours == 8760.0 else ["--mission-time", str(hours)]))
        assert r.code == 0, r.err
        data = r.json()
        q = 1 - math.exp(-1e-4 * hours)
        assert data["probability"] == pytest.approx(1 - (1 - q) * 0.5, rel=1e-12)
        assert data["assumptions"] == [
            INDEPENDENCE,
            f"system mission time {hours:g} h (--mission-time)",
        ]


def test_mef_without_a_gate_or_with_substitutions_is_a_one_line_error(
    cli: Cli, tmp_path: Path
) -> None:
    data_only = _mef(
        tmp_path,
        "events.xml",
        '<model-data><define-basic-event name="a"><float value="0.1"/></define-basic-event>'
        "</model-data>",
    )
    r = cli("mef", str(data_only))
    assert r.code == 2
    assert "events.xml: no fault-tree gate to evaluate" in r.err
    assert "Traceback" not in r.err
    substituted = _mef(tmp_path, "sub.xml", '<define-substitution name="S"/>')
    r = cli("mef", str(substituted))
    assert r.code == 2 and "sub.xml: <define-substitution> 'S' is not supported" in r.err
    r = cli("mef", str(data_only), "--mission-time", "-1")
    assert r.code == 2 and "mission time must be" in r.err


def test_mef_uncertainty_reports_its_trials_or_says_why_not(cli: Cli, tmp_path: Path) -> None:
    body = (
        '<define-fault-tree name="F"><define-gate name="top"><or><basic-event name="a"/>'
        '<basic-event name="b"/></or></define-gate></define-fault-tree><model-data>'
        '<define-basic-event name="a"><beta-deviate><float value="2"/><float value="18"/>'
        '</beta-deviate></define-basic-event><define-basic-event name="b"><float value="0.5"/>'
        "</define-basic-event></model-data>"
    )
    model = _mef(tmp_path, "beta.xml", body)
    r = cli("mef", str(model), "--uncertainty", "500", "--seed", "4", "-f", "json")
    assert r.code == 0, r.err
    data = r.json()
    assert data["probability"] == pytest.approx(1 - 0.9 * 0.5)  # the deviate at its mean
    u = data["uncertainty"]["top"]
    assert (u["trials"], u["seed"]) == (500, 4)
    lo, hi = u["mean_95ci"]
    assert lo <= u["mean"] <= hi and u["percentiles"]["5"] <= u["percentiles"]["95"]
    fixed = _mef(tmp_path, "fixed.xml", body.replace("beta-deviate", "div"))  # 2 / 18
    r = cli("mef", str(fixed), "--uncertainty", "10")
    assert r.code == 2 and "no random deviates" in r.err


@pytest.mark.parametrize(
    "args",
    [
        ["risk", "--mc", "10"],
        ["mef", "{model}", "--monte-carlo", "10"],
        ["uncertainty", "--p-dist", "beta:2,5", "--samples", "10", "--sobol", "0"],
        ["robustness"],
        ["empirical", "{log}"],
        ["simulate", "--stack", "all", "--cases", "5", "--out", "{sim}"],
    ],
)
def test_a_negative_seed_is_a_usage_error_not_a_traceback(
    cli: Cli, tmp_path: Path, args: list[str]
) -> None:
    # NumPy refuses negative seeds with a ValueError deep in its generator.
    model = tmp_path / "m.xml"
    model.write_text(
        '<opsa-mef><define-fault-tree name="F"><define-gate name="top"><or>'
        '<basic-event name="a"/><basic-event name="b"/></or></define-gate>'
        '</define-fault-tree><model-data><define-basic-event name="a"><float value="0.1"/>'
        '</define-basic-event><define-basic-event name="b"><float value="0.2"/>'
        "</define-basic-event></model-data></opsa-mef>"
    )
    log = tmp_path / "log.csv"
    log.write_text("case,layer,failed\n1,a,1\n1,b,0\n2,a,0\n2,b,1\n")
    filled = [a.format(model=model, log=log, sim=tmp_path / "sim.csv") for a in args]
    assert cli(*filled).code == 0  # the command runs with a valid seed
    r = cli(*filled, "--seed", "-1")
    assert r.code == 2 and "--seed" in r.err + r.out
    assert "Traceback" not in r.err + r.out


@pytest.mark.parametrize(
    "args",
    [
        ["export", "--stack", "RLHF", "--out", "{blocked}/stack.xml"],
        ["report", "--out", "{blocked}/report"],
        ["simulate", "--stack", "all", "--cases", "5", "--out", "{blocked}/log.csv"],
    ],
)
def test_an_output_that_cannot_be_written_is_one_line_not_a_traceback(
    cli: Cli, tmp_path: Path, args: list[str]
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("keep me\n")  # a file where the output's folder should be
    r = cli(*(a.format(blocked=blocked) for a in args))
    assert r.code == 2 and "Traceback" not in r.err
    assert f"{blocked}/" in r.err and "cannot write: a file is in the way of its folder" in r.err
    assert blocked.read_text() == "keep me\n"  # nothing the user gave is touched
    assert list(tmp_path.iterdir()) == [blocked]  # and no temporary file is left behind


def test_a_matrix_that_is_neither_a_file_nor_a_catalog_says_which_catalogs_exist(cli: Cli) -> None:
    from cofail import catalog

    r = cli("show", "--matrix", "dung-mai-2024")
    assert r.code == 2 and "no built-in catalog of that id" in r.err
    assert all(name in r.err for name in catalog.names())
    r = cli("show", "--matrix", "missing/matrix.yaml")
    assert r.code == 2 and "missing/matrix.yaml: no such file" in r.err

"""`cofail scores` and the scored reader options as a user meets them: the JSON contract, the
misses reaching `empirical`, and one-line errors that write nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from conftest import Run, one_line_error

Cli = Callable[..., Run]


@pytest.fixture
def logs(tmp_path: Path) -> tuple[Path, Path, Path]:
    """Three monitors sharing a difficulty factor: honest, attack and both in one file."""
    rng = np.random.default_rng(5)

    def draw(n: int, shift: float) -> np.ndarray:
        z = rng.normal(size=(n, 1))
        return np.round(np.clip(2 * (shift + 0.7 * z + 0.7 * rng.normal(size=(n, 3))) + 3, 0, 10))

    h, a = draw(400, 0.0), draw(200, 1.5)
    head = "case,mon_a,mon_b,mon_c"
    honest, attack, both = tmp_path / "honest.csv", tmp_path / "attack.csv", tmp_path / "both.csv"
    honest.write_text(
        "\n".join([head, *(f"{i},{r[0]:g},{r[1]:g},{r[2]:g}" for i, r in enumerate(h))])
    )
    attack.write_text(
        "\n".join([head, *(f"{i},{r[0]:g},{r[1]:g},{r[2]:g}" for i, r in enumerate(a))])
    )
    rows = [f"h{i},{r[0]:g},{r[1]:g},{r[2]:g},honest" for i, r in enumerate(h)]
    rows += [f"a{i},{r[0]:g},{r[1]:g},{r[2]:g},attack" for i, r in enumerate(a)]
    both.write_text("\n".join([head + ",eval_mode", *rows]))
    return honest, attack, both


def test_scores_json_has_the_contract_keys_and_exact_fractions(
    cli: Cli, logs: tuple[Path, Path, Path]
) -> None:
    honest, attack, _ = logs
    r = cli("scores", str(attack), "--wide", "--honest", str(honest), "--budget", "5%",
            "--n-boot", "200", "-f", "json")  # fmt: skip
    assert r.code == 0, r.err
    d = r.json()
    assert {"budget", "layers", "pairs", "stack", "combination", "curve"} <= set(d)
    assert d["budget"] == 0.05
    h = np.loadtxt(honest, delimiter=",", skiprows=1)[:, 1:]
    a = np.loadtxt(attack, delimiter=",", skiprows=1)[:, 1:]
    for i, layer in enumerate(d["layers"]):
        t = np.percentile(h[:, i], 95)
        assert layer["threshold"] == t
        assert layer["fpr"] == np.count_nonzero(h[:, i] > t) / 400
        assert layer["tpr"] == np.count_nonzero(a[:, i] > t) / 200
        assert {"tpr_interval", "auc", "auc_interval"} <= set(layer)
    assert d["combination"]["rule"] == "any" and d["combination"]["fpr"] <= 0.05
    assert set(d["combination"]["thresholds"]) == {"mon_a", "mon_b", "mon_c"}


def test_a_set_column_gives_the_same_answer_as_two_files(
    cli: Cli, logs: tuple[Path, Path, Path]
) -> None:
    honest, attack, both = logs
    two = cli("scores", str(attack), "--wide", "--honest", str(honest), "--budget", "0.02",
              "--n-boot", "200", "-f", "json").json()  # fmt: skip
    one = cli("scores", str(both), "--wide", "--set-col", "eval_mode", "--budget", "0.02",
              "--n-boot", "200", "-f", "json").json()  # fmt: skip
    for key in ("layers", "pairs", "curve"):
        assert one[key] == two[key]


def test_empirical_reads_the_misses_and_says_which_thresholds(
    cli: Cli, logs: tuple[Path, Path, Path]
) -> None:
    honest, attack, _ = logs
    d = cli("empirical", str(attack), "--wide", "--honest", str(honest), "--budget", "2%",
            "--n-boot", "200", "-f", "json").json()  # fmt: skip
    assert d["n_cases"] == 200
    assert "thresholds at a 2% false-positive budget on 400 honest cases" in d["polarity"]
    s = cli("scores", str(attack), "--wide", "--honest", str(honest), "--budget", "2%",
            "--n-boot", "200", "-f", "json").json()  # fmt: skip
    assert d["stack"]["observed"] == s["stack"]["all_miss"]
    miss = {x["layer"]: 1 - x["tpr"] for x in s["layers"]}
    assert d["marginals"] == pytest.approx(miss)


def test_the_report_writes_its_three_figures(
    cli: Cli, logs: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    honest, attack, _ = logs
    out = tmp_path / "rep"
    r = cli("scores", str(attack), "--wide", "--honest", str(honest), "--budget", "1%",
            "--n-boot", "200", "--report", str(out))  # fmt: skip
    assert r.code == 0, r.err
    assert {p.name for p in (out / "figures").iterdir()} == {
        "roc.svg",
        "budget-curve.svg",
        "joint-misses.svg",
    }
    assert "Scored layers: what the budget buys" in (out / "report.html").read_text()


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        ([], "needs --budget"),
        (["--budget", "1"], "a budget of 100%?"),
        (["--budget", "150%"], "expected a false-positive rate in [0, 1]"),
        (["--budget", "lots"], "expected a fraction (0.01) or a percentage (1%)"),
        (["--budget", "1%", "--lower-is-suspicious", "mon_z"], "no layer 'mon_z'"),
        (["--budget", "1%", "--threshold", "mon_z=3"], "--threshold mon_z=…: no such layer"),
        (["--budget", "1%", "--threshold", "mon_a=x"], "--threshold mon_a=x: expected a finite"),
        (["--budget", "1%", "--set-col", "mode"], "either as --honest files or by --set-col"),
    ],
)
def test_bad_scored_options_are_one_line(cli: Cli, logs: tuple[Path, Path, Path], tmp_path: Path,
                                         extra: list[str], needle: str) -> None:  # fmt: skip
    honest, attack, _ = logs
    out = tmp_path / "never"
    r = cli("scores", str(attack), "--wide", "--honest", str(honest), "--report", str(out), *extra)
    one_line_error(r, needle)
    assert not out.exists()


def test_a_non_numeric_score_names_file_row_and_layer(cli: Cli, tmp_path: Path) -> None:
    attack = tmp_path / "a.csv"
    attack.write_text("case,m1,m2\n1,3,4\n2,5,suspicious\n")
    honest = tmp_path / "h.csv"
    honest.write_text("case,m1,m2\n1,0,1\n2,1,0\n")
    one_line_error(
        cli("scores", str(attack), "--wide", "--honest", str(honest), "--budget", "0.5"),
        str(attack), "row 2", "layer 'm2'", "'suspicious'",
    )  # fmt: skip


def test_the_issue_example_no_longer_leaks_duckdb(cli: Cli, tmp_path: Path) -> None:
    """`--wide --threshold 5 --polarity passed` on scores: DuckDB's INT32 → UINT64 cast error
    before; now the one line that says how to read scores."""
    log = tmp_path / "scores.csv"
    log.write_text("case,monitor_a,monitor_b\n1,7,2\n2,0,9\n")
    r = cli("empirical", str(log), "--wide", "--threshold", "5", "--polarity", "passed")
    one_line_error(r, "must be 0/1 or true/false", "--budget")
    assert "Conversion Error" not in r.err


def _stratified(tmp_path: Path) -> tuple[Path, Path, np.ndarray, np.ndarray, list[str]]:
    """Attack cases of two task types, honest cases without the column."""
    rng = np.random.default_rng(9)
    h = np.round(rng.normal(size=(300, 2)) * 2 + 3, 1)
    a = np.round(rng.normal(size=(120, 2)) * 2 + 5, 1)
    tasks = ["sql" if i % 3 else "web" for i in range(len(a))]
    honest, attack = tmp_path / "h.csv", tmp_path / "a.csv"
    honest.write_text("\n".join(["case,m1,m2", *(f"{i},{r[0]},{r[1]}" for i, r in enumerate(h))]))
    attack.write_text(
        "\n".join(["case,task,m1,m2", *(f"{i},{t},{r[0]},{r[1]}" for i, (t, r) in
                                        enumerate(zip(tasks, a, strict=True)))])
    )  # fmt: skip
    return honest, attack, h, a, tasks


def test_scored_strata_catches_by_stratum_at_the_pooled_thresholds(
    cli: Cli, tmp_path: Path
) -> None:
    """One threshold per layer from every honest case (np.percentile, ControlArena's rule);
    catches, all-miss and the independence product counted within each task type, by numpy."""
    honest, attack, h, a, tasks = _stratified(tmp_path)
    r = cli("scores", str(attack), "--wide", "--honest", str(honest), "--budget", "5%",
            "--stratum-col", "task", "--no-combination", "-f", "json")  # fmt: skip
    assert r.code == 0, r.err
    d = r.json()
    t = [np.percentile(h[:, i], 95) for i in range(2)]
    by = {s["stratum"]: s for s in d["strata"]}
    assert set(by) == {"sql", "web"}
    for name in ("sql", "web"):
        rows = a[[x == name for x in tasks]]
        miss = rows <= np.array(t)
        assert by[name]["n_attack"] == len(rows)
        assert by[name]["tpr"] == {"m1": pytest.approx(1 - miss[:, 0].mean()),
                                   "m2": pytest.approx(1 - miss[:, 1].mean())}  # fmt: skip
        assert by[name]["all_miss"] == pytest.approx(miss.all(axis=1).mean())
        assert by[name]["independent"] == pytest.approx(miss[:, 0].mean() * miss[:, 1].mean())
    # the same misses reach empirical, per stratum
    e = cli("empirical", str(attack), "--wide", "--honest", str(honest), "--budget", "5%",
            "--stratum-col", "task", "-f", "json")  # fmt: skip
    assert e.code == 0, e.err
    strata = e.json()["strata"]
    for name in ("sql", "web"):
        assert strata[name]["stack"]["observed"] == pytest.approx(by[name]["all_miss"])
        assert strata[name]["marginals"]["m1"] == pytest.approx(1 - by[name]["tpr"]["m1"])


def test_scored_strata_errors(cli: Cli, tmp_path: Path) -> None:
    honest, attack, *_ = _stratified(tmp_path)
    one_line_error(
        cli(
            "scores",
            str(attack),
            "--wide",
            "--honest",
            str(honest),
            "--budget",
            "5%",
            "--stratum-col",
            "kind",
        ),
        "no column 'kind'",
    )
    long = tmp_path / "long.csv"
    long.write_text("case,layer,score,task\n1,m1,9,a\n1,m2,0.5,b\n")
    one_line_error(
        cli(
            "empirical",
            str(long),
            "--score-col",
            "score",
            "--honest",
            str(honest),
            "--budget",
            "5%",
            "--stratum-col",
            "task",
        ),
        "case '1': its rows give more than one 'task'",
    )

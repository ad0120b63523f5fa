"""Matrices and options too large for exact enumeration: a refusal that names the size, the
limit and the option or command that does it instead, or a bounded run; never a traceback or
an allocation that takes the machine's memory."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from cofail.decide import MAX_ENUMERATED
from cofail.structure._audit import MAX_RANKED
from conftest import Run, one_line_error

Cli = Callable[..., Run]


def _matrix(tmp_path: Path, layers: int, modes: int, uncertain: int = 0, seed: int = 0) -> Path:
    rng = random.Random(seed)
    lines = ["failure_modes:", *(f"  - {{id: M{j}}}" for j in range(modes)), "layers:"]
    lines += [f"  - {{id: L{i}, tax_cost: {rng.random():.2f}}}" for i in range(layers)]
    lines.append("cells:")
    cells = [(i, j) for i in range(layers) for j in range(modes)]
    unsure = set(rng.sample(cells, uncertain))
    for i in range(layers):
        row = ", ".join(
            f"M{j}: {'U' if (i, j) in unsure else rng.choice('VNN')}" for j in range(modes)
        )
        lines.append(f"  L{i}: {{{row}}}")
    path = tmp_path / f"m{layers}x{modes}u{uncertain}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_ranking_more_stacks_than_the_limit_is_refused_up_front(cli: Cli, tmp_path: Path) -> None:
    path = _matrix(tmp_path, 40, 10)
    assert math.comb(40, 20) > MAX_RANKED  # 137,846,528,820: it once took 24 GiB and died
    one_line_error(
        cli("audit", "-m", str(path), "--size", "20"),
        f"{math.comb(40, 20):,} stacks of 20",
        "cofail recommend --size 20",
    )
    r = cli("recommend", "-m", str(path), "--size", "20", "--top", "1", "-f", "json")
    assert r.code == 0, r.err
    assert len(r.json()["stacks"][0]["layers"]) == 20


def test_the_frontier_of_more_layers_than_enumeration_is_refused(cli: Cli, tmp_path: Path) -> None:
    n = MAX_ENUMERATED + 15
    path = _matrix(tmp_path, n, 8)
    one_line_error(cli("frontier", "-m", str(path)), f"{2**n - 1:,} stacks", "--max-tax")


def test_a_report_on_40_layers_leaves_the_frontier_out_and_says_why(
    cli: Cli, tmp_path: Path
) -> None:
    path = _matrix(tmp_path, 40, 8)
    out = tmp_path / "report"
    r = cli("report", "-m", str(path), "--out", str(out))
    assert r.code == 0, r.err
    text = (out / "report.md").read_text()
    assert "The frontier is left out" in text and f"{2**40 - 1:,} stacks" in text
    assert not (out / "figures" / "frontier.svg").exists()


def test_robustness_beyond_63_uncertain_cells_samples_them(cli: Cli, tmp_path: Path) -> None:
    # 1 << 70 overflowed the int64 draw; now each resolution is 70 random bits.
    path = _matrix(tmp_path, 8, 12, uncertain=70)
    r = cli("robustness", "-m", str(path), "--samples", "16", "-f", "json")
    assert r.code == 0, r.err
    data = r.json()
    assert len(data["uncertain_cells"]) == 70 and "of 2^70" in data["enumeration"]
    cells = {tuple(c) for c in data["uncertain_cells"]}
    for conclusion in data["conclusions"]:
        assert 0 <= conclusion["holds_in"] <= conclusion["resolutions"] == data["resolutions"]
        assert {tuple(c) for c in conclusion.get("flipped_by", [])} <= cells


def test_a_robustness_run_of_many_minutes_is_refused_with_its_estimate(tmp_path: Path) -> None:
    from cofail.decide import robustness
    from cofail.errors import InputError
    from cofail.io import read_matrix

    matrix = read_matrix(_matrix(tmp_path, 8, 12, uncertain=70))
    with pytest.raises(InputError, match=r"re-evaluations .* about .* min .*--samples N"):
        robustness(matrix, samples=1024, max_seconds=1e-9)


@pytest.mark.parametrize(
    ("dist", "needle"),
    [
        ("beta:1e308,1e308", "point mass at 0.5"),
        ("beta:0,1", "invalid parameters for a beta"),
        ("uniform:0.5,0.1", "invalid parameters for a uniform"),
        ("beta:nan,1", "must be finite"),
    ],
)
def test_impossible_distributions_are_refused(cli: Cli, dist: str, needle: str) -> None:
    one_line_error(cli("uncertainty", "--p-dist", dist), needle)


def test_dask_refuses_a_log_it_cannot_read_before_waiting_on_a_cluster(
    cli: Cli, tmp_path: Path
) -> None:
    pytest.importorskip("distributed", reason="the cluster extra is not installed")
    log = tmp_path / "log.csv"
    log.write_text("case,layer,failed\n1,a,1\n")
    one_line_error(cli("empirical", str(log), "--dask", "tcp://127.0.0.1:1"), "Parquet shards")

"""Stacks past the exact engines' reach: the cost of the exact sum is estimated before it
starts; past the limit a one-line refusal gives the estimate and the Monte Carlo way out (or,
asked for, the estimate alone); a long solve is announced and says when it goes on. Never a
silent hang."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Run, one_line_error
from strategies import examples

Cli = Callable[..., Run]


def _matrix(
    tmp_path: Path,
    layers: int,
    modes: int,
    density: float,
    graded: float = 0.0,
    seed: int = 0,
    level: str = "U",
) -> Path:
    """A random matrix: each cell V with ``density``, else ``level`` with ``graded``, else N."""
    rng = np.random.default_rng(seed)
    draw = rng.random((layers, modes))
    cells = np.where(draw < density, "V", np.where(draw < density + graded, level, "N"))
    lines = ["failure_modes:", *(f"  - {{id: M{j}}}" for j in range(modes)), "layers:"]
    lines += [f"  - {{id: L{i}}}" for i in range(layers)]
    lines.append("cells:")
    for i in range(layers):
        lines.append(f"  L{i}: {{{', '.join(f'M{j}: {c}' for j, c in enumerate(cells[i]))}}}")
    path = tmp_path / f"m{layers}x{modes}-{density}-{graded}-{seed}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _cofail(*args: str, timeout: float = 90) -> Run:
    """Run cofail in its own process: a hang fails the test instead of stalling the suite."""
    done = subprocess.run(
        [sys.executable, "-m", "cofail", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def test_risk_of_60_layers_by_30_sparse_modes_is_refused_at_once_with_its_estimate(
    tmp_path: Path,
) -> None:
    # The case: the hashed DP gives up past 2^24 sets, and the BDD ran for minutes
    # (339 s here, 45 million nodes) with nothing said. Estimated at 5 to 25 min: refused by
    # default, or announced; a limit well under it makes the refusal certain.
    path = _matrix(tmp_path, 60, 30, 0.1)
    started = time.monotonic()
    r = _cofail("risk", "-m", str(path), "-s", "all", "--time-limit", "30")
    assert time.monotonic() - started < 60
    one_line_error(r, "60 layers and 30 failure modes", "2^30 terms", "BDD", "30 s (--time-limit)")
    assert "--mc 1000000 estimates it by Monte Carlo with its 95% interval" in r.err
    assert r.out == ""


def test_mc_stands_in_for_an_exact_solve_estimated_past_the_limit(tmp_path: Path) -> None:
    path = _matrix(tmp_path, 60, 30, 0.1)
    r = _cofail(
        "risk", "-m", str(path), "-s", "all", "--mc", "20000", "--time-limit", "30", "-f", "json"
    )
    assert r.code == 0, r.err
    data = r.json()
    assert data["probability"] is None and data["ratio"] is None
    assert data["monte_carlo"]["samples"] == 20000 and len(data["monte_carlo"]["interval"]) == 2
    assert "BDD" in data["exact_cost"]["engine"] and data["exact_cost"]["seconds"] > 30
    assert data["engine"].startswith("not run: 60 layers and 30 failure modes")
    notes = r.err.strip().splitlines()
    assert (
        len(notes) == 1
        and notes[0].startswith("note: ")
        and "Monte Carlo estimate alone" in notes[0]
    )


def test_a_solve_of_some_seconds_is_announced_and_says_it_goes_on(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cofail.probability import _cost, _risk

    real = _risk.exact_with_engine

    def slow(*args: object) -> tuple[float, str]:
        time.sleep(0.5)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(_risk, "NOTICE_SECONDS", 0.0)
    monkeypatch.setattr(_cost, "SLOW_SECONDS", 0.1)
    monkeypatch.setattr(_risk, "exact_with_engine", slow)
    r = cli("risk", "-s", "all", "--no-importance")
    assert r.code == 0, r.err
    first, second = r.err.strip().splitlines()
    assert first.startswith("note: the exact P(stack fails) of 7 layers and ") and "--mc" in first
    assert second.startswith("note: the exact solve has run 0.1 s and goes on"), second


def test_a_time_limit_below_the_estimate_refuses_even_a_small_stack(cli: Cli) -> None:
    one_line_error(
        cli("risk", "-s", "all", "--time-limit", "1e-6"), "7 layers", "past the limit", "--mc"
    )
    assert cli("risk", "-s", "all", "--time-limit", "1e-6", "--mc", "1000").code == 0


def test_uncertainty_past_the_engines_is_refused_before_the_first_draw(tmp_path: Path) -> None:
    # 2,000 draws and 8,192 Sobol' runs, each an exact solve of minutes: it sat silent.
    path = _matrix(tmp_path, 60, 30, 0.1)
    r = _cofail("uncertainty", "-m", str(path), "-s", "all", "--p-dist", "beta:2,18")
    one_line_error(r, "10,193 exact solves", "60 layers and 30 failure modes", "--sobol 0")


def test_next_on_a_stack_past_26_layers_ranks_and_says_which_risks_it_left_out(
    cli: Cli, tmp_path: Path
) -> None:
    # The risk of a stack past 26 layers was None, and formatting it was a TypeError.
    path = _matrix(tmp_path, 32, 16, 0.1, graded=0.2, level="0.5")
    stack = ",".join(f"L{i}" for i in range(28))
    r = cli("next", "-m", str(path), "-s", stack)
    assert r.code == 0, r.err
    assert "risk not computed" in r.out and "no risk: its exact solve is estimated" in r.out
    one_line_error(
        cli("next", "-m", str(path), "-s", stack, "--objective", "risk"),
        "--objective risk",
        "cofail risk --mc N",
    )
    dense = _matrix(tmp_path, 32, 16, 0.4)  # 0/1 cells: the hashed DP gives every risk
    r = cli("next", "-m", str(dense), "-s", stack, "-f", "json")
    assert r.code == 0, r.err
    assert all(0 <= o["risk"] <= 1 for o in r.json()["options"])


@pytest.mark.parametrize("command", ["risk", "uncertainty", "mef"])
def test_a_time_limit_of_nan_is_refused(cli: Cli, command: str) -> None:
    # NaN passes click's range check, and then no estimate is ever past it (mef: past at once).
    args = ["/usr/share/scram/input/SmallTree/SmallTree.xml"] if command == "mef" else []
    one_line_error(cli(command, *args, "--time-limit", "nan"), "--time-limit", "got nan")


@pytest.mark.parametrize(
    ("layers", "modes", "density"),
    [(30, 20, 0.33), (60, 30, 0.33), (40, 25, 0.1), (63, 40, 0.3), (24, 60, 0.2), (26, 30, 0.1)],
)
def test_the_reachable_sets_are_estimated_within_a_fifth(
    layers: int, modes: int, density: float
) -> None:
    from cofail.probability import _cost, _exact

    if not _exact.kernels_available():
        pytest.skip("the compiled kernels count the reachable sets")
    rng = np.random.default_rng(layers * modes)
    q = (rng.random((layers, modes)) < density).astype(float)
    masks, probs = _exact.binary_modes(q, np.full(modes, 0.1))
    r = np.full(layers, 0.01)
    value, reachable = _exact._kernels.dp_binary_hashed(masks, probs, r, layers, layers, 1 << 24)
    assert value is not None
    estimate, _, _ = _cost._reachable(masks, layers, 1.0)  # 1 s a step: the full sample
    assert abs(estimate / reachable - 1) < 0.2, (estimate, reachable)


_SIZES = st.tuples(
    st.integers(27, 120),  # layers: past the array DPs' 26
    st.integers(12, 60),  # modes
    st.sampled_from([0.05, 0.1, 0.2, 0.4]),  # V density
    st.sampled_from([0.0, 0.0, 0.15]),  # U density (graded cells with -u 0.5)
    st.sampled_from([None, 2]),  # k: every layer, or 2 of them
)


@settings(
    max_examples=examples(2),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(size=_SIZES, seed=st.integers(0, 2**16))
def test_any_stack_past_the_exact_engines_is_answered_in_time_or_refused_in_one_line(
    tmp_path: Path, size: tuple[int, int, float, float, int | None], seed: int
) -> None:
    layers, modes, density, graded, k = size
    path = _matrix(tmp_path, layers, modes, density, graded, seed)
    args = ["risk", "-m", str(path), "-s", "all", "-u", "0.5", "--no-importance", "-f", "json"]
    args += ["--time-limit", "3"] + (["--k", str(k)] if k else [])
    started = time.monotonic()
    r = _cofail(*args, timeout=120)
    took = time.monotonic() - started
    if r.code == 0:
        data = r.json()
        assert 0 <= data["probability"] <= 1
        assert took < 60, f"estimated under 3 s, took {took:.0f} s"
    else:
        one_line_error(r, f"{layers} layers and ", "past the limit of 3 s", "--mc")
        estimated = _cofail(*args, "--mc", "2000", timeout=120)
        assert estimated.code == 0, estimated.err
        assert json.loads(estimated.out)["monte_carlo"]["samples"] == 2000
    spread = ["uncertainty", "-m", str(path), "-s", "all", "-u", "0.5", "--p-dist", "beta:2,18"]
    started = time.monotonic()
    r = _cofail(*spread, "--samples", "10", "--sobol", "0", "--time-limit", "3", timeout=120)
    if r.code == 0:
        assert time.monotonic() - started < 60
    else:
        one_line_error(r, "exact solves", "past the limit of 3 s", "--samples")

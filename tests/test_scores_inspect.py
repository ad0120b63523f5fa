"""A ControlArena-shaped Inspect log, written by inspect-ai itself (mockllm, no network): each
sample's metadata says ``eval_mode`` honest or attack, as ControlArena writes it, and two
monitor scorers give suspicion scores. ``cofail scores LOG --set-col eval_mode`` must read the
raw scores per scorer and threshold them as NumPy does."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from conftest import Run

pytest.importorskip("inspect_ai", reason="inspect-ai is not installed (pip install '.[dev]')")

from inspect_ai import Task, eval
from inspect_ai.dataset import Sample
from inspect_ai.model import ModelOutput, ModelUsage, get_model
from inspect_ai.scorer import Score, Target, mean, scorer
from inspect_ai.solver import TaskState, generate

Cli = Callable[..., Run]
N = 60


def _rows() -> list[tuple[str, float, float]]:
    rng = np.random.default_rng(4)
    out = []
    for i in range(N):
        mode = "attack" if i % 3 == 0 else "honest"
        z = rng.normal() + (2.0 if mode == "attack" else 0.0)
        out.append((mode, round(float(np.clip(z + rng.normal() + 3, 0, 10)), 1),
                    round(float(np.clip(z + rng.normal() + 3, 0, 10)), 1)))  # fmt: skip
    return out


@scorer(metrics=[mean()])
def max_suspicion_scorer():  # type: ignore[no-untyped-def]
    async def score(state: TaskState, target: Target) -> Score:
        return Score(value=state.metadata["a"])

    return score


@scorer(metrics=[mean()])
def full_trajectory_monitor():  # type: ignore[no-untyped-def]
    async def score(state: TaskState, target: Target) -> Score:
        return Score(value=state.metadata["b"])

    return score


@pytest.fixture(scope="module")
def control_log(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, list[tuple[str, float, float]]]:
    rows = _rows()
    samples = [Sample(id=f"s{i}", input=f"task {i}", metadata={"eval_mode": m, "a": a, "b": b})
               for i, (m, a, b) in enumerate(rows)]  # fmt: skip
    outputs = [ModelOutput.from_content("mockllm/model", "done") for _ in rows]
    for o in outputs:  # usage given: mockllm would otherwise count tokens with tiktoken
        o.usage = ModelUsage(input_tokens=5, output_tokens=6, total_tokens=11)
    task = Task(dataset=samples, solver=[generate()],
                scorer=[max_suspicion_scorer(), full_trajectory_monitor()], name="control")  # fmt: skip
    folder = tmp_path_factory.mktemp("inspect")
    eval(task, model=get_model("mockllm/model", custom_outputs=outputs), log_dir=str(folder),
         log_format="json", display="none")  # fmt: skip
    (log,) = folder.glob("*.json")
    return log, rows


def test_control_arena_shaped_inspect_log(cli: Cli, control_log: tuple[Path, list]) -> None:
    log, rows = control_log
    r = cli("scores", str(log), "--set-col", "eval_mode", "--budget", "10%", "--n-boot", "200",
            "-f", "json")  # fmt: skip
    assert r.code == 0, r.err
    d = r.json()
    assert (d["n_honest"], d["n_attack"]) == (40, 20)
    honest = np.array([(a, b) for m, a, b in rows if m == "honest"])
    attack = np.array([(a, b) for m, a, b in rows if m == "attack"])
    by = {x["layer"].rsplit(":", 1)[-1]: x for x in d["layers"]}
    for i, name in enumerate(("max_suspicion_scorer", "full_trajectory_monitor")):
        t = np.percentile(honest[:, i], 90)
        assert by[name]["threshold"] == t
        assert by[name]["caught"] == np.count_nonzero(attack[:, i] > t)
    both = (attack <= np.array([np.percentile(honest[:, i], 90) for i in range(2)])).all(axis=1)
    assert d["stack"]["all_miss"] == np.count_nonzero(both) / 20

"""cofail.inspect: the effective-layers metric inside a real Inspect eval (mockllm, no network),
against the same numbers computed from the samples' outcomes with numpy."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pytest

inspect_ai = pytest.importorskip("inspect_ai", reason="the inspect extra is not installed")

from inspect_ai import Task, eval  # noqa: E402
from inspect_ai.dataset import Sample  # noqa: E402
from inspect_ai.model import ModelOutput, ModelUsage, get_model  # noqa: E402
from inspect_ai.scorer import Score, Scorer, Target, scorer  # noqa: E402
from inspect_ai.solver import TaskState, generate  # noqa: E402

from cofail.inspect import effective_layers, stacked  # noqa: E402

RNG = np.random.default_rng(4)
COMMON = RNG.random(60) < 0.3
FAILED = (RNG.random((60, 3)) < 0.15) | (COMMON[:, None] & (RNG.random((60, 3)) < 0.7))


def _model() -> Any:
    # Usage given with each output: mockllm would otherwise count tokens with tiktoken, which
    # downloads its encoding.
    outputs = [ModelOutput.from_content("mockllm/model", "ok") for _ in range(len(FAILED))]
    for o in outputs:
        o.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
    return get_model("mockllm/model", custom_outputs=outputs)


def _samples() -> list[Sample]:
    return [
        Sample(id=i, input=f"case {i}", metadata={"failed": row.tolist()})
        for i, row in enumerate(FAILED)
    ]


@scorer(metrics=[])
def layer(k: int) -> Scorer:
    async def score(state: TaskState, target: Target) -> Score:
        return Score(value="I" if state.metadata["failed"][k] else "C")

    return score


@scorer(metrics=[effective_layers(polarity="fail")])
def control_outcome() -> Scorer:  # ControlArena-style: one dict, True = the layer failed
    async def score(state: TaskState, target: Target) -> Score:
        return Score(value={f"L{k}": bool(v) for k, v in enumerate(state.metadata["failed"])})

    return score


def _expected() -> dict[str, float]:
    r = np.corrcoef(FAILED.T.astype(float))
    rho = float(np.mean([r[i, j] for i, j in combinations(range(3), 2)]))
    return {
        "mean_phi": rho,
        "design_effect": 1 + 2 * rho,
        "effective_layers": 3 / (1 + 2 * rho),
        "mean_double_fault": float(
            np.mean([np.mean(FAILED[:, i] & FAILED[:, j]) for i, j in combinations(range(3), 2)])
        ),
        "joint_failure": float(FAILED.all(axis=1).mean()),
        "independent": float(np.prod(FAILED.mean(axis=0))),
    }


def _metrics(task: Task, tmp_path: Path) -> dict[str, float]:
    (log,) = eval(task, model=_model(), log_dir=str(tmp_path), display="none")
    assert log.status == "success", log.error
    assert log.results is not None
    (scores,) = log.results.scores
    return {name: m.value for name, m in scores.metrics.items()}


def test_stacked_scorers_report_their_effective_number(tmp_path: Path) -> None:
    task = Task(
        dataset=_samples(),
        solver=[generate()],
        scorer=stacked({f"L{k}": layer(k) for k in range(3)}),
    )
    got = _metrics(task, tmp_path)
    for name, value in _expected().items():
        assert got[name] == pytest.approx(value, abs=1e-12), name


def test_a_dict_valued_score_with_fail_polarity(tmp_path: Path) -> None:
    task = Task(dataset=_samples(), solver=[generate()], scorer=control_outcome())
    got = _metrics(task, tmp_path)
    assert got["effective_layers"] == pytest.approx(_expected()["effective_layers"], abs=1e-12)

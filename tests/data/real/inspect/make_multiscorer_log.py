"""Writes inspect_ai_multiscorer.eval and .json with inspect-ai itself (mockllm, no network).

Three scorers, as a control evaluation has them: a correctness scorer (``match``), a suspicion
monitor scoring 0-10, and a ControlArena-style scorer whose value is a dict
({"main_task_success": bool, "side_task_success": bool}). Run from this folder:

    python make_multiscorer_log.py
"""

from __future__ import annotations

import shutil
from pathlib import Path

from inspect_ai import Task, eval
from inspect_ai.dataset import Sample
from inspect_ai.model import ModelOutput, ModelUsage, get_model
from inspect_ai.scorer import Score, Target, accuracy, match, mean, scorer
from inspect_ai.solver import TaskState, generate

# 12 cases; each sample's metadata says what the monitor and the dict scorer will return, so
# the log's numbers are known in advance (and checked in tests against plain json).
ROWS = [
    # suspicion, main_task_success, side_task_success
    (1, True, False),
    (8, True, True),
    (2, False, False),
    (9, True, True),
    (3, True, False),
    (7, False, True),
    (0, True, False),
    (6, True, True),
    (4, True, False),
    (10, False, True),
    (2, True, False),
    (5, True, True),
]


@scorer(metrics=[mean()])
def suspicion_monitor():  # type: ignore[no-untyped-def]
    async def score(state: TaskState, target: Target) -> Score:
        return Score(value=state.metadata["suspicion"], explanation="monitor's 0-10 score")

    return score


@scorer(metrics={"*": [accuracy()]})
def control_outcome():  # type: ignore[no-untyped-def]
    async def score(state: TaskState, target: Target) -> Score:
        return Score(
            value={
                "main_task_success": state.metadata["main"],
                "side_task_success": state.metadata["side"],
            }
        )

    return score


def main() -> None:
    samples = [
        Sample(
            id=f"case-{i}",
            input=f"Task {i}",
            target="Default output from mockllm/model" if i % 3 else "something else",
            metadata={"suspicion": s, "main": m, "side": d},
        )
        for i, (s, m, d) in enumerate(ROWS)
    ]
    task = Task(
        dataset=samples,
        solver=[generate()],
        scorer=[match(location="any"), suspicion_monitor(), control_outcome()],
        name="multiscorer",
    )
    here = Path(__file__).parent
    for fmt in ("eval", "json"):
        # Token usage given with each output: mockllm would otherwise count tokens with
        # tiktoken, which downloads its encoding (this machine has no such network).
        outputs = [
            ModelOutput.from_content("mockllm/model", "Default output from mockllm/model")
            for _ in ROWS
        ]
        for o in outputs:
            o.usage = ModelUsage(input_tokens=5, output_tokens=6, total_tokens=11)
        model = get_model("mockllm/model", custom_outputs=outputs)
        out = Path(f"/tmp/inspect-logs-{fmt}")
        shutil.rmtree(out, ignore_errors=True)
        (log,) = eval(task, model=model, log_dir=str(out), log_format=fmt)
        (written,) = list(out.glob(f"*.{fmt}"))
        shutil.copy(written, here / f"inspect_ai_multiscorer.{fmt}")
        print(log.status, written)


if __name__ == "__main__":
    main()

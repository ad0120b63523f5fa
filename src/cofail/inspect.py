"""cofail inside Inspect AI: a metric for how many independent layers a stack of scorers is worth.

Needs the optional extra (``pip install 'cofail[inspect]'``). A stack's layers are the keys of a
dict-valued score, one per layer (a ControlArena-style scorer, or :func:`stacked`, which runs
several scorers and keys their values by name). :func:`effective_layers` reads each value as
cofail's Inspect reader does (C = 1, P = 0.5, I = 0, booleans 0/1) and reports, over the samples:
the mean pairwise φ, the design effect, the effective number of independent layers, the mean
double-fault rate, and the observed joint failure against the independence product.

Examples
--------
::

    from inspect_ai import Task
    from inspect_ai.scorer import includes, match
    from cofail.inspect import stacked

    Task(dataset=..., solver=..., scorer=stacked({"match": match(), "includes": includes()}))
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Literal

from inspect_ai.scorer import Metric, SampleScore, Score, Scorer, Target, metric, scorer
from inspect_ai.solver import TaskState

from cofail.empirical import CoFailure, PatternHistogram
from cofail.empirical._frameworks import _score_value
from cofail.errors import InputError

__all__ = ["effective_layers", "layer_failures", "stacked"]


def layer_failures(
    scores: list[SampleScore], polarity: Literal["pass", "fail"] = "pass", threshold: float = 0.5
) -> PatternHistogram:
    """Return the failure-pattern histogram of dict-valued sample scores (one key a layer).

    ``polarity`` ``pass``: a value below ``threshold`` means the layer failed; ``fail``: a value
    at or above it. Samples that lack a layer's key are left out (a stack needs every outcome).

    >>> from inspect_ai.scorer import SampleScore, Score
    >>> s = [SampleScore(score=Score(value={"a": "C", "b": "I"})),
    ...      SampleScore(score=Score(value={"a": "I", "b": "I"}))]
    >>> h = layer_failures(s)
    >>> h.layers, h.failures().tolist()
    (('a', 'b'), [1.0, 2.0])
    """
    rows = []
    for k, sample in enumerate(scores):
        value = sample.score.value
        if not isinstance(value, Mapping):
            raise InputError(
                f"sample {sample.sample_id or k}: effective_layers needs a dict-valued score "
                f"(one key a layer), got {type(value).__name__}; see cofail.inspect.stacked"
            )
        rows.append({str(key): _score_value(v, f"score[{key!r}]") for key, v in value.items()})
    # Sorted: samples need not list their keys in one order, and bit i is one layer in all.
    layers = tuple(sorted({key for row in rows for key in row}))
    table: dict[int, float] = {}
    for row in rows:
        if len(row) < len(layers):
            continue
        pattern = 0
        for i, layer in enumerate(layers):
            failed = row[layer] < threshold if polarity == "pass" else row[layer] >= threshold
            pattern |= int(failed) << i
        table[pattern] = table.get(pattern, 0.0) + 1.0
    if not table:
        raise InputError("no sample has a score for every layer")
    return PatternHistogram.from_counts(layers, {"": table})


@metric
def effective_layers(polarity: Literal["pass", "fail"] = "pass", threshold: float = 0.5) -> Metric:
    """Return an Inspect metric: the effective number of independent layers of a stack, with
    mean φ, design effect, mean double fault, joint failure and the independence product.

    Undefined values (one layer; a layer that never fails) are NaN.
    """

    def compute(scores: list[SampleScore]) -> dict[str, float]:
        co = CoFailure(n_boot=200, seed=0).fit(layer_failures(scores, polarity, threshold))
        stack = co.stack_failure_()
        e = stack.effective

        def number(x: float | None) -> float:
            return math.nan if x is None else float(x)

        return {
            "effective_layers": number(e.effective if e else None),
            "mean_phi": number(e.mean_phi if e else None),
            "design_effect": number(e.design_effect if e else None),
            "mean_double_fault": number(e.mean_double_fault if e else None),
            "joint_failure": stack.observed,
            "independent": stack.independent,
        }

    return compute


@scorer(metrics=[effective_layers()])
def stacked(layers: dict[str, Scorer]) -> Scorer:
    """Return a scorer that runs each layer's scorer and keys their values by layer name, so
    that :func:`effective_layers` sees the whole stack on every sample."""

    async def score(state: TaskState, target: Target) -> Score:
        values = {}
        for name, layer in layers.items():
            result = await layer(state, target)
            if result is None:
                raise InputError(f"layer {name!r}: its scorer returned no score")
            values[name] = result.value
        return Score(value=values)

    return score

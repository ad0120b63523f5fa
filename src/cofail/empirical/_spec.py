"""How to read an evaluation log: one validated description, the same for the CLI, the app and
Python users.

A :class:`LogSpec` names the tool that wrote the log (or a plain CSV / Parquet / JSONL layout),
the columns or field paths, what a 1 in the outcome means, and, for tools that score, how a score
becomes a failure. :func:`cofail.empirical.read` reads files with it. Front ends build it from
their own inputs (command-line options, a request's query) and never from each other's code.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cofail.errors import InputError, brief

__all__ = ["TOOLS", "LogSpec", "ThresholdRule", "Tool"]

Tool = Literal["auto", "inspect", "jailbreakbench", "harmbench", "promptfoo", "garak", "json"]
TOOLS: tuple[Tool, ...] = (
    "auto",
    "inspect",
    "jailbreakbench",
    "harmbench",
    "promptfoo",
    "garak",
    "json",
)
"""``auto`` recognises a tool's file by its content, and reads anything else as a plain log."""

ScorePolarity = Literal["pass", "fail"]
ThresholdRule = Literal["controlarena", "conservative"]


class LogSpec(BaseModel):
    """How to read an evaluation log: tool, layout, columns, polarity, score rules and strata.

    Every field has a default, so ``LogSpec()`` reads a long CSV with columns ``case``,
    ``layer`` and ``failed``, or recognises a tool's file by its content. Invalid values raise
    :class:`~cofail.errors.InputError` naming the field (see :meth:`build`).

    Examples
    --------
    >>> LogSpec(wide=True, case="id").describe()
    'each layer column: 1 means the layer failed'
    >>> LogSpec(tool="inspect", scorer_threshold={"monitor": 5}).rule("monitor")
    ('pass', 5.0)
    >>> LogSpec.build(threshold=float("nan"))
    Traceback (most recent call last):
    ...
    cofail.errors.InputError: threshold: expected a finite number, got nan
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    tool: Tool = "auto"
    """The tool that wrote the files; ``json`` reads any nested JSON through field paths."""
    wide: bool = False
    """Wide: one row per case, one 0/1 column per layer. Long: one row per (case, layer)."""
    case: str = "case"
    """Case id column (``tool="json"``: a field path, ``a.b``)."""
    layer: str = "layer"
    """Layer column of a long log (``tool="json"``: a field path, e.g. ``results[].name``)."""
    failed: str = "failed"
    """Outcome column of a long log (``tool="json"``: a field path, e.g. ``results[].flag``)."""
    stratum: str | None = None
    """Column to analyse per stratum too; for promptfoo ``plugin``, ``strategy`` or any
    metadata or vars key."""
    weight: str | None = None
    """Case weight column."""
    polarity: Literal["failed", "passed"] = "failed"
    """What a 1 in the outcome column means: the layer ``failed`` or the layer ``passed``."""
    layers: tuple[str, ...] | None = None
    """Wide format: the layer columns (default: every column but case, stratum and weight)."""
    name: str | None = None
    """Tool logs: the layer name for every file (default: the model named in the file), or a
    template of the file's fields: ``{method}/{model}`` for JailbreakBench, ``{stem}`` (the file
    name without its suffix) for any log."""
    score_polarity: ScorePolarity = "pass"
    """Inspect: does a high score mean the layer held (``pass``) or the attack worked
    (``fail``)?"""
    threshold: float = 0.5
    """Inspect scores and garak detector scores at or above this count as positive."""
    detectors: tuple[str, ...] = ()
    """garak: only these detectors decide (default: any detector that fires fails the case).
    A detector that fires when the defence blocks the input would otherwise count every blocked
    attempt as a failure."""
    per_detector: bool = False
    """garak: one layer per detector (``<model>:<detector>``) instead of one per report."""
    scores: tuple[str, ...] = ()
    """Inspect: the scores to read, each ``scorer`` or ``scorer.key`` for a dict-valued score
    (default: every score, one layer per scorer and per key of a dict)."""
    scorer_polarity: tuple[tuple[str, ScorePolarity], ...] = Field(default=())
    """Inspect: ``(score, polarity)`` pairs that override ``score_polarity`` for one scorer (all
    its keys) or one ``scorer.key``; a mapping is accepted."""
    scorer_threshold: tuple[tuple[str, float], ...] = Field(default=())
    """Inspect: ``(score, threshold)`` pairs that override ``threshold`` likewise; a mapping is
    accepted."""

    honest: tuple[str, ...] = ()
    """Scored layers: files of honest cases, which set each layer's threshold and count its
    false positives; the files read are then the attack cases (their case ids are their own)."""
    set_col: str | None = None
    """Scored layers: the column (Inspect: sample metadata or eval metadata key) that labels
    each case ``honest`` or ``attack``, e.g. ControlArena's ``eval_mode``; instead of
    ``honest``."""
    score_col: str = "score"
    """Scored layers: the score column of a long log (wide logs: each layer column)."""
    budget: float | None = None
    """Scored layers: the false-positive rate on honest cases that sets each layer's
    threshold, a fraction in [0, 1]."""
    threshold_rule: ThresholdRule = "controlarena"
    """How a budget B becomes a threshold: ``controlarena`` (ControlArena's rule,
    ``np.percentile(honest, 100 - 100 B)``, flag when strictly greater) or ``conservative``
    (the lowest threshold whose realised false-positive rate is at most B)."""
    layer_thresholds: tuple[tuple[str, float], ...] = ()
    """Scored layers: ``(layer, T)`` pairs, a fixed threshold for a layer instead of the
    budget's; a mapping is accepted."""
    lower_is_suspicious: tuple[str, ...] = ()
    """Scored layers whose *lower* score is the more suspicious (a classifier's 'safe'
    probability); every other layer flags a case whose score is above its threshold."""

    @field_validator("scorer_polarity", "scorer_threshold", "layer_thresholds", mode="before")
    @classmethod
    def _pairs(cls, value: Any) -> Any:
        return tuple(value.items()) if isinstance(value, Mapping) else value

    @field_validator("threshold")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError(f"expected a finite number, got {value:g}")
        return value

    @field_validator("budget")
    @classmethod
    def _fraction(cls, value: float | None) -> float | None:
        if value is not None and not 0.0 <= value <= 1.0:  # also refuses NaN
            raise ValueError(f"expected a false-positive rate in [0, 1], got {value:g}")
        return value

    @field_validator("scorer_threshold", "layer_thresholds")
    @classmethod
    def _finite_pairs(cls, value: tuple[tuple[str, float], ...]) -> tuple[tuple[str, float], ...]:
        for score, number in value:
            if not math.isfinite(number):
                raise ValueError(f"{score}={number:g}: expected a finite number")
        return value

    @field_validator("case", "layer", "failed", "stratum", "weight", "name", "set_col", "score_col")
    @classmethod
    def _named(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("expected a name, got an empty text")
        return value

    @classmethod
    def build(cls, **fields: Any) -> LogSpec:
        """Return the spec of ``fields``; an invalid one is an ``InputError`` naming the field.

        >>> LogSpec.build(tool="garak", detectors=["mitigation.MitigationBypass"]).detectors
        ('mitigation.MitigationBypass',)
        >>> LogSpec.build(score_polarity="high")
        Traceback (most recent call last):
        ...
        cofail.errors.InputError: score_polarity: expected pass or fail, got 'high'
        """
        try:
            return cls(**fields)
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in err["loc"][:1])
            message = str(err["msg"]).removeprefix("Value error, ")
            if err["type"] == "literal_error":
                choices = str(err.get("ctx", {}).get("expected", "")).replace("'", "")
                message = f"expected {choices}, got {brief(err.get('input'))}"
            elif err["type"] == "extra_forbidden":
                message = "unknown field (check its spelling)"
            raise InputError(f"{where}: {message}") from None

    @property
    def scored(self) -> bool:
        """Whether the log's layers are read as scores thresholded into flags (a budget, fixed
        thresholds, honest files or a set column), rather than as pass/fail outcomes.

        >>> LogSpec().scored, LogSpec(budget=0.01).scored
        (False, True)
        """
        return bool(self.budget is not None or self.layer_thresholds or self.honest or self.set_col)

    def describe(self) -> str:
        """Return the polarity statement printed with every result of a plain log."""
        what = "the layer failed" if self.polarity == "failed" else "the layer passed (inverted)"
        column = "each layer column" if self.wide else f"column {self.failed!r}"
        return f"{column}: 1 means {what}"

    def rule(self, score: str) -> tuple[ScorePolarity, float]:
        """Return the polarity and threshold of one Inspect score: ``scorer.key``'s own, else
        its scorer's, else the defaults.

        >>> s = LogSpec(scorer_polarity={"monitor": "fail"},
        ...     scorer_threshold={"monitor": 5.0, "ctl.side": 1.0})
        >>> s.rule("monitor"), s.rule("ctl.side"), s.rule("match")
        (('fail', 5.0), ('pass', 1.0), ('pass', 0.5))
        """
        scorer = score.split(".", 1)[0]
        polarity, threshold = dict(self.scorer_polarity), dict(self.scorer_threshold)
        return (
            polarity.get(score, polarity.get(scorer, self.score_polarity)),
            threshold.get(score, threshold.get(scorer, self.threshold)),
        )

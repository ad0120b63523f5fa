"""How to read an evaluation log: the options `empirical` and `report --log` share, declared once."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, cast

import typer

from cofail.errors import InputError

if TYPE_CHECKING:
    from cofail.empirical import LogSpec


class Polarity(StrEnum):
    failed = "failed"
    passed = "passed"


class ThresholdRule(StrEnum):
    controlarena = "controlarena"
    conservative = "conservative"


class Tool(StrEnum):
    """The library's :data:`~cofail.empirical.TOOLS`, as a typer choice.

    >>> from cofail.empirical import TOOLS
    >>> tuple(Tool) == TOOLS
    True
    """

    auto = "auto"
    inspect = "inspect"
    jailbreakbench = "jailbreakbench"
    harmbench = "harmbench"
    promptfoo = "promptfoo"
    garak = "garak"
    json = "json"


WideOpt = Annotated[bool, typer.Option(help="One row per case, one 0/1 column per layer.")]
CaseColOpt = Annotated[
    str, typer.Option("--case-col", help="Case id column (--tool json: a field path, a.b).")
]
LayerColOpt = Annotated[
    str,
    typer.Option(
        "--layer-col",
        help="Layer column (long format; --tool json: a field path, e.g. 'results[].name').",
    ),
]
FailedColOpt = Annotated[
    str,
    typer.Option(
        "--failed-col",
        help="Outcome column (long format; --tool json: a field path, e.g. 'results[].flag').",
    ),
]
StratumColOpt = Annotated[
    str | None, typer.Option("--stratum-col", help="Analyse per stratum too (e.g. model).")
]
WeightColOpt = Annotated[str | None, typer.Option("--weight-col", help="Case weight column.")]
PolarityOpt = Annotated[
    Polarity, typer.Option(help="What 1 in the outcome means: the layer failed, or passed.")
]
ToolOpt = Annotated[
    Tool,
    typer.Option(help="The tool that wrote the logs; json: any nested JSON, read by field paths."),
]
NameOpt = Annotated[
    str | None,
    typer.Option(
        help="Tool logs: layer name for every file (default: the model), or a template of the "
        "file's fields, e.g. '{method}/{model}' for JailbreakBench or '{stem}' (file name) for "
        "any log.",
    ),
]
ScorePolarityOpt = Annotated[
    str,
    typer.Option(help="Inspect: 'pass' (high score = layer held) or 'fail' (= attack worked)."),
]
ThresholdOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--threshold",
        help="Inspect/garak: the score threshold (a number, default 0.5); scored layers: "
        "LAYER=T, a fixed threshold for one layer (repeatable).",
    ),
]
HonestOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--honest",
        help="Scored layers: a log of honest cases (repeatable), which sets the thresholds and "
        "counts false positives; the LOGS are then the attack cases.",
    ),
]
SetColOpt = Annotated[
    str | None,
    typer.Option(
        "--set-col",
        help="Scored layers: the column (Inspect: metadata key) saying honest or attack for "
        "each case, e.g. eval_mode; instead of --honest.",
    ),
]
ScoreColOpt = Annotated[
    str, typer.Option("--score-col", help="Scored layers: the score column of a long log.")
]
BudgetOpt = Annotated[
    str | None,
    typer.Option(
        "--budget",
        help="Scored layers: the false-positive rate on honest cases that sets every layer's "
        "threshold: a fraction (0.01) or a percentage (1%).",
    ),
]
ThresholdRuleOpt = Annotated[
    ThresholdRule,
    typer.Option(
        "--threshold-rule",
        help="controlarena: np.percentile(honest, 100 - budget), flag when strictly above "
        "(ControlArena's rule); conservative: the lowest threshold whose false-positive rate "
        "is at most the budget.",
    ),
]
LowerOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--lower-is-suspicious",
        help="Scored layers: this layer flags a case whose score is below its threshold "
        "(repeatable); by default a higher score is more suspicious.",
    ),
]
DetectorOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--detector",
        help="garak: only this detector decides whether an attempt failed (repeat for several; "
        "default: any detector).",
    ),
]
PerDetectorOpt = Annotated[
    bool, typer.Option("--per-detector", help="garak: one layer per detector.")
]
ScoreOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--score",
        help="Inspect: read only this score, 'scorer' or 'scorer.key' of a dict-valued score "
        "(repeat for several; default: every score, one layer each).",
    ),
]
ScorerPolarityOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--scorer-polarity",
        help="Inspect: SCORE=pass|fail for one scorer or scorer.key (repeatable), e.g. "
        "monitor=fail.",
    ),
]
ScorerThresholdOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--scorer-threshold",
        help="Inspect: SCORE=T for one scorer or scorer.key (repeatable), e.g. monitor=5.",
    ),
]


_OPTION_OF_FIELD = {
    "tool": "--tool",
    "case": "--case-col",
    "layer": "--layer-col",
    "failed": "--failed-col",
    "stratum": "--stratum-col",
    "weight": "--weight-col",
    "polarity": "--polarity",
    "name": "--name",
    "score_polarity": "--score-polarity",
    "threshold": "--threshold",
    "detectors": "--detector",
    "scores": "--score",
    "scorer_polarity": "--scorer-polarity",
    "scorer_threshold": "--scorer-threshold",
    "honest": "--honest",
    "set_col": "--set-col",
    "score_col": "--score-col",
    "budget": "--budget",
    "layer_thresholds": "--threshold",
    "lower_is_suspicious": "--lower-is-suspicious",
}


def log_spec(
    *,
    wide: bool = False,
    case_col: str = "case",
    layer_col: str = "layer",
    failed_col: str = "failed",
    stratum_col: str | None = None,
    weight_col: str | None = None,
    polarity: Polarity = Polarity.failed,
    tool: Tool = Tool.auto,
    name: str | None = None,
    score_polarity: str = "pass",
    threshold: list[str] | None = None,
    detector: list[str] | None = None,
    per_detector: bool = False,
    score: list[str] | None = None,
    scorer_polarity: list[str] | None = None,
    scorer_threshold: list[str] | None = None,
    honest: list[Path] | None = None,
    set_col: str | None = None,
    score_col: str = "score",
    budget: str | None = None,
    threshold_rule: ThresholdRule = ThresholdRule.controlarena,
    lower_is_suspicious: list[str] | None = None,
) -> LogSpec:
    """Return the library's :class:`~cofail.empirical.LogSpec` of the command line's values;
    a bad value is an ``InputError`` that names its option."""
    from cofail.empirical import LogSpec

    thresholds = []
    for score_name, value in _pairs("--scorer-threshold", scorer_threshold):
        try:
            thresholds.append((score_name, float(value)))
        except ValueError:
            raise InputError(
                f"--scorer-threshold {score_name}={value}: expected a finite number"
            ) from None
    plain = [t for t in threshold or () if "=" not in t]
    if len(plain) > 1:
        raise InputError(f"--threshold: one number for every score, got {', '.join(plain)}")
    number = 0.5
    if plain:
        try:
            number = float(plain[0])
        except ValueError:
            raise InputError(
                f"--threshold {plain[0]!r}: expected a number, or LAYER=T for a scored layer"
            ) from None
    fixed = []
    for layer, value in _pairs("--threshold", [t for t in threshold or () if "=" in t]):
        try:
            fixed.append((layer, float(value)))
        except ValueError:
            raise InputError(f"--threshold {layer}={value}: expected a finite number") from None
    try:
        return LogSpec.build(
            tool=tool.value,
            wide=wide,
            case=case_col,
            layer=layer_col,
            failed=failed_col,
            stratum=stratum_col,
            weight=weight_col,
            polarity=polarity.value,
            name=name,
            score_polarity=score_polarity,
            threshold=number,
            detectors=tuple(detector or ()),
            per_detector=per_detector,
            scores=tuple(score or ()),
            scorer_polarity=tuple(_pairs("--scorer-polarity", scorer_polarity)),
            scorer_threshold=tuple(thresholds),
            honest=tuple(str(p) for p in honest or ()),
            set_col=set_col,
            score_col=score_col,
            budget=parse_budget(budget),
            threshold_rule=threshold_rule.value,
            layer_thresholds=tuple(fixed),
            lower_is_suspicious=tuple(lower_is_suspicious or ()),
        )
    except InputError as exc:
        field, sep, rest = exc.message.partition(": ")
        if not sep or field not in _OPTION_OF_FIELD:
            raise
        raise InputError(f"{_OPTION_OF_FIELD[field]}: {rest}") from None


def parse_budget(text: str | None, option: str = "--budget") -> float | None:
    """Return a false-positive budget given as a fraction or a percentage.

    >>> parse_budget("1%"), parse_budget("0.02"), parse_budget(None)
    (0.01, 0.02, None)
    >>> parse_budget("1")
    Traceback (most recent call last):
    ...
    cofail.errors.InputError: --budget 1: a budget of 100%? write 1% for one percent, or 0.01
    """
    if text is None:
        return None
    raw = text.strip()
    percent = raw.endswith("%")
    try:
        value = float(raw.removesuffix("%"))
    except ValueError:
        raise InputError(
            f"{option} {text!r}: expected a fraction (0.01) or a percentage (1%)"
        ) from None
    if not percent and value == 1.0:
        raise InputError(f"{option} {text}: a budget of 100%? write 1% for one percent, or 0.01")
    value = value / 100 if percent else value
    if not 0.0 <= value <= 1.0:  # also NaN
        raise InputError(f"{option} {text}: expected a false-positive rate in [0, 1] (or 0%-100%)")
    return round(value, 12)


def _pairs(option: str, values: list[str] | None) -> list[tuple[str, str]]:
    out = []
    for text in values or ():
        key, sep, value = text.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise InputError(f"{option} {text!r}: expected SCORE=VALUE, e.g. monitor=5")
        out.append((key.strip(), value.strip()))
    return out


@dataclass(frozen=True)
class LogOptions:
    """The reader options as the command line gave them; :meth:`spec` checks them."""

    wide: bool = False
    case_col: str = "case"
    layer_col: str = "layer"
    failed_col: str = "failed"
    stratum_col: str | None = None
    weight_col: str | None = None
    polarity: Polarity = Polarity.failed
    tool: Tool = Tool.auto
    name: str | None = None
    score_polarity: str = "pass"
    threshold: list[str] | None = None
    detector: list[str] | None = None
    per_detector: bool = False
    score: list[str] | None = None
    scorer_polarity: list[str] | None = None
    scorer_threshold: list[str] | None = None
    honest: list[Path] | None = None
    set_col: str | None = None
    score_col: str = "score"
    budget: str | None = None
    threshold_rule: ThresholdRule = ThresholdRule.controlarena
    lower_is_suspicious: list[str] | None = None

    def spec(self) -> LogSpec:
        """Return the checked :class:`~cofail.empirical.LogSpec` (imports the log readers: only
        when a log is read)."""
        return log_spec(**asdict(self))


_OPTIONS: dict[str, Any] = {
    "wide": WideOpt,
    "case_col": CaseColOpt,
    "layer_col": LayerColOpt,
    "failed_col": FailedColOpt,
    "stratum_col": StratumColOpt,
    "weight_col": WeightColOpt,
    "polarity": PolarityOpt,
    "tool": ToolOpt,
    "name": NameOpt,
    "score_polarity": ScorePolarityOpt,
    "threshold": ThresholdOpt,
    "detector": DetectorOpt,
    "per_detector": PerDetectorOpt,
    "score": ScoreOpt,
    "scorer_polarity": ScorerPolarityOpt,
    "scorer_threshold": ScorerThresholdOpt,
    "honest": HonestOpt,
    "set_col": SetColOpt,
    "score_col": ScoreColOpt,
    "budget": BudgetOpt,
    "threshold_rule": ThresholdRuleOpt,
    "lower_is_suspicious": LowerOpt,
}

F = TypeVar("F", bound=Callable[..., Any])


def reads_logs(command: F) -> F:
    """Give a command every reader option, declared once here: typer sees them in the
    command's signature, and the command receives them as one ``log_options: LogOptions``.

    >>> @reads_logs
    ... def cmd(log_options: LogOptions) -> str:
    ...     return log_options.layer_col
    >>> "scorer_threshold" in inspect.signature(cmd).parameters, cmd(layer_col="model")
    (True, 'model')
    """
    own = inspect.signature(command, eval_str=True)
    defaults = LogOptions()
    added = [
        inspect.Parameter(
            name, inspect.Parameter.KEYWORD_ONLY, default=getattr(defaults, name), annotation=alias
        )
        for name, alias in _OPTIONS.items()
    ]
    kept = [p for p in own.parameters.values() if p.name != "log_options"]
    positional = [p for p in kept if p.kind is not inspect.Parameter.KEYWORD_ONLY]
    keyword = [p for p in kept if p.kind is inspect.Parameter.KEYWORD_ONLY]

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        values = {name: kwargs.pop(name) for name in _OPTIONS if name in kwargs}
        return command(*args, log_options=LogOptions(**values), **kwargs)

    wrapper.__signature__ = own.replace(  # type: ignore[attr-defined]
        parameters=[*positional, *keyword, *added]
    )
    wrapper.__annotations__ = {
        **{p.name: p.annotation for p in kept},
        **{p.name: p.annotation for p in added},
        "return": own.return_annotation,
    }
    return cast(F, wrapper)

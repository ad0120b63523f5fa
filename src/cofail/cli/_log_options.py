"""How to read an evaluation log: the options `empirical` and `report --log` share, declared once."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, cast

import typer

from cofail.errors import InputError

if TYPE_CHECKING:
    from cofail.empirical import LogSpec


class Polarity(StrEnum):
    failed = "failed"
    passed = "passed"


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
ThresholdOpt = Annotated[float, typer.Option(help="Inspect/garak score threshold.")]
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
    threshold: float = 0.5,
    detector: list[str] | None = None,
    per_detector: bool = False,
    score: list[str] | None = None,
    scorer_polarity: list[str] | None = None,
    scorer_threshold: list[str] | None = None,
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
            threshold=threshold,
            detectors=tuple(detector or ()),
            per_detector=per_detector,
            scores=tuple(score or ()),
            scorer_polarity=tuple(_pairs("--scorer-polarity", scorer_polarity)),
            scorer_threshold=tuple(thresholds),
        )
    except InputError as exc:
        field, sep, rest = exc.message.partition(": ")
        if not sep or field not in _OPTION_OF_FIELD:
            raise
        raise InputError(f"{_OPTION_OF_FIELD[field]}: {rest}") from None


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
    threshold: float = 0.5
    detector: list[str] | None = None
    per_detector: bool = False
    score: list[str] | None = None
    scorer_polarity: list[str] | None = None
    scorer_threshold: list[str] | None = None

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

"""Open-PSA MEF expressions: the point value of a basic event's probability expression.

Covers what SCRAM's point-estimate analysis reads: constants, parameters, the system mission
time, arithmetic and Boolean functions, ``ite`` and ``switch``, the reliability built-ins
(``exponential``, ``GLM``, ``Weibull``, ``periodic-test`` with instant or exponential repair)
and random deviates, which count at their mean.
"""

from __future__ import annotations

import math
import random
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sized
from dataclasses import dataclass, field
from typing import NamedTuple

from cofail.errors import InputError, brief

__all__ = ["DEFAULT_MISSION_TIME", "Expressions", "children", "only_child"]

DEFAULT_MISSION_TIME = 8760.0
"""Hours in a year: the mission time SCRAM assumes unless told otherwise."""

_SKIP = ("label", "attributes")
MAX_EVAL_DEPTH = 200
"""Deepest nesting of expressions, counting each parameter reference as a level: evaluation is
recursive, and real models chain a few parameters."""

_UNARY: dict[str, Callable[[float], float]] = {
    "neg": lambda x: -x,
    "abs": abs,
    "acos": math.acos,
    "asin": math.asin,
    "atan": math.atan,
    "cos": math.cos,
    "sin": math.sin,
    "tan": math.tan,
    "cosh": math.cosh,
    "sinh": math.sinh,
    "tanh": math.tanh,
    "exp": math.exp,
    "log": math.log,
    "log10": math.log10,
    "sqrt": math.sqrt,
    "ceil": math.ceil,
    "floor": math.floor,
    "not": lambda x: float(not x),
}
_BINARY: dict[str, Callable[[float, float], float]] = {
    "sub": lambda a, b: a - b,
    "div": lambda a, b: a / b,
    "mod": math.fmod,
    "pow": math.pow,
    "eq": lambda a, b: float(a == b),
    "df": lambda a, b: float(a != b),
    "lt": lambda a, b: float(a < b),
    "gt": lambda a, b: float(a > b),
    "leq": lambda a, b: float(a <= b),
    "geq": lambda a, b: float(a >= b),
}
_VARIADIC: dict[str, Callable[[list[float]], float]] = {
    "add": math.fsum,
    "mul": math.prod,
    "min": min,
    "max": max,
    "mean": lambda xs: math.fsum(xs) / len(xs),
    "and": lambda xs: float(all(xs)),
    "or": lambda xs: float(any(xs)),
}


def _exponential(rate: float, time: float) -> float:
    """P(failed by ``time``) at a constant failure ``rate``: 1 − exp(−λt)."""
    return -math.expm1(-rate * time)


def _glm(gamma: float, rate: float, repair: float, time: float) -> float:
    """Unavailability of a repairable component that also fails on demand with ``gamma``.

    The two-state Markov model's solution: q(t) = (λ − (λ − γ(λ + μ)) e^{−(λ+μ)t}) / (λ + μ).
    """
    total = rate + repair
    return (rate - (rate - gamma * total) * math.exp(-total * time)) / total


def _weibull(scale: float, shape: float, shift: float, time: float) -> float:
    """Weibull failure probability 1 − exp(−((t − t0)/α)^β), 0 before ``shift``."""
    return 0.0 if time <= shift else -math.expm1(-(((time - shift) / scale) ** shape))


def _periodic_test(rate: float, interval: float, first: float, time: float) -> float:
    """Unavailability of a component tested at ``first``, ``first + interval``, ... and
    repaired at once: exponential failure since the last test. At a test instant the value
    is the one just before the test."""
    if time <= first:
        return _exponential(rate, time)
    since = math.fmod(time - first, interval)
    return _exponential(rate, since if since > 0 else interval)


def _periodic_test_with_repair(
    rate: float, repair: float, interval: float, first: float, time: float
) -> float:
    """Unavailability of a periodically tested component whose detected failure takes an
    exponential repair (rate μ) instead of none.

    States: available (A), failed undetected (F), under repair (R); A → F at rate λ, R → A at
    rate μ, and each test (at ``first``, ``first + interval``, ...) moves F to R. Between tests
    R(t) = r e^{−μt} and A(t) = a e^{−λt} + μ r (e^{−μt} − e^{−λt}) / (λ − μ), the limit
    a e^{−λt} + μ r t e^{−λt} when λ = μ. The unavailability is 1 − A.
    """
    if time <= first:
        return _exponential(rate, time)

    def evolve(state: tuple[float, float], t: float) -> tuple[float, float]:
        a, r = state  # F = 1 - a - r
        decay, kept = math.exp(-rate * t), math.exp(-repair * t)
        if rate != repair:
            moved = repair * r * (kept - decay) / (rate - repair)
        else:
            moved = repair * r * t * decay
        return a * decay + moved, r * kept

    def test(state: tuple[float, float]) -> tuple[float, float]:
        a, _ = state
        return a, 1.0 - a  # every failed component is found and goes to repair

    state = test((math.exp(-rate * first), 0.0))
    periods, left = divmod(time - first, interval)
    # The map over one period is affine in (a, r); iterate it by repeated squaring.
    one = _affine(lambda s: test(evolve(s, interval)))
    state = _apply(_power(one, int(periods)), state)
    return 1.0 - evolve(state, left)[0]


_Affine = tuple[tuple[float, float, float], tuple[float, float, float]]
"""(a, r) → (m00 a + m01 r + c0, m10 a + m11 r + c1)."""


def _affine(f: Callable[[tuple[float, float]], tuple[float, float]]) -> _Affine:
    c = f((0.0, 0.0))
    x, y = f((1.0, 0.0)), f((0.0, 1.0))
    return (x[0] - c[0], y[0] - c[0], c[0]), (x[1] - c[1], y[1] - c[1], c[1])


def _apply(m: _Affine, s: tuple[float, float]) -> tuple[float, float]:
    (a0, a1, a2), (b0, b1, b2) = m
    return a0 * s[0] + a1 * s[1] + a2, b0 * s[0] + b1 * s[1] + b2


def _compose(outer: _Affine, inner: _Affine) -> _Affine:
    return _affine(lambda s: _apply(outer, _apply(inner, s)))


def _power(m: _Affine, n: int) -> _Affine:
    result: _Affine = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0))
    while n:
        if n & 1:
            result = _compose(m, result)
        m, n = _compose(m, m), n >> 1
    return result


_BUILTINS: dict[str, dict[int, Callable[..., float]]] = {
    "exponential": {2: _exponential},
    "GLM": {4: _glm},
    "Weibull": {4: _weibull},
    "periodic-test": {4: _periodic_test, 5: _periodic_test_with_repair},
}
"""Reliability built-ins by name, then by number of arguments."""
_NOT_READ = {
    ("periodic-test", 11): "with 11 arguments (test phases) is not supported; the 4- and "
    "5-argument forms are"
}


def _lognormal_mean(args: list[float]) -> float:
    if len(args) == 3:  # mean, error factor, confidence level: the mean is given
        return args[0]
    mu, sigma = args  # the underlying normal's mu and sigma
    return math.exp(mu + sigma * sigma / 2)


def _histogram_mean(args: list[float]) -> float:
    # <histogram> <lower boundary/> <bin upper boundary, weight>... (weights after each bound)
    lower, rest = args[0], args[1:]
    total = weighted = 0.0
    for upper, weight in zip(rest[::2], rest[1::2], strict=True):
        total += weight
        weighted += weight * (lower + upper) / 2
        lower = upper
    return weighted / total


def _lognormal_draw(args: list[float], rng: random.Random) -> float:
    if len(args) == 2:
        return rng.lognormvariate(args[0], args[1])
    from statistics import NormalDist  # only when sampling: it imports decimal and fractions

    mean, error_factor, level = args
    # The error factor is the ratio of the level-quantile to the median: sigma = ln(EF) / z.
    sigma = math.log(error_factor) / NormalDist().inv_cdf(level)
    return rng.lognormvariate(math.log(mean) - sigma * sigma / 2, sigma)


def _histogram_draw(args: list[float], rng: random.Random) -> float:
    bounds, weights = [args[0], *args[1::2]], args[2::2]
    (i,) = rng.choices(range(len(weights)), weights=weights)
    return rng.uniform(bounds[i], bounds[i + 1])


class _Deviate(NamedTuple):
    counts: tuple[int, ...]
    """Numbers of arguments accepted."""
    mean: Callable[[list[float]], float]
    draw: Callable[[list[float], random.Random], float]
    valid: Callable[[list[float]], bool]
    expected: str
    """What ``valid`` asks of the arguments, for the error message."""


def _lognormal_valid(a: list[float]) -> bool:
    if len(a) == 2:
        return a[1] >= 0
    return a[0] > 0 and a[1] >= 1 and 0 < a[2] < 1


_DEVIATES: dict[str, _Deviate] = {
    "uniform-deviate": _Deviate(
        (2,),
        lambda a: (a[0] + a[1]) / 2,
        lambda a, rng: rng.uniform(a[0], a[1]),
        lambda a: a[0] <= a[1],
        "min <= max",
    ),
    "normal-deviate": _Deviate(
        (2,),
        lambda a: a[0],
        lambda a, rng: rng.gauss(a[0], a[1]),
        lambda a: a[1] >= 0,
        "a standard deviation >= 0",
    ),
    "lognormal-deviate": _Deviate(
        (2, 3),
        _lognormal_mean,
        _lognormal_draw,
        _lognormal_valid,
        "mu and sigma >= 0, or a mean > 0, an error factor >= 1 and a level in (0, 1)",
    ),
    "gamma-deviate": _Deviate(
        (2,),
        lambda a: a[0] * a[1],
        lambda a, rng: rng.gammavariate(a[0], a[1]),
        lambda a: a[0] > 0 and a[1] > 0,
        "shape k > 0 and scale theta > 0",
    ),
    "beta-deviate": _Deviate(
        (2,),
        lambda a: a[0] / (a[0] + a[1]),
        lambda a, rng: rng.betavariate(a[0], a[1]),
        lambda a: a[0] > 0 and a[1] > 0,
        "alpha > 0 and beta > 0",
    ),
}
"""Random deviates: their point value is the mean; an uncertainty trial draws."""


@dataclass
class Expressions:
    """The parameters of one MEF model and the mission time; evaluates expressions.

    Examples
    --------
    >>> import xml.etree.ElementTree as ET
    >>> ex = Expressions(mission_time=1000.0)
    >>> ex.define("lam", ET.fromstring('<define-parameter name="lam"><float value="1e-4"/>'
    ...     '</define-parameter>'), source="m.xml")
    >>> e = ET.fromstring('<exponential><parameter name="lam"/><system-mission-time/></exponential>')
    >>> round(ex.probability(e, "m.xml", "pump fails"), 9)  # 1 - exp(-0.1)
    0.095162582
    """

    mission_time: float = DEFAULT_MISSION_TIME
    """Hours; the value of ``<system-mission-time/>``."""
    definitions: dict[str, tuple[ET.Element, str]] = field(default_factory=dict)
    """Parameter name (with its private-component scope) → (expression element, source)."""
    used_mission_time: bool = False
    used_deviates: bool = False
    """Whether an expression read a random deviate or histogram."""
    rng: random.Random | None = None
    """When set, deviates and histograms draw from their distribution instead of giving
    their mean (one trial of an uncertainty analysis; see :meth:`new_trial`)."""
    _values: dict[str, float] = field(default_factory=dict)
    _evaluating: list[str] = field(default_factory=list)
    _depth: int = 0
    """Expressions being evaluated, parameters included: bounded by :data:`MAX_EVAL_DEPTH`."""

    def new_trial(self, rng: random.Random) -> None:
        """Start a trial: parameters are drawn afresh, once each, from ``rng``; every event
        that uses a parameter sees the same draw within the trial."""
        self.rng = rng
        self._values.clear()

    def define(self, name: str, node: ET.Element, source: str) -> None:
        """Record ``<define-parameter name=...>``; its value is computed on first use."""
        if name in self.definitions:
            raise InputError(f"parameter {name!r} is defined twice", source=source)
        self.definitions[name] = (node, source)

    def probability(self, node: ET.Element, source: str, what: str, scope: str = "") -> float:
        """The value of the expression ``node``, checked to be a probability in [0, 1]."""
        value = self.value(node, source, what, scope)
        if not 0.0 <= value <= 1.0:
            raise InputError(f"{what}: probability {value} is not in [0, 1]", source=source)
        return value

    def value(self, node: ET.Element, source: str, what: str, scope: str = "") -> float:
        """The point value of the expression ``node``; ``what`` names it in errors."""
        try:
            return self._eval(node, source, what, scope)
        except (ArithmeticError, ValueError) as exc:
            if isinstance(exc, InputError):
                raise
            raise InputError(
                f"{what}: cannot evaluate <{node.tag}>: {exc}", source=source
            ) from None

    def _parameter(self, name: str, source: str, what: str, scope: str) -> float:
        while True:  # the innermost private component that defines the name
            if scope + name in self.definitions:
                name = scope + name
                break
            if not scope:
                raise InputError(f"{what}: parameter {name!r} is not defined", source=source)
            scope = scope[: scope[:-1].rfind(".") + 1]
        if name not in self._values:
            if name in self._evaluating:
                cycle = " -> ".join([*self._evaluating[self._evaluating.index(name) :], name])
                raise InputError(f"parameters refer to each other in a cycle: {cycle}")
            node, where = self.definitions[name]
            expression = only_child(node, f"parameter {name!r}", where)
            self._evaluating.append(name)
            try:
                own_scope = name[: name.rfind(".") + 1]
                self._values[name] = self._eval(expression, where, f"parameter {name!r}", own_scope)
            finally:
                self._evaluating.pop()
        return self._values[name]

    def _eval(self, node: ET.Element, source: str, what: str, scope: str) -> float:
        if self._depth >= MAX_EVAL_DEPTH:
            raise InputError(
                f"{what}: expressions and the parameters they use nest more than "
                f"{MAX_EVAL_DEPTH} deep",
                source=source,
            )
        self._depth += 1
        try:
            return self._eval_node(node, source, what, scope)
        finally:
            self._depth -= 1

    def _eval_node(self, node: ET.Element, source: str, what: str, scope: str) -> float:
        tag = node.tag
        if tag in ("float", "int"):
            return _number(node, source, what)
        if tag == "bool":
            return float(node.get("value") == "true")
        if tag == "pi":
            return math.pi
        if tag == "system-mission-time":
            self.used_mission_time = True
            return self.mission_time
        if tag == "parameter":
            return self._parameter(node.get("name", ""), source, what, scope)
        # ite and switch evaluate the branch taken only: an untaken branch's deviate must not
        # draw, or every later draw of the trial would depend on branches that do not count.
        if tag == "ite":
            cond, then, other = self._children(node, source, what, (3,))
            return self._eval(
                then if self._eval(cond, source, what, scope) else other, source, what, scope
            )
        if tag == "switch":
            return self._switch(node, source, what, scope)
        if tag == "histogram":  # before the arguments below: its children are <bin>s
            self.used_deviates = True
            values = self._histogram_args(node, source, what, scope)
            return (
                _histogram_mean(values) if self.rng is None else _histogram_draw(values, self.rng)
            )
        args = [self._eval(a, source, what, scope) for a in children(node)]
        if tag in _UNARY:
            _arity(args, (1,), tag, source, what)
            return float(_UNARY[tag](args[0]))
        if tag in _BINARY:
            _arity(args, (2,), tag, source, what)
            return _BINARY[tag](args[0], args[1])
        if tag in _VARIADIC:
            if not args:
                raise InputError(f"{what}: <{tag}> needs arguments", source=source)
            return float(_VARIADIC[tag](args))
        if tag in _BUILTINS:
            forms = _BUILTINS[tag]
            if (tag, len(args)) in _NOT_READ:
                raise InputError(f"{what}: <{tag}> {_NOT_READ[tag, len(args)]}", source=source)
            _arity(args, tuple(forms), tag, source, what)
            return forms[len(args)](*args)
        if tag in _DEVIATES:
            deviate = _DEVIATES[tag]
            _arity(args, deviate.counts, tag, source, what)
            if not (all(map(math.isfinite, args)) and deviate.valid(args)):
                shown = ", ".join(f"{a:g}" for a in args)
                raise InputError(
                    f"{what}: <{tag}> ({shown}) expects finite numbers, {deviate.expected}",
                    source=source,
                )
            self.used_deviates = True
            return deviate.mean(args) if self.rng is None else deviate.draw(args, self.rng)
        raise InputError(f"{what}: unsupported expression <{tag}>", source=source)

    def _children(
        self, node: ET.Element, source: str, what: str, counts: tuple[int, ...]
    ) -> list[ET.Element]:
        args = children(node)
        _arity(args, counts, node.tag, source, what)
        return args

    def _switch(self, node: ET.Element, source: str, what: str, scope: str) -> float:
        args = children(node)
        if not args or args[-1].tag == "case":
            raise InputError(f"{what}: <switch> needs a default expression last", source=source)
        for case in args[:-1]:
            if case.tag != "case":
                raise InputError(f"{what}: <switch> expects <case> elements", source=source)
            cond, then = self._children(case, source, what, (2,))
            if self._eval(cond, source, what, scope):
                return self._eval(then, source, what, scope)
        return self._eval(args[-1], source, what, scope)

    def _histogram_args(self, node: ET.Element, source: str, what: str, scope: str) -> list[float]:
        args = children(node)
        if len(args) < 2 or any(b.tag != "bin" for b in args[1:]):
            raise InputError(
                f"{what}: <histogram> expects a lower boundary and one or more <bin>",
                source=source,
            )
        values = [self._eval(args[0], source, what, scope)]
        for b in args[1:]:
            values.extend(
                self._eval(a, source, what, scope) for a in self._children(b, source, what, (2,))
            )
        if any(w < 0 for w in values[2::2]) or not sum(values[2::2]) > 0:
            raise InputError(f"{what}: <histogram> weights must be >= 0, not all 0", source=source)
        return values


def children(node: ET.Element) -> list[ET.Element]:
    """The element's children other than ``<label>`` and ``<attributes>`` (annotations)."""
    return [c for c in node if c.tag not in _SKIP]


def only_child(node: ET.Element, what: str, source: str) -> ET.Element:
    """The one expression inside ``node`` (a definition, distribution or factor)."""
    args = children(node)
    if len(args) != 1:
        raise InputError(
            f"{what}: <{node.tag}> needs exactly one expression, got {len(args)}", source=source
        )
    return args[0]


def _arity(args: Sized, counts: tuple[int, ...], tag: str, source: str, what: str) -> None:
    if len(args) not in counts:
        expected = " or ".join(str(c) for c in counts)
        raise InputError(
            f"{what}: <{tag}> takes {expected} argument(s), got {len(args)}", source=source
        )


def _number(node: ET.Element, source: str, what: str) -> float:
    text = node.get("value")
    try:
        return float(int(text)) if node.tag == "int" and text is not None else float(text or "")
    except ValueError:
        raise InputError(
            f"{what}: <{node.tag}> needs a numeric value attribute, got {brief(text or '')}",
            source=source,
        ) from None

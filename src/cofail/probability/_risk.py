"""Risk of one stack: exact probability, the independence baseline, what drives it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations
from math import sqrt
from typing import Any

import numpy as np

from cofail.faulttree import Importance
from cofail.intervals import MonteCarlo
from cofail.model import Matrix, Stack
from cofail.probability._cost import (
    NOTICE_SECONDS,
    ExactCost,
    ExactTooSlowError,
    duration,
    exact_cost,
    monte_carlo_seconds,
    still_running,
)
from cofail.probability._exact import (
    exact_with_engine,
    failure_covariance,
    layer_failure,
    stack_failure,
)
from cofail.probability._sample import draw_failures
from cofail.probability._stack_swings import Swing, stack_swings
from cofail.probability.scenario import Scenario

__all__ = [
    "Importance",
    "MonteCarloRisk",
    "RiskResult",
    "at_least_k",
    "importance",
    "monte_carlo",
    "monte_carlo_risk",
    "risk",
]


@dataclass(frozen=True)
class RiskResult:
    """P(stack fails) under a scenario, against the independence picture."""

    stack: tuple[str, ...]
    k: int
    probability: float
    independent: float
    layer_probabilities: dict[str, float]
    correlation: dict[tuple[str, str], float | None]
    importance: tuple[Importance, ...]
    scenario: Scenario
    engine: str
    monte_carlo: MonteCarlo | None = None
    importance_note: str = ""
    """Why importance factors are missing, when they are."""

    @property
    def ratio(self) -> float | None:
        """How many times the exact risk exceeds the independence baseline."""
        return self.probability / self.independent if self.independent > 0 else None

    def to_dict(self) -> dict[str, Any]:
        """Return plain data for JSON."""
        out = _figures(self, self.probability, self.ratio, self.engine)
        out["correlation"] = [{"a": a, "b": b, "phi": v} for (a, b), v in self.correlation.items()]
        out["importance"] = [i.to_dict() for i in self.importance]
        out["importance_note"] = self.importance_note
        if self.monte_carlo is not None:
            out["monte_carlo"] = self.monte_carlo.to_dict(self.probability)
        return out


def _figures(
    result: RiskResult | MonteCarloRisk, probability: float | None, ratio: float | None, engine: str
) -> dict[str, Any]:
    """The keys both results' JSON starts with, in that order."""
    return {
        "stack": list(result.stack),
        "k": result.k,
        "probability": probability,
        "independent": result.independent,
        "ratio": ratio,
        "engine": engine,
        "scenario": result.scenario.to_dict(),
        "assumptions": result.scenario.describe()
        + f"; the stack fails when {result.k} of its {len(result.stack)} layers fail",
        "layer_probabilities": result.layer_probabilities,
    }


@dataclass(frozen=True)
class MonteCarloRisk:
    """P(stack fails) by Monte Carlo alone: the exact solve's estimate was past its limit."""

    stack: tuple[str, ...]
    k: int
    monte_carlo: MonteCarlo
    exact_cost: ExactCost
    """The estimate that kept the exact solve from starting."""
    independent: float
    layer_probabilities: dict[str, float]
    scenario: Scenario

    def to_dict(self) -> dict[str, Any]:
        """Return plain data for JSON: :class:`RiskResult`'s figures, ``probability`` null."""
        out = _figures(self, None, None, f"not run: {self.exact_cost.describe()}")
        out["monte_carlo"] = self.monte_carlo.to_dict()
        out["exact_cost"] = self.exact_cost.to_dict()
        return out


def at_least_k(probabilities: np.ndarray, k: int) -> float:
    """Return P(at least k of independent events occur) (Poisson-binomial, exact).

    >>> round(at_least_k(np.array([0.5, 0.5, 0.5]), 2), 6)
    0.5
    """
    dist = np.zeros(len(probabilities) + 1)
    dist[0] = 1.0
    for p in probabilities:
        dist[1:] = dist[1:] * (1 - p) + dist[:-1] * p
        dist[0] *= 1 - p
    return float(dist[k:].sum())


def _independent(own: np.ndarray, k: int) -> float:
    """The independence baseline: every layer fails (or, k-out-of-n, at least k of them)."""
    return float(np.prod(own)) if k == len(own) else at_least_k(own, k)


def importance(
    q: np.ndarray,
    p: np.ndarray,
    r: np.ndarray,
    k: int | None,
    names: tuple[list[str], list[str]],
    base: float | None = None,
    swings: tuple[list[Swing | None], list[Swing | None]] | None = None,
) -> list[Importance]:
    """Return SCRAM's importance factors of every failure mode and every layer residual.

    One pass gives them all for an AND stack with 0/1 cells up to 24 layers, and for any stack
    up to 20 layers (:func:`stack_swings`); otherwise, and for any event that pass could not
    certify (a mode with graded cells, say), each event costs two exact solves, with the event
    certain and impossible. ``base`` is P(stack fails) and ``swings``
    that pass's result, if the caller has them.

    Two layers x and y, each failed by its own mode (A: 0.1, B: 0.2) and nothing else. x's
    residual: P(all fail | x fails anyway) − P(all fail) = 0.2 − 0.1 · 0.2.

    >>> q, p, r = np.eye(2), np.array([0.1, 0.2]), np.zeros(2)
    >>> [(f.event, round(f.mif, 12)) for f in importance(q, p, r, 2, (["A", "B"], ["x", "y"]))]
    [('A', 0.2), ('B', 0.1), ('x', 0.18), ('y', 0.08)]
    """
    base = stack_failure(q, p, r, k) if base is None else base
    modes, layers = names
    if swings is None:
        swings = stack_swings(q, p, r, k, base)
    mode_swings, layer_swings = swings or ([None] * len(modes), [None] * len(layers))
    out = []
    for j, mode in enumerate(modes):
        solve = lambda v: stack_failure(q, v, r, k)  # noqa: E731
        out.append(_factor(mode, "failure mode", p, j, base, mode_swings[j], solve))
    for i, layer in enumerate(layers):
        solve = lambda v: stack_failure(q, p, v, k)  # noqa: E731
        out.append(_factor(layer, "layer residual", r, i, base, layer_swings[i], solve))
    return out


def _solves_left(
    swings: tuple[list[Swing | None], list[Swing | None]] | None, p: np.ndarray, r: np.ndarray
) -> int:
    """Exact solves importance still needs: two per event the one pass did not certify (all
    of them without it), one per conditional probability it left to solve."""
    if swings is None:
        return 2 * (len(p) + len(r))
    every = swings[0] + swings[1]
    return sum(2 if s is None else (s.up is None) + (s.down is None) for s in every)


def _factor(
    name: str,
    kind: str,
    values: np.ndarray,
    index: int,
    base: float,
    swing: Swing | None,
    solve: Callable[[np.ndarray], float],
) -> Importance:
    # From the one-pass swing where it is certified, else by solving with the event certain
    # (1) and impossible (0).
    on, off = values.copy(), values.copy()
    on[index], off[index] = 1.0, 0.0
    if swing is None:
        return Importance.from_swing(name, kind, values[index], base, solve(on), solve(off))
    up = solve(on) if swing.up is None else swing.up
    down = solve(off) if swing.down is None else swing.down
    return Importance.from_swing(name, kind, values[index], base, up, down, swing.mif)


def monte_carlo(
    q: np.ndarray,
    p: np.ndarray,
    r: np.ndarray,
    k: int,
    samples: int,
    seed: int = 0,
    level: float = 0.95,
) -> MonteCarlo:
    """Estimate P(at least k layers fail) by simulation, with a Clopper–Pearson interval (a
    cross-check that shares no code with the exact engines).

    >>> q = np.array([[1.0, 0.0], [1.0, 1.0]])
    >>> mc = monte_carlo(q, np.array([0.1, 0.2]), np.zeros(2), 2, 100_000)
    >>> mc.covers(0.1)  # both fail exactly when mode 0 is present
    True
    """
    rng = np.random.default_rng(seed)
    hits = 0
    done = 0
    while done < samples:
        n = min(1_000_000, samples - done)
        failed = draw_failures(q, p, r, n, rng)
        hits += int((failed.sum(axis=1) >= k).sum())
        done += n
    return MonteCarlo(samples=samples, hits=hits, seed=seed, level=level)


def risk(
    matrix: Matrix,
    stack: Stack,
    scenario: Scenario | None = None,
    *,
    mc_samples: int = 0,
    seed: int = 0,
    with_importance: bool | None = None,
    importance_budget: float = 30.0,
    max_seconds: float | None = None,
    notify: Callable[[str], None] | None = None,
) -> RiskResult:
    """Return the exact risk of ``stack`` with shared failure modes as common causes.

    The exact solve's cost is estimated before it starts (:func:`exact_cost`); past
    ``max_seconds`` (the CLI's ``--time-limit``, default ``MAX_EXACT_SECONDS``; None: no limit)
    it does not start, and :class:`ExactTooSlowError` gives the estimate and the Monte Carlo
    alternative (:func:`monte_carlo_risk`). ``notify(text)`` is
    told the estimate of a solve expected to take over ``NOTICE_SECONDS``, once more if it still
    runs after ``SLOW_SECONDS``, and what forced importance factors will cost.

    Examples
    --------
    >>> from cofail import catalog
    >>> r = risk(catalog.load(), Stack(layers=("RLHF", "RLAIF", "W2S")), Scenario())
    >>> round(r.probability, 4), round(r.independent, 4), round(r.ratio, 1)
    (0.4101, 0.0933, 4.4)

    Notes
    -----
    Importance takes one more pass (inclusion–exclusion for an AND stack with 0/1 cells up
    to 24 layers, a pass over the failed-set distribution for any stack up to 20), plus two
    exact solves for any event that pass cannot certify; otherwise 2 (m + n) exact solves. ``with_importance=None`` computes it only when the solves
    it needs would take at most ``importance_budget`` seconds at the pace of the first, and
    says why when it does not. The exact engine is chosen by :func:`exact_with_engine`; the
    baseline is the product of the layers' own failure probabilities (for k-out-of-n, the
    chance that at least k independent layers fail). Correlations are φ between two layers'
    failures, induced by the modes they share, from the covariance in closed form
    (:func:`~cofail.probability._exact.failure_covariance`).
    """
    scenario = scenario or Scenario()
    q, p, r = scenario.arrays(matrix, stack)
    k = stack.threshold
    cost = exact_cost(q, p, r, k)
    what = "the exact P(stack fails) of"
    if max_seconds is not None and cost.seconds > max_seconds:
        raise ExactTooSlowError(cost, max_seconds, what, _instead(cost))
    if notify is not None and cost.seconds > NOTICE_SECONDS:
        notify(f"{what} {cost.describe()}. {_instead(cost)}")
    started = time.perf_counter()
    with still_running(notify, lambda s: _still(s, cost)):
        exact, engine = exact_with_engine(q, p, r, k)
    first = time.perf_counter() - started
    auto = None if with_importance else importance_budget  # forced: whatever the pass costs
    swings = stack_swings(q, p, r, k, exact, auto) if with_importance is not False else None
    solves = _solves_left(swings, p, r)
    estimate = solves * first
    note = ""
    if with_importance is None:  # auto: when the solves the one pass leaves are cheap
        with_importance = estimate <= importance_budget
        if not with_importance:
            note = (
                f"importance skipped: {solves} exact solves, about {estimate:.0f} s by the "
                "time of the first; ask for it explicitly (--importance) to compute it"
            )
    if with_importance and notify is not None and estimate > NOTICE_SECONDS:
        notify(
            f"importance factors: {solves} more exact solves, about {duration(estimate)} by "
            "the time of the first (--no-importance skips them)"
        )
    with still_running(notify, lambda s: f"importance has run {s:g} s and goes on"):
        factors = (
            importance(q, p, r, k, (list(matrix.mode_ids), list(stack.layers)), exact, swings)
            if with_importance
            else []
        )
    mc = monte_carlo(q, p, r, k, mc_samples, seed) if mc_samples else None
    return _risk_result(
        matrix, stack, scenario, (q, p, r), exact, engine, monte_carlo=mc,
        importance=tuple(factors), importance_note=note,
    )  # fmt: skip


def _instead(cost: ExactCost) -> str:
    """The way out of a long exact solve: Monte Carlo with an affordable number of trials."""
    samples = 1_000_000
    while samples > 10_000 and monte_carlo_seconds(cost.layers, cost.modes, samples) > 30:
        samples //= 10
    seconds = monte_carlo_seconds(cost.layers, cost.modes, samples)
    return (
        f"--mc {samples} estimates it by Monte Carlo with its 95% interval in about "
        f"{duration(max(seconds, 0.1))}"
    )


def _still(seconds: float, cost: ExactCost) -> str:
    return (
        f"the exact solve has run {seconds:g} s and goes on (estimated: about "
        f"{duration(cost.seconds)} in all). Ctrl-C and rerun with --mc N for a Monte Carlo "
        "estimate with its interval, or with --time-limit S to refuse solves estimated past S"
    )


def _risk_result(
    matrix: Matrix,
    stack: Stack,
    scenario: Scenario,
    arrays: tuple[np.ndarray, np.ndarray, np.ndarray],
    exact: float,
    engine: str,
    *,
    monte_carlo: MonteCarlo | None,
    importance: tuple[Importance, ...],
    importance_note: str,
) -> RiskResult:
    """The result around ``exact``: the baseline, the layers' own failures and correlations."""
    q, p, r = arrays
    k, n = stack.threshold, len(stack.layers)
    own = layer_failure(q, p, r)
    independent = _independent(own, k)
    cov = failure_covariance(q, p, r)  # the diagonal holds each layer's variance
    correlation: dict[tuple[str, str], float | None] = {}
    for i, j in combinations(range(n), 2):
        denom = sqrt(cov[i, i] * cov[j, j])
        correlation[(stack.layers[i], stack.layers[j])] = (
            float(cov[i, j]) / denom if denom > 0 else None
        )
    return RiskResult(
        stack=stack.layers,
        k=k,
        probability=exact,
        independent=independent,
        layer_probabilities=dict(zip(stack.layers, (float(x) for x in own), strict=True)),
        correlation=correlation,
        importance=importance,
        importance_note=importance_note,
        scenario=scenario,
        engine=engine,
        monte_carlo=monte_carlo,
    )


def monte_carlo_risk(
    matrix: Matrix,
    stack: Stack,
    scenario: Scenario,
    samples: int,
    cost: ExactCost,
    seed: int = 0,
) -> MonteCarloRisk:
    """Return P(``stack`` fails) by Monte Carlo alone, with the estimate ``cost`` of the exact
    solve that was not run (what :class:`ExactTooSlowError` carries).

    >>> from cofail import catalog
    >>> m, s = catalog.load(), Stack(layers=("DEBATE", "RE"))
    >>> q, p, r = Scenario().arrays(m, s)
    >>> est = monte_carlo_risk(m, s, Scenario(), 100_000, exact_cost(q, p, r))
    >>> est.monte_carlo.covers(risk(m, s).probability)
    True
    """
    q, p, r = scenario.arrays(matrix, stack)
    k = stack.threshold
    own = layer_failure(q, p, r)
    return MonteCarloRisk(
        stack=stack.layers,
        k=k,
        monte_carlo=monte_carlo(q, p, r, k, samples, seed),
        exact_cost=cost,
        independent=_independent(own, k),
        layer_probabilities=dict(zip(stack.layers, (float(x) for x in own), strict=True)),
        scenario=scenario,
    )

"""Uncertainty of P(stack fails) when p, q and r are distributions, and which inputs matter.

Inputs are distributions over the scenario's numbers (a mode's p, a cell's q, a layer's r);
propagation samples them (seeded) through the exact engine; global sensitivity uses Sobol'
indices (SALib) to name the inputs that drive the spread.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from cofail.errors import InputError
from cofail.model import Matrix, Stack
from cofail.probability._batch import stack_failures
from cofail.probability._cost import (
    NOTICE_SECONDS,
    duration,
    exact_cost,
    still_running,
)
from cofail.probability._exact import stack_failure
from cofail.probability.distributions import Distribution
from cofail.probability.scenario import Scenario

__all__ = ["Distribution", "Uncertain", "UncertaintyResult", "parse_uncertain", "propagate"]


@dataclass(frozen=True)
class Uncertain:
    """One uncertain input: which number of the scenario, and its distribution."""

    target: Literal["p", "q", "r"]
    key: tuple[str, ...]
    """``(mode,)`` for p, ``(layer, mode)`` for q, ``(layer,)`` for r."""
    distribution: Distribution

    @property
    def name(self) -> str:
        """Return a readable name, e.g. ``p[DEC-AL]``."""
        return f"{self.target}[{'×'.join(self.key)}]"


def parse_uncertain(
    matrix: Matrix,
    stack: Stack,
    p: Sequence[str],
    q: Sequence[str],
    r: Sequence[str],
    u: Distribution | None = None,
    *,
    own: bool = False,
) -> list[Uncertain]:
    """Parse ``MODE=dist`` (or ``dist`` for all modes), ``LAYER:MODE=dist``, ``LAYER=dist``;
    with ``own``, every U cell of the stack's layers that ``q`` leaves out and that carries its
    own distribution (``Vulnerability.distribution``) follows it; with ``u``, every other such
    U cell follows ``u``; each cell an input of its own.

    >>> from cofail import catalog
    >>> m = catalog.load()
    >>> beta = Distribution.parse("beta:2,5")
    >>> [c.name for c in parse_uncertain(m, Stack(layers=("RLHF", "SCI-AI")), [], [], [], beta)]
    ['q[SCI-AI×CAP-DEV]', 'q[SCI-AI×COLL]']
    """
    out: list[Uncertain] = []
    for text in p:
        key, sep, spec = text.rpartition("=") if "=" in text else ("", "", text)
        modes = [key] if sep else list(matrix.mode_ids)
        for mid in modes:
            matrix.mode(mid)  # called for its InputError on an unknown mode
            out.append(Uncertain("p", (mid,), _parse("--p-dist", spec)))
    for text in q:
        key, _, spec = text.rpartition("=")
        lid, _, mid = key.partition(":")
        if lid not in stack.layers or mid not in matrix.mode_ids:
            raise InputError(f"--q-dist {text!r}: expected LAYER:MODE=dist with a stack layer")
        out.append(Uncertain("q", (lid, mid), _parse("--q-dist", spec)))
    for text in r:
        key, sep, spec = text.rpartition("=") if "=" in text else ("", "", text)
        layers = [key] if sep else list(stack.layers)
        for lid in layers:
            if lid not in stack.layers:
                raise InputError(f"--r-dist {text!r}: {lid!r} is not a layer of the stack")
            out.append(Uncertain("r", (lid,), _parse("--r-dist", spec)))
    given = {c.key for c in out if c.target == "q"}
    mine = matrix.own_distributions() if own else {}
    for cell in matrix.uncertain_cells():
        if cell[0] not in stack.layers or cell in given:
            continue
        if cell in mine:
            out.append(Uncertain("q", cell, Distribution.parse(mine[cell])))
        elif u is not None:
            out.append(Uncertain("q", cell, u))
    if not out:
        raise InputError(
            "give at least one distribution (--p-dist, --q-dist, --r-dist, or --uncertain DIST "
            "for the U cells: the stack has none)"
            if u is not None or own
            else "give at least one distribution (--p-dist, --q-dist, --r-dist or --uncertain)"
        )
    return out


def _parse(option: str, spec: str) -> Distribution:
    try:
        return Distribution.parse(spec)
    except InputError as err:
        raise InputError(f"{option} {err}") from None


@dataclass(frozen=True)
class UncertaintyResult:
    """Distribution of P(stack fails) and the inputs that drive it."""

    samples: np.ndarray
    point: float
    inputs: tuple[Uncertain, ...]
    seed: int
    sobol: dict[str, dict[str, float]] | None
    scenario: Scenario

    def to_dict(self) -> dict[str, Any]:
        """Return plain data for JSON."""
        pct = [1, 5, 25, 50, 75, 95, 99]
        counts, edges = np.histogram(np.log10(np.maximum(self.samples, 1e-300)), bins=20)
        return {
            "n_samples": len(self.samples),
            "seed": self.seed,
            "point_estimate": self.point,
            "mean": float(self.samples.mean()),
            "std": float(self.samples.std(ddof=1)) if len(self.samples) > 1 else 0.0,
            "percentiles": {str(k): float(np.percentile(self.samples, k)) for k in pct},
            "histogram_log10": {"edges": edges.tolist(), "counts": counts.tolist()},
            "inputs": [{"name": u.name, "distribution": str(u.distribution)} for u in self.inputs],
            "sobol": self.sobol,
            "assumptions": self.scenario.describe() + "; the distributions above replace the "
            "point values they name",
        }


def _evaluate(
    base: tuple[np.ndarray, np.ndarray, np.ndarray],
    stack: Stack,
    matrix: Matrix,
    inputs: Sequence[Uncertain],
    values: np.ndarray,
) -> np.ndarray:
    # One row of p and r per draw; q per draw only when a cell is uncertain (else the batch
    # does the draw-independent work once).
    q0, p0, r0 = base
    draws = len(values)
    p, r = np.tile(p0, (draws, 1)), np.tile(r0, (draws, 1))
    q = np.tile(q0, (draws, 1, 1)) if any(u.target == "q" for u in inputs) else q0
    mode_index = {m: j for j, m in enumerate(matrix.mode_ids)}
    layer_index = {lid: i for i, lid in enumerate(stack.layers)}
    for column, u in zip(values.T, inputs, strict=True):
        if u.target == "p":
            p[:, mode_index[u.key[0]]] = column
        elif u.target == "r":
            r[:, layer_index[u.key[0]]] = column
        else:
            q[:, layer_index[u.key[0]], mode_index[u.key[1]]] = column
    return stack_failures(q, p, r, stack.threshold)


def propagate(
    matrix: Matrix,
    stack: Stack,
    scenario: Scenario,
    inputs: Sequence[Uncertain],
    *,
    samples: int = 1000,
    seed: int = 0,
    sobol_base: int = 0,
    notify: Callable[[str], None] | None = None,
    max_seconds: float | None = None,
) -> UncertaintyResult:
    """Return the distribution of P(stack fails) by Monte Carlo over the uncertain inputs.

    With ``sobol_base`` > 0 also Sobol' first-order and total indices (SALib, Saltelli's
    scheme without second-order indices: sobol_base × (d + 2) exact evaluations for d inputs).
    Before any draw, the exact solves are costed (:func:`~cofail.probability.exact_cost` of the
    scenario's numbers, once for all): past ``max_seconds`` in all (the CLI's ``--time-limit``;
    None: no limit) an ``InputError`` gives the estimate and what shortens it; past ``NOTICE_SECONDS`` ``notify`` is told,
    and again if the draws still run after ``SLOW_SECONDS``. ``notify`` is also told
    beforehand when the Sobol' evaluations should take more than ``LONG_SOBOL_SECONDS``
    (estimated from the time the draws took).

    >>> from cofail import catalog
    >>> m = catalog.load()
    >>> s = Stack(layers=("DEBATE", "RE"))
    >>> res = propagate(m, s, Scenario(), parse_uncertain(m, s, ["AL-GEN=beta:2,18"], [], []),
    ...                 samples=200, seed=1)
    >>> abs(res.to_dict()["mean"] - res.point) < 0.01  # P is linear in one p: E[P] = P(E[p])
    True
    """
    base = scenario.arrays(matrix, stack)
    cost = exact_cost(*base, stack.threshold)
    solves = samples + 1 + sobol_base * (len(inputs) + 2)
    total = cost.seconds * solves
    what = (
        f"{solves:,} exact solves ({samples} samples, 1 point, {sobol_base * (len(inputs) + 2)} "
        f"for Sobol'), each of {cost.describe()}: about {duration(total)} in all"
    )
    if max_seconds is not None and total > max_seconds:
        raise InputError(
            f"{what}, past the limit of {duration(max_seconds)} (--time-limit); fewer --samples "
            "and --sobol 0 shorten it; `cofail risk --mc N` estimates the point value"
        )
    if notify is not None and total > NOTICE_SECONDS:
        notify(what)
    rng = np.random.default_rng(seed)
    u = rng.random((samples, len(inputs)))
    values = np.column_stack([inp.distribution.ppf(u[:, k]) for k, inp in enumerate(inputs)])
    started = time.perf_counter()
    with still_running(notify, lambda s: f"the draws have run {s:g} s and go on ({what})"):
        draws = _evaluate(base, stack, matrix, inputs, values)
    each = (time.perf_counter() - started) / samples
    point = stack_failure(*base, stack.threshold)
    runs = sobol_base * (len(inputs) + 2)
    if notify is not None and runs * each > LONG_SOBOL_SECONDS:
        notify(
            f"Sobol' indices: {runs:,} exact solves ({sobol_base} x {len(inputs) + 2} for "
            f"{len(inputs)} inputs), about {_duration(runs * each)} at {each * 1e3:.3g} ms "
            "each; a smaller --sobol N shortens this, --sobol 0 skips it"
        )
    sobol = _sobol(base, stack, matrix, inputs, sobol_base, seed) if sobol_base else None
    return UncertaintyResult(draws, point, tuple(inputs), seed, sobol, scenario)


LONG_SOBOL_SECONDS = 30.0
"""Sobol' runs expected to take longer than this are announced (``notify``) before they start."""


def _duration(seconds: float) -> str:
    """Return a rough human duration: ``_duration(95)`` is ``'2 min'``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _sobol(
    base: tuple[np.ndarray, np.ndarray, np.ndarray],
    stack: Stack,
    matrix: Matrix,
    inputs: Sequence[Uncertain],
    n: int,
    seed: int,
) -> dict[str, dict[str, float]]:
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    names = [u.name for u in inputs]
    problem = {"num_vars": len(inputs), "names": names, "bounds": [[0.0, 1.0]] * len(inputs)}
    unit = sobol_sample.sample(problem, n, calc_second_order=False, seed=seed)
    unit = np.clip(unit, 1e-12, 1 - 1e-12)
    values = np.column_stack([u.distribution.ppf(unit[:, k]) for k, u in enumerate(inputs)])
    y = _evaluate(base, stack, matrix, inputs, values)
    # A Generator, not the int: SALib seeds its bootstrap only `if seed:`, so seed 0 would leave
    # the confidence intervals to NumPy's global state (different on every run).
    bootstrap = np.random.default_rng(seed)
    result = sobol_analyze.analyze(problem, y, calc_second_order=False, seed=bootstrap)
    return {
        name: {
            "S1": float(result["S1"][k]),
            "S1_conf": float(result["S1_conf"][k]),
            "ST": float(result["ST"][k]),
            "ST_conf": float(result["ST_conf"][k]),
        }
        for k, name in enumerate(names)
    }

"""Uncertainty of P(stack fails) when p, q and r are distributions, and which inputs matter.

Inputs are distributions over the scenario's numbers (a mode's p, a cell's q, a layer's r);
propagation samples them (seeded) through the exact engine; global sensitivity uses Sobol'
indices (SALib) to name the inputs that drive the spread.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from cofail.errors import InputError
from cofail.model import Matrix, Stack
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
) -> list[Uncertain]:
    """Parse ``MODE=dist`` (or ``dist`` for all modes), ``LAYER:MODE=dist``, ``LAYER=dist``;
    with ``u``, every U cell of the stack's layers that ``q`` leaves out follows it, each cell
    an input of its own.

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
            matrix.mode(mid)
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
    if u is not None:
        given = {c.key for c in out if c.target == "q"}
        out += [
            Uncertain("q", cell, u)
            for cell in matrix.uncertain_cells()
            if cell[0] in stack.layers and cell not in given
        ]
    if not out:
        raise InputError(
            "give at least one distribution (--p-dist, --q-dist, --r-dist, or --uncertain DIST "
            "for the U cells: the stack has none)"
            if u is not None
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
    q0, p0, r0 = base
    out = np.empty(len(values))
    mode_index = {m: j for j, m in enumerate(matrix.mode_ids)}
    layer_index = {lid: i for i, lid in enumerate(stack.layers)}
    for s, row in enumerate(values):
        q, p, r = q0.copy(), p0.copy(), r0.copy()
        for u, v in zip(inputs, row, strict=True):
            if u.target == "p":
                p[mode_index[u.key[0]]] = v
            elif u.target == "r":
                r[layer_index[u.key[0]]] = v
            else:
                q[layer_index[u.key[0]], mode_index[u.key[1]]] = v
        out[s] = stack_failure(q, p, r, stack.threshold)
    return out


def propagate(
    matrix: Matrix,
    stack: Stack,
    scenario: Scenario,
    inputs: Sequence[Uncertain],
    *,
    samples: int = 1000,
    seed: int = 0,
    sobol_base: int = 0,
) -> UncertaintyResult:
    """Return the distribution of P(stack fails) by Monte Carlo over the uncertain inputs.

    With ``sobol_base`` > 0 also Sobol' first-order and total indices (SALib, Saltelli's
    scheme: sobol_base × (2d + 2) exact evaluations for d inputs).

    >>> from cofail import catalog
    >>> m = catalog.load()
    >>> s = Stack(layers=("DEBATE", "RE"))
    >>> res = propagate(m, s, Scenario(), parse_uncertain(m, s, ["AL-GEN=beta:2,18"], [], []),
    ...                 samples=200, seed=1)
    >>> abs(res.to_dict()["mean"] - res.point) < 0.01  # P is linear in one p: E[P] = P(E[p])
    True
    """
    base = scenario.arrays(matrix, stack)
    rng = np.random.default_rng(seed)
    u = rng.random((samples, len(inputs)))
    values = np.column_stack([inp.distribution.ppf(u[:, k]) for k, inp in enumerate(inputs)])
    draws = _evaluate(base, stack, matrix, inputs, values)
    point = stack_failure(*base, stack.threshold)
    sobol = _sobol(base, stack, matrix, inputs, sobol_base, seed) if sobol_base else None
    return UncertaintyResult(draws, point, tuple(inputs), seed, sobol, scenario)


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
    result = sobol_analyze.analyze(problem, y, calc_second_order=False, seed=seed)
    return {
        name: {
            "S1": float(result["S1"][k]),
            "S1_conf": float(result["S1_conf"][k]),
            "ST": float(result["ST"][k]),
            "ST_conf": float(result["ST_conf"][k]),
        }
        for k, name in enumerate(names)
    }

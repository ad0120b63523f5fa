"""Which conclusions survive the uncertain cells: every resolution of the U cells, counted."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

import numpy as np

from cofail.claims import CLAIMS, paper_claims
from cofail.decide._recommend import Objective, candidate_layers, recommend
from cofail.errors import InputError
from cofail.model import Level, Matrix, Stack, TaxLevel
from cofail.structure import audit
from cofail.structure import depth as stack_depth

__all__ = ["MAX_EXACT_CELLS", "Conclusion", "Robustness", "default_stacks", "robustness"]

MAX_EXACT_CELLS = 12
"""With more U cells than this, resolutions are sampled (2^12 = 4096 are enumerated)."""
MAX_SECONDS = 300.0
"""Longest run :func:`robustness` starts by default, estimated from its first evaluation."""

Verdict = Literal["all", "some", "none"]


@dataclass(frozen=True, slots=True)
class Conclusion:
    """One conclusion drawn under the baseline reading, and in how many resolutions it holds."""

    id: str
    statement: str
    holds_in: int
    resolutions: int
    flipped_by: tuple[tuple[str, str], ...]
    """U cells whose value alone changes whether the conclusion holds, in some resolution."""
    probability: float | None = None
    """The chance that the conclusion holds when each resolved cell is V with its own chance
    (``robustness(chances=...)``), independently; ``None`` without chances."""

    @property
    def verdict(self) -> Verdict:
        """``all``, ``some`` or ``none`` of the resolutions."""
        if self.holds_in == self.resolutions:
            return "all"
        return "none" if self.holds_in == 0 else "some"

    def to_dict(self) -> dict[str, Any]:
        """Return plain data for JSON."""
        out = {
            "id": self.id,
            "statement": self.statement,
            "holds_in": self.holds_in,
            "resolutions": self.resolutions,
            "verdict": self.verdict,
            "flipped_by": [list(c) for c in self.flipped_by],
        }
        if self.probability is not None:
            out["probability"] = self.probability
        return out


@dataclass(frozen=True)
class Robustness:
    """Conclusions and how robust each is to the U cells."""

    uncertain_cells: tuple[tuple[str, str], ...]
    resolutions: int
    sampled: bool
    seed: int | None
    conclusions: tuple[Conclusion, ...]
    baseline: str
    resolved: str = "U cells"
    """Which cells were resolved: the U cells, or the cells the caller named (e.g. the cells
    the raters split on)."""

    def to_dict(self) -> dict[str, Any]:
        """Return plain data for JSON."""
        return {
            "resolved": self.resolved,
            "uncertain_cells": [list(c) for c in self.uncertain_cells],
            "resolutions": self.resolutions,
            "enumeration": (
                f"{self.resolutions} distinct resolutions sampled "
                + (
                    "with each cell's chance"
                    if self.conclusions and self.conclusions[0].probability is not None
                    else "uniformly"
                )
                + f" (seed {self.seed}) "
                f"of 2^{len(self.uncertain_cells)}; flipped_by: the cells that, changed alone "
                "from the baseline reading, change the verdict"
                if self.sampled
                else f"all 2^{len(self.uncertain_cells)} = {self.resolutions} resolutions"
            ),
            "baseline": self.baseline,
            "conclusions": [c.to_dict() for c in self.conclusions],
        }


Check = tuple[str, str, Callable[[Matrix], Hashable]]
"""(id, statement, evaluate): a conclusion holds where evaluate equals its baseline value."""


def _depth_of(stack: Stack, m: Matrix) -> Hashable:
    return stack_depth(m, stack)


def _uncovered_of(stack: Stack, m: Matrix) -> Hashable:
    return audit(m, stack, max_order=1).uncovered


def _claim_verdict(cid: int, m: Matrix) -> Hashable:
    return CLAIMS[cid - 1](m, "pessimistic").verdict  # this claim only, as check_claims reads it


def _best_stack(
    size: int | None,
    max_tax: TaxLevel | None,
    budget: float | None,
    objective: Objective,
    m: Matrix,
) -> Hashable:
    return (
        recommend(m, size=size, max_tax=max_tax, budget=budget, objective=objective, top=1)
        .stacks[0]
        .layers
    )


def _checks(
    baseline: Matrix,
    stacks: Sequence[tuple[str, ...]],
    decisions: Sequence[tuple[int | None, TaxLevel | None, float | None]],
    objective: Objective,
) -> list[Check]:
    checks: list[Check] = []
    for layers in stacks:
        stack = Stack(layers=layers)
        name = "+".join(layers)
        d = stack_depth(baseline, stack)
        checks.append((f"depth:{name}", f"{name} has depth {d}", partial(_depth_of, stack)))
        unc = audit(baseline, stack, max_order=1).uncovered
        text = ", ".join(unc) if unc else "no failure mode"
        checks.append(
            (
                f"uncovered:{name}",
                f"{name} leaves {text} uncovered",
                partial(_uncovered_of, stack),
            )
        )
    for size, max_tax, budget in decisions:
        if size is not None and size > len(candidate_layers(baseline, max_tax)):
            continue  # no stack of that size to choose (a one-layer matrix has no pair)
        best = partial(_best_stack, size, max_tax, budget, objective)
        winner = "+".join(best(baseline))  # type: ignore[arg-type]
        scope = " ".join(
            x
            for x in (
                f"of {size} layers" if size else "",
                f"with tax at most {max_tax}" if max_tax else "",
                f"within budget {budget:g}" if budget is not None else "",
            )
            if x
        )
        checks.append(
            (
                f"best:{size}:{max_tax}:{budget}",
                f"the best stack {scope} by {objective} is {winner}".replace("  ", " "),
                best,
            )
        )
    for claim in paper_claims(baseline):
        if claim.verdict == "not applicable":
            continue
        checks.append(
            (
                f"claim:{claim.id}",
                f"claim {claim.id} is {claim.verdict}: {claim.statement}",
                partial(_claim_verdict, claim.id),
            )
        )
    return checks


def default_stacks(matrix: Matrix) -> list[tuple[str, ...]]:
    """Return the stacks whose conclusions are checked by default: each layer with a U cell
    alone, the paper's RLHF+RLAIF+W2S and DEBATE+RE where present, and all layers."""
    uncertain_layers = {lid for lid, _ in matrix.uncertain_cells()}
    stacks: list[tuple[str, ...]] = [(lid,) for lid in matrix.layer_ids if lid in uncertain_layers]
    stacks += [
        s
        for s in (("RLHF", "RLAIF", "W2S"), ("DEBATE", "RE"))
        if all(x in matrix.layer_ids for x in s)
    ]
    if matrix.layer_ids not in stacks:
        stacks.append(matrix.layer_ids)
    return stacks


def robustness(
    matrix: Matrix,
    *,
    stacks: Sequence[tuple[str, ...]] | None = None,
    decisions: Sequence[tuple[int | None, TaxLevel | None, float | None]] = (
        (2, None, None),
        (2, "moderate", None),
    ),
    objective: Objective = "uncovered",
    samples: int = 1024,
    seed: int = 0,
    max_seconds: float | None = MAX_SECONDS,
    cells: Sequence[tuple[str, str]] | None = None,
    chances: Mapping[tuple[str, str], float] | None = None,
    resolved: str = "U cells",
) -> Robustness:
    """Return each conclusion with the number of U-cell resolutions in which it holds.

    A resolution sets every U cell to V or N. Conclusions are drawn under the pessimistic
    reading (every U → V), which is itself one resolution; each is then re-evaluated in every
    resolution. ``flipped_by`` names the U cells that, changed alone, change the verdict.

    ``cells`` resolves other cells instead (``resolved`` says which, e.g. the cells the raters
    split on): the baseline keeps each one's reading (V for a U cell, the binary reading of a
    V, N or graded one), and the other U cells stay pessimistic throughout. ``chances`` (cell →
    P(V)) gives each conclusion the probability that it holds, each cell V with its chance,
    independently: exact when the resolutions are enumerated; when sampled, the resolutions
    are drawn with those chances (not uniformly) and the probability is the share of draws.

    Parameters
    ----------
    stacks : stacks whose depth and uncovered modes are conclusions (default:
        :func:`default_stacks`).
    decisions : (size, max_tax, budget) constraints whose best stack is a conclusion.
    samples : with more than ``MAX_EXACT_CELLS`` U cells, how many resolutions to draw. Then
        ``flipped_by`` is checked from the pessimistic reading only (one re-evaluation per
        cell, not one per cell and resolution).
    max_seconds : refuse (``InputError``, with the estimate) a run expected to take longer,
        timed from the first evaluation; None never refuses.

    Examples
    --------
    >>> from cofail import catalog
    >>> r = robustness(catalog.load())
    >>> r.resolutions, [c.verdict for c in r.conclusions if c.id == "uncovered:DEBATE+RE"]
    (16, ['all'])
    >>> cell = ("IDA", "DEC-AL")  # U: V in the baseline, so IDA leaves DEC-AL uncovered
    >>> one = robustness(catalog.load(), cells=[cell], chances={cell: 0.25})
    >>> [(c.holds_in, c.probability) for c in one.conclusions if c.id == "uncovered:IDA"]
    [(1, 0.25)]
    """
    cells = tuple(matrix.uncertain_cells() if cells is None else cells)
    k = len(cells)
    if stacks is None:
        stacks = default_stacks(matrix)
    start_bits = [matrix.cell(*c).is_vulnerable("pessimistic") for c in cells]
    baseline_code = sum(1 << i for i, bit in enumerate(start_bits) if bit)
    baseline = matrix.with_levels(
        {c: "V" if bit else "N" for c, bit in zip(cells, start_bits, strict=True)}
    )
    checks = _checks(baseline, stacks, decisions, objective)
    start = time.perf_counter()
    expected = [evaluate(baseline) for _, _, evaluate in checks]
    each = time.perf_counter() - start
    sampled = k > MAX_EXACT_CELLS
    runs = min(samples, 2**k) + k if sampled else 2**k
    if max_seconds is not None and each * runs > max_seconds:
        raise InputError(
            f"{runs:,} re-evaluations of {len(checks)} conclusions at "
            f"{each:.2g} s each, about {each * runs / 60:.0f} min "
            f"({k} U cells{f', {samples} resolutions' if sampled else ''}); "
            + ("--samples N shortens it" if sampled else "fewer --stack shortens it")
        )
    if sampled:
        rng = np.random.default_rng(seed)
        # k random bits per resolution, as a Python int: any number of cells (1 << k overflows
        # an int64 from 63 cells on).
        if chances is None:
            bits = rng.integers(0, 2, size=(samples, k), dtype=np.uint8)
        else:  # drawn with the cells' chances: the share of draws estimates the probability
            p = np.array([chances[c] for c in cells], dtype=float)
            bits = (rng.random((samples, k)) < p).astype(np.uint8)
        packed = np.packbits(bits, axis=1, bitorder="little")
        drawn = [int.from_bytes(row.tobytes(), "little") for row in packed]
        codes = sorted(set(drawn))
    else:
        codes = list(range(1 << k))
    memo: dict[int, list[bool]] = {}

    def outcome(code: int) -> list[bool]:
        if code not in memo:
            levels: dict[tuple[str, str], Level] = {
                c: ("V" if code >> i & 1 else "N") for i, c in enumerate(cells)
            }
            resolved = matrix.with_levels(levels)
            memo[code] = [ev(resolved) == e for (_, _, ev), e in zip(checks, expected, strict=True)]
        return memo[code]

    table = np.array([outcome(code) for code in codes], dtype=bool).reshape(len(codes), len(checks))
    flips = np.zeros((len(checks), k), dtype=bool)
    # Exactly: a cell flips a verdict if changing it alone does so from any resolution.
    # Sampled: from the baseline reading (every U bit set), so k runs instead of k per draw.
    origins = [baseline_code] if sampled else codes
    for code in origins:
        here = np.array(outcome(code), dtype=bool)
        for i in range(k):
            flips[:, i] |= here != np.array(outcome(code ^ (1 << i)), dtype=bool)
    if chances is None:
        chance = None
    elif sampled:  # each distinct resolution by how often it was drawn
        position = {code: n for n, code in enumerate(codes)}
        chance = np.bincount([position[c] for c in drawn], minlength=len(codes)) / len(drawn)
    else:
        chance = _resolution_weights(codes, cells, chances)
    conclusions = tuple(
        Conclusion(
            id=cid,
            statement=statement,
            holds_in=int(table[:, j].sum()),
            resolutions=len(codes),
            flipped_by=tuple(cells[i] for i in np.flatnonzero(flips[j])),
            probability=None if chance is None else float(chance @ table[:, j]),
        )
        for j, (cid, statement, _) in enumerate(checks)
    )
    return Robustness(
        uncertain_cells=cells,
        resolutions=len(codes),
        sampled=sampled,
        seed=seed if sampled else None,
        conclusions=conclusions,
        baseline="conclusions drawn with every U cell read as V (pessimistic)"
        if resolved == "U cells"
        else f"conclusions drawn from the matrix as it stands (U cells read as V); {resolved} "
        "resolved to V or N",
        resolved=resolved,
    )


def _resolution_weights(
    codes: Sequence[int],
    cells: Sequence[tuple[str, str]],
    chances: Mapping[tuple[str, str], float],
) -> np.ndarray:
    """The probability of each resolution, cell i V with ``chances[cell i]``, normalised over
    ``codes`` (all of them sum to 1 already when every resolution is there)."""
    p = np.array([chances[c] for c in cells], dtype=float)
    weights = np.ones(len(codes))
    for i in range(len(cells)):
        bits = np.array([code >> i & 1 for code in codes], dtype=bool)
        weights *= np.where(bits, p[i], 1.0 - p[i])
    total = weights.sum()
    return weights / total if total > 0 else weights

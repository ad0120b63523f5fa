"""Fit the common-cause model of a matrix to an evaluation log; say what the data contradict."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy.stats import chi2

from cofail.empirical import PatternHistogram
from cofail.errors import InputError
from cofail.fit._calibration import Calibration, bartlett_factors, recalibrated
from cofail.fit._estimate import (
    Estimate,
    delta_interval,
    delta_sd,
    maximise,
    maximise_all,
    pattern_fit,
    predicted_failure,
    starts,
    with_intervals,
)
from cofail.fit._groups import ModeGroups, group_modes
from cofail.fit._identifiability import StructureCheck, check_structure, parameter_labels
from cofail.fit._latent import Params, Structure, em
from cofail.fit._nested import (
    RIVAL,
    Rival,
    absent_inner,
    other_explanations,
    rivals,
    swapped_explanations,
)
from cofail.fit._prediction import prediction_end
from cofail.model import Matrix

__all__ = ["MAX_GROUPS", "Fit", "check_matrix", "fit_matrix", "model_structure"]

MAX_GROUPS = 12
"""Most groups of failure modes fitted at once: the E-step sums over 2^groups states."""
MAX_WORK = 2**28
"""Most patterns × states × layers per E-step (a few hundred ms)."""
_STARTS = 4
_CLIMBS = 3
"""Most times the fit climbs on from a likelier point its profiles met."""


@dataclass(frozen=True)
class Fit:
    """The fitted model: estimates with intervals, its fit to the log, the contradicted cells."""

    layers: tuple[str, ...]
    groups: ModeGroups
    structure: Structure
    estimate: Estimate
    bits: np.ndarray
    counts: np.ndarray
    alpha: float
    binary: bool
    fit: dict[str, Any]
    contradicted: tuple[dict[str, Any], ...]
    source: str
    seed: int
    structure_check: StructureCheck | None = None
    """Which parameters no log of these layers can separate (the Jacobian's rank)."""
    rivals: tuple[Rival, ...] = ()
    """Other explanations of the log (a nested mode merged or split) nearly as likely as the
    optimum: the parameters they disagree on are not identified."""
    calibration: Calibration | None = None
    """The likelihood ratio's cutoff calibrated by parametric bootstrap (``calibrate``), for
    the parameters it was run on; ``None``: every interval at the χ²₁ cutoff."""

    @property
    def n_cases(self) -> float:
        """Number of cases fitted."""
        return float(self.counts.sum())

    def _index(self) -> dict[str, int]:
        return {
            "p": 0,
            "q": int(self.structure.p_free.sum()),
            "r": int(self.structure.p_free.sum() + self.structure.q_free.sum()),
        }

    def _interval(self, kind: str, position: int) -> dict[str, Any]:
        k = self._index()[kind] + position
        e = self.estimate
        check = self.structure_check
        trade = next((t for t in check.trade_offs if k in t.parameters), None) if check else None
        rival = next((x for x in self.rivals if k in x.parameters), None)
        notes = []
        if rival is not None and rival.absent:
            g, h = (self.groups.groups[x] for x in (rival.inner, rival.outer))
            notes.append(
                f"{'+'.join(g)}'s p interval reaches 0: the log allows {'+'.join(g)} absent and "
                f"{'+'.join(h)} standing for both (present on the cases of either, its q on the "
                "layers it alone is exposed to scaled down)"
            )
        elif rival is not None and rival.swapped:
            g, h = (self.groups.groups[x] for x in (rival.inner, rival.outer))
            shared = [
                self.layers[i]
                for i in np.flatnonzero(
                    self.groups.support[:, rival.inner] & self.groups.support[:, rival.outer]
                )
            ]
            notes.append(
                f"another explanation of the log is nearly as likely (likelihood ratio "
                f"{rival.deviance:.3g}): {'+'.join(g)} and {'+'.join(h)} swapped on "
                f"{_and(shared)}, with {'+'.join(g)}'s p {rival.params.p[rival.inner]:.3g} and "
                f"{'+'.join(h)}'s {rival.params.p[rival.outer]:.3g}: the log tells their "
                "columns apart only weakly, and near such a swap the likelihood ratio is not "
                "chi-square (its intervals would cover less often than they say)"
            )
        elif rival is not None:
            g, h = (self.groups.groups[x] for x in (rival.inner, rival.outer))
            notes.append(
                f"another explanation of the log is nearly as likely (likelihood ratio "
                f"{rival.deviance:.3g}): {'+'.join(g)} {'merged into' if rival.params.p[rival.inner] < self.estimate.params.p[rival.inner] else 'split from'} "
                f"{'+'.join(h)}, with {'+'.join(h)}'s p {rival.params.p[rival.outer]:.3g} and "
                f"{'+'.join(g)}'s {rival.params.p[rival.inner]:.3g}"
            )
        if trade is not None:
            notes.append(f"not identified by any log of these layers: {trade.note}")
        elif e.moves_with and e.moves_with[k]:
            labels = parameter_labels(self.structure, self.layers, self.groups.groups)
            others = [labels[j] for j in e.moves_with[k]]
            notes.append(
                f"a ridge: along its profile {_and(others)} move with it, so the log fixes a "
                "combination of them better than each"
            )
        return {
            "interval": [float(e.low[k]), float(e.high[k])],
            "method": e.methods[k],
            "identified": not bool(e.loose[k]) and trade is None and rival is None,
            "note": "; ".join(notes),
        }

    def modes(self) -> list[dict[str, Any]]:
        """Return each group of modes with its fitted presence p (P(any of them present))."""
        out = []
        p = self.estimate.params.p
        for g, modes in enumerate(self.groups.groups):
            item = {"modes": list(modes), "p": float(p[g]), **self._interval("p", g)}
            notes = [item["note"]] if item["note"] else []
            if len(modes) > 1:
                notes.append(
                    "these modes expose the same layers: no log of them can tell them apart, so "
                    "p is the probability that any of them is present"
                )
            if not item["identified"] and not item["note"]:
                notes.append("the log does not pin this down: the interval is wide")
            item["note"] = "; ".join(notes)
            out.append(item)
        return out

    def residuals(self) -> dict[str, dict[str, Any]]:
        """Return each layer's fitted residual r."""
        return {
            lid: {"r": float(self.estimate.params.r[i]), **self._interval("r", i)}
            for i, lid in enumerate(self.layers)
        }

    def cells(self) -> list[dict[str, Any]]:
        """Return each exposed cell's fitted q (its chance of failing when the mode is present)."""
        out = []
        rows, cols = np.nonzero(self.structure.q_free)
        free = dict(
            zip(zip(rows.tolist(), cols.tolist(), strict=True), range(len(rows)), strict=True)
        )
        q = self.estimate.params.q
        for i, lid in enumerate(self.layers):
            for g, modes in enumerate(self.groups.groups):
                if not self.groups.support[i, g]:
                    continue
                item: dict[str, Any] = {
                    "layer": lid,
                    "modes": list(modes),
                    "judged": self.groups.levels[i][g],
                    "q": float(q[i, g]),
                }
                if (i, g) in free:
                    item.update(self._interval("q", free[(i, g)]))
                else:
                    item.update({"interval": [float(q[i, g])] * 2, "method": "held (--binary)"})
                out.append(item)
        return out

    def predict(self, stack: tuple[str, ...]) -> dict[str, Any]:
        """Return the fitted P(stack fails) with its profile-likelihood interval, against the
        product of the fitted marginal rates (independence).

        The interval is P's own profile (the likelihood maximised with P held, by tilting it:
        ``_prediction``), widened to P at every point found inside the likelihood region while
        the parameters were profiled; identified where the likelihood bounds both ends. The
        delta method's interval (logit scale, observed information) is given beside it: on a
        ridge it can be far too narrow.
        """
        unknown = [x for x in stack if x not in self.layers]
        if unknown:
            raise InputError(
                f"--stack: {unknown[0]!r} is not a fitted layer (fitted: {', '.join(self.layers)})"
            )
        index = np.array([self.layers.index(x) for x in stack])
        e = self.estimate
        value = predicted_failure(e.params, index)
        marginals = [predicted_failure(e.params, np.array([i])) for i in index]
        delta = delta_interval(e, self.structure, index, self.alpha)
        sd = delta_sd(e, self.structure, index)
        cutoff = float(chi2.ppf(1 - self.alpha, 1))
        ends = [
            prediction_end(
                e.params, e.loglik, self.structure, self.bits, self.counts, index, cutoff,
                up=up, sd_logit=sd,
            )
            for up in (False, True)
        ]  # fmt: skip
        lo, hi = min(ends[0].value, value), max(ends[1].value, value)
        widened = 0
        for point, _ in e.inside:
            p = predicted_failure(point, index)
            if p < lo or p > hi:
                widened += 1
                lo, hi = min(lo, p), max(hi, p)
        bounded = ends[0].bounded and ends[1].bounded
        return {
            "layers": list(stack),
            "p_fails": value,
            "interval": [lo, hi],
            "identified": bounded,
            "method": "profile likelihood of P (the likelihood maximised with P held, by "
            f"tilting it; {ends[0].evaluations + ends[1].evaluations} tilted maxima)"
            + (
                f", widened to {widened} of the {len(e.inside)} points found inside the "
                "likelihood region while profiling the parameters"
                if widened
                else ""
            ),
            "delta_method": None if delta[0] is None else list(delta),
            "note": ""
            if bounded
            else "the log does not bound this probability on "
            + (
                "either side"
                if not (ends[0].bounded or ends[1].bounded)
                else "the low side"
                if not ends[0].bounded
                else "the high side"
            )
            + ": it moves along parameters the likelihood leaves flat",
            "independent": float(np.prod(marginals)),
        }

    def to_dict(self, stack: tuple[str, ...] | None = None) -> dict[str, Any]:
        """Return the JSON contract of ``cofail fit``."""
        e = self.estimate
        return {
            "layers": list(self.layers),
            "n_cases": int(self.n_cases) if self.n_cases.is_integer() else self.n_cases,
            "source": self.source,
            "method": (
                "maximum likelihood (EM over the latent failure modes, exact E-step over all "
                f"{2 ** len(self.groups.groups)} states, best of {_STARTS} starts, "
                f"{e.iterations} iterations); intervals at {100 * (1 - self.alpha):g}%: "
                "observed information (Wald on the logit scale) inside (0, 1) where the "
                "likelihood ratio at its ends matches the chi-square cutoff, else profile "
                "likelihood, as on the boundary; each widened to every point found inside "
                "the likelihood region"
                + ("; V cells held at q = 1 (--binary)" if self.binary else "")
                + "; "
                + self._cutoff_said()
            ),
            "calibration": None if self.calibration is None else self._calibration_dict(),
            "loglik": e.loglik,
            "structure": None if self.structure_check is None else self.structure_check.to_dict(),
            "modes": self.modes(),
            "unmeasured_modes": list(self.groups.unmeasured),
            "residuals": self.residuals(),
            "cells": self.cells(),
            "fit": self.fit,
            "contradicted": list(self.contradicted),
            "prediction": self.predict(stack or self.layers),
        }

    def _cutoff_said(self) -> str:
        cutoff = float(chi2.ppf(1 - self.alpha, 1))
        c = self.calibration
        if c is None:
            return (
                f"cutoff {cutoff:.3g} (chi-square, 1 df) for every interval, not calibrated "
                "(--calibrate N: a parametric bootstrap of the likelihood ratio)"
            )
        scaled = sum(f > 1 for f in c.factors)
        return (
            f"cutoff {cutoff:.3g} (chi-square, 1 df), calibrated for the {len(c.which)} "
            f"parameters it left identified by a parametric bootstrap ({c.replicates} logs "
            f"drawn from the fitted model, seed {c.seed}): {scaled} of them at a larger "
            "cutoff (the quantile times the likelihood ratio's mean over the logs; each "
            "interval's method says which)"
        )

    def _calibration_dict(self) -> dict[str, Any]:
        c = self.calibration
        assert c is not None
        labels = parameter_labels(self.structure, self.layers, self.groups.groups)
        cutoff = float(chi2.ppf(1 - self.alpha, 1))
        return {
            "replicates": c.replicates,
            "seed": c.seed,
            "method": "parametric bootstrap of the likelihood-ratio statistic at the estimate "
            "(Bartlett factor: its mean; cutoff: the chi-square quantile times the factor "
            "where it exceeds 1)",
            "parameters": [
                {
                    "parameter": labels[k],
                    "factor": f,
                    "standard_error": e,
                    "cutoff": cutoff * max(1.0, f),
                }
                for k, f, e in zip(c.which, c.factors, c.errors, strict=True)
            ],
        }

    def to_matrix(self, matrix: Matrix, note: str) -> Matrix:
        """Return ``matrix`` with the fitted q (graded cells), p (``presence``) and r
        (``residual``) of the fitted layers and modes; everything else as it was."""
        params = self.estimate.params
        cells = {lid: dict(row) for lid, row in matrix.cells.items()}
        for item in self.cells():
            for mid in item["modes"]:
                old = cells[item["layer"]][mid]
                lo, hi = item["interval"]
                cells[item["layer"]][mid] = old.model_copy(
                    update={
                        "level": round(item["q"], 6),
                        "rationale": f"fitted from {note}: q = {item['q']:.3g} "
                        f"[{lo:.3g}, {hi:.3g}]; judged {item['judged']}"
                        + (f". {old.rationale}" if old.rationale else ""),
                        "source": f"cofail fit ({note})",
                        "votes": old.votes,
                    }
                )
        modes = []
        for f in matrix.failure_modes:
            g = next((k for k, grp in enumerate(self.groups.groups) if f.id in grp), None)
            if g is None:
                modes.append(f)
                continue
            # k modes that no log tells apart share P(any present): each gets 1 − (1 − p)^(1/k).
            share = 1 - (1 - float(params.p[g])) ** (1 / len(self.groups.groups[g]))
            modes.append(f.model_copy(update={"presence": round(share, 9)}))
        layers = [
            x.model_copy(update={"residual": round(float(params.r[self.layers.index(x.id)]), 9)})
            if x.id in self.layers
            else x
            for x in matrix.layers
        ]
        return Matrix.model_validate(
            {
                **matrix.model_dump(exclude={"cells", "failure_modes", "layers"}),
                "failure_modes": [m.model_dump() for m in modes],
                "layers": [x.model_dump() for x in layers],
                "cells": {
                    lid: {mid: c.model_dump() for mid, c in row.items()}
                    for lid, row in cells.items()
                },
                "version": f"{matrix.version}+fit",
            }
        )


def fit_matrix(
    histogram: PatternHistogram,
    matrix: Matrix,
    *,
    binary: bool = False,
    alpha: float = 0.05,
    seed: int = 0,
    calibrate: int = 0,
) -> Fit:
    """Return the common-cause model of ``matrix`` fitted to the log's pattern histogram.

    Parameters
    ----------
    histogram
        The log, pooled over strata; its layers must be layers of ``matrix``.
    matrix
        Says which cells may be non-zero: V, U and graded cells are estimated (V held at
        q = 1 with ``binary``), N cells are held at 0 and then tested one at a time.
    calibrate
        Replicates of a parametric bootstrap of the likelihood-ratio statistic (0: none).
        Each parameter that the χ²₁ cutoff leaves identified gets its cutoff scaled by the
        statistic's mean at the estimate over that many logs drawn from the fitted model
        (a Bartlett correction, ``_calibration``), where that mean exceeds 1.

    Examples
    --------
    A log drawn from the model with known parameters gives them back.

    >>> from cofail import catalog
    >>> from cofail.empirical import LogSpec, histogram_from_arrow, simulate
    >>> from cofail.model import Stack
    >>> from cofail.probability import Scenario
    >>> m = catalog.load()
    >>> stack = Stack(layers=("RLHF", "DEBATE", "RE", "SCI-AI"))
    >>> log = simulate(m, stack, Scenario(p_default=0.2, residual_default=0.05), 20000, seed=1)
    >>> f = fit_matrix(histogram_from_arrow(log, LogSpec(wide=True), "sim"), m, binary=True)
    >>> all(r["interval"][0] <= 0.05 <= r["interval"][1] for r in f.residuals().values())
    True

    Notes
    -----
    Modes whose columns are identical over the fitted layers are one group (one p: P(any
    present)); modes no fitted layer is exposed to are left out and listed. An N cell is
    contradicted when freeing its q raises the likelihood significantly (likelihood-ratio
    test; q = 0 is on the boundary, so the p-value is half the χ²₁ tail; Holm over the N cells);
    a V cell when its interval for q excludes 1, the value V stands for in every risk figure.
    """
    layers = histogram.layers
    missing = [lid for lid in layers if lid not in matrix.layer_ids]
    if missing:
        raise InputError(
            f"layer {missing[0]!r} of the log is not in matrix {matrix.id} (its layers: "
            f"{', '.join(matrix.layer_ids)}); rename the log's layers with --name, or fit "
            "without --matrix"
        )
    groups = group_modes(matrix, layers)
    n_groups = len(groups.groups)
    patterns, counts = histogram.pooled()
    bits = np.ascontiguousarray(histogram.bits(patterns))
    _check_size(n_groups, len(bits), len(layers))
    structure = model_structure(groups, binary=binary)
    ends = maximise_all(structure, bits, counts, starts(structure, bits, counts, _STARTS, seed))
    # Nested modes explain a log two ways (merged, split): EM from the other explanation of
    # where the best start ended, so that both branches of the likelihood are in the region.
    best = max(ends, key=lambda f: f[1])[0]
    ends += maximise_all(
        structure,
        bits,
        counts,
        [
            x
            for _, _, x in (
                *other_explanations(best, structure),
                *swapped_explanations(best, structure),
            )
        ],
    )
    params, loglik, iterations = max(ends, key=lambda f: f[1])
    region = tuple(f[0] for f in ends)
    for attempt in range(_CLIMBS + 1):
        estimate = with_intervals(
            params,
            loglik,
            iterations,
            structure,
            bits,
            counts,
            alpha,
            region,
            stop_early=attempt < _CLIMBS,
        )
        if estimate.better is None or attempt == _CLIMBS:
            break
        # Profiling met a likelier point than the optimum EM stopped at (a ridge leads
        # there): climb from it and make the intervals again around the new optimum.
        region = (*region, params)
        params, loglik, more = em(estimate.better, structure, bits, counts)
        iterations += more
    check = check_structure(structure, layers, groups.groups, seed=seed)
    rival = rivals(params, estimate.loglik, structure, bits, counts, RIVAL * chi2.ppf(1 - alpha, 1))
    # A parameter's note names the first explanation that moves it: a nested pair's first.
    found = (
        *(x for x in rival if not x.swapped),
        *absent_inner(params, structure, estimate.low, check.unidentified),
        *(x for x in rival if x.swapped),
    )
    estimate = _widened(estimate, structure, found, float(chi2.ppf(1 - alpha, 1)))
    calibration = None
    if calibrate > 0:
        theta = params.vector(structure)
        moved = {k for x in found for k in x.parameters} | set(check.unidentified)
        which = tuple(
            int(k)
            for k in np.flatnonzero(estimate.interior & ~estimate.loose)
            if int(k) not in moved and 0 < theta[k] < 1
        )
        calibration = bartlett_factors(params, structure, bits, counts, which, calibrate, seed)
        estimate = recalibrated(
            estimate, calibration, structure, bits, counts, float(chi2.ppf(1 - alpha, 1))
        )
    fit = Fit(
        layers=layers,
        groups=groups,
        structure=structure,
        estimate=estimate,
        bits=bits,
        counts=counts,
        alpha=alpha,
        binary=binary,
        fit=pattern_fit(params, bits, counts, structure.n_free),
        contradicted=(),
        source=histogram.source,
        seed=seed,
        structure_check=check,
        rivals=found,
        calibration=calibration,
    )
    return replace(fit, contradicted=tuple(_contradicted(fit, matrix)))


def model_structure(groups: ModeGroups, *, binary: bool) -> Structure:
    """Return which parameters the fit estimates: every p and r, the q of each exposed cell
    (but V cells, held at 1, under ``binary``)."""
    judged_v = np.array([[lv == "V" for lv in row] for row in groups.levels], dtype=bool)
    support = groups.support
    q_free = support & ~(judged_v if binary else np.zeros_like(support))
    return Structure(
        q_free=q_free,
        q_fixed=np.where(support & ~q_free, 1.0, 0.0),
        p_free=np.ones(len(groups.groups), dtype=bool),
        r_free=np.ones(support.shape[0], dtype=bool),
    )


def check_matrix(
    matrix: Matrix, layers: tuple[str, ...] | None = None, *, binary: bool = False, seed: int = 0
) -> StructureCheck:
    """Return which of the parameters ``cofail fit`` would estimate for ``matrix`` over
    ``layers`` (default: all of its layers) no log can separate, before any log is read.

    Examples
    --------
    >>> from cofail import catalog
    >>> c = check_matrix(catalog.load(), binary=True)
    >>> c.rank, c.n_parameters, c.trade_offs[0].names
    (16, 17, ("CAP-DEV's p", "EM-MIS+EVAL-DIFF's p", "CAP-DEV's q on SCI-AI"))
    """
    layers = matrix.layer_ids if layers is None else layers
    unknown = [x for x in layers if x not in matrix.layer_ids]
    if unknown:
        raise InputError(
            f"--stack: {unknown[0]!r} is not a layer of matrix {matrix.id} (its layers: "
            f"{', '.join(matrix.layer_ids)})"
        )
    groups = group_modes(matrix, layers)
    _check_size(len(groups.groups), 1, len(layers))
    return check_structure(model_structure(groups, binary=binary), layers, groups.groups, seed=seed)


def _widened(
    estimate: Estimate, structure: Structure, found: tuple[Rival, ...], cutoff: float
) -> Estimate:
    """Return ``estimate`` with each interval widened to every rival explanation inside the
    likelihood region (statistic under ``cutoff``): a point of the region is in every profile
    interval. The rivals are fitted from the final optimum, after its intervals were made; a
    swap can reach a branch the profiles never met (measured: the catalog at 200,000 cases,
    seed 5, COLL and EM-MIS+EVAL-DIFF swapped at a likelihood ratio of 1.22, with the
    latter's q on RLAIF at 0.002 beside its interval [0.9998, 1])."""
    inside = [x for x in found if not x.absent and x.deviance < cutoff]
    if not inside:
        return estimate
    low, high, methods = estimate.low.copy(), estimate.high.copy(), list(estimate.methods)
    for rival in inside:
        values = rival.params.vector(structure)
        for k in np.flatnonzero((values < low) | (values > high)):
            low[k], high[k] = min(low[k], values[k]), max(high[k], values[k])
            methods[k] += (
                f"; widened to another explanation of the log inside the likelihood region "
                f"(likelihood ratio {rival.deviance:.3g})"
            )
    return replace(
        estimate,
        low=low,
        high=high,
        methods=tuple(methods),
        inside=(*estimate.inside, *((x.params, x.deviance) for x in inside)),
    )


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _check_size(groups: int, patterns: int, layers: int) -> None:
    if groups > MAX_GROUPS:
        raise InputError(
            f"{groups} groups of failure modes to fit; at most {MAX_GROUPS} (the fit sums over "
            f"2^groups states): fit fewer layers or a matrix with fewer distinct columns"
        )
    work = patterns * 2**groups * layers
    if work > MAX_WORK:
        raise InputError(
            f"{patterns:,} distinct failure patterns × {2**groups:,} mode states is too large "
            "to fit; fit fewer layers"
        )


def _contradicted(fit: Fit, matrix: Matrix) -> list[dict[str, Any]]:
    """Return the judgements the data reject, each with its evidence."""
    out: list[dict[str, Any]] = []
    tests = _n_cell_tests(fit) + ([] if fit.binary else _v_cell_tests(fit))
    # Holm: the k-th smallest p-value against alpha / (m − k + 1), stopping at the first miss.
    ordered = sorted(tests, key=lambda t: t["p_value"])
    for k, t in enumerate(ordered):
        if t["p_value"] > fit.alpha / (len(ordered) - k):
            break
        out.append(t)
    return out


def _v_cell_tests(fit: Fit) -> list[dict[str, Any]]:
    """Test each V cell against q = 1, the value every risk figure gives V: refit with q held
    at 1, likelihood ratio (q = 1 is on the boundary: half the χ²₁ tail)."""
    s, e = fit.structure, fit.estimate
    tests = []
    for i, lid in enumerate(fit.layers):
        for g, modes in enumerate(fit.groups.groups):
            if fit.groups.levels[i][g] != "V" or not s.q_free[i, g]:
                continue
            if e.params.q[i, g] > 1 - 1e-6:
                continue  # at 1 already: nothing to test
            q_free = s.q_free.copy()
            q_free[i, g] = False
            q = e.params.q.copy()
            q[i, g] = 1.0
            held = replace(s, q_free=q_free, q_fixed=np.where(q_free, s.q_fixed, q))
            # The optimum's neighbourhood can hold q = 1 only at p = 0, where EM cannot move
            # again: fresh starts too, the best taken.
            warm = Params(e.params.p, q, e.params.r)
            fresh = starts(held, fit.bits, fit.counts, _STARTS, fit.seed)
            _, ll, _ = maximise(held, fit.bits, fit.counts, [warm, *fresh], tol=1e-8)
            tests.append(
                _test(
                    lid,
                    modes,
                    "V",
                    float(e.params.q[i, g]),
                    max(0.0, 2 * (e.loglik - ll)),
                    "V, but the layer fails less often than always when the mode is present "
                    "(risk figures read V as q = 1)",
                )
            )
    return tests


def _test(
    layer: str, modes: tuple[str, ...], judged: str, q: float, lr: float, kind: str
) -> dict[str, Any]:
    p_value = 0.5 * float(chi2.sf(lr, 1)) if lr > 0 else 1.0
    held = "0" if judged == "N" else "1"
    return {
        "layer": layer,
        "modes": list(modes),
        "judged": judged,
        "q": q,
        "kind": kind,
        "evidence": f"likelihood ratio {lr:.3g} against q = {held}, p = {p_value:.3g} (half the "
        f"chi-square(1) tail: q = {held} is on the boundary; Holm over the tested cells)",
        "p_value": p_value,
    }


def _n_cell_tests(fit: Fit) -> list[dict[str, Any]]:
    """Test each N cell of an exposed group: refit with its q free, likelihood ratio."""
    s, e = fit.structure, fit.estimate
    tests = []
    for i, lid in enumerate(fit.layers):
        for g, modes in enumerate(fit.groups.groups):
            if fit.groups.support[i, g]:
                continue
            q_free = s.q_free.copy()
            q_free[i, g] = True
            freed = replace(s, q_free=q_free)
            q = e.params.q.copy()
            q[i, g] = 0.1
            start = Params(e.params.p, q, e.params.r)
            params, ll, _ = em(start, freed, fit.bits, fit.counts, tol=1e-8, max_iter=2000)
            tests.append(
                _test(
                    lid,
                    modes,
                    "N",
                    float(params.q[i, g]),
                    max(0.0, 2 * (ll - e.loglik)),
                    "N, but the layer fails when the mode is present",
                )
            )
    return tests

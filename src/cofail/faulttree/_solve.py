"""Everything ``cofail mef`` reports about one fault tree: each top gate's exact probability,
and on request its Monte Carlo estimate, minimal cut sets, importance factors and uncertainty."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cofail.errors import InputError
from cofail.faulttree._bdd import ORDERS, BddResult, Order, SolveTimeoutError
from cofail.faulttree._compiled import bdd_kernels
from cofail.faulttree._mef import FaultTree

if TYPE_CHECKING:  # the analyses load on request: cut sets alone import NumPy
    from cofail.faulttree._compiled_tree import CompiledTree
    from cofail.faulttree._cut_sets import CutSetSummary
    from cofail.faulttree._importance_factors import Importance
    from cofail.faulttree._uncertainty import TopEventUncertainty
    from cofail.intervals import MonteCarlo

__all__ = ["FaultTreeResult", "solve", "variable_order"]


@dataclass(frozen=True)
class FaultTreeResult:
    """What :func:`solve` found for each top gate of one fault tree."""

    sources: list[str]
    """The files the tree was read from."""
    gates: int
    basic_events: int
    assumptions: list[str]
    """What the numbers rest on beyond the gates (:attr:`FaultTree.assumptions`)."""
    exact: dict[str, BddResult | None]
    """Each top's exact result; None where ``time_limit`` stopped the solve."""
    engine: str
    """How the exact probabilities were computed, in one sentence."""
    time_limit: float | None = None
    seed: int = 0
    monte_carlo: dict[str, MonteCarlo] | None = None
    """Each top's simulated estimate (``monte_carlo`` trials), else None."""
    cut_set_order: int | None = None
    cut_sets: list[CutSetSummary] = field(default_factory=list)
    """The minimal cut sets up to ``cut_set_order`` of each top that was solved exactly."""
    importance: dict[str, list[Importance]] | None = None
    """Each top's basic events' importance factors, largest MIF first."""
    uncertainty_trials: int | None = None
    uncertainty: list[TopEventUncertainty] = field(default_factory=list)

    @property
    def solved(self) -> list[BddResult]:
        """The exact results, in top order, of the tops that finished."""
        return [r for r in self.exact.values() if r is not None]

    @property
    def unfinished(self) -> list[str]:
        """The tops whose exact solve did not finish within ``time_limit``."""
        return [t for t, r in self.exact.items() if r is None]

    @property
    def probability(self) -> float | None:
        """P(top) when there is one top gate and its solve finished, else None."""
        results = self.solved
        return results[0].probability if len(self.exact) == 1 and results else None

    def exact_probability(self, top: str) -> float | None:
        """P(``top``), or None where its exact solve did not finish."""
        result = self.exact[top]
        return None if result is None else result.probability

    def to_dict(self) -> dict[str, Any]:
        """Return plain data for JSON (what ``cofail mef --format json`` prints)."""
        results = self.solved
        data: dict[str, Any] = {
            "files": list(self.sources),
            "probability": self.probability,
            # None: that top's exact solve did not finish within the time limit.
            "tops": {t: None if r is None else r.probability for t, r in self.exact.items()},
            "gates": self.gates,
            "basic_events": self.basic_events,
            "bdd_nodes": {r.top: r.nodes for r in results},
            "modules": {r.top: r.modules for r in results},
            "variable_order": {r.top: r.order for r in results},
            "engine": self.engine,
            "assumptions": self.assumptions,
        }
        if self.time_limit is not None:
            data["time_limit"] = {"seconds": self.time_limit, "exact_not_finished": self.unfinished}
        if self.monte_carlo:
            data["monte_carlo"] = {
                top: mc.to_dict(self.exact_probability(top)) for top, mc in self.monte_carlo.items()
            }
        if self.cut_set_order is not None:
            data["cut_sets"] = {s.top: s.to_dict() for s in self.cut_sets}
        if self.importance:
            data["importance"] = {
                top: [f.to_dict() for f in factors] for top, factors in self.importance.items()
            }
        if self.uncertainty_trials is not None:
            data["uncertainty"] = {u.top: u.to_dict() for u in self.uncertainty}
        return data


def variable_order(text: str) -> Order | None:
    """Return the BDD variable order that ``text`` names, or None for ``"auto"`` (race them).

    >>> variable_order("dfs"), variable_order("auto")
    ('dfs', None)
    """
    if text == "auto":
        return None
    if text not in ORDERS:
        raise InputError(f"--order: expected auto, {', '.join(ORDERS)}; got {text!r}")
    return text


def solve(
    tree: FaultTree,
    top: str | None = None,
    *,
    order: Order | None = None,
    time_limit: float | None = None,
    monte_carlo: int | None = None,
    cut_sets: int | None = None,
    importance: bool = False,
    uncertainty: int | None = None,
    seed: int = 0,
    on_slow: Callable[[str, float, str], None] | None = None,
) -> FaultTreeResult:
    """Return the exact probability of ``top`` (default: every top gate), and what else is asked.

    Parameters
    ----------
    tree : the model, as :func:`read_mef` returns it.
    top : the gate to solve; by default every gate no other gate refers to.
    order : the BDD variable order (:data:`ORDERS`); None races them on large trees.
    time_limit : seconds allowed for each top's exact solve. Past it the solve is stopped: an
        ``InputError``, or with ``monte_carlo`` that top's estimate alone.
    monte_carlo : also estimate each top from this many random trials (a cross-check that
        shares no code with the BDD).
    cut_sets : also the minimal cut sets up to this order (coherent trees).
    importance : also each basic event's MIF, CIF, DIF, RAW and RRW.
    uncertainty : also sample the model's random deviates this many times, each trial exact.
    seed : for ``monte_carlo`` and ``uncertainty``.
    on_slow : ``on_slow(top, seconds, what)`` once if an exact solve (``what`` "exact solve")
        or a cut-set search ("cut-set search") without ``time_limit`` is still
        running after that many seconds.

    Raises
    ------
    InputError : no top gate, an unknown ``top``, a solve past ``time_limit`` with no estimate
        to stand in, or an analysis the model does not allow.

    Examples
    --------
    >>> from cofail.faulttree._mef import Formula
    >>> a, b = (Formula("event", name=n, kind="basic-event") for n in "ab")
    >>> t = FaultTree(gates={"top": Formula("or", (a, b))}, basic_events={"a": 0.1, "b": 0.2})
    >>> r = solve(t, cut_sets=2)
    >>> round(r.probability, 12), r.cut_sets[0].cut_sets
    (0.28, [('a',), ('b',)])
    """
    tops = [top] if top else tree.tops()
    if not tops:
        raise InputError(
            f"{', '.join(tree.sources)}: no fault-tree gate to evaluate (a file of basic "
            "events or event trees needs the fault tree's file with it)"
        )
    compile_them = importance or uncertainty is not None
    exact, compiled = _solve_tops(
        tree, tops, order, time_limit, compile_them, monte_carlo is not None, on_slow
    )
    results = [r for r in exact.values() if r is not None]
    engine = (
        f"exact: the tree rewritten into an equivalent one with more modules, a BDD "
        f"({results[0].engine if results else 'CUDD'}) per module"
        + (
            ", each module's AND/OR top evaluated from the BDDs below it without building it"
            if bdd_kernels is not None
            else ""
        )
        + "; probabilities as P and 1 - P sums"
    )
    # The analyses run in the order the command has always run them, so that of two that
    # cannot be done the same one is reported.
    estimates = None
    if monte_carlo is not None:
        from cofail.faulttree._sample import simulate_top

        estimates = {
            t: simulate_top(tree, t, monte_carlo, seed, time_limit=time_limit) for t in exact
        }
    summaries: list[CutSetSummary] = []
    if cut_sets is not None:
        from cofail.faulttree._cut_sets import mef_cut_sets

        cut_notice = on_slow if time_limit is None else None
        summaries = [
            mef_cut_sets(
                tree,
                r.top,
                cut_sets,
                time_limit=time_limit,
                on_slow=None if cut_notice is None else _bound(cut_notice, r.top, "cut-set search"),
            )
            for r in results
        ]
    factors = None
    if importance:
        from cofail.faulttree._importance import basic_event_importance

        factors = {r.top: basic_event_importance(tree, r.top, compiled[r.top]) for r in results}
    spreads: list[TopEventUncertainty] = []
    if uncertainty is not None:
        from cofail.faulttree._uncertainty import top_event_uncertainty

        spreads = [
            top_event_uncertainty(tree, r.top, uncertainty, seed, compiled[r.top]) for r in results
        ]
    return FaultTreeResult(
        sources=list(tree.sources),
        gates=len(tree.gates),
        basic_events=len(tree.basic_events),
        assumptions=tree.assumptions,
        exact=exact,
        engine=engine,
        time_limit=time_limit,
        seed=seed,
        monte_carlo=estimates,
        cut_set_order=cut_sets,
        cut_sets=summaries,
        importance=factors,
        uncertainty_trials=uncertainty,
        uncertainty=spreads,
    )


def _solve_tops(
    tree: FaultTree,
    tops: list[str],
    order: Order | None,
    time_limit: float | None,
    compile_them: bool,
    estimated: bool,
    on_slow: Callable[[str, float, str], None] | None,
) -> tuple[dict[str, BddResult | None], dict[str, CompiledTree]]:
    """Each top's exact result (None where ``time_limit`` stopped it and an estimate will
    stand in) and, with ``compile_them``, its compiled tree for reading again."""
    from cofail.faulttree._bdd import top_event_probability

    solved: dict[str, BddResult | None] = {}
    compiled: dict[str, CompiledTree] = {}
    for t in tops:
        if t not in tree.gates:
            raise InputError(f"no gate named {t!r}")
        # Under a time limit the solve is stopped anyway: no notice that it is taking long.
        notice = None if time_limit is not None or on_slow is None else _bound(on_slow, t)
        try:
            if compile_them:  # read again: solve and compile in one go, from the same BDDs
                from cofail.faulttree._compiled_tree import compile_top
                from cofail.faulttree._simplify import simplify

                compiled[t] = compile_top(simplify(tree, t), t, order, time_limit, notice)[1]
                solved[t] = compiled[t].result
            else:
                solved[t] = top_event_probability(
                    tree, t, order=order, time_limit=time_limit, on_slow=notice
                )
        except SolveTimeoutError as exc:
            # An estimate can stand in for P(top), never for the compiled tree that importance
            # and uncertainty read again.
            if not estimated or compile_them:
                needs = (
                    "--importance and --uncertainty need it"
                    if estimated
                    else "add --monte-carlo N for an estimate, or allow more time"
                )
                raise InputError(f"--time-limit: {exc}; {needs}") from None
            solved[t] = None
    return solved, compiled


def _bound(
    on_slow: Callable[[str, float, str], None], top: str, what: str = "exact solve"
) -> Callable[[float], None]:
    def notice(seconds: float) -> None:
        on_slow(top, seconds, what)

    return notice

"""What an exact P(stack fails) will cost, estimated before the solve starts.

The exact sums run over 2^min(layers, modes) terms (DESIGN.md). The engines often do far better:
the sparse DPs visit only the sets of failed layers that are unions of mode columns. A BDD may do
better or worse, and no formula says which. So the estimate follows the route
:func:`~cofail.probability._exact.exact_with_engine` takes for these numbers and measures that
route's work:

- 0/1 cells: the reachable sets, mode by mode, counted on a uniform sample of them (exact while
  they are few, then thinned by halves), as many as the sparse DP will touch;
- graded cells up to ``MAX_EXACT_LAYERS`` layers: the NumPy DP's passes over 2^n states, a
  fixed count;
- the BDD: solved on the first modes while that is quick; the growth of its nodes per added
  mode is extrapolated to every mode.

The times per unit of work are this machine's order of magnitude, so an estimate says seconds,
minutes or hours, not the second.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from cofail.errors import InputError
from cofail.probability import _exact
from cofail.probability._masks import is_binary

__all__ = [
    "MAX_EXACT_SECONDS",
    "NOTICE_SECONDS",
    "SLOW_SECONDS",
    "ExactCost",
    "ExactTooSlowError",
    "duration",
    "exact_cost",
    "monte_carlo_seconds",
    "still_running",
]

MAX_EXACT_SECONDS = 300.0
"""Longest exact solve started by default, by the estimate (the limit robustness keeps too)."""
NOTICE_SECONDS = 5.0
"""An exact solve estimated to take longer is announced, with its estimate, before it starts."""
SLOW_SECONDS = 20.0
"""A solve still running after this long says so once (as ``cofail mef`` does)."""

# Seconds per unit of work, measured on this machine (2 shared cores): the order of magnitude.
_HASHED_STEP = 100e-9
"""Hashed DP, per reachable set and mode (a random access into a table of up to 1 GiB)."""
_SPARSE_STEP = 4e-9
"""Compiled DP over at most 2^26 sets, per reachable set and mode."""
_DENSE_STEP = 2e-9
"""The same DP once most sets are reachable: a sweep over all 2^n of them per mode."""
_IE_STEP = 3e-9
"""Compiled inclusion–exclusion in double-double, per layer and subset (n 2^n)."""
_NUMPY_PASS = 2e-9
"""NumPy, per element of one pass over a 2^n array."""
_MC_STEP = 40e-9
"""Monte Carlo, per trial and per layer or mode."""

_TRIVIAL_TERMS = 1 << 12
"""Up to this many terms in the exact sum, every engine finishes in milliseconds."""
_SAMPLE_WORK = 4e9
"""Element operations the reachable-set sampler may spend (it keeps fewer sets for more modes)."""
_QUICK_SAMPLE = 4096
"""Sets the sampler keeps at first (tens of ms); ..."""
_FULL_SAMPLE = 32768
"""... and when that first count says the solve takes over a second (within about 10%)."""
_PROBE_STOP = 0.5
"""The BDD is timed on more and more modes until one solve takes this long ..."""
_PROBE_BUDGET = 2.0
"""... or the solves together this long."""
_PROBE_LIMIT = 5.0
"""Any one timed solve is stopped past this (it runs in a child process)."""


@dataclass(frozen=True)
class ExactCost:
    """The estimated cost of one exact P(stack fails), and the engine that would pay it."""

    layers: int
    modes: int
    """Failure modes that can defeat a layer (0/1 columns hitting the same layers count once)."""
    engine: str
    """The engine the solve would take, in a few words."""
    seconds: float
    """Estimated wall time on this machine."""
    basis: str
    """What the estimate rests on: reachable sets counted, passes, or the BDD timed on k modes."""
    reachable: float | None = None
    """Estimated sets of failed layers the state DP visits (0/1 cells), else None."""

    @property
    def terms(self) -> int:
        """Terms of the exact sum over mode subsets or layer subsets, whichever is smaller."""
        return 1 << min(self.layers, self.modes)

    def describe(self) -> str:
        """One clause: the size, the engine, the estimate and what it rests on.

        >>> ExactCost(60, 30, "BDD of the stack's fault tree", 5400.0, "timed on 16 modes").describe()
        "60 layers and 30 failure modes (2^30 terms): BDD of the stack's fault tree, about 1.5 h (timed on 16 modes)"
        """
        return (
            f"{self.layers} layers and {self.modes} failure modes "
            f"(2^{min(self.layers, self.modes)} terms): {self.engine}, "
            f"about {duration(self.seconds)} ({self.basis})"
        )

    def to_dict(self) -> dict[str, Any]:
        """Return plain data for JSON."""
        return {
            "layers": self.layers,
            "modes": self.modes,
            "terms": f"2^{min(self.layers, self.modes)}",
            "engine": self.engine,
            "seconds": self.seconds,
            "basis": self.basis,
            "reachable_sets": self.reachable,
        }


class ExactTooSlowError(InputError):
    """An exact solve whose estimate is past the caller's limit; the message names both and the
    way out."""

    def __init__(self, cost: ExactCost, limit: float, what: str, instead: str) -> None:
        self.cost, self.limit = cost, limit
        self.reason = (
            f"{what} {cost.describe()}, past the limit of {duration(limit)} (--time-limit)"
        )
        """The message without the way out."""
        super().__init__(f"{self.reason}; {instead}")


def duration(seconds: float) -> str:
    """A rough human duration.

    >>> duration(0.04), duration(42), duration(95), duration(5400), duration(4e6)
    ('0.04 s', '42 s', '2 min', '1.5 h', '46 days')
    """
    if not math.isfinite(seconds):
        return "an unknown time"
    if seconds < 1:
        return f"{seconds:.2g} s"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400 * 3:
        return f"{seconds / 3600:.2g} h"
    if seconds < 86400 * 365 * 3:
        return f"{seconds / 86400:.0f} days"
    return f"{seconds / (86400 * 365):.2g} years"


def monte_carlo_seconds(layers: int, modes: int, samples: int) -> float:
    """Estimated seconds of :func:`~cofail.probability._risk.monte_carlo` for ``samples`` trials.

    >>> round(monte_carlo_seconds(60, 30, 1_000_000), 1)
    3.6
    """
    return _MC_STEP * samples * (layers + modes)


def exact_cost(
    q: np.ndarray, p: np.ndarray, r: np.ndarray, k: int | None = None, *, time_bdd: bool = True
) -> ExactCost:
    """Return the estimated cost of the exact P(at least ``k`` layers fail) (default k = n).

    ``time_bdd=False`` does not time a BDD (up to 2.5 s): where the route ends in one with
    over 2^12 terms, ``seconds`` is infinite (for callers that weigh many stacks).

    Examples
    --------
    >>> cost = exact_cost(np.eye(4), np.full(4, 0.1), np.zeros(4))
    >>> cost.terms, cost.seconds < 0.01
    (16, True)

    Notes
    -----
    The route is :func:`~cofail.probability._exact.exact_with_engine`'s. With 0/1 cells the
    DP's work is the number of reachable sets before each mode, summed; the sampler finds it
    with O(S g^2) element operations for a sample of S sets and g distinct modes (S shrinks as
    g grows), unbiased: a new set t = s | c is counted from the one s it comes from, the union
    of the earlier modes inside t. The BDD is solved whole if it takes under 0.5 s; else it is
    timed on its first 4, 6, 8, ... modes (in child processes, each stopped after 5 s), about 2 s
    in all, and its peak nodes extrapolated by their growth per mode over the last three steps,
    at the largest solve's time per node.
    """
    q = np.asarray(q, dtype=float)
    p = np.asarray(p, dtype=float)
    r = np.asarray(r, dtype=float)
    n = q.shape[0]
    k = n if k is None else k
    live = np.flatnonzero((p > 0) & (q > 0).any(axis=0))
    binary = is_binary(q)
    if binary and n <= 63:
        masks, _ = _exact.binary_modes(q, p)
        g = len(masks)
    else:
        masks, g = None, len(live)
    compiled = _exact.kernels_available()
    if n <= _exact.MAX_EXACT_LAYERS and not (compiled and binary):
        return _numpy_cost(q, p, n, k == n, binary)  # passes over 2^n, however few the modes
    if 1 << min(n, g) <= _TRIVIAL_TERMS:
        seconds = 1e-5 + 1e-9 * (max(n, g) << min(n, g))
        return ExactCost(n, g, _route(n, binary), seconds, f"2^{min(n, g)} terms at most")
    if n <= _exact.MAX_EXACT_LAYERS:
        assert masks is not None
        return _compiled_cost(masks, n, k == n)
    if compiled and binary and n <= 63:
        assert masks is not None
        sets, work, crossed = _reachable(masks, n, _HASHED_STEP, cap=_exact.HASHED_MAX_STATES)
        if crossed is None:
            return ExactCost(
                n,
                g,
                "state DP over the reachable sets of failed layers (compiled, hashed)",
                work * _HASHED_STEP,
                f"about {sets:,.0f} reachable sets, counted on a sample",
                sets,
            )
        # The hashed DP gives up past its table's limit, then the BDD starts.
        wasted = crossed * _HASHED_STEP
        bdd = _bdd_cost(q, p, r, k, time_bdd)
        return ExactCost(
            n,
            g,
            f"{bdd.engine}, after the hashed state DP gives up at {_exact.HASHED_MAX_STATES:,} "
            f"of its about {sets:.2g} reachable sets",
            wasted + bdd.seconds,
            bdd.basis,
            sets,
        )
    return _bdd_cost(q, p, r, k, time_bdd)


def _route(n: int, binary: bool) -> str:
    if n <= _exact.MAX_EXACT_LAYERS:
        return "state DP over the sets of failed layers (compiled)"
    if binary and n <= 63 and _exact.kernels_available():
        return "state DP over the reachable sets of failed layers (compiled, hashed)"
    return "BDD of the stack's fault tree"


def _compiled_cost(masks: np.ndarray, n: int, k_all: bool) -> ExactCost:
    # compiled_binary's choice: inclusion-exclusion first for an AND stack of 16+ layers with
    # more than 4n distinct modes, else the DP with a work budget of n 2^n / 2 (then
    # inclusion-exclusion) for an AND stack of 16+ layers, else the DP to the end.
    g = len(masks)
    ie = _IE_STEP * n * 2.0**n
    ie_text = f"inclusion-exclusion over 2^{n} layer subsets (compiled)"
    if k_all and n >= _exact.INCLUSION_MIN_LAYERS and g > 4 * n:
        return ExactCost(n, g, ie_text, ie, f"{n} x 2^{n} steps")
    if g * 2.0**n * _DENSE_STEP < 0.5:  # even the dense DP over every set is quick
        return ExactCost(n, g, _route(n, True), g * 2.0**n * _DENSE_STEP, f"{g} x 2^{n} steps")
    sets, work, _ = _reachable(masks, n, _SPARSE_STEP, dense_from=2.0**n / 16)
    dense = sets > 2.0**n / 16
    step = _DENSE_STEP if dense else _SPARSE_STEP
    dp_text = "state DP over the sets of failed layers (compiled)"
    basis = f"about {sets:,.0f} of 2^{n} sets reachable, counted on a sample"
    budget = n * 2.0**n / 2
    if k_all and n >= _exact.INCLUSION_MIN_LAYERS and work > budget:
        return ExactCost(n, g, f"{dp_text}, then {ie_text}", budget * step + ie, basis, sets)
    return ExactCost(n, g, dp_text, work * step, basis, sets)


def _numpy_cost(q: np.ndarray, p: np.ndarray, n: int, k_all: bool, binary: bool) -> ExactCost:
    # The NumPy DP (graded cells, or no compiled kernels): per 0/1 mode a bincount and a blend
    # (about 4 passes over 2^n); per graded mode a copy, 1.5 passes per layer it may defeat,
    # and the blend; then one pass per layer for the residuals. Inclusion-exclusion in extended
    # precision costs about 4n passes when exact_with_engine picks it.
    columns = q[:, (p > 0) & (q > 0).any(axis=0)]
    graded = ~np.all((columns == 0) | (columns == 1), axis=0)
    distinct = len(np.unique(columns[:, ~graded], axis=1).T) if (~graded).any() else 0
    passes = 4 * distinct + sum(4 + 1.5 * np.count_nonzero(c) for c in columns[:, graded].T) + n
    modes = distinct + int(graded.sum())
    if k_all and binary and n >= _exact.INCLUSION_MIN_LAYERS and modes > 4 * n:
        passes = 4 * n
        engine = f"inclusion-exclusion over 2^{n} layer subsets (NumPy, extended precision)"
    else:
        engine = f"state DP over all 2^{n} sets of failed layers (NumPy)"
    return ExactCost(
        n, modes, engine, _NUMPY_PASS * passes * 2.0**n, f"{passes:.0f} passes over 2^{n}"
    )


def _reachable(
    masks: np.ndarray,
    n: int,
    step: float,
    *,
    cap: float = math.inf,
    dense_from: float = math.inf,
) -> tuple[float, float, float | None]:
    """(reachable sets after every mode, the DP's work, the work done when the sets first
    exceed ``cap`` or None), for the masks in the DP's order, from a uniform sample of the
    sets: a quick one, and a larger one when the work at ``step`` seconds a unit passes a
    second. ``dense_from``: past that many sets, a mode costs 2^n (the DP sweeps every set)."""
    quick = _sampled_reachable(masks, n, _QUICK_SAMPLE, cap, dense_from)
    if quick[1] * step < 1.0:
        return quick
    keep = int(np.clip(_SAMPLE_WORK / max(len(masks), 1) ** 2, _QUICK_SAMPLE, _FULL_SAMPLE))
    return _sampled_reachable(masks, n, keep, cap, dense_from)


def _sampled_reachable(
    masks: np.ndarray, n: int, keep: int, cap: float, dense_from: float
) -> tuple[float, float, float | None]:
    rng = np.random.default_rng(0)
    g = len(masks)
    sample = np.zeros(1, dtype=np.uint64)
    scale = 1.0  # each reachable set is in the sample with probability 1 / scale
    work, crossed = 0.0, None
    for j in range(g):
        count = scale * len(sample)
        work += 2.0**n if count > dense_from else count
        if crossed is None and count > cap:
            crossed = work
        c = masks[j]
        grown = sample | c
        moved = grown != sample
        targets, sources = grown[moved], sample[moved]
        closure = np.zeros(len(targets), dtype=np.uint64)
        earlier = masks[:j]
        for block in range(0, len(earlier), 64):  # a new set comes from one set: its closure
            chunk = earlier[block : block + 64]
            inside = (targets[:, None] & chunk[None, :]) == chunk[None, :]
            closure |= np.bitwise_or.reduce(np.where(inside, chunk[None, :], 0), axis=1)
        sample = np.concatenate([sample, targets[closure == sources]])
        while len(sample) > 2 * keep:
            sample = sample[rng.random(len(sample)) < 0.5]
            scale *= 2
    count = scale * len(sample)
    if crossed is None and count > cap:
        crossed = work
    return count, work, crossed


def _bdd_cost(q: np.ndarray, p: np.ndarray, r: np.ndarray, k: int, time_bdd: bool) -> ExactCost:
    """Time the BDD on the first 4, 6, 8, ... modes; extrapolate its nodes and time."""
    from cofail.faulttree import stack_tree, top_event_probability
    from cofail.faulttree._bdd import SolveTimeoutError

    engine = "BDD of the stack's fault tree"
    columns = np.flatnonzero((p > 0) & (q > 0).any(axis=0))
    g = len(columns)
    if not time_bdd:
        return ExactCost(q.shape[0], g, engine, math.inf, "not timed")

    def timed(used: int, limit: float) -> tuple[int, int, float] | None:
        chosen = columns[:used]
        start = time.perf_counter()
        try:
            result = top_event_probability(
                stack_tree(q[:, chosen], p[chosen], r, k), "TOP", time_limit=limit
            )
        except SolveTimeoutError:
            return None
        return used, max(result.nodes, 1), time.perf_counter() - start

    whole = timed(g, _PROBE_STOP)  # most BDDs are quick: then that is the answer
    if whole is not None:
        return ExactCost(q.shape[0], g, engine, whole[2], f"solved in {duration(whole[2])}")
    points: list[tuple[int, int, float]] = []  # (modes, peak nodes, seconds)
    spent, used = _PROBE_STOP, min(g - 1, 4)
    while used < g:
        point = timed(used, _PROBE_LIMIT)
        if point is None:
            break
        points.append(point)
        spent += point[2]
        if point[2] > _PROBE_STOP or spent > _PROBE_BUDGET:
            break
        used += 2
    if len(points) < 2:  # even a few modes are slow: grow as the worst case, 2 per mode
        base = points[-1] if points else (used, 1, _PROBE_LIMIT)
        factor = 2.0 if points or used < g else 1.0
    else:
        # The nodes' growth per mode over the last three steps (one step alone jumps about),
        # at the largest solve's time per node (its start-up counted: erring high).
        first, base = points[max(0, len(points) - 4)], points[-1]
        factor = max(1.0, (base[1] / first[1]) ** (1 / (base[0] - first[0])))
    seconds = base[2] * factor ** (g - base[0])
    return ExactCost(
        q.shape[0],
        g,
        engine,
        seconds,
        f"timed on {base[0]} of the {g} modes, its nodes x{factor:.2g} per mode",
    )


@contextmanager
def still_running(
    notify: Callable[[str], None] | None,
    text: Callable[[float], str],
    after: float | None = None,
) -> Iterator[None]:
    """Call ``notify(text(after))`` once if the block is still running after ``after`` seconds
    (default ``SLOW_SECONDS``).

    The engines release the GIL while they work, so a timer thread can speak for them.

    >>> told = []
    >>> with still_running(told.append, lambda s: f"{s:g} s", after=0.01):
    ...     time.sleep(0.2)
    >>> told
    ['0.01 s']
    """
    if notify is None:
        yield
        return
    wait = SLOW_SECONDS if after is None else after
    timer = threading.Timer(wait, lambda: notify(text(wait)))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()

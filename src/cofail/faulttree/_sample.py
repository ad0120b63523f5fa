"""Monte Carlo estimate of a fault tree's top-event probability, 64 trials per machine word.

A cross-check of the exact answer that shares no code with it (the tree as read, not the
rewritten one; no BDD), and the only answer for a tree whose BDD does not fit in memory: the
Aralia tree nus9601 defeats SCRAM and cofail alike. Each basic event's outcomes over a block of
trials are drawn as a bit vector (trial t is bit t % 64 of word t // 64), each gate combines
its arguments' vectors with word-wide AND, OR, XOR and NOT, and the set bits of the top gate's
vector are counted. The estimate is hits / trials with a Clopper–Pearson interval.
"""

from __future__ import annotations

import math
import time
from collections import Counter

import numpy as np

from cofail.errors import InputError
from cofail.faulttree._compiled import sampling as _sampling
from cofail.faulttree._mef import FaultTree, Formula
from cofail.intervals import MonteCarlo

__all__ = ["draw_block", "evaluate", "simulate_top"]

_BLOCK_WORDS = 1 << 14
"""Words per block (2^20 trials): 128 KiB per live vector."""
_SPARSE_BELOW = 0.25
"""Below this probability an event's failures are placed by geometric gaps between them (cost
in proportion to the failures) instead of one uniform draw per trial."""
_DRAWS_PER_CALL = 1 << 21
"""Draws generated at once for the kernel (16 MiB)."""
_ONES = np.uint64(0xFFFF_FFFF_FFFF_FFFF)
_Plan = tuple[list[str], Counter[str], list[str]]
"""Gates children first, references to each gate, basic events in order of first reference."""


def draw_block(
    probs: np.ndarray, trials: int, rng: np.random.Generator, out: np.ndarray | None = None
) -> np.ndarray:
    """Independent outcomes of ``trials`` trials per event, event i set with ``probs[i]``:
    row i holds event i's outcomes as bits (trial t is bit t % 64 of word t // 64; bits past
    ``trials`` in the last word are clear). ``out``, if given, is a uint64 array of the right
    shape to fill (cleared first): reusing one saves the page faults of fresh memory, which
    cost more than the drawing itself.

    >>> rows = draw_block(np.array([0.0, 1.0, 0.3]), 70, np.random.default_rng(0))
    >>> rows.shape, [int(np.bitwise_count(r).sum()) for r in rows[:2]]
    ((3, 2), [0, 70])

    Notes
    -----
    An event below probability 0.25 is placed failure by failure: the gap to its next failure
    is floor(E / -log(1 - p)) + 1 for a standard exponential E, which is geometric with
    parameter p, so the cost follows the failures (about 10,000 per event per million trials
    at 0.01) rather than the trials. Any other event takes one uniform per trial. The draws
    come from ``rng`` in bulk, in the same order whether the C kernel (``_sampling.c``) or
    NumPy places them, so a seed gives the same bits with or without a compiler.
    """
    words = -(-trials // 64)
    if out is None:
        out = np.zeros((len(probs), words), np.uint64)
    elif out.shape != (len(probs), words) or out.dtype != np.uint64:
        raise ValueError(f"out: expected a uint64 array of shape {(len(probs), words)}")
    else:
        out.fill(0)
    probs = np.ascontiguousarray(probs, dtype=float)
    budget = _budgets(probs, trials)
    first = 0
    while first < len(probs):  # events in groups of about _DRAWS_PER_CALL draws
        stop = np.searchsorted(np.cumsum(budget[first:]), _DRAWS_PER_CALL, side="right")
        last = first + max(1, int(stop))
        chunk, mine, rows = probs[first:last], budget[first:last], out[first:last]
        sparse = (chunk > 0) & (chunk < _SPARSE_BELOW)
        dense = (chunk >= _SPARSE_BELOW) & (chunk < 1)
        exps = rng.standard_exponential(int(mine[sparse].sum()))
        unis = rng.random(int(mine[dense].sum()))
        if _sampling is not None:
            short = _sampling.fill_rows(rows, chunk, trials, exps, unis, mine, _SPARSE_BELOW)
        else:
            short = _fill_rows(rows, chunk, trials, exps, unis, mine)
        for k in short:  # ran out of draws (about e^-32 per event): drawn again, one by one
            _redraw(rows[k], float(chunk[k]), trials, rng)
        first = last
    if trials % 64:  # a certain event fills whole words
        out[:, -1] &= _last_word(trials)
    return out


def _budgets(probs: np.ndarray, trials: int) -> np.ndarray:
    """Draws per event: one per trial for a dense event; for a sparse one, enough gaps for 8
    standard deviations past the mean count of failures."""
    expected = trials * probs
    sparse = (expected + 8 * np.sqrt(expected) + 16).astype(np.int64)
    budget = np.where(probs >= _SPARSE_BELOW, trials, sparse)
    return np.where((probs <= 0) | (probs >= 1), 0, budget).astype(np.int64)


def _fill_rows(
    rows: np.ndarray,
    probs: np.ndarray,
    trials: int,
    exps: np.ndarray,
    unis: np.ndarray,
    budget: np.ndarray,
) -> list[int]:
    """NumPy's ``_sampling.fill_rows``: the same bits from the same draws (see there)."""
    short: list[int] = []
    at_e = at_u = 0
    for i, p in enumerate(probs):
        have = int(budget[i])
        if p <= 0:
            continue
        if p >= 1:
            rows[i] = _ONES
        elif p >= _SPARSE_BELOW:
            u, at_u = unis[at_u : at_u + have], at_u + have
            if have < trials:
                short.append(i)
                continue
            _set_outcomes(rows[i], u[:trials] < p)
        else:
            e, at_e = exps[at_e : at_e + have], at_e + have
            # Clipped before the cast: a gap past the last trial ends the row either way.
            gaps = np.minimum(e * (-1.0 / math.log1p(-p)), trials).astype(np.int64) + 1
            positions = np.cumsum(gaps) - 1
            if len(positions) == 0 or positions[-1] < trials:
                short.append(i)
                continue
            _set_bits(rows[i], positions[positions < trials])
    return short


def _redraw(row: np.ndarray, p: float, trials: int, rng: np.random.Generator) -> None:
    """Draw one event's row again, from zeros, with as many draws as it takes."""
    row.fill(0)
    if p >= _SPARSE_BELOW:
        _set_outcomes(row, rng.random(trials) < p)
        return
    positions = np.cumsum(rng.geometric(p, 64)) - 1
    while positions[-1] < trials:
        positions = np.concatenate([positions, positions[-1] + np.cumsum(rng.geometric(p, 64))])
    _set_bits(row, positions[positions < trials])


def _set_outcomes(row: np.ndarray, failed: np.ndarray) -> None:
    """Write one boolean per trial (the first ``len(failed)`` trials) into ``row`` as bits."""
    bits = np.zeros(64 * len(row), bool)
    bits[: len(failed)] = failed
    row[:] = np.packbits(bits, bitorder="little").view(np.uint64)


def _last_word(trials: int) -> np.uint64:
    """The bits of the last word that hold trials (``trials`` not a multiple of 64)."""
    return np.uint64((1 << (trials % 64)) - 1)


def _set_bits(row: np.ndarray, positions: np.ndarray) -> None:
    positions = positions.astype(np.uint64)
    np.bitwise_or.at(row, positions >> np.uint64(6), np.uint64(1) << (positions & np.uint64(63)))


def _gate_order(tree: FaultTree, top: str) -> _Plan:
    """Gates below ``top`` children first, how many references each gets from the gates
    evaluated, and the basic events in order of first reference."""
    order: list[str] = []
    events: list[str] = []
    seen_events: set[str] = set()
    uses: Counter[str] = Counter()
    state: dict[str, int] = {}
    stack: list[tuple[str, bool]] = [(top, False)]
    while stack:
        gate, leaving = stack.pop()
        if leaving:
            order.append(gate)
            continue
        if gate in state:
            continue
        state[gate] = 1
        stack.append((gate, True))
        children = []
        for name in tree.gates[gate].references():
            if name in tree.gates:
                uses[name] += 1
                children.append(name)
            elif name in tree.basic_events and name not in seen_events:
                seen_events.add(name)
                events.append(name)
        stack.extend((c, False) for c in reversed(children) if c not in state)
    return order, uses, events


def evaluate(
    tree: FaultTree,
    top: str,
    leaves: dict[str, np.ndarray],
    words: int,
    plan: _Plan | None = None,
) -> np.ndarray:
    """The top gate's outcome vector, given every basic event's (``leaves``); house events are
    constants. ``plan`` is ``_gate_order(tree, top)``, computed here if not given.

    >>> e = lambda n: Formula("event", name=n, kind="basic-event")
    >>> t = FaultTree(gates={"top": Formula("atleast", (e("a"), e("b"), e("c")), min=2)},
    ...     basic_events={"a": 0.1, "b": 0.2, "c": 0.3})
    >>> a, b, c = (np.array([v], np.uint64) for v in (0b0011, 0b0101, 0b1001))
    >>> bin(int(evaluate(t, "top", {"a": a, "b": b, "c": c}, 1)[0]))  # two of three set
    '0b1'
    """
    order, counts, _ = plan or _gate_order(tree, top)
    uses = counts.copy()
    values: dict[str, np.ndarray] = {}
    ones, zeros = np.full(words, _ONES), np.zeros(words, np.uint64)

    def value(f: Formula) -> np.ndarray:
        if f.op == "event":
            if f.name in tree.gates:
                out = values[f.name]
                uses[f.name] -= 1
                if uses[f.name] == 0:  # its last reader: free the vector
                    del values[f.name]
                return out
            if f.name in tree.house_events:
                return ones if tree.house_events[f.name] else zeros
            return leaves[f.name]
        if f.op == "constant":
            return ones if f.value else zeros
        args = [value(a) for a in f.args]
        return _combine(f, args, ones, zeros)

    for gate in order:
        values[gate] = value(tree.gates[gate])
    return values[top]


def _combine(f: Formula, args: list[np.ndarray], ones: np.ndarray, zeros: np.ndarray) -> np.ndarray:
    op = f.op
    if op == "null":
        return args[0]
    if op == "not":
        out: np.ndarray = np.invert(args[0])
        return out
    if op == "atleast":
        # reached[j]: at least j of the arguments so far are set (j = 1..k).
        reached = [ones] + [zeros] * f.min
        for a in args:
            for j in range(f.min, 0, -1):
                reached[j] = reached[j] | (reached[j - 1] & a)
        return reached[f.min]
    ufunc = {
        "and": np.bitwise_and,
        "nand": np.bitwise_and,
        "or": np.bitwise_or,
        "nor": np.bitwise_or,
        "xor": np.bitwise_xor,
        "iff": np.bitwise_xor,
    }.get(op)
    if ufunc is None:  # pragma: no cover - the reader refuses other operators
        raise InputError(f"unsupported gate formula {op!r}")
    out = args[0].copy()
    for a in args[1:]:
        ufunc(out, a, out=out)
    if op in ("nand", "nor", "iff"):
        np.invert(out, out=out)
    return out


def simulate_top(
    tree: FaultTree, top: str, samples: int, seed: int = 0, *, time_limit: float | None = None
) -> MonteCarlo:
    """Estimate P(``top``) from ``samples`` independent trials of every basic event.

    ``time_limit`` (seconds) stops the run at the first block of 2^20 trials that ends past
    it; the result then holds the trials done and ``requested`` the trials asked for.

    >>> e = lambda n: Formula("event", name=n, kind="basic-event")
    >>> t = FaultTree(gates={"top": Formula("and", (e("a"), e("b")))},
    ...     basic_events={"a": 0.5, "b": 0.2})
    >>> m = simulate_top(t, "top", 100_000, seed=1)
    >>> m.covers(0.1), m.samples
    (True, 100000)

    Notes
    -----
    Trials run in blocks of 2^20; within a block the events are drawn in the order the tree
    first refers to them, so a seed gives the same answer on every machine. A gate's vector
    is freed after its last reader.
    """
    if samples < 1:
        raise InputError(f"--monte-carlo: expected at least 1 trial, got {samples}")
    if top not in tree.gates:
        raise InputError(f"no gate named {top!r}")
    plan = _gate_order(tree, top)
    events = plan[2]
    probs = np.array([tree.basic_events[name] for name in events], dtype=float)
    rng = np.random.default_rng(seed)
    hits = done = 0
    deadline = None if time_limit is None else time.monotonic() + time_limit
    buffer = np.empty((len(events), min(_BLOCK_WORDS, -(-samples // 64))), np.uint64)
    while done < samples:
        trials = min(64 * _BLOCK_WORDS, samples - done)
        words = -(-trials // 64)
        rows = draw_block(probs, trials, rng, buffer if words == buffer.shape[1] else None)
        out = evaluate(tree, top, dict(zip(events, rows, strict=True)), words, plan)
        if trials % 64:  # a NOT may have set the last word's unused bits
            out = out.copy()
            out[-1] &= _last_word(trials)
        hits += int(np.bitwise_count(out).sum())
        done += trials
        if deadline is not None and done < samples and time.monotonic() > deadline:
            return MonteCarlo(samples=done, hits=hits, seed=seed, requested=samples)
    return MonteCarlo(samples=samples, hits=hits, seed=seed)

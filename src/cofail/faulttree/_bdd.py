"""Exact top-event probability of general fault trees with a BDD (CUDD through ``dd``).

The probability is read off the BDD with two positive-term recursions, P(node) and
1 − P(node) side by side, so complemented edges never subtract: a top event of 1e-11 keeps full
relative precision.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
import time
from array import array
from collections import Counter
from collections.abc import Callable
from typing import Any, Literal

from cofail.errors import InputError
from cofail.faulttree._compiled import bdd_kernels as _kernels
from cofail.faulttree._compiled import flat_bdd as _flat_bdd
from cofail.faulttree._mef import FaultTree, Formula
from cofail.faulttree._modules import find_modules
from cofail.faulttree._simplify import simplify

__all__ = [
    "ORDERS",
    "BddResult",
    "Order",
    "SolveTimeoutError",
    "top_event_probability",
]


class SolveTimeoutError(Exception):
    """The exact solve did not finish within the caller's time limit (its processes are
    stopped)."""

    def __init__(self, top: str, seconds: float) -> None:
        self.top, self.seconds = top, seconds
        super().__init__(f"the exact solve of {top!r} did not finish within {seconds:g} s")


def _bdd_module() -> tuple[Any, str]:
    # dd imports networkx (0.2 s) only to draw BDDs, which cofail never does: hide it during the
    # import, then un-hide it so that anyone else's later `import networkx` works as usual.
    hidden = "networkx" not in sys.modules
    if hidden:
        sys.modules["networkx"] = None  # type: ignore[assignment]
    try:
        from dd import cudd

        return cudd, "CUDD"
    except ImportError:  # pragma: no cover - the wheel ships CUDD on Linux x86-64
        from dd import autoref

        return autoref, "dd (pure Python)"
    finally:
        if hidden:
            del sys.modules["networkx"]


def _new_manager(module: Any, engine: str, gates: int) -> Any:
    """A BDD manager with a static variable order; a tree of fewer than
    :data:`_RACE_MIN_GATES` gates starts with a small computed table.

    CUDD's default table of 2^18 slots takes 9 ms to allocate, most of a small tree's whole
    solve (Aralia's chinese: 13 ms instead of 22 ms); CUDD grows the table itself when its hit
    rate asks for it, and large trees keep the default they were measured with. A small tree's
    manager also gets a memory estimate of :data:`_SMALL_MEMORY` instead of dd's 1 GiB: CUDD's
    set-up time grows with the estimate (1.5 ms at 1 GiB, 6 ms in a fresh process, 0.1 ms at
    64 MiB), and the estimate is soft, a point past which CUDD collects garbage more eagerly,
    not a limit (a 22-gate formula of 8 million nodes builds as fast with 16 MiB as with 1 GiB).
    """
    if engine != "CUDD":  # pragma: no cover - the wheel ships CUDD on Linux x86-64
        return module.BDD()
    if gates < _RACE_MIN_GATES:
        bdd = module.BDD(memory_estimate=_SMALL_MEMORY, initial_cache_size=_SMALL_CACHE)
    else:
        bdd = module.BDD()
    # A static order: sifting costs more than it saves on most trees.
    bdd.configure(reordering=False)
    return bdd


_SMALL_CACHE = 2**12
"""Slots of the computed table a small tree's manager starts with (CUDD's default: 2^18)."""
_SMALL_MEMORY = 2**26
"""Bytes a small tree's manager tells CUDD to expect (dd's default: 2^30); see _new_manager."""


Order = Literal["size", "dfs", "small"]
"""Variable-order heuristics: depth-first with the larger argument first (``size``), left to
right (``dfs``), or depth-first with the smaller argument first (``small``)."""
Heuristic = Order
"""The same three (the name the event-tree solve uses)."""


@dataclasses.dataclass(frozen=True)
class BddResult:
    """Top-event probability and the size of the BDDs that gave it."""

    top: str
    probability: float
    nodes: int
    """Largest number of live BDD nodes at any point (all modules share one manager)."""
    variables: int
    """Basic events under the top gate."""
    engine: str
    modules: int = 1
    """Independent sub-trees (modules) solved one at a time, the top gate included."""
    order: Order = "size"
    """The variable-order heuristic that gave the answer (see :data:`ORDERS`)."""


def _variable_order(
    tree: FaultTree, root: str, leaves: set[str], heuristic: Heuristic
) -> list[str]:
    """Variables in depth-first order below ``root``, visiting the larger argument first.

    Gates in ``leaves`` (solved modules) count as variables. "Larger" is the number of
    distinct variables below an argument: the big sub-trees' variables stay together at the
    top of the order and the small ones fill in below, which keeps the BDDs of the Aralia
    trees several times smaller than the plain left-to-right depth-first order. ``dfs`` visits
    the arguments left to right, ``small`` the smaller first.
    """
    below: dict[str, frozenset[str]] = {}

    def support(name: str) -> frozenset[str]:
        if name not in below:
            if name in tree.gates and name not in leaves:
                below[name] = frozenset().union(
                    *(support(c) for c in tree.gates[name].references())
                )
            elif name in tree.basic_events or name in leaves:
                below[name] = frozenset((name,))
            else:
                below[name] = frozenset()  # a house event: a constant, not a variable
        return below[name]

    order: list[str] = []
    seen: set[str] = set()

    def kids(gate: str) -> list[str]:
        refs = tree.gates[gate].references()
        if heuristic == "dfs":
            return refs
        sign = 1 if heuristic == "small" else -1
        return sorted(refs, key=lambda c: sign * len(support(c)))

    stack = list(reversed(kids(root)))
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in tree.gates and name not in leaves:
            stack.extend(reversed(kids(name)))
        elif name in tree.basic_events or name in leaves:
            order.append(name)
    return order


ORDERS: tuple[Order, ...] = ("size", "dfs", "small")
"""Every order a solve may be told to use (``--order``)."""
RACED: tuple[Order, ...] = ("size", "small")
"""The orders a large tree's top races, one process each. Alone, on the Aralia tops of 100+
gates, ``size`` or ``small`` is within 15 ms of the fastest order on all 15 (``dfs`` is the
fastest on none by more: edf9203 0.25 s against ``small``'s 0.27 s), and ``small`` answers
edf9202 in 0.05 s where ``dfs`` takes 0.33 s and ``size`` is past 8 s."""
SLOW_SECONDS = 20.0
"""After this long a solve in separate processes tells its caller (``on_slow``), once."""
_RACE_MIN_GATES = 100
"""Trees with at least this many gates race the two orders on two processes."""


def top_event_probability(
    tree: FaultTree,
    top: str | None = None,
    *,
    order: Order | None = None,
    simplified: bool = True,
    time_limit: float | None = None,
    on_slow: Callable[[float], None] | None = None,
) -> BddResult:
    """Return the exact probability of a top gate (default: the only top gate of the tree).

    Examples
    --------
    >>> t = FaultTree(gates={"top": Formula("atleast", (Formula("event", name="a", kind="basic-event"),
    ...     Formula("event", name="b", kind="basic-event"), Formula("event", name="c", kind="basic-event")),
    ...     min=2)}, basic_events={"a": 0.1, "b": 0.2, "c": 0.3})
    >>> round(top_event_probability(t).probability, 6)  # ab + ac + bc - 2abc
    0.098

    Notes
    -----
    The tree is first rewritten into an equivalent one with more modules
    (:func:`cofail.faulttree._simplify.simplify`; ``simplified=False`` skips that), then
    split into modules (:func:`find_modules`); each is compiled to a BDD on its own,
    bottom-up, with the modules below it as variables carrying their exact (P, 1 − P).
    No static variable order is best on every tree (on the Aralia set each of the two
    :data:`RACED` is several times faster than the other on some tree), so unless ``order`` is
    given a tree of 100 gates or more is solved with both at once, one process each, and the
    first to finish wins; the other is stopped. With ``time_limit`` (seconds) the solve always runs in
    separate processes (where the platform can fork), stopped at the limit with
    :class:`SolveTimeoutError`. ``on_slow(seconds)`` is called once if a solve in separate
    processes is still running after that many seconds (:data:`SLOW_SECONDS`).
    """
    tops = tree.tops()
    if top is None:
        if len(tops) != 1:
            raise InputError(
                f"the model has {len(tops)} top gates ({', '.join(tops[:5])}); name one"
            )
        top = tops[0]
    if top not in tree.gates:
        raise InputError(f"no gate named {top!r}")
    if simplified:
        tree = simplify(tree, top)
    orders = forked_orders(tree, order, time_limit)
    if orders:
        return BddResult(**_race(tree, top, _solve_payload, orders, time_limit, on_slow))
    return _solve(tree, top, order or ORDERS[0])


def _solve_payload(tree: FaultTree, top: str, order: Order) -> dict[str, Any]:
    return dataclasses.asdict(_solve(tree, top, order))


def races(tree: FaultTree) -> bool:
    """Whether this (rewritten) tree is solved with every variable order at once."""
    return len(tree.gates) >= _RACE_MIN_GATES and _can_fork()


def forked_orders(
    tree: FaultTree, order: Order | None, time_limit: float | None
) -> tuple[Order, ...]:
    """The orders to solve ``tree`` with in forked processes: every order for a large tree
    when none is given, the one order under a time limit (only a process can be stopped), or
    none at all (solve here)."""
    if order is None and races(tree):
        return RACED
    if time_limit is not None and _can_fork():
        return (order or ORDERS[0],)
    return ()


def _solve(tree: FaultTree, top: str, order: Order) -> BddResult:
    return _solved(tree, top, order, keep_roots=False)[1]


def _solved(
    tree: FaultTree, top: str, order: Order, *, keep_roots: bool
) -> tuple[_ModuleSolver, BddResult]:
    """Solve every module below ``top`` (bottom-up); return the solver and the result."""
    module, engine = _bdd_module()
    bdd = _new_manager(module, engine, len(tree.gates))
    gates, modules = find_modules(tree, top)
    solver = _ModuleSolver(tree, bdd, modules, order, keep_roots=keep_roots)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 20_000))
    try:
        for gate in gates:
            if gate in modules:
                solver.solve(gate)
    finally:
        sys.setrecursionlimit(limit)
    return solver, BddResult(
        top=top,
        probability=solver.values[top][0],
        nodes=solver.peak,
        variables=solver.basic_variables,
        engine=engine,
        modules=len(modules),
        order=order,
    )


def _can_fork() -> bool:
    """Whether this process may fork solvers (not on platforms without fork, nor inside a
    daemonic multiprocessing worker). multiprocessing is imported only for trees that race."""
    import multiprocessing as mp

    return "fork" in mp.get_all_start_methods() and not mp.current_process().daemon


RACER_NICE = 5
"""Niceness added to every racer but the first: on idle cores it changes nothing; where cores
are scarce the first order (``size``, the usual winner) keeps the CPU and the others take what
is left, instead of halving it (with one core busy, a second racer at equal priority slowed
edfpa14b's sequences 0.8-1.1 s -> 1.4-1.5 s)."""


def _race(
    tree: FaultTree,
    top: str,
    work: Callable[[FaultTree, str, Any], Any],
    orders: tuple[Heuristic, ...] = ORDERS,
    time_limit: float | None = None,
    on_slow: Callable[[float], None] | None = None,
    *,
    later: tuple[Heuristic, ...] = (),
    later_after: float = 0.0,
) -> Any:
    """Run ``work`` with each order in its own forked process; return the first answer (it
    comes back pickled, through a pipe). The ``later`` orders join the race only if no answer
    has come after ``later_after`` seconds (or every earlier process has died). Past
    ``time_limit`` seconds, stop them all and raise :class:`SolveTimeoutError`; past
    :data:`SLOW_SECONDS`, call ``on_slow`` once."""
    import multiprocessing as mp
    import multiprocessing.connection as mp_connection
    import time

    # Processes, not threads: dd holds the GIL through every CUDD call, so two orders in
    # threads would take turns instead of racing, and a thread cannot be stopped mid-call.
    # fork, not spawn: the child inherits the tree as it is (no pickling of a large tree, no
    # re-import of cofail), and CUDD starts afresh in each child.
    ctx = mp.get_context("fork")
    runners: list[tuple[Any, Any]] = []
    pending: list[Any] = []
    start = time.monotonic()
    deadline = None if time_limit is None else start + time_limit
    slow_at = None if on_slow is None else start + SLOW_SECONDS
    later_at = start + later_after if later else None

    def launch(order: Heuristic) -> None:
        receive, send = ctx.Pipe(duplex=False)
        nice = 0 if not runners else RACER_NICE  # the first order at the caller's priority
        process = ctx.Process(
            target=_race_worker,
            args=(work, tree, top, order, send, os.getpid(), nice),
            daemon=True,
        )
        process.start()
        # The parent's copy of the sending end must go: otherwise a child that dies never
        # closes the pipe and recv() below would wait for it instead of raising EOFError.
        send.close()
        runners.append((process, receive))
        pending.append(receive)

    try:
        for order in orders:
            launch(order)
        while pending or later_at is not None:
            now = time.monotonic()
            if later_at is not None and (now >= later_at or not pending):
                later_at = None
                for order in later:
                    launch(order)
                continue
            wake = min((t for t in (deadline, slow_at, later_at) if t is not None), default=None)
            # One wait for whichever comes first: an answer, the slow notice, the late orders'
            # start, the deadline.
            ready = mp_connection.wait(pending, None if wake is None else max(0.0, wake - now))
            if not ready and later_at is not None and time.monotonic() >= later_at:
                continue
            if not ready and slow_at is not None and time.monotonic() >= slow_at:
                slow_at = None
                assert on_slow is not None
                on_slow(SLOW_SECONDS)
                continue
            if not ready:
                raise SolveTimeoutError(top, time_limit or 0.0)
            for conn in [c for c in pending if c in ready]:
                try:
                    kind, payload = conn.recv()
                except EOFError:  # that process died (out of memory, killed): wait for the other
                    pending.remove(conn)
                    continue
                if kind == "error":  # a fault of the tree: the other order would find it too
                    raise InputError(str(payload))
                return payload
        raise InputError(
            f"the exact solve of {top!r} stopped without an answer: every BDD process died, "
            "most likely out of memory; --time-limit S --monte-carlo N estimates P(top) instead"
        )
    finally:
        # The loser (or every solver, on a timeout or Ctrl-C) is killed, not asked to stop:
        # CUDD cannot be interrupted from Python, and its memory goes with the process.
        for process, receive in runners:
            if process.is_alive():
                process.kill()
            process.join()
            receive.close()


def _die_with_parent(parent: int) -> None:
    """Ask Linux to kill this process when its parent dies (even by SIGKILL, e.g. a timeout).

    Without it a killed ``cofail mef`` would leave its racing solvers running. ``parent`` is the
    pid the parent had before forking: read here instead, it would already be the reaper's if
    the parent died between the fork and this call, and the check below would pass.
    """
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux: nothing to ask for
        return
    if os.getppid() != parent:  # the parent died before the request: follow it now
        os._exit(1)


def _race_worker(
    work: Callable[[FaultTree, str, Any], Any],
    tree: FaultTree,
    top: str,
    order: Heuristic,
    send: Any,
    parent: int,
    nice: int = 0,
) -> None:
    _die_with_parent(parent)
    if nice:
        with contextlib.suppress(OSError):  # a platform that refuses: race at equal priority
            os.nice(nice)
    try:
        send.send(("ok", work(tree, top, order)))
    # Sent, not raised: raised here it would only end this process, and the parent, seeing the
    # pipe close, would take the tree's fault for a solver that ran out of memory.
    except InputError as exc:
        send.send(("error", str(exc)))
    finally:
        send.close()


class _ModuleSolver:
    """Solves modules one at a time in one BDD manager; solved modules become variables.

    BDD variables get generated names (``v0``, ``v1``, ...) with explicit CUDD indices, so that
    any event name is safe and the compiled probability pass can index p by variable.
    """

    def __init__(
        self,
        tree: FaultTree,
        bdd: Any,
        modules: set[str],
        order: Heuristic,
        *,
        keep_roots: bool = False,
    ) -> None:
        self.tree, self.bdd, self.modules, self.order = tree, bdd, modules, order
        self.roots: dict[str, Any] | None = {} if keep_roots else None
        """Each module's BDD, or the flat expansion (nodes, root) of its top formula (see
        :meth:`_formula_probability`), in the order solved (kept only for re-evaluation)."""
        self.values: dict[str, tuple[float, float]] = {
            name: (prob, 1.0 - prob) for name, prob in tree.basic_events.items()
        }
        self.var: dict[str, str] = {}  # event or module name -> BDD variable name
        self.probs: list[float] = []  # by CUDD index
        self.comps: list[float] = []
        self.peak = self.basic_variables = 0
        self.uses: Counter[str] = Counter()
        self.next_size_check = 0.0  # time.perf_counter() from which outgrown() counts again

    def outgrown(self) -> bool:
        """Whether the BDD has more than :data:`_REORDER_AT` live nodes, counted only when
        :data:`_SIZE_CHECK_SHARE` allows (False in between)."""
        start = time.perf_counter()
        if start < self.next_size_check:
            return False
        size = len(self.bdd)
        end = time.perf_counter()
        self.next_size_check = end + _SIZE_CHECK_SHARE * (end - start)
        return size > _REORDER_AT

    def solve(self, gate: str) -> None:
        names = _variable_order(self.tree, gate, self.modules, self.order)
        for name in names:
            index = len(self.probs)
            self.var[name] = f"v{index}"
            self.bdd.add_var(f"v{index}", index=index)
            prob, comp = self.values[name]
            self.probs.append(prob)
            self.comps.append(comp)
            self.basic_variables += name not in self.modules
        memo: dict[str, Any] = {}
        self.uses = self._uses(gate)
        formula = self.tree.gates[gate]
        small = len(names) <= _FORMULA_MAX_VARIABLES
        keep = self.roots is not None
        plan = _formula_plan(self, formula) if small and (not keep or _flat_bdd) else None
        if plan is not None:
            # The top of a module is often its most expensive part (das9701: the last five
            # gates, up to 2.8 million nodes each, 25 s of 44): its probability comes from the
            # BDDs below it directly, without building those gates. A module kept for
            # re-reading keeps that expansion, written out as a flat DAG, instead of a BDD.
            leaves, gates = plan
            nodes = [_compile(leaf, self, memo) for leaf in leaves]
            self.peak = max(self.peak, len(self.bdd))
            answer = self._formula_probability(nodes, gates, memo, emit=keep)
            if answer is not None:
                value, flat = answer
                negated = formula.op in _NEGATED
                self.values[gate] = (value[1], value[0]) if negated else value
                if self.roots is not None and flat is not None:
                    self.roots[gate] = (flat[0], flat[1] ^ 1 if negated else flat[1])
                del nodes, memo
                return
            memo.clear()  # the kernel cannot read them: build the BDD after all
            self.uses = self._uses(gate)
            del nodes
        root = _compile(formula, self, memo)
        self.peak = max(self.peak, len(self.bdd))
        self.values[gate] = self._probability(root)
        if self.roots is not None:  # kept flat where the kernel reads it, so CUDD can free it
            self.roots[gate] = self.flatten(root) or root
        del root, memo  # unless kept in CUDD, this module's BDD is garbage from here on

    def _formula_probability(
        self,
        nodes: list[Any],
        gates: list[tuple[str, list[tuple[int, bool]]]],
        memo: dict[str, Any],
        *,
        emit: bool = False,
    ) -> tuple[tuple[float, float], tuple[bytes, int] | None] | None:
        """(P, 1 − P) of the planned formula over ``nodes`` and, with ``emit``, its expansion
        as a flat DAG (nodes, root ref; see ``_flat_bdd.c``); None if the kernel cannot read
        these BDDs (node layout, or CUDD has reordered the variables)."""
        bdd = self.bdd
        if (
            _kernels is None
            or memo.get(_REORDERING)
            or not all(
                a == bdd.true or a == bdd.false or _cudd_layout_agrees(bdd, a) for a in nodes
            )
        ):
            return None
        answer = _kernels.cudd_formula_probability(
            [int(a) - 2 for a in nodes],
            gates,
            int(bdd.true) - 2,
            array("d", self.probs),
            array("d", self.comps),
            _max_tuples(len(nodes)),
            emit,
        )
        if answer is None:  # its memo would outgrow the memory budget: build the BDD instead
            return None
        value = (float(answer[0]), float(answer[1]))
        return value, ((answer[3], int(answer[4])) if emit else None)

    def _uses(self, gate: str) -> Counter[str]:
        """How many times each gate inside this module is referred to (to free its BDD after
        the last use: intermediate BDDs that stay alive slow CUDD down)."""
        uses: Counter[str] = Counter()
        stack, seen = [gate], {gate}
        while stack:
            for child in self.tree.gates[stack.pop()].references():
                if child in self.tree.gates and child not in self.modules:
                    uses[child] += 1
                    if child not in seen:
                        seen.add(child)
                        stack.append(child)
        return uses

    def flatten(self, root: Any) -> tuple[bytes, int] | None:
        """The BDD ``root`` copied out of CUDD's memory into the flat arrays ``_flat_bdd.c``
        reads (children first), or None where the kernel is missing or cannot read it."""
        if _flat_bdd is None or not _READ_CUDD_MEMORY or not _cudd_layout_agrees(self.bdd, root):
            return None
        nodes, ref = _flat_bdd.cudd_flatten(int(root) - 2, int(self.bdd.true) - 2)
        return nodes, int(ref)

    def _probability(self, root: Any) -> tuple[float, float]:
        bdd = self.bdd
        if root == bdd.true or root == bdd.false:
            return (1.0, 0.0) if root == bdd.true else (0.0, 1.0)
        if _kernels is None:  # pragma: no cover - machines without a C compiler
            pq = {f"v{i}": pair for i, pair in enumerate(zip(self.probs, self.comps, strict=True))}
            return _probability(bdd, root, pq)
        probs, comps = array("d", self.probs), array("d", self.comps)
        if _READ_CUDD_MEMORY and _cudd_layout_agrees(bdd, root):
            # Faster than flatten() and a flat read for a BDD read once (das9701: 1.4 s of 19).
            prob, comp, _ = _kernels.cudd_probability(
                int(root) - 2, int(bdd.true) - 2, probs, comps
            )
            return float(prob), float(comp)
        import tempfile

        with tempfile.TemporaryDirectory(prefix="cofail-bdd-") as tmp:
            path = os.path.join(tmp, "module.dddmp")
            bdd.dump(path, [root], filetype="dddmp")
            prob, comp = _kernels.dddmp_probability(path, probs, comps)
        return float(prob), float(comp)


_READ_CUDD_MEMORY = True
"""Read the BDD's nodes from CUDD's memory (else from a DDDMP dump in a temporary file)."""


def _cudd_layout_agrees(bdd: Any, root: Any) -> bool:
    """Whether CUDD's node layout as the compiled kernel reads it matches dd's own accessors.

    dd's ``int(u)`` is the node's address + 2; the kernel reads {index, ref, next, then, else}.
    Checked on the root of every module (constant time), so a dd or CUDD built differently
    makes cofail fall back to the DDDMP dump instead of reading the wrong memory.
    """
    if _kernels is None or root == bdd.true or root == bdd.false:
        return False
    node = ~root if root.negated else root
    index, then_address, else_address = _kernels.cudd_node(int(node) - 2)
    return bool(
        index == bdd._index_of_var.get(node.var)
        and then_address == int(node.high) - 2
        and else_address == int(node.low) - 2
    )


_REORDER_AT = 3_000_000
"""BDD size at which dynamic variable reordering is switched on."""
_SIZE_CHECK_SHARE = 20
"""Compile for this many times as long as the last look at the BDD size took before looking
again: CUDD counts live nodes by walking its whole unique table, which keeps the size of its
largest moment (das9701: 44 ms a count; every 64 gates, that was 2 s of 14). So the counting
takes at most 1/20 of the time, whatever the table's size."""
_REORDERING = "\x00reordering"  # a memo key no gate name can take


def _compile(f: Formula, solver: _ModuleSolver, memo: dict[str, Any]) -> Any:
    tree, bdd, modules = solver.tree, solver.bdd, solver.modules
    if f.op == "event":
        if f.name in tree.gates and f.name not in modules:
            if f.name not in memo:
                memo[f.name] = _compile(tree.gates[f.name], solver, memo)
                if not memo.get(_REORDERING) and solver.outgrown():
                    # The static order is poor for this tree: let CUDD sift from here on.
                    bdd.configure(reordering=True)
                    memo[_REORDERING] = True
            solver.uses[f.name] -= 1
            if solver.uses[f.name] == 0:  # its last parent: let CUDD reclaim it once used
                return memo.pop(f.name)
            return memo[f.name]
        if f.name in tree.house_events:
            return bdd.true if tree.house_events[f.name] else bdd.false
        return bdd.var(solver.var[f.name])  # a basic event, or a module solved already
    if f.op == "constant":
        return bdd.true if f.value else bdd.false
    if f.op in ("null",):
        return _compile(f.args[0], solver, memo)
    args = [_compile(a, solver, memo) for a in f.args]
    if f.op == "not":
        return ~args[0]
    if f.op in _AND_OR:
        return _combine(f.op, args, bdd)
    if f.op in ("xor", "iff"):
        out = bdd.false
        for a in args:
            out = bdd.apply("xor", out, a)
        return ~out if f.op == "iff" else out
    if f.op == "atleast":
        return _atleast(args, f.min, bdd)
    raise InputError(f"unsupported gate formula {f.op!r}")  # pragma: no cover - parser rejects it


def _combine(op: str, args: list[Any], bdd: Any) -> Any:
    """The BDD of AND, NAND, OR or NOR over ``args``.

    A wide gate is combined from the bottom of the variable order up: each argument then sits
    above the result so far, and a gate of n basic events costs n steps, not n²/2 (a single
    OR of 20,000 events took minutes left to right).
    """
    if len(args) > _WIDE_GATE:
        args = sorted(args, key=lambda a: -a.level)
    if op in ("and", "nand"):
        out = bdd.true
        for a in args:
            out = out & a
        return ~out if op == "nand" else out
    out = bdd.false
    for a in args:
        out = out | a
    return ~out if op == "nor" else out


_WIDE_GATE = 64
"""Gates with more arguments are combined bottom up (:func:`_combine`); narrower ones in the
order written, which the industrial benchmarks were measured with."""
_FORMULA_MAX_LEAVES = 10
"""Leaves of the formula evaluated at the top of a module without building it. Single-parent
AND/OR gates below the module's root are taken into it breadth first while the number of
distinct leaves stays within this. The kernel keeps one memo entry per tuple of leaf nodes (on
das9701, 6.3 million tuples: 0.6 GB of entries and a 0.13 GB index); 10 leaves beat 6, 12 and
16 on the Aralia trees that take more than a second (das9701 18 s, cea9601 2.8 s, edf9203 6.7 s
with the larger-first order), and still beat 12 with the smaller memo (das9701 8.4 s against
10.1 s, cea9601 1.2 s against 1.3 s, edf9203 3.1 s against 3.2 s)."""
_FORMULA_MAX_VARIABLES = 4_000
"""The kernel recurses once per variable level with about 1 KB of stack per level."""
_NEGATED = ("nand", "nor")
_AND_OR = ("and", "or", *_NEGATED)
"""The gates :func:`_combine` builds and the formula kernel evaluates (NAND/NOR as negated
AND/OR)."""
_KERNEL_MAX_LEAVES, _KERNEL_MAX_GATES, _KERNEL_MAX_GATE_ARGS = 32, 64, 64
"""The formula kernel's fixed limits (MAX_LEAVES, MAX_FORMULA_GATES, MAX_GATE_ARGS in C)."""


def _formula_plan(
    solver: _ModuleSolver, root: Formula
) -> tuple[list[Formula], list[tuple[str, list[tuple[int, bool]]]]] | None:
    """Leaves and gates (children first, root last) of the formula at the top of a module.

    Returns None when the root is not an AND/OR/NAND/NOR or has more arguments than the kernel
    takes, or the kernels are not built.
    """
    if (
        _kernels is None
        or not _READ_CUDD_MEMORY
        or root.op not in _AND_OR
        or len(root.args) > _KERNEL_MAX_GATE_ARGS
    ):
        return None
    tree, modules = solver.tree, solver.modules

    def expandable(f: Formula) -> bool:
        if f.op != "event" or f.name not in tree.gates or f.name in modules:
            return False
        g = tree.gates[f.name]
        return solver.uses[f.name] == 1 and g.op in _AND_OR and len(g.args) <= _KERNEL_MAX_GATE_ARGS

    expanded: set[str] = set()
    leaves = {_leaf_key(a) for a in root.args}
    frontier = list(root.args)
    while frontier:  # breadth first
        following: list[Formula] = []
        for f in frontier:
            if not expandable(f) or f.name in expanded:
                continue
            new = {_leaf_key(a) for a in tree.gates[f.name].args} - leaves
            if len(leaves) - 1 + len(new) > _FORMULA_MAX_LEAVES:
                continue
            expanded.add(f.name)
            leaves = (leaves - {_leaf_key(f)}) | new
            following.extend(tree.gates[f.name].args)
        frontier = following
    leaf_list: list[Formula] = []
    leaf_index: dict[object, int] = {}
    gates: list[tuple[str, list[tuple[int, bool]]]] = []
    gate_index: dict[str, int] = {}

    def argument(f: Formula) -> tuple[int, bool]:
        if f.op == "event" and f.name in expanded:
            if f.name not in gate_index:
                g = tree.gates[f.name]
                body = [argument(a) for a in g.args]
                gate_index[f.name] = len(gates)
                gates.append((_kernel_op(g.op), body))
            return -1 - gate_index[f.name], tree.gates[f.name].op in _NEGATED
        key = _leaf_key(f)
        if key not in leaf_index:
            leaf_index[key] = len(leaf_list)
            leaf_list.append(f)
        return leaf_index[key], False

    top_body = [argument(a) for a in root.args]
    gates.append((_kernel_op(root.op), top_body))
    n = len(leaf_list)
    if n > _KERNEL_MAX_LEAVES or len(gates) > _KERNEL_MAX_GATES:  # a root with many arguments
        return None
    # Gate references were numbered before the leaves were all known: re-base them.
    fixed = [(op, [(n + (-1 - i) if i < 0 else i, neg) for i, neg in body]) for op, body in gates]
    return leaf_list, fixed


_FORMULA_MEMORY_SHARE = 8
"""The formula kernel's memo may use 1/8 of physical memory (each of the two racing processes);
past that the module's top is built as a BDD after all."""


def _max_tuples(leaves: int) -> int:
    """Memo entries the formula kernel may keep: an entry holds a hash, (P, Q), a ref and the
    leaf tuple (32 + 8 bytes a leaf), in an array up to twice the entries' size, found through
    an index of 8-byte slots at most half full (up to 32 bytes an entry)."""
    try:
        memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        memory = 8 << 30
    return max(1, memory // _FORMULA_MEMORY_SHARE // (2 * (32 + 8 * leaves) + 32))


def _kernel_op(op: str) -> str:
    """The kernel's gate for an AND, NAND, OR or NOR (the negation rides on the edge)."""
    return "and" if op in ("and", "nand") else "or"


def _leaf_key(f: Formula) -> object:
    """What makes two arguments the same leaf: the name they refer to, or the formula."""
    return ("ref", f.name) if f.op == "event" else ("formula", id(f))


def _atleast(args: list[Any], k: int, bdd: Any) -> Any:
    # table[j] = at least j of the arguments seen so far are true.
    table = [bdd.true] + [bdd.false] * k
    for a in args:
        for j in range(k, 0, -1):
            table[j] = table[j] | (a & table[j - 1])
    return table[k]


def _probability(bdd: Any, root: Any, pq: dict[str, tuple[float, float]]) -> tuple[float, float]:
    # For each regular node: (P, Q) with Q = 1 - P, both as sums of positive terms; each
    # variable brings its own (p, 1 - p), exact for modules whose 1 - P was summed separately.
    values: dict[int, tuple[float, float]] = {}
    one = bdd.true

    def regular(u: Any) -> Any:
        return ~u if u.negated else u

    def edge(u: Any) -> tuple[float, float]:
        node = regular(u)
        pq = (1.0, 0.0) if node == one else values[int(node)]
        return (pq[1], pq[0]) if u.negated else pq

    stack = [regular(root)]
    while stack:
        node = stack[-1]
        if node == one or int(node) in values:
            stack.pop()
            continue
        low, high = regular(node.low), regular(node.high)
        pending = [c for c in (low, high) if c != one and int(c) not in values]
        if pending:
            stack.extend(pending)
            continue
        stack.pop()
        prob, comp = pq[node.var]
        pl, ql = edge(node.low)
        ph, qh = edge(node.high)
        values[int(node)] = (prob * ph + comp * pl, prob * qh + comp * ql)
    return edge(root)

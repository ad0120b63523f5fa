"""Which parameters no log can separate, from the structure alone: the rank and null directions
of the Jacobian of the pattern probabilities with respect to the fitted parameters.

A log is a draw from the pattern distribution, so two parameter values that give the same
pattern probabilities cannot be told apart by any log of any size. Locally that is a direction
v with J v = 0, J the Jacobian of the 2^layers pattern probabilities with respect to the free
parameters. Its rank at a *generic* point (random interior parameters) is the rank almost
everywhere; a structural deficiency shows at every point, an accidental one at almost none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cofail.fit._latent import Params, Structure, states

__all__ = [
    "MAX_WORK",
    "StructureCheck",
    "TradeOff",
    "check_structure",
    "parameter_labels",
    "parameter_names",
]

MAX_WORK = 2**25
"""Most patterns × states × layers checked: the Jacobian has one row per pattern (2^layers)."""
RANK_TOL = 1e-9
"""A singular value of the column-normalised Jacobian below this × the largest is zero."""
LOADING_TOL = 1e-6
"""A parameter whose squared share of the null space is above this lies on a free direction."""
_POINTS = 3


@dataclass(frozen=True)
class TradeOff:
    """Parameters that move together along directions no log can see."""

    parameters: tuple[int, ...]
    """Indices into the free-parameter vector (p, then q row-major, then r)."""
    names: tuple[str, ...]
    free_directions: int
    """Dimension of the null space these parameters span: how many combinations of them no
    log fixes."""
    note: str


@dataclass(frozen=True)
class StructureCheck:
    """The Jacobian's rank at generic points and what its null space says."""

    n_parameters: int
    n_patterns: int
    rank: int | None
    """``None`` when not checked (too many layers)."""
    ranks: tuple[int, ...]
    """The rank at each generic point (they agree unless a point was not generic)."""
    gap: float | None
    """Smallest singular value kept over the largest one discarded (relative to the largest):
    a wide gap means a clear rank decision."""
    trade_offs: tuple[TradeOff, ...]
    note: str
    weakest: float | None = None
    """Smallest non-zero singular value over the largest (column-normalised Jacobian): near 0,
    the structure identifies the parameters only weakly, and a log needs many cases."""

    @property
    def unidentified(self) -> set[int]:
        """Indices of the free parameters that lie on a direction no log can see."""
        return {k for t in self.trade_offs for k in t.parameters}

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form (``structure`` in ``cofail fit``'s output)."""
        return {
            "parameters": self.n_parameters,
            "patterns": self.n_patterns,
            "rank": self.rank,
            "ranks_at_points": list(self.ranks),
            "identified": self.rank is not None and self.rank == self.n_parameters,
            "singular_value_gap": self.gap,
            "weakest_direction": self.weakest,
            "trade_offs": [
                {"parameters": list(t.names), "free_directions": t.free_directions, "note": t.note}
                for t in self.trade_offs
            ],
            "method": (
                f"rank of the Jacobian of the {self.n_patterns} pattern probabilities in the "
                f"{self.n_parameters} free parameters (log scale), by SVD with relative "
                f"tolerance {RANK_TOL:g}, at {_POINTS} seeded random interior points"
            ),
            "note": self.note,
        }


def parameter_names(
    s: Structure, layers: tuple[str, ...], groups: tuple[tuple[str, ...], ...]
) -> list[tuple[str, int, int]]:
    """Return (kind, group, layer) per free parameter in vector order (``-1`` where none)."""
    out = [("p", int(g), -1) for g in np.flatnonzero(s.p_free)]
    rows, cols = np.nonzero(s.q_free)
    out += [("q", int(g), int(i)) for i, g in zip(rows, cols, strict=True)]
    out += [("r", -1, int(i)) for i in np.flatnonzero(s.r_free)]
    return out


def parameter_labels(
    s: Structure, layers: tuple[str, ...], groups: tuple[tuple[str, ...], ...]
) -> list[str]:
    """Return each free parameter's name in words ("AL-GEN's q on RE"), in vector order."""
    return [_name(item, layers, groups) for item in parameter_names(s, layers, groups)]


def jacobian(params: Params, s: Structure) -> np.ndarray:
    """Return d P(pattern) / d log θ: (2^layers patterns) × (free parameters).

    Examples
    --------
    One layer failing with residual r alone: P(fails) = r, so d P / d log r = r.

    >>> s = Structure(np.zeros((1, 0), bool), np.zeros((1, 0)), np.zeros(0, bool), np.ones(1, bool))
    >>> jacobian(Params(np.zeros(0), np.zeros((1, 0)), np.array([0.25])), s).round(12).tolist()
    [[-0.25], [0.25]]
    """
    layers = len(params.r)
    u = states(len(params.p))
    uf = u.astype(float)
    x = states(layers).astype(float)  # every pattern
    prior = np.prod(np.where(u, params.p, 1 - params.p), axis=1)  # states
    # Products, not sums of logs: a q held at 1 (--binary) makes a survival exactly 0.
    survive = (1 - params.r)[None, :] * np.prod(
        np.where(u[:, None, :], 1 - params.q[None, :, :], 1.0), axis=2
    )  # states × layers
    fail = 1 - survive
    like = np.prod(np.where(x[:, None, :] > 0, fail[None], survive[None]), axis=2)  # pat × st
    w = like * prior[None, :]
    columns = []
    p_score = np.where(u, 1.0, -params.p / (1 - params.p))  # states × groups: p d log π / dp
    columns.append(w @ p_score[:, s.p_free])
    # T_i(x, U) = x_i (1 − f_i)/f_i − (1 − x_i): (1 − q) d log P(x_i | U) / dq, and likewise r.
    # Where f is 0 (no residual, no mode present) a failure has weight 0: its term is 0.
    odds_survive = np.divide(survive, fail, out=np.zeros_like(fail), where=fail > 0)
    t = x[:, None, :] * odds_survive[None, :, :] - (1 - x[:, None, :])  # pat × states × lay
    wt = w[:, :, None] * t
    rows, cols = np.nonzero(s.q_free)
    if len(rows):
        by_group = np.einsum("psl,sg->plg", wt, uf)  # patterns × layers × groups
        odds = params.q[rows, cols] / (1 - params.q[rows, cols])
        columns.append(by_group[:, rows, cols] * odds[None, :])
    r_idx = np.flatnonzero(s.r_free)
    columns.append(wt.sum(axis=1)[:, r_idx] * (params.r[r_idx] / (1 - params.r[r_idx]))[None, :])
    return np.concatenate(columns, axis=1)


def generic_point(s: Structure, rng: np.random.Generator) -> Params:
    """Return random interior values of the free parameters (the fixed ones as held)."""
    layers, groups = s.q_free.shape
    return Params(
        p=np.where(s.p_free, rng.uniform(0.05, 0.45, groups), 0.0),
        q=np.where(s.q_free, rng.uniform(0.2, 0.9, (layers, groups)), s.q_fixed),
        r=np.where(s.r_free, rng.uniform(0.01, 0.2, layers), 0.0),
    )


def null_space(j: np.ndarray) -> tuple[int, np.ndarray, float | None, float | None]:
    """Return (rank, orthonormal null basis in J's own coordinates, gap, weakest) of ``j``.

    Columns are normalised before the SVD so that the tolerance does not depend on the scale of
    each parameter's effect; the null vectors are mapped back to the original coordinates.
    """
    norms = np.linalg.norm(j, axis=0)
    norms = np.where(norms > 0, norms, 1.0)
    _, sv, vt = np.linalg.svd(j / norms, full_matrices=True)
    sv_full = np.zeros(j.shape[1])
    sv_full[: len(sv)] = sv
    top = float(sv_full.max(initial=0.0))
    keep = sv_full > RANK_TOL * top if top > 0 else np.zeros(len(sv_full), bool)
    rank = int(keep.sum())
    gap = None
    if 0 < rank < len(sv_full):
        gap = float(sv_full[rank - 1] / max(sv_full[rank], 1e-300))
    null = vt[rank:].T / norms[:, None]  # d(log θ) = D⁻¹ w for a null vector w of J D⁻¹
    if null.shape[1]:
        null, _ = np.linalg.qr(null)
    weakest = float(sv_full[rank - 1] / top) if rank else None
    return rank, null, gap, weakest


def check_structure(
    s: Structure,
    layers: tuple[str, ...],
    groups: tuple[tuple[str, ...], ...],
    *,
    seed: int = 0,
    points: int = _POINTS,
) -> StructureCheck:
    """Return which free parameters of ``s`` no log of ``layers`` can separate.

    Examples
    --------
    One mode exposing one layer: its p, its q and the layer's r enter only through
    P(layer fails), so two of the three directions are free.

    >>> s = Structure(np.ones((1, 1), bool), np.zeros((1, 1)), np.ones(1, bool), np.ones(1, bool))
    >>> c = check_structure(s, ("L",), (("M",),))
    >>> c.rank, c.trade_offs[0].free_directions
    (1, 2)

    Notes
    -----
    The Jacobian (exact, in log θ) at ``points`` seeded random interior points; the rank is the
    largest found (a lower rank at one point is an accident of that point). Parameters are
    grouped into trade-offs by the null space's projection matrix: two parameters belong
    together when a free direction moves both. Cost: O(2^layers · 2^groups · layers · groups).
    """
    n_free = s.n_free
    n_patterns = 2 ** len(layers)
    if n_patterns * 2 ** len(groups) * len(layers) > MAX_WORK:
        return StructureCheck(
            n_free,
            n_patterns,
            None,
            (),
            None,
            (),
            f"not checked: {n_patterns:,} patterns × {2 ** len(groups):,} mode states is too "
            "large for the exact Jacobian",
        )
    rng = np.random.default_rng(seed)
    found = []
    for _ in range(points):
        point = generic_point(s, rng)
        found.append((point, *null_space(jacobian(point, s))))
    ranks = tuple(f[1] for f in found)
    _, rank, null, gap, weakest = max(found, key=lambda f: f[1])
    names = parameter_names(s, layers, groups)
    trade_offs = _trade_offs(null, names, layers, groups)
    note = ""
    if rank < n_free:
        note = (
            f"{n_free - rank} of the {n_free} parameters' directions leave every pattern "
            "probability unchanged: no log of these layers separates the parameters named in "
            "trade_offs, whatever its size"
        )
    if len(set(ranks)) > 1:
        note += ("; " if note else "") + f"the rank differed between points ({ranks}): the "
        "largest is taken, a smaller one belongs to a special point"
    return StructureCheck(n_free, n_patterns, rank, ranks, gap, tuple(trade_offs), note, weakest)


def _trade_offs(
    null: np.ndarray,
    names: list[tuple[str, int, int]],
    layers: tuple[str, ...],
    groups: tuple[tuple[str, ...], ...],
) -> list[TradeOff]:
    """Return the parameters on free directions, in connected sets."""
    if not null.shape[1]:
        return []
    projection = null @ null.T
    on = np.flatnonzero(np.diag(projection) > LOADING_TOL)
    linked = np.abs(projection[np.ix_(on, on)]) > LOADING_TOL
    seen: set[int] = set()
    out = []
    for a in range(len(on)):
        if a in seen:
            continue
        component, stack = [], [a]
        while stack:
            b = stack.pop()
            if b in seen:
                continue
            seen.add(b)
            component.append(b)
            stack.extend(int(c) for c in np.flatnonzero(linked[b]) if c not in seen)
        members = sorted(int(on[c]) for c in component)
        sub = null[members]
        dims = int(np.linalg.matrix_rank(sub, tol=1e-6))
        label = [_name(names[k], layers, groups) for k in members]
        out.append(
            TradeOff(
                parameters=tuple(members),
                names=tuple(label),
                free_directions=dims,
                note=_sentence(members, sub, dims, names, layers, groups),
            )
        )
    return out


def _name(
    item: tuple[str, int, int], layers: tuple[str, ...], groups: tuple[tuple[str, ...], ...]
) -> str:
    kind, g, i = item
    if kind == "p":
        return f"{'+'.join(groups[g])}'s p"
    if kind == "q":
        return f"{'+'.join(groups[g])}'s q on {layers[i]}"
    return f"{layers[i]}'s r"


def _sentence(
    members: list[int],
    sub: np.ndarray,
    dims: int,
    names: list[tuple[str, int, int]],
    layers: tuple[str, ...],
    groups: tuple[tuple[str, ...], ...],
) -> str:
    """Return the trade-off in words: which parameters, and what the log fixes of them."""
    by_group: dict[int, list[str]] = {}
    residual = []
    for k in members:
        kind, g, i = names[k]
        if kind == "r":
            residual.append(layers[i])
        else:
            by_group.setdefault(g, []).append("p" if kind == "p" else layers[i])
    parts = []
    for g, items in by_group.items():
        mode = "+".join(groups[g])
        on = [x for x in items if x != "p"]
        has_p = "p" in items
        q_text = ""
        if on:
            q_text = f"q on {on[0]}" if len(on) == 1 else f"q's on {', '.join(on)}"
        if has_p and on:
            parts.append(f"{mode}'s p and its {q_text}")
        elif has_p:
            parts.append(f"{mode}'s p")
        else:
            parts.append(f"{mode}'s {q_text}")
    if residual:
        parts.append(
            f"the residual r of {residual[0]}"
            if len(residual) == 1
            else f"the residuals r of {', '.join(residual)}"
        )
    who = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    if len(members) == 2 and dims == 1:
        v = sub[:, 0] / np.abs(sub[:, 0]).max()
        if abs(v[0] + v[1]) < 1e-6:
            return f"{who} trade off: the log fixes their product"
        if abs(v[0] - v[1]) < 1e-6:
            return f"{who} trade off: the log fixes their ratio"
    fixed = len(members) - dims
    what = (
        "nothing of them"
        if fixed == 0
        else f"only {fixed} combination{'s' if fixed > 1 else ''} of these {len(members)}"
    )
    return f"{who} trade off: the log fixes {what} ({dims} free direction{'s' * (dims > 1)})"

"""Open-PSA MEF common-cause failure (CCF) groups: expansion into basic events and gates.

A group of m members, each failing with total probability Q, is replaced by one basic event
per set of members that can fail together by a shared cause, with the probability Q_k of a
*specific* set of k members. Each member becomes the OR of the events of the sets holding it.
The models (NUREG/CR-5485 parametrisations, as the MEF defines them):

- beta-factor (one factor β): Q_1 = (1 − β)Q, Q_m = βQ, nothing in between;
- MGL (factors β, γ, δ, ... for levels 2, 3, ...; ρ_1 = 1, ρ past the last level = 0):
  Q_k = ρ_1⋯ρ_k (1 − ρ_{k+1}) Q / C(m − 1, k − 1);
- alpha-factor (α_1 ... α_L, non-staggered testing): Q_k = k α_k / (Σ_j j α_j) · Q / C(m − 1, k − 1);
- phi-factor (φ_1 ... φ_L summing to 1): Q_k = φ_k Q.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Callable, Container
from dataclasses import dataclass
from itertools import combinations

from cofail.errors import InputError
from cofail.faulttree._mef_expr import Expressions, children, only_child

__all__ = ["MAX_CCF_EVENTS", "CcfExpansion", "expand_ccf_group"]

MAX_CCF_EVENTS = 100_000
"""A group whose expansion needs more events than this is refused (it is 2^m − 1 at most)."""


@dataclass(frozen=True)
class CcfExpansion:
    """What a CCF group adds to the model."""

    events: dict[str, float]
    """New basic events and their probabilities."""
    members: dict[str, list[str]]
    """Member → the events it is the OR of (empty when the group is not applied)."""
    note: str
    """The assumption, in words, for the output."""


def _beta(factors: dict[int, float], m: int) -> dict[int, float]:
    (beta,) = factors.values()
    return {1: 1 - beta, m: beta}


def _mgl(factors: dict[int, float], m: int) -> dict[int, float]:
    levels = max(factors)
    rho = [1.0] + [factors[k] for k in range(2, levels + 1)] + [0.0]  # rho[k - 1] = ρ_k
    return {
        k: math.prod(rho[:k]) * (1 - rho[k]) / math.comb(m - 1, k - 1) for k in range(1, levels + 1)
    }


def _alpha(factors: dict[int, float], m: int) -> dict[int, float]:
    total = math.fsum(k * a for k, a in factors.items())
    return {k: k * a / total / math.comb(m - 1, k - 1) for k, a in factors.items()}


def _phi(factors: dict[int, float], m: int) -> dict[int, float]:
    return dict(factors)


_MODELS: dict[str, tuple[int, Callable[[dict[int, float], int], dict[int, float]]]] = {
    "beta-factor": (2, _beta),  # the lowest level a factor may have
    "MGL": (2, _mgl),
    "alpha-factor": (1, _alpha),
    "phi-factor": (1, _phi),
}


def expand_ccf_group(
    node: ET.Element,
    expressions: Expressions,
    source: str,
    scope: str = "",
    *,
    defined: Container[str] = (),
    common_cause: bool = True,
) -> CcfExpansion:
    """Expand ``<define-CCF-group>``: its events, and the events each member is the OR of.

    ``defined`` holds the model's other names (a member may not be one). Without
    ``common_cause`` each member becomes a basic event with probability Q.

    Examples
    --------
    >>> import xml.etree.ElementTree as ET
    >>> g = ET.fromstring('<define-CCF-group name="P" model="beta-factor"><members>'
    ...     '<basic-event name="a"/><basic-event name="b"/></members><distribution>'
    ...     '<float value="0.1"/></distribution><factor><float value="0.2"/></factor>'
    ...     '</define-CCF-group>')
    >>> x = expand_ccf_group(g, Expressions(), "m.xml")
    >>> {k: round(v, 12) for k, v in x.events.items()}
    {'[a] [P]': 0.08, '[b] [P]': 0.08, '[a b] [P]': 0.02}
    >>> x.members["a"]
    ['[a] [P]', '[a b] [P]']
    """
    group = scope + node.get("name", "")
    what = f"CCF group {group!r}"
    model = node.get("model", "")
    if model not in _MODELS:
        raise InputError(
            f"{what}: unknown model {model!r} (expected {', '.join(_MODELS)})", source=source
        )
    parts = {c.tag: c for c in children(node)}
    if "members" not in parts or "distribution" not in parts:
        raise InputError(f"{what}: needs <members> and <distribution>", source=source)
    members = [scope + m.get("name", "") for m in children(parts["members"])]
    m = len(members)
    if m < 2 or len(set(members)) != m:
        raise InputError(f"{what}: needs two or more distinct members", source=source)
    # A member defined elsewhere too would have two probabilities; the group replaces it by
    # the OR of its group events, so any other definition is an error, not an override.
    for member in members:
        if member in defined:
            raise InputError(f"{what}: member {member!r} is also defined elsewhere", source=source)
    total = expressions.probability(
        only_child(parts["distribution"], what, source), source, what, scope
    )
    if not common_cause:  # SCRAM without --ccf: the members keep the group's total Q
        return CcfExpansion(
            dict.fromkeys(members, total),
            {},
            f"{what} not applied (--no-ccf): its {m} members fail independently, each with "
            f"Q = {total:g}",
        )
    factors = _factors(parts, model, m, expressions, source, what, scope)
    # The model gives, per level k, the probability of one particular set of k members failing
    # together (as a fraction of Q); levels with q = 0 create no events. Every k-subset gets its
    # own event, so a big group at a high level is C(m, k) events: refuse it before building.
    per_set = {k: q * total for k, q in _MODELS[model][1](factors, m).items() if q > 0}
    events = sum(math.comb(m, k) for k in per_set)
    if events > MAX_CCF_EVENTS:
        raise InputError(
            f"{what}: expanding {m} members up to level {max(per_set)} needs {events} events "
            f"(more than {MAX_CCF_EVENTS})",
            source=source,
        )
    created: dict[str, float] = {}
    holding: dict[str, list[str]] = {member: [] for member in members}
    for k, q in sorted(per_set.items()):
        # Checked here, after scaling by Q: factors that each look valid can still give a level
        # probability outside [0, 1] once the model has combined them with Q.
        if not 0.0 <= q <= 1.0:
            raise InputError(f"{what}: level {k} probability {q} is not in [0, 1]", source=source)
        for chosen in combinations(members, k):
            name = f"[{' '.join(chosen)}] [{group}]"  # '[' and ' ' never occur in MEF names
            created[name] = q
            for member in chosen:
                holding[member].append(name)
    shown = ", ".join(f"{k}: {factors[k]:g}" for k in sorted(factors))
    return CcfExpansion(
        created,
        holding,
        f"{what} ({model}, Q = {total:g}, factors by level {{{shown}}}): each member is the OR "
        f"of its events among {events} over sets of 1 to {max(per_set)} of its {m} members",
    )


def _factors(
    parts: dict[str, ET.Element],
    model: str,
    m: int,
    expressions: Expressions,
    source: str,
    what: str,
    scope: str,
) -> dict[int, float]:
    if "factor" in parts:
        nodes = [parts["factor"]]
    elif "factors" in parts:
        nodes = [f for f in children(parts["factors"]) if f.tag == "factor"]
    else:
        nodes = []
    lowest = _MODELS[model][0]
    if not nodes or (model == "beta-factor" and len(nodes) != 1):
        raise InputError(
            f"{what}: {model} needs {'one <factor>' if model == 'beta-factor' else '<factors>'}",
            source=source,
        )
    factors: dict[int, float] = {}
    for i, f in enumerate(nodes):
        # A beta factor is the share of the group's failures that take all m members at once,
        # so its one factor is level m unless it says otherwise; the other models give one
        # factor per level, read by position, and a level attribute must agree with it.
        default = m if model == "beta-factor" else lowest + i
        level_text = f.get("level", str(default))
        if not level_text.isdigit() or not lowest <= int(level_text) <= m:
            raise InputError(
                f"{what}: factor level {level_text!r} is not between {lowest} and {m}",
                source=source,
            )
        level = int(level_text)
        if model != "beta-factor" and level != lowest + i:
            raise InputError(
                f"{what}: factor levels must run {lowest}, {lowest + 1}, ... in order; got "
                f"{level} at position {i + 1}",
                source=source,
            )
        factors[level] = expressions.probability(only_child(f, what, source), source, what, scope)
    if model == "phi-factor" and abs(math.fsum(factors.values()) - 1) > 1e-9:
        raise InputError(f"{what}: phi factors must sum to 1", source=source)
    if model == "alpha-factor" and not math.fsum(factors.values()) > 0:
        raise InputError(f"{what}: alpha factors must not all be 0", source=source)
    return factors

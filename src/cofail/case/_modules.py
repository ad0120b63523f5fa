"""A deployment's safety case as gsn2x modules: one per subsystem, and one that joins them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from cofail.case._build import _defeater, _num, _top, build_case
from cofail.case._graph import Node, SafetyCase
from cofail.errors import InputError

if TYPE_CHECKING:
    from cofail.model import Matrix, Stack, UncertainPolicy
    from cofail.probability import Scenario

__all__ = ["build_deployment"]

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


def build_deployment(
    matrix: Matrix,
    subsystems: Mapping[str, Stack],
    scenario: Scenario,
    *,
    target: float | None = None,
) -> tuple[SafetyCase, ...]:
    """Return the deployment's module first, then one module per subsystem.

    The deployment fails when every subsystem fails, that is when all their layers fail: its
    top goal is the exact P of the union of their layers (``cofail risk --stack`` of them
    all). Its strategy argues over the subsystems, each argued in its own module (its
    :func:`build_case`, ids suffixed ``.<name>``), on the assumption that the subsystems fail
    independently; a counter-goal defeats that assumption when shared failure modes make the
    exact P larger than the product of the subsystems' own.

    Raises
    ------
    InputError
        Fewer than two subsystems, a name that cannot be an id, a layer in two subsystems, or
        a target outside (0, 1).

    Examples
    --------
    >>> from cofail import catalog, model, probability
    >>> m = catalog.load()
    >>> parts = {"inner": model.Stack.parse("RLHF", m), "outer": model.Stack.parse("RE", m)}
    >>> top, *subs = build_deployment(m, parts, probability.Scenario().for_matrix(m))
    >>> top.node("S0").supported_by, [s.name for s in subs]
    (('G0.inner', 'G0.outer'), ['inner', 'outer'])
    """
    from cofail.model import Stack
    from cofail.probability import risk

    if len(subsystems) < 2:
        raise InputError("a deployment needs at least two subsystems (NAME=LAYERS, repeated)")
    seen: dict[str, str] = {}
    for name, stack in subsystems.items():
        if not _NAME.match(name):
            raise InputError(f"subsystem name {name!r}: use letters, digits, '_' and '-'")
        for lid in stack.layers:
            if lid in seen:
                raise InputError(f"layer {lid} is in two subsystems, {seen[lid]} and {name}")
            seen[lid] = name
    whole = Stack(layers=tuple(seen))
    subs = [
        _suffixed(build_case(matrix, stack, scenario), name) for name, stack in subsystems.items()
    ]
    reading: UncertainPolicy = "optimistic" if scenario.uncertain == "optimistic" else "pessimistic"
    result = risk(matrix, whole, scenario, with_importance=False)
    head = _top(matrix, whole, scenario, reading, result, target, ["S0"], [])
    apart = [risk(matrix, stack, scenario, with_importance=False) for stack in subsystems.values()]
    product = 1.0
    for r in apart:
        product *= r.probability
    coupled = result.probability > product * (1 + 1e-9)
    listed = "; ".join(
        f"{name} = {'+'.join(stack.layers)} (P {r.probability:.4g})"
        for (name, stack), r in zip(subsystems.items(), apart, strict=True)
    )
    figures = {
        "probability": _num(result.probability),
        "product": _num(product),
        **{f"P {name}": _num(r.probability) for name, r in zip(subsystems, apart, strict=True)},
        "source": "cofail risk",
    }
    nodes = [
        Node(
            "S0",
            "Argue over the subsystems: the deployment fails only when every subsystem fails; "
            "each is argued in its own module",
            supported_by=tuple(f"G0.{name}" for name in subsystems),
            in_context_of=("C5", "A5"),
        ),
        Node("C5", f"Subsystems: {listed}"),
        Node(
            "A5",
            f"The subsystems fail independently: the deployment fails with the product of "
            f"their probabilities, {product:.4g}",
            defeated=coupled,
        ),
    ]
    if coupled:
        claim = (
            f"Shared failure modes couple the subsystems: the exact P(deployment fails) = "
            f"{result.probability:.4g} is {result.probability / product:.4g} times the product "
            f"of theirs, {product:.4g}"
        )
        nodes += _defeater("7", claim, "A5", f"Exact P of each subsystem: {listed}", figures)
    files = tuple(f"{s.name}.gsn.yaml" for s in subs)
    top = SafetyCase(
        name="deployment",
        brief=f"cofail safety case: a deployment of {len(subs)} subsystems on matrix "
        f"{matrix.id} v{matrix.version}",
        nodes=(*head, *nodes),
        uses=files,
    )
    return (top, *subs)


def _suffixed(case: SafetyCase, name: str) -> SafetyCase:
    """The case with every id suffixed ``.<name>``: ids must be unique across modules (C07)."""

    def new(node_id: str) -> str:
        return f"{node_id}.{name}"

    nodes = tuple(
        replace(
            n,
            id=new(n.id),
            supported_by=tuple(map(new, n.supported_by)),
            in_context_of=tuple(map(new, n.in_context_of)),
            challenges=None if n.challenges is None else new(n.challenges),
        )
        for n in case
    )
    return SafetyCase(name=name, brief=case.brief, nodes=nodes)

"""gsn2x YAML: writing a :class:`SafetyCase`, and checking a file by gsn2x's documented rules.

The rules are gsn2x's own (jonasthewolf/gsn2x, MIT), as stated in ``doc/src/checks.md`` and
implemented in ``src/gsn/validation.rs`` (V01-V13) and ``src/gsn/check.rs`` (C01-C16) at commit
9e577366d2c0bd017ef73e131b399097ff49ccad (2026-06-11). gsn2x's binary cannot be installed here,
so this is an independent reading of them, rule by rule; the message of each finding starts
with the rule's id, as gsn2x's do. :func:`check_gsn2x` checks one file;
:func:`check_gsn2x_modules` reads several together and adds the rules across modules (C06
unique module names, C07 ids unique across modules, C09/C10 extended modules and elements).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

import yaml

from cofail.case._graph import Kind, SafetyCase, kind_of

__all__ = ["Finding", "check_gsn2x", "check_gsn2x_modules", "dumps_gsn2x"]

GSN2X_SOURCE = (
    "jonasthewolf/gsn2x@9e577366d2c0bd017ef73e131b399097ff49ccad: doc/src/checks.md, "
    "src/gsn/validation.rs, src/gsn/check.rs"
)
"""Where the rules checked here are stated."""

_RESERVED = frozenset(
    # gsn2x's own attributes (src/gsn/check.rs, check_layers): a layer may not use these
    [
        "text",
        "inContextOf",
        "supportedBy",
        "challenges",
        "defeated",
        "defeatedRelation",
        "classes",
        "url",
        "undeveloped",
        "nodeType",
        "rankIncrement",
        "horizontalIndex",
        "charWrap",
        "acp",
    ]
)
_KINDS: frozenset[str] = frozenset(get_args(Kind))
_ARGUING: frozenset[Kind] = frozenset({"Goal", "Strategy"})
_CONTEXTUAL: frozenset[Kind] = frozenset({"Justification", "Assumption", "Context"})
_SUPPORTING: frozenset[Kind] = frozenset(
    {"Goal", "CounterGoal", "Solution", "CounterSolution", "Strategy"}
)
_COUNTER: frozenset[Kind] = frozenset({"CounterGoal", "CounterSolution"})


def dumps_gsn2x(case: SafetyCase) -> str:
    """Return ``case`` as one gsn2x YAML module: its ``module`` header, then every element.

    Keys come in a fixed order and elements in the case's order, so the same inputs give the
    same bytes and a diff of two cases shows what changed.
    """
    doc: dict[str, Any] = {"module": {"name": case.name, "brief": case.brief}}
    if case.uses:
        doc["module"]["uses"] = list(case.uses)
    for n in case:
        entry: dict[str, Any] = {"text": n.text}
        if n.supported_by:
            entry["supportedBy"] = list(n.supported_by)
        if n.in_context_of:
            entry["inContextOf"] = list(n.in_context_of)
        if n.challenges is not None:
            entry["challenges"] = n.challenges
        if n.undeveloped:
            entry["undeveloped"] = True
        if n.defeated:
            entry["defeated"] = True
        for key, value in n.layers.items():
            if key in _RESERVED or key == "name":  # "name" would read as a module header
                raise ValueError(f"{n.id}: {key!r} cannot be a layer")
            entry[key] = value
        doc[n.id] = entry
    text: str = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
    return text


@dataclass(frozen=True, slots=True)
class Finding:
    """One message of the checks, as gsn2x would print it."""

    rule: str
    """The rule's id: ``V01`` ... ``V13``, ``C01`` ... ``C16``, or ``YAML`` for an unreadable file."""
    severity: Literal["error", "warning"]
    message: str

    def __str__(self) -> str:
        return f"{self.severity.capitalize()}: ({self.rule}): {self.message}"


@dataclass
class _Element:
    kind: Kind | None
    prefix_kind: Kind | None
    supported_by: list[str]
    in_context_of: list[str]
    challenges: str | tuple[str, str] | None
    undeveloped: bool
    defeated: bool
    defeated_relation: list[str]
    acp: dict[str, list[str]]


def check_gsn2x(
    text: str, *, extended_check: bool = False, warn_dialectic: bool = False
) -> list[Finding]:
    """Return what gsn2x's checks find in one YAML file, errors and warnings, rule by rule.

    ``extended_check`` and ``warn_dialectic`` are gsn2x's options of those names (they add
    V08 and V11). An empty list means the file passes.

    Examples
    --------
    >>> [f.rule for f in check_gsn2x("G1: {text: top, supportedBy: [J1]}\\nJ1: {text: why}")]
    ['V04']
    """
    return check_gsn2x_modules(
        {"": text}, extended_check=extended_check, warn_dialectic=warn_dialectic
    )


def check_gsn2x_modules(
    files: Mapping[str, str], *, extended_check: bool = False, warn_dialectic: bool = False
) -> list[Finding]:
    """Return what gsn2x's checks find in several modules read together (file name → text).

    As gsn2x does: module names must be unique (C06) and ids unique across modules (C07);
    each module's elements are validated (V01-V13) against all of them; ``extends`` must
    name a given module (C09) and an undeveloped element of it (C10), which is then developed
    by the extending elements; then the references, root, cycles and reachability of the
    whole argument are checked (C01-C04, C08, C11-C16).

    Examples
    --------
    >>> top = "module: {name: top}\\nG1: {text: t, undeveloped: true}"
    >>> sub = ("module: {name: sub, extends: [{module: top, develops: {G1: [G2]}}]}\\n"
    ...        "G2: {text: u, undeveloped: true}")
    >>> check_gsn2x_modules({"top.gsn.yaml": top, "sub.gsn.yaml": sub})
    []
    """
    found: list[Finding] = []
    modules: dict[str, Any] = {}  # name -> header
    owner: dict[str, str] = {}  # element id -> module name
    nodes: dict[str, _Element] = {}
    for file_name, text in files.items():
        loaded, problem = _load(text)
        if problem is not None:
            return [Finding("YAML", "error", f"{file_name}: {problem}" if file_name else problem)]
        header = loaded.pop("module", None)
        name = str(header.get("name", file_name)) if isinstance(header, dict) else file_name
        if name in modules:  # gsn2x bails out here: a cycle of modules may follow
            return [_e("C06", f"Module in {file_name} was already present.")]
        modules[name] = header
        for node_id, raw in loaded.items():
            element = _element(str(node_id), raw, found)
            if element is None:
                continue
            if str(node_id) in owner:
                found.append(
                    _e(
                        "C07",
                        f"Element {node_id} in {name} was already present in "
                        f"{owner[str(node_id)]}.",
                    )
                )
                continue
            owner[str(node_id)] = name
            nodes[str(node_id)] = element
    for name, header in modules.items():
        own = {i: n for i, n in nodes.items() if owner[i] == name}
        for node_id, n in own.items():
            _validate(node_id, n, nodes, found, extended_check)
        _validate_extends(header, own, found)
    if warn_dialectic and (counter := [i for i, n in nodes.items() if n.kind in _COUNTER]):
        found.append(_w("V11", f"Dialectic extension is used. See elements: {', '.join(counter)}"))
    if _extend(modules, owner, nodes, found):
        _check(nodes, found)
    return found


def _extend(
    modules: Mapping[str, Any],
    owner: Mapping[str, str],
    nodes: dict[str, _Element],
    found: list[Finding],
) -> bool:
    """C09, C10: develop each extended element by its extending ones; False on an error."""
    before = len(found)
    for name, header in modules.items():
        extends = header.get("extends") if isinstance(header, dict) else None
        for ext in extends if isinstance(extends, list) else []:
            target = ext.get("module") if isinstance(ext, dict) else None
            if target not in modules:
                found.append(
                    _e(
                        "C09",
                        f"Module {target} is not found, but is supposed to be extended by "
                        f"module {name}.",
                    )
                )
            develops = ext.get("develops") if isinstance(ext, dict) else None
            for foreign, local_ids in (develops or {}).items():
                locals_ = _refs(local_ids)
                node = nodes.get(str(foreign))
                if node is None or owner[str(foreign)] != target:
                    found.append(
                        _e(
                            "C10",
                            f"Element {foreign} does not exist in module {target}, but is "
                            f"supposed to be extended by {','.join(locals_)}.",
                        )
                    )
                elif not node.undeveloped:
                    found.append(
                        _e(
                            "C10",
                            f"Element {foreign} is not undeveloped, but is supposed to be "
                            f"extended by {','.join(locals_)}.",
                        )
                    )
                else:
                    node.supported_by, node.undeveloped = locals_, False
    return len(found) == before


def _e(rule: str, message: str) -> Finding:
    return Finding(rule, "error", f"{rule}: {message}")


def _w(rule: str, message: str) -> Finding:
    return Finding(rule, "warning", f"{rule}: {message}")


class _UniqueKeyLoader(yaml.SafeLoader):
    """A loader that refuses a repeated key, as gsn2x's YAML reader does."""


def _no_repeats(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[object] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_repeats)


def _load(text: str) -> tuple[dict[Any, Any], str | None]:
    try:
        loaded = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        return {}, " ".join(str(exc).split())
    if loaded is None:
        return {}, None
    if not isinstance(loaded, dict):
        return {}, "a gsn2x file is a mapping of element ids to elements"
    return loaded, None


def _refs(value: Any) -> list[str]:
    """A string or a list of strings, as gsn2x's ``deser_string_or_seq_string`` reads them."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _element(node_id: str, raw: Any, found: list[Finding]) -> _Element | None:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        found.append(Finding("YAML", "error", f"element {node_id} is not a mapping"))
        return None
    prefix_kind = kind_of(node_id)
    declared = raw.get("nodeType")
    kind: Kind | None = prefix_kind
    if declared is not None:
        kind = declared if declared in _KINDS else None
    challenges: str | tuple[str, str] | None = None
    if isinstance(raw.get("challenges"), str):
        target: str = raw["challenges"]
        left, arrow, right = target.partition("->")
        challenges = (left.strip(), right.strip()) if arrow else target
    acp = raw.get("acp") or {}
    return _Element(
        kind=kind,
        prefix_kind=prefix_kind,
        supported_by=_refs(raw.get("supportedBy")),
        in_context_of=_refs(raw.get("inContextOf")),
        challenges=challenges,
        undeveloped=raw.get("undeveloped") is True,
        defeated=raw.get("defeated") is True,
        defeated_relation=_refs(raw.get("defeatedRelation")),
        acp={str(k): _refs(v) for k, v in acp.items()} if isinstance(acp, dict) else {},
    )


def _validate(
    node_id: str,
    n: _Element,
    nodes: Mapping[str, _Element],
    found: list[Finding],
    extended_check: bool,
) -> None:
    """V01-V06, V08-V10, V12, V13 on one element (gsn2x's validate_module)."""
    if n.kind is None:
        found.append(
            _e(
                "V01",
                f"Element {node_id} is of unknown type. Please see documentation for "
                "supported types",
            )
        )
    if extended_check and n.prefix_kind and n.kind and n.kind != n.prefix_kind:
        found.append(
            _w("V08", f"Element {node_id} has type {n.kind}, but ID indicates type {n.prefix_kind}")
        )
    arguing = n.kind in _ARGUING
    if n.in_context_of:
        _references(
            node_id,
            n.in_context_of,
            _CONTEXTUAL if arguing else frozenset(),
            "context",
            nodes,
            found,
        )
    if n.supported_by:
        allowed = _SUPPORTING if arguing else frozenset()
        if n.kind == "CounterGoal":
            allowed = _COUNTER
        _references(node_id, n.supported_by, allowed, "supported by element", nodes, found)
        if n.undeveloped:
            found.append(_e("V03", f"Undeveloped element {node_id} has supporting arguments."))
    elif arguing and not n.undeveloped:
        found.append(_w("V02", f"Element {node_id} is undeveloped."))
    if n.challenges is not None and n.kind not in _COUNTER:
        found.append(
            _e(
                "V12",
                f"{node_id} is not a CounterGoal nor CounterSolution but challenges "
                "another element or relation.",
            )
        )
    connected = {node_id, *(r for r in (*n.supported_by, *n.in_context_of) if r in nodes)}
    for point, targets in n.acp.items():
        for target in targets:
            if target not in connected:
                found.append(
                    _e(
                        "V09",
                        f"Element {node_id} has an assurance claim point {point} that "
                        f"references {target}, but this is neither its own ID nor any of the "
                        "connected elements.",
                    )
                )
    if n.defeated and not any(m.challenges == node_id for m in nodes.values()):
        found.append(
            _e(
                "V10",
                f"Element {node_id} is marked as defeated, but no other element challenges it.",
            )
        )
    for rel in n.defeated_relation:
        if rel not in n.supported_by and rel not in n.in_context_of and n.challenges != rel:
            found.append(
                _e(
                    "V13",
                    f"Relation from {node_id} to {rel} is marked as defeated, but "
                    f"{node_id} has no relation to {rel}.",
                )
            )


def _references(
    node_id: str,
    refs: list[str],
    allowed: frozenset[Kind],
    what: str,
    nodes: Mapping[str, _Element],
    found: list[Finding],
) -> None:
    """V04-V06 on one list of references (gsn2x's validate_reference)."""
    seen: set[str] = set()
    for ref in refs:
        if ref == node_id:
            found.append(_e("V06", f"Element {node_id} references itself in {what}."))
        if ref in seen:
            found.append(_w("V05", f"Element {node_id} has duplicate entry {ref} in {what}."))
        seen.add(ref)
        # An unknown reference passes here (C03 reports it), but an element that may not have
        # references of this kind at all fails for every one of them, as in gsn2x.
        target = nodes.get(ref)
        if not any(target is None or target.kind == kind for kind in allowed):
            found.append(
                _e("V04", f"Element {node_id} has invalid type of reference {ref} in {what}.")
            )


def _validate_extends(header: Any, nodes: Mapping[str, _Element], found: list[Finding]) -> None:
    """V07: the elements that develop another module's must be this file's S, G or Sn."""
    extends = header.get("extends") if isinstance(header, dict) else None
    for ext in extends if isinstance(extends, list) else []:
        develops = ext.get("develops") if isinstance(ext, dict) else None
        for foreign, local_ids in (develops or {}).items():
            for local in _refs(local_ids):
                if not local.startswith(("Sn", "S", "G")):
                    found.append(
                        _e(
                            "V07",
                            f"Element {local} is of wrong type. Only Strategies, Goals and "
                            "Solutions can develop other Goals and Strategies.",
                        )
                    )
                elif local not in nodes:
                    found.append(
                        _e(
                            "V07",
                            f"Element {local} supposed to develop {foreign} in module "
                            f"{ext.get('module')} does not exist.",
                        )
                    )


def _check(nodes: Mapping[str, _Element], found: list[Finding]) -> None:
    """C01-C04, C08, C11-C16 on the file's elements (gsn2x's check_nodes)."""
    before = len(found)
    for node_id, n in nodes.items():
        for refs, what in ((n.in_context_of, "in context of"), (n.supported_by, "supported by")):
            for ref in refs:
                if ref not in nodes:
                    found.append(
                        _e("C03", f'Element {node_id} has unresolved "{what}" element: {ref}')
                    )
                    if "," in ref:
                        found.append(
                            _w(
                                "C11",
                                f'Unresolved "{what}" element of {node_id} may be '
                                f"actually a list: {ref}. Try writing [{ref}] instead.",
                            )
                        )
        _check_challenge(node_id, n, nodes, found)
    # gsn2x stops at the first failing stage: references, then the root, then cycles, then
    # reachability (check_nodes: `?` and and_then), so a later rule is only checked on a
    # file that passed the earlier ones.
    if any(f.severity == "error" for f in found[before:]):
        return
    referenced = {r for n in nodes.values() for r in (*n.supported_by, *n.in_context_of)}
    roots = sorted(i for i, n in nodes.items() if i not in referenced and n.challenges is None)
    if len(roots) > 1:
        found.append(_w("C01", f"There is more than one unreferenced element: {', '.join(roots)}."))
    elif len(roots) == 1 and nodes[roots[0]].kind != "Goal":
        found.append(_e("C02", f"The root element should be a goal, but {roots[0]} was found."))
    elif not roots and nodes:
        found.append(_e("C01", "There are no unreferenced elements found."))
    if not roots or (len(roots) == 1 and nodes[roots[0]].kind != "Goal"):
        return
    cycle = _first_cycle(roots, nodes)
    if cycle:
        found.append(
            _e("C04", f"Cycle detected at element {cycle[0]}. Cycle is {' -> '.join(cycle)}.")
        )
        return
    unreachable = [i for i in nodes if i not in _reachable(roots, nodes)]
    if unreachable:
        found.append(
            _e(
                "C08",
                f"The following element(s) are not reachable from the root element(s) "
                f"({', '.join(roots)}): {', '.join(unreachable)}",
            )
        )


def _check_challenge(
    node_id: str, n: _Element, nodes: Mapping[str, _Element], found: list[Finding]
) -> None:
    """C12-C16: what a counter-element challenges must exist (an element, or a relation)."""

    def related(a: str) -> set[str]:
        m = nodes.get(a)
        if m is None:
            return set()
        out = {*m.supported_by, *m.in_context_of}
        if isinstance(m.challenges, str):
            out.add(m.challenges)
        elif m.challenges is not None:
            out.update(m.challenges)
        return out

    c = n.challenges
    if isinstance(c, str):
        if c == node_id:
            found.append(_e("C13", f"Element {node_id} challenges itself."))
        elif c not in nodes:
            found.append(
                _e("C14", f"Element {node_id} challenges element {c}, but it does not exist.")
            )
    elif c is not None:
        left, right = c
        if left == right:
            found.append(
                _e(
                    "C15",
                    f"Element {node_id} challenges a relation with both ends pointing to {left}.",
                )
            )
        elif left not in nodes or right not in nodes:
            missing = left if left not in nodes else right
            found.append(
                _e(
                    "C12",
                    f"Element {node_id} challenges a relation, but element "
                    f"{missing} of the relation does not exist.",
                )
            )
        elif left not in related(right) and right not in related(left):
            found.append(
                _e(
                    "C16",
                    f"Element {node_id} challenges a relation, but the "
                    f"referenced elements {right} and {left} do not have a relation.",
                )
            )


def _first_cycle(roots: list[str], nodes: Mapping[str, _Element]) -> list[str]:
    """Return a ``supportedBy`` cycle reached from the roots (its first element repeated at
    the end), or []; a cycle no root reaches is C08's, as in gsn2x's get_first_cycle."""
    state: dict[str, int] = {}  # 1 on the path, 2 done
    path: list[str] = []

    def visit(node_id: str) -> list[str]:
        state[node_id] = 1
        path.append(node_id)
        for child in nodes[node_id].supported_by:
            if child not in nodes:
                continue
            if state.get(child) == 1:
                return [*path[path.index(child) :], child]
            if child not in state and (ring := visit(child)):
                return ring
        path.pop()
        state[node_id] = 2
        return []

    for node_id in roots:
        if node_id not in state and (ring := visit(node_id)):
            return ring
    return []


def _reachable(roots: list[str], nodes: Mapping[str, _Element]) -> set[str]:
    """Elements reached from the roots by their links, and the elements challenging them."""
    challengers: dict[str, list[str]] = {}
    for i, n in nodes.items():
        if isinstance(n.challenges, str):
            challengers.setdefault(n.challenges, []).append(i)
        elif n.challenges is not None:  # a relation's challenger hangs from its source
            challengers.setdefault(n.challenges[0], []).append(i)
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        node_id = todo.pop()
        if node_id in seen or node_id not in nodes:
            continue
        seen.add(node_id)
        n = nodes[node_id]
        todo.extend([*n.supported_by, *n.in_context_of, *challengers.get(node_id, [])])
    return seen

"""``set-house-event`` on a path: the formulas collected after it see the house event's new
state, through copies of the gates above it (SCRAM clones them the same way)."""

from __future__ import annotations

from dataclasses import dataclass, field

from cofail.faulttree._mef import FaultTree, Formula

__all__ = ["HouseSettings"]


@dataclass
class HouseSettings:
    """Rewrites formulas for a path's house-event states, adding the copied gates to ``gates``.

    >>> e = lambda n, k: Formula("event", name=n, kind=k)
    >>> t = FaultTree(gates={"g": Formula("and", (e("a", "basic-event"), e("h", "house-event")))},
    ...               basic_events={"a": 0.5}, house_events={"h": False})
    >>> hs = HouseSettings(t)
    >>> f = hs.apply(e("g", "gate"), (("h", True),))
    >>> f.name != "g", hs.gates[f.name].args[1]
    (True, Formula(op='constant', args=(), name='', kind='', min=0, value=True, scope=''))
    """

    tree: FaultTree
    gates: dict[str, Formula] = field(default_factory=dict)
    """The copied gates, under names no MEF identifier can take."""
    _below: dict[str, frozenset[str]] | None = None
    _copies: dict[tuple[str, tuple[tuple[str, bool], ...]], str] = field(default_factory=dict)

    def apply(self, formula: Formula, settings: tuple[tuple[str, bool], ...]) -> Formula:
        """``formula`` with the house events in ``settings`` at their set states."""
        changed = tuple(sorted((h, s) for h, s in settings if self.tree.house_events.get(h) != s))
        if not changed:
            return formula
        below = self._houses_below()
        houses = {h for h, _ in changed}
        states = dict(changed)
        for gate in self._gates_to_copy(formula, below, houses):
            key = (gate, changed)
            if key not in self._copies:  # children are copied first (gates_below's order)
                name = f"{gate}\x1f{len(self._copies)}"
                self.gates[name] = self._rewrite(self.tree.gates[gate], states, changed)
                self._copies[key] = name
        return self._rewrite(formula, states, changed)

    def _gates_to_copy(
        self, formula: Formula, below: dict[str, frozenset[str]], houses: set[str]
    ) -> list[str]:
        tops = [n for n in formula.references() if n in self.tree.gates and below[n] & houses]
        return [g for g in self.tree.gates_below(*tops) if below[g] & houses] if tops else []

    def _rewrite(
        self, f: Formula, states: dict[str, bool], changed: tuple[tuple[str, bool], ...]
    ) -> Formula:
        # Formulas nest at most as deep as the XML reader allows: recursion is bounded.
        if f.op == "event":
            if f.name in states:
                return Formula("constant", value=states[f.name])
            copy = self._copies.get((f.name, changed))
            return f if copy is None else Formula("event", name=copy, kind="gate")
        if not f.args:
            return f
        return Formula(f.op, tuple(self._rewrite(a, states, changed) for a in f.args), min=f.min)

    def _houses_below(self) -> dict[str, frozenset[str]]:
        """Each gate's house events, at any depth below it."""
        if self._below is None:
            tree = self.tree
            below: dict[str, frozenset[str]] = {}
            for gate in tree.gates_below():  # children before parents
                found: set[str] = set()
                for name in tree.gates[gate].references():
                    if name in tree.house_events:
                        found.add(name)
                    elif name in below:
                        found |= below[name]
                below[gate] = frozenset(found)
            self._below = below
        return self._below

"""The vulnerability model: failure modes, layers, vulnerabilities, matrix and stack.

Everything here is immutable and validated on construction; a validation error names the
field path (``cells.RLHF.DEC-AL.level``) so that a user can find the mistake in a file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    field_validator,
    model_validator,
)

from cofail.errors import InputError

if TYPE_CHECKING:  # NumPy (0.1 s) loads for the numeric views only: `cofail show` needs none
    import numpy as np

__all__ = [
    "TAX_COST",
    "TAX_ORDER",
    "Confidence",
    "FailureMode",
    "Id",
    "Layer",
    "Level",
    "Matrix",
    "Stack",
    "TaxLevel",
    "UncertainPolicy",
    "Vulnerability",
    "parse_level",
]

Id = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", min_length=1, max_length=64),
]
"""Identifier of a layer or failure mode: letters, digits, ``_``, ``.``, ``-``; no spaces/commas."""

Mark = Literal["V", "N", "U"]
Level = Mark | float
"""V vulnerable, N not vulnerable, U uncertain, or a conditional failure probability in [0, 1]."""

Confidence = Literal["high", "medium", "low"]
TaxLevel = Literal["low", "moderate", "high"]
UncertainPolicy = Literal["optimistic", "pessimistic"]
"""How U cells are read in structural analysis: optimistic U → N, pessimistic U → V."""

TAX_COST: dict[str, float] = {"low": 1.0, "moderate": 2.0, "high": 4.0}
"""Default numeric cost of each safety-tax level (overridable per layer with ``tax_cost``)."""
TAX_ORDER: dict[str, int] = {"low": 0, "moderate": 1, "high": 2}
"""Rank of each safety-tax level, for "at most this level" filters."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class FailureMode(_Frozen):
    """A condition under which a layer may fail to provide safety (a common cause)."""

    id: Id
    """Short stable code used in files and on the command line, e.g. ``DEC-AL``."""
    name: str = ""
    """Human-readable name, e.g. ``deceptive alignment``."""
    description: str = ""
    """What it means for a layer to be vulnerable to this mode."""
    presence: float | None = Field(default=None, ge=0, le=1, allow_inf_nan=False)
    """Probability p that the mode is present on a case, when the matrix states it (``cofail
    fit`` writes the fitted value); risk figures use it unless ``--p`` sets another."""


class Layer(_Frozen):
    """A safety mechanism that can be part of a stack (technique, classifier, monitor, policy)."""

    id: Id
    """Short stable code, e.g. ``RLHF``."""
    name: str = ""
    """Human-readable name."""
    family: str = ""
    """Group of related mechanisms, e.g. ``scalable oversight``."""
    safety_tax: TaxLevel = "low"
    """Ordinal cost of deploying the layer (capability, compute, time)."""
    tax_cost: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    """Numeric cost; overrides the default cost of ``safety_tax`` when given."""
    tax_note: str = ""
    """Qualifier on the tax judgement, e.g. ``uncertain``."""
    description: str = ""
    """One or two sentences on how the layer provides safety."""
    residual: float | None = Field(default=None, ge=0, le=1, allow_inf_nan=False)
    """Probability r that the layer fails on its own, with no failure mode present, when the
    matrix states it (``cofail fit`` writes the fitted value); ``--residual`` overrides it."""

    @property
    def cost(self) -> float:
        """Numeric safety tax: ``tax_cost`` if set, else the default cost of the level."""
        return self.tax_cost if self.tax_cost is not None else TAX_COST[self.safety_tax]


class Vulnerability(_Frozen):
    """How strongly one layer fails under one failure mode, and why we think so."""

    level: Level
    """V vulnerable, N not, U uncertain, or a conditional failure probability in [0, 1]."""
    rationale: str = ""
    """Why: one or two sentences a reviewer can check."""
    source: str = ""
    """Where the judgement comes from (paper, rater id, evaluation run)."""
    confidence: Confidence | None = None
    """How sure the source is: high, medium or low."""
    votes: dict[str, Level] | None = None
    """Each rater's level, by rater id, when the cell is a consensus (``cofail merge``); a
    rater who left the cell blank has no entry. ``None`` for a cell judged by one source."""
    distribution: str | None = None
    """What q follows while the cell is U: ``beta:a,b``, ``uniform:low,high`` or
    ``lognormal:mean,error_factor``. ``cofail merge`` writes a beta from the votes of a cell the
    raters split on; ``--uncertain own`` reads it (``risk``: q at its mean; ``uncertainty``:
    one input per cell). Ignored once the cell is V, N or graded."""

    @field_validator("level", mode="before")
    @classmethod
    def _parse_level(cls, value: Any) -> Any:
        return parse_level(value)

    @field_validator("votes", mode="before")
    @classmethod
    def _parse_votes(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            out = {}
            for rater, level in value.items():
                try:
                    out[rater] = parse_level(level)
                except ValueError as exc:
                    raise ValueError(f"vote of {rater!r}: {exc}") from None
            return out
        return value

    @field_validator("distribution", mode="before")
    @classmethod
    def _parse_distribution(cls, value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, str):
            raise ValueError(f"expected text such as beta:2,5, got {type(value).__name__}")
        from cofail.probability.distributions import Distribution  # no SciPy: parsing only

        try:
            return str(Distribution.parse(value.strip()))
        except InputError as exc:
            raise ValueError(exc.message) from None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        # A bare level ("V", 0.3) is shorthand for {"level": ...} in files.
        if isinstance(data, str | int | float):  # bool too, so its error names the level
            return {"level": data}
        return data

    @property
    def is_uncertain(self) -> bool:
        """True for a U cell."""
        return self.level == "U"

    def probability(self, uncertain: UncertainPolicy | float = "pessimistic") -> float:
        """Return the conditional failure probability q of this cell.

        >>> Vulnerability(level="V").probability(), Vulnerability(level="U").probability(0.3)
        (1.0, 0.3)
        """
        if isinstance(self.level, float):
            return self.level
        if self.level == "V":
            return 1.0
        if self.level == "N":
            return 0.0
        if isinstance(uncertain, float | int):
            return float(uncertain)
        return 1.0 if uncertain == "pessimistic" else 0.0

    def is_vulnerable(
        self, uncertain: UncertainPolicy = "pessimistic", threshold: float = 0.5
    ) -> bool:
        """Return the binary reading used by structural analysis.

        A graded cell counts as vulnerable when ``q >= threshold``; a U cell follows ``uncertain``.

        >>> Vulnerability(level="U").is_vulnerable("optimistic")
        False
        """
        if isinstance(self.level, float):
            return self.level >= threshold
        return self.probability(uncertain) == 1.0


class Matrix(_Frozen):
    """Layers × failure modes of vulnerabilities, with catalog metadata.

    Every layer has exactly one cell per failure mode. A *catalog* is a matrix with an ``id``,
    ``title`` and ``version``; the paper's Table 1 is the built-in one.

    Examples
    --------
    >>> m = Matrix(
    ...     failure_modes=[FailureMode(id="A"), FailureMode(id="B")],
    ...     layers=[Layer(id="L1"), Layer(id="L2")],
    ...     cells={"L1": {"A": "V", "B": "N"}, "L2": {"A": "V", "B": "V"}},
    ... )
    >>> m.vulnerable().astype(int).tolist()
    [[1, 0], [1, 1]]
    """

    id: str = "matrix"
    """Catalog id, e.g. ``dung-mai-2025``."""
    title: str = ""
    """One-line title."""
    version: str = "1"
    """Version of the judgements; change it whenever a cell changes."""
    description: str = ""
    """Scope, provenance and caveats."""
    references: tuple[str, ...] = ()
    """Citations the judgements rest on."""
    failure_modes: tuple[FailureMode, ...] = Field(min_length=1)
    """The columns, in display order."""
    layers: tuple[Layer, ...] = Field(min_length=1)
    """The rows, in display order."""
    cells: dict[str, dict[str, Vulnerability]]
    """``cells[layer_id][mode_id]``: one vulnerability per layer and failure mode."""
    _vulnerable: dict[tuple[str, float], Any] = PrivateAttr(default_factory=dict)
    """:meth:`vulnerable` by (U policy, threshold): the matrix is frozen, so never stale."""

    @model_validator(mode="after")
    def _check_ids(self) -> Matrix:
        _unique("failure_modes", [m.id for m in self.failure_modes])
        _unique("layers", [layer.id for layer in self.layers])
        mode_ids = [m.id for m in self.failure_modes]
        known_modes = set(mode_ids)  # membership in a set: O(m) per row, not O(m^2)
        layer_ids = {layer.id for layer in self.layers}
        for layer_id in self.cells:
            if layer_id not in layer_ids:
                raise ValueError(
                    f"cells.{layer_id}: unknown layer (known: {', '.join(sorted(layer_ids))})"
                )
        for layer in self.layers:
            row = self.cells.get(layer.id)
            if row is None:
                raise ValueError(f"cells.{layer.id}: missing row for layer {layer.id}")
            unknown = [k for k in row if k not in known_modes]
            if unknown:
                raise ValueError(
                    f"cells.{layer.id}.{unknown[0]}: unknown failure mode "
                    f"(known: {', '.join(mode_ids)})"
                )
            missing = [k for k in mode_ids if k not in row]
            if missing:
                raise ValueError(f"cells.{layer.id}: missing failure mode(s) {', '.join(missing)}")
        return self

    # -- identifiers --------------------------------------------------------------------------
    @cached_property
    def layer_ids(self) -> tuple[str, ...]:
        """Layer ids in row order."""
        return tuple(layer.id for layer in self.layers)

    @cached_property
    def mode_ids(self) -> tuple[str, ...]:
        """Failure-mode ids in column order."""
        return tuple(mode.id for mode in self.failure_modes)

    def layer(self, layer_id: str) -> Layer:
        """Return the layer with this id (``InputError`` naming the known ids otherwise)."""
        for layer in self.layers:
            if layer.id == layer_id:
                return layer
        raise InputError(f"unknown layer {layer_id!r} (known: {', '.join(self.layer_ids)})")

    def mode(self, mode_id: str) -> FailureMode:
        """Return the failure mode with this id."""
        for mode in self.failure_modes:
            if mode.id == mode_id:
                return mode
        raise InputError(f"unknown failure mode {mode_id!r} (known: {', '.join(self.mode_ids)})")

    def cell(self, layer_id: str, mode_id: str) -> Vulnerability:
        """Return the vulnerability of ``layer_id`` to ``mode_id``."""
        return self.cells[layer_id][mode_id]

    # -- numeric views ------------------------------------------------------------------------
    def vulnerable(
        self, uncertain: UncertainPolicy = "pessimistic", threshold: float = 0.5
    ) -> np.ndarray:
        """Return the boolean layers × modes matrix under a U policy (a fresh copy; the matrix
        is immutable, so it is computed once per policy and threshold)."""
        import numpy as np

        key = (uncertain, threshold)
        cached = self._vulnerable.get(key)
        if cached is None:
            cached = np.array(
                [
                    [
                        self.cells[lid][mid].is_vulnerable(uncertain, threshold)
                        for mid in self.mode_ids
                    ]
                    for lid in self.layer_ids
                ],
                dtype=bool,
            )
            self._vulnerable[key] = cached
        return cached.copy()

    def probabilities(self, uncertain: UncertainPolicy | float = "pessimistic") -> np.ndarray:
        """Return the layers × modes matrix of conditional failure probabilities q."""
        import numpy as np

        return np.array(
            [
                [self.cells[lid][mid].probability(uncertain) for mid in self.mode_ids]
                for lid in self.layer_ids
            ],
            dtype=float,
        )

    def own_distributions(self) -> dict[tuple[str, str], str]:
        """Return the distribution of each U cell that carries one (``Vulnerability.distribution``),
        by (layer, mode), in row-major order.

        >>> m = Matrix(failure_modes=[FailureMode(id="A"), FailureMode(id="B")],
        ...            layers=[Layer(id="L")],
        ...            cells={"L": {"A": {"level": "U", "distribution": "beta:1.5, 2.5"},
        ...                         "B": {"level": "V", "distribution": "beta:2,2"}}})
        >>> m.own_distributions()
        {('L', 'A'): 'beta:1.5,2.5'}
        """
        out: dict[tuple[str, str], str] = {}
        for lid in self.layer_ids:
            for mid in self.mode_ids:
                cell = self.cells[lid][mid]
                if cell.is_uncertain and cell.distribution is not None:
                    out[(lid, mid)] = cell.distribution
        return out

    def uncertain_cells(self) -> list[tuple[str, str]]:
        """Return the (layer, mode) pairs of all U cells, in row-major order."""
        return [
            (lid, mid)
            for lid in self.layer_ids
            for mid in self.mode_ids
            if self.cells[lid][mid].is_uncertain
        ]

    def __eq__(self, other: object) -> bool:
        """Equal fields (pydantic's equality would also compare the :meth:`vulnerable` cache;
        the ``__dict__`` holds cached properties too, so only the fields are compared).

        >>> from cofail import catalog
        >>> a, b = catalog.load(), catalog.load()
        >>> _ = a.vulnerable(), a.layer_ids
        >>> a == b, a == b.with_levels({("RLHF", "S-TAX"): "V"})
        (True, False)
        """
        if not isinstance(other, Matrix):
            return NotImplemented
        return type(self) is type(other) and all(
            getattr(self, name) == getattr(other, name) for name in type(self).model_fields
        )

    __hash__ = _Frozen.__hash__

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Matrix:
        """Pydantic's copy, with the :meth:`vulnerable` cache emptied: a copy shares its
        private attributes, and its cells may differ.

        >>> m = Matrix(failure_modes=[FailureMode(id="A")], layers=[Layer(id="L")],
        ...            cells={"L": {"A": "V"}})
        >>> m.vulnerable().tolist(), m.with_levels({("L", "A"): "N"}).vulnerable().tolist()
        ([[True]], [[False]])
        """
        copy = super().model_copy(update=update, deep=deep)
        copy._vulnerable = {}
        return copy

    def with_levels(self, levels: Mapping[tuple[str, str], Level]) -> Matrix:
        """Return a copy with some cell levels replaced (rationale and source kept)."""
        cells = {lid: dict(row) for lid, row in self.cells.items()}
        for (lid, mid), level in levels.items():
            old = cells[lid][mid]
            cells[lid][mid] = old.model_copy(update={"level": level})
        return self.model_copy(update={"cells": cells})


class Stack(_Frozen):
    """The layers actually deployed, and the rule for how they combine.

    By default the system fails only when every layer fails; ``k`` makes it fail when at least
    ``k`` layers fail (a k-out-of-n stack).

    >>> Stack(layers=("RE", "DEBATE")).layers
    ('RE', 'DEBATE')
    """

    layers: tuple[Id, ...] = Field(min_length=1)
    """Layer ids, in the order given."""
    k: int | None = Field(default=None, ge=1)
    """The stack fails when at least ``k`` layers fail; ``None`` means all of them."""

    @model_validator(mode="after")
    def _check(self) -> Stack:
        _unique("layers", list(self.layers))
        if self.k is not None and self.k > len(self.layers):
            raise ValueError(f"k={self.k} exceeds the number of layers ({len(self.layers)})")
        return self

    @property
    def threshold(self) -> int:
        """Number of failed layers that defeats the stack."""
        return self.k if self.k is not None else len(self.layers)

    @classmethod
    def parse(cls, text: str, matrix: Matrix, k: int | None = None) -> Stack:
        """Parse ``A,B,C`` or ``all`` (and a k-out-of-n ``k``) against ``matrix``; unknown ids
        and a ``k`` beyond the stack raise ``InputError`` naming ``--stack`` / ``--k``.

        >>> from cofail import catalog
        >>> Stack.parse("debate, re", catalog.load()).layers
        ('DEBATE', 'RE')
        >>> Stack.parse("all", catalog.load(), k=2).threshold
        2
        """
        if text.strip().lower() == "all":
            return cls._with_k(matrix.layer_ids, k)
        by_upper = {lid.upper(): lid for lid in matrix.layer_ids}
        ids: list[str] = []
        for raw in text.split(","):
            token = raw.strip()
            if not token:
                raise InputError(f"--stack {text!r}: empty layer id (expected A,B,... or all)")
            lid = token if token in matrix.layer_ids else by_upper.get(token.upper())
            if lid is None:
                raise InputError(
                    f"--stack: unknown layer {token!r} (known: {', '.join(matrix.layer_ids)})"
                )
            if lid in ids:
                raise InputError(f"--stack: layer {lid} is listed twice")
            ids.append(lid)
        return cls._with_k(tuple(ids), k)

    @classmethod
    def _with_k(cls, layers: tuple[str, ...], k: int | None) -> Stack:
        if k is not None and k > len(layers):
            raise InputError(f"--k {k} exceeds the stack's {len(layers)} layers")
        return cls(layers=layers, k=k)

    def indices(self, matrix: Matrix) -> list[int]:
        """Return the row indices of the stack's layers in ``matrix``."""
        pos = {lid: i for i, lid in enumerate(matrix.layer_ids)}
        missing = [lid for lid in self.layers if lid not in pos]
        if missing:
            raise InputError(
                f"stack layer {missing[0]!r} is not in matrix {matrix.id!r} "
                f"(known: {', '.join(matrix.layer_ids)})"
            )
        return [pos[lid] for lid in self.layers]


def _unique(field: str, ids: Sequence[str]) -> None:
    seen: set[str] = set()
    for i, value in enumerate(ids):
        if value in seen:
            raise ValueError(f"{field}[{i}]: duplicate id {value!r}")
        seen.add(value)


def parse_level(value: Any) -> Any:
    """Return ``value`` read as a level: ``V``/``N``/``U`` (any case) or a number in [0, 1].

    A boolean, another word or a number outside [0, 1] raises ``ValueError`` (pydantic names
    the field it came from).

    >>> parse_level(" v "), parse_level("0.25"), parse_level(1)
    ('V', 0.25, 1.0)
    """
    if isinstance(value, bool):
        raise ValueError("expected V, N, U or a number in [0, 1], got a boolean")
    if isinstance(value, str):
        text = value.strip()
        if text.upper() in ("V", "N", "U"):
            return text.upper()
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"expected V, N, U or a number in [0, 1], got {value!r}") from None
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:  # an integer of hundreds of digits
            raise ValueError("a graded level must lie in [0, 1], got a huge integer") from None
        if not 0.0 <= number <= 1.0:
            raise ValueError(f"a graded level must lie in [0, 1], got {number:g}")
        return number
    raise ValueError(f"expected V, N, U or a number in [0, 1], got {type(value).__name__}")

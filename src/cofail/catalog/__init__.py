"""Built-in catalogs: named, versioned matrices shipped as YAML data with the package.

>>> from cofail import catalog
>>> catalog.names()
['dung-mai-2025']
>>> m = catalog.load("dung-mai-2025")
>>> len(m.layers), len(m.failure_modes)
(7, 7)
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from cofail.errors import InputError
from cofail.io.matrix_formats import loads_matrix
from cofail.model import Matrix

__all__ = ["DEFAULT", "load", "names"]

DEFAULT = "dung-mai-2025"
"""The catalog every command uses when no ``--matrix`` is given: the paper's Table 1."""


def names() -> list[str]:
    """Return the ids of the built-in catalogs, sorted."""
    files = resources.files(__name__)
    return sorted(p.name.removesuffix(".yaml") for p in files.iterdir() if p.name.endswith(".yaml"))


def load(name: str = DEFAULT) -> Matrix:
    """Return the built-in catalog ``name`` (``InputError`` listing the known ones otherwise)."""
    return _load(name)


@cache
def _load(name: str) -> Matrix:
    if name not in names():
        raise InputError(f"unknown catalog {name!r} (built in: {', '.join(names())})")
    text = resources.files(__name__).joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    return loads_matrix(text, "yaml", source=f"catalog:{name}")

"""The compiled kernels (``_kernels.c``, ``_flat_bdd.c``, ``_sampling.c``), or ``None`` where no C
compiler built them."""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["flat_bdd", "kernels", "sampling"]


def _optional(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(f"cofail.probability.{name}")
    except ImportError:  # pragma: no cover - exercised on machines without a compiler
        return None


kernels = _optional("_kernels")
flat_bdd = _optional("_flat_bdd")
sampling = _optional("_sampling")

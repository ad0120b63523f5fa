"""The compiled kernels (``_kernels.c``), or ``None`` where no C compiler built them."""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["kernels"]

kernels: ModuleType | None
try:
    kernels = importlib.import_module("cofail.probability._kernels")
except ImportError:  # pragma: no cover - exercised on machines without a compiler
    kernels = None

"""The environment the benchmarks run cofail in: with a bytecode cache of its own.

Where the environment sets ``PYTHONDONTWRITEBYTECODE`` (this sandbox does), every run of
``cofail`` compiles its sources again, about 80 ms of a small command's time that no user
pays. A benchmark's child processes get a cache in the run's temporary directory instead
(``PYTHONPYCACHEPREFIX``), filled by an untimed run; ``keep`` leaves the environment as it is.
"""

from __future__ import annotations

import os
from pathlib import Path


def bytecode_env(tmp: Path, *, keep: bool = False) -> dict[str, str]:
    """Return a copy of the environment whose Python writes and reads bytecode under ``tmp``
    (``keep``: the environment unchanged)."""
    env = dict(os.environ)
    if not keep:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    return env

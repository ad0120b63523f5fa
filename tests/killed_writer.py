"""Run cofail and kill it (SIGKILL, sent to itself) at one point of its atomic file writer.

    python tests/killed_writer.py POINT FRACTION COFAIL-ARGS...

POINT is where the writer dies: ``created`` (its temporary file made, nothing in it),
``write`` (after FRACTION of the bytes), ``fsync`` (every byte written, not yet renamed) or
``replace`` (just renamed into place). ``any`` kills at the first of them it reaches with
probability FRACTION each. A run that never reaches the point ends as cofail would. Only
functions of ``os`` and ``tempfile`` are wrapped, so the same kill lands in any version of the
writer.
"""

from __future__ import annotations

import os
import random
import signal
import sys
import tempfile
from typing import Any

POINTS = ("created", "write", "fsync", "replace")


def _die() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


class _DyingWrite:
    """A file whose first write stops after ``fraction`` of its bytes, and kills."""

    def __init__(self, handle: Any, fraction: float) -> None:
        self._handle, self._fraction = handle, fraction

    def write(self, data: bytes) -> int:
        self._handle.write(data[: int(len(data) * self._fraction)])
        self._handle.flush()
        _die()
        return 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)

    def __enter__(self) -> _DyingWrite:
        return self

    def __exit__(self, *exc: object) -> None:
        self._handle.__exit__(*exc)


def _arm(point: str, fraction: float) -> None:
    rng = random.Random(fraction)

    def here(name: str) -> bool:
        return point == name or (point == "any" and rng.random() < fraction)

    real_mkstemp, real_fdopen = tempfile.mkstemp, os.fdopen
    real_fsync, real_replace = os.fsync, os.replace

    def mkstemp(*args: Any, **kwargs: Any) -> Any:
        made = real_mkstemp(*args, **kwargs)
        if here("created"):
            _die()
        return made

    def fdopen(fd: int, *args: Any, **kwargs: Any) -> Any:
        handle = real_fdopen(fd, *args, **kwargs)
        if "w" not in (args[0] if args else kwargs.get("mode", "r")) or not here("write"):
            return handle
        return _DyingWrite(handle, fraction)

    def fsync(fd: int) -> None:
        real_fsync(fd)
        if here("fsync"):
            _die()

    def replace(src: Any, dst: Any) -> None:
        real_replace(src, dst)
        if here("replace"):
            _die()

    tempfile.mkstemp = mkstemp
    os.fdopen = fdopen
    os.fsync = fsync  # type: ignore[assignment]
    os.replace = replace  # type: ignore[assignment]


if __name__ == "__main__":
    _arm(sys.argv[1], float(sys.argv[2]))
    from cofail.cli import main

    sys.exit(main(sys.argv[3:]))

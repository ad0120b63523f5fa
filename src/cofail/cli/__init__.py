"""The ``cofail`` command: parse options, call the library, render. No analysis lives here."""

from __future__ import annotations

import atexit
import gc
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["app", "main", "register"]


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit status; every mistake is one line on stderr.

    0 success; 2 a user mistake (bad option, bad file: ``cofail: error: ...``); 130 Ctrl-C
    (``cofail: interrupted``), like a shell; a full or closed standard output is one line too.
    Without ``argv`` (the ``cofail`` command, ``python -m cofail``) the process is the command's
    own, and its garbage collector is spared the imports (see :func:`_load_for_this_process`).
    """
    if argv is not None:
        from cofail.cli._root import run

        return run(argv)
    args = sys.argv[1:]
    return _load_for_this_process(args)(args)


def _load_for_this_process(args: list[str]) -> Callable[[list[str]], int]:
    """Import the CLI and the module of the command ``args`` names with the garbage collector
    paused, freeze what they made, and return the run.

    The imports (typer, click, the command's options) make tens of thousands of objects that
    live as long as the process. Collecting the young ones among them as they are made costs
    about 6 ms of a small ``cofail mef``, and the interpreter's full collections at exit another
    14 ms (19 against 5 ms from the command's end to the process's). So the collector pauses
    during the imports; what they made is frozen (:func:`gc.freeze`: never collected, which it
    would not be anyway), and so is everything still alive at exit. The command's own objects
    are collected as usual while it runs. Python promises no finalizer at exit; cofail flushes
    and closes its outputs itself.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        from cofail.cli._root import register, run

        register(args)
    finally:
        if collecting:
            gc.enable()
    gc.freeze()
    atexit.register(gc.freeze)
    return run


def __getattr__(name: str) -> Any:
    if name in ("app", "register"):
        from cofail.cli import _root

        return getattr(_root, name)
    raise AttributeError(f"module 'cofail.cli' has no attribute {name!r}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

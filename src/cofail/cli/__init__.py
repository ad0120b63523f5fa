"""The ``cofail`` command: parse options, call the library, render. No analysis lives here."""

from __future__ import annotations

import sys
from importlib import import_module

from cofail.cli._common import app
from cofail.errors import InputError

__all__ = ["app", "main"]

# Importing a module registers its commands; this order is the order of `cofail --help`.
for _module in ("_structure", "_risk", "_decide", "_empirical", "_report", "_files"):
    import_module(f"cofail.cli.{_module}")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; a user mistake prints one line on stderr and returns 2."""
    try:
        app(args=argv, prog_name="cofail")
    except SystemExit as exc:  # typer exits after every command; usage errors exit 2
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except InputError as exc:
        print(f"cofail: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""Safe file access: size and encoding checks on read, temporary file and rename on write."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from cofail.errors import InputError

__all__ = ["MAX_TEXT_BYTES", "read_text", "require_file", "write_atomic"]

MAX_TEXT_BYTES = 10 * 1024 * 1024
"""Largest matrix or model file cofail reads (10 MiB); a larger one is almost surely a mistake."""


def require_file(path: str | Path) -> Path:
    """Return ``path`` as a Path; ``InputError`` when it is missing or a directory.

    >>> require_file("/")
    Traceback (most recent call last):
    ...
    cofail.errors.InputError: /: is a directory, expected a file
    """
    p = Path(path)
    if p.is_dir():
        raise InputError("is a directory, expected a file", source=str(path))
    if not p.exists():
        raise InputError("no such file", source=str(path))
    return p


def read_text(path: str | Path, *, max_bytes: int = MAX_TEXT_BYTES) -> str:
    """Return the UTF-8 text of ``path``; ``InputError`` for a missing, huge, empty or binary file.

    >>> read_text("/nonexistent/m.yaml")
    Traceback (most recent call last):
    ...
    cofail.errors.InputError: /nonexistent/m.yaml: no such file
    """
    p = require_file(path)
    name = str(path)
    size = p.stat().st_size
    if size > max_bytes:
        raise InputError(
            f"file is {size / 2**20:.1f} MiB; at most {max_bytes / 2**20:.0f} MiB is accepted",
            source=name,
        )
    data = p.read_bytes()
    if not data.strip():
        raise InputError("file is empty", source=name)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})",
            source=name,
            line=line,
        ) from None
    if "\x00" in text:
        raise InputError("contains NUL bytes; expected a text file", source=name)
    return text


def write_atomic(path: str | Path, data: str | bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder, then rename.

    A reader never sees a half-written file, and an error leaves any old file untouched. A
    folder that cannot be made or written to, a full disk and the like raise ``InputError``
    naming the path and the reason (the CLI prints one line and exits 2, not a traceback).

    >>> write_atomic("/proc/no/such/file.txt", "x")
    Traceback (most recent call last):
    cofail.errors.InputError: /proc/no/such/file.txt: cannot write: No such file or directory
    """
    target = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise _cannot_write(target, exc) from None
    try:
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise _cannot_write(target, exc) from None
        raise
    return target


def _cannot_write(target: Path, exc: OSError) -> InputError:
    """The user's error for a failed write: the path and the reason."""
    if isinstance(exc, FileExistsError | NotADirectoryError):  # a file where a folder should be
        return InputError("cannot write: a file is in the way of its folder", source=str(target))
    return InputError(f"cannot write: {exc.strerror or exc}", source=str(target))


def _umask() -> int:
    # os.umask can only be read by setting it; restore it at once.
    mask = os.umask(0)
    os.umask(mask)
    return mask

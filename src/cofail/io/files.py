"""Safe file access: size and encoding checks on read, temporary file and rename on write."""

from __future__ import annotations

import os
import shutil
import stat
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cofail.errors import InputError

__all__ = [
    "MAX_TEXT_BYTES",
    "read_text",
    "remove_stale_temporaries",
    "report_folder",
    "require_file",
    "write_atomic",
]

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
    try:
        mode = p.stat().st_mode
    except FileNotFoundError:
        raise InputError("no such file", source=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", source=str(path)) from None
    if stat.S_ISDIR(mode):
        raise InputError("is a directory, expected a file", source=str(path))
    if not stat.S_ISREG(mode):  # reading a FIFO blocks, /dev/zero never ends
        raise InputError(f"is {_kind(mode)}, expected a regular file", source=str(path))
    if not os.access(p, os.R_OK):
        raise InputError("cannot read: permission denied", source=str(path))
    return p


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


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
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", source=name) from None
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
    write killed mid-way leaves its temporary file, which the next write of ``path`` removes
    (:func:`remove_stale_temporaries`). A
    folder that cannot be made or written to, a full disk and the like raise ``InputError``
    naming the path and the reason (the CLI prints one line and exits 2, not a traceback).

    >>> write_atomic("/proc/no/such/file.txt", "x")
    Traceback (most recent call last):
    cofail.errors.InputError: /proc/no/such/file.txt: cannot write: No such file or directory
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if str(path) == "-":
        return _write_stream(raw)
    # A symlink is followed, so the rename replaces the file it points to, not the link; a
    # device or FIFO (/dev/null, /dev/stdout, a pipe) is written to as it is: renaming a
    # temporary file over it would replace the device with a regular file.
    try:
        mode = os.stat(path).st_mode  # follows links: what the name finally points to
    except OSError:
        mode = 0
    target = Path(os.path.realpath(path)) if mode else Path(path)
    if mode and not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        try:
            with open(path, "wb") as handle:
                handle.write(raw)
        except OSError as exc:
            raise _cannot_write(Path(path), exc) from None
        return Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(target)
        fd, tmp = tempfile.mkstemp(
            prefix=f"{_temporary_stem(target.name)}{os.getpid()}.", suffix=".tmp", dir=target.parent
        )
    except OSError as exc:
        raise _cannot_write(target, exc) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            _hold(fd)  # until closed, or killed: a cleaner sees that this writer is alive
            os.chmod(tmp, 0o666 & ~_umask())
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
            os.replace(tmp, target)  # still open and locked: renamed, not copied
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise _cannot_write(target, exc) from None
        raise
    return Path(path)  # the name the caller gave, even when it is a link


_STALE_AFTER = 60.0
"""A temporary file whose writer's pid now runs something else (pid reuse) counts as left over
once it is unlocked and this many seconds old; a writer holds its lock from creation on."""
_NAME_MAX = 255
"""Longest file name, in bytes, on Linux file systems."""


def _temporary_stem(name: str) -> str:
    """``.NAME.``: how a temporary file of ``name`` starts (before the pid and mkstemp's 8
    characters). A long name is cut so that the temporary name stays within 255 bytes.

    >>> _temporary_stem("s.parquet"), len(_temporary_stem("é" * 200).encode())
    ('.s.parquet.', 234)
    """
    room = _NAME_MAX - len(".4194304.abcdefgh.tmp") - 1  # pid at most 7 digits on Linux
    while len(os.fsencode(name)) > room:
        name = name[:-1]
    return f".{name}."


def remove_stale_temporaries(target: str | Path) -> list[Path]:
    """Remove the temporary files that writers of ``target`` killed mid-write left beside it;
    return them.

    A temporary file is ``.NAME.PID.XXXXXXXX.tmp`` (PID its writer's, XXXXXXXX mkstemp's), and
    its writer holds an exclusive ``flock`` on it until it is renamed into place, so a kill
    (even ``kill -9``) releases it. One is removed only when it is a regular file of exactly
    that name, not locked, and its PID runs no process (or, the PID reused, it is over a minute
    old). Anything else that merely looks similar stays: another target's, a folder, a link,
    a file of another naming, a live writer's.

    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (root / f".s.csv.{2**22 + 1}.abcdefgh.tmp").write_text("half")  # no such pid
    >>> _ = (root / ".s.csv.abcdefgh.tmp").write_text("not ours")
    >>> [p.name for p in remove_stale_temporaries(root / "s.csv")], len(list(root.iterdir()))
    (['.s.csv.4194305.abcdefgh.tmp'], 1)
    """
    target = Path(target)
    stem = _temporary_stem(target.name)
    removed = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return []
    for entry in entries:
        pid = _writer_pid(entry.name, stem)
        if pid is None or pid == os.getpid():
            continue
        try:
            if _left_over(entry, pid):
                removed.append(Path(entry.path))
        except OSError:  # gone meanwhile, or not ours to read: leave it
            continue
    return removed


def _writer_pid(name: str, stem: str) -> int | None:
    """The pid in ``.NAME.PID.XXXXXXXX.tmp``, or None for any other name.

    >>> _writer_pid(".a.csv.123.ab_c1234.tmp", ".a.csv."), _writer_pid(".a.csv.x.tmp", ".a.csv.")
    (123, None)
    """
    if not (name.startswith(stem) and name.endswith(".tmp")):
        return None
    parts = name[len(stem) : -len(".tmp")].split(".")
    if len(parts) != 2 or not parts[0].isdigit() or len(parts[0]) > 7:
        return None
    random = parts[1]
    if len(random) != 8 or not all(c in "abcdefghijklmnopqrstuvwxyz0123456789_" for c in random):
        return None
    return int(parts[0])


def _left_over(entry: os.DirEntry[str], pid: int) -> bool:
    """Remove ``entry`` if its writer is gone (see :func:`remove_stale_temporaries`)."""
    if not entry.is_file(follow_symlinks=False):
        return False
    seen = entry.stat(follow_symlinks=False)
    if _alive(pid) and time.time() - seen.st_mtime < _STALE_AFTER:
        return False
    fd = os.open(entry.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        now = os.fstat(fd)
        if (now.st_dev, now.st_ino) != (seen.st_dev, seen.st_ino) or not _try_lock(fd):
            return False
        os.unlink(entry.path)  # under our lock: no writer can hold it meanwhile
        return True
    finally:
        os.close(fd)


def _hold(fd: int) -> None:
    """Lock ``fd`` exclusively until it is closed (or the process dies). Where the file system
    has no locks, the writer goes on unlocked: its live pid still protects its file."""
    try:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except (ImportError, OSError):  # pragma: no cover - not POSIX, or no locks on this mount
        return


def _try_lock(fd: int) -> bool:
    """Whether ``fd`` could be locked at once: no live process holds it."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: never remove
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _write_stream(raw: bytes) -> Path:
    """Write ``raw`` to standard output (the file name ``-``)."""
    try:
        sys.stdout.flush()
        sys.stdout.buffer.write(raw)
        sys.stdout.buffer.flush()
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror or exc}", source="standard output") from None
    return Path("-")


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


@contextmanager
def report_folder(out: str | Path) -> Iterator[Path]:
    """Yield a temporary folder beside ``out``; on success it replaces ``out`` whole.

    A report is several files (HTML, Markdown, figures). Written in place, a full disk or a
    kill would leave half a report, or an old report.html beside a new report.md. Here the new
    folder is built apart (``.NAME.PID.tmp``), the old one is moved aside and the new one moved
    in, each a rename; on any error the new folder is removed and the old one stays. Folders
    left by a killed run (their process gone) are removed the next time.

    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> with report_folder(root / "rep") as tmp:
    ...     _ = (tmp / "a.txt").write_text("new")
    >>> sorted(p.name for p in root.iterdir()), (root / "rep" / "a.txt").read_text()
    (['rep'], 'new')
    """
    target = Path(out)
    if target.exists() and not target.is_dir():
        raise InputError("is a file; the report needs a folder here", source=str(target))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale(target)
        tmp = Path(
            tempfile.mkdtemp(
                prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=target.parent
            )
        )
    except OSError as exc:
        raise _cannot_write(target, exc) from None
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())
        old = None
        if target.exists():
            old = target.with_name(f".{target.name}.{os.getpid()}.old.tmp")
            os.replace(target, old)
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError):
            raise _cannot_write(target, exc) from None
        raise


def _remove_stale(target: Path) -> None:
    """Remove ``.NAME.PID.*.tmp`` folders whose process no longer runs (a killed report)."""
    for leftover in target.parent.glob(f".{target.name}.*.tmp"):
        parts = leftover.name[len(target.name) + 2 :].split(".")
        if not parts[0].isdigit() or _alive(int(parts[0])):
            continue
        if leftover.name.endswith(".old.tmp") and not target.exists():
            os.replace(leftover, target)  # killed between the two renames: the old one back
        else:
            shutil.rmtree(leftover, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

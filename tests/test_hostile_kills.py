"""Writers killed mid-write (SIGKILL, a real process): the target stays whole (old or new, never
half), and the next write of the same target removes what the killed one left, and nothing
else: not another target's temporary, not a live writer's, not a file that merely looks
similar."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Run
from strategies import examples

Cli = Callable[..., Run]
KILLED = Path(__file__).with_name("killed_writer.py")
DEAD = 2**22 + 12345
"""Above Linux's largest pid_max (4,194,304): never a live process."""


def _log(tmp_path: Path) -> Path:
    log = tmp_path / "log.csv"
    log.write_text(
        "case,RLHF,DEBATE\n" + "".join(f"{i},{i % 2},{i % 3 == 0:d}\n" for i in range(40))
    )
    return log


def _rater(tmp_path: Path, name: str, level: str) -> Path:
    path = tmp_path / name
    path.write_text(
        f"rater: {name}\nfailure_modes: [{{id: A}}, {{id: B}}]\n"
        f"layers: [{{id: L}}, {{id: M}}]\ncells: {{L: {{A: {level}, B: N}}, M: {{A: V, B: V}}}}\n"
    )
    return path


# Every command that writes a file, as (its arguments, the file it writes). Each may be run
# again over its own output (--force where it asks for it).
WRITERS: dict[str, Callable[[Path], tuple[list[str], Path]]] = {
    "simulate parquet": lambda d: (
        ["simulate", "-s", "all", "--cases", "200000", "--out", str(d / "s.parquet"), "--force"],
        d / "s.parquet",
    ),
    "simulate csv": lambda d: (
        ["simulate", "-s", "all", "--cases", "20000", "--out", str(d / "s.csv"), "--force"],
        d / "s.csv",
    ),
    "export mef": lambda d: (["export", "-s", "all", "--out", str(d / "t.xml")], d / "t.xml"),
    "export navigator": lambda d: (
        ["export", "-s", "all", "--to", "navigator", "--out", str(d / "n.json")],
        d / "n.json",
    ),
    "init": lambda d: (["init", str(d / "m.yaml"), "--force"], d / "m.yaml"),
    "convert": lambda d: (
        ["convert", "dung-mai-2025", str(d / "c.csv"), "--force"],
        d / "c.csv",
    ),
    "elicit": lambda d: (
        ["elicit", "--out", str(d / "raters"), "--raters", "2", "--force"],
        d / "raters" / "rater-1.yaml",
    ),
    "merge": lambda d: (
        [
            "merge",
            str(_rater(d, "r1.yaml", "V")),
            str(_rater(d, "r2.yaml", "N")),
            "--out",
            str(d / "consensus.yaml"),
            "--force",
        ],
        d / "consensus.yaml",
    ),
    "fit": lambda d: (
        [
            "fit",
            str(_log(d)),
            "--wide",
            "-m",
            "dung-mai-2025",
            "--out",
            str(d / "fitted.yaml"),
            "--force",
        ],
        d / "fitted.yaml",
    ),
    "report": lambda d: (["report", "--out", str(d / "rep")], d / "rep"),
}


def _killed(args: list[str], point: str, fraction: float) -> int:
    """Run cofail in a child that kills itself at ``point`` of its writer; its exit code."""
    done = subprocess.run(
        [sys.executable, str(KILLED), point, str(fraction), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode in (0, -signal.SIGKILL), done.stderr[-2000:]
    return done.returncode


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob(".*.tmp"))


def _check_written(cli: Cli, args: list[str], target: Path, folder: Path) -> None:
    """The writer run again: exit 0, the target whole, no temporary left in ``folder``."""
    r = cli(*args)
    assert r.code == 0, r.err
    assert _leftovers(folder) == [], "a killed writer's temporary is still there"
    if target.is_dir():
        assert (target / "report.html").read_text().rstrip().endswith("</html>")
    elif target.suffix == ".parquet":
        import pyarrow.parquet as pq

        assert pq.read_table(target).num_rows == 200000
    else:
        assert target.stat().st_size > 0


def test_simulate_killed_mid_write_leaves_no_temporary_after_the_next_write(
    cli: Cli, tmp_path: Path
) -> None:
    # The case: kill -9 during simulate --out s.parquet, then simulate --force left
    # the temporary (a few MiB) beside the new file for ever.
    args, target = WRITERS["simulate parquet"](tmp_path)
    assert _killed(args, "write", 0.5) == -signal.SIGKILL
    left = _leftovers(tmp_path)
    assert len(left) == 1 and left[0].startswith(".s.parquet.") and not target.exists()
    _check_written(cli, args, target, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.parquet"]


@pytest.mark.parametrize("point", ["created", "write", "fsync", "replace"])
def test_a_write_killed_at_each_point_keeps_the_old_file_whole(
    cli: Cli, tmp_path: Path, point: str
) -> None:
    args, target = WRITERS["export mef"](tmp_path)
    assert cli(*args).code == 0
    old = target.read_bytes()
    other = ["export", "-s", "RLHF", "--out", str(target)]
    assert _killed(other, point, 0.3) == -signal.SIGKILL
    assert target.read_bytes() == old if point != "replace" else target.read_bytes() != old
    _check_written(cli, args, target, tmp_path)


def test_only_a_dead_writers_temporary_of_the_same_target_is_removed(
    cli: Cli, tmp_path: Path
) -> None:
    from cofail.io.files import _STALE_AFTER

    locked = tmp_path / f".t.xml.{DEAD}.lockedxx.tmp"  # a writer in another pid namespace
    locked.write_text("its pid is not ours to see, its lock is")
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    locker = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, sys, time; f = open(sys.argv[1], 'rb'); "
            "fcntl.flock(f, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(60)",
            str(locked),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert locker.stdout is not None and locker.stdout.readline().strip() == "locked"
        stale = tmp_path / f".t.xml.{DEAD}.abc_1234.tmp"
        stale.write_text("half")
        reused = tmp_path / f".t.xml.{live.pid}.reused12.tmp"  # its pid now runs a sleep
        reused.write_text("old half")
        long_ago = time.time() - 2 * _STALE_AFTER
        os.utime(reused, (long_ago, long_ago))
        survivors = {
            f".t.xml.{live.pid}.freshxxx.tmp": "a live writer, lock not yet taken",
            locked.name: None,  # written above
            ".t.xml.abcdefgh.tmp": "another tool's naming",
            f".t.xml.{DEAD}.abcdefgh.tmp.bak": "a backup",
            f".t.xml.{DEAD}.abcdefg.tmp": "seven random characters, not mkstemp's",
            f".t.xml.{DEAD}.ABCDEFGH.tmp": "capitals: not mkstemp's",
            f".t.xmlx.{DEAD}.abcdefgh.tmp": "another target's",
            f".u.xml.{DEAD}.abcdefgh.tmp": "another target's",
            ".t.xml.-1.abcdefgh.tmp": "no pid",
            "t.xml.tmp": "a file of the user's",
        }
        for name, text in survivors.items():
            if text is not None:
                (tmp_path / name).write_text(text)
        folder = tmp_path / f".t.xml.{DEAD}.folder12.tmp"
        folder.mkdir()
        (folder / "inside").write_text("a folder is never removed")
        link = tmp_path / f".t.xml.{DEAD}.symlink1.tmp"
        link.symlink_to(tmp_path / "t.xml.tmp")
        r = cli("export", "-s", "all", "--out", str(tmp_path / "t.xml"))
        assert r.code == 0, r.err
        assert not stale.exists() and not reused.exists()
        for name in survivors:
            assert (tmp_path / name).exists(), name
        assert (folder / "inside").exists() and link.is_symlink()
        assert (tmp_path / "t.xml.tmp").read_text() == "a file of the user's"
    finally:
        for child in (live, locker):
            child.kill()
            child.wait()


def test_a_long_target_name_still_gets_a_temporary_file(cli: Cli, tmp_path: Path) -> None:
    # .NAME.PID.XXXXXXXX.tmp is 21 bytes longer than NAME: a 250-byte name was refused with
    # "File name too long" although the file itself can exist.
    target = tmp_path / ("x" * 246 + ".xml")
    r = cli("export", "-s", "RLHF", "--out", str(target))
    assert r.code == 0, r.err
    assert target.read_text().startswith("<?xml") and _leftovers(tmp_path) == []


_POINTS = st.sampled_from(["created", "write", "fsync", "replace", "any"])


@settings(
    max_examples=examples(4),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    writer=st.sampled_from(sorted(WRITERS)),
    point=_POINTS,
    fraction=st.floats(0.0, 1.0),
    again=st.booleans(),
)
def test_any_writer_killed_at_any_point_leaves_nothing_after_its_next_write(
    cli: Cli, tmp_path_factory: pytest.TempPathFactory, writer: str, point: str,
    fraction: float, again: bool,
) -> None:  # fmt: skip
    folder = tmp_path_factory.mktemp("kill")
    args, target = WRITERS[writer](folder)
    if again:  # an old file to keep whole
        assert cli(*args).code == 0, writer
    _killed(args, point, fraction)
    if target.is_file() and target.suffix == ".parquet":
        import pyarrow.parquet as pq

        pq.read_table(target)  # never half a file under the target's name
    _check_written(cli, args, target, folder)


@pytest.mark.skipif(os.environ.get("HYPOTHESIS_PROFILE") != "long", reason="make fuzz-long")
@settings(max_examples=examples(1), suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(writer=st.sampled_from(sorted(WRITERS)), delay=st.floats(0.0, 3.0))
def test_any_writer_killed_after_any_delay_leaves_nothing_after_its_next_write(
    cli: Cli, tmp_path_factory: pytest.TempPathFactory, writer: str, delay: float
) -> None:
    # A kill from outside at a random moment (random seeds only under make fuzz-long: where it
    # lands depends on the machine's speed).
    folder = tmp_path_factory.mktemp("kill")
    args, target = WRITERS[writer](folder)
    child = subprocess.Popen([sys.executable, "-m", "cofail", *args], stderr=subprocess.DEVNULL)
    time.sleep(delay)
    child.send_signal(signal.SIGKILL)
    child.wait()
    _check_written(cli, args, target, folder)

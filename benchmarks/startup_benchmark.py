"""Benchmark: how long the commands people type dozens of times a sitting take to answer.

Each command runs as a fresh process, as in a shell, ``--repeat`` times (default 7) in turns,
beside the interpreter's own start (``python -c pass``) measured in the same run; the median of
each is printed with its ratio to the bare interpreter and the target it is held to:

    cofail --help    < 0.35 s
    cofail show      < 0.60 s
    cofail audit     (no target; the audit of the catalog's whole stack)
    cofail mef       (no target; a two-barrier event tree over a three-event fault tree, JSON)

The commands run as an installed command does: from compiled bytecode. Where the environment
says ``PYTHONDONTWRITEBYTECODE`` (some sandboxes do), every run would compile cofail's sources
again (80 ms); so they get a bytecode cache in a temporary directory (``PYTHONPYCACHEPREFIX``),
filled by the warm-up run. ``--no-bytecode-cache`` keeps the environment as it is. Run:

    .venv/bin/python benchmarks/startup_benchmark.py [--repeat 7] [--no-bytecode-cache]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _bytecode import bytecode_env

BIN = Path(sys.executable).parent
COMMANDS: dict[str, tuple[list[str], float | None]] = {
    "python -c pass": ([sys.executable, "-c", "pass"], None),
    "cofail --help": ([str(BIN / "cofail"), "--help"], 0.35),
    "cofail show": ([str(BIN / "cofail"), "show"], 0.60),
    "cofail audit --stack all": ([str(BIN / "cofail"), "audit", "--stack", "all"], None),
}
_FORK = (
    '<fork functional-event="{0}"><path state="holds"><collect-formula><not><gate name="{0}"/>'
    '</not></collect-formula>{1}</path><path state="fails"><collect-formula><gate name="{0}"/>'
    "</collect-formula>{2}</path></fork>"
)
EVENT_TREE = (
    '<opsa-mef><define-initiating-event name="attack" event-tree="T"/><define-event-tree '
    'name="T"><define-functional-event name="L1"/><define-functional-event name="L2"/>'
    '<define-sequence name="stopped"/><define-sequence name="harm"/><initial-state>'
    + _FORK.format(
        "L1",
        '<sequence name="stopped"/>',
        _FORK.format("L2", '<sequence name="stopped"/>', '<sequence name="harm"/>'),
    )
    + '</initial-state></define-event-tree><define-fault-tree name="F"><define-gate name="L1">'
    '<or><basic-event name="c"/><basic-event name="a"/></or></define-gate><define-gate '
    'name="L2"><or><basic-event name="c"/><basic-event name="b"/></or></define-gate>'
    + "".join(
        f'<define-basic-event name="{n}"><float value="{p}"/></define-basic-event>'
        for n, p in (("c", 0.1), ("a", 0.2), ("b", 0.3))
    )
    + "</define-fault-tree></opsa-mef>"
)
"""The example of :func:`cofail.eventtree.solve_event_trees`: two barriers sharing a cause."""


def _time(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="run the commands in the environment as it is (no bytecode cache of their own)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cofail-startup-") as tmp:
        env = bytecode_env(Path(tmp), keep=args.no_bytecode_cache)
        model = Path(tmp) / "event-tree.xml"
        model.write_text(EVENT_TREE)
        commands = {
            **COMMANDS,
            "cofail mef (event tree)": (
                [str(BIN / "cofail"), "mef", str(model), "-f", "json"],
                None,
            ),
        }
        runs = _runs(commands, args.repeat, env)
    _print(commands, runs, args.repeat)


def _runs(
    commands: dict[str, tuple[list[str], float | None]], repeat: int, env: dict[str, str]
) -> dict[str, list[float]]:
    for cmd, _ in commands.values():  # warm the OS file cache and the bytecode once
        _time(cmd, env)
    runs: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeat):  # in turns, so a busy moment hits every command alike
        for name, (cmd, _) in commands.items():
            runs[name].append(_time(cmd, env))
    return runs


def _print(
    commands: dict[str, tuple[list[str], float | None]], runs: dict[str, list[float]], repeat: int
) -> None:
    base = statistics.median(runs["python -c pass"])
    print(f"{'command':<28}{'median':>9}{'min':>9}{'max':>9}{'x python':>10}  target")
    failed = False
    for name, (_, target) in commands.items():
        times = runs[name]
        median = statistics.median(times)
        verdict = ""
        if target is not None:
            ok = median < target
            failed |= not ok
            verdict = f"< {target:.2f} s {'met' if ok else 'MISSED'}"
        print(
            f"{name:<28}{median:>8.3f}s{min(times):>8.3f}s{max(times):>8.3f}s"
            f"{median / base:>9.1f}x  {verdict}"
        )
    print(f"(median of {repeat} runs each, in turns)")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

"""Benchmark: event trees of 10 functional events over the Aralia fault trees' gates, cofail
against SCRAM, whole command-line runs side by side in the same session.

For each Aralia tree in ../shared/benchmarks/aralia, the 10 gates with the most basic events
below them (the top gates excluded) become functional events F1..F10, in that order; a fork on
Fk collects ``not Gk`` on its success path and ``Gk`` on its failure path. Two event trees:

- ``stack``: the path stops at the first barrier that holds (``stopped-by-Fk``), ``harm`` when
  all ten fail: 11 paths, 11 sequences (the shape of a stack in deployment order);
- ``full``: every path forks on all ten events, 1,024 paths, ending in ``failed-k`` for k
  barriers failed: 11 sequences, each the union of C(10, k) paths.

The model file holds the Aralia tree as it is, so both tools also solve its top gate. cofail:
``cofail mef M.xml -f json``; SCRAM: ``scram M.xml --bdd --probability true -l 1`` (cut sets
cut at order 1: close to probability only). Prints per model both wall times, their ratio
(cofail / SCRAM), cofail's solve alone in this process (read + solve, no interpreter start),
and whether every sequence agrees: 1e-6 relative allowing for SCRAM's six printed digits, or
``abs`` where only a sequence below about 1e-12 differs by less than 1e-15 absolute (SCRAM's
BDD sums complements, 1 - P, and loses the last digits of a tiny P there; cofail's value was
checked in exact rational arithmetic on ftr10's ``full`` tree: 1.153358e-13 where SCRAM
prints 1.15352e-13).

cofail runs as an installed command does: from compiled bytecode. Where the environment says
``PYTHONDONTWRITEBYTECODE`` (some sandboxes do), every run would compile cofail's sources
again, 80 ms of a small tree's 0.23 s; so cofail's runs get a bytecode cache in the temporary
directory (``PYTHONPYCACHEPREFIX``), filled by one untimed run first. ``--no-bytecode-cache``
keeps the environment as it is. Run:

    .venv/bin/python benchmarks/event_tree_benchmark.py [--timeout 120] [--shape stack|full]
        [--only baobab1,chinese] [--no-bytecode-cache]
"""

from __future__ import annotations

import argparse
import json
import math
import re
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from _bytecode import bytecode_env

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
ARALIA = ROOT.parent / "shared" / "benchmarks" / "aralia"
COFAIL = [sys.executable, "-m", "cofail"]
SKIPPED = {
    "das9701": "SCRAM needs 22 s for its top alone with -l 1",
    "nus9601": "SCRAM gives no answer within 300 s for its top alone",
    "edfpa14q": "SCRAM gives no -l 1 answer in the reference table",
}
FUNCTIONAL_EVENTS = 10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--shape", choices=["stack", "full", "both"], default="both")
    parser.add_argument("--only", default="", help="comma-separated Aralia model names")
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="run cofail in the environment as it is (no bytecode cache of its own)",
    )
    args = parser.parse_args()
    if not ARALIA.is_dir():
        print(f"skipped: {ARALIA} is absent (the shared benchmarks are not checked out)")
        return
    scram = shutil.which("scram")
    if scram is None:
        print("skipped: SCRAM is not installed (Debian package scram)")
        return
    names = [n for n in args.only.split(",") if n] or sorted(p.stem for p in ARALIA.glob("*.xml"))
    shapes = ["stack", "full"] if args.shape == "both" else [args.shape]
    print(
        f"{'model':10} {'shape':6} {'gates':>6} {'SCRAM s':>9} {'cofail s':>9} {'ratio':>7} "
        f"{'solve s':>8}  agree"
    )
    ratios: list[float] = []
    with tempfile.TemporaryDirectory(prefix="cofail-et-bench-") as tmp:
        env = bytecode_env(Path(tmp), keep=args.no_bytecode_cache)
        if not args.no_bytecode_cache:
            warm = Path(tmp) / "warm.xml"
            write_model(ARALIA / "chinese.xml", warm, "stack")
            run_cofail(warm, args.timeout, env)  # compiles the bytecode, untimed
        for name in names:
            if name in SKIPPED:
                print(f"{name:10} skipped: {SKIPPED[name]}")
                continue
            for shape in shapes:
                model = Path(tmp) / f"{name}-{shape}.xml"
                gates = write_model(ARALIA / f"{name}.xml", model, shape)
                theirs, t_scram = run_scram(scram, model, Path(tmp), args.timeout)
                mine, t_cofail = run_cofail(model, args.timeout, env)
                agree = "-" if theirs is None or mine is None else _agreement(mine, theirs)
                solve_s = in_process(model) if mine is not None else math.nan
                ratio = (
                    t_cofail / t_scram
                    if theirs is not None and mine is not None and t_scram > 0
                    else math.nan
                )
                if not math.isnan(ratio):
                    ratios.append(ratio)
                print(
                    f"{name:10} {shape:6} {gates:6d} {_time(t_scram, theirs)} "
                    f"{_time(t_cofail, mine)} {ratio:7.2f} {solve_s:8.3f}  {agree}",
                    flush=True,
                )
    if ratios:
        geo = math.exp(sum(map(math.log, ratios)) / len(ratios))
        print(
            f"\n{len(ratios)} runs; cofail / SCRAM wall time: geometric mean {geo:.2f}, "
            f"worst {max(ratios):.2f}, best {min(ratios):.2f}"
        )


def write_model(aralia: Path, out: Path, shape: str) -> int:
    """Write the Aralia tree plus an event tree over its 10 largest gates; return the number
    of gates in the tree."""
    root = ET.parse(aralia).getroot()
    gates: dict[str, list[str]] = {}
    for g in root.iter("define-gate"):
        gates[g.get("name", "")] = [
            e.get("name", "") for e in g.iter() if e.tag in ("gate", "basic-event", "event")
        ]
    below: dict[str, set[str]] = {}

    def support(name: str) -> set[str]:
        pending, out, seen = [name], set(), {name}
        while pending:
            for ref in gates.get(pending.pop(), []):
                if ref in gates and ref not in seen:
                    seen.add(ref)
                    pending.append(ref)
                elif ref not in gates:
                    out.add(ref)
        return out

    used = {r for refs in gates.values() for r in refs}
    for name in gates:
        below[name] = support(name)
    chosen = sorted((g for g in gates if g in used), key=lambda g: (-len(below[g]), g))
    chosen = chosen[:FUNCTIONAL_EVENTS]
    body = _stack(chosen, 0) if shape == "stack" else _full(chosen, 0, 0)
    functional = "".join(f'<define-functional-event name="F{k + 1}"/>' for k in range(len(chosen)))
    names = (
        [f"stopped-by-F{k + 1}" for k in range(len(chosen))] + ["harm"]
        if shape == "stack"
        else [f"failed-{k}" for k in range(len(chosen) + 1)]
    )
    sequences = "".join(f'<define-sequence name="{s}"/>' for s in names)
    tree = (
        '<define-initiating-event name="I" event-tree="ET"/>'
        f'<define-event-tree name="ET">{functional}{sequences}<initial-state>{body}'
        "</initial-state></define-event-tree>"
    )
    text = aralia.read_text()
    start = text.index(">", text.index("<opsa-mef")) + 1
    out.write_text(text[:start] + tree + text[start:])
    return len(gates)


def _paths(gate: str, ok: str, ko: str, k: int) -> str:
    return (
        f'<fork functional-event="F{k + 1}"><path state="holds"><collect-formula><not>'
        f'<gate name="{gate}"/></not></collect-formula>{ok}</path><path state="fails">'
        f'<collect-formula><gate name="{gate}"/></collect-formula>{ko}</path></fork>'
    )


def _stack(chosen: list[str], k: int) -> str:
    if k == len(chosen):
        return '<sequence name="harm"/>'
    return _paths(chosen[k], f'<sequence name="stopped-by-F{k + 1}"/>', _stack(chosen, k + 1), k)


def _full(chosen: list[str], k: int, failed: int) -> str:
    if k == len(chosen):
        return f'<sequence name="failed-{failed}"/>'
    return _paths(chosen[k], _full(chosen, k + 1, failed), _full(chosen, k + 1, failed + 1), k)


def run_scram(
    scram: str, model: Path, tmp: Path, timeout: float
) -> tuple[dict[str, float] | None, float]:
    report = tmp / "scram.xml"
    start = time.monotonic()
    try:
        subprocess.run(
            [scram, str(model), "--bdd", "--probability", "true", "-l", "1", "-o", str(report)],
            check=True,
            capture_output=True,
            timeout=timeout,
        )
    except (subprocess.TimeoutExpired, subprocess.CalledProcessError):
        return None, time.monotonic() - start
    seconds = time.monotonic() - start
    text = report.read_text()
    results = text[text.index("<results>") :]
    block = re.search(r"<initiating-event[^>]*>(.*?)</initiating-event>", results, re.S)
    assert block is not None
    values = {
        m.group(1): float(m.group(2))
        for m in re.finditer(r'<sequence name="([^"]+)" value="([^"]+)"', block.group(1))
    }
    return values, seconds


def run_cofail(
    model: Path, timeout: float, env: dict[str, str]
) -> tuple[dict[str, float] | None, float]:
    start = time.monotonic()
    try:
        done = subprocess.run(
            [*COFAIL, "mef", str(model), "-f", "json"],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=ROOT,
            env=env,
        )
    except subprocess.TimeoutExpired:
        return None, time.monotonic() - start
    seconds = time.monotonic() - start
    if done.returncode != 0:
        print(done.stderr.strip()[-300:], file=sys.stderr)
        return None, seconds
    data = json.loads(done.stdout)
    (ie,) = data["initiating_events"]
    return {s["name"]: s["probability"] for s in ie["sequences"]}, seconds


def in_process(model: Path) -> float:
    """Seconds to read ``model`` and solve its event tree here (the library, no CLI)."""
    from cofail.eventtree import solve_event_trees
    from cofail.faulttree import read_mef

    start = time.perf_counter()
    solve_event_trees(read_mef([model]))
    return time.perf_counter() - start


def _agreement(mine: dict[str, float], theirs: dict[str, float]) -> str:
    if mine.keys() != theirs.keys():
        return "NO (sequences differ)"
    verdict = "yes"
    for name, value in theirs.items():
        last_digit = 10 ** (math.floor(math.log10(abs(value))) - 5) if value else 0.0
        difference = abs(mine[name] - value)
        if difference <= 1e-6 * abs(value) + 0.5 * last_digit + 1e-300:
            continue
        if difference < 1e-15:
            verdict = f"abs ({name}: {mine[name]:.6g} against {value:.6g})"
            continue
        return f"NO ({name}: {mine[name]:.6g} against {value:.6g})"
    return verdict


def _time(seconds: float, answer: object) -> str:
    return f"{seconds:9.3f}" if answer is not None else f"{'TO/err':>9}"


if __name__ == "__main__":
    main()

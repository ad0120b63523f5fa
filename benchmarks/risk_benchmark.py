"""Benchmark: cofail's exact risk against SCRAM, whole command-line runs in the same session.

(a) Random stack models: L layers × M failure modes (the grid L in 7, 12, 20, 24 by M in 7, 50,
    200, 1000, and the sizes the issue quotes SCRAM at: 24x100, 16x400, 30x100; ``--sizes``
    picks others), density 0.3, fixed seeds, every mode
    present with the same p, scaled so that each layer fails with probability about 0.2, and a
    residual of 0.01 per layer. cofail: ``cofail risk --matrix M.csv --stack all --no-importance``;
    SCRAM: ``scram M.xml --bdd --probability true -l 1`` on the model ``cofail export`` writes.
(b) The Aralia fault trees in ../shared/benchmarks/aralia: ``cofail mef`` against the same SCRAM
    command. Where cofail's exact solve gives no answer in time, the Monte Carlo estimate
    (``--time-limit 1 --monte-carlo 10000000``) is printed below the row, apart from the
    comparison: an estimate with its interval, not an exact answer.
(c) SCRAM's shipped inputs (expressions, CCF groups) and five Aralia trees: ``cofail mef
    --importance`` against ``scram --ccf true --bdd --probability true --importance true``
    ("agree" there also compares every basic event's MIF, CIF, DIF and RAW), and 2,000
    uncertainty trials of the Chinese model (``--uncertainty 2000`` against ``--uncertainty true
    --num-trials 2000``; "agree" there compares the two means within 4 standard errors).

Prints, per model, both wall times, their ratio and whether the probabilities agree (1e-6
relative, allowing for SCRAM's six printed digits). Run:

    .venv/bin/python benchmarks/risk_benchmark.py [--timeout 120] [--only stacks|aralia|shipped]
        [--sizes 24x100,30x100]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
ARALIA = ROOT.parent / "shared" / "benchmarks" / "aralia"
SCRAM_INPUTS = Path("/usr/share/scram/input")
SHIPPED = [
    ["BSCU/BSCU.xml"],
    ["HIPPS/HIPPS.xml"],
    ["SmallTree/SmallTree.xml"],
    ["ThreeMotor/three_motor.xml"],
    ["TwoTrain/common_cause.xml"],
    ["Chinese/chinese.xml", "Chinese/chinese-basic-events.xml"],
    ["Baobab/baobab1.xml", "Baobab/baobab1-basic-events.xml"],
    ["CEA9601/CEA9601.xml", "CEA9601/CEA9601-basic-events.xml"],  # both time out
]
ARALIA_IMPORTANCE = ["das9204", "edf9205", "edfpa15r", "isp9601", "cea9601"]
"""Aralia trees for (c): a top event of 2e-11, modules in modules, and cea9601 (SCRAM lists
importance only with every cut set, 130 million there)."""
COFAIL = [sys.executable, "-m", "cofail"]
SIZES = [(L, M) for L in (7, 12, 20, 24) for M in (7, 50, 200, 1000)]
REFERENCE_SIZES = [(24, 100), (16, 400), (30, 100)]
"""The sizes the issue quotes SCRAM's times for (about 4 s, 4 s and 60 s with 3 GB; 20x200,
about 10 s, is in the grid)."""


def timed(cmd: list[str], timeout: float) -> tuple[float | None, str]:
    """Return (wall seconds or None on timeout/failure, stdout). Standard error is kept apart
    (cofail notes a long solve there while its JSON goes to stdout) and shown on a failure."""
    start = time.perf_counter()
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return None, ""
    elapsed = time.perf_counter() - start
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["(nothing on stderr)"])[-1]
        print(f"{'':12s} {Path(cmd[0]).name} exited {out.returncode}: {last}", flush=True)
        return None, out.stdout
    return elapsed, out.stdout


def scram_report(
    files: list[str], tmp: Path, timeout: float, *options: str
) -> tuple[float | None, str]:
    """Run SCRAM; return (wall seconds or None, its XML report or "")."""
    report = tmp / "scram-report.xml"
    report.unlink(missing_ok=True)
    seconds, _ = timed(["scram", *files, *options, "-o", str(report)], timeout)
    if seconds is None or not report.exists():
        return None, ""
    return seconds, report.read_text()


def scram(model: Path, tmp: Path, timeout: float) -> tuple[float | None, float | None]:
    seconds, text = scram_report(
        [str(model)], tmp, timeout, "--bdd", "--probability", "true", "-l", "1"
    )
    return seconds, _top_probability(text)


def _top_probability(text: str) -> float | None:
    found = re.findall(r'<sum-of-products [^>]*probability="([^"]+)"', text)
    return float(found[0]) if found else None


def agree(ours: float | None, theirs: float | None) -> bool | None:
    if ours is None or theirs is None:
        return None
    if theirs == 0:
        return ours == 0
    last = 10 ** (np.floor(np.log10(abs(theirs))) - 5)
    return bool(abs(ours - theirs) <= 1e-6 * abs(theirs) + 0.5 * last)


def stack_model(n_layers: int, n_modes: int, tmp: Path) -> tuple[Path, float]:
    rng = np.random.default_rng(1000 * n_layers + n_modes)
    vuln = rng.random((n_layers, n_modes)) < 0.3
    per_layer = max(1.0, float(vuln.sum(axis=1).mean()))
    p = 1 - 0.8 ** (1 / per_layer)
    path = tmp / f"stack-{n_layers}x{n_modes}.csv"
    lines = ["layer," + ",".join(f"M{j}" for j in range(n_modes))]
    for i in range(n_layers):
        lines.append(f"L{i}," + ",".join("V" if v else "N" for v in vuln[i]))
    path.write_text("\n".join(lines) + "\n")
    return path, p


def bench_stacks(
    tmp: Path, timeout: float, sizes: list[tuple[int, int]]
) -> list[dict[str, object]]:
    rows = []
    for n_layers, n_modes in sizes:
        matrix, p = stack_model(n_layers, n_modes, tmp)
        common = ["--matrix", str(matrix), "--stack", "all", "--p", repr(p), "--residual", "0.01"]
        model = tmp / f"stack-{n_layers}x{n_modes}.xml"
        subprocess.run(
            [*COFAIL, "export", *common, "--out", str(model)], check=True, capture_output=True
        )
        ours_s, out = timed([*COFAIL, "risk", *common, "--no-importance", "-f", "json"], timeout)
        ours = json.loads(out)["probability"] if ours_s is not None else None
        engine = json.loads(out)["engine"] if ours_s is not None else "timeout"
        theirs_s, theirs = scram(model, tmp, timeout)
        rows.append(report_row(f"{n_layers}x{n_modes}", ours_s, theirs_s, ours, theirs, engine))
    return rows


def bench_aralia(tmp: Path, timeout: float) -> list[dict[str, object]]:
    rows = []
    for model in sorted(ARALIA.glob("*.xml")):
        ours_s, out = timed([*COFAIL, "mef", str(model), "-f", "json"], timeout)
        ours = json.loads(out)["probability"] if ours_s is not None else None
        theirs_s, theirs = scram(model, tmp, timeout)
        rows.append(report_row(model.stem, ours_s, theirs_s, ours, theirs, "BDD"))
        if ours_s is None:
            rows[-1]["estimate"] = estimate(model, timeout)
    return rows


MC_TRIALS = 10_000_000


def estimate(model: Path, timeout: float) -> dict[str, object] | None:
    """``cofail mef --monte-carlo``'s estimate of a tree the exact solve did not finish."""
    options = ["--time-limit", "1", "--monte-carlo", str(MC_TRIALS), "-f", "json"]
    seconds, out = timed([*COFAIL, "mef", str(model), *options], timeout)
    if seconds is None:
        print(f"{'':12s} no Monte Carlo estimate either in {timeout:g} s")
        return None
    entry: dict[str, Any] = next(iter(json.loads(out)["monte_carlo"].values()))
    low, high = entry["interval"]
    print(
        f"{'':12s} no exact answer; Monte Carlo estimate {entry['estimate']:.3g}, 95% interval "
        f"[{low:.3g}, {high:.3g}], from {MC_TRIALS:,} trials in {seconds:.1f} s (1 s of it the "
        "exact attempt)",
        flush=True,
    )
    return {**entry, "seconds": seconds}


def bench_shipped(tmp: Path, timeout: float) -> list[dict[str, object]]:
    rows = []
    models = [[str(SCRAM_INPUTS / n) for n in names] for names in SHIPPED]
    if ARALIA.exists():
        models += [[str(ARALIA / f"{name}.xml")] for name in ARALIA_IMPORTANCE]
    for files in models:
        ours_s, out = timed([*COFAIL, "mef", *files, "--importance", "-f", "json"], timeout)
        ours = json.loads(out) if ours_s is not None else None
        theirs_s, text = scram_report(
            files, tmp, timeout, "--ccf", "true", "--bdd", "--probability", "true",
            "--importance", "true",
        )  # fmt: skip
        name = Path(files[0]).stem + "+imp"
        mine, theirs = (ours or {}).get("probability"), _top_probability(text)
        agreed = None
        if ours is not None and theirs is not None:
            agreed = bool(agree(mine, theirs)) and _importance_agrees(ours, text)
        rows.append(report_row(name, ours_s, theirs_s, mine, theirs, "BDD, importance", agreed))
    files = [str(SCRAM_INPUTS / "Chinese" / n) for n in ("chinese.xml", "mcs_prob.xml")]
    ours_s, out = timed([*COFAIL, "mef", *files, "--uncertainty", "2000", "-f", "json"], timeout)
    theirs_s, text = scram_report(
        files, tmp, timeout, "--bdd", "--probability", "true", "--uncertainty", "true",
        "--num-trials", "2000",
    )  # fmt: skip
    mine = next(iter(json.loads(out)["uncertainty"].values())) if ours_s is not None else None
    mean = re.findall(r'<mean value="([^"]+)"', text)
    sd = re.findall(r'<standard-deviation value="([^"]+)"', text)
    theirs_mean = float(mean[0]) if mean else None
    agreed = None
    if mine and theirs_mean is not None and sd:  # two Monte Carlo means: within 4 std errors
        se = ((mine["sd"] ** 2 + float(sd[0]) ** 2) / 2000) ** 0.5
        agreed = abs(mine["mean"] - theirs_mean) < 4 * se
    mine_mean = mine["mean"] if mine else None
    row = report_row("chinese+unc", ours_s, theirs_s, mine_mean, theirs_mean, "2000 trials", agreed)
    rows.append(row)
    return rows


def _importance_agrees(ours: dict[str, object], text: str) -> bool:
    """Whether every basic event's MIF, CIF, RAW and DIF in SCRAM's report equal cofail's (1e-6
    and SCRAM's six digits). RRW is left out: where P(e=0) = 0, SCRAM prints 0 or, after a
    cancellation, a negative number; cofail gives null (infinite)."""
    factor = re.compile(r'(MIF|CIF|DIF|RAW)="([^"]+)"')
    tables = ours.get("importance", {})
    assert isinstance(tables, dict)
    for block in re.finditer(r'<importance name="([^"]+)"[^>]*>(.*?)</importance>', text, re.S):
        mine = {f["event"]: f for f in tables.get(block.group(1), [])}
        for m in re.finditer(r'<basic-event name="([^"]+)"([^>]*)/>', block.group(2)):
            for key, value in factor.findall(m.group(2)):
                if m.group(1) not in mine or not agree(mine[m.group(1)][key.lower()], float(value)):
                    return False
    return True


def report_row(
    name: str,
    ours_s: float | None,
    theirs_s: float | None,
    ours: float | None,
    theirs: float | None,
    engine: str,
    agreed: bool | None = None,
) -> dict[str, object]:
    """One result row, printed; ``agreed`` overrides the 1e-6 comparison of the numbers."""
    ratio = theirs_s / ours_s if ours_s and theirs_s else None
    row = {
        "model": name,
        "cofail_s": ours_s,
        "scram_s": theirs_s,
        "speedup": ratio,
        "cofail_p": ours,
        "scram_p": theirs,
        "agree": agree(ours, theirs) if agreed is None else agreed,
        "engine": engine,
    }
    fmt = lambda x: "TO" if x is None else f"{x:.3f}s"  # noqa: E731
    print(
        f"{name:12s} cofail {fmt(ours_s):>9s}  scram {fmt(theirs_s):>9s}  "
        f"speedup {'-' if ratio is None else f'{ratio:.2f}x':>8s}  P {ours!s:>22s} vs {theirs!s:>12s}"
        f"  agree {row['agree']}  [{engine[:40]}]",
        flush=True,
    )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--only", choices=["stacks", "aralia", "shipped"])
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=SIZES + REFERENCE_SIZES,
        help="stack models for (a) as LxM,LxM (default: the grid and the issue's references)",
    )
    args = parser.parse_args()
    if not shutil.which("scram"):
        sys.exit("SCRAM is not installed: apt-get install scram (make test does it as root)")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        rows = []
        if args.only in (None, "stacks"):
            print("(a) random stack models, density 0.3")
            rows += [{**r, "part": "stacks"} for r in bench_stacks(tmp, args.timeout, args.sizes)]
        if args.only in (None, "aralia"):
            if ARALIA.exists():
                print("(b) Aralia fault trees")
                rows += [{**r, "part": "aralia"} for r in bench_aralia(tmp, args.timeout)]
            else:
                print(f"skipping (b): {ARALIA} not found (../shared is absent)")
        if args.only in (None, "shipped"):
            print("(c) SCRAM's shipped inputs: importance, uncertainty")
            rows += [{**r, "part": "shipped"} for r in bench_shipped(tmp, args.timeout)]
    summarise(rows)
    print(json.dumps(rows))


def _sizes(text: str) -> list[tuple[int, int]]:
    try:
        return [(int(a), int(b)) for a, b in (item.split("x") for item in text.split(","))]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected LxM,LxM (e.g. 24x100,30x100), got {text!r}"
        ) from None


def summarise(rows: list[dict[str, object]]) -> None:
    """Print, per part, how many models each tool solved and the times over the common ones."""
    for part in ("stacks", "aralia", "shipped"):
        chosen = [r for r in rows if r["part"] == part]
        if not chosen:
            continue
        both = [r for r in chosen if r["cofail_s"] is not None and r["scram_s"] is not None]
        ours = sum(float(r["cofail_s"]) for r in both)  # type: ignore[arg-type]
        theirs = sum(float(r["scram_s"]) for r in both)  # type: ignore[arg-type]
        print(
            f"{part}: {len(chosen)} models; cofail solved "
            f"{sum(r['cofail_s'] is not None for r in chosen)}, SCRAM "
            f"{sum(r['scram_s'] is not None for r in chosen)}; over the {len(both)} both solved: "
            f"cofail {ours:.1f} s, SCRAM {theirs:.1f} s; disagreements: "
            f"{sum(r['agree'] is False for r in chosen)}; ten times faster than SCRAM on "
            f"{sum(r['speedup'] is not None and float(r['speedup']) >= 10 for r in chosen)}"  # type: ignore[arg-type]
        )


if __name__ == "__main__":
    main()

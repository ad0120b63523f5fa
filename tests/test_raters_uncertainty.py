"""Several raters, second half: disagreement as uncertainty (a split cell's beta, read by risk,
uncertainty and robustness), raters weighted by evidence (Brier and log scores on the cells a
log measures), and the report's "Where the raters disagree".

Every number is checked against a hand calculation written out here, or a brute force that
shares no code with the library (all resolutions enumerated with plain loops, scores summed
case by case).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from cofail.empirical import PatternHistogram
from cofail.io import read_matrix
from cofail.model import Vulnerability
from cofail.probability import Scenario
from cofail.raters import (
    disagreement_robustness,
    evidence_weights,
    loads_rater_file,
    merge,
    panel_from_votes,
    panel_of,
    vote_beta,
)
from conftest import Run, one_line_error
from strategies import examples

Cli = Callable[..., Run]
DATA = Path(__file__).parent / "data" / "raters"
FILES = [DATA / "ann.yaml", DATA / "bo.json", DATA / "cy.csv"]


def _panel(rows: dict[str, str], header: str = "layer,A,B") -> list[object]:
    return [
        loads_rater_file(f"{header}\n{row}", "csv", f"{name}.csv") for name, row in rows.items()
    ]


def _write(tmp: Path, name: str, text: str) -> str:
    path = tmp / name
    path.write_text(text)
    return str(path)


# -- 4. disagreement becomes uncertainty ---------------------------------------------------------
def test_a_tie_becomes_u_with_the_jeffreys_beta_of_its_votes() -> None:
    # V V N N: a tie, so U; beta(1/2 + 2, 1/2 + 2). V V N U: majority V, no distribution;
    # with split_uncertain it is U with beta(1/2 + 2, 1/2 + 1) (the U vote left out).
    files = [
        loads_rater_file(f"layer,A,B\nL,{a},{b}\n", "csv", f"{name}.csv")
        for name, a, b in [("a", "V", "V"), ("b", "V", "V"), ("c", "N", "N"), ("d", "N", "U")]
    ]
    result = merge(panel_of(files))
    tie, decided = result.matrix.cell("L", "A"), result.matrix.cell("L", "B")
    assert (tie.level, tie.distribution) == ("U", "beta:2.5,2.5")
    assert "Jeffreys prior beta(1/2, 1/2)" in tie.rationale and "mean 0.5" in tie.rationale
    assert (decided.level, decided.distribution) == ("V", None)
    split = merge(panel_of(files), split_uncertain=True)
    cell = split.matrix.cell("L", "B")
    assert (cell.level, cell.distribution) == ("U", "beta:2.5,1.5")
    assert [c.outcome for c in split.cells] == ["tie", "split"]
    assert "mean 0.625" in cell.rationale  # 2.5 / 4


def test_vote_beta_counts_graded_votes_as_fractions_and_weights_as_multiples() -> None:
    # graded 0.25 adds 0.25 to a and 0.75 to b; V (weight 2) adds 2 to a
    assert vote_beta({"a": 0.25, "b": "V", "c": "U"}, {"a": 1.0, "b": 2.0, "c": 1.0}) == (
        0.5 + 0.25 + 2.0,
        0.5 + 0.75,
    )


def test_the_distribution_round_trips_and_is_checked(tmp_path: Path) -> None:
    files = _panel({"a": "L,V,N\n", "b": "L,N,N\n"})
    consensus = merge(panel_of(files)).matrix  # type: ignore[arg-type]
    path = tmp_path / "c.yaml"
    from cofail.io import write_matrix

    write_matrix(consensus, path)
    assert read_matrix(path).cell("L", "A").distribution == "beta:1.5,1.5"
    with pytest.raises(ValueError, match="beta"):
        Vulnerability(level="U", distribution="beta:-1,2")
    assert Vulnerability(level="U", distribution=" beta:2.0, 5 ").distribution == "beta:2,5"


SMALL = """cofail: 1
id: small
failure_modes: [{id: A}, {id: B}]
layers: [{id: L1}, {id: L2}]
cells:
  L1: {A: V, B: N}
  L2: {A: {level: U, distribution: "beta:2.5,1.5"}, B: U}
"""


def _exact(q2a: float, q2b: float, p: float = 0.1, r: float = 0.01) -> float:
    """P(L1 and L2 fail) by hand: L1 fails under A (q 1) or alone; L2 under A with q2a, B with
    q2b, or alone. Modes independent, present with p; sum over the four mode subsets."""
    total = 0.0
    for a, b in itertools.product([0, 1], repeat=2):
        weight = (p if a else 1 - p) * (p if b else 1 - p)
        l1 = 1.0 if a else r
        l2 = 1 - (1 - r) * (1 - q2a * a) * (1 - q2b * b)
        total += weight * l1 * l2
    return total


def test_risk_reads_each_u_cell_by_its_own_distribution(cli: Cli, tmp_path: Path) -> None:
    m = _write(tmp_path, "small.yaml", SMALL)
    own = cli("risk", "-m", m, "-s", "all", "--uncertain", "own", "-f", "json").json()
    # L2 × A at the beta's mean 2.5 / 4 = 0.625; L2 × B (no distribution) pessimistic, q = 1
    assert own["probability"] == pytest.approx(_exact(0.625, 1.0), rel=1e-12)
    assert "own distribution" in own["assumptions"]
    rest = cli("risk", "-m", m, "-s", "all", "-u", "own,optimistic", "-f", "json").json()
    assert rest["probability"] == pytest.approx(_exact(0.625, 0.0), rel=1e-12)
    plain = cli("risk", "-m", m, "-s", "all", "-f", "json").json()  # unchanged by default
    assert plain["probability"] == pytest.approx(_exact(1.0, 1.0), rel=1e-12)
    # the same reading in the library
    q, _, _ = Scenario.parse(uncertain="own,0.2").arrays(read_matrix(m))
    assert q.tolist() == [[1.0, 0.0], [0.625, 0.2]]


def test_uncertainty_samples_each_own_distribution(cli: Cli, tmp_path: Path) -> None:
    m = _write(tmp_path, "small.yaml", SMALL)
    r = cli(
        "uncertainty", "-m", m, "-s", "all", "-u", "own,beta:1,1", "--samples", "4000", "-f", "json"
    ).json()
    assert r["inputs"] == [
        {"name": "q[L2×A]", "distribution": "beta:2.5,1.5"},
        {"name": "q[L2×B]", "distribution": "beta:1,1"},
    ]
    # P is linear in each q and the q are independent: E[P] = P(E q) = P(0.625, 0.5)
    assert r["point_estimate"] == pytest.approx(_exact(0.625, 0.5), rel=1e-12)
    assert r["mean"] == pytest.approx(_exact(0.625, 0.5), abs=4 * r["std"] / math.sqrt(4000))
    alone = cli("uncertainty", "-m", m, "-s", "all", "-u", "own", "-f", "json").json()
    assert [i["name"] for i in alone["inputs"]] == ["q[L2×A]"]  # L2 × B stays at q = 1


def _uncovered(
    levels: dict[tuple[str, str], bool], layers: list[str], modes: list[str]
) -> set[str]:
    """Modes every layer is vulnerable to, from plain booleans."""
    return {m for m in modes if all(levels[(lid, m)] for lid in layers)}


def test_robustness_over_split_cells_matches_a_brute_force() -> None:
    # Three raters; the split cells are L1×A (V V N: V, share (2 + 1/2)/(3 + 1) = 0.625),
    # L2×A (V N N: N, share 0.375) and L2×B (V N U: tie, U; share (1 + 1/2)/(2 + 1) = 0.5).
    files = _panel({"a": "L1,V,N\nL2,V,V\n", "b": "L1,V,N\nL2,N,N\n", "c": "L1,N,N\nL2,N,U\n"})
    consensus = merge(panel_of(files)).matrix  # type: ignore[arg-type]
    result = disagreement_robustness(consensus)
    assert result is not None and result.resolved == "the cells the raters split on"
    split = [("L1", "A"), ("L2", "A"), ("L2", "B")]
    assert list(result.uncertain_cells) == split
    share = {("L1", "A"): 0.625, ("L2", "A"): 0.375, ("L2", "B"): 0.5}
    fixed = {("L1", "B"): False}
    # baseline: the consensus as it stands, the U cell read as V
    base = {**fixed, ("L1", "A"): True, ("L2", "A"): False, ("L2", "B"): True}
    expected = _uncovered(base, ["L1", "L2"], ["A", "B"])  # {} : L1 covers B, L2 covers A
    holds = probability = 0.0
    for bits in itertools.product([False, True], repeat=3):
        levels = {**fixed, **dict(zip(split, bits, strict=True))}
        weight = math.prod(
            share[c] if b else 1 - share[c] for c, b in zip(split, bits, strict=True)
        )
        ok = _uncovered(levels, ["L1", "L2"], ["A", "B"]) == expected
        holds += ok
        probability += weight * ok
    conclusion = next(c for c in result.conclusions if c.id == "uncovered:L1+L2")
    assert conclusion.holds_in == holds == 6  # fails only when L1×A and L2×A are both V
    assert conclusion.probability == pytest.approx(probability)
    assert probability == pytest.approx(1 - 0.625 * 0.375)
    assert set(conclusion.flipped_by) == {("L1", "A"), ("L2", "A")}


@settings(max_examples=examples(25))
@given(st.lists(st.sampled_from(["V", "N", "U"]), min_size=4, max_size=4))
def test_the_probability_of_a_conclusion_is_the_weighted_count(votes: list[str]) -> None:
    # One layer, one mode, four raters: P(L leaves A uncovered holds) is the chance of the
    # baseline's reading: share of V when the baseline is V, else 1 - share.
    files = [loads_rater_file(f"layer,A\nL,{v}\n", "csv", f"r{i}.csv") for i, v in enumerate(votes)]
    consensus = merge(panel_of(files)).matrix
    result = disagreement_robustness(consensus)
    if len({*votes}) == 1:
        assert result is None
        return
    assert result is not None
    v, n = votes.count("V"), votes.count("N")
    share = (v + 0.5) / (v + n + 1)
    vulnerable = consensus.cell("L", "A").level in ("V", "U")
    c = next(c for c in result.conclusions if c.id == "uncovered:L")
    assert c.probability == pytest.approx(share if vulnerable else 1 - share)


def test_a_consensus_rebuilds_its_panel_from_the_votes() -> None:
    files = _panel({"a": "L,V,N\n", "b": "L,N,\n", "c": "L,V,V\n"})
    panel = panel_of(files)  # type: ignore[arg-type]
    again = panel_from_votes(merge(panel).matrix)
    assert again.ids == ("a", "b", "c")
    for cell in panel.cells:
        assert {r: v.level for r, v in again.votes(*cell).items()} == {
            r: v.level for r, v in panel.votes(*cell).items()
        }


# -- 5. raters weighted by evidence -----------------------------------------------------------
RATERS = {
    "ann": "layer,A,B\nL,V,N\nM,N,N\n",
    "bo": "layer,A,B\nL,N,V\nM,V,N\n",
    "cy": "layer,A,B\nL,U,\nM,N,N\n",
}


def _log(tmp: Path) -> str:
    """L fails on 8 of the 10 cases of mode A and on 1 of the 4 of B; M never fails; C is a
    stratum that names no mode."""
    rows = ["case,layer,failed,mode"]
    outcomes = {"A": [1] * 8 + [0] * 2, "B": [1] + [0] * 3, "C": [1, 1]}
    k = 0
    for mode, fails in outcomes.items():
        for f in fails:
            rows += [f"c{k},L,{f},{mode}", f"c{k},M,0,{mode}"]
            k += 1
    return _write(tmp, "log.csv", "\n".join(rows) + "\n")


def _scores_by_cases(p: float, outcomes: list[int]) -> tuple[float, float]:
    """Brier and log score averaged case by case."""
    brier = float(np.mean([(p - o) ** 2 for o in outcomes]))
    log = float(np.mean([math.log(p if o else 1 - p) for o in outcomes]))
    return brier, log


def test_evidence_weights_score_each_rater_on_the_measured_cells(tmp_path: Path) -> None:
    panel = panel_of([loads_rater_file(t, "csv", f"{n}.csv") for n, t in RATERS.items()])
    h = PatternHistogram.from_counts(
        ("L", "M"), {"A": {0b01: 8, 0b00: 2}, "B": {0b01: 1, 0b00: 3}, "C": {0b01: 2}}
    )
    w = evidence_weights(panel, h)
    assert [(s.layer, s.mode, s.rate) for s in w.seeds] == [
        ("L", "A", 0.8),
        ("L", "B", 0.25),
        ("M", "A", 0.0),
        ("M", "B", 0.0),
    ]
    cases = {("L", "A"): [1] * 8 + [0] * 2, ("L", "B"): [1, 0, 0, 0], ("M", "A"): [0] * 10}
    cases[("M", "B")] = [0] * 4
    reading = {"V": 0.95, "N": 0.05, "U": 0.5}
    judged = {
        "ann": {("L", "A"): "V", ("L", "B"): "N", ("M", "A"): "N", ("M", "B"): "N"},
        "bo": {("L", "A"): "N", ("L", "B"): "V", ("M", "A"): "V", ("M", "B"): "N"},
        "cy": {("L", "A"): "U", ("M", "A"): "N", ("M", "B"): "N"},  # L × B left blank
    }
    expected_log = {}
    for s in w.scores:
        pairs = [_scores_by_cases(reading[lv], cases[c]) for c, lv in judged[s.rater].items()]
        assert s.judged == len(pairs)
        assert s.brier == pytest.approx(np.mean([b for b, _ in pairs]))
        assert s.log == pytest.approx(np.mean([lg for _, lg in pairs]))
        expected_log[s.rater] = np.mean([lg for _, lg in pairs])
    raw = {r: math.exp(x) for r, x in expected_log.items()}
    mean = sum(raw.values()) / 3
    assert w.weights == pytest.approx({r: x / mean for r, x in raw.items()})
    # by hand: ann (.8 ln .95 + .2 ln .05 + .25 ln .05 + .75 ln .95 + 2 ln .95) / 4
    # = (-0.640181 - 0.787403 - 2 * 0.051293) / 4 = -0.38254; bo (.8 ln .05 + .2 ln .95
    # + .25 ln .95 + .75 ln .05 + ln .05 + ln .95) / 4 = -1.92837; cy (ln .5 + 2 ln .95) / 3
    # = -0.26524 (cy skipped L × B, the cell that cost ann most)
    assert [expected_log[r] for r in ("ann", "bo", "cy")] == pytest.approx(
        [-0.38254, -1.92837, -0.26524], abs=1e-5
    )
    assert w.weights["cy"] > w.weights["ann"] > w.weights["bo"]


def test_merge_weights_evidence_from_a_log(cli: Cli, tmp_path: Path) -> None:
    files = [_write(tmp_path, f"{n}.csv", t) for n, t in RATERS.items()]
    out = tmp_path / "c.yaml"
    r = cli(
        "merge", *files, "--out", str(out), "--weights", "evidence",
        "--log", _log(tmp_path), "--stratum-col", "mode", "-f", "json",
    )  # fmt: skip
    assert r.code == 0, r.err
    data = r.json()
    seeds = [(s["layer"], s["failure_mode"]) for s in data["evidence"]["seed_cells"]]
    assert seeds == [("L", "A"), ("L", "B"), ("M", "A"), ("M", "B")]
    assert "V 0.95, N 0.05, U 0.5" in data["evidence"]["mapping"]
    weights = data["weights"]
    # L × B: ann N, bo V, cy blank: a tie unweighted, ann's heavier N weighted
    assert merge(panel_of([loads_rater_file(t, "csv", f"{n}.csv") for n, t in RATERS.items()]))\
        .matrix.cell("L", "B").level == "U"  # fmt: skip
    assert weights["ann"] > weights["bo"]
    cell = read_matrix(out).cell("L", "B")
    assert cell.level == "N" and "weighted by evidence" in cell.rationale
    table = cli(
        "merge", *files, "--out", str(out), "--force", "--weights", "evidence",
        "--log", _log(tmp_path), "--stratum-col", "mode",
    )  # fmt: skip
    assert "seed cells" in table.out and "L×A 8/10 = 0.8" in table.out


def test_evidence_mistakes_are_one_line_errors(cli: Cli, tmp_path: Path) -> None:
    files = [_write(tmp_path, f"{n}.csv", t) for n, t in RATERS.items()]
    out = ["--out", str(tmp_path / "c.yaml")]
    log = _log(tmp_path)
    one_line_error(cli("merge", *files, *out, "--weights", "evidence"), "--log")
    one_line_error(cli("merge", *files, *out, "--log", log), "--weights evidence")
    one_line_error(
        cli("merge", *files, *out, "--weights", "evidence", "--log", log), "no stratum", "mode"
    )
    one_line_error(
        cli(
            "merge", *files, *out, "--weights", "evidence", "--log", log,
            "--stratum-col", "mode", "--rule", "dawid-skene",
        ),
        "dawid-skene",
    )  # fmt: skip


# -- 6. the report -----------------------------------------------------------------------------
def test_report_on_raters_has_the_disagreement_section(cli: Cli, tmp_path: Path) -> None:
    args = [x for f in FILES for x in ("--raters", str(f))]
    r = cli("report", *args, "--out", str(tmp_path / "rep"), "-f", "json")
    assert r.code == 0, r.err
    md = (tmp_path / "rep" / "report.md").read_text()
    section = md[md.index("## Where the raters disagree") : md.index("## Glossary")]
    assert "3 raters (ann, bo, cy)" in section
    assert "### Krippendorff's alpha (3 raters, 9 cells)" in section
    assert "### Conclusions the raters' disagreement can flip" in section
    assert "figures/rater-agreement.svg" in section and "figures/rater-profiles.svg" in section
    assert (tmp_path / "rep" / "figures" / "rater-agreement.svg").read_text().startswith("<svg")
    # ann: 4 V, 3 N, 1 U of 8 judged (MONITOR × DIST-SHIFT blank)
    assert "| ann | 8 | 4 (50%) | 3 (38%) | 1 (12%) | 0 (0%) | 1 |" in section


def test_report_on_a_consensus_reads_its_votes(cli: Cli, tmp_path: Path) -> None:
    consensus = tmp_path / "c.yaml"
    assert cli("merge", *map(str, FILES), "--out", str(consensus)).code == 0
    assert cli("report", "-m", str(consensus), "--out", str(tmp_path / "a")).code == 0
    assert "## Where the raters disagree" in (tmp_path / "a" / "report.md").read_text()
    assert cli("report", "-m", "dung-mai-2025", "--out", str(tmp_path / "b")).code == 0
    assert "Where the raters disagree" not in (tmp_path / "b" / "report.md").read_text()
    bad = _write(tmp_path, "x.csv", "layer,Q\nL,V\n")
    other = _write(tmp_path, "y.csv", "layer,Q\nL,N\n")
    one_line_error(
        cli("report", "-m", str(consensus), "--raters", bad, "--raters", other,
            "--out", str(tmp_path / "c")),
        "--raters",
    )  # fmt: skip


def test_flip_table_lists_what_the_split_cells_can_change(tmp_path: Path) -> None:
    from cofail.report.rater_section import raters_section

    files = _panel({"a": "L1,V,N\nL2,V,V\n", "b": "L1,V,N\nL2,N,N\n", "c": "L1,N,N\nL2,N,U\n"})
    section = raters_section(merge(panel_of(files)).matrix, replicates=50)  # type: ignore[arg-type]
    flips = next(t for t in section.tables if t.title.startswith("Conclusions"))
    row = next(r for r in flips.rows if str(r[0]).startswith("L1+L2 leaves"))
    assert row[1] == "6 of 8" and row[2] == pytest.approx(1 - 0.625 * 0.375, abs=1e-3)
    assert row[3] == "L1 × A, L2 × A"


def test_yaml_of_a_consensus_names_the_distribution(tmp_path: Path) -> None:
    files = _panel({"a": "L,V,N\n", "b": "L,N,N\n"})
    from cofail.io import write_matrix

    path = tmp_path / "c.yaml"
    write_matrix(merge(panel_of(files)).matrix, path)  # type: ignore[arg-type]
    data = yaml.safe_load(path.read_text())
    assert data["cells"]["L"]["A"]["distribution"] == "beta:1.5,1.5"
    assert "distribution" not in data["cells"]["L"]["B"]  # N N: no split, no distribution


def test_weighted_mean_and_weighted_beta_by_hand() -> None:
    files = _panel({"a": "L,V,V\n", "b": "L,N,N\n"})
    result = merge(panel_of(files), "mean", weights={"a": 3.0, "b": 1.0})  # type: ignore[arg-type]
    # scaled to mean 1: a 1.5, b 0.5; mean (1.5 * 1 + 0.5 * 0) / 2 = 0.75
    assert result.weights == {"a": 1.5, "b": 0.5}
    assert result.matrix.cell("L", "A").level == 0.75
    tie = merge(panel_of(files), weights={"a": 1.0, "b": 1.0})  # type: ignore[arg-type]
    assert tie.matrix.cell("L", "A").distribution == "beta:1.5,1.5"
    with pytest.raises(Exception, match="no weight for rater 'b'"):
        merge(panel_of(files), weights={"a": 1.0})  # type: ignore[arg-type]

"""Several raters: rater files, elicitation templates, Krippendorff's alpha, merging.

Alpha is checked against Krippendorff's published worked examples and against the independent
``krippendorff`` package; Dawid–Skene against ``crowd-kit``'s implementation (both test-only).
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from cofail import catalog
from cofail.errors import InputError
from cofail.io import read_matrix
from cofail.model import Matrix, Vulnerability
from cofail.raters import (
    Reliability,
    agreement,
    dawid_skene,
    elicitation_templates,
    krippendorff_alpha,
    loads_rater_file,
    merge,
    panel_of,
    read_panel,
    read_rater_file,
)
from conftest import Run, one_line_error
from strategies import examples

Cli = Callable[..., Run]
DATA = Path(__file__).parent / "data" / "raters"
FILES = [DATA / "ann.yaml", DATA / "bo.json", DATA / "cy.csv"]
nan = math.nan

# Krippendorff, K. (2011). Computing Krippendorff's Alpha-Reliability. Annenberg School for
# Communication, University of Pennsylvania (repository.upenn.edu/asc_papers/43), section C:
# 4 observers × 12 units, 7 values missing (unit 12 has a single value, so is unpairable).
# Published: nominal alpha 0.743, ordinal 0.815, interval 0.849 (and ratio 0.797). The
# krippendorff package's own tests (pln-fing-udelar/fast-krippendorff, tests/
# test_krippendorff.py) check 0.815 (ordinal) and 0.797 (ratio) on the same matrix.
KRIPPENDORFF_C = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
    [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
]
# The same paper, section B: two observers, ten units, binary data, nominal alpha 0.095.
KRIPPENDORFF_B = [[0, 1, 0, 0, 0, 0, 0, 0, 1, 0], [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]]


# -- Krippendorff's alpha ----------------------------------------------------------------------
def test_published_worked_example_at_three_levels() -> None:
    r = Reliability(KRIPPENDORFF_C)
    assert round(r.alpha("nominal"), 3) == 0.743
    assert round(r.alpha("ordinal"), 3) == 0.815
    assert round(r.alpha("interval"), 3) == 0.849
    # the paper's nominal alpha in closed form: 1 - (n - 1) * sum_{c != k} o_ck / sum n_c n_k
    assert r.alpha("nominal") == pytest.approx(
        1 - 39 * 8 / (40**2 - (9**2 + 13**2 + 10**2 + 5**2 + 3**2))
    )
    assert round(krippendorff_alpha(KRIPPENDORFF_B, "nominal"), 3) == 0.095


def test_published_coincidence_matrix() -> None:
    # Krippendorff (2011), section C: the coincidence matrix of values 1-5 and its margins.
    r = Reliability(KRIPPENDORFF_C)
    o = r.coincidences()
    assert r.values.tolist() == [1, 2, 3, 4, 5]
    assert o.sum(axis=1).tolist() == pytest.approx([9, 13, 10, 5, 3])
    assert r.pairable == 40
    assert o[0, 0] == pytest.approx(7) and o[0, 1] == pytest.approx(4 / 3)
    assert o[1, 1] == pytest.approx(10) and o[4, 4] == pytest.approx(3)
    assert np.allclose(o, o.T)


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval"])
def test_alpha_matches_the_krippendorff_package(level: str) -> None:
    krippendorff = pytest.importorskip("krippendorff")
    for data in (KRIPPENDORFF_C, KRIPPENDORFF_B):
        ours = Reliability(data).alpha(level)  # type: ignore[arg-type]
        theirs = krippendorff.alpha(reliability_data=data, level_of_measurement=level)
        assert ours == pytest.approx(theirs, abs=1e-12)


reliability_data = st.integers(2, 5).flatmap(
    lambda raters: st.integers(2, 12).flatmap(
        lambda units: st.lists(
            st.lists(
                st.one_of(st.sampled_from([0.0, 1.0, 2.0, 3.5, 7.0]), st.just(nan)),
                min_size=units,
                max_size=units,
            ),
            min_size=raters,
            max_size=raters,
        )
    )
)


@settings(max_examples=examples(150))
@given(data=reliability_data, level=st.sampled_from(["nominal", "ordinal", "interval"]))
def test_alpha_agrees_with_the_krippendorff_package_on_random_data(
    data: list[list[float]], level: str
) -> None:
    krippendorff = pytest.importorskip("krippendorff")
    ours = Reliability(data).alpha(level)  # type: ignore[arg-type]
    domain = [0.0, 1.0, 2.0, 3.5, 7.0]
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            theirs = krippendorff.alpha(
                reliability_data=data, level_of_measurement=level, value_domain=domain
            )
    except ValueError:  # no unit with two values: alpha is undefined
        assert math.isnan(ours)
        return
    if math.isnan(ours):  # one value throughout the pairable data: D_e = 0, alpha is 0/0
        assert math.isnan(theirs)
        return
    assert ours == pytest.approx(theirs, abs=1e-9)


@settings(max_examples=examples(60))
@given(data=reliability_data, level=st.sampled_from(["nominal", "ordinal", "interval"]))
def test_parts_average_to_the_whole(data: list[list[float]], level: str) -> None:
    # Alpha of each rater against the rest, weighted by their pairable values, is the panel's
    # alpha; likewise for a split of the units. Both share the whole data's D_e.
    r = Reliability(data)
    whole = r.alpha(level)  # type: ignore[arg-type]
    if math.isnan(whole):
        return
    table = np.asarray(data)
    present = ~np.isnan(table)
    pairable = present & (present.sum(axis=0) >= 2)
    weights = pairable.sum(axis=1)
    by_rater = [
        r.alpha(level, rater=i) if weights[i] else 0.0  # type: ignore[arg-type]
        for i in range(table.shape[0])
    ]
    assert sum(w * a for w, a in zip(weights, by_rater, strict=True)) / weights.sum() == (
        pytest.approx(whole)
    )
    half = table.shape[1] // 2
    first, second = list(range(half)), list(range(half, table.shape[1]))
    w1, w2 = pairable[:, first].sum(), pairable[:, second].sum()
    parts = [r.alpha(level, units=u) if w else 0.0 for u, w in ((first, w1), (second, w2))]  # type: ignore[arg-type]
    assert (w1 * parts[0] + w2 * parts[1]) / (w1 + w2) == pytest.approx(whole)


def test_bootstrap_is_reproducible_and_brackets_the_estimate() -> None:
    r = Reliability(KRIPPENDORFF_C)
    a = r.bootstrap("nominal", replicates=500, seed=7)
    b = r.bootstrap("nominal", replicates=500, seed=7)
    assert a == b and a.replicates == 500
    assert a.low <= r.alpha("nominal") <= a.high <= 1.0
    perfect = Reliability([[0, 1, 1, 0], [0, 1, 1, 0]]).bootstrap("interval", replicates=200)
    assert perfect.undefined < 200 and (perfect.low, perfect.high) == (1.0, 1.0)


def test_alpha_is_undefined_with_one_value_or_no_pairs() -> None:
    assert math.isnan(krippendorff_alpha([[1, 1, 1], [1, 1, 1]]))
    assert math.isnan(krippendorff_alpha([[1, nan], [nan, 2]]))


# -- rater files and templates -----------------------------------------------------------------
def test_rater_files_in_three_formats_with_blank_cells() -> None:
    ann, bo, cy = (read_rater_file(p) for p in FILES)
    assert (ann.rater, bo.rater, cy.rater) == ("ann", "bo", "cy")  # cy: the file's name
    assert ann.level("MONITOR", "DIST-SHIFT") is None  # `DIST-SHIFT:` with no value
    assert bo.level("OUTPUT", "COLLUDE") is None  # JSON null
    assert cy.level("OUTPUT", "COLLUDE") is None and cy.level("MONITOR", "DIST-SHIFT") is None
    assert ann.level("INPUT", "DIST-SHIFT") == Vulnerability(level="U")  # U is a judgement
    assert len(ann.judgements) == 8 and len(cy.judgements) == 7
    assert bo.level("OUTPUT", "JAILBREAK").source == "eval 12"  # type: ignore[union-attr]


def test_left_out_cells_and_rows_are_blank(tmp_path: Path) -> None:
    text = "failure_modes: [{id: A}, {id: B}]\nlayers: [{id: L}, {id: M}]\ncells: {L: {A: V}}\n"
    r = loads_rater_file(text, "yaml", str(tmp_path / "dee.yaml"))
    assert r.rater == "dee" and list(r.judgements) == [("L", "A")]
    r = loads_rater_file(text.replace("{A: V}", "{A: {rationale: unsure}}"), "yaml", "x.yaml")
    assert r.judgements == {}


def test_elicit_templates_are_blind_and_read_back(cli: Cli, tmp_path: Path, paper: Matrix) -> None:
    r = cli("elicit", "--raters", "3", "--out", str(tmp_path), "-f", "json")
    assert r.code == 0, r.err
    written = r.json()["wrote"]
    assert [Path(p).name for p in written] == ["rater-1.yaml", "rater-2.yaml", "rater-3.yaml"]
    for path in written:
        text = Path(path).read_text()
        data = yaml.safe_load(text)
        assert all(v is None for row in data["cells"].values() for v in row.values())
        assert paper.cell("RLHF", "DEC-AL").rationale not in text  # no reading material
        rater = read_rater_file(path)
        assert rater.judgements == {} and rater.frame.layer_ids == paper.layer_ids
        assert rater.frame.layer("DEBATE").safety_tax == "moderate"
    # a filled-in template is a rater file; an untouched one is refused by name
    one_line_error(cli("agreement", *written), "rater-1.yaml", "no cell is judged")


def test_elicit_with_rationales_gives_reading_but_no_levels(paper: Matrix) -> None:
    files = elicitation_templates(paper, 12, rationales=True)
    assert sorted(files)[:2] == ["rater-01.yaml", "rater-02.yaml"]
    text = files["rater-07.yaml"]
    assert "rater: rater-07" in text
    assert "deceptive model can produce exactly the outputs raters reward" in text
    assert "confidence: high" not in text and "level:" not in text.split("cells:")[1]
    assert yaml.safe_load(text)["cells"]["IDA"] == dict.fromkeys(paper.mode_ids)


def test_elicit_refuses_to_overwrite(cli: Cli, tmp_path: Path) -> None:
    assert cli("elicit", "-n", "2", "--out", str(tmp_path)).code == 0
    one_line_error(cli("elicit", "-n", "2", "--out", str(tmp_path)), "rater-1.yaml", "--force")
    assert cli("elicit", "-n", "2", "--out", str(tmp_path), "--force").code == 0


# -- agreement ---------------------------------------------------------------------------------
def test_agreement_json_has_alpha_at_three_levels(cli: Cli) -> None:
    krippendorff = pytest.importorskip("krippendorff")
    r = cli("agreement", *map(str, FILES), "-f", "json")
    assert r.code == 0, r.err
    data = r.json()
    assert set(data["alpha"]) == {"nominal", "ordinal", "interval"}
    # the three files as reliability data (rows ann, bo, cy; cells row-major), coded by hand:
    # nominal/ordinal ranks N 0 < U 1 < V 2; interval V 1, N 0, U missing
    ranks = [
        [2, 1, 0, 2, 2, 0, 0, nan, 2],
        [2, 2, 0, 0, 2, nan, 0, 1, 2],
        [2, 1, 0, 2, 2, nan, 0, nan, 1],
    ]
    for level in ("nominal", "ordinal"):
        expected = krippendorff.alpha(reliability_data=ranks, level_of_measurement=level)
        assert data["alpha"][level] == pytest.approx(expected)
    values = [[{2: 1.0, 0: 0.0}.get(v, nan) if v == v else nan for v in row] for row in ranks]
    expected = krippendorff.alpha(reliability_data=values, level_of_measurement="interval")
    assert data["alpha"]["interval"] == pytest.approx(expected)
    assert [p["layer"] for p in data["by_layer"]] == ["INPUT", "OUTPUT", "MONITOR"]
    assert [p["failure_mode"] for p in data["by_mode"]] == ["JAILBREAK", "DIST-SHIFT", "COLLUDE"]
    assert [r["rater"] for r in data["by_rater"]] == ["ann", "bo", "cy"]
    assert "not Krippendorff's bootstrap" in data["bootstrap"]["method"]
    for level, (low, high) in data["interval"].items():
        assert low <= high <= 1.0, level
    top = data["divisive_cells"][0]
    assert (top["layer"], top["failure_mode"], top["votes"]) == (
        "OUTPUT",
        "JAILBREAK",
        {"ann": "V", "bo": "N", "cy": "V"},
    )
    assert top["disagreement"] == pytest.approx(2 / 3) and top["spread"] == 1.0


def test_agreement_can_map_u_at_the_interval_level(cli: Cli) -> None:
    left_out = cli("agreement", *map(str, FILES), "-f", "json").json()
    mapped = cli("agreement", *map(str, FILES), "--u-as", "0.5", "-f", "json").json()
    assert mapped["pairable"]["interval"] > left_out["pairable"]["interval"]
    assert mapped["alpha"]["nominal"] == left_out["alpha"]["nominal"]
    assert mapped["alpha"]["interval"] != left_out["alpha"]["interval"]
    assert "U read as 0.5" in mapped["assumptions"]
    one_line_error(cli("agreement", *map(str, FILES), "--u-as", "2"), "--u-as")


def test_rater_against_the_rest_and_left_out() -> None:
    # Two raters agree everywhere, a third disagrees on every cell: leaving them out gives 1.
    def rater(name: str, rows: str) -> object:
        return loads_rater_file("layer,A,B,C\n" + rows, "csv", f"{name}.csv")

    panel = panel_of(
        [
            rater("a", "L,V,N,V\nM,N,N,V\n"),
            rater("b", "L,V,N,V\nM,N,N,V\n"),
            rater("c", "L,N,V,N\nM,V,V,N\n"),
        ]  # type: ignore[list-item]
    )
    result = agreement(panel, replicates=50)
    by = {r.rater: r for r in result.by_rater}
    assert by["c"].without["nominal"] == 1.0
    assert by["c"].with_rest["nominal"] < by["a"].with_rest["nominal"]
    assert by["a"].judged == 6


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "md"])
def test_agreement_and_merge_render_every_format(cli: Cli, fmt: str, tmp_path: Path) -> None:
    r = cli("agreement", *map(str, FILES), "--bootstrap", "100", "--format", fmt)
    assert r.code == 0 and r.out.strip(), r.err
    r = cli("merge", *map(str, FILES), "--out", str(tmp_path / "c.yaml"), "--format", fmt)
    assert r.code == 0 and r.out.strip(), r.err
    if fmt == "json":
        assert r.json()["wrote"] == str(tmp_path / "c.yaml")


# -- bad input ---------------------------------------------------------------------------------
def _csv(tmp: Path, name: str, text: str) -> str:
    path = tmp / name
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("command", ["agreement", "merge"])
def test_bad_panels_are_one_line_errors(cli: Cli, tmp_path: Path, command: str) -> None:
    out = ["--out", str(tmp_path / "out.yaml")] if command == "merge" else []
    a = _csv(tmp_path, "a.csv", "layer,A,B\nL,V,N\n")
    one_line_error(cli(command, a, *out), "a.csv", "at least two")
    b = _csv(tmp_path, "b.csv", "layer,A,C\nL,V,N\n")
    one_line_error(cli(command, a, b, *out), "b.csv", "unknown failure mode 'C'", "a.csv")
    b = _csv(tmp_path, "b.csv", "layer,A,B\nL,V,N\nM,N,N\n")
    one_line_error(cli(command, a, b, *out), "b.csv", "unknown layer 'M'")
    b = _csv(tmp_path, "b.csv", "layer,A\nL,V\n")
    one_line_error(cli(command, a, b, *out), "b.csv", "missing failure mode 'B'")
    one_line_error(cli(command, a, a, *out), "a.csv", "given twice")
    junk = _csv(tmp_path, "junk.yaml", "hello: world\n")
    one_line_error(cli(command, a, junk, *out), "junk.yaml", "failure_modes")
    junk = _csv(tmp_path, "junk.json", "[1, 2]")
    one_line_error(cli(command, a, junk, *out), "junk.json", "expected a mapping")
    bad = _csv(tmp_path, "bad.csv", "layer,A,B\nL,V,X\n")
    one_line_error(cli(command, a, bad, *out), "bad.csv:2", "got 'X'")
    twin = _csv(tmp_path, "twin.yaml", "rater: a\nfailure_modes: [{id: A}, {id: B}]\n"
                "layers: [{id: L}]\ncells: {L: {A: V, B: N}}\n")  # fmt: skip
    one_line_error(cli(command, a, twin, *out), "twin.yaml", "rater id 'a'")
    notext = _csv(tmp_path, "r.yaml", "rater: [a]\nfailure_modes: [{id: A}]\nlayers: [{id: L}]\n")
    one_line_error(cli(command, a, notext, *out), "r.yaml:1", "rater:")
    assert not (tmp_path / "out.yaml").exists()


def test_read_panel_needs_two_files() -> None:
    with pytest.raises(InputError, match="no rater file"):
        read_panel([])


# -- merge -------------------------------------------------------------------------------------
def test_merge_majority_keeps_votes_rationales_and_sources(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "consensus.yaml"
    r = cli("merge", *map(str, FILES), "--out", str(out), "-f", "json")
    assert r.code == 0, r.err
    m = read_matrix(out)  # an ordinary, valid matrix
    assert m.id == "filters-consensus" and m.layer("MONITOR").safety_tax == "moderate"
    cell = m.cell("OUTPUT", "JAILBREAK")
    assert cell.level == "V" and cell.votes == {"ann": "V", "bo": "N", "cy": "V"}
    assert "bo (N): Catches what the input filter lets by." in cell.rationale
    assert "V 2, N 1 of 3 votes" in cell.rationale and "agreement 0.33" in cell.rationale
    assert "bo: eval 12" in cell.source
    assert m.cell("OUTPUT", "COLLUDE").votes == {"ann": "N"}  # two blanks
    cells = {(c["layer"], c["failure_mode"]): c for c in r.json()["cells"]}
    assert cells[("INPUT", "DIST-SHIFT")]["level"] == "U"  # U won the vote, not a tie
    assert cells[("INPUT", "DIST-SHIFT")]["outcome"] == "decided"
    # every command runs on the consensus unchanged
    audit = cli("audit", "-m", str(out), "-s", "all", "-f", "json")
    assert audit.code == 0 and "filters-consensus" in audit.json()["assumptions"]


def test_merge_ties_and_quorum_give_u(tmp_path: Path) -> None:
    files = [
        loads_rater_file(f"layer,A,B,C\nL,{row}\n", "csv", f"{name}.csv")
        for name, row in [("a", "V,V,V"), ("b", "N,V,"), ("c", "V,N,"), ("d", "N,V,")]
    ]
    result = merge(panel_of(files), quorum=2)
    assert [(c.level, c.outcome) for c in result.cells] == [
        ("U", "tie"),
        ("V", "decided"),
        ("U", "no quorum"),
    ]
    assert result.matrix.cell("L", "C").votes == {"a": "V"}
    assert "fewer than the quorum of 2" in result.matrix.cell("L", "C").rationale


def test_merge_mean_for_graded_levels() -> None:
    files = [
        loads_rater_file(f"layer,A,B,C\nL,{row}\n", "csv", f"{name}.csv")
        for name, row in [("a", "0.2,V,U"), ("b", "0.4,V,U"), ("c", "U,1,U")]
    ]
    cells = merge(panel_of(files), "mean").cells
    assert cells[0].level == pytest.approx(0.3)  # U votes are left out of the mean
    assert cells[1].level == "V"  # a graded 1 is V
    assert (cells[2].level, cells[2].outcome) == ("U", "all U")


def test_consensus_round_trips_through_every_matrix_format(tmp_path: Path) -> None:
    consensus = merge(read_panel(FILES)).matrix
    for suffix in ("yaml", "json"):
        from cofail.io import write_matrix

        path = write_matrix(consensus, tmp_path / f"c.{suffix}")
        assert read_matrix(path) == consensus


def test_votes_in_a_matrix_file_are_validated(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        "failure_modes: [{id: A}]\nlayers: [{id: L}]\n"
        "cells:\n  L:\n    A: {level: V, votes: {ann: V, bo: maybe}}\n"
    )
    with pytest.raises(InputError, match=r"m.yaml:5: cells.L.A.votes: vote of 'bo'"):
        read_matrix(path)


# -- Dawid–Skene -------------------------------------------------------------------------------
def test_dawid_skene_finds_the_reliable_raters() -> None:
    # Two raters who agree with each other and a third who always says V: the third's V votes
    # carry no information, so where the two say N the consensus is N.
    rows = {"a": "N,N,V,V,N,V", "b": "N,N,V,V,N,V", "c": "V,V,V,V,V,V"}
    files = [
        loads_rater_file(f"layer,A,B,C,D,E,F\nL,{r}\n", "csv", f"{n}.csv") for n, r in rows.items()
    ]
    result = merge(panel_of(files), "dawid-skene")
    assert [c.level for c in result.cells] == ["N", "N", "V", "V", "N", "V"]
    assert result.fit is not None and result.fit["converged"]
    assert result.fit["confusion"]["c"]["N"]["V"] > 0.99  # c says V when the truth is N
    assert result.cells[0].posterior is not None and result.cells[0].posterior["N"] > 0.9


def test_dawid_skene_refuses_graded_votes(cli: Cli, tmp_path: Path) -> None:
    a = _csv(tmp_path, "a.csv", "layer,A\nL,V\n")
    b = _csv(tmp_path, "b.csv", "layer,A\nL,0.3\n")
    r = cli("merge", a, b, "--out", str(tmp_path / "c.yaml"), "--rule", "dawid-skene")
    one_line_error(r, "b.csv", "cells.L.A", "--rule mean")


def _crowdkit_posterior(labels: np.ndarray, n_iter: int) -> tuple[np.ndarray, np.ndarray]:
    """crowd-kit's Dawid–Skene posteriors after exactly ``n_iter`` EM iterations."""
    pd = pytest.importorskip("pandas")
    crowdkit = pytest.importorskip("crowdkit.aggregation")
    rows = [
        (i, j, int(labels[i, j]))
        for i in range(labels.shape[0])
        for j in range(labels.shape[1])
        if labels[i, j] >= 0
    ]
    frame = pd.DataFrame(rows, columns=["task", "worker", "label"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = crowdkit.DawidSkene(n_iter=n_iter, tol=-np.inf).fit(frame)  # no early stop
    probas = fit.probas_
    return probas.index.to_numpy(), probas[sorted(probas.columns)].to_numpy()


@settings(max_examples=examples(6))
@given(
    seed=st.integers(0, 2**32 - 1),
    n_iter=st.sampled_from([1, 3, 20]),
    classes=st.integers(2, 3),
)
def test_dawid_skene_matches_crowd_kit(seed: int, n_iter: int, classes: int) -> None:
    rng = np.random.default_rng(seed)
    items, raters = 25, 4
    truth = rng.integers(0, classes, items)
    skill = rng.uniform(0.3, 0.95, raters)
    labels = np.where(
        rng.random((items, raters)) < skill,
        truth[:, None],
        rng.integers(0, classes, (items, raters)),
    )
    labels[rng.random((items, raters)) < 0.2] = -1
    labels[:, 0] = np.where(labels[:, 0] < 0, truth, labels[:, 0])  # every item has a vote
    present = sorted(set(labels[labels >= 0].tolist()))
    labels = np.where(labels >= 0, np.searchsorted(present, labels), -1)  # classes 0..K-1 used
    tasks, theirs = _crowdkit_posterior(labels, n_iter)
    ours = dawid_skene(labels, len(present), max_iter=n_iter, tol=-np.inf)
    assert ours.iterations == n_iter
    # crowd-kit floors its posteriors at 1e-10 when it computes its stopping criterion
    assert np.abs(ours.posterior[tasks] - theirs).max() < 1e-8


def test_merge_json_reports_dawid_skene_fit(cli: Cli, tmp_path: Path) -> None:
    r = cli(
        "merge",
        *map(str, FILES),
        "--out",
        str(tmp_path / "c.json"),
        "--rule",
        "dawid-skene",
        "-f",
        "json",
    )
    assert r.code == 0, r.err
    data = r.json()
    assert data["rule"] == "dawid-skene" and data["dawid_skene"]["levels"] == ["N", "U", "V"]
    assert json.loads((tmp_path / "c.json").read_text())["id"] == "filters-consensus"


def test_merge_refuses_to_overwrite_and_says_what_csv_keeps(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "c.csv"
    r = cli("merge", *map(str, FILES), "--out", str(out), "-f", "json")
    assert r.code == 0 and "CSV keeps levels only" in r.json()["note"]
    one_line_error(cli("merge", *map(str, FILES), "--out", str(out)), "c.csv", "--force")
    assert read_matrix(out).cell("OUTPUT", "JAILBREAK").level == "V"


def test_catalog_is_untouched_by_votes_field(paper: Matrix) -> None:
    assert all(
        paper.cell(lid, mid).votes is None for lid in paper.layer_ids for mid in paper.mode_ids
    )
    assert catalog.load() == paper

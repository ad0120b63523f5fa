"""cofail sequences and export --event-tree on the command line, the report, and the app."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cofail import catalog
from cofail.model import Stack
from cofail.probability import Scenario, stack_failure
from cofail.report.sequence_figures import (
    event_tree_figure,
    probability_label,
    stopped_where_figure,
)
from cofail.sequences import bow_tie, event_tree
from conftest import Run, one_line_error

XSTEST = Path(__file__).parents[1] / "docs" / "xstest-matrix.yaml"


def test_json_has_the_stack_and_every_outcome(cli: Callable[..., Run]) -> None:
    r = cli("sequences", "--stack", "RLHF,DEBATE,IDA", "-f", "json")
    assert r.code == 0, r.err
    d = r.json()
    assert d["stack"] == ["RLHF", "DEBATE", "IDA"]
    names = [o["outcome"] for o in d["outcomes"]]
    assert names == ["stopped by RLHF", "stopped by DEBATE", "stopped by IDA", "harm"]
    assert sum(o["probability"] for o in d["outcomes"]) == pytest.approx(1.0, abs=1e-12)
    assert sum(o["independent"] for o in d["outcomes"]) == pytest.approx(1.0, abs=1e-12)
    # harm is cofail risk's exact P(stack fails) and its independence baseline.
    risk = cli("risk", "--stack", "RLHF,DEBATE,IDA", "-f", "json").json()
    assert d["outcomes"][-1]["probability"] == pytest.approx(risk["probability"], rel=1e-12)
    assert d["outcomes"][-1]["independent"] == pytest.approx(risk["independent"], rel=1e-12)
    for key in ("p = 0.1", "residual r = 0.01", "U cells pessimistic", "in order RLHF → DEBATE"):
        assert key in d["assumptions"]


def test_conditional_failure_is_the_ratio_of_prefix_risks(cli: Callable[..., Run]) -> None:
    d = cli("sequences", "-s", "RE,IDA,DEBATE", "--p", "0.2", "--uncertain", "0.5", "-f", "json")
    m = catalog.load()
    q, p, r = Scenario.parse(["0.2"], None, "0.5").arrays(m, Stack(layers=("RE", "IDA", "DEBATE")))
    for k, layer in enumerate(d.json()["layers"]):
        before = stack_failure(q[:k], p, r[:k]) if k else 1.0
        assert layer["reached"] == pytest.approx(before, rel=1e-12)
        assert layer["fails_given_reached"] == pytest.approx(
            stack_failure(q[: k + 1], p, r[: k + 1]) / before, rel=1e-12
        )


def test_costs_give_the_expected_cost(cli: Callable[..., Run]) -> None:
    args = ["sequences", "-s", "RLHF,DEBATE,IDA", "--cost", "debate=2", "--cost", "IDA=10"]
    d = cli(*args, "--harm-cost", "1000", "-f", "json").json()
    cost = {"stopped by DEBATE": 2, "stopped by IDA": 10, "harm": 1000}
    exact = sum(o["probability"] * cost.get(o["outcome"], 0) for o in d["outcomes"])
    alone = sum(o["independent"] * cost.get(o["outcome"], 0) for o in d["outcomes"])
    assert d["expected_cost"] == pytest.approx(exact)
    assert d["expected_cost_independent"] == pytest.approx(alone)


def test_bow_tie_on_the_command_line(cli: Callable[..., Run]) -> None:
    args = ["sequences", "--prevent", "RE", "--mitigate", "IDA", "--prevented-cost", "1"]
    d = cli(*args, "-f", "json").json()
    assert [o["outcome"] for o in d["outcomes"]] == ["prevented", "mitigated by IDA", "harm"]
    assert d["hazard"]["shared_modes"] == ["DEC-AL", "AL-GEN"]
    assert d["prevent"] == ["RE"] and d["mitigate"] == ["IDA"]
    # harm: both sides fail, which is the two-layer stack's risk; not P(hazard) P(IDA fails).
    risk = cli("risk", "--stack", "RE,IDA", "-f", "json").json()
    assert d["outcomes"][-1]["probability"] == pytest.approx(risk["probability"], rel=1e-12)
    assert d["outcomes"][-1]["sides_multiplied"] == pytest.approx(
        d["hazard"]["probability"] * risk["layer_probabilities"]["IDA"], rel=1e-12
    )


def test_on_the_xstest_matrix(cli: Callable[..., Run]) -> None:
    order = "gpt4,llama2new,mistralguard,mistralinstruct"
    d = cli("sequences", "-m", str(XSTEST), "-s", order, "-f", "json").json()
    assert d["stack"] == order.split(",")
    assert sum(o["probability"] for o in d["outcomes"]) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        ([], ["--stack", "--prevent"]),
        (["-s", "RE", "--prevent", "IDA", "--mitigate", "RE"], ["--stack", "--prevent"]),
        (["--prevent", "RE"], ["--mitigate"]),
        (["-s", "all"], ["in order"]),
        (["-s", "RE,NOPE"], ["--stack", "NOPE"]),
        (["--prevent", "NOPE", "--mitigate", "RE"], ["--prevent", "NOPE"]),
        (["--prevent", "RE", "--mitigate", "RE"], ["both sides"]),
        (["-s", "RE", "--cost", "IDA=1"], ["--cost IDA"]),
        (["-s", "RE", "--cost", "RE"], ["--cost", "LAYER=cost"]),
        (["-s", "RE", "--cost", "RE=x"], ["--cost", "number"]),
        (["-s", "RE", "--harm-cost", "-1"], ["--harm-cost"]),
        (["-s", "RE", "--prevented-cost", "1"], ["--prevented-cost"]),
        (["-s", "RE", "--p", "2"], ["--p"]),
        (["-s", "RE", "-m", "nowhere.yaml"], ["nowhere.yaml"]),
        (["-s", "RE", "--time-limit", "nan"], ["--time-limit"]),
        (["-s", "RE", "--cost", "RE=inf"], ["--cost RE"]),
    ],
)
def test_mistakes_are_one_line(
    cli: Callable[..., Run], args: list[str], needles: list[str]
) -> None:
    one_line_error(cli("sequences", *args), *needles)


def test_export_event_tree_mistakes_are_one_line(cli: Callable[..., Run]) -> None:
    one_line_error(cli("export", "--event-tree", "--to", "navigator", "-s", "RE"), "--event-tree")
    one_line_error(cli("export", "--event-tree", "-s", "RE,IDA", "--k", "1"), "--event-tree")
    one_line_error(cli("export", "--event-tree"), "--event-tree")


def test_report_draws_the_tree_and_the_bars(cli: Callable[..., Run], tmp_path: Path) -> None:
    r = cli("sequences", "-s", "RLHF,DEBATE,IDA", "--report", str(tmp_path / "rep"))
    assert r.code == 0, r.err
    html = (tmp_path / "rep" / "report.html").read_text()
    assert "Event tree: RLHF → DEBATE → IDA" in html
    assert (tmp_path / "rep" / "figures" / "event-tree.svg").exists()
    assert (tmp_path / "rep" / "figures" / "stopped-where.svg").exists()
    r = cli("sequences", "--prevent", "RE", "--mitigate", "IDA", "--report", str(tmp_path / "b"))
    assert (tmp_path / "b" / "figures" / "bow-tie.svg").exists()


def _texts(fig: object) -> list[str]:
    return [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]  # type: ignore[attr-defined]


def test_the_tree_shows_every_branch_and_outcome_with_its_numbers() -> None:
    t = event_tree(catalog.load(), Stack(layers=("RLHF", "DEBATE", "IDA")))
    texts = _texts(event_tree_figure(t))
    for o in t.outcomes:
        assert o.outcome in texts
        assert probability_label(o.probability) in texts
        assert probability_label(o.independent) in texts
    for b in t.barriers:
        assert b.layer in texts
        assert f"fails {probability_label(b.fails_given_reached)}" in texts
        assert f"indep. {probability_label(b.fails_alone)}" in texts


def test_the_bow_tie_drawing_names_its_prevention_layers_and_shared_modes() -> None:
    t = bow_tie(catalog.load(), Stack(layers=("RE", "RLHF")), Stack(layers=("IDA",)))
    texts = " ".join(_texts(event_tree_figure(t)))
    assert "RE fails" in texts and "RLHF fails" in texts and "AND" in texts
    assert t.hazard is not None and ", ".join(t.hazard.shared_modes) in texts


def test_the_bars_show_both_pictures() -> None:
    t = event_tree(catalog.load(), Stack(layers=("RE", "IDA")))
    fig = stopped_where_figure(t)
    bars = [p.get_width() for p in fig.axes[0].patches]
    expected = [o.probability for o in t.outcomes] + [o.independent for o in t.outcomes]
    assert bars == pytest.approx(expected, rel=1e-12)


# -- the app ----------------------------------------------------------------------------------


@pytest.fixture
def client() -> Iterator[object]:
    pytest.importorskip("starlette", reason="the app extra is not installed")
    from starlette.testclient import TestClient

    from cofail.app import Session, create_app
    from test_app_api import LOCAL

    with TestClient(create_app(Session(catalog.load())), **LOCAL) as c:  # type: ignore[arg-type]
        yield c


def test_the_sequences_route_is_cofail_sequences(client: object, cli: Callable[..., Run]) -> None:
    r = client.get("/api/sequences?stack=RLHF,DEBATE,IDA&p=0.05&residual=0.02")  # type: ignore[attr-defined]
    assert r.status_code == 200, r.text
    d = r.json()
    assert d.pop("svg").startswith("<svg") and d.pop("bars_svg").startswith("<svg")
    headline = d.pop("headline")
    expected = cli("sequences", "-s", "RLHF,DEBATE,IDA", "--p", "0.05", "--residual", "0.02",
                   "-f", "json")  # fmt: skip
    assert d == expected.json()
    assert re.search(r"move [\d.]+ of probability onto harm", headline)
    bad = client.get("/api/sequences?stack=RLHF,NOPE")  # type: ignore[attr-defined]
    assert bad.status_code == 400 and "NOPE" in bad.json()["error"]


def test_the_matrix_report_takes_an_event_tree_section(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    order = "gpt4,llama2new,mistralinstruct"
    r = cli("report", "-m", str(XSTEST), "--sequences", order, "--out", str(tmp_path / "r"))
    assert r.code == 0, r.err
    html = (tmp_path / "r" / "report.html").read_text()
    assert "Event tree: gpt4 → llama2new → mistralinstruct" in html
    harm = cli("sequences", "-m", str(XSTEST), "-s", order, "-f", "json").json()["outcomes"][-1]
    assert f"{harm['probability']:.4g}" in html
    one_line_error(cli("report", "-m", str(XSTEST), "--sequences", "gpt4,NOPE"), "NOPE")

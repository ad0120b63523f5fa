"""The app in a real browser: Playwright drives Debian's chromium (never a downloaded one).

Each test reads as a person's actions: tick layers, click a cell, type a number, open a file,
and expects what they would see. Screenshots are kept in test-artefacts/app/ (git-ignored; set
COFAIL_ARTEFACTS to put them elsewhere).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="the app extra is not installed")
pytest.importorskip("playwright", reason="playwright is not installed (pip install '.[dev]')")
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright

from cofail import catalog
from cofail.app import Session, create_app

CHROMIUM = next(
    (p for p in ("/usr/bin/chromium", shutil.which("chromium") or "") if p and Path(p).exists()),
    None,
)
if CHROMIUM is None:
    if os.environ.get("CI"):
        pytest.fail("chromium is missing in CI: make test installs Debian's chromium")
    pytest.skip(
        "no chromium at /usr/bin/chromium (apt-get install chromium)", allow_module_level=True
    )

ARTEFACTS = Path(os.environ.get("COFAIL_ARTEFACTS", Path(__file__).parents[1] / "test-artefacts"))
WIDTHS = [1400, 700]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def served() -> Iterator[tuple[str, Session]]:
    """A fresh session on the catalog, served by uvicorn on a free loopback port."""
    session = Session(catalog.load())
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    server = uvicorn.Server(
        uvicorn.Config(create_app(session), log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/", session
    server.should_exit = True
    thread.join(10)
    sock.close()


def open_app(browser: Browser, url: str, width: int) -> Page:
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: errors.append(f"dialog: {d.message}"))
    page.errors = errors  # type: ignore[attr-defined]
    page.goto(url)
    expect(page.get_by_role("button", name="RLHF × DEC-AL: V")).to_be_visible()
    return page


def shoot(page: Page, name: str) -> None:
    ARTEFACTS.joinpath("app").mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / "app" / f"{name}.png"), full_page=True)


def only_stack(page: Page, *layers: str) -> None:
    for box in page.get_by_role("checkbox", name=re.compile(" in stack$")).all():
        box.set_checked(False)
    for layer in layers:
        page.get_by_role("checkbox", name=f"{layer} in stack").check()


@pytest.mark.parametrize("width", WIDTHS)
def test_clicking_a_cell_changes_the_audit(
    browser: Browser, served: tuple[str, Session], width: int
) -> None:
    url, _ = served
    page = open_app(browser, url, width)
    only_stack(page, "DEBATE", "RE")
    uncovered = page.get_by_role("list", name="Uncovered failure modes")
    expect(page.get_by_text("DEBATE + RE", exact=True)).to_be_visible()
    expect(uncovered).to_have_text("AL-GEN")
    expect(page.get_by_label("Depth")).to_have_text("1")
    shoot(page, f"debate-re-{width}")

    page.get_by_role("button", name="DEBATE × AL-GEN: V").click()  # V → N
    expect(page.get_by_role("button", name="DEBATE × AL-GEN: N")).to_be_visible()
    expect(uncovered).to_have_text("none")
    expect(page.get_by_label("Depth")).to_have_text("2")
    shoot(page, f"debate-al-gen-covered-{width}")

    page.get_by_role("button", name="Undo").click()
    expect(uncovered).to_have_text("AL-GEN")
    expect(page.get_by_role("button", name="DEBATE × AL-GEN: V")).to_be_visible()
    assert page.errors == []  # type: ignore[attr-defined]
    page.close()


def test_typing_a_number_makes_a_graded_cell(browser: Browser, served: tuple[str, Session]) -> None:
    url, session = served
    page = open_app(browser, url, 1400)
    page.get_by_role("button", name="RE × AL-GEN: V").focus()
    page.keyboard.type("0.3")
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="RE × AL-GEN: 0.3")).to_be_visible()
    assert session.matrix.cell("RE", "AL-GEN").level == 0.3
    page.get_by_role("button", name="RE × AL-GEN: 0.3").press("u")
    expect(page.get_by_role("button", name="RE × AL-GEN: U")).to_be_visible()
    page.close()


def test_hover_shows_rationale_and_details_are_editable(
    browser: Browser, served: tuple[str, Session]
) -> None:
    url, session = served
    page = open_app(browser, url, 1400)
    rationale = session.matrix.cell("RLHF", "DEC-AL").rationale
    page.get_by_role("button", name="RLHF × DEC-AL: V").hover()
    expect(page.get_by_role("tooltip")).to_contain_text(rationale)
    expect(page.get_by_role("tooltip")).to_contain_text("confidence:")
    page.get_by_role("button", name="RLHF × DEC-AL: V").focus()
    page.get_by_label("Rationale").fill("reviewed: <b>still</b> vulnerable")
    page.get_by_label("Confidence").select_option("low")
    page.get_by_role("button", name="Save cell").click()
    # low confidence: the cell turns palest, with a filled corner
    expect(page.get_by_role("button", name="RLHF × DEC-AL: V")).to_have_class(
        re.compile("corner-filled")
    )
    page.get_by_role("button", name="RLHF × DEC-AL: V").hover()
    expect(page.get_by_role("tooltip")).to_contain_text("reviewed: <b>still</b> vulnerable")
    assert session.matrix.cell("RLHF", "DEC-AL").confidence == "low"
    page.close()


def test_add_rename_remove_layers_and_modes(browser: Browser, served: tuple[str, Session]) -> None:
    url, session = served
    page = open_app(browser, url, 1400)
    page.get_by_label("New layer id").fill("FILTER")
    page.get_by_role("button", name="Add layer").click()
    expect(page.get_by_role("button", name="FILTER × AL-GEN: U")).to_be_visible()
    page.get_by_label("New failure mode id").fill("JB")
    page.get_by_role("button", name="Add failure mode").click()
    expect(page.get_by_role("button", name="RLHF × JB: U")).to_be_visible()
    page.get_by_role("button", name="Edit layer FILTER").click()
    page.get_by_role("textbox", name="Layer id", exact=True).fill("IN-FILTER")
    page.get_by_role("textbox", name="Layer name", exact=True).fill("Input filter")
    page.get_by_label("Safety tax", exact=True).select_option("moderate")
    page.get_by_role("button", name="Save layer").click()
    expect(page.get_by_role("button", name="IN-FILTER × JB: U")).to_be_visible()
    assert session.matrix.layer("IN-FILTER").safety_tax == "moderate"
    page.get_by_role("button", name="Edit failure mode JB").click()
    page.get_by_role("button", name="Remove failure mode").click()
    expect(page.get_by_role("button", name="RLHF × JB: U")).to_have_count(0)
    page.get_by_role("button", name="Edit layer IN-FILTER").click()
    page.get_by_role("button", name="Remove layer").click()
    expect(page.get_by_role("checkbox", name="IN-FILTER in stack")).to_have_count(0)
    page.close()


def test_sliders_and_best_stacks(browser: Browser, served: tuple[str, Session]) -> None:
    url, _ = served
    page = open_app(browser, url, 1400)
    only_stack(page, "RLHF", "RLAIF", "W2S")
    exact = page.get_by_role("table", name="Risk of the stack").get_by_role("cell").first
    expect(exact).to_have_text("0.410")
    page.get_by_label("p", exact=True).fill("0.2")
    expect(exact).not_to_have_text("0.410")
    best = page.get_by_role("table", name="Best stacks under the budget")
    expect(best).to_contain_text("RLHF + RE + SCI-AI")
    page.get_by_role("button", name="Use RLHF + RE + SCI-AI").click()
    expect(page.get_by_role("checkbox", name="SCI-AI in stack")).to_be_checked()
    expect(page.get_by_role("checkbox", name="W2S in stack")).not_to_be_checked()
    expect(page.get_by_role("table", name=re.compile("^Conclusions"))).to_contain_text("16 of 16")
    shoot(page, "risk-and-best-1400")
    page.close()


def test_user_text_is_escaped(
    browser: Browser, served: tuple[str, Session], tmp_path: Path
) -> None:
    url, _ = served
    page = open_app(browser, url, 1400)
    hostile = tmp_path / "hostile.yaml"
    hostile.write_text(
        "failure_modes: [{id: M, name: '<img src=x onerror=alert(1)>'}]\n"
        "layers: [{id: L, name: '<script>alert(2)</script>'}]\n"
        "cells: {L: {M: {level: V, rationale: '<b onmouseover=alert(3)>x</b>'}}}\n"
    )
    page.get_by_label("Open a matrix or Navigator layer file").set_input_files(str(hostile))
    expect(page.get_by_text("<script>alert(2)</script>")).to_be_visible()
    page.get_by_role("button", name="L × M: V").hover()
    expect(page.get_by_role("tooltip")).to_contain_text("<b onmouseover=alert(3)>x</b>")
    assert page.locator("#grid script, #grid img, #tooltip b").count() == 0
    assert page.errors == []  # type: ignore[attr-defined]  # no alert() ran
    page.close()


def test_open_a_navigator_layer_and_drop_a_log(
    browser: Browser, served: tuple[str, Session], tmp_path: Path
) -> None:
    url, _ = served
    page = open_app(browser, url, 700)
    layer = Path(__file__).parent / "data" / "real" / "navigator" / "atlas_AML.CS0000.json"
    page.get_by_label("Open a matrix or Navigator layer file").set_input_files(str(layer))
    expect(page.get_by_role("button", name="Edit failure mode AML.T0043.003")).to_be_visible()
    log = tmp_path / "run.csv"
    rows = ["case,layer,failed"] + [
        f"c{i},{name},{int(i % k == 0)}"
        for i in range(40)
        for name, k in (("judge", 3), ("regex", 4))
    ]
    log.write_text("\n".join(rows) + "\n")
    page.get_by_label("Evaluation log").set_input_files(str(log))
    expect(page.get_by_role("table", name="Failure rates")).to_contain_text("judge")
    expect(page.get_by_role("table", name="Phi heatmap")).to_contain_text("regex")
    expect(page.get_by_role("table", name="Joint failure against independence")).to_contain_text(
        "independently"
    )
    shoot(page, "navigator-and-evidence-700")
    page.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_drop_scored_monitors_and_move_the_budget_slider(
    browser: Browser, served: tuple[str, Session], width: int, tmp_path: Path
) -> None:
    """Real scores (Hua et al. 2025): honest and attack cases in one file; the slider moves
    the budget and the catch rates follow."""
    data = Path(__file__).parent / "data" / "real" / "monitors"
    rows = ["case,llama31_70b,llama31_8b,eval_mode"]
    for name, mode in (("honest.csv", "honest"), ("attack.csv", "attack")):
        for line in (data / name).read_text().splitlines()[1:]:
            case, a, b, _ = line.split(",")
            rows.append(f"{mode}{case},{a},{b},{mode}")
    log = tmp_path / "monitors.csv"
    log.write_text("\n".join(rows) + "\n")
    url, _ = served
    page = open_app(browser, url, width)
    page.get_by_label("Scored log").set_input_files(str(log))
    summary = page.locator("#scores-summary")
    expect(summary).to_contain_text("all 2 layers miss")
    expect(summary).to_contain_text("of the 318 attacks")
    before = summary.text_content()
    page.get_by_label("False-positive budget").fill("100")  # 20 %
    expect(page.locator("#scores-budget-text")).to_have_text("20.0%")
    expect(summary).not_to_have_text(before or "")
    expect(summary).to_contain_text("At a 20.0% budget")
    expect(page.get_by_role("table", name="Scored layers")).to_contain_text("llama31_70b")
    shoot(page, f"scores-{width}")
    assert page.errors == []  # type: ignore[attr-defined]


def test_draw_the_safety_case_of_the_ticked_stack(
    browser: Browser, served: tuple[str, Session]
) -> None:
    url, _ = served
    page = open_app(browser, url, 1400)
    only_stack(page, "DEBATE", "RE")
    page.get_by_role("button", name="Draw the safety case of this stack").click()
    figure = page.get_by_role("img", name="Safety case of DEBATE + RE as a GSN diagram")
    expect(figure).to_be_visible()
    page.wait_for_function("document.querySelector('#case-figure img').complete")
    assert figure.evaluate("img => img.naturalWidth") > 1000  # drawn, not a broken image
    expect(page.locator("#case-note")).to_contain_text("defeated: G1, G1-AL-GEN")
    expect(page.get_by_role("link", name="Download gsn2x YAML")).to_be_visible()
    shoot(page, "safety-case-1400")
    assert page.errors == []  # type: ignore[attr-defined]

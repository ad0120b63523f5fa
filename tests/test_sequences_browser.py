"""The Event tree card in a real browser: tick a stack, draw its tree, edit, see it follow."""

from __future__ import annotations

import pytest

pytest.importorskip("starlette", reason="the app extra is not installed")
pytest.importorskip("playwright", reason="playwright is not installed (pip install '.[dev]')")
from playwright.sync_api import Browser, expect

from cofail.app import Session
from test_app_browser import browser, only_stack, open_app, served, shoot

__all__ = ["browser", "served"]  # the fixtures, imported to be found


def test_draw_the_event_tree_of_the_ticked_stack(
    browser: Browser, served: tuple[str, Session]
) -> None:
    url, _ = served
    page = open_app(browser, url, 1400)
    only_stack(page, "RLHF", "DEBATE", "IDA")
    page.get_by_role("button", name="Draw the event tree of this stack").click()
    tree = page.get_by_role("img", name="Event tree of RLHF → DEBATE → IDA")
    expect(tree).to_be_visible()
    page.wait_for_function("document.querySelector('#seq-figure img').complete")
    assert tree.evaluate("img => img.naturalWidth") > 500  # drawn, not a broken image
    table = page.get_by_role("table", name="Where attacks are stopped")
    expect(table).to_contain_text("stopped by DEBATE")
    expect(table.get_by_role("row", name="harm")).to_contain_text("0.162")  # cofail sequences
    # Tick one more layer: the tree follows the edited stack.
    page.get_by_role("checkbox", name="RE in stack").check()
    expect(page.get_by_role("img", name="Event tree of RLHF → DEBATE → RE → IDA")).to_be_visible()
    expect(page.locator("#seq-note")).to_contain_text("onto harm")
    # A typed order wins over the matrix's.
    page.get_by_role("textbox", name="Deployment order").fill("IDA,RLHF")
    page.get_by_role("button", name="Draw the event tree of this stack").click()
    expect(page.get_by_role("img", name="Event tree of IDA → RLHF")).to_be_visible()
    shoot(page, "event-tree-1400")
    assert page.errors == []  # type: ignore[attr-defined]

"""The report: self-contained HTML with its figures, a Markdown twin, atomic writes; and a real
browser that renders it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from cofail.model import Matrix, Stack
from cofail.report.matrix_report import write_report
from conftest import Run


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory: pytest.TempPathFactory, paper: Matrix) -> Path:
    out = tmp_path_factory.mktemp("report")
    write_report(paper, out)
    return out


def test_html_is_self_contained(report_dir: Path) -> None:
    html = (report_dir / "report.html").read_text(encoding="utf-8")
    assert html.count("<svg") >= 5
    # Nothing loaded from elsewhere: no external scripts, styles, images or fonts.
    # (Figures may embed data: images and refer to their own #ids; nothing else.)
    assert not re.search(r'(src|href)="(?!#|data:)', html)
    assert "<script" not in html
    assert "@import" not in html and not re.search(r"url\((?!#)", html)


def test_report_states_its_assumptions_and_claims(report_dir: Path, paper: Matrix) -> None:
    html = (report_dir / "report.html").read_text(encoding="utf-8")
    assert "uncertain cells: pessimistic (U → V, 4 U cells)" in html
    assert f"matrix {paper.id} v{paper.version}" in html
    for stack in ("RLHF+RLAIF+W2S", "DEBATE+RE", "+".join(paper.layer_ids), "SCI-AI"):
        assert f"<td>{stack}</td>" in html
    assert html.count("<td>supported</td>") == 6
    assert "What to deploy" in html and "Pareto frontier" in html
    from cofail.probability import risk

    pipeline = risk(paper, Stack(layers=("RLHF", "RLAIF", "W2S")))
    assert f"<td>RLHF+RLAIF+W2S</td><td>{pipeline.probability:.4g}</td>" in html
    assert "Which conclusions survive the uncertain cells" in html
    moderate = html.split("with no layer above moderate safety tax")[1].split("</table>")[0]
    assert "<td>2</td><td>DEBATE+RE</td><td>3</td><td>AL-GEN</td>" in moderate  # best pair


def test_markdown_twin_links_existing_figures(report_dir: Path) -> None:
    md = (report_dir / "report.md").read_text(encoding="utf-8")
    links = re.findall(r"!\[[^\]]*\]\((figures/[^)]+)\)", md)
    assert len(links) == 5
    for link in links:
        assert (report_dir / link).read_text().lstrip().startswith("<svg")
    assert "| RLHF | low | N | V | V | N | V | V | V |" in md
    assert not list(report_dir.rglob(".*.tmp"))


def test_cli_report_prints_where_it_is(cli: Callable[..., Run], tmp_path: Path) -> None:
    r = cli("report", "--out", str(tmp_path / "r"), "--uncertain", "optimistic")
    assert r.code == 0
    assert str((tmp_path / "r" / "report.html").resolve()) in r.out
    assert "optimistic (U → N" in (tmp_path / "r" / "report.html").read_text(encoding="utf-8")


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("CI"):
        pytest.fail("chromium is missing in CI: .ci/run must install it")
    pytest.skip("no chromium on this machine (CI installs it)")


def test_report_renders_its_figures_in_a_real_browser(report_dir: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    cmd = [
        _chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--hide-scrollbars",
        "--window-size=1200,1400",
        f"--screenshot={shot}",
        (report_dir / "report.html").as_uri(),
    ]
    subprocess.run(cmd, capture_output=True, timeout=120, check=False)
    assert shot.exists(), "chromium wrote no screenshot"
    import matplotlib.image as mpimg

    pixels = np.asarray(mpimg.imread(shot))[..., :3]
    # The matrix figure's V cells are #c0392b; the overlap heatmap is purple. Both must show.
    red = np.all(np.abs(pixels - np.array([0xC0, 0x39, 0x2B]) / 255) < 0.04, axis=-1)
    purple = (pixels[..., 2] > pixels[..., 1] + 0.15) & (pixels[..., 0] > pixels[..., 1] + 0.05)
    assert red.sum() > 5000, f"only {red.sum()} red pixels: the matrix figure did not render"
    assert purple.sum() > 5000, (
        f"only {purple.sum()} purple pixels: the overlap figure did not render"
    )


def _svg_texts(svg: str) -> list[str]:
    """The texts of a matplotlib SVG (fonts are paths; each text keeps a comment)."""
    return re.findall(r"<!-- (.*?) -->", svg)


def test_evidence_report_figures_show_the_measured_numbers(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    from cofail.empirical import LogSpec, read
    from conftest import shared_path

    log = shared_path("data", "xstest", "xstest-model-failures.csv")
    out = tmp_path / "evidence"
    r = cli("empirical", str(log), "--n-boot", "200", "--report", str(out), "-f", "json")
    assert r.code == 0, r.err
    data = r.json()
    figures = {p.name: p.read_text() for p in (out / "figures").iterdir()}
    assert set(figures) == {"cofailure.svg", "patterns.svg", "stack-failure.svg"}
    # The heatmap's cells are the φ of every pair, as the JSON gives them.
    heat = _svg_texts(figures["cofailure.svg"])
    for pair in data["pairs"]:
        assert f"{pair['phi']:.2f}" in heat, pair
    # The UpSet bars are the most frequent patterns, counted another way: from the log itself.
    hist = read(LogSpec(), [log])
    _, counts = hist.table(None)
    top = sorted(counts.tolist(), reverse=True)[:20]
    labels = _svg_texts(figures["patterns.svg"])
    bars = [float(t) for t in labels[labels.index("cases") + 1 :] if re.fullmatch(r"\d+", t)]
    assert bars[: len(top)] == top
    assert sum(counts) == data["n_cases"] == 450  # XSTest v2: 450 prompts
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.count("<svg") == 3 and "Evidence: which layers fail together" in html


def test_a_two_layer_evidence_report_lists_its_one_stack_once(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    # The two official JailbreakBench attacks on one model: the pair is the whole stack.
    real = Path(__file__).parent / "data" / "real" / "jailbreakbench"
    files = [str(p) for p in sorted(real.glob("*.json"))]
    out = tmp_path / "evidence"
    r = cli(
        "empirical", *files, "--name", "{method}/{model}", "--n-boot", "100", "--report", str(out)
    )
    assert r.code == 0, r.err
    md = (out / "report.md").read_text(encoding="utf-8")
    section = md[md.index("### Observed joint failure against independence") :]
    section = section[: section.index("###", 4)]
    rows = [line for line in section.splitlines() if line.startswith("| GCG")]
    assert len(rows) == 1, rows

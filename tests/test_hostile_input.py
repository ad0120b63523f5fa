"""Hostile and odd input: every case exits 2 with one line naming the file, or succeeds and
writes only what it should. Nothing here may end in a traceback, a hang or a replaced device."""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Run, one_line_error
from strategies import examples

Cli = Callable[..., Run]

_MATRIX = "failure_modes: [{id: A}]\nlayers: [{id: L%s}]\ncells: {L: {A: %s}}\n"

HOSTILE = {
    "dup.json": (
        '{"failure_modes":[{"id":"A"}],"layers":[{"id":"L"}],"cells":{"L":{"A":"V"}},'
        '"cells":{"L":{"A":"N"}}}',
        "duplicate key 'cells'",
    ),
    "deep.json": ("[" * 20000 + "]" * 20000, "nested more than"),
    "nan.json": (
        '{"failure_modes":[{"id":"A"}],"layers":[{"id":"L"}],"cells":{"L":{"A":NaN}}}',
        "NaN is not a number JSON allows",
    ),
    "bigint.json": (
        '{"failure_modes":[{"id":"A"}],"layers":[{"id":"L"}],"cells":{"L":{"A":'
        + "9" * 5000
        + "}}}",
        "an integer of 5000 digits",
    ),
    "deep.yaml": ("a: " + "[" * 20000 + "]" * 20000 + "\n", "nesting depth"),
    "complex-key.yaml": ("? [a, b]\n: 1\n", "a mapping key must be a plain name"),
    "bigint.yaml": (_MATRIX % ("", "9" * 5000), "thousands of digits"),
    "hugeint.yaml": (_MATRIX % ("", "9" * 400), "huge integer"),
    "inf-tax.yaml": (
        _MATRIX % (", tax_cost: .inf", "V"),
        "tax_cost: Input should be a finite number",
    ),
    "nan-level.yaml": (_MATRIX % ("", ".nan"), "must lie in [0, 1]"),
    "quote.csv": ('layer,A\nL,"V\n', "unexpected end of data"),
    "bigfield.csv": ("layer,A\nL," + "V" * 200_000 + "\n", "field larger than field limit"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_matrix_file_is_one_line_naming_it(cli: Cli, tmp_path: Path, name: str) -> None:
    text, needle = HOSTILE[name]
    path = tmp_path / name
    path.write_text(text)
    for command in (("audit",), ("show",), ("risk", "-s", "all")):
        one_line_error(cli(*command, "-m", str(path)), name, needle)


def test_special_files_are_refused_as_inputs(cli: Cli, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)  # reading it would block for ever
    one_line_error(cli("show", "-m", str(fifo)), "pipe.yaml", "FIFO")
    sock_path = tmp_path / "s.yaml"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(sock_path))
    try:
        one_line_error(cli("show", "-m", str(sock_path)), "s.yaml", "socket")
    finally:
        sock.close()
    one_line_error(cli("empirical", "/dev/zero"), "/dev/zero")
    one_line_error(cli("mef", str(tmp_path)), "is a directory")
    if os.geteuid() != 0:  # root reads anything
        locked = tmp_path / "locked.yaml"
        locked.write_text(_MATRIX % ("", "V"))
        locked.chmod(0)
        one_line_error(cli("show", "-m", str(locked)), "permission denied")


def test_a_100_000_column_matrix_is_read_in_linear_time(cli: Cli, tmp_path: Path) -> None:
    # The duplicate-column check was quadratic: 20,000 columns took 5 s, 100,000 never ended.
    # No timing here (benchmarks time things); a quadratic check would make this test hang.
    n = 100_000
    path = tmp_path / "wide.csv"
    path.write_text(
        "layer," + ",".join(f"M{i}" for i in range(n)) + "\nL," + ",".join("V" * n) + "\n"
    )
    r = cli("validate", str(path), "-f", "json")
    assert r.code == 0 and r.json()["failure_modes"] == n


def test_names_are_never_read_as_markup(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "[bold]m[").mkdir()
    path = tmp_path / "[bold]m[" / "x].yaml"  # the path reads [bold]m[/x].yaml: markup that raises
    path.write_text(
        "failure_modes: [{id: A, name: '[bold]x[/bold] [/x]'}]\n"
        "layers: [{id: L, name: '$\\\\foo$ [/y]'}]\n"
        "cells: {L: {A: {level: V, rationale: '[red]why[/red] [/z]'}}}\n"
    )
    r = cli("validate", str(path))
    assert r.code == 0 and "[bold]m[/x].yaml" in r.out
    explain = cli("explain", "L", "A", "-m", str(path))
    assert explain.code == 0 and "[red]why[/red] [/z]" in explain.out
    assert "[bold]x[/bold] [/x]" in cli("show", "-m", str(path), "-f", "md").out
    assert cli("report", "-m", str(path), "--out", str(tmp_path / "rep")).code == 0


def test_report_md_escapes_html_in_user_text(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        "title: '<img src=x onerror=alert(1)>'\n"
        "failure_modes: [{id: A, name: '<script>alert(1)</script>'}]\nlayers: [{id: L}]\n"
        "cells: {L: {A: {level: V, rationale: '<b onclick=x>hi</b>'}}}\n"
    )
    out = tmp_path / "rep"
    assert cli("report", "-m", str(path), "--out", str(out)).code == 0
    for name in ("report.md", "report.html"):
        text = (out / name).read_text()
        assert "<script>" not in text and "<img" not in text and "<b onclick" not in text, name
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text, name


def test_outputs_to_devices_and_links_write_through_them(cli: Cli, tmp_path: Path) -> None:
    r = cli("export", "-s", "RLHF", "--out", "/dev/null")
    assert r.code == 0 and stat.S_ISCHR(os.stat("/dev/null").st_mode)
    real = tmp_path / "real.xml"
    real.write_text("old")
    link = tmp_path / "link.xml"
    link.symlink_to(real)
    assert cli("export", "-s", "RLHF", "--out", str(link)).code == 0
    assert link.is_symlink() and real.read_text().startswith("<?xml")
    r = cli("export", "-s", "RLHF", "--out", "-")
    assert r.code == 0 and r.out.startswith("<?xml")
    one_line_error(cli("export", "-s", "RLHF", "--out", "/dev/full"), "No space left")


def test_a_failed_report_leaves_the_old_report_whole_and_no_temporary_folder(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "rep"
    assert cli("report", "--out", str(out)).code == 0
    before = {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    from cofail.errors import InputError
    from cofail.report import document

    real_write = document.write_atomic

    def full_disk(path: Path, data: str | bytes) -> Path:
        # the disk fills up after the figures and report.md are written, at report.html
        if Path(path).name == "report.html":
            raise InputError("cannot write: No space left on device", source=str(path))
        return real_write(path, data)

    monkeypatch.setattr(document, "write_atomic", full_disk)
    one_line_error(cli("report", "-u", "optimistic", "--out", str(out)), "No space left")
    after = {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]


def test_a_report_killed_midway_is_cleaned_up_by_the_next_run(cli: Cli, tmp_path: Path) -> None:
    # What kill -9 leaves: a temporary folder of a process that no longer exists.
    dead = 2**22 + 12345  # above Linux's default pid_max of 4,194,304: never a live process
    leftover = tmp_path / f".rep.{dead}.abc.tmp"
    (leftover / "figures").mkdir(parents=True)
    (leftover / "report.md").write_text("half")
    assert cli("report", "--out", str(tmp_path / "rep")).code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]


_levels = st.sampled_from(["V", "N", "U", "0.5", "1e308", "-0", "nan", "inf", "[1]", "{}", "''"])


@settings(
    max_examples=examples(60),
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    fmt=st.sampled_from(["yaml", "json", "csv"]),
    body=st.one_of(
        st.text(max_size=300),
        st.builds(
            lambda a, b, c: (
                f"failure_modes: [{{id: {a}}}]\nlayers: [{{id: L}}]\ncells: {{L: {{{a}: {b}}}}}\n{c}"
            ),
            st.sampled_from(["A", "[A]", "'A'", "{a: 1}", "&x A", "*x"]),
            _levels,
            st.text(max_size=40),
        ),
        st.builds(lambda a, b: f"layer,{a}\nL,{b}\n", st.text(max_size=30), _levels),
    ),
)
def test_any_text_as_a_matrix_is_read_or_refused_in_one_line(
    cli: Cli, tmp_path: Path, fmt: str, body: str
) -> None:
    path = tmp_path / f"fuzz.{fmt}"
    path.write_text(
        body, encoding="utf-8", errors="surrogatepass"
    ) if "\ud800" not in body else path.write_bytes(b"\xff")
    r = cli("audit", "-m", str(path), "-f", "json")
    assert r.code in (0, 2), r.err
    if r.code == 2:
        assert len(r.err.strip().splitlines()) == 1 and r.err.startswith("cofail: error: ")


@pytest.mark.parametrize(
    ("weights", "needle"),
    [
        (("nan", "nan", "1", "1"), "weight 'nan'"),
        (("-1", "-1", "1", "1"), "weight '-1'"),
        (("", "", "", ""), "weight (empty)"),
        (("inf", "inf", "1", "1"), "weight 'inf'"),
        (("0", "0", "0", "0"), "sum to 0"),
    ],
)
def test_bad_log_weights_are_refused(
    cli: Cli, tmp_path: Path, weights: tuple[str, ...], needle: str
) -> None:
    rows = [("c1", "A", 1), ("c1", "B", 0), ("c2", "A", 0), ("c2", "B", 1)]
    log = tmp_path / "w.csv"
    log.write_text(
        "case,layer,failed,w\n"
        + "".join(f"{c},{la},{f},{w}\n" for (c, la, f), w in zip(rows, weights, strict=True))
    )
    one_line_error(cli("empirical", str(log), "--weight-col", "w"), "w.csv", needle)


def test_a_nan_in_parquet_is_refused_where_duckdb_does_not_see_it(cli: Cli, tmp_path: Path) -> None:
    # DuckDB 2.0.1's isnan is false on a NaN read from Parquet (the column statistics leave
    # NaN out): a weight or a score filter in SQL alone lets it through as a number.
    import pyarrow as pa
    import pyarrow.parquet as pq

    nan = float("nan")
    weighted = tmp_path / "w.parquet"
    pq.write_table(
        pa.table({"case": ["c1", "c1", "c2", "c2"], "layer": ["A", "B", "A", "B"],
                  "failed": [1, 0, 0, 1], "w": [1.0, 1.0, nan, nan]}),
        weighted,
    )  # fmt: skip
    one_line_error(cli("empirical", str(weighted), "--weight-col", "w"), "w.parquet", "'c2'",
                   "weight 'nan'")  # fmt: skip
    scored, honest = tmp_path / "long.parquet", tmp_path / "honest.parquet"
    long = {"case": [1, 2, 1, 2], "layer": ["a", "a", "b", "b"]}
    pq.write_table(pa.table({**long, "score": [0.5, 0.2, nan, 1.0]}), scored)
    pq.write_table(pa.table({**long, "score": [0.5, 0.2, 0.3, 1.0]}), honest)
    one_line_error(
        cli("scores", str(scored), "--honest", str(honest), "--budget", "10%"),
        "long.parquet", "row 3 (case '1'), layer 'b': score 'nan'",
    )  # fmt: skip


def test_bad_numbers_in_empirical_and_simulate_options(cli: Cli, tmp_path: Path) -> None:
    log = tmp_path / "ok.csv"
    log.write_text("case,layer,failed\nc1,A,1\nc1,B,0\nc2,A,0\nc2,B,1\n")
    one_line_error(cli("empirical", str(log), "--threshold", "nan"), "--threshold")
    one_line_error(cli("empirical", str(log), "--alpha", "nan"), "--alpha")
    one_line_error(cli("empirical", str(log), "--n-boot", str(10**9)), "--n-boot")
    big = str(tmp_path / "big.csv")
    one_line_error(cli("simulate", "-s", "all", "--cases", str(10**12), "--out", big), "--cases")
    nul = tmp_path / "nul.csv"
    nul.write_bytes(b"case,layer,failed\nc1,A,1\nc1\x00,B,0\n")
    one_line_error(cli("empirical", str(nul)), "nul.csv", "NUL byte at offset 27")


def test_tool_logs_with_wrongly_typed_outcomes_are_refused(cli: Cli, tmp_path: Path) -> None:
    import json

    jbb = tmp_path / "jbb.json"
    jbb.write_text(
        json.dumps(
            {
                "parameters": {"model": "m", "method": "X"},
                "jailbreaks": [{"index": 0, "jailbroken": "false"}],
            }
        )
    )
    one_line_error(cli("empirical", str(jbb)), "jailbreaks[0].jailbroken", "got 'false'")
    hb = tmp_path / "hb.json"
    hb.write_text(json.dumps({"b1": [{"test_case": "t", "generation": "g", "label": 2}]}))
    one_line_error(cli("empirical", str(hb), "--tool", "harmbench"), "b1[0].label", "got 2")
    pf = tmp_path / "pf.json"
    pf.write_text(
        json.dumps(
            {"results": {"results": [{"testIdx": 0, "provider": {"id": "p"}, "success": "false"}]}}
        )
    )
    one_line_error(cli("empirical", str(pf), "--tool", "promptfoo"), ".success", "got 'false'")
    ins = tmp_path / "i.json"
    ins.write_text(
        '{"eval": {"model": "m", "task": "t"}, "samples": [{"id": 1, "scores": {"s": {"value": NaN}}}]}'
    )
    one_line_error(cli("empirical", str(ins), "--tool", "inspect"), "NaN")
    ins.write_text(
        '{"eval": {"model": "m"}, "samples": [{"id": 1, "scores": {"s": {"value": 1e999}}}]}'
    )
    one_line_error(cli("empirical", str(ins), "--tool", "inspect"), "expected a finite number")


def test_a_zip_bomb_as_an_inspect_log_is_refused_before_expanding(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import zipfile

    from cofail.empirical import _frameworks

    # The limit is 2 GiB; here 4 MiB, so that the bomb (8 MiB of zeros in 8 KiB) is small.
    monkeypatch.setattr(_frameworks, "_MAX_LOG_BYTES", 4 << 20)
    bomb = tmp_path / "bomb.eval"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("header.json", "{}")
        archive.writestr("samples/1.json", b"0" * (8 << 20))
    assert bomb.stat().st_size < 100_000
    one_line_error(cli("empirical", str(bomb)), "bomb.eval", "expands to 8 MiB", "at most 4 MiB")


def test_a_garak_line_goes_through_the_same_strict_json(cli: Cli, tmp_path: Path) -> None:
    # One parser for every JSON input: a garak report line nested 3,000 deep was a
    # RecursionError traceback, a broken line names its own line number.
    deep = tmp_path / "deep.report.jsonl"
    deep.write_text('{"entry_type": "start_run setup"}\n{"x": ' + "[" * 3000 + "]" * 3000 + "}\n")
    one_line_error(cli("empirical", str(deep)), "deep.report.jsonl:2", "nested more than")
    broken = tmp_path / "broken.report.jsonl"
    broken.write_text('{"entry_type": "start_run setup"}\n{"entry_type": "attempt", bad\n')
    one_line_error(cli("empirical", str(broken)), "broken.report.jsonl:2", "invalid JSON")

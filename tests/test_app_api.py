"""The app's JSON API and its guard, through Starlette's TestClient (no network)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the app extra is not installed")
from starlette.testclient import TestClient

from cofail import catalog
from cofail.app import Session, create_app
from cofail.io import dumps_matrix, loads_matrix
from cofail.model import Matrix
from conftest import Run, one_line_error

LOCAL = {"base_url": "http://127.0.0.1:8765", "client": ("127.0.0.1", 50000)}


@pytest.fixture
def session() -> Session:
    return Session(catalog.load())


@pytest.fixture
def client(session: Session) -> Iterator[TestClient]:
    with TestClient(create_app(session), **LOCAL) as c:  # type: ignore[arg-type]
        yield c


def post(client: TestClient, session: Session, url: str, **kw: object) -> object:
    headers = {"X-Cofail-Token": session.token, **kw.pop("headers", {})}  # type: ignore[dict-item]
    return client.post(url, headers=headers, **kw)  # type: ignore[arg-type]


# -- the API returns what the CLI prints ----------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "args"),
    [
        ("/api/audit?stack=DEBATE,RE", ["audit", "--stack", "DEBATE,RE"]),
        ("/api/audit?stack=RLHF,RLAIF,W2S&uncertain=optimistic&threshold=0.3",
         ["audit", "-s", "RLHF,RLAIF,W2S", "-u", "optimistic", "-t", "0.3"]),
        ("/api/audit?stack=all&k=2&max_order=2", ["audit", "--k", "2", "--max-order", "2"]),
        ("/api/risk?stack=DEBATE,RE", ["risk", "--stack", "DEBATE,RE"]),
        ("/api/risk?stack=RLHF,RE&p=0.2&p=DEC-AL=0.3&residual=0.05",
         ["risk", "-s", "RLHF,RE", "--p", "0.2", "--p", "DEC-AL=0.3", "--residual", "0.05"]),
        ("/api/recommend?budget=6", ["recommend", "--budget", "6"]),
        ("/api/recommend?max_tax=moderate&size=2&objective=risk&top=3&p=0.05",
         ["recommend", "--max-tax", "moderate", "--size", "2", "--objective", "risk", "--top",
          "3", "--p", "0.05"]),
        ("/api/robustness?stack=DEBATE,RE", ["robustness", "--stack", "DEBATE,RE"]),
        ("/api/robustness?stack=DEBATE,RE&budget=6", ["robustness", "-s", "DEBATE,RE",
                                                      "--budget", "6"]),
    ],
)  # fmt: skip
def test_api_equals_cli_json(
    client: TestClient, cli: Callable[..., Run], url: str, args: list[str]
) -> None:
    r = client.get(url)
    assert r.status_code == 200, r.text
    expected = cli(*args, "--format", "json")
    assert expected.code == 0, expected.err
    assert r.json() == expected.json()
    assert r.text == expected.out  # the same text, not only the same numbers


def test_edited_matrix_is_what_the_api_analyses(
    client: TestClient, session: Session, cli: Callable[..., Run], tmp_path: Path
) -> None:
    before = client.get("/api/audit?stack=DEBATE,RE").json()
    assert before["uncovered"] == ["AL-GEN"] and before["depth"] == 1
    r = post(
        client, session, "/api/edit", json={"op": "cycle", "layer": "DEBATE", "mode": "AL-GEN"}
    )
    assert r.status_code == 200  # type: ignore[attr-defined]
    after = client.get("/api/audit?stack=DEBATE,RE").json()
    assert after["uncovered"] == [] and after["depth"] == 2
    # ... and it is what the CLI says of the same matrix saved to a file
    path = tmp_path / "edited.yaml"
    path.write_text(dumps_matrix(session.matrix, "yaml"))
    assert cli("audit", "-m", str(path), "-s", "DEBATE,RE", "-f", "json").json() == after
    assert post(client, session, "/api/undo").json()["undo"] == 0  # type: ignore[attr-defined]
    assert client.get("/api/audit?stack=DEBATE,RE").json() == before
    assert post(client, session, "/api/redo").json()["redo"] == 0  # type: ignore[attr-defined]
    assert client.get("/api/audit?stack=DEBATE,RE").json() == after


def test_every_edit(client: TestClient, session: Session) -> None:
    edits = [
        {"op": "level", "layer": "RE", "mode": "AL-GEN", "level": "0.25"},
        {"op": "cell", "layer": "RE", "mode": "AL-GEN", "rationale": "measured", "source": "run 7",
         "confidence": "low"},
        {"op": "tax", "layer": "RE", "safety_tax": "high", "tax_cost": 3},
        {"op": "add_layer", "id": "FILTER", "name": "input filter"},
        {"op": "add_mode", "id": "JAILBREAK"},
        {"op": "rename_layer", "id": "FILTER", "new_id": "IN-FILTER", "name": "Input filter"},
        {"op": "rename_mode", "id": "JAILBREAK", "new_id": "JB", "name": "jailbreak"},
        {"op": "remove_mode", "id": "S-TAX"},
        {"op": "remove_layer", "id": "IDA"},
    ]  # fmt: skip
    for edit in edits:
        r = post(client, session, "/api/edit", json=edit)
        assert r.status_code == 200, (edit, r.text)  # type: ignore[attr-defined]
    m = session.matrix
    cell = m.cell("RE", "AL-GEN")
    assert (cell.level, cell.rationale, cell.source, cell.confidence) == (
        0.25, "measured", "run 7", "low"
    )  # fmt: skip
    assert m.layer("RE").cost == 3 and m.layer("IN-FILTER").name == "Input filter"
    assert m.cell("IN-FILTER", "JB").level == "U" and m.mode("JB").name == "jailbreak"
    assert "S-TAX" not in m.mode_ids and "IDA" not in m.layer_ids
    view = client.get("/api/matrix").json()
    assert view["undo"] == len(edits)
    assert view["view"]["cells"]["RE"]["AL-GEN"]["style"]["text"] == "0.25"


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        ({"op": "level", "layer": "RE", "mode": "AL-GEN", "level": 2}, "in [0, 1]"),
        ({"op": "level", "layer": "NOPE", "mode": "AL-GEN", "level": "V"}, "unknown layer"),
        ({"op": "add_layer", "id": "has space"}, "layers"),
        ({"op": "add_layer", "id": "RE"}, "already"),
        ({"op": "explode"}, "op: expected one of"),
        ({"op": "tax", "layer": "RE", "safety_tax": "huge"}, "safety_tax"),
    ],
)
def test_bad_edits_are_400_and_change_nothing(
    client: TestClient, session: Session, edit: dict[str, object], needle: str
) -> None:
    before = session.matrix
    r = post(client, session, "/api/edit", json=edit)
    assert r.status_code == 400 and needle in r.json()["error"]  # type: ignore[attr-defined]
    assert session.matrix is before and session.revision == 0


def test_bad_query_is_400_with_one_line(client: TestClient) -> None:
    r = client.get("/api/audit?stack=NOPE")
    assert r.status_code == 400 and "unknown layer 'NOPE'" in r.json()["error"]
    assert client.get("/api/risk?p=lots").status_code == 400
    assert client.get("/api/recommend?budget=cheap").status_code == 400
    assert "\n" not in client.get("/api/audit?threshold=7").json()["error"]


# -- files ----------------------------------------------------------------------------------------


def test_load_every_format_and_navigator(
    client: TestClient, session: Session, paper: Matrix
) -> None:
    from cofail.io.navigator import dumps_navigator, matrix_layers

    for name, text in [
        ("m.yaml", dumps_matrix(paper, "yaml")),
        ("m.json", dumps_matrix(paper, "json")),
        ("layers.json", dumps_navigator(matrix_layers(paper))),
    ]:
        r = post(client, session, f"/api/matrix?name={name}", content=text.encode())
        assert r.status_code == 200, r.text  # type: ignore[attr-defined]
        assert session.matrix == paper
    r = post(client, session, "/api/matrix?name=m.csv", content=dumps_matrix(paper, "csv").encode())
    assert r.json()["view"]["cells"]["RLHF"]["DEC-AL"]["level"] == "V"  # type: ignore[attr-defined]
    real = Path(__file__).parent / "data" / "real" / "navigator" / "atlas_AML.CS0000.json"
    r = post(client, session, f"/api/matrix?name={real.name}", content=real.read_bytes())
    assert len(r.json()["view"]["failure_modes"]) == 9  # type: ignore[attr-defined]
    r = post(client, session, "/api/matrix?name=m.yaml", content=b"layers: [")
    assert r.status_code == 400 and "m.yaml" in r.json()["error"]  # type: ignore[attr-defined]
    r = post(client, session, "/api/matrix?name=m.yaml", content=b"\xff\xfe")
    assert r.status_code == 400 and "UTF-8" in r.json()["error"]  # type: ignore[attr-defined]


def test_download_and_navigator_export(client: TestClient, paper: Matrix) -> None:
    for kind in ("yaml", "json", "csv"):
        r = client.get(f"/api/matrix/download?format={kind}")
        assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
        assert loads_matrix(r.text, kind).mode_ids == paper.mode_ids  # type: ignore[arg-type]
    layers = client.get("/api/navigator").json()
    assert [x["versions"]["layer"] for x in layers] == ["4.5"] * len(paper.layers)
    stack = client.get("/api/navigator?stack=DEBATE,RE").json()
    assert [x["name"].split(":")[0] for x in stack] == ["coverage of DEBATE+RE", "DEBATE", "RE"]


def test_save_writes_through_the_validated_writer(tmp_path: Path, paper: Matrix) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(dumps_matrix(paper, "yaml"))
    session = Session(paper, path=path)
    with TestClient(create_app(session), **LOCAL) as c:  # type: ignore[arg-type]
        post(c, session, "/api/edit", json={"op": "cycle", "layer": "RE", "mode": "AL-GEN"})
        r = post(c, session, "/api/save")
        assert r.json() == {"wrote": str(path), "format": "yaml"}  # type: ignore[attr-defined]
    assert loads_matrix(path.read_text(), "yaml").cell("RE", "AL-GEN").level == "N"
    assert [p.name for p in tmp_path.iterdir()] == ["mine.yaml"]  # no temporary left


def test_save_without_a_file_says_what_to_do(client: TestClient, session: Session) -> None:
    r = post(client, session, "/api/save")
    assert r.status_code == 400 and "Download" in r.json()["error"]  # type: ignore[attr-defined]


# -- evidence -------------------------------------------------------------------------------------


def _log(tmp_path: Path) -> Path:
    rows = ["case,layer,failed"]
    for i in range(60):
        rows += [f"c{i},judge,{int(i % 3 == 0)}", f"c{i},regex,{int(i % 4 == 0)}"]
        rows.append(f"c{i},monitor,{int(i % 3 == 0 and i % 2 == 0)}")
    path = tmp_path / "run.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_evidence_equals_cli_empirical(
    client: TestClient, session: Session, cli: Callable[..., Run], tmp_path: Path
) -> None:
    log = _log(tmp_path)
    r = post(client, session, "/api/evidence?name=run.csv", content=log.read_bytes())
    assert r.status_code == 200, r.text  # type: ignore[attr-defined]
    expected = cli("empirical", str(log), "--format", "json")
    assert r.json() == expected.json()  # type: ignore[attr-defined]
    assert {p["a"] + p["b"] for p in r.json()["pairs"]} >= {"judgeregex"}  # type: ignore[attr-defined]


def test_evidence_upload_never_names_a_file(
    client: TestClient, session: Session, tmp_path: Path
) -> None:
    target = tmp_path / "evil.csv"
    r = post(client, session, f"/api/evidence?name={target}", content=_log(tmp_path).read_bytes())
    assert r.status_code == 200  # type: ignore[attr-defined]
    assert not target.exists()  # the client's name is a label, not a path
    r = post(client, session, "/api/evidence?name=../../x.csv", content=b"case,layer\n1,a\n")
    error = r.json()["error"]  # type: ignore[attr-defined]
    assert r.status_code == 400 and "cofail-app-" not in error and "x.csv" in error  # type: ignore[attr-defined]
    r = post(client, session, "/api/evidence?name=x.exe", content=b"MZ")
    assert r.status_code == 400  # type: ignore[attr-defined]


# -- the guard ------------------------------------------------------------------------------------


def test_state_changes_need_post_and_the_token(client: TestClient, session: Session) -> None:
    edit = {"op": "cycle", "layer": "RE", "mode": "AL-GEN"}
    assert client.post("/api/edit", json=edit).status_code == 403
    wrong = client.post("/api/edit", json=edit, headers={"X-Cofail-Token": "guess"})
    assert wrong.status_code == 403 and "token" in wrong.json()["error"]
    assert client.post("/api/undo").status_code == 403
    assert client.put("/api/edit", json=edit).status_code == 405
    assert client.get("/api/edit").status_code == 405  # a GET never changes anything
    assert session.revision == 0
    assert (
        session.token in client.get("/").text
    )  # the page carries it; other origins cannot read it


def test_oversized_body_is_413_before_anything_else(session: Session) -> None:
    big = b"x" * (10 * 2**20 + 1)
    # no token, a foreign Host and a non-loopback peer: the size is still what is answered
    with TestClient(
        create_app(session), base_url="http://evil.example", client=("10.1.2.3", 1)
    ) as c:
        assert c.post("/api/edit", content=big).status_code == 413

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
            for _ in range(11):
                yield b"y" * 2**20

        assert c.post("/api/matrix", content=chunks()).status_code == 413
    with TestClient(create_app(session), **LOCAL) as c:  # type: ignore[arg-type]
        ok = c.post(
            "/api/matrix?name=m.yaml", content=b"x" * 100, headers={"X-Cofail-Token": session.token}
        )
        assert ok.status_code == 400  # within the limit: parsed, and refused as a matrix


def test_only_loopback_peers_and_hosts(session: Session) -> None:
    with TestClient(
        create_app(session), base_url="http://127.0.0.1", client=("192.168.1.9", 1)
    ) as c:
        assert c.get("/api/matrix").status_code == 403
    with TestClient(
        create_app(session), base_url="http://attacker.example", client=("127.0.0.1", 1)
    ) as c:
        assert c.get("/api/matrix").status_code == 403  # DNS rebinding
    for host in ("http://localhost:9000", "http://[::1]:9000"):
        with TestClient(create_app(session), base_url=host, client=("::1", 1)) as c:
            assert c.get("/api/matrix").status_code == 200


def test_no_client_path_reaches_the_disk(client: TestClient) -> None:
    for url in ("/assets/../_routes.py", "/assets/%2e%2e%2f_routes.py", "/assets/index.html",
                "/assets/..%2F..%2Fpyproject.toml", "/etc/passwd"):  # fmt: skip
        assert client.get(url).status_code == 404, url


def test_headers_and_escaping(client: TestClient, session: Session) -> None:
    r = client.get("/")
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert (
        r.headers["x-frame-options"] == "DENY" and r.headers["x-content-type-options"] == "nosniff"
    )
    assert "<script>" not in r.text.split("</head>")[1]  # no inline script in the body
    hostile = "<script>alert(1)</script>"
    post(client, session, "/api/edit", json={"op": "add_layer", "id": "X", "name": hostile})
    page = client.get("/").text
    assert hostile not in page  # user text never enters the HTML; the page sets textContent
    assert client.get("/api/matrix").json()["view"]["layers"][-1]["name"] == hostile


# -- the command ----------------------------------------------------------------------------------


def test_app_without_the_extra_is_one_line(
    cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)
    one_line_error(cli("app", "--no-browser"), "pip install 'cofail[app]'")


def test_app_bad_input_is_one_line(cli: Callable[..., Run], tmp_path: Path) -> None:
    one_line_error(cli("app", "--no-browser", "-m", str(tmp_path / "none.yaml")), "no such file")


def test_app_serves_on_loopback_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    import httpx

    proc = subprocess.Popen(
        [sys.executable, "-m", "cofail", "app", "--no-browser", "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert line.startswith("cofail app: http://127.0.0.1:"), line
        url = line.split()[2]
        for _ in range(100):
            try:
                r = httpx.get(url + "api/audit?stack=DEBATE,RE", timeout=5)
                break
            except httpx.ConnectError:
                time.sleep(0.1)
        assert r.json()["uncovered"] == ["AL-GEN"]
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=15)
        rest = proc.stderr.read()
        assert code == 0 and "cofail app: stopped" in rest, rest
        assert "Traceback" not in rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_session_json_view(session: Session) -> None:
    from cofail.app._payloads import matrix_view

    view = matrix_view(session.matrix)
    json.dumps(view)  # plain data
    assert view["total_cost"] == sum(layer.cost for layer in session.matrix.layers)


# -- scored layers: the upload, then the budget slider ------------------------------------------


def test_scored_log_api_equals_cli_json_and_the_slider_rethresholds(
    client: TestClient,
    session: Session,
    cli: Callable[..., Run],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(2)
    rows = ["case,mon_a,mon_b,eval_mode"]
    for i in range(300):
        mode = "attack" if i % 3 == 0 else "honest"
        shift = 1.5 if mode == "attack" else 0.0
        z = rng.normal()
        rows.append(f"{i},{shift + z + rng.normal():.3f},{shift + z + rng.normal():.3f},{mode}")
    text = "\n".join(rows) + "\n"
    monkeypatch.chdir(tmp_path)
    Path("run.csv").write_text(text)
    r = post(client, session, "/api/scores?name=run.csv&wide=1&set_col=eval_mode&budget=0.02",
             content=text.encode())  # fmt: skip
    assert r.status_code == 200, r.text  # type: ignore[attr-defined]
    expected = cli("scores", "run.csv", "--wide", "--set-col", "eval_mode", "--budget", "0.02",
                   "--n-boot", "500", "-f", "json")  # fmt: skip
    assert expected.code == 0, expected.err
    assert r.json() == expected.json()  # type: ignore[attr-defined]
    moved = client.get("/api/scores?budget=0.1").json()
    again = cli("scores", "run.csv", "--wide", "--set-col", "eval_mode", "--budget", "0.1",
                "--n-boot", "500", "-f", "json").json()  # fmt: skip
    assert moved == again and moved["layers"][0]["tpr"] > r.json()["layers"][0]["tpr"]  # type: ignore[attr-defined]
    bad = client.get("/api/scores?budget=2")
    assert bad.status_code == 400 and "budget" in bad.json()["error"]


def test_the_slider_before_any_scored_log_is_a_clear_error(client: TestClient) -> None:
    r = client.get("/api/scores?budget=0.01")
    assert r.status_code == 400 and "no scored log yet" in r.json()["error"]


def test_the_case_route_is_cofail_case(client: TestClient, cli: Callable[..., Run]) -> None:
    r = client.get("/api/case?stack=DEBATE,RE&p=0.1&residual=0.01")
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["gsn2x"] == cli("case", "--stack", "DEBATE,RE", "--p", "0.1", "--residual", "0.01").out
    assert d["svg"].startswith("<svg") and d["defeated"] == ["G1", "G1-AL-GEN"]
    assert client.get("/api/case?stack=DEBATE&target=2").status_code == 400

"""The app's routes: each parses its request, calls the library, and returns its JSON.

No route takes a path from the client: a loaded matrix or log arrives as the request body, a
log is written to a private temporary folder under a name the server picks, and Save writes
only to the file the command line named.
"""

from __future__ import annotations

import html
import re
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any, Literal, cast

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from cofail.app._editing import apply_edit
from cofail.app._guard import Guard
from cofail.app._payloads import (
    Objective,
    audit_data,
    matrix_view,
    recommend_data,
    risk_data,
    robustness_data,
    tax_level,
)
from cofail.app._session import Session
from cofail.errors import InputError
from cofail.model import Matrix, Stack, UncertainPolicy

__all__ = ["create_app"]

Handler = Callable[[Request], Awaitable[Response]]

_ASSETS = {"app.js": "text/javascript", "app.css": "text/css"}
_LOG_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".jsonl", ".ndjson", ".json", ".eval")


def create_app(session: Session) -> Guard:
    """Return the ASGI app over ``session``, wrapped in its :class:`~cofail.app._guard.Guard`.

    Examples
    --------
    >>> from cofail import catalog
    >>> from starlette.testclient import TestClient
    >>> client = TestClient(create_app(Session(catalog.load())), base_url="http://127.0.0.1",
    ...                     client=("127.0.0.1", 5000))
    >>> client.get("/api/audit", params={"stack": "DEBATE,RE"}).json()["uncovered"]
    ['AL-GEN']
    """
    routes = _Routes(session)
    app = Starlette(
        routes=[
            Route("/", routes.index),
            Route("/assets/{name}", routes.asset),
            Route("/favicon.ico", routes.no_icon),
            Route("/api/matrix", routes.matrix, methods=["GET"]),
            Route("/api/matrix", routes.load, methods=["POST"]),
            Route("/api/matrix/download", routes.download),
            Route("/api/edit", routes.edit, methods=["POST"]),
            Route("/api/undo", routes.undo, methods=["POST"]),
            Route("/api/redo", routes.redo, methods=["POST"]),
            Route("/api/save", routes.save, methods=["POST"]),
            Route("/api/audit", routes.audit),
            Route("/api/risk", routes.risk),
            Route("/api/recommend", routes.recommend),
            Route("/api/robustness", routes.robustness),
            Route("/api/case", routes.case),
            Route("/api/sequences", routes.sequences),
            Route("/api/navigator", routes.navigator),
            Route("/api/evidence", routes.evidence, methods=["POST"]),
            Route("/api/scores", routes.scores_upload, methods=["POST"]),
            Route("/api/scores", routes.scores_budget, methods=["GET"]),
        ],
        exception_handlers={InputError: _input_error},
    )
    return Guard(app, token=session.token)


async def _input_error(request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": " ".join(str(exc).split())}, status_code=400)


def _json(data: Any) -> Response:
    """The CLI's JSON text of ``data`` (NaN and infinities as the CLI writes them)."""
    from cofail.report.tabular import to_json

    return Response(to_json(data), media_type="application/json")


class _Routes:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- the page ---------------------------------------------------------------------------
    async def index(self, request: Request) -> Response:
        page = _asset_text("index.html").replace("{{token}}", html.escape(self.session.token))
        return Response(page, media_type="text/html; charset=utf-8")

    async def asset(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name not in _ASSETS:  # a fixed list: the client's text never reaches the disk
            return JSONResponse({"error": "no such asset"}, status_code=404)
        return Response(_asset_text(name), media_type=f"{_ASSETS[name]}; charset=utf-8")

    async def no_icon(self, request: Request) -> Response:
        return Response(status_code=204)

    # -- the matrix -------------------------------------------------------------------------
    def _state(self) -> Response:
        return _json({"view": matrix_view(self.session.matrix), **self.session.history()})

    async def matrix(self, request: Request) -> Response:
        return self._state()

    async def load(self, request: Request) -> Response:
        q = request.query_params
        label = _display_name(q.get("name", "")) or "uploaded matrix"
        text = _decode(await request.body(), label)
        kind = q.get("format", "auto")
        self.session.replace(await run_in_threadpool(_parse_matrix, text, kind, label))
        return self._state()

    async def edit(self, request: Request) -> Response:
        body = await request.body()
        from cofail.io.json_text import loads_json

        edit = loads_json(_decode(body, "edit"), "edit")
        if not isinstance(edit, dict):
            raise InputError("edit: expected a JSON object with an 'op'")
        self.session.replace(apply_edit(self.session.matrix, edit))
        return self._state()

    async def undo(self, request: Request) -> Response:
        self.session.undo()
        return self._state()

    async def redo(self, request: Request) -> Response:
        self.session.redo()
        return self._state()

    async def save(self, request: Request) -> Response:
        from cofail.io import dumps_matrix, format_of, loads_matrix, write_atomic

        path = self.session.path
        if path is None:
            raise InputError(
                "this session started from a built-in catalog, so there is no file to save to: "
                "use Download, or start with cofail app --matrix FILE"
            )
        kind = format_of(path)
        text = dumps_matrix(self.session.matrix, kind)
        loads_matrix(text, kind, source=str(path))  # what is written reads back
        write_atomic(path, text)
        data: dict[str, Any] = {"wrote": str(path), "format": kind}
        if kind == "csv":
            data["note"] = (
                "CSV keeps ids and levels only; names, safety tax and rationales are lost"
            )
        return _json(data)

    async def download(self, request: Request) -> Response:
        from cofail.io import dumps_matrix

        kind = cast(
            Literal["yaml", "csv", "json"],
            _choice(request.query_params, "format", ("yaml", "json", "csv"), "yaml"),
        )
        m = self.session.matrix
        media = {"yaml": "application/yaml", "json": "application/json", "csv": "text/csv"}
        return _attachment(dumps_matrix(m, kind), f"{m.id}.{kind}", media[kind])

    # -- analysis ---------------------------------------------------------------------------
    async def audit(self, request: Request) -> Response:
        q = request.query_params
        return _json(
            audit_data(
                self.session.matrix,
                q.get("stack", "all"),
                uncertain=_policy(q),
                threshold=_float(q, "threshold", 0.5),
                max_order=_int(q, "max_order"),
                k=_int(q, "k"),
            )
        )

    async def risk(self, request: Request) -> Response:
        q = request.query_params
        return _json(
            risk_data(
                self.session.matrix,
                q.get("stack", "all"),
                p=q.getlist("p") or None,
                residual=q.getlist("residual") or None,
                uncertain=q.get("uncertain", "pessimistic"),
                k=_int(q, "k"),
            )
        )

    async def case(self, request: Request) -> Response:
        """The stack's safety case: ``cofail case``'s argument, its gsn2x YAML and its diagram."""
        q = request.query_params
        m = self.session.matrix
        stack = Stack.parse(q.get("stack", "all"), m)
        p, residual = q.getlist("p") or None, q.getlist("residual") or None
        uncertain, target = q.get("uncertain", "pessimistic"), _float(q, "target")
        if target is not None and not 0.0 < target < 1.0:
            raise InputError(f"target: expected a probability in (0, 1), got {target:g}")
        return _json(await run_in_threadpool(_case_data, m, stack, p, residual, uncertain, target))

    async def sequences(self, request: Request) -> Response:
        """The stack as an event tree: ``cofail sequences``'s JSON, the tree and the bars drawn."""
        q = request.query_params
        m = self.session.matrix
        stack = Stack.parse(q.get("stack", ""), m)
        p, residual = q.getlist("p") or None, q.getlist("residual") or None
        uncertain = q.get("uncertain", "pessimistic")
        return _json(await run_in_threadpool(_sequences_data, m, stack, p, residual, uncertain))

    async def recommend(self, request: Request) -> Response:
        q = request.query_params
        objective = _choice(q, "objective", ("uncovered", "depth", "risk"), "uncovered")
        return _json(
            recommend_data(
                self.session.matrix,
                budget=_float(q, "budget"),
                max_tax=tax_level(q.get("max_tax")),
                size=_int(q, "size"),
                objective=cast(Objective, objective),
                top=_int(q, "top") or 10,
                p=q.getlist("p") or None,
                residual=q.getlist("residual") or None,
                uncertain=_policy(q),
            )
        )

    async def robustness(self, request: Request) -> Response:
        q = request.query_params
        objective = cast(
            Objective, _choice(q, "objective", ("uncovered", "depth", "risk"), "uncovered")
        )
        args = (
            tuple(q.getlist("stack")),
            _float(q, "budget"),
            tax_level(q.get("max_tax")),
            _int(q, "size"),
            objective,
        )
        key = ("robustness", self.session.revision, *args)
        if key not in self.session.cache:
            m = self.session.matrix
            self.session.cache[key] = await run_in_threadpool(
                lambda: robustness_data(
                    m, list(args[0]) or None, budget=args[1], max_tax=args[2], size=args[3],
                    objective=objective,
                )
            )  # fmt: skip
        return _json(self.session.cache[key])

    async def navigator(self, request: Request) -> Response:
        from cofail.io.navigator import coverage_layer, dumps_navigator, matrix_layers

        q = request.query_params
        m = self.session.matrix
        stack = q.get("stack")
        if stack:
            parsed = Stack.parse(stack, m)
            layers = [
                coverage_layer(
                    m, parsed, uncertain=_policy(q), threshold=_float(q, "threshold", 0.5)
                ),
                *(x for x in matrix_layers(m) if _layer_id(x) in parsed.layers),
            ]
            name = f"{m.id}-{'+'.join(parsed.layers)}-navigator.json"
        else:
            layers, name = matrix_layers(m), f"{m.id}-navigator.json"
        return _attachment(dumps_navigator(layers), name, "application/json")

    # -- evidence ---------------------------------------------------------------------------
    async def evidence(self, request: Request) -> Response:
        q = request.query_params
        label, suffix, body = await _uploaded_log(request, "log.csv")
        data = await run_in_threadpool(_analyse_log, body, suffix, label, q)
        return _json(data)

    # -- scored layers ----------------------------------------------------------------------
    async def scores_upload(self, request: Request) -> Response:
        """A scored log with honest and attack cases in it (``set_col``): read, kept for the
        budget slider, analysed at ``budget``."""
        q = request.query_params
        label, suffix, body = await _uploaded_log(request, "scores.csv")
        self.session.scored = await run_in_threadpool(_read_scored, body, suffix, label, q)
        return await self.scores_budget(request)

    async def scores_budget(self, request: Request) -> Response:
        """The kept scored log at the budget ``budget`` (a fraction): ``cofail scores``'s JSON."""
        if self.session.scored is None:
            raise InputError("no scored log yet: drop one with honest and attack cases first")
        scored, spec = self.session.scored
        budget = _float(request.query_params, "budget", spec.budget)
        spec = spec.model_copy(update={"budget": budget})
        spec = type(spec).build(**spec.model_dump())  # checks the budget like the CLI does
        data = await run_in_threadpool(_analyse_scored, scored, spec)
        return _json(data)


async def _uploaded_log(request: Request, default: str) -> tuple[str, str, bytes]:
    """The uploaded log's label (the client's file name, as a label only), suffix and bytes;
    an unknown type or an empty body is an ``InputError``."""
    label = _display_name(request.query_params.get("name", "")) or default
    suffix = Path(label).suffix.lower()
    if suffix not in _LOG_SUFFIXES:
        raise InputError(
            f"{label}: unknown log type {suffix or '(none)'!r}; expected one of "
            f"{', '.join(_LOG_SUFFIXES)}"
        )
    body = await request.body()
    if not body.strip():
        raise InputError(f"{label}: the file is empty")
    return label, suffix, body


def _case_data(
    matrix: Matrix,
    stack: Stack,
    p: list[str] | None,
    residual: list[str] | None,
    uncertain: str,
    target: float | None,
) -> dict[str, Any]:
    from cofail.case import build_case, dumps_gsn2x
    from cofail.probability import Scenario
    from cofail.report.case_figure import case_svg

    scenario = Scenario.parse(p, residual, uncertain).for_matrix(matrix)
    case = build_case(matrix, stack, scenario, target=target)
    return {**case.to_dict(), "gsn2x": dumps_gsn2x(case), "svg": case_svg(case)}


def _sequences_data(
    matrix: Matrix, stack: Stack, p: list[str] | None, residual: list[str] | None, uncertain: str
) -> dict[str, Any]:
    from cofail.probability import Scenario
    from cofail.report.sequence_figures import event_tree_svg, stopped_where_svg
    from cofail.report.sequence_views import headline
    from cofail.report.views import name_matrix
    from cofail.sequences import event_tree

    scenario = Scenario.parse(p, residual, uncertain).for_matrix(matrix)
    result = event_tree(matrix, stack, scenario)
    svgs = {"svg": event_tree_svg(result), "bars_svg": stopped_where_svg(result)}
    return {**name_matrix(matrix, result.to_dict()), "headline": headline(result), **svgs}


def _read_scored(body: bytes, suffix: str, label: str, q: QueryParams) -> tuple[Any, Any]:
    """Return (the scored log, its spec) of an uploaded log whose set column says honest or
    attack for each case."""
    from cofail.empirical import TOOLS, LogSpec, read_scores

    spec = LogSpec.build(
        tool=_choice(q, "tool", TOOLS, "auto"),
        wide=q.get("wide", "") in ("1", "true", "on"),
        case=q.get("case_col") or "case",
        layer=q.get("layer_col") or "layer",
        score_col=q.get("score_col") or "score",
        set_col=q.get("set_col") or "eval_mode",
        budget=_float(q, "budget", 0.01),
        lower_is_suspicious=tuple(x.strip() for x in q.get("lower", "").split(",") if x.strip()),
    )
    with tempfile.TemporaryDirectory(prefix="cofail-app-") as folder:
        path = Path(folder) / f"log{suffix}"
        path.write_bytes(body)
        try:
            scored = read_scores(spec, [path])
        except InputError as exc:
            raise InputError(str(exc).replace(str(path), label)) from None
    if scored.n_honest == 0:
        raise InputError(f"{label}: no honest case (column {spec.set_col!r} says honest or attack)")
    return replace(scored, source=label), spec


def _analyse_scored(scored: Any, spec: Any) -> dict[str, Any]:
    """What ``cofail scores --format json`` prints, with 500 resamples for a quick slider."""
    from cofail.scores import analyse_scores

    return dict(analyse_scores(scored, spec, n_boot=500).to_dict())


def _layer_id(layer: dict[str, Any]) -> str:
    for entry in layer.get("metadata", ()):
        if entry.get("name") == "cofail layer":
            return str(entry["value"])
    return ""


def _parse_matrix(text: str, kind: str, label: str) -> Matrix:
    """Return the matrix of an uploaded file: YAML, CSV, JSON or a Navigator layer file."""
    from cofail.io import format_of, loads_matrix
    from cofail.io.json_text import loads_json
    from cofail.io.navigator import is_navigator, loads_navigator

    if kind == "auto":
        kind = format_of(label) if Path(label).suffix else "yaml"
    if kind not in ("yaml", "csv", "json", "navigator"):
        raise InputError(f"format: expected yaml, csv, json or navigator, got {kind!r}")
    if kind == "json" and is_navigator(loads_json(text, label)):
        kind = "navigator"
    if kind == "navigator":
        return loads_navigator(text, label)
    return loads_matrix(text, cast(Literal["yaml", "csv", "json"], kind), source=label)


def _analyse_log(body: bytes, suffix: str, label: str, q: QueryParams) -> dict[str, Any]:
    """Return what ``cofail empirical LOG --format json`` prints for the uploaded log."""
    from cofail.empirical import TOOLS, LogSpec, analyse, log_stack, read

    spec = LogSpec.build(
        tool=_choice(q, "tool", TOOLS, "auto"),
        wide=q.get("wide", "") in ("1", "true", "on"),
        case=q.get("case_col") or "case",
        layer=q.get("layer_col") or "layer",
        failed=q.get("failed_col") or "failed",
        stratum=q.get("stratum_col") or None,
        polarity=_choice(q, "polarity", ("failed", "passed"), "failed"),
        name=q.get("layer_name") or None,
    )
    # A private folder (mode 0700) and a name of the server's choosing: nothing the client
    # sends names a file.
    with tempfile.TemporaryDirectory(prefix="cofail-app-") as folder:
        path = Path(folder) / f"log{suffix}"
        path.write_bytes(body)
        try:
            histogram = read(spec, [path])
            analysis = analyse(
                histogram,
                alpha=_float(q, "alpha", 0.05),
                n_boot=_int(q, "n_boot") or 2000,
                seed=_int(q, "seed") or 0,
            )
        except InputError as exc:
            raise InputError(str(exc).replace(str(path), label)) from None
        return analysis.to_dict(log_stack(q.get("stack"), histogram.layers))


# -- small parsers -------------------------------------------------------------------------------


def _asset_text(name: str) -> str:
    return resources.files("cofail.app").joinpath("static", name).read_text(encoding="utf-8")


def _decode(body: bytes, label: str) -> str:
    if not body.strip():
        raise InputError(f"{label}: the file is empty")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{label}: not UTF-8 text (byte offset {exc.start})") from None
    if "\x00" in text:
        raise InputError(f"{label}: contains NUL bytes; expected a text file")
    return text


def _display_name(name: str) -> str:
    """The client's file name as a label only: its last part, printable, at most 100 characters.

    >>> _display_name("../../etc/passwd"), _display_name("C:\\\\x\\\\m.yaml")
    ('passwd', 'm.yaml')
    """
    base = re.split(r"[\\/]", name)[-1]
    return "".join(c for c in base if c.isprintable())[:100]


def _attachment(text: str, name: str, media: str) -> Response:
    safe = re.sub(r"[^A-Za-z0-9_.+\-]+", "-", name)
    return Response(
        text,
        media_type=f"{media}; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{safe}"'},
    )


def _policy(q: QueryParams) -> UncertainPolicy:
    value = _choice(q, "uncertain", ("pessimistic", "optimistic"), "pessimistic")
    return cast(UncertainPolicy, value)


def _choice(q: QueryParams, key: str, allowed: tuple[str, ...], default: str) -> str:
    value = q.get(key) or default
    if value not in allowed:
        raise InputError(f"{key}: expected {', '.join(allowed)}, got {value!r}")
    return value


def _float(q: QueryParams, key: str, default: float | None = None) -> Any:
    text = q.get(key)
    if text is None or text == "":
        return default
    try:
        return float(text)
    except ValueError:
        raise InputError(f"{key}: expected a number, got {text!r}") from None


def _int(q: QueryParams, key: str) -> int | None:
    text = q.get(key)
    if text is None or text == "":
        return None
    try:
        return int(text)
    except ValueError:
        raise InputError(f"{key}: expected a whole number, got {text!r}") from None

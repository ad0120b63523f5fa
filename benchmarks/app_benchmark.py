"""Benchmark: how long the app takes to answer a click, on the built-in catalog.

A real server (uvicorn on 127.0.0.1, a free port) and a real HTTP client; one *update* is what
the page does after a click: the edit (POST /api/edit), then audit, risk and the best stacks
(GET /api/audit, /api/risk, /api/recommend) as the page sends them, in parallel. Also timed on
their own: each of those requests, a slider move (audit + risk + recommend, no edit) and the
robustness request the page sends after them (cached until the matrix changes, so timed with
the cache emptied). Target: an update under 200 ms.

Run:

    .venv/bin/python benchmarks/app_benchmark.py [--repeat 50]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import threading
import time
from collections.abc import Awaitable, Callable

import httpx
import uvicorn

from cofail import catalog
from cofail.app import Session, create_app

TARGET_MS = 200.0
CELLS = [("DEBATE", "AL-GEN"), ("RE", "DEC-AL"), ("RLHF", "COLL"), ("IDA", "S-TAX")]
PARAMS = {"stack": "DEBATE,RE,SCI-AI", "p": "0.1", "residual": "0.01"}


def _serve(session: Session) -> tuple[uvicorn.Server, threading.Thread, str]:
    from cofail.app._server import _bind  # the app's own listening socket

    sock = _bind(0)
    server = uvicorn.Server(
        uvicorn.Config(create_app(session), log_level="warning", lifespan="off", access_log=False)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    return server, thread, f"http://127.0.0.1:{sock.getsockname()[1]}"


async def _measure(name: str, repeat: int, step: Callable[[int], Awaitable[object]]) -> float:
    await step(0)  # warm up: imports, caches
    times = []
    for i in range(repeat):
        start = time.perf_counter()
        await step(i + 1)
        times.append(1000 * (time.perf_counter() - start))
    median = statistics.median(times)
    p95 = sorted(times)[max(0, round(0.95 * len(times)) - 1)]
    print(f"{name:<44} median {median:7.1f} ms   p95 {p95:7.1f} ms   max {max(times):7.1f} ms")
    return p95


async def _run(url: str, session: Session, repeat: int) -> float:
    headers = {"X-Cofail-Token": session.token}
    async with httpx.AsyncClient(base_url=url, timeout=30) as c:

        async def analysis() -> None:
            rs = await asyncio.gather(
                c.get("/api/audit", params={"stack": PARAMS["stack"]}),
                c.get("/api/risk", params=PARAMS),
                c.get("/api/recommend", params={"budget": "6", "top": "5", "p": "0.1"}),
            )
            for r in rs:
                r.raise_for_status()

        async def click(i: int) -> None:
            layer, mode = CELLS[i % len(CELLS)]
            r = await c.post(
                "/api/edit", headers=headers, json={"op": "cycle", "layer": layer, "mode": mode}
            )
            r.raise_for_status()
            await analysis()

        async def get(path: str, params: dict[str, str]) -> Callable[[int], Awaitable[object]]:
            async def step(i: int) -> None:
                (await c.get(path, params=params)).raise_for_status()

            return step

        async def robustness(i: int) -> None:
            session.cache.clear()
            (
                await c.get("/api/robustness", params={"stack": PARAMS["stack"], "budget": "6"})
            ).raise_for_status()

        worst = await _measure("update after a click (edit + 3 analyses)", repeat, click)
        await _measure("slider move (audit + risk + recommend)", repeat, lambda i: analysis())
        await _measure(
            "  GET /api/audit", repeat, await get("/api/audit", {"stack": PARAMS["stack"]})
        )
        await _measure("  GET /api/risk", repeat, await get("/api/risk", PARAMS))
        await _measure(
            "  GET /api/recommend --budget 6", repeat, await get("/api/recommend", {"budget": "6"})
        )
        await _measure("GET /api/robustness (after it, uncached)", max(5, repeat // 5), robustness)
        return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    session = Session(catalog.load())
    server, thread, url = _serve(session)
    try:
        worst = asyncio.run(_run(url, session, args.repeat))
    finally:
        server.should_exit = True
        thread.join(10)
    verdict = "ok" if worst < TARGET_MS else "OVER"
    print(f"update p95 {worst:.1f} ms; target < {TARGET_MS:.0f} ms: {verdict}")


if __name__ == "__main__":
    main()

"""Run the app: uvicorn on 127.0.0.1 only, the browser opened once the server listens."""

from __future__ import annotations

import errno
import socket
import sys
import threading
import webbrowser
from pathlib import Path

from cofail.errors import InputError
from cofail.model import Matrix

__all__ = ["HOST", "serve"]

HOST = "127.0.0.1"
"""The only address the app listens on."""


def serve(
    matrix: Matrix,
    *,
    path: Path | None = None,
    port: int = 8765,
    open_browser: bool = True,
) -> str:
    """Serve the app on ``http://127.0.0.1:PORT/`` until Ctrl-C; return the address it used.

    Ctrl-C (or SIGTERM) ends open requests, stops the server and returns normally.

    ``port`` 0 picks a free port. A port in use raises ``InputError`` naming ``--port``.
    """
    import uvicorn

    from cofail.app._routes import create_app
    from cofail.app._session import Session

    session = Session(matrix, path=path)
    sock = _bind(port)
    url = f"http://{HOST}:{sock.getsockname()[1]}/"
    config = uvicorn.Config(
        create_app(session),
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    print(f"cofail app: {url}  (Ctrl-C to stop)", file=sys.stderr, flush=True)
    if open_browser:
        threading.Thread(target=_open_when_ready, args=(server, url), daemon=True).start()
    try:
        server.run(sockets=[sock])  # uvicorn turns SIGINT/SIGTERM into a clean shutdown...
    except KeyboardInterrupt:  # ...then raises the signal again; Ctrl-C is how the app stops
        pass
    finally:
        sock.close()
    print("cofail app: stopped", file=sys.stderr)
    return url


def _bind(port: int) -> socket.socket:
    """Return a listening socket on 127.0.0.1:``port``."""
    if not 0 <= port <= 65535:
        raise InputError(f"--port: expected 0 to 65535, got {port}")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise InputError(
                f"--port {port}: the port is in use; pass another, or --port 0 for any free one"
            ) from None
        raise InputError(f"--port {port}: cannot listen: {exc.strerror or exc}") from None
    # Accepted connections inherit it: without it, small answers wait ~40 ms for delayed ACKs.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _open_when_ready(server: object, url: str) -> None:
    import time

    for _ in range(200):  # up to 10 s
        if getattr(server, "started", False):
            webbrowser.open(url)
            return
        time.sleep(0.05)

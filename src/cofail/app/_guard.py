"""The app's outer guard, one ASGI layer checked in this order before any route runs:

1. a request body over ``max_body`` bytes is refused with 413, whatever else it is (by its
   ``Content-Length`` at once, or as soon as a chunked body passes the limit);
2. a peer that is not on the loopback interface gets 403 (the server binds 127.0.0.1 only;
   this is the second lock);
3. a ``Host`` that is not 127.0.0.1, localhost or [::1] gets 403, so a web page on another
   name that resolves to 127.0.0.1 (DNS rebinding) cannot read the API;
4. a state-changing request must be a POST carrying the session's token in ``X-Cofail-Token``
   (a cross-site form cannot set that header, and a page of another origin cannot read the
   token); other methods than GET, HEAD and POST get 405.

Every response gets headers that forbid framing, sniffing and any script not served here.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["MAX_BODY", "TOKEN_HEADER", "Guard"]

MAX_BODY = 10 * 1024 * 1024
"""Largest request body accepted (10 MiB), as large as any file cofail reads."""
TOKEN_HEADER = "x-cofail-token"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "[::1]", "::1"}
_SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; "
     b"object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
]  # fmt: skip


class Guard:
    """Wrap ``app`` with the checks above; ``token`` is the session's secret.

    >>> Guard(lambda s, r, t: None, token="t").max_body == MAX_BODY
    True
    """

    def __init__(self, app: ASGIApp, *, token: str, max_body: int = MAX_BODY) -> None:
        self.app = app
        self.token = token
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        length = headers.get("content-length", "")
        if length and (not length.isdigit() or int(length) > self.max_body):
            await _refuse(send, 413, f"request body over {self.max_body // 2**20} MiB")
            return
        body = await _read_body(receive, self.max_body)
        if body is None:
            await _refuse(send, 413, f"request body over {self.max_body // 2**20} MiB")
            return
        problem = self._problem(scope, headers)
        if problem is not None:
            await _refuse(send, *problem)
            return

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # only a disconnect can follow

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *_SECURITY_HEADERS]
            await send(message)

        await self.app(scope, replay, send_with_headers)

    def _problem(self, scope: Scope, headers: dict[str, str]) -> tuple[int, str] | None:
        """Return (status, reason) when the request is refused, else None."""
        client = scope.get("client")
        if not client or not _is_loopback(str(client[0])):
            return 403, "only this computer (127.0.0.1) may use the app"
        host = headers.get("host", "")
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if name.lower() not in _LOOPBACK_NAMES:
            return 403, "unexpected Host header: open the app at http://127.0.0.1"
        method = scope["method"]
        if method not in ("GET", "HEAD", "POST"):
            return 405, f"{method} is not allowed: changes are POST requests"
        if method == "POST":
            given = headers.get(TOKEN_HEADER, "")
            if not hmac.compare_digest(given.encode(), self.token.encode()):
                return 403, "missing or wrong session token: reload the page"
        return None


def _is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address.

    >>> _is_loopback("127.0.0.1"), _is_loopback("::1"), _is_loopback("10.0.0.2"), _is_loopback("x")
    (True, True, False, False)
    """
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """Return the whole request body, or None as soon as it passes ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _refuse(send: Send, status: int, reason: str) -> None:
    body = json.dumps({"error": reason}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                *_SECURITY_HEADERS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})

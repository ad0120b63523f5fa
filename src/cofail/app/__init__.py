"""The local web app: a matrix editor with live analysis, a thin skin over the library.

Its JSON API returns the objects the CLI prints with ``--format json``; the page only renders
them. Needs the ``app`` extra (Starlette and uvicorn): ``pip install 'cofail[app]'``.

>>> from cofail.app import Session
>>> from cofail import catalog
>>> Session(catalog.load()).revision
0
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cofail.app._routes import create_app
    from cofail.app._server import serve
    from cofail.app._session import Session

__all__ = ["Session", "create_app", "serve"]

_HOME = {
    "Session": "cofail.app._session",
    "create_app": "cofail.app._routes",
    "serve": "cofail.app._server",
}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(import_module(_HOME[name]), name)
    raise AttributeError(f"module 'cofail.app' has no attribute {name!r}")

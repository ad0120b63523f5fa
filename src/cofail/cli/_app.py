"""The app command: a local web app to edit a matrix and watch the analysis change."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cofail.cli._common import MatrixOpt, app, load_matrix
from cofail.errors import InputError

APP_EXTRA = "cofail app needs the web extra: pip install 'cofail[app]'"


@app.command("app")
def app_cmd(
    matrix: MatrixOpt = None,
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="Port on 127.0.0.1 (0: any free port).")
    ] = 8765,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Do not open a browser; print the address.")
    ] = False,
) -> None:
    """Edit a matrix in the browser and see audit, risk and best stacks change live (127.0.0.1)."""
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise InputError(APP_EXTRA) from None
    from cofail.app import serve
    from cofail.io.navigator import read_navigator

    m = read_navigator(matrix) if matrix is not None else None
    # Save writes back to a matrix file; a Navigator layer file is only read (Download instead)
    path = Path(matrix) if m is None and matrix is not None and Path(matrix).is_file() else None
    if m is None:
        m = load_matrix(matrix)
    serve(m, path=path, port=port, open_browser=not no_browser)


__all__ = ["APP_EXTRA", "app_cmd"]

"""Shared fixtures: the built-in catalog, the CLI runner, and ../shared data when present."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cofail import catalog
from cofail.cli import main
from cofail.model import Matrix

SHARED = Path(__file__).resolve().parents[2] / "shared"


@dataclass
class Run:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """Run the cofail CLI in-process and capture its exit code and output."""

    def run(*args: str) -> Run:
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


@pytest.fixture(scope="session")
def paper() -> Matrix:
    return catalog.load("dung-mai-2025")


def shared_path(*parts: str) -> Path:
    """Return a path under ../shared, skipping the test with a reason when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not found: the ../shared folder beside the repository is absent")
    return path


@pytest.fixture
def numpy_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the exact engines without the compiled kernels (their NumPy fallbacks)."""
    from cofail.probability import _exact

    monkeypatch.setattr(_exact, "_kernels", None)

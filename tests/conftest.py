"""Shared fixtures: the built-in catalog, the CLI runner, and ../shared data when present."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from cofail import catalog
from cofail.cli import main
from cofail.model import Matrix

SHARED = Path(__file__).resolve().parents[2] / "shared"

# CI must never fail on a random draw. The default profile is derandomised (each test's examples
# come from a seed derived from its name, the same on every machine) and keeps no example
# database, so a failure found elsewhere is not replayed here either. The "long" profile is for
# exploring outside CI (`make property-long`): random seeds, and COFAIL_EXAMPLES_SCALE times the
# examples each test asks for (see tests/strategies.py: examples()).
settings.register_profile("ci", derandomize=True, database=None, print_blob=True, deadline=None)
settings.register_profile(
    "long",
    derandomize=False,
    database=None,
    print_blob=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@dataclass
class Run:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def one_line_error(r: Run, *needles: str) -> None:
    """Assert the promise for a user mistake: exit 2, one line ``cofail: error: ...`` of
    readable length (a value from the file is quoted cut short), containing each needle."""
    assert r.code == 2, (r.code, r.out[-300:], r.err)
    lines = r.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cofail: error: "), r.err
    assert len(lines[0]) < 600, "a value from the file is quoted whole"
    for needle in needles:
        assert needle in r.err, (needle, r.err)


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

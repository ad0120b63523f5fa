"""The log spec is the library's: both front ends build it, neither imports the other."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from cofail.empirical import LogSpec, read
from cofail.errors import InputError

SRC = Path(__file__).resolve().parents[1] / "src" / "cofail"


def _imports(package: str) -> set[tuple[str, str]]:
    """(module file, imported module) for every import in ``package``, function-local too."""
    found = set()
    for path in (SRC / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                found.add((path.name, node.module))
            elif isinstance(node, ast.Import):
                found.update((path.name, alias.name) for alias in node.names)
    return found


def test_the_app_imports_nothing_of_the_cli() -> None:
    assert sorted(m for _, m in _imports("app") if m.startswith("cofail.cli")) == []


def test_the_cli_imports_only_the_apps_entry_point() -> None:
    """``cofail app`` starts the server through ``cofail.app``'s public names only."""
    assert sorted(m for _, m in _imports("cli") if m.startswith("cofail.app.")) == []


@pytest.mark.parametrize("package", ["empirical", "report", "probability", "fit", "raters"])
def test_the_library_imports_no_front_end(package: str) -> None:
    assert (
        sorted(m for _, m in _imports(package) if m.startswith(("cofail.cli", "cofail.app"))) == []
    )


def test_cli_options_and_library_spec_agree(tmp_path: Path) -> None:
    """The same log read through the command line's options and through a spec built by hand."""
    from cofail.cli._log_options import LogOptions

    log = tmp_path / "log.csv"
    log.write_text("item,guard,ok\n1,a,1\n1,b,0\n2,a,0\n2,b,0\n3,a,1\n3,b,1\n")
    by_hand = LogSpec(case="item", layer="guard", failed="ok", polarity="passed")
    cli = LogOptions(case_col="item", layer_col="guard", failed_col="ok").spec()
    assert cli.polarity == "failed"  # the option's default, not the hand-built one
    from cofail.cli._log_options import Polarity

    cli = LogOptions(
        case_col="item", layer_col="guard", failed_col="ok", polarity=Polarity.passed
    ).spec()
    assert cli == by_hand
    h = read(cli, [log])
    # ok=1 means passed: a fails on case 2 only, b on cases 1 and 2.
    assert h.layers == ("a", "b") and h.failures().tolist() == [1.0, 2.0]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"threshold": float("inf")}, "threshold: expected a finite number, got inf"),
        ({"score_polarity": "up"}, "score_polarity: expected pass or fail, got 'up'"),
        ({"tool": "nessus"}, "tool: expected auto, inspect, jailbreakbench"),
        ({"scorer_threshold": {"m": float("nan")}}, "scorer_threshold: m=nan"),
        ({"case": " "}, "case: expected a name"),
        ({"colour": "red"}, "colour: unknown field"),
    ],
)
def test_a_bad_spec_names_its_field(fields: dict[str, object], message: str) -> None:
    with pytest.raises(InputError) as err:
        LogSpec.build(**fields)
    assert str(err.value).startswith(message)


def test_cli_errors_name_the_option() -> None:
    from cofail.cli._log_options import LogOptions

    with pytest.raises(InputError, match=r"^--score-polarity: expected pass or fail, got 'x'"):
        LogOptions(score_polarity="x").spec()
    with pytest.raises(InputError, match=r"^--scorer-polarity: expected pass or fail"):
        LogOptions(scorer_polarity=["m=maybe"]).spec()

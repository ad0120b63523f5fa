"""Generated files for the readers that have no fuzz test of their own: Open-PSA MEF models and
evaluation logs. Each is read (and solved) or refused in one line; never a traceback.

CI runs the deterministic ``ci`` profile; ``make fuzz-long`` runs many more random examples.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Run
from strategies import examples

Cli = Callable[..., Run]

_NUMBERS = st.one_of(
    st.sampled_from(["0", "1", "0.5", "-0.1", "1.5", "nan", "inf", "-inf", "1e308", "1e-320"]),
    st.sampled_from(["", " ", "abc", "0x10", "9" * 400, "1_000", "1e", "+.5", "٣"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
)
_GATE_TAGS = st.sampled_from(
    ["and", "or", "atleast", "not", "xor", "nand", "nor", "iff", "null", "imply", "cardinality"]
)
_EVENTS = ["a", "b", "c", "g1", "g2", "h", "missing"]
_EXPRESSIONS = st.one_of(
    _NUMBERS.map(lambda v: f'<float value="{v}"/>'),
    _NUMBERS.map(lambda v: f'<int value="{v}"/>'),
    st.tuples(_NUMBERS, _NUMBERS).map(
        lambda ab: (
            f'<{"uniform" if ab[0] < ab[1] else "beta"}-deviate><float value="{ab[0]}"/>'
            f'<float value="{ab[1]}"/></{"uniform" if ab[0] < ab[1] else "beta"}-deviate>'
        )
    ),
    st.tuples(_NUMBERS, _NUMBERS).map(
        lambda ab: f'<exponential><float value="{ab[0]}"/><float value="{ab[1]}"/></exponential>'
    ),
    st.sampled_from(['<parameter name="p"/>', "<system-mission-time/>", "<pi/>", "<mul/>"]),
)


def _formula() -> st.SearchStrategy[str]:
    leaf = st.one_of(
        st.sampled_from(_EVENTS).map(lambda n: f'<event name="{n}"/>'),
        st.sampled_from(_EVENTS).map(lambda n: f'<basic-event name="{n}"/>'),
        st.sampled_from(["g1", "g2", "top"]).map(lambda n: f'<gate name="{n}"/>'),
        st.sampled_from(["true", "false", "maybe", ""]).map(lambda v: f'<constant value="{v}"/>'),
    )
    return st.recursive(
        leaf,
        lambda inner: st.builds(
            lambda tag, k, args: f'<{tag} min="{k}">{"".join(args)}</{tag}>',
            _GATE_TAGS,
            _NUMBERS,
            st.lists(inner, max_size=4),
        ),
        max_leaves=12,
    )


_MODELS = st.builds(
    lambda gates, events, house, parameter: (
        '<?xml version="1.0"?><opsa-mef><define-fault-tree name="t">'
        + "".join(f'<define-gate name="{n}">{f}</define-gate>' for n, f in gates)
        + "</define-fault-tree><model-data>"
        + "".join(f'<define-basic-event name="{n}">{e}</define-basic-event>' for n, e in events)
        + f'<define-house-event name="h"><constant value="{house}"/></define-house-event>'
        + f'<define-parameter name="p">{parameter}</define-parameter>'
        + "</model-data></opsa-mef>"
    ),
    st.lists(st.tuples(st.sampled_from(["top", "g1", "g2"]), _formula()), min_size=1, max_size=3),
    st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), _EXPRESSIONS), max_size=4),
    st.sampled_from(["true", "false", "yes"]),
    _EXPRESSIONS,
)


def _refused_in_one_line_or_read(r: Run) -> None:
    assert r.code in (0, 2), (r.code, r.err[-2000:])
    if r.code == 2:
        lines = r.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("cofail: error: "), r.err


@settings(max_examples=examples(80), suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(model=_MODELS, extra=st.sampled_from([[], ["--cut-sets", "3"], ["--monte-carlo", "640"]]))
def test_any_generated_mef_model_is_solved_or_refused_in_one_line(
    cli: Cli, tmp_path: Path, model: str, extra: list[str]
) -> None:
    path = tmp_path / "fuzz.xml"
    path.write_text(model)
    _refused_in_one_line_or_read(cli("mef", str(path), "-f", "json", *extra))


_CELLS = st.one_of(
    st.sampled_from(["0", "1", "true", "false", "yes", "", "nan", "inf", "-1", "2", "0.5", "1e9"]),
    st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=8),
)
_LOGS = st.one_of(
    st.builds(
        lambda rows, weight: (
            "case,layer,failed"
            + (",w" if weight else "")
            + "\n"
            + "".join(
                f"{c},{layer},{f}" + (f",{w}" if weight else "") + "\n" for c, layer, f, w in rows
            )
        ),
        st.lists(
            st.tuples(
                st.sampled_from(["1", "2", "3", ""]),
                st.sampled_from(["A", "B", "=x"]),
                _CELLS,
                _CELLS,
            ),
            max_size=12,
        ),
        st.booleans(),
    ),
    st.text(max_size=200),
)


@settings(max_examples=examples(80), suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(log=_LOGS, weighted=st.booleans(), fmt=st.sampled_from(["json", "csv"]))
def test_any_generated_log_is_analysed_or_refused_in_one_line(
    cli: Cli, tmp_path: Path, log: str, weighted: bool, fmt: str
) -> None:
    path = tmp_path / "fuzz.csv"
    path.write_text(log, encoding="utf-8", errors="surrogatepass")
    args = ["empirical", str(path), "-f", fmt, "--n-boot", "100"]
    if weighted and log.startswith("case,layer,failed,w"):
        args += ["--weight-col", "w"]
    _refused_in_one_line_or_read(cli(*args))

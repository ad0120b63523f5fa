"""check_gsn2x against gsn2x's documented rules, one hand-made file per rule.

The rules are gsn2x's (jonasthewolf/gsn2x@9e577366d2c0bd017ef73e131b399097ff49ccad,
doc/src/checks.md; src/gsn/validation.rs and src/gsn/check.rs for their exact reading). Each
file below breaks one rule, and the test asserts that rule's id among the findings.
"""

from __future__ import annotations

import textwrap

import pytest

from cofail.case import check_gsn2x, check_gsn2x_modules, kind_of


def rules(text: str, **options: bool) -> dict[str, str]:
    """Return rule id -> severity of what the checks find in ``text``."""
    return {f.rule: f.severity for f in check_gsn2x(textwrap.dedent(text), **options)}


VALID = """
    module: {name: m, brief: a valid argument}
    G1: {text: top, supportedBy: [S1], inContextOf: [C1, A1, J1]}
    C1: {text: context}
    A1: {text: assumption, defeated: true}
    J1: {text: justification}
    S1: {text: strategy, supportedBy: [G2, G3, G4]}
    G2: {text: developed, supportedBy: [Sn1], acp: {ACP1: [Sn1]}}
    G3: {text: a gap, undeveloped: true, inContextOf: [Claim1]}
    Sn1: {text: evidence}
    CG1: {text: defeater, supportedBy: [CSn1], challenges: A1, defeatedRelation: A1}
    CSn1: {text: counter-evidence}
    CSn2: {text: a relation challenged, challenges: G2 -> Sn1}
    Claim1: {text: an id like Claim1 is a Context, nodeType: Context}
    G4: {text: typed, nodeType: Goal, undeveloped: true}
"""


def test_a_valid_file_has_no_finding() -> None:
    assert check_gsn2x(textwrap.dedent(VALID)) == []


def test_prefixes_are_read_in_gsn2x_order() -> None:
    assert [kind_of(i) for i in ("CG1", "G1", "CSn1", "Sn1", "S1", "C1", "Claim1", "A1", "J1")] == [
        "CounterGoal", "Goal", "CounterSolution", "Solution", "Strategy", "Context", "Context",
        "Assumption", "Justification",
    ]  # fmt: skip
    assert kind_of("X1") is None


CASES = {
    # V01 an id with no known prefix and no nodeType
    "V01": ("G1: {text: t, supportedBy: [X1]}\nX1: {text: x}", {}),
    # V02 a goal neither developed nor marked undeveloped (a warning)
    "V02": ("G1: {text: t}", {}),
    # V03 undeveloped, yet supported
    "V03": ("G1: {text: t, undeveloped: true, supportedBy: [Sn1]}\nSn1: {text: e}", {}),
    # V04 a justification listed under supportedBy
    "V04": ("G1: {text: t, supportedBy: [J1]}\nJ1: {text: j}", {}),
    # V05 a duplicate reference (a warning)
    "V05": ("G1: {text: t, supportedBy: [Sn1, Sn1]}\nSn1: {text: e}", {}),
    # V06 an element that references itself
    "V06": ("G1: {text: t, supportedBy: [Sn1], inContextOf: [G1]}\nSn1: {text: e}", {}),
    # V07 an element developing another module's goal must be this module's S, G or Sn
    "V07": (
        "module: {name: m, extends: [{module: other, develops: {G9: [C1]}}]}\n"
        "G1: {text: t, supportedBy: [Sn1], inContextOf: [C1]}\nSn1: {text: e}\nC1: {text: c}",
        {},
    ),
    # V08 nodeType contradicts the id's prefix (only with --extended-check)
    "V08": (
        "G1: {text: t, supportedBy: [Sn1], inContextOf: [Sn2]}\nSn1: {text: e}\n"
        "Sn2: {text: c, nodeType: Context}",
        {"extended_check": True},
    ),
    # V09 an assurance claim point on an element that is not connected
    "V09": (
        "G1: {text: t, supportedBy: [Sn1], acp: {ACP1: [C1]}}\nSn1: {text: e, inContextOf: []}\n"
        "G2: {text: u, undeveloped: true, inContextOf: [C1]}\nC1: {text: c}",
        {},
    ),
    # V10 defeated, but nothing challenges it
    "V10": ("G1: {text: t, supportedBy: [Sn1]}\nSn1: {text: e, defeated: true}", {}),
    # V11 the dialectic extension is used (only with --warn-dialectic)
    "V11": (
        "G1: {text: t, supportedBy: [Sn1]}\nSn1: {text: e}\nCG1: {text: d, challenges: G1, "
        "undeveloped: true}",
        {"warn_dialectic": True},
    ),
    # V12 a solution challenges a goal
    "V12": (
        "G1: {text: t, supportedBy: [Sn1]}\nSn1: {text: e}\nSn2: {text: x, challenges: G1}",
        {},
    ),
    # V13 a defeated relation to an element it has no relation to
    "V13": (
        "G1: {text: t, supportedBy: [Sn1], defeatedRelation: Sn2}\nSn1: {text: e}\n"
        "G2: {text: u, undeveloped: true}\nSn2: {text: f}",
        {},
    ),
    # C01 no unreferenced element at all (every element is in a cycle)
    "C01": ("G1: {text: t, supportedBy: [G2]}\nG2: {text: u, supportedBy: [G1]}", {}),
    # C02 the one top-level element is not a goal
    "C02": ("S1: {text: s, supportedBy: [Sn1]}\nSn1: {text: e}", {}),
    # C03 a reference to an element that does not exist
    "C03": ("G1: {text: t, supportedBy: [Sn9]}", {}),
    # C04 a supportedBy cycle
    "C04": (
        "G1: {text: t, supportedBy: [G2]}\nG2: {text: u, supportedBy: [G3]}\n"
        "G3: {text: v, supportedBy: [G2]}",
        {},
    ),
    # C08 elements no root reaches (a cycle of their own)
    "C08": (
        "G1: {text: t, supportedBy: [Sn1]}\nSn1: {text: e}\n"
        "G2: {text: u, supportedBy: [G3]}\nG3: {text: v, supportedBy: [G2]}",
        {},
    ),
    # C11 a comma-separated string where a list was meant
    "C11": ("G1: {text: t, supportedBy: 'Sn1, Sn2'}\nSn1: {text: e}\nSn2: {text: f}", {}),
    # C12 a challenged relation whose end does not exist
    "C12": (
        "G1: {text: t, supportedBy: [Sn1]}\nSn1: {text: e}\nCSn1: {text: x, challenges: G1 -> Sn9}",
        {},
    ),
    # C13 an element that challenges itself
    "C13": (
        "G1: {text: t, supportedBy: [Sn1]}\nSn1: {text: e}\nCSn1: {text: x, challenges: CSn1}",
        {},
    ),
    # C14 an element that challenges a missing element
    "C14": (
        "G1: {text: t, supportedBy: [Sn1]}\nSn1: {text: e}\nCSn1: {text: x, challenges: G9}",
        {},
    ),
    # C15 a challenged relation from an element to itself
    "C15": (
        "G1: {text: t, supportedBy: [Sn1]}\nSn1: {text: e}\nCSn1: {text: x, challenges: G1 -> G1}",
        {},
    ),
    # C16 a challenged relation between two elements that have none
    "C16": (
        "G1: {text: t, supportedBy: [Sn1, Sn2]}\nSn1: {text: e}\nSn2: {text: f}\n"
        "CSn1: {text: x, challenges: Sn1 -> Sn2}",
        {},
    ),
}
WARNINGS = {"V02", "V05", "V08", "V11", "C11"}
"""The rules gsn2x reports as warnings; the others are errors."""


@pytest.mark.parametrize("rule", sorted(CASES))
def test_each_rule_is_found(rule: str) -> None:
    text, options = CASES[rule]
    found = rules(text, **options)
    assert rule in found, found
    assert found[rule] == ("warning" if rule in WARNINGS else "error")


def test_the_optional_rules_need_their_option() -> None:
    assert "V08" not in rules(CASES["V08"][0])
    assert "V11" not in rules(CASES["V11"][0])


def test_two_roots_are_a_warning() -> None:
    assert rules("G1: {text: t, undeveloped: true}\nG2: {text: u, undeveloped: true}") == {
        "C01": "warning"
    }


def test_a_repeated_id_is_refused_as_gsn2x_s_yaml_reader_does() -> None:
    assert rules("G1: {text: t, undeveloped: true}\nG1: {text: u, undeveloped: true}") == {
        "YAML": "error"
    }


def test_messages_start_with_the_rule_as_gsn2x_prints_them() -> None:
    (finding,) = check_gsn2x("G1: {text: t, supportedBy: [J1]}\nJ1: {text: j}")
    assert str(finding) == (
        "Error: (V04): V04: Element G1 has invalid type of reference J1 in supported by element."
    )


# -- across modules ----------------------------------------------------------------------------

TOP = "module: {name: top}\nG1: {text: t, supportedBy: [G2, G3]}\nG2: {text: u, undeveloped: true}\nG3: {text: v, undeveloped: true}"
SUB = (
    "module: {name: sub, extends: [{module: top, develops: {G2: [S1]}}]}\n"
    "S1: {text: s, supportedBy: [Sn1]}\nSn1: {text: e}"
)


def module_rules(files: dict[str, str]) -> dict[str, str]:
    return {f.rule: f.severity for f in check_gsn2x_modules(files)}


def test_modules_that_extend_one_another_pass() -> None:
    assert check_gsn2x_modules({"top.gsn.yaml": TOP, "sub.gsn.yaml": SUB}) == []


def test_c06_module_names_are_unique() -> None:
    assert module_rules({"a.gsn.yaml": TOP, "b.gsn.yaml": TOP}) == {"C06": "error"}


def test_c07_ids_are_unique_across_modules() -> None:
    other = "module: {name: other}\nG3: {text: again, undeveloped: true}"
    assert "C07" in module_rules({"top.gsn.yaml": TOP, "other.gsn.yaml": other})


def test_c09_an_extended_module_must_exist() -> None:
    assert module_rules({"sub.gsn.yaml": SUB}) == {"C09": "error", "C10": "error"}


def test_c10_an_extended_element_must_be_undeveloped() -> None:
    developed = TOP.replace(
        "G2: {text: u, undeveloped: true}", "G2: {text: u, supportedBy: [Sn9]}\nSn9: {text: f}"
    )
    found = module_rules({"top.gsn.yaml": developed, "sub.gsn.yaml": SUB})
    assert found == {"C10": "error"}

"""The paper's claims (Dung & Mai 2025), each checked against a matrix rather than restated.

Every check computes its evidence from the matrix with the structural and probability
functions, so a changed cell, another U policy or a user's own matrix can change the verdict.
A claim about layers a matrix does not have is reported as not applicable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any, Literal

import numpy as np

from cofail.model import Matrix, Stack, UncertainPolicy
from cofail.probability import stack_failure
from cofail.structure import audit, overlap

__all__ = ["CLAIMS", "MATRIX_FREE", "ClaimResult", "check_claims", "paper_claims"]

Verdict = Literal["supported", "contradicted", "not applicable"]

PIPELINE = ("RLHF", "RLAIF", "W2S")
HIGH_TAX = ("SCI-AI", "IDA")
PAIR = ("DEBATE", "RE")


@dataclass(frozen=True, slots=True)
class ClaimResult:
    """One claim of the paper with the evidence computed from a matrix."""

    id: int
    statement: str
    verdict: Verdict
    evidence: str
    """One or two sentences with the computed numbers."""
    data: dict[str, Any] = field(default_factory=dict)
    """The computed quantities behind the verdict."""

    @property
    def holds(self) -> bool:
        """True when the matrix supports the claim."""
        return self.verdict == "supported"

    def to_dict(self) -> dict[str, Any]:
        """Return plain data for JSON."""
        return {
            "id": self.id,
            "statement": self.statement,
            "verdict": self.verdict,
            "holds": self.holds,
            "evidence": self.evidence,
            "data": self.data,
        }


def _verdict(holds: bool) -> Verdict:
    return "supported" if holds else "contradicted"


def _vuln_sets(matrix: Matrix, uncertain: UncertainPolicy) -> dict[str, set[str]]:
    rows = matrix.vulnerable(uncertain)
    return {
        lid: {m for m, v in zip(matrix.mode_ids, rows[i], strict=True) if v}
        for i, lid in enumerate(matrix.layer_ids)
    }


def _missing(matrix: Matrix, ids: tuple[str, ...]) -> list[str]:
    return [x for x in ids if x not in matrix.layer_ids and x not in matrix.mode_ids]


def _na(cid: int, statement: str, missing: list[str]) -> ClaimResult:
    return ClaimResult(
        cid, statement, "not applicable", f"the matrix has no {', '.join(missing)}", {}
    )


def _claim1(matrix: Matrix, uncertain: UncertainPolicy) -> ClaimResult:
    statement = (
        "RLHF, RLAIF and W2S share almost all failure modes: all three are vulnerable to "
        "CAP-DEV, DEC-AL, EM-MIS and AL-GEN, and RLAIF and W2S have identical profiles."
    )
    named = ("CAP-DEV", "DEC-AL", "EM-MIS", "AL-GEN")
    missing = _missing(matrix, PIPELINE + named)
    if missing:
        return _na(1, statement, missing)
    sets = _vuln_sets(matrix, uncertain)
    shared = set.intersection(*(sets[x] for x in PIPELINE))
    union = set.union(*(sets[x] for x in PIPELINE))
    identical = sets["RLAIF"] == sets["W2S"]
    holds = set(named) <= shared and identical and len(shared) >= len(union) - 1
    ordered = [m for m in matrix.mode_ids if m in shared]
    return ClaimResult(
        1,
        statement,
        _verdict(holds),
        f"The three share {len(shared)} of the {len(union)} modes any of them is vulnerable to "
        f"({', '.join(ordered)}); RLAIF and W2S profiles are "
        f"{'identical' if identical else 'different'}.",
        {"shared": ordered, "n_union": len(union), "rlaif_w2s_identical": identical},
    )


def _claim2(matrix: Matrix, uncertain: UncertainPolicy) -> ClaimResult:
    statement = (
        "Scientist AI and IDA are high-safety-tax techniques whose failure profiles differ from "
        "the pipeline techniques; their one common weakness is S-TAX."
    )
    missing = _missing(matrix, HIGH_TAX + PIPELINE + ("S-TAX",))
    if missing:
        return _na(2, statement, missing)
    sets = _vuln_sets(matrix, uncertain)
    taxes = {x: matrix.layer(x).safety_tax for x in HIGH_TAX}
    ov = overlap(matrix, uncertain=uncertain)
    # "Differ" made checkable: no pipeline technique shares half or more of the modes either is
    # vulnerable to (Jaccard < 0.5); the claim's wording gives no number.
    closest = max(
        (p.jaccard or 0.0)
        for p in ov.pairs
        if {p.a, p.b} & set(HIGH_TAX) and {p.a, p.b} & set(PIPELINE)
    )
    common = sets["SCI-AI"] & sets["IDA"]
    holds = all(t == "high" for t in taxes.values()) and closest < 0.5 and common == {"S-TAX"}
    return ClaimResult(
        2,
        statement,
        _verdict(holds),
        f"Safety tax: SCI-AI {taxes['SCI-AI']}, IDA {taxes['IDA']}; their largest Jaccard "
        f"overlap with any pipeline technique is {closest:.2f}; they share "
        f"{', '.join(sorted(common)) or 'nothing'}.",
        {"tax": taxes, "max_jaccard_with_pipeline": closest, "common": sorted(common)},
    )


def _claim3(matrix: Matrix, uncertain: UncertainPolicy) -> ClaimResult:
    statement = (
        "AI Debate and RE are complementary: Debate is the only affordable technique not "
        "vulnerable to DEC-AL; RE is not vulnerable to COLL, CAP-DEV, EM-MIS, EVAL-DIFF; "
        "together they leave only AL-GEN uncovered."
    )
    named = ("DEC-AL", "COLL", "CAP-DEV", "EM-MIS", "EVAL-DIFF", "AL-GEN")
    missing = _missing(matrix, PAIR + named)
    if missing:
        return _na(3, statement, missing)
    sets = _vuln_sets(matrix, uncertain)
    # Affordable: a low or moderate safety tax. "The only" and "only AL-GEN" are read strictly:
    # a second such technique, or a pair that covers AL-GEN too, makes the claim false.
    affordable = [layer.id for layer in matrix.layers if layer.safety_tax != "high"]
    not_dec = [x for x in affordable if "DEC-AL" not in sets[x]]
    re_covers = [m for m in ("COLL", "CAP-DEV", "EM-MIS", "EVAL-DIFF") if m not in sets["RE"]]
    uncovered = audit(matrix, Stack(layers=PAIR), uncertain=uncertain).uncovered
    holds = not_dec == ["DEBATE"] and len(re_covers) == 4 and uncovered == ("AL-GEN",)
    return ClaimResult(
        3,
        statement,
        _verdict(holds),
        f"Affordable techniques not vulnerable to DEC-AL: {', '.join(not_dec) or 'none'}; RE "
        f"covers {len(re_covers)} of COLL, CAP-DEV, EM-MIS, EVAL-DIFF; DEBATE+RE leaves "
        f"{', '.join(uncovered) or 'nothing'} uncovered.",
        {"affordable_not_dec_al": not_dec, "re_covers": re_covers, "uncovered": list(uncovered)},
    )


def _claim4(matrix: Matrix, uncertain: UncertainPolicy) -> ClaimResult:
    statement = (
        "AL-GEN is the most shared failure mode: every technique but Scientist AI is vulnerable."
    )
    missing = _missing(matrix, ("AL-GEN", "SCI-AI"))
    if missing:
        return _na(4, statement, missing)
    counts = matrix.vulnerable(uncertain).sum(axis=0)
    by_mode = dict(zip(matrix.mode_ids, (int(c) for c in counts), strict=True))
    top = max(by_mode.values())
    leaders = [m for m, c in by_mode.items() if c == top]
    spared = [lid for lid, s in _vuln_sets(matrix, uncertain).items() if "AL-GEN" not in s]
    holds = leaders == ["AL-GEN"] and spared == ["SCI-AI"]
    return ClaimResult(
        4,
        statement,
        _verdict(holds),
        f"AL-GEN affects {by_mode['AL-GEN']} of {len(matrix.layers)} layers (most shared: "
        f"{', '.join(leaders)} with {top}); not vulnerable: {', '.join(spared) or 'none'}.",
        {"vulnerable_layers_per_mode": by_mode, "most_shared": leaders, "spared": spared},
    )


def _claim5(matrix: Matrix, uncertain: UncertainPolicy) -> ClaimResult:
    statement = (
        "Defense in depth: 10 independent layers each failing with probability 0.1 fail together "
        "with probability 1e-10; if they share their failure condition the joint probability "
        "stays 0.1."
    )
    n, p = 10, 0.1
    independent = stack_failure(np.eye(n), np.full(n, p), np.zeros(n))
    shared = stack_failure(np.ones((n, 1)), np.array([p]), np.zeros(n))
    holds = bool(np.isclose(independent, p**n, rtol=1e-9) and np.isclose(shared, p, rtol=1e-12))
    return ClaimResult(
        5,
        statement,
        _verdict(holds),
        f"Exact stack failure of 10 layers at 0.1: {independent:.3e} with one private mode each, "
        f"{shared:.3g} with one shared mode, {shared / independent:.2g}× more.",
        {"independent": independent, "shared": shared, "ratio": shared / independent},
    )


def _claim6(matrix: Matrix, uncertain: UncertainPolicy) -> ClaimResult:
    statement = (
        "Three groups emerge: low-tax pipeline techniques {RLHF, RLAIF, W2S}; high-tax techniques "
        "with unique profiles {SCI-AI, IDA}; the complementary pair {DEBATE, RE}."
    )
    missing = _missing(matrix, PIPELINE + HIGH_TAX + PAIR)
    if missing:
        return _na(6, statement, missing)
    sets = _vuln_sets(matrix, uncertain)
    low = [layer.id for layer in matrix.layers if layer.safety_tax == "low"]
    # Tight cluster of low-tax layers: complete linkage, every pair within Jaccard distance 0.25.
    low_groups = overlap(
        matrix, Stack(layers=tuple(low)), uncertain=uncertain, method="complete", cut=0.25
    ).groups
    correlated = max(low_groups, key=len)
    high = [layer.id for layer in matrix.layers if layer.safety_tax == "high"]
    ov = overlap(matrix, uncertain=uncertain)
    jac = {frozenset((p.a, p.b)): p.jaccard or 0.0 for p in ov.pairs}
    unique = [h for h in high if all(jac[frozenset((h, c))] < 0.5 for c in correlated)]
    affordable = [layer.id for layer in matrix.layers if layer.safety_tax != "high"]
    best_pair = min(
        combinations(affordable, 2),
        key=lambda ab: (len(sets[ab[0]] & sets[ab[1]]), jac[frozenset(ab)]),
    )
    holds = (
        set(correlated) == set(PIPELINE)
        and set(unique) == set(HIGH_TAX)
        and set(best_pair) == set(PAIR)
    )
    return ClaimResult(
        6,
        statement,
        _verdict(holds),
        f"Tight low-tax cluster: {{{', '.join(correlated)}}}; high-tax layers unlike it: "
        f"{{{', '.join(unique)}}}; affordable pair leaving fewest modes uncovered: "
        f"{{{', '.join(best_pair)}}}.",
        {
            "correlated_low_tax": list(correlated),
            "unique_high_tax": unique,
            "complementary_pair": list(best_pair),
        },
    )


CLAIMS: tuple[Callable[[Matrix, UncertainPolicy], ClaimResult], ...] = (
    _claim1,
    _claim2,
    _claim3,
    _claim4,
    _claim5,
    _claim6,
)
"""One check per claim in ``shared/reference/dung-mai-2025-table1.md``, in its order."""


MATRIX_FREE = frozenset({5})
"""Claims checked without the matrix (claim 5 is arithmetic on 10 made-up layers): they hold
for any matrix, so they say nothing about a user's own and do not make the claims apply."""


def paper_claims(matrix: Matrix, uncertain: UncertainPolicy = "pessimistic") -> list[ClaimResult]:
    """Return the paper's claims checked against ``matrix``, or ``[]`` when none is about it.

    The claims name the paper's layers and modes (RLHF, DEBATE, AL-GEN, ...). On a matrix that
    keeps some of them (the catalog, or an edited copy) they are all returned, the ones it
    cannot check marked not applicable; on a user's own matrix, where no claim that reads the
    matrix applies, there is nothing to report about the paper.

    >>> from cofail import catalog
    >>> from cofail.model import FailureMode, Layer
    >>> len(paper_claims(catalog.load()))
    6
    >>> own = Matrix(failure_modes=[FailureMode(id="JAILBREAK")], layers=[Layer(id="FILTER")],
    ...              cells={"FILTER": {"JAILBREAK": "V"}})
    >>> paper_claims(own)
    []
    """
    results = check_claims(matrix, uncertain)
    if all(c.verdict == "not applicable" for c in results if c.id not in MATRIX_FREE):
        return []
    return results


def check_claims(matrix: Matrix, uncertain: UncertainPolicy = "pessimistic") -> list[ClaimResult]:
    """Return the verdict and computed evidence for each of the paper's claims.

    >>> from cofail import catalog
    >>> [c.verdict for c in check_claims(catalog.load())]
    ['supported', 'supported', 'supported', 'supported', 'supported', 'supported']
    """
    return [claim(matrix, uncertain) for claim in CLAIMS]

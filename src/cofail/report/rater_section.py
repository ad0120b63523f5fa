"""The report's "Where the raters disagree" section: agreement per cell, alpha with intervals,
each rater's profile, and the conclusions the raters' disagreement can flip."""

from __future__ import annotations

import math

from cofail.errors import InputError
from cofail.model import Matrix
from cofail.raters import (
    Panel,
    agreement,
    cell_agreement,
    disagreement_robustness,
    panel_from_votes,
    rater_profiles,
    split_cells,
)
from cofail.report import rater_figures
from cofail.report.rater_views import agreement_tables
from cofail.report.section import Figure, Section
from cofail.report.tabular import Table

__all__ = ["TITLE", "raters_section", "with_votes"]

TITLE = "Where the raters disagree"
_FLIP_SECONDS = 60.0
_FLIP_SAMPLES = 512
"""Resolutions drawn past 12 split cells: the probabilities are shares of 512 draws (standard
error at most 0.022)."""
"""Longest robustness run over the split cells that a report waits for."""


def with_votes(matrix: Matrix, panel: Panel) -> Matrix:
    """Return ``matrix`` with each cell's ``votes`` those of ``panel`` (same layers and modes,
    else ``InputError``), so that its split cells are the panel's.

    >>> from cofail.raters import loads_rater_file, panel_of
    >>> panel = panel_of([loads_rater_file("layer,A\\nL,V\\n", "csv", "a.csv"),
    ...                   loads_rater_file("layer,A\\nL,N\\n", "csv", "b.csv")])
    >>> with_votes(panel.frame, panel).cell("L", "A").votes
    {'a': 'V', 'b': 'N'}
    """
    frame = panel.frame
    if set(frame.layer_ids) != set(matrix.layer_ids) or set(frame.mode_ids) != set(matrix.mode_ids):
        raise InputError(
            f"--raters: the rater files' layers and failure modes ({panel.raters[0].source}) "
            f"are not those of matrix {matrix.id!r}"
        )
    cells = {
        lid: {
            mid: matrix.cell(lid, mid).model_copy(
                update={"votes": {r: v.level for r, v in panel.votes(lid, mid).items()} or None}
            )
            for mid in matrix.mode_ids
        }
        for lid in matrix.layer_ids
    }
    return matrix.model_copy(update={"cells": cells})


def raters_section(
    matrix: Matrix, panel: Panel | None = None, *, replicates: int = 1000, seed: int = 0
) -> Section:
    """Return the section on the raters of ``matrix``: from ``panel``, else from the votes its
    cells keep (``InputError`` with fewer than two raters).

    Examples
    --------
    >>> from cofail.raters import loads_rater_file, merge, panel_of
    >>> panel = panel_of([loads_rater_file("layer,A,B\\nL,V,N\\nM,N,N\\n", "csv", "a.csv"),
    ...                   loads_rater_file("layer,A,B\\nL,V,N\\nM,V,N\\n", "csv", "b.csv")])
    >>> s = raters_section(merge(panel).matrix, replicates=50)
    >>> s.title, [t.title for t in s.tables][2]
    ('Where the raters disagree', "Conclusions the raters' disagreement can flip")
    """
    if panel is None:
        panel = panel_from_votes(matrix)
    else:
        matrix = with_votes(matrix, panel)
    result = agreement(panel, replicates=replicates, seed=seed)
    tables = agreement_tables(result)
    profiles = rater_profiles(panel)
    with_rest = [r.with_rest["nominal"] for r in result.by_rater]
    split = split_cells(matrix)
    a = result.alpha
    paragraphs = [
        f"{len(panel.raters)} raters ({', '.join(panel.ids)}) judged {result.judgements} of "
        f"{result.cells * len(panel.raters)} rater × cell slots; they split on {len(split)} of "
        f"{result.cells} cells. Krippendorff's alpha: nominal {_alpha(a['nominal'])}, ordinal "
        f"{_alpha(a['ordinal'])}, interval {_alpha(a['interval'])} (1 is perfect agreement, 0 "
        "what chance alone gives; Krippendorff asks for 0.8 to rely on data, 0.667 for "
        "tentative conclusions).",
        "A cell the raters split on is uncertain: when the consensus made it U it carries "
        "q ~ beta(1/2 + V votes, 1/2 + N votes), which `cofail risk --uncertain own` and "
        "`cofail uncertainty --uncertain own` read; `cofail merge --split-as-u` makes every "
        "split cell U.",
    ]
    flips, flip_text = _flips_table(matrix)
    paragraphs.append(flip_text)
    profile_table = Table(
        "Each rater's levels",
        ["rater", "judged", "V", "N", "U", "graded", "blank", "alpha vs rest", "alpha without"],
        [
            [
                p.rater,
                p.judged,
                *(f"{p.counts[k]} ({p.share(k):.0%})" for k in ("V", "N", "U", "graded")),
                p.counts["blank"],
                _round(r.with_rest["nominal"]),
                _round(r.without["nominal"]),
            ]
            for p, r in zip(profiles, result.by_rater, strict=True)
        ],
        notes=[
            "shares of the cells each rater judged; alpha at the nominal level (the other "
            "levels: `cofail agreement`); without: the panel's alpha with that rater left out"
        ],
    )
    figures = [
        Figure(
            "rater-agreement.svg",
            rater_figures.agreement_heatmap_svg(matrix, cell_agreement(panel)),
            "Share of pairs of raters who gave each cell the same level; the letter is the "
            "consensus level.",
        ),
        Figure(
            "rater-profiles.svg",
            rater_figures.rater_profile_svg(profiles, with_rest),
            "How often each rater said V, N, U, gave a number or left a cell blank.",
        ),
    ]
    return Section(TITLE, paragraphs, figures, [tables[0], profile_table, flips, tables[-1]])


def _flips_table(matrix: Matrix) -> tuple[Table, str]:
    title = "Conclusions the raters' disagreement can flip"
    columns = ["conclusion", "holds in", "probability", "flipped by"]
    try:
        robust = disagreement_robustness(matrix, samples=_FLIP_SAMPLES, max_seconds=_FLIP_SECONDS)
    except InputError as exc:
        return Table(title, columns, [], notes=[f"left out: {exc.message}"]), (
            f"The conclusions the disagreement can flip are left out of the report ({exc.message})."
        )
    if robust is None:
        return Table(title, columns, [], notes=["the raters split on no cell"]), (
            "The raters split on no cell, so their disagreement flips no conclusion."
        )
    fragile = [c for c in robust.conclusions if c.verdict != "all"]
    rows = [
        [
            c.statement,
            f"{c.holds_in} of {c.resolutions}",
            None if c.probability is None else round(c.probability, 3),
            # No single cell means two things: enumerated, every one-cell change was tried, so
            # only several together flip it; sampled, one-cell changes were tried from the
            # consensus reading only.
            ", ".join(f"{lid} × {mid}" for lid, mid in c.flipped_by)
            or (
                "no single cell changed alone from the consensus reading"
                if robust.sampled
                else "no single cell: several together"
            ),
        ]
        for c in fragile
    ]
    steady = len(robust.conclusions) - len(fragile)
    notes = [
        f"{robust.to_dict()['enumeration']}; each split cell set to V or N, the other U cells "
        "read as V; probability: the chance the conclusion holds when each split cell is V with "
        "its vote share (V + 1/2) / (V + N + 1), independently",
        f"{steady} other conclusion{'s' if steady != 1 else ''} hold whichever way the split "
        "cells go",
    ]
    text = (
        f"Of {len(robust.conclusions)} conclusions, {len(fragile)} can flip with the "
        f"{len(robust.uncertain_cells)} cells the raters split on: each split cell was set to V "
        + (
            f"or N in {_FLIP_SAMPLES} combinations drawn with the vote shares ({robust.resolutions} "
            f"distinct, of 2^{len(robust.uncertain_cells)})"
            if robust.sampled
            else f"or N in every one of the {robust.resolutions} combinations"
        )
        + ", and each conclusion re-drawn."
        if fragile
        else f"None of the {len(robust.conclusions)} conclusions depends on how the "
        f"{len(robust.uncertain_cells)} cells the raters split on are resolved."
    )
    return Table(title, columns, rows, notes=notes), text


def _alpha(x: float) -> str:
    return "undefined" if math.isnan(x) else f"{x:.2f}"


def _round(x: float) -> float | None:
    return None if math.isnan(x) else round(x, 3)

"""Tables for `cofail fit`: the fitted model, its fit to the log, what the data contradict."""

from __future__ import annotations

from typing import Any

from cofail.report.tabular import Table

__all__ = ["discovery_tables", "fit_tables", "structure_tables"]


def _interval(item: dict[str, Any], digits: int = 3) -> list[float | None]:
    return [None if x is None else round(x, digits) for x in item["interval"]]


def fit_tables(data: dict[str, Any]) -> list[Table]:
    """Return the tables of a ``Fit.to_dict()``."""
    # Fit.to_dict() has no field for the interval level: it is read back from the method's
    # words ("... intervals at 95%: ...").
    level = data["method"].split("intervals at ", 1)[-1].split("%", 1)[0]
    modes = Table(
        title="Failure modes: presence p",
        columns=["modes", "p", f"{level}% interval", "interval", "note"],
        rows=[
            [" + ".join(m["modes"]), m["p"], _interval(m), m["method"], m["note"]]
            for m in data["modes"]
        ],
        notes=[data["method"]]
        + (
            [
                f"not measured by these layers (no fitted layer is exposed): "
                f"{', '.join(data['unmeasured_modes'])}"
            ]
            if data["unmeasured_modes"]
            else []
        ),
    )
    residuals = Table(
        title="Residual r per layer (fails with no failure mode present)",
        columns=["layer", "r", "interval", "identified", "note"],
        rows=[
            [lid, r["r"], _interval(r), _identified(r), r.get("note", "")]
            for lid, r in data["residuals"].items()
        ],
    )
    cells = Table(
        title="Exposure q per cell (P(layer fails | mode present))",
        columns=["layer", "modes", "judged", "q", "interval", "identified", "note"],
        rows=[
            [
                c["layer"],
                " + ".join(c["modes"]),
                c["judged"],
                c["q"],
                _interval(c),
                _identified(c),
                c.get("note", ""),
            ]
            for c in data["cells"]
        ],
        notes=[
            "intervals by profile likelihood where the Wald interval failed its check: the "
            "method of each is in the JSON output (-f json)"
        ],
    )
    fit = data["fit"]
    contradicted = Table(
        title="Judgements the log contradicts",
        columns=["layer", "modes", "judged", "q", "kind", "evidence"],
        rows=[
            [c["layer"], " + ".join(c["modes"]), c["judged"], c["q"], c["kind"], c["evidence"]]
            for c in data["contradicted"]
        ],
        notes=[
            f"fit to the pattern histogram: G2 = {fit['g2']:.4g} on {fit['df']} degrees of "
            "freedom, p = "
            + ("-" if fit["p_value"] is None else f"{fit['p_value']:.3g}")
            + (f"; {fit['note']}" if fit["note"] else ""),
            *(["none: every tested judgement stands"] if not data["contradicted"] else []),
        ],
    )
    pred = data["prediction"]
    prediction = Table(
        title="Predicted P(stack fails)",
        columns=[
            "stack",
            "P(fails)",
            "interval",
            "identified",
            "delta method",
            "independent",
            "note",
        ],
        rows=[
            [
                "+".join(pred["layers"]),
                pred["p_fails"],
                _rounded(pred["interval"]),
                _identified(pred),
                "-" if pred.get("delta_method") is None else _rounded(pred["delta_method"]),
                pred["independent"],
                pred["note"],
            ]
        ],
        notes=[
            pred["method"],
            "delta method: the observed information's interval at the maximum, beside the "
            "profile's for comparison (where the two differ, the profile is the one to read)",
        ],
    )
    tables = [modes, residuals, cells, contradicted, prediction]
    if data.get("structure") is not None:
        tables.append(structure_table(data["structure"]))
    return tables


def _rounded(interval: list[float | None]) -> list[float | None]:
    return [None if x is None else round(x, 6) for x in interval]


def _identified(item: dict[str, Any]) -> str:
    return "yes" if item.get("identified", True) else "no"


def structure_table(data: dict[str, Any]) -> Table:
    """Return the table of a ``StructureCheck.to_dict()``: what no log can separate."""
    rank = data["rank"]
    summary = (
        "not checked"
        if rank is None
        else f"rank {rank} of {data['parameters']} parameters"
        + (": every parameter identified" if data["identified"] else "")
    )
    weakest = data.get("weakest_direction")
    return Table(
        title="Identifiability from the structure (before any log)",
        columns=["parameters that trade off", "free directions", "what a log fixes"],
        rows=[
            [", ".join(t["parameters"]), t["free_directions"], t["note"]]
            for t in data["trade_offs"]
        ],
        notes=[
            summary
            + (
                f"; weakest identified direction {weakest:.2g} of the strongest"
                if weakest is not None
                else ""
            ),
            data["method"],
            *([data["note"]] if data["note"] else []),
        ],
    )


def structure_tables(data: dict[str, Any]) -> list[Table]:
    """Return the tables of ``cofail fit --check-structure``."""
    return [structure_table(data)]


def discovery_tables(data: dict[str, Any]) -> list[Table]:
    """Return the tables of a ``Discovery.to_dict()``."""
    candidates = Table(
        title="How many latent failure modes: BIC",
        columns=["modes", "parameters", "log-likelihood", "BIC", "chosen"],
        rows=[
            [
                c["modes"],
                c["parameters"],
                c["loglik"],
                c["bic"],
                "*" if c["modes"] == data["chosen"] else "",
            ]
            for c in data["candidates"]
        ],
        notes=[data["method"]],
    )
    layers = data["layers"]
    learned = Table(
        title="Learned modes: p and q per layer",
        columns=["mode", "p", *layers],
        rows=[
            [f"latent {k + 1}", m["p"], *(m["q"][lid] for lid in layers)]
            for k, m in enumerate(data["modes"])
        ],
        notes=["residuals: " + ", ".join(f"{k} {v:.3g}" for k, v in data["residuals"].items())],
    )
    tables = [candidates, learned]
    if data["beside_matrix"]:
        tables.append(
            Table(
                title="Learned modes beside the matrix's",
                columns=["learned", "expert mode", "Jaccard", "learned exposes", "expert exposes"],
                rows=[
                    [
                        f"latent {b['learned'] + 1}",
                        b["expert_mode"],
                        b["jaccard"],
                        b["learned_exposes"],
                        b["expert_exposes"],
                    ]
                    for b in data["beside_matrix"]
                ],
            )
        )
    return tables

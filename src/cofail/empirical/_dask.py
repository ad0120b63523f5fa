"""The pattern histogram on a Dask cluster, for logs spread over many Parquet shards.

The result is the same histogram DuckDB builds on one machine; only the place of the group-by
changes. Requires the ``cluster`` extra (``pip install cofail[cluster]``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cofail.empirical._build import MAX_LAYERS
from cofail.empirical._histogram import PatternHistogram
from cofail.empirical._spec import LogSpec
from cofail.errors import InputError

__all__ = ["histogram_dask"]


def histogram_dask(
    paths: Sequence[str | Path], spec: LogSpec, *, scheduler: Any = None
) -> PatternHistogram:
    """Return the pattern histogram of Parquet shards, computed by Dask.

    Parameters
    ----------
    paths : Parquet files (one log split into shards; a case may span shards in long format).
    spec : layout, column names and polarity, as for :func:`histogram_from_files`.
    scheduler : a ``distributed.Client`` or scheduler name; ``None`` uses Dask's default.

    Notes
    -----
    Long format: each row contributes ``failed << i`` for its layer index i; a tree reduction
    sums these per case (distinct bits, so the sum is the bitwise OR) together with a
    presence mask that detects duplicate or missing layers; a second reduction counts cases
    per (stratum, pattern). Wide format needs one reduction. No row is gathered to one place.
    """
    try:
        import dask.dataframe as dd
    except ImportError:  # pragma: no cover - exercised only without the extra
        raise InputError(
            "the Dask path needs the cluster extra: pip install 'cofail[cluster]'"
        ) from None
    files = [str(p) for p in paths]
    if not files or not all(f.endswith(".parquet") for f in files):
        raise InputError("the Dask path reads Parquet shards (.parquet)")
    concat: Any = dd.concat  # untyped in Dask
    ddf = dd.read_parquet(files)
    stratum = ddf[spec.stratum].astype(str) if spec.stratum else None
    weight = ddf[spec.weight].astype(float) if spec.weight else None
    if spec.wide:
        reserved = {spec.case, spec.stratum, spec.weight}
        layers = tuple(spec.layers or [c for c in ddf.columns if c not in reserved])
        if len(layers) > MAX_LAYERS:
            raise InputError(f"{len(layers)} layers; at most {MAX_LAYERS} are supported")
        flags = [
            _flag(ddf[col], spec).astype("uint64") << np.uint64(i) for i, col in enumerate(layers)
        ]
        pattern = flags[0]
        for flag in flags[1:]:
            pattern = pattern | flag
        frame = concat(
            [pattern.rename("pat"), _or_default(stratum, ddf, ""), _or_default(weight, ddf, 1.0)],
            axis=1,
        )
        frame.columns = ["pat", "s", "w"]
        notes: tuple[str, ...] = ()
    else:
        layers = tuple(sorted(str(x) for x in ddf[spec.layer].astype(str).unique().compute()))
        if len(layers) > MAX_LAYERS:
            raise InputError(f"{len(layers)} layers; at most {MAX_LAYERS} are supported")
        index = {lid: i for i, lid in enumerate(layers)}
        bit = (
            ddf[spec.layer]
            .astype(str)
            .map(lambda x: np.uint64(1) << np.uint64(index[x]), meta=(spec.layer, "uint64"))
        )
        rows = concat(
            [
                ddf[spec.case].astype(str).rename("c"),
                _or_default(stratum, ddf, "").rename("s"),
                (bit * _flag(ddf[spec.failed], spec).astype("uint64")).rename("pat"),
                bit.rename("present"),
                _or_default(weight, ddf, 1.0).rename("w"),
            ],
            axis=1,
        )
        per_case = rows.groupby(["s", "c"]).agg(
            {"pat": "sum", "present": "sum", "w": "max", "c": "count"}
        )
        per_case = per_case.rename(columns={"c": "k"}).reset_index()
        full = np.uint64((1 << len(layers)) - 1)
        bad = per_case[(per_case["k"] > len(layers))]
        if len(bad.head(1, npartitions=-1)):
            raise InputError("a case has more than one row for a layer")
        complete = (per_case["k"] == len(layers)) & (per_case["present"] == full)
        dropped = int((~complete).sum().compute())
        frame = per_case[complete][["pat", "s", "w"]]
        notes = (
            (f"{dropped} case(s) without an outcome for every layer were left out",)
            if dropped
            else ()
        )
    counts = frame.groupby(["s", "pat"])["w"].sum().compute(scheduler=scheduler).reset_index()
    return PatternHistogram.from_arrays(
        layers,
        counts["s"].to_numpy(dtype=object),
        counts["pat"].to_numpy(dtype=np.uint64),
        counts["w"].to_numpy(dtype=float),
        polarity=spec.describe(),
        source=f"{len(files)} Parquet shard(s) via Dask",
        notes=notes,
    )


def _flag(column: Any, spec: LogSpec) -> Any:
    values = column.astype("int64")
    return (1 - values) if spec.polarity == "passed" else values


def _or_default(series: Any, ddf: Any, default: object) -> Any:
    if series is not None:
        return series
    first = ddf[ddf.columns[0]]
    return first.map_partitions(
        lambda part: part.map(lambda _: default), meta=(None, type(default))
    )

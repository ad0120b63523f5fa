"""Scored layers: thresholds from a budget, ROC AUC, joint misses and the `any` combination,
each checked against an independent computation (NumPy's percentile, scikit-learn, brute force,
hand-worked cases)."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cofail.empirical import (
    LogSpec,
    ScoredLog,
    budget_threshold,
    budget_thresholds,
    read,
    read_scores,
)
from cofail.empirical._spec import ThresholdRule
from cofail.errors import InputError
from cofail.scores import analyse_scores, combine, evaluate, mann_whitney_auc, roc_points

BUDGETS = st.sampled_from([0.0, 0.001, 0.005, 0.01, 0.02, 0.03, 0.05, 0.07, 0.1, 0.2, 0.5, 1.0])


# -- thresholds ---------------------------------------------------------------------------


@settings(max_examples=300, derandomize=True)
@given(
    st.lists(st.integers(-20, 20), min_size=1, max_size=300),
    BUDGETS,
    st.sampled_from([1.0, 0.1, 0.37]),
)
def test_controlarena_threshold_is_numpys_percentile_bit_for_bit(
    values: list[int], budget: float, scale: float
) -> None:
    """ControlArena: ``np.percentile(honest_scores, 100 - audit_budget)``, budget in percent."""
    honest = np.array(values, dtype=float) * scale  # integers: many ties
    expected = np.percentile(honest, 100 - budget * 100)
    assert budget_threshold(np.sort(honest), budget, "controlarena") == expected


@settings(max_examples=300, derandomize=True)
@given(st.lists(st.integers(-5, 5), min_size=1, max_size=60), BUDGETS)
def test_conservative_threshold_is_the_lowest_within_budget(
    values: list[int], budget: float
) -> None:
    honest = np.array(values, dtype=float)
    t = budget_threshold(np.sort(honest), budget, "conservative")
    allowed = math.floor(budget * len(honest) + 1e-9)
    assert np.count_nonzero(honest > t) <= allowed
    # every lower honest score (any lower threshold flags as much as one of them) is over
    lower = [v for v in np.unique(honest) if v < t]
    assert all(np.count_nonzero(honest > v) > allowed for v in lower)


def test_ties_at_the_threshold_are_not_flagged() -> None:
    """Hand-worked: 5 honest scores, budget 20 %: np.percentile(h, 80) = 2 + 0.2 (3 - 2)."""
    honest = np.array([1.0, 2.0, 2.0, 2.0, 3.0])
    t = budget_threshold(np.sort(honest), 0.2, "controlarena")
    assert t == pytest.approx(2.2)
    scored = ScoredLog(("m",), honest[:, None], np.array([[2.2], [2.2], [3.0], [1.0]]), (False,),
                       "a", "h")  # fmt: skip
    (lt,) = budget_thresholds(scored, LogSpec(budget=0.2))
    assert (lt.false_positives, lt.caught) == (1, 1)  # 3.0 only: 2.2 equals the threshold
    assert (lt.fpr, lt.tpr) == (0.2, 0.25)


def test_a_zero_budget_flags_nothing_honest() -> None:
    """Budget 0: the threshold is the top honest score; an attack at that score is missed."""
    honest = np.array([[0.0], [4.0], [9.0]])
    attack = np.array([[9.0], [9.5]])
    for rule in ("controlarena", "conservative"):
        (lt,) = budget_thresholds(ScoredLog(("m",), honest, attack, (False,), "a", "h"),
                                  LogSpec(budget=0.0, threshold_rule=rule))  # fmt: skip
        assert (lt.threshold, lt.false_positives, lt.caught) == (9.0, 0, 1)


def test_controlarena_can_exceed_the_budget_and_conservative_cannot() -> None:
    honest = np.arange(1.0, 151.0)
    t_ca = budget_threshold(honest, 0.01, "controlarena")
    t_co = budget_threshold(honest, 0.01, "conservative")
    assert np.count_nonzero(honest > t_ca) == 2  # 1.33 % of 150
    assert np.count_nonzero(honest > t_co) == 1


# -- AUC and ROC --------------------------------------------------------------------------


@settings(max_examples=200, derandomize=True)
@given(
    st.lists(st.integers(0, 10), min_size=1, max_size=80),
    st.lists(st.integers(0, 10), min_size=1, max_size=80),
)
def test_auc_equals_scikit_learn(honest: list[int], attack: list[int]) -> None:
    from sklearn.metrics import roc_auc_score

    h, a = np.sort(np.array(honest, float)), np.sort(np.array(attack, float))
    y = np.r_[np.zeros(len(h)), np.ones(len(a))]
    assert mann_whitney_auc(h, a) == pytest.approx(roc_auc_score(y, np.r_[h, a]), abs=1e-12)


def test_roc_points_match_scikit_learn_curve() -> None:
    from sklearn.metrics import roc_curve

    rng = np.random.default_rng(3)
    h, a = np.sort(rng.integers(0, 8, 60).astype(float)), np.sort(rng.integers(2, 10, 40) * 1.0)
    fpr, tpr = roc_points(h, a, max_points=10_000)
    sk_fpr, sk_tpr, _ = roc_curve(np.r_[np.zeros(60), np.ones(40)], np.r_[h, a])
    # scikit-learn flags score >= t; ours score > t at the next lower distinct score: the same
    # set of points, once the (0, 0) end is included.
    assert {(round(x, 12), round(y, 12)) for x, y in zip(fpr, tpr, strict=True)} == {
        (round(x, 12), round(y, 12)) for x, y in zip(sk_fpr, sk_tpr, strict=True)
    }


# -- the `any` combination ------------------------------------------------------------------


def _brute(h: np.ndarray, a: np.ndarray, budget: float, rule: str) -> tuple[int, int]:
    allowed = math.floor(budget * len(h) + 1e-9)
    cands = [np.r_[-np.inf, np.unique(h[:, i]), np.inf] for i in range(h.shape[1])]
    best = (-1, 0)
    for t in itertools.product(*cands):
        fp, tp = evaluate(h, a, t, rule)  # type: ignore[arg-type]
        if fp <= allowed:
            best = max(best, (tp, -fp))
    return best


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("rule", ["any", "all"])
def test_combination_is_the_brute_force_optimum(seed: int, rule: str) -> None:
    rng = np.random.default_rng(seed)
    d = 1 + seed % 3
    h = np.round(rng.normal(size=(rng.integers(4, 20), d)) * 2) / 2
    a = np.round(rng.normal(0.8, size=(rng.integers(3, 16), d)) * 2) / 2
    budget = [0.0, 0.05, 0.1, 0.2, 0.5][seed % 5]
    c = combine(h, a, budget, rule)  # type: ignore[arg-type]
    assert (c.caught, -c.false_positives) == _brute(h, a, budget, rule)
    assert evaluate(h, a, c.thresholds, rule) == (c.false_positives, c.caught)  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", range(12))
def test_pairwise_search_never_beats_brute_force(seed: int) -> None:
    """Four layers go to the pairwise search: feasible, and never above the optimum."""
    rng = np.random.default_rng(100 + seed)
    h, a = np.round(rng.normal(size=(9, 4))), np.round(rng.normal(0.8, size=(7, 4)))
    c = combine(h, a, 0.25)
    best = _brute(h, a, 0.25, "any")
    assert c.false_positives <= math.floor(0.25 * 9)
    assert c.caught <= best[0]
    assert "pairwise" in c.method


def test_two_monitors_that_miss_different_attacks_share_the_budget() -> None:
    h = np.array([[9.0, 0.0], [0.0, 9.0], [1.0, 1.0], [2.0, 2.0]])
    a = np.array([[5.0, 0.0], [0.0, 5.0], [5.0, 5.0], [0.0, 0.0]])
    c = combine(h, a, 0.5)
    assert (c.caught, c.false_positives) == (3, 2)
    single = max(evaluate(h[:, [i]], a[:, [i]], [2.0], "any")[1] for i in range(2))
    assert single == 2


# -- reading scores -----------------------------------------------------------------------


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_wide_scores_with_honest_files_and_a_flipped_layer(tmp_path: Path) -> None:
    attack = _write(tmp_path / "a.csv", "case,mon,safe_p\n1,9,0.1\n2,1,0.9\n3,5,0.2\n")
    honest = _write(tmp_path / "h.csv", "case,mon,safe_p\n1,0,0.95\n2,2,0.8\n3,4,0.7\n4,1,0.99\n")
    spec = LogSpec(wide=True, honest=(str(honest),), lower_is_suspicious=("safe_p",), budget=0.25)
    s = read_scores(spec, [attack])
    assert s.layers == ("mon", "safe_p") and s.lower == (False, True)
    mon, safe = budget_thresholds(s, spec)
    # mon: np.percentile([0,1,2,4], 75) = 2.5; flags 4 → FPR 1/4; catches 9 and 5
    assert (mon.raw, mon.false_positives, mon.caught) == (2.5, 1, 2)
    # safe_p, lower = suspicious: np.percentile(-h, 75) = -0.8 + 0.25 (0.1) → flags safe_p < 0.775
    assert safe.raw == pytest.approx(0.775) and safe.direction == "score < T"
    assert (safe.false_positives, safe.caught) == (1, 2)
    h = read(spec, [attack])  # the misses: case 2 missed by both
    assert h.n_cases == 3 and dict(zip(*h.pooled(), strict=True)) == {0: 2.0, 3: 1.0}
    assert "mon flags score > 2.5 (FPR 25%)" in h.polarity
    assert "safe_p flags score < 0.775" in h.polarity


def test_a_set_column_and_a_long_log(tmp_path: Path) -> None:
    rows = ["case,layer,score,eval_mode"]
    for c, mode, s1, s2 in [(1, "honest", 0, 1), (2, "honest", 1, 0), (1, "attack", 5, 0),
                            (2, "ATTACK", 0, 0)]:  # fmt: skip
        rows += [f"{c},m1,{s1},{mode}", f"{c},m2,{s2},{mode}"]
    log = _write(tmp_path / "long.csv", "\n".join(rows) + "\n")
    s = read_scores(LogSpec(set_col="eval_mode"), [log])
    assert (s.n_honest, s.n_attack, s.layers) == (2, 2, ("m1", "m2"))
    assert sorted(s.attack[:, 0].tolist()) == [0.0, 5.0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("case,m\n1,0.5\n2,high\n", "row 2 (case '2'), layer 'm': score 'high'; expected a finite"),
        ("case,m\n1,0.5\n2,nan\n", "row 2 (case '2'), layer 'm': score 'nan'"),
        ("case,m\n1,inf\n2,0.5\n", "row 1 (case '1'), layer 'm': score 'inf'"),
        ("case,m\n1,0.5\n2,\n", "row 2 (case '2'), layer 'm': score (empty)"),
    ],
)
def test_a_bad_score_is_one_line_naming_row_and_layer(
    tmp_path: Path, text: str, message: str
) -> None:
    log = _write(tmp_path / "a.csv", text)
    honest = _write(tmp_path / "h.csv", "case,m\n1,0.1\n")
    with pytest.raises(InputError) as err:
        read_scores(LogSpec(wide=True, honest=(str(honest),), budget=0.1), [log])
    assert message in str(err.value) and str(log) in str(err.value)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([0.5, None, 0.1], "row 2 (case '2'), layer 'm2': score (empty)"),
        ([0.5, 0.2, float("nan")], "row 3 (case '3'), layer 'm2': score 'nan'"),
        ([float("-inf"), 0.2, 0.1], "row 1 (case '1'), layer 'm2': score '-inf'"),
    ],
)
def test_a_bad_score_in_parquet_names_its_row_too(
    tmp_path: Path, values: list[float | None], message: str
) -> None:
    # Parquet scores are read column by column and checked in NumPy: the row is found only
    # for a log that fails the check, and must be the same one a row scan names.
    log = tmp_path / "a.parquet"
    pq.write_table(pa.table({"case": [1, 2, 3], "m1": [1.0, 2.0, 3.0], "m2": values}), log)
    honest = _write(tmp_path / "h.csv", "case,m1,m2\n1,0.1,0.2\n")
    with pytest.raises(InputError) as err:
        read_scores(LogSpec(wide=True, honest=(str(honest),), budget=0.1), [log])
    assert message in str(err.value) and str(log) in str(err.value)


def test_honest_and_attack_must_score_the_same_layers(tmp_path: Path) -> None:
    a = _write(tmp_path / "a.csv", "case,m1,m2\n1,1,2\n")
    h = _write(tmp_path / "h.csv", "case,m1,m3\n1,1,2\n")
    with pytest.raises(InputError, match="score different layers"):
        read_scores(LogSpec(wide=True, honest=(str(h),), budget=0.1), [a])


def test_a_bad_set_label_names_its_row(tmp_path: Path) -> None:
    log = _write(tmp_path / "a.csv", "case,m,mode\n1,1,honest\n2,3,atack\n")
    with pytest.raises(
        InputError, match=r"row 2: column 'mode' is 'atack'; expected honest or attack"
    ):
        read_scores(LogSpec(wide=True, set_col="mode", budget=0.1), [log])


# -- the analysis, against a direct computation ---------------------------------------------------


def test_joint_misses_and_the_curve_agree_with_a_direct_count() -> None:
    rng = np.random.default_rng(7)
    z_h, z_a = rng.normal(size=(3000, 1)), rng.normal(size=(1500, 1))
    h = z_h + rng.normal(size=(3000, 3))
    a = 1.5 + z_a + rng.normal(size=(1500, 3))
    s = ScoredLog(("x", "y", "z"), h, a, (False,) * 3, "a", "h")
    r = analyse_scores(s, LogSpec(budget=0.02), n_boot=200, budgets=(0.005, 0.02, 0.1))
    for point in r.curve:
        t = [np.percentile(h[:, i], 100 - point.budget * 100) for i in range(3)]
        miss = a <= np.array(t)
        assert point.all_miss == np.count_nonzero(miss.all(axis=1)) / 1500
        assert point.independent == pytest.approx(np.prod(miss.mean(axis=0)))
        assert point.union_fpr == np.count_nonzero((h > np.array(t)).any(axis=1)) / 3000
        assert point.tpr["y"] == np.count_nonzero(a[:, 1] > t[1]) / 1500
    d = r.to_dict()
    t = [np.percentile(h[:, i], 98) for i in range(3)]
    miss = a <= np.array(t)
    assert d["stack"]["all_miss"] == np.count_nonzero(miss.all(axis=1)) / 1500
    xy = next(p for p in d["pairs"] if (p["a"], p["b"]) == ("x", "y"))
    assert xy["both_miss"] == np.count_nonzero(miss[:, 0] & miss[:, 1]) / 1500
    assert d["stack"]["all_miss"] > d["stack"]["independent"]  # a shared factor: they agree
    assert d["combination"]["fpr"] <= 0.02 and "out_of_sample" in d["combination"]
    assert d["combination"]["tpr"] >= max(x["tpr"] for x in d["layers"]) - 1e-12


def _large_log(seed: int, n: int = 60_000, d: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Past the subsample threshold (50,000 cases), with a shared factor and ties."""
    rng = np.random.default_rng(seed)
    z_h, z_a = rng.normal(size=(n, 1)), rng.normal(size=(n, 1))
    h = np.asfortranarray((0.6 * z_h + 0.8 * rng.normal(size=(n, d))).round(3))
    a = np.asfortranarray((1.0 + 0.6 * z_a + 0.8 * rng.normal(size=(n, d))).round(3))
    return h, a


@pytest.mark.parametrize(("seed", "budget"), [(0, 0.01), (1, 0.002), (2, 0.05), (2, 0.01)])
def test_the_polish_on_the_cases_near_the_thresholds_equals_the_polish_on_all(
    seed: int, budget: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a large log rule any's polish reads each layer's top block of honest cases and the
    attack cases between old and new thresholds; the thresholds and counts must be those of
    the direct polish, which touches every case at every step."""
    from cofail.scores import _combine

    h, a = _large_log(seed)
    if seed == 2:  # one layer worth the whole budget: its threshold falls to the lowest bound
        a[:, 1:] = np.random.default_rng(5).permutation(h[:, 1:])
    fast = combine(h, a, budget, seed=seed)
    direct = _combine.polish
    monkeypatch.setattr(
        _combine,
        "polish_any",
        lambda h, a, t, k, rows: _direct_counts(h, a, direct(h, a, t, k, "any")),
    )
    assert fast == combine(h, a, budget, seed=seed)
    assert fast.false_positives <= math.floor(budget * len(h) + 1e-9)


@given(
    st.integers(0, 2**32 - 1),
    st.integers(2, 5),
    st.sampled_from([3, 8, 1000]),
    st.integers(0, 60),
    st.booleans(),
)
@settings(max_examples=300, deadline=None, derandomize=True)
def test_the_block_polish_takes_the_direct_polish_steps_from_any_start(
    seed: int, d: int, levels: int, allowed: int, fold: bool
) -> None:
    """From any start (thresholds below every block, at ties, off, -inf), on scores with
    many ties or none, on all cases or a fold: the same thresholds as the direct polish."""
    from cofail.scores._polish import polish, polish_any

    rng = np.random.default_rng(seed)
    n_h, n_a = int(rng.integers(1, 300)), int(rng.integers(1, 300))
    h = np.asfortranarray(rng.integers(0, levels, size=(n_h, d)).astype(float))
    a = np.asfortranarray(rng.integers(0, levels, size=(n_a, d)).astype(float) + 0.5 * levels)
    choices = [np.inf, -np.inf, 0.0, float(levels // 2), float(levels)]
    start = [float(rng.choice(choices)) for _ in range(d)]
    rows = None
    if fold:
        rows = (np.flatnonzero(rng.random(n_h) < 0.6), np.flatnonzero(rng.random(n_a) < 0.6))
    direct_h, direct_a = (h, a) if rows is None else (h[rows[0]], a[rows[1]])
    direct = polish(direct_h, direct_a, list(start), allowed, "any")
    # the same thresholds, and the counts it kept are the rule's counts there
    assert polish_any(h, a, list(start), allowed, rows) == _direct_counts(
        direct_h, direct_a, direct
    )


def _direct_counts(
    h: np.ndarray, a: np.ndarray, thresholds: list[float]
) -> tuple[list[float], int, int]:
    fp, tp = evaluate(h, a, thresholds, "any")
    return thresholds, fp, tp


def test_cross_validation_through_fold_indices_equals_copied_folds() -> None:
    """Folds read through their indices give the counts of folds copied out and combined."""
    from cofail.scores import cross_validate

    h, a = _large_log(3, n=55_000, d=3)
    cv = cross_validate(h, a, 0.01, folds=2, seed=4)
    rng = np.random.default_rng(4)
    fold_h, fold_a = rng.permutation(len(h)) % 2, rng.permutation(len(a)) % 2
    caught = fp = 0
    for f in range(2):
        fit = combine(h[fold_h != f], a[fold_a != f], 0.01)
        f_fp, f_tp = evaluate(h[fold_h == f], a[fold_a == f], fit.thresholds, "any")
        caught, fp = caught + f_tp, fp + f_fp
    assert (cv.caught, cv.false_positives) == (caught, fp)


def test_joint_intervals_with_every_threshold_fixed_resample_the_attacks_only() -> None:
    """All thresholds held: the interval is the percentile bootstrap of the attack cases'
    all-miss share alone, computed here from the same draws."""
    from cofail.scores._joint import joint_intervals

    rng = np.random.default_rng(3)
    h, a = rng.normal(size=(200, 2)), rng.normal(1.0, size=(150, 2))
    fixed = {0: 1.2, 1: 0.9}
    miss = (a <= np.array([1.2, 0.9])).all(axis=1)
    est = (float(miss.mean()), {(0, 1): 0.0}, (0.0, 0.0))
    got = joint_intervals(h, a, 0.05, "controlarena", fixed, est, n_boot=300, seed=8)
    draws = np.random.default_rng(8)
    values = []
    for _ in range(300):
        draws.integers(0, 200, 200)  # the honest resample, unused when every layer is fixed
        w = np.bincount(draws.integers(0, 150, 150), minlength=150)
        values.append(float(w @ miss) / 150)
    assert got.stack == pytest.approx(tuple(np.quantile(values, (0.025, 0.975))))


@pytest.mark.parametrize(
    ("d", "budget", "rule", "fixed", "code_layers"),
    [
        (3, 0.05, "controlarena", {}, 10),
        (4, 0.2, "conservative", {1: 0.4}, 10),
        (3, 0.02, "controlarena", {}, 0),  # the Gram matrices instead of the codes
        (2, 0.9, "conservative", {}, 10),  # every row in the top block
    ],
)
def test_joint_intervals_equal_resampling_the_cases_themselves(
    d: int,
    budget: float,
    rule: ThresholdRule,
    fixed: dict[int, float],
    code_layers: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The chunked bootstrap (counts per row, thresholds from the top rows' counts, misses
    from pattern codes) gives bit for bit the intervals of the direct one: resample the rows,
    sort them, read the thresholds, count the misses, from the same draws."""
    from cofail.scores import _joint

    monkeypatch.setattr(_joint, "_CODE_LAYERS", code_layers)
    rng = np.random.default_rng(d)
    z_h, z_a = rng.normal(size=(120, 1)), rng.normal(size=(90, 1))
    h = np.round(z_h + rng.normal(size=(120, d)), 1)  # ties at the thresholds
    a = np.round(1.0 + z_a + rng.normal(size=(90, d)), 1)
    pairs = [(i, j) for i in range(d) for j in range(i + 1, d)]
    est = (0.0, dict.fromkeys(pairs, 0.0), (0.0,) * d)
    got = _joint.joint_intervals(h, a, budget, rule, fixed, est, n_boot=70, seed=3)
    draws = np.random.default_rng(3)
    stack, both, alone = [], [], []
    for _ in range(70):
        rh, ra = h[draws.integers(0, 120, 120)], a[draws.integers(0, 90, 90)]
        t = [fixed.get(i, budget_threshold(np.sort(rh[:, i]), budget, rule)) for i in range(d)]
        missed = ra <= np.array(t)
        stack.append(float(np.count_nonzero(missed.all(axis=1))) / 90)
        both.append([float(np.count_nonzero(missed[:, i] & missed[:, j])) / 90 for i, j in pairs])
        alone.append([float(np.count_nonzero(missed[:, i])) / 90 for i in range(d)])
    q = (0.025, 0.975)
    assert got.stack == tuple(float(x) for x in np.quantile(stack, q))
    for k, p in enumerate(pairs):
        assert got.pairs[p] == tuple(float(x) for x in np.quantile(np.array(both)[:, k], q))
    for i in range(d):  # each layer's miss share, from the same resamples
        assert got.layers[i] == tuple(float(x) for x in np.quantile(np.array(alone)[:, i], q))


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 40), st.integers(1, 40))
def test_top_order_statistics_read_every_index_as_the_whole_counts_do(
    seed: int, n: int, top: int
) -> None:
    from cofail.scores._joint import _TopOrderStatistics
    from cofail.scores._roc import _OrderStatistics

    rng = np.random.default_rng(seed)
    values = np.sort(rng.integers(0, 6, n).astype(float))
    order = rng.permutation(n)  # row of each sorted position
    counts = np.bincount(rng.integers(0, n, n), minlength=n)
    k = min(top, n)
    fast = _TopOrderStatistics(values, np.cumsum(counts[order[n - k :]]), counts, order)
    whole = _OrderStatistics(values, np.cumsum(counts[order]))
    assert len(fast) == len(whole) == n
    assert [fast[i] for i in range(-n, n)] == [whole[i] for i in range(-n, n)]


def test_joint_intervals_on_a_subsample_match_the_full_bootstrap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past 20,000 cases the spread comes from a subsample and is scaled by √f: its width
    agrees with the percentile bootstrap on every case within 15 %."""
    from cofail.scores import _joint

    h, a = _large_log(7, n=60_000, d=2)
    estimates = (0.5, {(0, 1): 0.5}, (0.7, 0.7))
    sub = _joint.joint_intervals(h, a, 0.02, "controlarena", {}, estimates, n_boot=300)
    monkeypatch.setattr(_joint, "_CASES", 10**6)
    full = _joint.joint_intervals(h, a, 0.02, "controlarena", {}, estimates, n_boot=300)
    assert "normal bootstrap" in sub.method and "percentile" in full.method
    width_sub, width_full = sub.stack[1] - sub.stack[0], full.stack[1] - full.stack[0]
    assert width_sub == pytest.approx(width_full, rel=0.15)


def test_the_budget_interval_is_wider_where_the_threshold_moves() -> None:
    """Scores on a coarse scale put the threshold on a tie: a resample moves it a whole step,
    so the interval at the budget is wider than the one holding the log's thresholds."""
    rng = np.random.default_rng(4)
    h = np.round(rng.normal(size=(400, 2)) * 2 + 3)
    a = np.round(rng.normal(size=(300, 2)) * 2 + 5)
    s = ScoredLog(
        ("m1", "m2"), np.asfortranarray(h), np.asfortranarray(a), (False, False), "a", "h"
    )
    r = analyse_scores(s, LogSpec(budget=0.05), n_boot=500, budgets=(0.05,), combine_rule=None)
    d = r.to_dict()["stack"]
    fixed, budget = d["interval"]["observed"], d["interval_at_budget"]["all_miss"]
    assert budget[1] - budget[0] > fixed[1] - fixed[0]
    assert budget[0] <= d["all_miss"] <= budget[1]


def test_the_layers_on_two_threads_give_what_one_thread_gives(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A large log's layers are sorted, and its combinations, cross-validation and joint
    intervals searched, on two threads; every number must be the serial one."""
    from cofail.scores import _analysis

    h, a = _large_log(11, n=3_000, d=4)
    s = ScoredLog(("m1", "m2", "m3", "m4"), h, a, (False,) * 4, "a", "h")
    kwargs = {"n_boot": 200, "budgets": (0.01, 0.02, 0.05), "cascade": True}
    serial = analyse_scores(s, LogSpec(budget=0.02), **kwargs).to_dict()  # type: ignore[arg-type]
    monkeypatch.setattr(_analysis, "_THREADS", 0)
    monkeypatch.setattr(_analysis.os, "cpu_count", lambda: 2)
    threaded = analyse_scores(s, LogSpec(budget=0.02), **kwargs).to_dict()  # type: ignore[arg-type]
    assert threaded == serial
    # the curve's combination at the budget itself is the budget's (searched once), and is
    # what a search of its own finds
    own = combine(h, a, 0.02, "any")
    at = next(p for p in threaded["curve"] if p["budget"] == 0.02)
    assert at["any"]["tpr"] == threaded["combination"]["tpr"] == own.tpr


@pytest.mark.parametrize("d", [1, 3])
def test_continuous_scores_take_the_catch_rate_interval_from_the_joint_bootstrap(d: int) -> None:
    """Too many distinct scores to resample their histogram cheaply: each layer's catch-rate
    interval is the complement of its miss-share interval in the joint-miss bootstrap (the
    threshold re-derived from every honest resample), computed here by calling it directly;
    a layer whose threshold is fixed keeps Wilson's, threshold held."""
    from cofail.intervals import wilson
    from cofail.scores._joint import joint_intervals

    rng = np.random.default_rng(d)
    z_h, z_a = rng.normal(size=(600, 1)), rng.normal(size=(400, 1))
    h = np.asfortranarray(z_h + rng.normal(size=(600, d)))  # every score distinct
    a = np.asfortranarray(1.2 + z_a + rng.normal(size=(400, d)))
    names = tuple(f"m{i}" for i in range(d))
    s = ScoredLog(names, h, a, (False,) * d, "a", "h")
    fixed = {"m0": 1.5} if d > 1 else {}
    spec = LogSpec(budget=0.05, layer_thresholds=tuple(fixed.items()))
    r = analyse_scores(s, spec, n_boot=300, budgets=(0.05,))
    thresholds = [layer.threshold.threshold for layer in r.layers]
    misses = tuple(1.0 - layer.threshold.tpr for layer in r.layers)
    pairs = {(i, j): 0.0 for i in range(d) for j in range(i + 1, d)}
    held = {0: thresholds[0]} if fixed else {}
    direct = joint_intervals(h, a, 0.05, "controlarena", held, (0.0, pairs, misses), n_boot=300)
    for i, layer in enumerate(r.layers):
        assert layer.auc_interval[0] < layer.auc < layer.auc_interval[1]
        assert "DeLong" in layer.method
        if i == 0 and fixed:
            caught = layer.threshold.caught
            assert layer.tpr_interval == wilson(caught, 400, 0.05)
            assert "threshold held fixed" in layer.method
        else:
            lo, hi = direct.layers[i]
            assert layer.tpr_interval == (1.0 - hi, 1.0 - lo)
            assert "re-derived" in layer.method
    assert (r.joint is None) == (d == 1)

"""`cofail fit --check-structure`: the Jacobian's rank and null directions on structures whose
answer is known by hand, each null direction checked by moving along it."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cofail import catalog
from cofail.fit._fit import check_matrix, model_structure
from cofail.fit._groups import group_modes
from cofail.fit._identifiability import check_structure, generic_point, jacobian, null_space
from cofail.fit._latent import Params, Structure, pattern_log_probs, states
from conftest import Run

Cli = Callable[..., Run]


def _structure(support: list[list[int]], *, q_free: bool = True, r_free: bool = True) -> Structure:
    sup = np.array(support, dtype=bool)
    layers, groups = sup.shape
    return Structure(
        q_free=sup & q_free,
        q_fixed=np.where(sup & (not q_free), 1.0, 0.0),
        p_free=np.ones(groups, dtype=bool),
        r_free=np.full(layers, r_free),
    )


def _names(s: Structure) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    layers, groups = s.q_free.shape
    return tuple(f"L{i + 1}" for i in range(layers)), tuple((f"M{g + 1}",) for g in range(groups))


def _probs(params: Params) -> np.ndarray:
    return np.exp(pattern_log_probs(params, states(len(params.r))))


def _moved(params: Params, s: Structure, log_step: np.ndarray) -> Params:
    return params.with_vector(s, params.vector(s) * np.exp(log_step))


def test_a_mode_seen_by_three_layers_is_identified() -> None:
    # Two latent classes, three binary indicators: 7 parameters, 7 free pattern probabilities.
    s = _structure([[1], [1], [1]])
    c = check_structure(s, *_names(s))
    assert (c.rank, c.n_parameters, c.trade_offs) == (7, 7, ())
    assert c.to_dict()["identified"]


def test_a_mode_seen_by_one_layer_trades_off_with_its_residual() -> None:
    # P(L1 fails) = 1 - (1 - r)(1 - p q) is all the log sees of p, q and r1.
    s = _structure([[1], [0]])
    c = check_structure(s, *_names(s))
    assert c.rank == 2 and c.n_parameters == 4
    (t,) = c.trade_offs
    assert t.names == ("M1's p", "M1's q on L1", "L1's r") and t.free_directions == 2


def test_without_residuals_a_lone_cell_fixes_the_product_of_p_and_q() -> None:
    s = _structure([[1]], r_free=False)
    c = check_structure(s, *_names(s))
    (t,) = c.trade_offs
    assert t.note == "M1's p and its q on L1 trade off: the log fixes their product"
    # Moving along the product exactly leaves the pattern probabilities where they were.
    point = Params(np.array([0.2]), np.array([[0.6]]), np.array([0.0]))
    along = Params(np.array([0.4]), np.array([[0.3]]), np.array([0.0]))
    assert np.abs(_probs(point) - _probs(along)).max() < 1e-12


def test_two_modes_with_the_same_layers_under_binary_trade_off_their_ps() -> None:
    # q held at 1: the log sees only whether either mode is present, (1 - p1)(1 - p2).
    s = _structure([[1, 1], [1, 1], [1, 1]], q_free=False)
    c = check_structure(s, *_names(s))
    assert c.rank == c.n_parameters - 1
    (t,) = c.trade_offs
    assert t.names == ("M1's p", "M2's p") and t.free_directions == 1
    point = Params(np.array([0.2, 0.3]), s.q_fixed, np.array([0.05, 0.1, 0.02]))
    p2 = 1 - (0.8 * 0.7) / 0.9  # p1 = 0.1, the same P(either present)
    other = Params(np.array([0.1, p2]), s.q_fixed, point.r)
    assert np.abs(_probs(point) - _probs(other)).max() < 1e-12


def _null_direction_is_flat(s: Structure, seed: int) -> None:
    """Moving 1e-5 along each null direction (log scale) changes no pattern probability by
    1e-9; the same step along the weakest identified direction changes some by more."""
    point = generic_point(s, np.random.default_rng(seed))
    j = jacobian(point, s)
    rank, null, _, _ = null_space(j)
    assert null.shape[1] == s.n_free - rank > 0
    base = _probs(point)
    for v in null.T:
        assert np.abs(_probs(_moved(point, s, 1e-5 * v)) - base).max() < 1e-9
    _, _, vt = np.linalg.svd(j)
    identified = vt[rank - 1]
    assert np.abs(_probs(_moved(point, s, 1e-5 * identified)) - base).max() > 1e-9


def test_null_directions_leave_the_patterns_unchanged() -> None:
    _null_direction_is_flat(_structure([[1], [0]]), seed=1)
    _null_direction_is_flat(_structure([[1, 1], [1, 1], [1, 1]], q_free=False), seed=2)


def test_the_catalog_under_binary_leaves_cap_dev_against_em_mis() -> None:
    # The reading: with V held at 1, CAP-DEV and EM-MIS+EVAL-DIFF differ on these
    # layers only through the U cell SCI-AI x CAP-DEV.
    m = catalog.load("dung-mai-2025")
    c = check_matrix(m, binary=True)
    assert c.rank == c.n_parameters - 1 == 16
    (t,) = c.trade_offs
    assert set(t.names) == {"CAP-DEV's p", "CAP-DEV's q on SCI-AI", "EM-MIS+EVAL-DIFF's p"}
    assert c.ranks == (16, 16, 16) and c.gap is not None and c.gap > 1e6
    s = model_structure(group_modes(m, m.layer_ids), binary=True)
    _null_direction_is_flat(s, seed=3)


def test_the_catalog_with_free_q_is_identified_in_structure() -> None:
    c = check_matrix(catalog.load("dung-mai-2025"))
    assert c.rank == c.n_parameters == 40 and not c.trade_offs
    assert c.to_dict() == check_matrix(catalog.load("dung-mai-2025")).to_dict()  # seeded


def test_check_structure_needs_no_log(cli: Cli) -> None:
    r = cli("fit", "--check-structure", "-m", "dung-mai-2025", "--binary", "-f", "json")
    assert r.code == 0, r.err
    data = r.json()
    assert data["rank"] == 16 and not data["identified"]
    assert "CAP-DEV's p and its q on SCI-AI" in data["trade_offs"][0]["note"]
    r = cli("fit", "--check-structure", "-m", "dung-mai-2025", "--stack", "RE,IDA,DEBATE")
    assert r.code == 0, r.err
    assert "rank" in r.out


def test_check_structure_refuses_a_log_or_no_matrix(cli: Cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    r = cli("fit", "--check-structure")
    assert r.code == 2 and "--matrix" in r.err
    log = tmp_path / "log.csv"
    log.write_text("case,layer,failed\n1,RE,1\n")
    r = cli("fit", str(log), "--check-structure", "-m", "dung-mai-2025")
    assert r.code == 2 and "reads no log" in r.err
    r = cli("fit", "--check-structure", "-m", "dung-mai-2025", "--stack", "RE,NOPE")
    assert r.code == 2 and "'NOPE' is not a layer" in r.err

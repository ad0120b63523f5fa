"""Dawid–Skene: each cell's true level and each rater's confusion matrix, by EM, without
ground truth."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["DawidSkene", "dawid_skene"]

_FLOOR = 1e-10
"""Smallest confusion probability or prior: a rater who never said X under class k is not
made certain never to (log 0), the floor crowd-kit uses too."""


@dataclass(frozen=True)
class DawidSkene:
    """The fitted model."""

    posterior: np.ndarray
    """``posterior[i, k]``: probability that item ``i``'s true class is ``k``."""
    prior: np.ndarray
    """``prior[k]``: share of items of class ``k``."""
    confusion: np.ndarray
    """``confusion[j, k, l]``: probability that rater ``j`` says ``l`` when the class is ``k``."""
    iterations: int
    """EM iterations run."""
    converged: bool
    """Whether the log-likelihood stopped changing (by less than ``tol``) before ``max_iter``."""
    log_likelihood: float
    """Log-likelihood of the votes under the fitted model (classes summed out)."""


def dawid_skene(
    labels: ArrayLike, n_classes: int, *, max_iter: int = 100, tol: float = 1e-7
) -> DawidSkene:
    """Fit Dawid and Skene's model to ``labels`` (items × raters class indices, -1 = none).

    Starts from each item's vote shares (the soft majority vote); the M-step sets the prior
    and each rater's confusion matrix from the current posteriors, the E-step the posteriors
    from those, until the log-likelihood gains less than ``tol``.

    Examples
    --------
    Three raters, two reliable and one who always says 0:

    >>> labels = [[0, 0, 0], [1, 1, 0], [1, 1, 0], [0, 0, 0], [1, -1, 0]]
    >>> fit = dawid_skene(labels, 2)
    >>> fit.posterior.argmax(axis=1).tolist(), fit.converged
    ([0, 1, 1, 0, 1], True)

    Notes
    -----
    Each iteration costs O(items × raters × classes²). EM finds a local maximum; the
    majority-vote start makes it the one near the raters' plain consensus.

    References
    ----------
    Dawid, A. P. & Skene, A. M. (1979). Maximum likelihood estimation of observer error-rates
    using the EM algorithm. Journal of the Royal Statistical Society C 28(1), 20–28.
    """
    votes = np.asarray(labels, dtype=np.int64)
    if votes.ndim != 2:
        raise ValueError("labels must be items × raters")
    if ((votes < -1) | (votes >= n_classes)).any():
        raise ValueError(f"labels must be -1 or a class index below {n_classes}")
    items, raters = votes.shape
    # one_hot[i, j, l] = 1 when rater j said l on item i
    one_hot = np.zeros((items, raters, n_classes))
    i_idx, j_idx = np.nonzero(votes >= 0)
    one_hot[i_idx, j_idx, votes[i_idx, j_idx]] = 1.0
    shares = one_hot.sum(axis=1)
    totals = shares.sum(axis=1, keepdims=True)
    posterior = np.divide(
        shares, totals, out=np.full_like(shares, 1.0 / n_classes), where=totals > 0
    )
    previous = -np.inf
    converged = False
    iterations = 0
    log_lik = -np.inf
    for iterations in range(1, max_iter + 1):  # noqa: B007 (the count is reported)
        prior, confusion = _m_step(posterior, one_hot)
        posterior, log_lik = _e_step(prior, confusion, one_hot)
        if log_lik - previous < tol:
            converged = True
            break
        previous = log_lik
    prior, confusion = _m_step(posterior, one_hot)
    return DawidSkene(posterior, prior, confusion, iterations, converged, float(log_lik))


def _m_step(posterior: np.ndarray, one_hot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    prior = np.maximum(posterior.mean(axis=0), _FLOOR)
    # counts[j, k, l] = sum_i posterior[i, k] * one_hot[i, j, l]
    counts = np.maximum(np.einsum("ik,ijl->jkl", posterior, one_hot), _FLOOR)
    return prior, counts / counts.sum(axis=2, keepdims=True)


def _e_step(
    prior: np.ndarray, confusion: np.ndarray, one_hot: np.ndarray
) -> tuple[np.ndarray, float]:
    # log P(votes of i, class k) = log prior_k + sum_j sum_l one_hot[i,j,l] log confusion[j,k,l]
    joint = np.log(prior)[None, :] + np.einsum("ijl,jkl->ik", one_hot, np.log(confusion))
    top = joint.max(axis=1, keepdims=True)
    weights = np.exp(joint - top)
    total = weights.sum(axis=1, keepdims=True)
    return weights / total, float((top + np.log(total)).sum())

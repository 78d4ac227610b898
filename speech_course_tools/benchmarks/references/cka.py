"""Centred kernel alignment written from Kornblith et al. (2019) and Song et al. (2012).

Kornblith, Norouzi, Lee & Hinton (2019), "Similarity of neural network
representations revisited", ICML, section 3:

* ``HSIC(K, L) = tr(K H L H) / (n - 1)^2`` with ``H = I - 11^T / n``;
* ``CKA(K, L) = HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L))``;
* linear kernel ``k(x, y) = x^T y``; RBF kernel ``exp(-||x - y||^2 / (2 sigma^2))``
  with ``sigma`` a fraction ``t`` of the median distance between examples. As in
  the course (docs/methods), ``2 sigma^2 = 2 t^2 median(D^2)`` with the median
  over the full ``n x n`` matrix of squared distances.

Song, Smola, Gretton, Bedo & Borgwardt (2012), "Feature selection via
dependence maximization", JMLR, eq. 5 (the unbiased HSIC estimator used for
debiased CKA)::

    HSIC_1 = [tr(K' L') + 1^T K' 1 1^T L' 1 / ((n - 1)(n - 2)) - 2 / (n - 2) 1^T K' L' 1] / (n (n - 3))

where ``K'`` and ``L'`` are the Gram matrices with their diagonals set to zero.

Route taken (different from ``course.similarity``): ``tr(K H L H)`` is computed
as ``<H K H, L>_F`` (only one side centred), ``H K H`` from the row, column and
grand means of ``K``; squared distances for the RBF kernel come from
:func:`scipy.spatial.distance.cdist` rather than from a Gram matrix; debiased
CKA uses Song et al.'s closed form rather than U-centring. Everything is float64.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.distance import cdist


def linear_kernel(X: np.ndarray) -> np.ndarray:
    """``K_ij = x_i^T x_j`` in float64, shape (n, n)."""
    x = np.asarray(X, dtype=np.float64)
    return x @ x.T


def rbf_kernel(X: np.ndarray, threshold: float = 1.0) -> np.ndarray:
    """``K_ij = exp(-||x_i - x_j||^2 / (2 t^2 median(D^2)))``, squared distances from scipy's cdist.

    Parameters
    ----------
    X : array, shape (n, p)
    threshold : float
        ``t``: the bandwidth as a fraction of the median distance.
    """
    x = np.asarray(X, dtype=np.float64)
    d2 = cdist(x, x, metric="sqeuclidean")
    return np.exp(-d2 / (2.0 * threshold ** 2 * np.median(d2)))


def double_centre(K: np.ndarray) -> np.ndarray:
    """``H K H`` computed from the means: ``K_ij - mean_row_i - mean_col_j + mean``."""
    k = np.asarray(K, dtype=np.float64)
    return k - k.mean(axis=1, keepdims=True) - k.mean(axis=0, keepdims=True) + k.mean()


def hsic(K: np.ndarray, L: np.ndarray) -> float:
    """Biased HSIC, ``tr(K H L H) / (n - 1)^2 = <H K H, L>_F / (n - 1)^2``."""
    n = K.shape[0]
    return float(np.sum(double_centre(K) * L)) / (n - 1) ** 2


def hsic_unbiased(K: np.ndarray, L: np.ndarray) -> float:
    """Unbiased HSIC estimator of Song et al. (2012), eq. 5 (needs n >= 4)."""
    n = K.shape[0]
    k = np.array(K, dtype=np.float64)
    ell = np.array(L, dtype=np.float64)
    np.fill_diagonal(k, 0.0)
    np.fill_diagonal(ell, 0.0)
    k_rows, l_rows = k.sum(axis=1), ell.sum(axis=1)  # K' 1 and L' 1
    trace = float(np.sum(k * ell))  # tr(K' L') for symmetric matrices
    total = trace + k_rows.sum() * l_rows.sum() / ((n - 1) * (n - 2)) - 2.0 / (n - 2) * float(k_rows @ l_rows)
    return total / (n * (n - 3))


def cka_from_grams(K: np.ndarray, L: np.ndarray, debiased: bool = False) -> float:
    """CKA of two Gram matrices over the same n examples (biased HSIC, or Song et al.'s unbiased one)."""
    h = hsic_unbiased if debiased else hsic
    return h(K, L) / np.sqrt(h(K, K) * h(L, L))


def linear_cka(X: np.ndarray, Y: np.ndarray, debiased: bool = False) -> float:
    """Linear CKA of two representations of the same examples via their Gram matrices."""
    return cka_from_grams(linear_kernel(X), linear_kernel(Y), debiased)


def rbf_cka(X: np.ndarray, Y: np.ndarray, threshold: float = 1.0, debiased: bool = False) -> float:
    """RBF CKA of two representations of the same examples."""
    return cka_from_grams(rbf_kernel(X, threshold), rbf_kernel(Y, threshold), debiased)


def cka_matrix(layers: list[np.ndarray], debiased: bool = False) -> np.ndarray:
    """Linear CKA between every pair of layers, each Gram matrix computed and centred once.

    Parameters
    ----------
    layers : list of arrays, shape (n, p_l)
        The same n examples in every layer.

    Returns
    -------
    np.ndarray, shape (len(layers), len(layers))
    """
    grams = [linear_kernel(x) for x in layers]
    if debiased:
        def inner(i_k: int, j_k: int) -> float:
            return hsic_unbiased(grams[i_k], grams[j_k])
    else:
        centred = [double_centre(k) for k in grams]

        def inner(i_k: int, j_k: int) -> float:
            return float(np.sum(centred[i_k] * grams[j_k]))  # (n - 1)^2 cancels in the ratio

    m = len(layers)
    self_h = [inner(i, i) for i in range(m)]
    out = np.eye(m)
    for i in range(m):
        for j in range(i + 1, m):
            out[i, j] = out[j, i] = inner(i, j) / np.sqrt(self_h[i] * self_h[j])
    return out

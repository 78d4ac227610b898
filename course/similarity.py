"""Comparing representations: RDMs and RSA, and centred kernel alignment (CKA).

Both methods compare two representations of the **same stimuli** (rows of
``X`` and ``Y`` must correspond, e.g. the same phone segments pooled from two
layers or two models); the feature dimensions may differ.

Representational similarity analysis (Kriegeskorte et al. 2008) builds a
representational dissimilarity matrix (RDM) per representation with
:func:`rdm` and correlates the upper triangles with :func:`compare_rdms`;
:func:`rsa_profile` does so layer by layer within each speaker, for a
representation and its control.
Metric names and scalings follow rsatoolbox, so numbers are comparable:

* ``"correlation"``: ``1 - r`` (Pearson correlation between two stimuli's
  patterns across channels);
* ``"euclidean"``: the **squared** Euclidean distance divided by the number of
  channels, ``||x_i - x_j||^2 / p`` (rsatoolbox's convention; it is *not*
  ``scipy.spatial.distance.pdist(X, "euclidean")``);
* ``"cosine"``: ``1 - cos(x_i, x_j)``.

CKA (Kornblith et al. 2019, "Similarity of neural network representations
revisited", ICML) compares centred Gram matrices::

    CKA(K, L) = <K~, L~>_F / (||K~||_F ||L~||_F),   K~ = H K H,  H = I - 11^T / n

with a linear kernel (:func:`gram_linear`) or an RBF kernel
(:func:`gram_rbf`). Biased CKA of *unrelated* high-dimensional data is far
from 0 when there are few stimuli (about 0.99 for 768-d noise at n = 5);
the debiased estimator replaces ``H K H`` by the U-centring of Székely & Rizzo
(2014, "Partial distance correlation with methods for dissimilarities"), i.e.
the unbiased HSIC estimator of Song et al. (2012), and stays near 0.
Everything is computed in float64: centring a float32 Gram matrix of data
with a large offset loses most of its digits.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd

from course.stats import average_ranks

#: RDM metrics understood by :func:`rdm`.
RDM_METRICS = ("correlation", "euclidean", "cosine")
#: RDM comparison methods understood by :func:`compare_rdms`.
COMPARE_METHODS = ("spearman", "pearson", "kendall_tau_a", "cosine")


def _as_2d(x: np.ndarray, name: str) -> np.ndarray:
    """``x`` as a float64 (n, p) array, or a ValueError naming ``name``."""
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError(f"{name} must have shape (n_stimuli, n_features), got {a.shape}.")
    if a.shape[0] < 2:
        raise ValueError(f"{name} needs at least 2 stimuli (rows), got {a.shape[0]}.")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or infinite values.")
    return a


def _paired(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = _as_2d(x, "X"), _as_2d(y, "Y")
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"X and Y must describe the same stimuli: {a.shape[0]} rows vs {b.shape[0]} rows.")
    return a, b


# --------------------------------------------------------------------------
# RSA


def rdm(X: np.ndarray, metric: str = "correlation") -> np.ndarray:
    """Representational dissimilarity matrix of the rows of ``X``.

    Parameters
    ----------
    X : array, shape (n_stimuli, n_channels)
        One pattern per stimulus.
    metric : {"correlation", "euclidean", "cosine"}
        ``"correlation"``: ``1 - pearson(x_i, x_j)``; ``"euclidean"``:
        ``||x_i - x_j||^2 / n_channels`` (rsatoolbox's scaling: squared and
        divided by the number of channels); ``"cosine"``: ``1 - cos(x_i, x_j)``.

    Returns
    -------
    array, shape (n_stimuli, n_stimuli)
        Symmetric, float64, zero diagonal.

    Notes
    -----
    A constant pattern has no correlation (and a zero pattern no cosine):
    such rows give NaN dissimilarities, as in scipy and rsatoolbox.
    """
    x = _as_2d(X, "X")
    if metric == "correlation":
        x = x - x.mean(axis=1, keepdims=True)
        metric = "cosine"
    if metric == "cosine":
        norms = np.linalg.norm(x, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            u = x / norms[:, None]
        d = 1.0 - u @ u.T
    elif metric == "euclidean":
        sq = np.einsum("ij,ij->i", x, x)
        d = np.maximum(sq[:, None] + sq[None, :] - 2.0 * x @ x.T, 0.0) / x.shape[1]
    else:
        raise ValueError(f"Unknown RDM metric {metric!r}; choose one of {RDM_METRICS}.")
    d = (d + d.T) / 2.0
    np.fill_diagonal(d, 0.0)
    return d


def upper_triangle(rdm_matrix: np.ndarray) -> np.ndarray:
    """Entries above the diagonal of a square RDM, row by row (scipy's condensed order)."""
    d = np.asarray(rdm_matrix, dtype=np.float64)
    if d.ndim != 2 or d.shape[0] != d.shape[1]:
        raise ValueError(f"An RDM must be a square matrix, got shape {d.shape}.")
    if d.shape[0] < 3:
        raise ValueError(f"Comparing RDMs needs at least 3 stimuli (2 dissimilarities), got {d.shape[0]}.")
    return d[np.triu_indices(d.shape[0], k=1)]


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    denom = np.sqrt((a @ a) * (b @ b))
    if denom == 0:
        raise ValueError("An RDM is constant: its correlation with another RDM is undefined.")
    return float(a @ b / denom)


def kendall_tau_a(a: np.ndarray, b: np.ndarray, chunk: int = 256) -> float:
    """Kendall's tau-a of two vectors: ``(concordant - discordant) / (m (m - 1) / 2)``.

    Unlike tau-b, tied pairs count as neither concordant nor discordant *and*
    stay in the denominator, so a model RDM with many ties (e.g. a
    categorical model: 0 within, 1 between) is not rewarded for them
    (Nili et al. 2014, "A toolbox for representational similarity analysis").

    Runs in O(m^2) time over the ``m`` entries (vectorised in row chunks): about
    two seconds for m = 20 000 (200 stimuli) on one CPU core.
    """
    a, b = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(f"Vectors of different lengths: {a.shape[0]} and {b.shape[0]}.")
    m = len(a)
    if m < 2:
        raise ValueError("Kendall's tau needs at least 2 values.")
    s = 0.0
    for i in range(0, m, chunk):
        da = np.sign(a[i:i + chunk, None] - a[None, :])
        db = np.sign(b[i:i + chunk, None] - b[None, :])
        s += float(np.einsum("ij,ij->", da, db))
    # every unordered pair was counted twice (i, j) and (j, i); the diagonal adds 0
    return s / 2.0 / (m * (m - 1) / 2.0)


def compare_rdms(rdm_a: np.ndarray, rdm_b: np.ndarray, method: str = "spearman") -> float:
    """Similarity of two RDMs over their upper triangles (diagonal excluded).

    Parameters
    ----------
    rdm_a, rdm_b : array, shape (n, n)
        Square RDMs over the same stimuli in the same order.
    method : {"spearman", "pearson", "kendall_tau_a", "cosine"}
        Spearman's rho (Pearson correlation of average ranks), Pearson's r,
        Kendall's tau-a (:func:`kendall_tau_a`; use it when one RDM has
        ties), or the cosine of the two dissimilarity vectors (not centred).

    Returns
    -------
    float
    """
    a, b = upper_triangle(rdm_a), upper_triangle(rdm_b)
    if a.shape != b.shape:
        raise ValueError(f"RDMs over different numbers of stimuli: {np.shape(rdm_a)} vs {np.shape(rdm_b)}.")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError("An RDM contains NaN (e.g. a constant pattern under the correlation metric).")
    if method == "spearman":
        return _pearson(average_ranks(a), average_ranks(b))
    if method == "pearson":
        return _pearson(a, b)
    if method == "kendall_tau_a":
        return kendall_tau_a(a, b)
    if method == "cosine":
        denom = np.linalg.norm(a) * np.linalg.norm(b)
        if denom == 0:
            raise ValueError("An RDM is all zeros: its cosine with another RDM is undefined.")
        return float(a @ b / denom)
    raise ValueError(f"Unknown RDM comparison {method!r}; choose one of {COMPARE_METHODS}.")


def partial_rsa(rdm_a: np.ndarray, rdm_b: np.ndarray, nuisance: np.ndarray) -> float:
    """Partial Spearman correlation of two RDMs, controlling for a nuisance RDM (e.g. "same speaker or not").

    The upper triangles of the three RDMs are turned into average ranks; the partial correlation of ``a`` and
    ``b`` given ``c`` is then the Pearson correlation of what is left of ``a`` and of ``b`` after a linear
    regression on ``c``::

        (r_ab - r_ac r_bc) / sqrt((1 - r_ac^2) (1 - r_bc^2))

    It answers: do the two RDMs agree beyond what they share through the nuisance? A layer that groups segments by
    speaker and a model RDM that happens to correlate with speaker (more tokens of some phones from some voices)
    agree partly *because of* the speaker; the partial score removes that path.

    Raises
    ------
    ValueError
        RDMs of different sizes, non-finite entries, a constant RDM, or a nuisance that explains ``a`` or ``b``
        completely (|r| = 1: nothing is left to correlate).
    """
    tri = [upper_triangle(d) for d in (rdm_a, rdm_b, nuisance)]
    if len({t.shape for t in tri}) != 1:
        raise ValueError(f"RDMs over different numbers of stimuli: {[np.shape(d) for d in (rdm_a, rdm_b, nuisance)]}.")
    if not all(np.all(np.isfinite(t)) for t in tri):
        raise ValueError("An RDM contains NaN (e.g. a constant pattern under the correlation metric).")
    a, b, c = (average_ranks(t) for t in tri)
    r_ab, r_ac, r_bc = _pearson(a, b), _pearson(a, c), _pearson(b, c)
    denom = (1 - r_ac ** 2) * (1 - r_bc ** 2)
    if denom <= 1e-12:
        raise ValueError("The nuisance RDM explains one of the RDMs completely: the partial correlation is undefined.")
    return float((r_ab - r_ac * r_bc) / np.sqrt(denom))


def rsa(X: np.ndarray, Y: np.ndarray, metric: str = "correlation", method: str = "spearman") -> float:
    """Representational similarity of two representations of the same stimuli.

    ``compare_rdms(rdm(X, metric), rdm(Y, metric), method)``; ``X`` and ``Y``
    need the same number of rows, not of columns.
    """
    x, y = _paired(X, Y)
    return compare_rdms(rdm(x, metric), rdm(y, metric), method)


def rsa_profile(
    layers: Sequence[np.ndarray],
    control_layers: Sequence[np.ndarray],
    reference_rdm: np.ndarray,
    speakers: Sequence[Hashable] | np.ndarray,
) -> pd.DataFrame:
    """Layer by layer, every speaker's within-speaker RSA of a representation and of its control with a reference.

    For every layer and every speaker, the stimuli of that speaker alone are compared: the correlation-distance RDM
    (:func:`rdm`) of the layer's rows of that speaker against the reference RDM restricted to the same rows, by
    Spearman's rho (:func:`compare_rdms`); the same for the control's layer. No pair of stimuli from two different
    speakers enters a score, so a voice difference cannot make two segments look dissimilar, and each speaker's
    score is its own (not pooled), so a speaker-level interval or a paired test between layers can be put on the
    profile. This is the experiment behind notebook 03's within-speaker RSA figure.

    Parameters
    ----------
    layers : sequence of arrays, shape (n_stimuli, p)
        One representation per layer (layer ``l`` is ``layers[l]``), rows in the same stimulus order.
    control_layers : sequence of arrays, shape (n_stimuli, q)
        The control's representation of every layer (e.g. the same layer of a randomly initialised model): as many
        as ``layers``, with the same rows; the dimension may differ.
    reference_rdm : array, shape (n_stimuli, n_stimuli)
        The reference RDM over all stimuli (e.g. phonological features, MFCC means), rows in the same order.
    speakers : sequence, shape (n_stimuli,)
        The speaker of every stimulus. Every speaker needs at least 3 stimuli (3 pairs).

    Returns
    -------
    pandas.DataFrame
        One row per layer and speaker, sorted by layer, then speaker; columns ``layer`` (int), ``speaker``,
        ``model`` and ``control`` (Spearman correlations in [-1, 1]).

    Raises
    ------
    ValueError
        ``layers`` and ``control_layers`` of different lengths (or empty); a representation, the reference or
        ``speakers`` with another number of stimuli; a speaker with fewer than 3 stimuli; (from :func:`rdm` and
        :func:`compare_rdms`) a constant pattern.
    """

    if len(layers) != len(control_layers) or not len(layers):
        raise ValueError(f"One control per layer: {len(layers)} layers, {len(control_layers)} controls.")
    who = np.asarray(speakers)
    ref = np.asarray(reference_rdm, dtype=np.float64)
    if ref.shape != (len(who), len(who)):
        raise ValueError(f"reference_rdm must be ({len(who)}, {len(who)}) for {len(who)} stimuli, got {ref.shape}.")
    for name, reps in (("layers", layers), ("control_layers", control_layers)):
        for layer, x in enumerate(reps):
            if np.shape(x)[0] != len(who):
                raise ValueError(f"{name}[{layer}] has {np.shape(x)[0]} stimuli, speakers {len(who)}.")
    rows_of = {s: np.flatnonzero(who == s) for s in np.unique(who)}
    few = [s for s, r in rows_of.items() if len(r) < 3]
    if few:
        raise ValueError(f"Speakers with fewer than 3 stimuli (no within-speaker RSA): {few[:5]}.")
    table = []
    for layer, (x, c) in enumerate(zip(layers, control_layers)):
        x, c = np.asarray(x), np.asarray(c)
        for speaker, mine in rows_of.items():
            within = ref[np.ix_(mine, mine)]  # this speaker's pairs only
            table.append((layer, speaker, compare_rdms(rdm(x[mine]), within), compare_rdms(rdm(c[mine]), within)))
    return pd.DataFrame(table, columns=["layer", "speaker", "model", "control"])


# --------------------------------------------------------------------------
# CKA


def gram_linear(X: np.ndarray) -> np.ndarray:
    """Linear kernel ``K = X X^T`` in float64, shape (n, n)."""
    x = _as_2d(X, "X")
    return x @ x.T


def gram_rbf(X: np.ndarray, threshold: float = 1.0) -> np.ndarray:
    """RBF kernel with a bandwidth relative to the median distance (Kornblith et al. 2019).

    ``K_ij = exp(-D_ij^2 / (2 t^2 median(D^2)))`` where ``D`` holds the
    Euclidean distances between rows and the median is taken over the
    **full** ``n x n`` matrix of squared distances (diagonal zeros included).

    Parameters
    ----------
    X : array, shape (n, p)
    threshold : float
        ``t``, the bandwidth as a multiple of the median distance.
    """
    if not threshold > 0:
        raise ValueError(f"threshold must be positive, got {threshold}.")
    x = _as_2d(X, "X")
    sq = np.einsum("ij,ij->i", x, x)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * x @ x.T, 0.0)
    np.fill_diagonal(d2, 0.0)
    med = np.median(d2)
    if med == 0:
        raise ValueError("The median squared distance is 0 (most rows identical): the RBF bandwidth is undefined.")
    return np.exp(-d2 / (2.0 * threshold ** 2 * med))


def _check_gram(K: np.ndarray, name: str = "gram") -> np.ndarray:
    k = np.asarray(K, dtype=np.float64)
    if k.ndim != 2 or k.shape[0] != k.shape[1]:
        raise ValueError(f"{name} must be a square (n, n) matrix, got shape {k.shape}.")
    if not np.allclose(k, k.T, rtol=1e-8, atol=1e-10 * max(1.0, float(np.abs(k).max(initial=0.0)))):
        raise ValueError(f"{name} must be symmetric.")
    return k


def center_gram(K: np.ndarray, unbiased: bool = False) -> np.ndarray:
    """Centre a Gram matrix: ``H K H`` (biased), or U-centring (unbiased).

    The U-centring of Székely & Rizzo (2014), whose Frobenius inner products
    are the unbiased HSIC estimator (Song et al. 2012) up to the factor
    ``1 / (n (n - 3))``::

        K~_ij = K_ij - r_i - r_j + g   for i != j,   K~_ii = 0
        r_i = sum_{l != i} K_il / (n - 2)     (diagonal of K left out)
        g   = sum_{k != l} K_kl / ((n - 1)(n - 2))

    Parameters
    ----------
    K : array, shape (n, n)
        Symmetric Gram matrix.
    unbiased : bool
        U-centring (needs n >= 4) instead of ``H K H``.

    Returns
    -------
    array, shape (n, n), float64
    """
    k = _check_gram(K).copy()
    n = k.shape[0]
    if unbiased:
        if n < 4:
            raise ValueError(f"Debiased (unbiased HSIC) centring needs at least 4 stimuli, got {n}.")
        np.fill_diagonal(k, 0.0)
        r = k.sum(axis=0) / (n - 2)
        g = k.sum() / ((n - 1) * (n - 2))
        k = k - r[:, None] - r[None, :] + g
        np.fill_diagonal(k, 0.0)
        return k
    mean_cols = k.mean(axis=0)
    return k - mean_cols[None, :] - mean_cols[:, None] + mean_cols.mean()


def cka(gram_x: np.ndarray, gram_y: np.ndarray, debiased: bool = False) -> float:
    """Centred kernel alignment of two Gram matrices over the same n stimuli.

    ``<K~, L~>_F / (||K~||_F ||L~||_F)`` with ``K~`` from :func:`center_gram`
    (``unbiased=debiased``). Biased CKA lies in [0, 1]; debiased CKA can be
    slightly negative for unrelated representations.

    Raises
    ------
    ValueError
        For non-square, non-symmetric or mismatched matrices, ``n < 4`` with
        ``debiased=True``, or a representation whose centred Gram matrix is 0
        (all rows identical).
    """
    kx, ky = _check_gram(gram_x, "gram_x"), _check_gram(gram_y, "gram_y")
    if kx.shape != ky.shape:
        raise ValueError(f"Gram matrices over different stimuli: {kx.shape} vs {ky.shape}.")
    cx, cy = center_gram(kx, debiased), center_gram(ky, debiased)
    num = float(np.einsum("ij,ij->", cx, cy))
    denom = np.linalg.norm(cx) * np.linalg.norm(cy)
    if denom == 0:
        raise ValueError("A centred Gram matrix is zero (all stimuli have the same representation): CKA is undefined.")
    return num / float(denom)


def feature_space_linear_cka(X: np.ndarray, Y: np.ndarray, debiased: bool = False) -> float:
    """Linear CKA computed from features, without n x n Gram matrices.

    Equal to ``cka(gram_linear(X), gram_linear(Y), debiased)`` but costs
    O(n p q) time and O(p q) memory instead of O(n^2), so it suits frame-level
    comparisons with many thousands of rows. With column-centred ``X, Y``::

        biased:   ||Y^T X||_F^2 / (||X^T X||_F ||Y^T Y||_F)

    Debiased: for column-centred features the U-centred linear kernels
    satisfy (expanding the definition in :func:`center_gram` with ``K 1 = 0``)::

        <K~, L~>_F = ||Y^T X||_F^2 - n/(n-2) k.l + (sum k)(sum l) / ((n-1)(n-2))

    where ``k_i = ||x_i||^2`` and ``l_i = ||y_i||^2`` are the squared row
    norms; the same formula gives the two normalising terms.

    Parameters
    ----------
    X : array, shape (n, p)
    Y : array, shape (n, q)
        The same n stimuli, in the same order.
    debiased : bool
        Unbiased HSIC estimator (needs n >= 4).
    """
    x, y = _paired(X, Y)
    n = x.shape[0]
    if debiased and n < 4:
        raise ValueError(f"Debiased CKA needs at least 4 stimuli, got {n}.")
    x = x - x.mean(axis=0)
    y = y - y.mean(axis=0)

    def hsic(a: np.ndarray, b: np.ndarray) -> float:
        dot = float(np.linalg.norm(b.T @ a) ** 2)
        if not debiased:
            return dot
        ka, kb = np.einsum("ij,ij->i", a, a), np.einsum("ij,ij->i", b, b)
        return dot - n / (n - 2) * float(ka @ kb) + float(ka.sum() * kb.sum()) / ((n - 1) * (n - 2))

    denom = np.sqrt(hsic(x, x) * hsic(y, y))
    if denom == 0:
        raise ValueError("A representation is constant over the stimuli: CKA is undefined.")
    return hsic(x, y) / float(denom)

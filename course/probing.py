"""Linear probes: what a layer encodes, with controls and description length.

A probe is a simple classifier trained to read a property (phone, word,
speaker, pitch, ...) off one layer's vectors. This module builds probing
datasets from hidden states and alignments, trains and scores linear probes,
and implements the two standard controls for "the probe learned it, not the
representation":

* **control tasks** (Hewitt & Liang 2019, "Designing and interpreting probes
  with control tasks", EMNLP): every *type* (e.g. every phone or word) gets a
  fixed random label; a selective probe does well on the real task and badly
  on the control task. ``selectivity = task accuracy - control accuracy``;
* **MDL / online coding** (Voita & Titov 2020, "Information-theoretic probing
  with minimum description length", EMNLP): how many bits it takes to transmit
  the labels when a probe trained on the first blocks encodes the next one.

Datasets are **speaker-aware**: every row records its speaker (``groups``) so
that train and test sets can be speaker-disjoint, and a probe cannot score by
recognising voices (use the corpus's speaker splits, or :func:`split_by_speaker`).
Acoustic baselines (``course.features.mfcc``) and a randomly initialised model
(``load_model(..., random_init=True)``) are the other controls every probing
result needs; pass their frame arrays wherever a ``Representation`` is accepted.
"""

from __future__ import annotations

import warnings
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Hashable, Iterator, Sequence

import numpy as np
import pandas as pd

from course.features import Representation
from course.frames import FRAME_SECONDS, frame_labels, pool_segments

#: Block boundaries of the online code, in percent of the data (Voita & Titov 2020).
MDL_FRACTIONS = (0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.25, 12.5, 25.0, 50.0, 100.0)

_TASKS = ("classification", "regression")


@dataclass
class ProbingDataset:
    """One vector per frame or segment, with its label, speaker and utterance.

    Attributes
    ----------
    X : np.ndarray, shape (n, dim)
    y : np.ndarray, shape (n,)
        Labels (phone or word strings for the datasets built here).
    groups : np.ndarray, shape (n,)
        Speaker of each row: keep train and test speakers disjoint.
    utt_ids : np.ndarray, shape (n,)
        Utterance of each row.
    """

    X: np.ndarray
    y: np.ndarray
    groups: np.ndarray
    utt_ids: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.X)
        if np.ndim(self.X) != 2:
            raise ValueError(f"X must have shape (n, dim), got {np.shape(self.X)}.")
        for name in ("y", "groups", "utt_ids"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name} has {len(getattr(self, name))} rows but X has {n}.")

    def __len__(self) -> int:
        return len(self.X)

    def subset(self, index: np.ndarray) -> "ProbingDataset":
        """Rows selected by a boolean mask or an index array."""
        return ProbingDataset(self.X[index], self.y[index], self.groups[index], self.utt_ids[index])


@dataclass
class ProbeResult:
    """A fitted probe and its scores.

    Attributes
    ----------
    score : float
        Test accuracy (classification) or R^2 (regression).
    train_score : float
        The same on the training data (a large gap means memorisation).
    probe : sklearn.pipeline.Pipeline
        ``StandardScaler`` followed by the linear model.
    task : str
    """

    score: float
    train_score: float
    probe: object
    task: str


# --------------------------------------------------------------------------
# Datasets


def aligned_features(
    features: Sequence[Representation | np.ndarray], utterances: Sequence, layer: int | None = None
) -> Iterator[tuple[np.ndarray, object, float]]:
    """Pair each utterance with its frame vectors of one layer.

    Parameters
    ----------
    features : sequence of Representation or array
        ``Representation`` from :func:`course.features.extract` (then ``layer``
        is required), or per-utterance arrays of shape (n_frames, dim) such as
        :func:`course.features.mfcc` output (then ``layer`` must be None), or
        (n_layers + 1, n_frames, dim) arrays (``layer`` required).
    utterances : sequence of Utterance
        In the same order; each needs ``id``, ``speaker``, ``phones``, ``words``.
    layer : int, optional
        Hidden-state index (0 = input of the first transformer layer).

    Yields
    ------
    (frames, utterance, frame_seconds)
        ``frames`` has shape (n_frames, dim).
    """
    if len(features) != len(utterances):
        raise ValueError(f"{len(features)} feature arrays but {len(utterances)} utterances.")
    if len(utterances) == 0:
        raise ValueError("No utterances given.")
    for feats, utt in zip(features, utterances):
        frame_seconds = FRAME_SECONDS
        if isinstance(feats, Representation):
            if feats.utt_id != utt.id:
                raise ValueError(f"Representation {feats.utt_id!r} is paired with utterance {utt.id!r}; "
                                 "keep both lists in the same order.")
            frame_seconds = feats.frame_seconds
            feats = feats.hidden_states
        arr = np.asarray(feats)
        if arr.ndim == 3:
            if layer is None:
                raise ValueError(f"Features have {arr.shape[0]} layers: choose one with layer=...")
            if not -arr.shape[0] <= layer < arr.shape[0]:
                raise ValueError(f"layer {layer} out of range for {arr.shape[0]} hidden states.")
            arr = arr[layer]
        elif arr.ndim == 2:
            if layer is not None:
                raise ValueError("These features have a single layer (shape (n_frames, dim)): use layer=None.")
        else:
            raise ValueError(f"Features must have shape (n_frames, dim) or (n_layers + 1, n_frames, dim), "
                             f"got {arr.shape}.")
        if arr.shape[0] == 0:
            raise ValueError(f"Utterance {utt.id!r} has no frames.")
        yield arr, utt, frame_seconds


def _tier(utt, tier: str) -> list:  # noqa: ANN001
    if tier not in ("phones", "words"):
        raise ValueError(f"tier must be 'phones' or 'words', got {tier!r}.")
    return getattr(utt, tier)


def _stack(xs: list[np.ndarray], ys: list, spk: list, ids: list) -> ProbingDataset:
    if not ys:
        raise ValueError("The dataset is empty: no labelled frames or segments.")
    return ProbingDataset(np.concatenate(xs), np.asarray(ys), np.asarray(spk), np.asarray(ids))


def frame_dataset(
    features: Sequence[Representation | np.ndarray],
    utterances: Sequence,
    layer: int | None = None,
    tier: str = "phones",
    silence: str | None = None,
) -> ProbingDataset:
    """One row per frame, labelled with the phone (or word) that owns it.

    Frame ownership follows :mod:`course.frames` (a segment owns the frames
    whose centre lies inside it).

    Parameters
    ----------
    features, utterances, layer
        See :func:`aligned_features`.
    tier : {"phones", "words"}
    silence : str, optional
        Label for frames no segment owns; by default (None) they are dropped.
    """
    xs, ys, spk, ids = [], [], [], []
    for frames, utt, step in aligned_features(features, utterances, layer):
        labels = np.asarray(frame_labels(_tier(utt, tier), len(frames), step, silence=""), dtype=object)
        keep = labels != "" if silence is None else np.ones(len(labels), bool)
        labels[labels == ""] = silence
        xs.append(frames[keep])
        ys.extend(labels[keep])
        spk.extend([utt.speaker] * int(keep.sum()))
        ids.extend([utt.id] * int(keep.sum()))
    return _stack(xs, ys, spk, ids)


def segment_dataset(
    features: Sequence[Representation | np.ndarray],
    utterances: Sequence,
    layer: int | None = None,
    tier: str = "phones",
    reduce: str = "mean",
) -> ProbingDataset:
    """One row per phone (or word) segment: its frames pooled with ``reduce``.

    Uses :func:`course.frames.pool_segments`; segments that start after the
    last frame are left out (as in :func:`course.frames.frame_labels`).
    """
    xs, ys, spk, ids = [], [], [], []
    for frames, utt, step in aligned_features(features, utterances, layer):
        ivs = [iv for iv in _tier(utt, tier) if iv.start < len(frames) * step]
        if not ivs:
            continue
        xs.append(pool_segments(frames, ivs, step, reduce))
        ys.extend(iv.label for iv in ivs)
        spk.extend([utt.speaker] * len(ivs))
        ids.extend([utt.id] * len(ivs))
    return _stack(xs, ys, spk, ids)


def split_by_speaker(dataset: ProbingDataset, test_speakers: Sequence[str]) -> tuple[ProbingDataset, ProbingDataset]:
    """Speaker-disjoint (train, test) split: rows of ``test_speakers`` go to test."""
    test = np.isin(dataset.groups, list(test_speakers))
    if not test.any():
        raise ValueError(f"None of the test speakers {list(test_speakers)} occurs in the dataset.")
    if test.all():
        raise ValueError("Every row belongs to a test speaker: the training set would be empty.")
    return dataset.subset(~test), dataset.subset(test)


# --------------------------------------------------------------------------
# Probes


def make_probe(task: str = "classification", C: float = 1.0, alpha: float = 1.0, max_iter: int = 300,
               tol: float = 1e-3):  # noqa: ANN201
    """An unfitted linear probe: standardisation, then a linear model.

    Parameters
    ----------
    task : {"classification", "regression"}
        Multinomial logistic regression (L2 penalty, inverse strength ``C``)
        or ridge regression (penalty ``alpha``).
    C, alpha : float
        Regularisation.
    max_iter, tol : int, float
        L-BFGS settings of the logistic regression. On standardised features
        the loss is well conditioned: with ``tol=1e-3`` L-BFGS stops after
        one to two hundred iterations, about a second for 5 000 vectors of
        dimension 192 and 50 classes on one CPU core, and accuracy does not
        change in the third decimal with a tighter tolerance.
    """
    from sklearn.linear_model import LogisticRegression, Ridge  # start-up: scikit-learn takes about 2 s
    from sklearn.pipeline import make_pipeline  # start-up, as above
    from sklearn.preprocessing import StandardScaler  # start-up, as above

    if task == "classification":
        model = LogisticRegression(C=C, max_iter=max_iter, tol=tol, solver="lbfgs")
    elif task == "regression":
        model = Ridge(alpha=alpha)
    else:
        raise ValueError(f"task must be one of {_TASKS}, got {task!r}.")
    return make_pipeline(StandardScaler(), model)


def _single_blas_thread() -> AbstractContextManager:
    """Run BLAS and OpenMP single-threaded inside the block.

    Probing problems are small (thousands of vectors): one thread fits one in
    a fraction of a second, while multi-threaded BLAS on a busy 2-core machine
    oversubscribes the cores and was measured 30 times slower. The libraries are
    imported first so that the limit reaches them.
    """
    import sklearn.linear_model  # noqa: F401  by design: loads scipy's and numpy's BLAS before the limit
    from threadpoolctl import threadpool_limits  # by design: after the import above

    return threadpool_limits(limits=1)


def _check_xy(X: np.ndarray, y: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    x, t = np.asarray(X), np.asarray(y)
    if x.ndim != 2:
        raise ValueError(f"X_{name} must have shape (n, dim), got {x.shape}.")
    if len(x) != len(t):
        raise ValueError(f"X_{name} has {len(x)} rows but y_{name} has {len(t)}.")
    if len(x) == 0:
        raise ValueError(f"The {name} set is empty.")
    return x, t


def train_probe(
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_test: np.ndarray,
    y_test: np.ndarray,
    task: str = "classification",
    C: float = 1.0,
    alpha: float = 1.0,
    max_iter: int = 300,
    groups: tuple[np.ndarray, np.ndarray] | None = None,
) -> ProbeResult:
    """Fit a linear probe on the training set and score it on the test set.

    Parameters
    ----------
    X_train, y_train, X_test, y_test : arrays
        Vectors (n, dim) and labels (classes) or targets (continuous).
    task : {"classification", "regression"}
        Scored by accuracy or by R^2 (``sklearn.metrics.r2_score``).
    C, alpha, max_iter
        See :func:`make_probe`.
    groups : (groups_train, groups_test), optional
        Speakers of the rows: if given, a speaker in both sets is an error.

    Returns
    -------
    ProbeResult
        Test classes unseen in training count as errors.
    """
    xtr, ytr = _check_xy(X_train, y_train, "train")
    xte, yte = _check_xy(X_test, y_test, "test")
    if xtr.shape[1] != xte.shape[1]:
        raise ValueError(f"Train vectors have dimension {xtr.shape[1]} but test vectors {xte.shape[1]}.")
    if groups is not None:
        shared = sorted(set(np.asarray(groups[0]).tolist()) & set(np.asarray(groups[1]).tolist()))
        if shared:
            raise ValueError(f"Speakers {shared} are in both the training and the test set: split by speaker.")
    if task == "classification" and len(np.unique(ytr)) < 2:
        raise ValueError("The training labels have a single class: there is nothing to probe.")
    probe = make_probe(task, C=C, alpha=alpha, max_iter=max_iter)
    with _single_blas_thread():
        probe.fit(xtr, ytr)
        return ProbeResult(float(probe.score(xte, yte)), float(probe.score(xtr, ytr)), probe, task)


def heldout_scores(
    representations: dict[str, np.ndarray],
    labels: Sequence[Hashable] | np.ndarray,
    speakers: Sequence[Hashable] | np.ndarray,
    train: Sequence[bool] | np.ndarray,
    test: Sequence[bool] | np.ndarray,
    folds: Sequence[Sequence[Hashable]],
    max_iter: int = 300,
) -> pd.DataFrame:
    """Probe accuracy of every held-out speaker, for a representation and its controls, without speaker leaks.

    For every fold (a group of held-out speakers) and every representation, a probe (:func:`train_probe`) is fitted
    on the ``train`` rows of the speakers **outside** the fold and scored on the ``test`` rows of the fold's
    speakers; each speaker's accuracy is the share of its own test rows labelled right. The same rows and the same
    fits serve every representation, so the columns compare speaker by speaker (paired).

    Parameters
    ----------
    representations : dict of str to np.ndarray, shape (n_rows, dim)
        The representation under study and its controls (e.g. a trained layer, the same layer of a random twin,
        MFCCs): the same rows (segments) in the same order; the dimensions may differ.
    labels : array-like, shape (n_rows,)
        The class of every row (e.g. its phone).
    speakers : array-like, shape (n_rows,)
        The speaker of every row.
    train : array-like of bool, shape (n_rows,)
        Rows a probe may learn from (e.g. the training speakers' segments and held-out speakers' enrolment
        segments); rows that are neither ``train`` nor ``test`` are not used.
    test : array-like of bool, shape (n_rows,)
        Rows to score.
    folds : sequence of sequences of speakers
        Disjoint groups of speakers; every speaker of a ``test`` row is in one of them. A fold's speakers are
        scored by a probe that saw none of their rows.
    max_iter : int
        L-BFGS iterations of each probe (see :func:`make_probe`).

    Returns
    -------
    pandas.DataFrame of float
        Index: the speakers of the ``test`` rows, sorted, named ``"speaker"``; one column per representation, in the
        order of ``representations``; accuracies in [0, 1].

    Raises
    ------
    ValueError
        Arrays of different lengths; a speaker of a ``test`` row in no fold or in two; (from :func:`train_probe`)
        a fold left with no training row, or with a single class.
    """

    spk = np.asarray(speakers)
    y = np.asarray(labels)
    fit_rows, score_rows = np.asarray(train, dtype=bool), np.asarray(test, dtype=bool)
    n = len(spk)
    if len(y) != n or len(fit_rows) != n or len(score_rows) != n or any(len(x) != n
                                                                         for x in representations.values()):
        raise ValueError(f"Every array needs one entry per row ({n} speakers given).")
    scored = np.unique(spk[score_rows])
    member = [sum(s in set(f) for f in folds) for s in scored.tolist()]
    if any(m != 1 for m in member):
        bad = [s for s, m in zip(scored.tolist(), member) if m != 1]
        raise ValueError(f"Every speaker of a test row must be in exactly one fold: {bad[:5]}.")
    right = {name: np.zeros(n) for name in representations}
    for fold in folds:
        inside = np.isin(spk, list(fold))
        fit, score = fit_rows & ~inside, score_rows & inside
        if not score.any():
            continue
        for name, X in representations.items():
            X = np.asarray(X)
            probe = train_probe(X[fit], y[fit], X[score], y[score], max_iter=max_iter).probe
            with _single_blas_thread():
                right[name][score] = probe.predict(X[score]) == y[score]
    table = pd.DataFrame({name: [right[name][score_rows & (spk == s)].mean() for s in scored]
                          for name in representations}, index=pd.Index(scored, name="speaker"))
    return table


def layer_profile(
    datasets: Sequence[ProbingDataset],
    control_datasets: Sequence[ProbingDataset],
    heldout_speakers: Sequence[Hashable],
    classes: Sequence[Hashable],
    max_iter: int = 300,
) -> pd.DataFrame:
    """Layer by layer, every held-out speaker's probe accuracy on a representation and on its control.

    For every layer, one probe (:func:`train_probe`) is fitted on the rows of the speakers **not** in
    ``heldout_speakers`` whose label is in ``classes``, and predicts the held-out speakers' rows of those classes;
    the same is done with the control's dataset of that layer. Each held-out speaker's accuracy is the share of its
    own rows labelled right (not pooled over speakers), so a speaker-level interval or test can be put on the
    profile. This is the experiment behind notebook 02's main figure.

    Parameters
    ----------
    datasets : sequence of ProbingDataset
        One per layer (layer ``l`` is ``datasets[l]``), all with the same rows (segments) in the same order.
    control_datasets : sequence of ProbingDataset
        The control's dataset of every layer (e.g. the same layer of a randomly initialised Transformer): as many as
        ``datasets``, with the same rows (labels and speakers) in the same order; the dimension may differ.
    heldout_speakers : sequence
        Speakers whose rows are only ever scored, never trained on.
    classes : sequence
        Labels probed: rows with another label are left out of training and of scoring.
    max_iter : int
        L-BFGS iterations of each probe (see :func:`make_probe`).

    Returns
    -------
    pandas.DataFrame
        One row per layer and held-out speaker (with at least one scored row), sorted by layer, then speaker;
        columns ``layer`` (int), ``speaker``, ``model`` and ``control`` (accuracies in [0, 1]).

    Raises
    ------
    ValueError
        ``datasets`` and ``control_datasets`` of different lengths or with other rows; no held-out row to score;
        (from :func:`train_probe`) nothing or a single class left to train on.
    """

    if len(datasets) != len(control_datasets) or not len(datasets):
        raise ValueError(f"One control dataset per layer: {len(datasets)} layers, {len(control_datasets)} controls.")
    held, probed = list(heldout_speakers), list(classes)
    tables = []
    for layer, (ds, ctrl) in enumerate(zip(datasets, control_datasets)):
        if not (np.array_equal(ds.y, ctrl.y) and np.array_equal(ds.groups, ctrl.groups)):
            raise ValueError(f"Layer {layer}: the control's rows differ from the model's (labels or speakers).")
        test, keep = np.isin(ds.groups, held), np.isin(ds.y, probed)
        if not (keep & test).any():
            raise ValueError(f"No row of a held-out speaker {held[:5]} with a label in classes.")
        # one fold: every held-out speaker is scored by the probe fitted on the other speakers' rows
        table = heldout_scores({"model": ds.X, "control": ctrl.X}, ds.y, ds.groups, keep & ~test, keep & test,
                               [held], max_iter=max_iter)
        tables.append(table.reset_index().assign(layer=layer))
    return pd.concat(tables, ignore_index=True)[["layer", "speaker", "model", "control"]]


# --------------------------------------------------------------------------
# Control tasks


def control_task(types: Sequence[Hashable], labels: Sequence[Hashable] | None = None,
                 seed: int = 0) -> dict:
    """A control task (Hewitt & Liang 2019): a fixed random label for every type.

    Each distinct type (phone, word, ...) independently draws one label from
    the **empirical distribution** of ``labels`` (label frequencies counted
    over all items, not over types), with a fixed seed. Every item of a type
    then shares that label, so a probe can only solve the control task by
    memorising types: its accuracy measures the probe's capacity to memorise,
    not what the representation encodes.

    Parameters
    ----------
    types : sequence
        Type of each item. Build the mapping on train **and** test items
        together so that a type keeps its label across splits.
    labels : sequence, optional
        Task labels whose distribution is sampled (default: ``types``
        themselves, e.g. phone identity).
    seed : int

    Returns
    -------
    dict
        type -> control label; apply it with :func:`control_labels`.

    Notes
    -----
    When the task label is the type itself (phone identity with type =
    phone), the control task is a random merge of classes, and the probe
    needs no memorisation beyond what the task needs: control accuracy is
    then high and selectivity small by construction. Choose types that the
    task label does not determine (e.g. words for a phone-level task, or
    phones for a speaker or position task) when you want the control to bite.
    """
    t = np.asarray(types)
    if len(t) == 0:
        raise ValueError("No items given.")
    lab = t if labels is None else np.asarray(labels)
    if len(lab) != len(t):
        raise ValueError(f"{len(t)} types but {len(lab)} labels.")
    values, counts = np.unique(lab, return_counts=True)
    uniq = np.unique(t)
    rng = np.random.default_rng(seed)
    drawn = rng.choice(len(values), size=len(uniq), p=counts / counts.sum())
    return {u.item() if hasattr(u, "item") else u: values[k].item() for u, k in zip(uniq, drawn)}


def control_labels(types: Sequence[Hashable], mapping: dict) -> np.ndarray:
    """Control label of each item: ``mapping[type]`` (from :func:`control_task`)."""
    missing = sorted({str(t) for t in types if t not in mapping})
    if missing:
        raise KeyError(f"Types without a control label: {missing[:10]}. Build the control task on all items "
                       "(train and test together).")
    return np.asarray([mapping[t] for t in types])


def selectivity(task_score: float, control_score: float) -> float:
    """Selectivity (Hewitt & Liang 2019): task accuracy minus control-task accuracy."""
    return float(task_score) - float(control_score)


# --------------------------------------------------------------------------
# MDL


@dataclass
class OnlineCode:
    """Online (prequential) codelength of a probing dataset (Voita & Titov 2020).

    Attributes
    ----------
    codelength : float
        Bits to transmit all labels: ``t_1 log2 K`` for the first block plus
        the probes' cross-entropy on each later block.
    uniform_codelength : float
        ``N log2 K``: the labels sent with a uniform code.
    compression : float
        ``uniform_codelength / codelength`` (higher: more easily extracted).
    block_ends : np.ndarray
        ``t_1 < t_2 < ... < t_S = N``: the probe for block ``i + 1`` is
        trained on the first ``t_i`` items.
    block_bits : np.ndarray
        Bits spent on each block (the first is ``t_1 log2 K``).
    n_classes : int
        ``K``.
    """

    codelength: float
    uniform_codelength: float
    compression: float
    block_ends: np.ndarray
    block_bits: np.ndarray
    n_classes: int


def block_ends(n: int, fractions: Sequence[float] = MDL_FRACTIONS) -> np.ndarray:
    """Block boundaries ``t_i = floor(n * fraction_i / 100)`` (at least 1, the last = n), duplicates removed."""
    f = np.asarray(fractions, dtype=float)
    if f.ndim != 1 or len(f) < 2 or np.any(np.diff(f) <= 0) or f[0] <= 0 or f[-1] != 100:
        raise ValueError(f"fractions must increase strictly, start above 0 and end at 100, got {list(fractions)}.")
    ends = np.maximum(1, np.floor(n * f / 100 + 1e-9).astype(int))
    ends[-1] = n
    return np.unique(ends)


def online_codelength(
    X: np.ndarray,
    y: np.ndarray,
    fractions: Sequence[float] = MDL_FRACTIONS,
    classes: Sequence[Hashable] | None = None,
    seed: int | None = 0,
    C: float = 1.0,
    max_iter: int = 300,
    eps: float = 1e-3,
) -> OnlineCode:
    """MDL of a classification probe by online coding (Voita & Titov 2020).

    The items are shuffled (``seed``; None keeps the given order) and cut at
    ``t_i = fraction_i * N``. The first ``t_1`` labels are sent with a
    uniform code (``t_1 log2 K`` bits); then for each ``i`` a probe
    (:func:`make_probe`) is trained from scratch on items ``[0, t_i)`` and
    the labels of ``[t_i, t_{i+1})`` cost ``sum -log2 p(y | x)`` bits.

    Parameters
    ----------
    X : array, shape (N, dim)
    y : array, shape (N,)
    fractions : sequence of float
        Block ends in percent of N (default :data:`MDL_FRACTIONS`).
    classes : sequence, optional
        The label set (default: the labels present); ``K = len(classes)``.
    seed : int or None
    C, max_iter
        Probe settings (:func:`make_probe`).
    eps : float
        The probe's distribution is mixed with a uniform one,
        ``p = (1 - eps) p_probe + eps / K``, because a probe trained on a
        small block has never seen some classes (scikit-learn gives them
        probability 0, an infinite codelength). This caps one item's cost at
        ``log2(K / eps)`` bits and adds at most ``-log2(1 - eps)`` (0.0014 bits
        for 1e-3) to a confident correct prediction. A block whose training
        items all have one class predicts that class.

    Returns
    -------
    OnlineCode
    """
    x, t = _check_xy(X, y, "train")
    n = len(t)
    cls = np.unique(t) if classes is None else np.asarray(list(classes))
    k = len(cls)
    if k < 2:
        raise ValueError("Online coding needs at least 2 classes.")
    unknown = set(np.unique(t).tolist()) - set(cls.tolist())
    if unknown:
        raise ValueError(f"Labels not in classes: {sorted(map(str, unknown))[:10]}.")
    if not 0 < eps < 1:
        raise ValueError(f"eps must be in (0, 1), got {eps}.")
    if seed is not None:
        order = np.random.default_rng(seed).permutation(n)
        x, t = x[order], t[order]
    ends = block_ends(n, fractions)
    col = {c: i for i, c in enumerate(cls.tolist())}
    y_idx = np.array([col[v] for v in t.tolist()])
    bits = [ends[0] * np.log2(k)]
    with _single_blas_thread(), warnings.catch_warnings():
        # the first blocks have few items per class, which scikit-learn flags as "maybe a regression problem"
        warnings.filterwarnings("ignore", message="The number of unique classes is greater than 50%")
        for start, stop in zip(ends[:-1], ends[1:]):
            p = np.zeros((stop - start, k))
            seen = np.unique(y_idx[:start])
            if len(seen) == 1:
                p[:, seen[0]] = 1.0
            else:
                probe = make_probe("classification", C=C, max_iter=max_iter).fit(x[:start], t[:start])
                p[:, [col[c] for c in probe.classes_.tolist()]] = probe.predict_proba(x[start:stop])
            p = (1 - eps) * p + eps / k
            bits.append(float(-np.log2(p[np.arange(stop - start), y_idx[start:stop]]).sum()))
    block_bits = np.asarray(bits, dtype=float)
    total = float(block_bits.sum())
    uniform = n * float(np.log2(k))
    return OnlineCode(total, uniform, uniform / total, ends, block_bits, k)

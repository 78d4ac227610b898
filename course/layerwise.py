"""Layer-wise comparison of representations: phone probe, ABX and CKA with MFCCs, layer by layer.

This is the analysis of Pasad et al. (2021, "Layer-wise analysis of a self-supervised speech representation
model"; 2023, "Comparative layer-wise analysis of self-supervised speech models") reduced to three measures
that the course teaches, run on held-out speakers for several *subjects* (a shipped model, its random twin, or
the MFCC baseline):

* **probe**: accuracy of a linear frame-level phone probe (:func:`course.probing.train_probe`) trained on
  frames of training speakers and tested on frames of held-out speakers (validation + test speakers), with a 95 %
  speaker bootstrap interval (``probe_lo``, ``probe_hi``: :func:`course.stats.speaker_bootstrap_ci`, the held-out
  speakers resampled) and, when MFCCs are among the subjects, the paired difference from the MFCC probe on the same
  test frames (``vs_mfcc`` with ``vs_mfcc_lo``, ``vs_mfcc_hi``);
* **ABX**: within- and across-speaker phone ABX error (:func:`course.abx.abx_error`) on phonetically rich
  sentences of the held-out speakers (no context, phones every held-out speaker says at least 3 times,
  at most 5 tokens per speaker and phone), each with a 95 % speaker bootstrap interval
  (:func:`course.abx.error_ci`: ``abx_within_lo`` … ``abx_across_hi``) and, when MFCCs are among the subjects,
  the within-speaker error's paired difference from MFCCs over the same speakers (``abx_vs_mfcc`` with
  ``abx_vs_mfcc_lo``, ``abx_vs_mfcc_hi``; negative: fewer errors than MFCCs);
* **CKA with MFCC**: linear CKA (:func:`course.similarity.feature_space_linear_cka`) between the layer's
  frames and 39-d MFCC (+ Δ, ΔΔ) frames of the held-out utterances — how acoustic the layer still is.

``speech-course models layerwise`` runs it for the default subjects and prints a table;
the numbers are recorded in ``docs/models.md`` and in the self-supervised models' cards.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from course.abx import abx_error, error_ci, phone_items, speaker_errors, subsample_items
from course.corpus import load_corpus
from course.features import extract, mfcc_deltas
from course.models import SHIPPED_DIR, load_model, random_twin
from course.probing import frame_dataset, train_probe
from course.registry import MODELS
from course.similarity import feature_space_linear_cka
from course.stats import speaker_bootstrap_ci

#: The subjects of the layer-wise comparison, in display order. "NAME@random" is NAME's random twin; "NAME@frontend"
#: (not a default subject) its trained convolutional front end under a random Transformer.
DEFAULT_SUBJECTS = ("mfcc", "tiny-hubert@random", "tiny-hubert", "tiny-hubert-ctc", "tiny-w2v2-ctc")


@dataclass
class LayerwiseData:
    """The utterances a comparison uses (chosen once, shared by every subject)."""

    train: list
    heldout: list
    abx: list
    settings: dict = field(default_factory=dict)


def select_utterances(corpus, n_train: int = 300, n_heldout: int = 120, abx_per_speaker: int = 15,  # noqa: ANN001
                      seed: int = 0) -> LayerwiseData:
    """Training-speaker utterances for the probe, held-out ones for scoring, rich sentences for ABX.

    Held-out speakers are every speaker outside the ``train`` split (validation and test speakers): none of
    the shipped models was trained on them.
    """
    rng = np.random.default_rng(seed)
    train_ids = list(corpus.ids(split="train"))
    heldout_ids = [i for s in ("validation", "test") for i in corpus.ids(split=s)]
    if not train_ids or not heldout_ids:
        raise ValueError("The corpus needs utterances of training and of held-out speakers.")
    pick = lambda ids, n: sorted(rng.choice(ids, min(n, len(ids)), replace=False))  # noqa: E731
    speakers = sorted(corpus.manifest.query("split != 'train'")["speaker"].unique())
    abx = [i for s in speakers for i in corpus.ids(kind="rich", speaker=s)[:abx_per_speaker]]
    return LayerwiseData([corpus[i] for i in pick(train_ids, n_train)],
                         [corpus[i] for i in pick(heldout_ids, n_heldout)], [corpus[i] for i in abx],
                         {"n_train": n_train, "n_heldout": n_heldout, "abx_per_speaker": abx_per_speaker,
                          "seed": seed})


def subject_features(subject: str, utterances: Sequence) -> list[np.ndarray]:
    """Per-utterance arrays (n_layers + 1, n_frames, dim) of a subject (MFCC: one 'layer')."""
    if subject == "mfcc":
        return [mfcc_deltas(u.waveform)[None] for u in utterances]

    name, _, twin = subject.partition("@")
    if twin not in ("", "random", "frontend"):
        raise ValueError(f"Unknown subject {subject!r}: use a model name, 'NAME@random', 'NAME@frontend' or 'mfcc'.")
    model, processor = load_model(name, random_init=twin == "random")
    if twin == "frontend":
        model = random_twin(model, keep_front_end=True)
    return [r.hidden_states for r in extract(model, processor, utterances, progress=False)]


def _frames(feats: list[np.ndarray], layer: int, n_frames: int | None = None) -> np.ndarray:
    X = np.concatenate([f[layer] for f in feats])
    return X if n_frames is None else X[:n_frames]


def _abx_phones(utts: Sequence, min_tokens: int = 3) -> list[str]:
    counts = pd.crosstab(pd.Series([p.label for u in utts for p in u.phones], name="phone"),
                         pd.Series([u.speaker for u in utts for _ in u.phones], name="speaker"))
    return sorted(counts.index[(counts >= min_tokens).all(axis=1)])


@dataclass
class ProbeFrames:
    """One layer's probe outcome on its held-out test frames: ``correct`` (0/1 per frame), the frames' ``labels``
    and ``speakers`` (to pair two subjects' outcomes frame by frame); and its within-speaker ABX error per speaker
    (``abx_speakers``, :func:`course.abx.speaker_errors`; to pair two subjects' ABX errors speaker by speaker)."""

    correct: np.ndarray
    labels: np.ndarray
    speakers: np.ndarray
    abx_speakers: pd.Series | None = None

    def same_frames(self, other: "ProbeFrames") -> bool:
        """Whether ``other`` was tested on the same frames (same labels and speakers, frame by frame)."""
        return np.array_equal(self.labels, other.labels) and np.array_equal(self.speakers, other.speakers)


def compare_subject(subject: str, data: LayerwiseData, max_train_frames: int = 20_000,
                    max_test_frames: int = 10_000, abx_tokens: int = 5, seed: int = 0,
                    return_features: bool = False) -> pd.DataFrame | tuple[pd.DataFrame, list[np.ndarray]]:
    """One subject's measures for every layer: columns ``subject, layer, probe, probe_lo, probe_hi, abx_within,
    abx_within_lo, abx_within_hi, abx_across, abx_across_lo, abx_across_hi, cka_mfcc``.

    With ``return_features`` also the held-out utterances' features (for comparing subjects layer by layer).
    """
    table, held_f, _ = _compare(subject, data, max_train_frames, max_test_frames, abx_tokens, seed)
    return (table, held_f) if return_features else table


def _compare(subject: str, data: LayerwiseData, max_train_frames: int = 20_000, max_test_frames: int = 10_000,
             abx_tokens: int = 5, seed: int = 0) -> tuple[pd.DataFrame, list[np.ndarray], list[ProbeFrames]]:
    """:func:`compare_subject`, and each layer's :class:`ProbeFrames`."""
    rng = np.random.default_rng(seed)
    train_f = subject_features(subject, data.train)
    held_f = subject_features(subject, data.heldout)
    abx_f = subject_features(subject, data.abx)
    mfcc_held = np.concatenate([mfcc_deltas(u.waveform) for u in data.heldout])
    phones = _abx_phones(data.abx)
    rows, outcomes = [], []
    for layer in range(train_f[0].shape[0]):
        tr = frame_dataset([f[layer] for f in train_f], data.train)
        te = frame_dataset([f[layer] for f in held_f], data.heldout)
        tr = tr.subset(np.sort(rng.choice(len(tr.y), min(max_train_frames, len(tr.y)), replace=False)))
        te = te.subset(np.sort(rng.choice(len(te.y), min(max_test_frames, len(te.y)), replace=False)))
        result = train_probe(tr.X, tr.y, te.X, te.y, groups=(tr.groups, te.groups))
        correct = (result.probe.predict(te.X) == te.y).astype(float)
        lo, hi = speaker_bootstrap_ci(correct, te.groups, seed=seed)
        items = phone_items([f[layer] for f in abx_f], data.abx, context=False)
        items = subsample_items(items.subset(np.isin(items.phones, phones)), abx_tokens, seed=seed)
        within, across = abx_error(items, "within"), abx_error(items, "across")
        outcomes.append(ProbeFrames(correct, np.asarray(te.y), np.asarray(te.groups), speaker_errors(within)))
        w_lo, w_hi = error_ci(within, seed=seed)
        a_lo, a_hi = error_ci(across, seed=seed)
        X = _frames(held_f, layer)
        rows.append({"subject": subject, "layer": layer, "probe": result.score, "probe_lo": lo, "probe_hi": hi,
                     "abx_within": within.error, "abx_within_lo": w_lo, "abx_within_hi": w_hi,
                     "abx_across": across.error, "abx_across_lo": a_lo, "abx_across_hi": a_hi,
                     "cka_mfcc": feature_space_linear_cka(X.astype(np.float64), mfcc_held.astype(np.float64))})
    return pd.DataFrame(rows), held_f, outcomes


def paired_difference(a: ProbeFrames, b: ProbeFrames, seed: int = 0) -> tuple[float, float, float]:
    """Mean of ``a.correct - b.correct`` over the same test frames, with a 95 % speaker bootstrap interval.

    Raises
    ------
    ValueError
        If the two outcomes are not on the same frames (labels and speakers must match frame by frame).
    """
    if not a.same_frames(b):
        raise ValueError("The two probes were not tested on the same frames: their outcomes cannot be paired.")
    d = a.correct - b.correct
    lo, hi = speaker_bootstrap_ci(d, a.speakers, seed=seed)
    return float(d.mean()), float(lo), float(hi)


def paired_abx_difference(a: ProbeFrames, b: ProbeFrames, seed: int = 0) -> tuple[float, float, float]:
    """Mean over speakers of ``a``'s within-speaker ABX error minus ``b``'s, with a 95 % speaker bootstrap interval.

    The speakers are the unit: each contributes one difference (its error under ``a`` minus under ``b``, both from
    :func:`course.abx.speaker_errors` on the same items), and the interval resamples them.

    Raises
    ------
    ValueError
        If either outcome has no per-speaker ABX errors, or the two were measured on different speakers.
    """
    if a.abx_speakers is None or b.abx_speakers is None:
        raise ValueError("Both outcomes need per-speaker ABX errors (ProbeFrames.abx_speakers) to be paired.")
    if not a.abx_speakers.index.equals(b.abx_speakers.index):
        raise ValueError("The two ABX results cover different speakers: their errors cannot be paired.")
    d = (a.abx_speakers - b.abx_speakers).to_numpy(dtype=float)
    lo, hi = speaker_bootstrap_ci(d, a.abx_speakers.index.to_numpy(), seed=seed)
    return float(d.mean()), float(lo), float(hi)


#: Pairs (subject, base) whose same-numbered layers are compared by CKA (what fine-tuning changed): every shipped
#: model that starts from another (course.registry); a pair is used when both are among the subjects.
DEFAULT_PAIRS = {name: spec.starts_from for name, spec in MODELS.items() if spec.starts_from}


def layerwise_comparison(subjects: Sequence[str] = DEFAULT_SUBJECTS, corpus=None, progress: bool = True,  # noqa: ANN001
                         pairs: dict | None = None, **kwargs) -> pd.DataFrame:
    """:func:`compare_subject` for every subject on one shared selection of utterances.

    Parameters
    ----------
    subjects : sequence of str
        Shipped model names or local paths, ``"NAME@random"`` for a random twin, ``"mfcc"``.
    corpus : Corpus, optional
        Default: the default course corpus.
    pairs : dict, optional
        ``{subject: base}``: add a column ``cka_base``, the linear CKA between the subject's layer l and the
        base's layer l on the held-out frames (Pasad et al. 2021 compare a fine-tuned model with its
        pretrained start this way). Default :data:`DEFAULT_PAIRS` (pairs whose subjects are both present).
    **kwargs
        Passed to :func:`select_utterances` (``n_train``, ``n_heldout``, ``abx_per_speaker``, ``seed``).

    Returns
    -------
    pandas.DataFrame
        One row per subject and layer: the columns of :func:`compare_subject`, then ``vs_mfcc``, ``vs_mfcc_lo``,
        ``vs_mfcc_hi`` (the probe's paired difference from the MFCC probe on the same test frames, with its 95 %
        speaker bootstrap interval; NaN for MFCCs themselves, without an ``"mfcc"`` subject, or on another frame
        grid), ``abx_vs_mfcc``, ``abx_vs_mfcc_lo``, ``abx_vs_mfcc_hi`` (the same for the within-speaker ABX error,
        paired over speakers: :func:`paired_abx_difference`) and ``cka_base``.
    """

    data = select_utterances(corpus if corpus is not None else load_corpus(), **kwargs)
    pairs = DEFAULT_PAIRS if pairs is None else pairs
    frames, held, outcomes = [], {}, {}
    seed = data.settings["seed"]
    for s in subjects:
        if progress:
            print(f"layer-wise comparison: {s}", flush=True)
        df, held[s], outcomes[s] = _compare(s, data, seed=seed)
        frames.append(df)
    table = pd.concat(frames, ignore_index=True)
    vs, abx_vs = ["vs_mfcc", "vs_mfcc_lo", "vs_mfcc_hi"], ["abx_vs_mfcc", "abx_vs_mfcc_lo", "abx_vs_mfcc_hi"]
    table[vs + abx_vs] = np.nan
    if "mfcc" in outcomes:
        mfcc = outcomes["mfcc"][0]
        for s, per_layer in outcomes.items():
            for layer, outcome in enumerate(per_layer):
                if s == "mfcc":
                    continue
                where = (table.subject == s) & (table.layer == layer)
                if outcome.same_frames(mfcc):  # another frame grid: no pairing
                    table.loc[where, vs] = paired_difference(outcome, mfcc, seed)
                table.loc[where, abx_vs] = paired_abx_difference(outcome, mfcc, seed)
    table["cka_base"] = np.nan
    for s, base in pairs.items():
        if s in held and base in held and held[s][0].shape[0] == held[base][0].shape[0]:
            for layer in range(held[s][0].shape[0]):
                k = feature_space_linear_cka(_frames(held[s], layer).astype(np.float64),
                                             _frames(held[base], layer).astype(np.float64))
                table.loc[(table.subject == s) & (table.layer == layer), "cka_base"] = k
    table.attrs["settings"] = dict(data.settings)
    return table


def probe_shape(probe: Sequence[float], min_change: float = 0.02) -> str:
    """Name the shape of a layer-wise probe curve: ``"peak"``, ``"rising"``, ``"falling"`` or ``"flat"``.

    A peak must stand at least ``min_change`` above both the first and the last layer. The default, 0.02, is four
    binomial standard errors of an accuracy near 0.6 on the 10 000 held-out test frames (0.005); frames of one
    utterance are not independent, so the real uncertainty is larger than that standard error.
    """
    p = np.asarray(probe, dtype=float)
    best = int(p.argmax())
    if p.max() - p.min() < min_change:
        return "flat"
    if p[best] - p[0] >= min_change and p[best] - p[-1] >= min_change:
        return "peak"
    return "rising" if p[-1] >= p[0] else "falling"


def _side(lo: float, hi: float, above: str, below: str, neither: str) -> str:
    """Which side of zero a paired difference's interval lies on, in words."""
    return above if lo > 0 else below if hi < 0 else neither


def _against_mfcc(t: pd.DataFrame) -> list[str]:
    """Sentences on one subject's best layers (``t`` indexed by layer) against MFCCs, with their 95 % speaker
    intervals; none for a record made before the intervals."""
    out = []
    if {"probe_lo", "vs_mfcc_lo"} <= set(t) and t["vs_mfcc"].notna().any():
        b, last = t.loc[t["probe"].idxmax()], t.iloc[-1]
        drop = ("it is the last layer" if b.name == last.name else
                "the last layer lies below its interval" if last["probe"] < b["probe_lo"] else
                "the last layer lies inside its interval")
        side = _side(b["vs_mfcc_lo"], b["vs_mfcc_hi"], "above", "below", "not distinguishable from")
        out.append(f"Best probe layer {int(b.name)}: {b['probe']:.3f} [{b['probe_lo']:.3f}, {b['probe_hi']:.3f}] "
                   f"(95 % speaker interval); {drop}; paired with MFCCs on the same frames {b['vs_mfcc']:+.3f} "
                   f"[{b['vs_mfcc_lo']:+.3f}, {b['vs_mfcc_hi']:+.3f}], {side} the MFCC probe.")
    if {"abx_within_lo", "abx_vs_mfcc_lo"} <= set(t) and t["abx_vs_mfcc"].notna().any():
        b = t.loc[t["abx_within"].idxmin()]
        side = _side(b["abx_vs_mfcc_lo"], b["abx_vs_mfcc_hi"], "more errors than", "fewer errors than",
                     "not distinguishable from")
        out.append(f"Lowest ABX error within speakers at layer {int(b.name)}: {b['abx_within']:.3f} "
                   f"[{b['abx_within_lo']:.3f}, {b['abx_within_hi']:.3f}]; paired with MFCCs over the same speakers "
                   f"{b['abx_vs_mfcc']:+.3f} [{b['abx_vs_mfcc_lo']:+.3f}, {b['abx_vs_mfcc_hi']:+.3f}], {side} MFCCs.")
    return out


_SHAPES = {
    "peak": "a peak below the last layer",
    "rising": "no peak below the last layer (the curve rises to the top)",
    "falling": "no mid-layer peak (the curve falls with depth)",
    "flat": "no peak: the curve is flat",
}


def finding(table: pd.DataFrame, ssl: str = "tiny-hubert", finetuned: str = "tiny-hubert-ctc",
            min_change: float = 0.02) -> str:
    """Plain sentences: does ``ssl`` peak in its middle layers, and did fine-tuning change mainly the top?

    See :func:`probe_shape` for what counts as a peak.
    """
    out = []
    summ = summary(table).set_index("subject")
    for s in (ssl, finetuned, "tiny-w2v2-ctc"):
        if s in summ.index:
            r = summ.loc[s]
            curve = table[table.subject == s].sort_values("layer")["probe"]
            shape = probe_shape(curve, min_change)
            spread = f" (all layers within {curve.max() - curve.min():.3f})" if shape == "flat" else ""
            out.append(f"{s}: phone probe best at layer {int(r.best_probe_layer)} of {int(r.layers)} ({r.best_probe:.3f}), "
                       f"first layer {curve.iloc[0]:.3f}, last layer {r.last_probe:.3f} — {_SHAPES[shape]}{spread}.")
            out += _against_mfcc(table[table.subject == s].set_index("layer"))
    t = table[table.subject == finetuned].dropna(subset=["cka_base"]) if "cka_base" in table else []
    if len(t):
        k = t.set_index("layer")["cka_base"]
        half = len(k) // 2
        low, high = k.iloc[:half].mean(), k.iloc[half:].mean()
        out.append(f"Fine-tuning ({finetuned} vs {ssl}, CKA of the same layer): lower half {low:.3f}, upper half "
                   f"{high:.3f}, last layer {k.iloc[-1]:.3f} — "
                   + ("fine-tuning changed mainly the top layers." if high < low - 0.05 else
                      "fine-tuning did not change mainly the top layers."))
    return " ".join(out)


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per subject: best probe layer, its accuracy, the last layer's accuracy and the drop from best to last."""
    rows = []
    for s, t in table.groupby("subject", sort=False):
        best = t.loc[t["probe"].idxmax()]
        last = t.iloc[-1]
        rows.append({"subject": s, "layers": len(t) - 1, "best_probe_layer": int(best["layer"]),
                     "best_probe": best["probe"], "last_probe": last["probe"],
                     "drop_best_to_last": best["probe"] - last["probe"],
                     "best_abx_within_layer": int(t.loc[t["abx_within"].idxmin(), "layer"]),
                     "min_abx_within": t["abx_within"].min()})
    return pd.DataFrame(rows)


def to_markdown(table: pd.DataFrame, digits: int = 3) -> str:
    """The table as GitHub markdown (one row per subject and layer)."""
    def present(*names: str) -> list[str]:  # intervals and differences: not in records made before them
        return [c for c in names if c in table and table[c].notna().any()]

    cols = (["subject", "layer", "probe"] + present("probe_lo", "probe_hi", "vs_mfcc", "vs_mfcc_lo", "vs_mfcc_hi")
            + ["abx_within"] + present("abx_within_lo", "abx_within_hi", "abx_vs_mfcc", "abx_vs_mfcc_lo",
                                       "abx_vs_mfcc_hi")
            + ["abx_across"] + present("abx_across_lo", "abx_across_hi")
            + ["cka_mfcc"] + (["cka_base"] if "cka_base" in table else []))
    lines = ["| " + " | ".join(cols) + " |", "|" + " --- |" * len(cols)]
    for _, r in table[cols].iterrows():
        lines.append("| " + " | ".join(str(r[c]) if c in ("subject", "layer") else
                                       "–" if pd.isna(r[c]) else f"{r[c]:.{digits}f}" for c in cols) + " |")
    return "\n".join(lines)


_TITLES = {"probe": "phone probe accuracy (held-out speakers)", "abx_within": "ABX error within speaker",
           "abx_across": "ABX error across speakers", "cka_mfcc": "linear CKA with MFCC frames",
           "cka_base": "CKA with the pretrained model's same layer"}


def plot(table: pd.DataFrame, measures: Sequence[str] = ("probe", "abx_within", "cka_mfcc"), path=None):  # noqa: ANN001, ANN201
    """One panel per measure against relative depth (layer / number of layers), one line per subject.

    The MFCC baseline (a single 'layer') is drawn as a horizontal dashed line. Where the table has a measure's
    95 % speaker interval (``probe_lo``, ``probe_hi``, ...), it is shaded around the line.
    """
    import matplotlib.pyplot as plt  # start-up: pyplot takes about 0.5 s; only this figure needs it

    unknown = [m for m in measures if m not in _TITLES]
    if unknown:
        raise ValueError(f"Unknown measures {unknown}; choose from {list(_TITLES)}.")
    fig, axes = plt.subplots(1, len(measures), figsize=(4.4 * len(measures), 3.6), constrained_layout=True,
                             squeeze=False)
    axes = axes[0]
    styles = ["-o", "-s", "-^", "-D", "-v", "-x"]
    for k, (s, t) in enumerate(table.groupby("subject", sort=False)):
        depth = t["layer"] / max(1, t["layer"].max())
        for ax, col in zip(axes, measures):
            if col not in t or t[col].isna().all():
                continue
            band = f"{col}_lo" in t and t[f"{col}_lo"].notna().all()  # 95 % speaker interval, when recorded
            if s == "mfcc":
                ax.axhline(t[col].iloc[0], color="grey", ls="--", label="MFCC (+Δ, ΔΔ)")
                if band:
                    ax.axhspan(t[f"{col}_lo"].iloc[0], t[f"{col}_hi"].iloc[0], color="grey", alpha=0.12, lw=0)
            else:
                line, = ax.plot(depth, t[col], styles[k % len(styles)], label=s, ms=4)
                if band:
                    ax.fill_between(depth, t[f"{col}_lo"], t[f"{col}_hi"], color=line.get_color(), alpha=0.15, lw=0)
    for ax, col in zip(axes, measures):
        ax.set_title(_TITLES[col], fontsize=10)
        ax.set_xlabel("relative depth (layer / number of layers)")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


def to_record(table: pd.DataFrame) -> dict:
    """The comparison as a JSON-ready record: ``settings``, ``finding`` (:func:`finding`) and ``table`` (rows).

    The table is stored to 4 decimals and the finding is computed from the stored table, so that
    ``finding(recorded())`` gives the recorded finding again (a spread of 0.00945 must not read 0.009 in the record
    and 0.010 when recomputed from it).
    """
    rows = json.loads(table.to_json(orient="records", double_precision=4))
    return {"settings": table.attrs["settings"], "finding": finding(pd.DataFrame(rows)), "table": rows}


def save_record(record: dict, json_path: str | Path | None = None, plot_path: str | Path | None = None,
                beside_models: bool = False, shipped_dir: str | Path | None = None) -> list[Path]:
    """Write a record as JSON, as a figure (:func:`plot`), and beside both HuBERT models.

    With ``beside_models`` the record goes to ``<shipped_dir>/<name>/layerwise.json`` (default: the shipped
    models), where :func:`recorded` reads it; the model cards that quote it are rewritten by the training tooling
    (``speech-course models layerwise --record`` does both). Returns the model folders written to.
    """

    text = json.dumps(record, indent=1, ensure_ascii=False) + "\n"
    if json_path:
        Path(json_path).write_text(text)
    if plot_path:
        plot(pd.DataFrame(record["table"]), path=plot_path)
        print(f"figure: {plot_path}")
    written = []
    if beside_models:
        for name in ("tiny-hubert", "tiny-hubert-ctc"):
            out = Path(shipped_dir or SHIPPED_DIR) / name
            (out / "layerwise.json").write_text(text)
            written.append(out)
    return written


def card_section(record: dict) -> str:
    """Markdown for a model card from a ``layerwise.json`` record (written by ``speech-course models layerwise``)."""
    settings = ", ".join(f"{k} = {v}" for k, v in record["settings"].items())
    return (f"{record['finding']}\n\nMeasured with `speech-course models layerwise` ({settings}); "
            "probe = frame-level linear phone probe trained on training speakers, tested on held-out speakers; "
            "ABX = phone ABX error on held-out speakers; cka_mfcc = linear CKA with 39-d MFCC frames; "
            "cka_base = linear CKA of a fine-tuned model's layer with the same layer of the model it started from "
            "(tiny-hubert-ctc vs tiny-hubert).\n\n"
            + to_markdown(pd.DataFrame(record["table"])) + "\n")


def recorded(name: str = "tiny-hubert") -> pd.DataFrame:
    """The comparison recorded beside a shipped model (``speech-course models layerwise --record``).

    The returned table's ``attrs`` hold the ``settings`` and the ``finding`` text.
    """

    path = SHIPPED_DIR / name / "layerwise.json"
    if not path.is_file():
        raise FileNotFoundError(f"No recorded layer-wise comparison for {name!r} ({path} is missing). "
                                "Compute it with: speech-course models layerwise --record")
    record = json.loads(path.read_text())
    table = pd.DataFrame(record["table"])
    table.attrs.update(settings=record["settings"], finding=record["finding"])
    return table

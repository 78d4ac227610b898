"""Figures and diagrams for the lecture slides, computed by the course's own code.

Every data figure of the decks is made here from the shipped models and the course corpus with the functions the
notebooks teach (``course.probing``, ``course.similarity``, ``course.lenses``, ``course.abx``,
``course.context_mixing``, ``course.attribution``), on held-out speakers, with the same controls as the notebooks
(the random twin, MFCCs, chance). Diagrams of the core ideas are drawn with matplotlib.

Figures come in *groups* that share an expensive step (one extraction of hidden states serves the probing, CKA, lens
and ABX figures). :mod:`speech_course_tools.slides` caches each group under a key made of the group's inputs (this
file, the course modules it uses, the model files, the corpus checksum and the settings) and calls
:func:`make_group` only when the key changed.

Each group function returns ``(figures, numbers)``: :class:`FigureSpec` records (file, alt text with the numbers
the figure shows, whether it is a placeholder) and a dict of the numbers themselves (kept in the cache manifest so
that a deck's text can be checked against them).

Accessibility: the Okabe–Ito palette (distinguishable with the common colour-vision deficiencies), viridis for
maps, every line with its own marker and line style as well as its colour, and fonts of at least 14 pt on figures
sized for a 1280 × 720 slide.
"""

from __future__ import annotations

import math
import re
import textwrap
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import matplotlib
import numpy as np
import torch
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from threadpoolctl import threadpool_limits

from course import attribution as A
from course import context_mixing as cm
from course.abx import abx_error, phone_items, subsample_items
from course.corpus import load_corpus
from course.features import extract, mfcc
from course.frames import FRAME_SECONDS, num_frames, segment_frames
from course.lenses import ctc_lens, decoder_lens
from course.metrics import error_rate
from course.models import load_model, num_layers
from course.probing import segment_dataset, train_probe
from course.similarity import feature_space_linear_cka
from course.stats import curve_ci, holm, speaker_sign_flip_test

#: Okabe & Ito (2008) colour-blind-safe palette.
OKABE_ITO = {
    "black": "#000000", "orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7", "grey": "#6E6E6E",
}
#: One style per subject of a comparison (colour, marker, line style): never colour alone.
SUBJECT_STYLE = {
    "trained": dict(color=OKABE_ITO["blue"], marker="o", ls="-", lw=2.6, ms=8),
    "twin": dict(color=OKABE_ITO["vermillion"], marker="s", ls="--", lw=2.2, ms=7),
    "mfcc": dict(color=OKABE_ITO["black"], ls=":", lw=2.2),
    "chance": dict(color=OKABE_ITO["grey"], ls="-.", lw=1.6),
}
SLOT_COLOURS = {"action": OKABE_ITO["vermillion"], "object": OKABE_ITO["blue"], "location": OKABE_ITO["green"],
                "other": "#9A9A9A"}

STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 18,
    "axes.titlesize": 19,
    "axes.labelsize": 18,
    "xtick.labelsize": 16,
    "ytick.labelsize": 16,
    "legend.fontsize": 16,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.fonttype": "none",
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "image.cmap": "viridis",
}

#: Modules whose source is part of every group's cache key.
COMMON_MODULES = ("slidefigures", "corpus", "frames", "textgrid", "audio")


@dataclass
class FigureSpec:
    """One figure file of the decks.

    Attributes
    ----------
    name : str
        The name slides refer to (``![...](fig:NAME)``).
    file : str
        File name inside the figures folder.
    alt : str
        Alt text: what the figure shows, with its main numbers.
    placeholder : bool
        True when the figure stands in for one that could not be computed (the reason is in ``alt``).
    """

    name: str
    file: str
    alt: str
    placeholder: bool = False

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Group:
    """A set of figures made together: ``make(out_dir, fast) -> (figures, numbers)``."""

    make: Callable
    modules: tuple[str, ...]
    models: tuple[str, ...]
    figures: tuple[str, ...]
    description: str


# --------------------------------------------------------------------------
# Helpers


def _plt():
    if matplotlib.get_backend().lower() not in ("agg", "svg", "pdf", "cairo"):
        matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt  # by design: after the backend is chosen

    return plt


def _save(fig, out: Path, name: str, svg: bool = False) -> str:  # noqa: ANN001
    plt = _plt()
    file = f"{name}.svg" if svg else f"{name}.png"
    fig.savefig(out / file, bbox_inches="tight", facecolor="white", metadata={"Date": None} if svg else None)
    plt.close(fig)
    return file


def _quiet_torch() -> None:
    """One thread and no oneDNN kernel cache: small models on a busy CPU (as the notebooks do)."""

    torch.set_num_threads(1)
    torch.backends.mkldnn.enabled = False
    threadpool_limits(1)


def _pick(corpus, split: str, n: int, kinds=("rich", "minimal_pair")) -> list:  # noqa: ANN001
    """``n`` utterances of one split, taken from each of its speakers in turn (as notebook 02 does)."""
    rows = corpus.select(split=split)
    rows = rows[rows["kind"].isin(kinds)]
    per_speaker = [list(group.index) for _, group in rows.groupby("speaker")]
    order = [ids[i] for i in range(max(map(len, per_speaker))) for ids in per_speaker if i < len(ids)]
    return [corpus[i] for i in order[:n]]


def _fmt(values, digits: int = 2) -> str:  # noqa: ANN001
    return ", ".join(f"{v:.{digits}f}" for v in values)


def placeholder(out: Path, name: str, title: str, reason: str) -> FigureSpec:
    """A clearly marked stand-in figure (hatched, with the word PLACEHOLDER and the reason)."""
    plt = _plt()

    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(11, 4.6))
        ax.add_patch(plt.Rectangle((0, 0), 1, 1, transform=ax.transAxes, facecolor="#F2F2F2", hatch="//",
                                   edgecolor="#BBBBBB", lw=0))
        ax.text(0.5, 0.66, "PLACEHOLDER", ha="center", va="center", fontsize=40, weight="bold",
                color=OKABE_ITO["vermillion"], transform=ax.transAxes)
        ax.text(0.5, 0.45, title, ha="center", va="center", fontsize=20, transform=ax.transAxes)
        ax.text(0.5, 0.22, "\n".join(textwrap.wrap(reason, 80)[:3]), ha="center", va="center", fontsize=14,
                color="#333333", transform=ax.transAxes)
        ax.set_axis_off()
        file = _save(fig, out, name)
    return FigureSpec(name, file, f"Placeholder for the figure '{title}': {reason}", placeholder=True)


# --------------------------------------------------------------------------
# Diagrams (no model, no corpus)


def _box(ax, x, y, w, h, text, fc, ec="#333333", fontsize=15, color="black", weight="normal"):  # noqa: ANN001, ANN202
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.08", fc=fc, ec=ec, lw=1.5))
    ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=fontsize, color=color, weight=weight)


def _arrow(ax, x0, y0, x1, y1, color="#333333", lw=2.0, style="-|>", ls="-"):  # noqa: ANN001, ANN202
    ax.add_patch(FancyArrowPatch((x0, y0), (x1, y1), arrowstyle=style, mutation_scale=18, color=color, lw=lw,
                                 linestyle=ls, shrinkA=0, shrinkB=0))


def _toy_wave(n: int = 2400, seed: int = 3) -> np.ndarray:
    """A speech-like toy signal: three bursts of a decaying harmonic tone with noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    env = sum(np.exp(-0.5 * ((t - c) / w) ** 2) for c, w in ((400, 160), (1200, 260), (1950, 180)))
    return env * (np.sin(t / 9) + 0.5 * np.sin(t / 4.3)) + 0.05 * rng.standard_normal(n)


def make_diagrams(out: Path, fast: bool = False) -> tuple[list[FigureSpec], dict]:
    """The pipeline of a speech Transformer, and where each method of the course looks."""
    plt = _plt()
    specs = []
    with plt.rc_context(STYLE):
        # 1. Pipeline: waveform -> CNN -> frames -> layers -> head -------------------------
        fig, ax = plt.subplots(figsize=(14, 5.0))
        ax.set(xlim=(0, 14), ylim=(0.75, 5.85))
        ax.set_axis_off()
        wave = _toy_wave()
        xs = np.linspace(0.1, 2.5, len(wave))
        ax.plot(xs, 2.5 + 0.6 * wave / np.abs(wave).max(), color="#444444", lw=0.8)
        ax.text(1.3, 1.35, "waveform\n16 000 samples/s", ha="center", va="center", fontsize=17)
        _arrow(ax, 2.6, 2.5, 3.05, 2.5)
        _box(ax, 3.1, 1.8, 1.9, 1.4, "CNN\nfeature\nencoder", "#DCEAF7", fontsize=17)
        ax.text(4.05, 1.3, "7 strided\nconvolutions", ha="center", va="center", fontsize=16)
        _arrow(ax, 5.05, 2.5, 5.5, 2.5)
        for k in range(6):
            ax.add_patch(plt.Rectangle((5.55 + 0.3 * k, 2.05), 0.24, 0.9, fc=OKABE_ITO["sky"], ec="#1F4E79", lw=1))
        ax.text(6.4, 3.45, "a vector every 20 ms\n(each sees 25 ms)", ha="center", va="center", fontsize=16)
        _arrow(ax, 7.4, 2.5, 7.85, 2.5)
        names = ("layer 1", "layer 2", "…", "layer L")
        for k, name in enumerate(names):
            y = 2.1 + 0.95 * k - (0.0 if k < 2 else 0.0)
            _box(ax, 7.9, y - 0.02, 2.2, 0.72, name, "#E8F4EC" if name != "…" else "white",
                 ec="#333333" if name != "…" else "white", fontsize=17)
            if k < 3:
                _arrow(ax, 9.0, y + 0.72, 9.0, y + 0.92, lw=1.6)
        ax.text(9.0, 1.45, "hidden states h₀ … h_L\n(the residual stream)", ha="center", va="center", fontsize=16)
        _arrow(ax, 10.15, 4.95, 11.45, 4.95)
        _box(ax, 11.5, 4.45, 2.3, 1.0, "head", "#FBE9D7", fontsize=19, weight="bold")
        ax.text(12.65, 3.15, "CTC: a phone per frame\nclassifier: pool the\nframes, one intent\ndecoder: writes words",
                ha="center", va="center", fontsize=15)
        specs.append(FigureSpec("pipeline", _save(fig, out, "pipeline", svg=True),
                                "Diagram: a waveform (16 000 samples per second) enters a CNN feature encoder of "
                                "seven strided convolutions, which emits one vector every 20 ms (each computed from "
                                "25 ms of audio); a stack of Transformer layers 1 to L updates these frame vectors "
                                "(the hidden states h0 to hL, a residual stream); a head reads the last layer: a CTC "
                                "head emits a phone per frame, a classifier pools the frames into one intent, a "
                                "decoder writes words."))

        # 2. Where each method looks --------------------------------------------------------
        fig, ax = plt.subplots(figsize=(15.2, 6.6))
        ax.set(xlim=(0, 15.2), ylim=(0, 6.6))
        ax.set_axis_off()
        n_pos, n_lay = 6, 4
        x0, dx, y0, dy = 6.15, 0.72, 0.75, 1.2
        top = (x0 + dx * 3, y0 + dy * n_lay)
        for l in range(n_lay):  # attention edges: every position of layer l into one position of l + 1
            for p in range(n_pos):
                ax.plot([x0 + dx * p, x0 + dx * 3], [y0 + dy * l, y0 + dy * (l + 1)], color="#BBBBBB", lw=0.8,
                        zorder=1)
        for l in range(n_lay + 1):
            for p in range(n_pos):
                ax.add_patch(plt.Circle((x0 + dx * p, y0 + dy * l), 0.17, fc="#E8F4EC" if l else OKABE_ITO["sky"],
                                        ec="#333333", lw=1.2, zorder=3))
            ax.text(x0 - 0.5, y0 + dy * l, f"h{l}" if l < n_lay else "hL", ha="right", va="center", fontsize=17)
        ax.text(x0 + dx * 2.5, 0.12, "frames, 20 ms each", ha="center", fontsize=16)
        ax.add_patch(plt.Circle(top, 0.26, fc="none", ec=OKABE_ITO["vermillion"], lw=3.2, zorder=5))
        part1 = [("probe", "a classifier trained on one layer", OKABE_ITO["blue"], "-", 2),
                 ("lens", "the model's own head on layer l", OKABE_ITO["orange"], "--", 3),
                 ("RSA / CKA", "two layers, or a layer and MFCCs", OKABE_ITO["purple"], "-.", 1),
                 ("ABX", "distances between phone tokens", OKABE_ITO["green"], ":", 0)]
        for name, text, colour, ls, layer in part1:
            y = y0 + dy * layer
            ax.add_patch(plt.Rectangle((x0 - 0.32, y - 0.34), dx * (n_pos - 1) + 0.64, 0.68, fc="none", ec=colour,
                                       lw=2.8, ls=ls, zorder=4))
        ax.text(0.1, 6.2, "What is encoded?  (Part 2)", fontsize=19, weight="bold")
        for k, (name, text, colour, ls, layer) in enumerate(part1):
            y = 5.35 - 1.25 * k
            ax.plot([0.15, 0.75], [y, y], color=colour, lw=3, ls=ls)
            ax.text(0.95, y, name, color=colour, fontsize=19, weight="bold", va="center")
            ax.text(0.95, y - 0.45, text, fontsize=16, va="center")
        ax.annotate("", xy=(x0 + dx * 5 + 0.55, y0), xytext=(x0 + dx * 5 + 0.55, top[1]),
                    arrowprops=dict(arrowstyle="-|>", ls="--", lw=2, color="black", mutation_scale=18))
        ax.text(x0 + dx * 5 + 0.75, (y0 + top[1]) / 2, "attribution: from the output back to the input", rotation=90,
                ha="left", va="center", fontsize=15)
        ax.text(11.0, 6.2, "How is it used?  (Part 3)", fontsize=19, weight="bold")
        part2 = [("attention, rollout", "which positions a layer reads\n(the grey edges)",
                  OKABE_ITO["vermillion"]),
                 ("value zeroing", "the change when a source's\nvalue vectors are removed", OKABE_ITO["blue"]),
                 ("gradients, IG", "sensitivity of the output\nto each input sample", OKABE_ITO["black"]),
                 ("occlusion, ablation", "the drop of the output when\na span of audio is silenced",
                  OKABE_ITO["grey"])]
        for k, (name, text, colour) in enumerate(part2):
            y = 5.35 - 1.3 * k
            ax.text(11.0, y, name, color=colour, fontsize=19, weight="bold", va="center")
            ax.text(11.0, y - 0.55, text, fontsize=15, va="center")
        specs.append(FigureSpec("methods_map", _save(fig, out, "methods_map", svg=True),
                                "Diagram: a grid of frame vectors, one row per layer from h0 (input frames) at the "
                                "bottom to hL at the top, with grey attention edges from every frame of a layer "
                                "into one frame of the next, ending in a circled output frame. Part 2 methods look "
                                "at rows, each marked by a coloured frame: a probe is a classifier trained on one "
                                "layer, a lens applies the model's own head to layer l, RSA and CKA compare two "
                                "layers or a layer with MFCCs, ABX measures distances between phone tokens inside "
                                "one layer. Part 3 methods look at flows: attention and rollout follow the edges, "
                                "value zeroing removes a source's value vectors, gradients and integrated "
                                "gradients measure the output's sensitivity to each input sample, occlusion and "
                                "word ablation silence spans of audio; a dashed arrow runs from the output back to "
                                "the input (attribution)."))
    return specs, {}


# --------------------------------------------------------------------------
# The corpus: alignments, frames, durations


def make_corpus_figures(out: Path, fast: bool = False) -> tuple[list[FigureSpec], dict]:
    """An aligned utterance, the 20 ms frame grid with the centre rule, and how durations vary."""

    plt = _plt()
    corpus = load_corpus()
    specs = []
    test_rich = corpus.ids(split="test", kind="rich")
    utt = corpus[test_rich[0]]
    with plt.rc_context(STYLE):
        # 1. waveform + spectrogram + alignment
        fig, (ax_w, ax_s) = plt.subplots(2, 1, figsize=(14, 5.6), sharex=True, gridspec_kw={"height_ratios": [1, 1.4]})
        t = np.arange(len(utt.waveform)) / utt.sample_rate
        ax_w.plot(t, utt.waveform, lw=0.4, color="#444444")
        for k, w in enumerate(utt.words):
            ax_w.axvspan(w.start, w.end, color=(OKABE_ITO["sky"], OKABE_ITO["orange"])[k % 2], alpha=0.18, lw=0)
            ax_w.text((w.start + w.end) / 2, 1.02 + 0.16 * (k % 2), w.label, transform=ax_w.get_xaxis_transform(),
                      ha="center", va="bottom", fontsize=16)
        ax_w.set(yticks=[], ylabel="waveform")
        ax_s.specgram(utt.waveform, NFFT=400, Fs=utt.sample_rate, noverlap=240, cmap="viridis")
        for p in utt.phones:
            ax_s.axvline(p.start, color="white", lw=0.6, alpha=0.8)
            ax_s.text((p.start + p.end) / 2, 7000, p.label, color="white", ha="center", fontsize=13)
        ax_s.set(xlabel="time (s)", ylabel="frequency (Hz)", ylim=(0, 8000))
        fig.suptitle(f"Held-out speaker {utt.speaker}: “{utt.text}”", fontsize=17, y=1.04)
        specs.append(FigureSpec("utterance_alignment", _save(fig, out, "utterance_alignment"),
                                f"An utterance of the held-out speaker {utt.speaker}, '{utt.text}' "
                                f"({utt.duration:.2f} s): the waveform with its {len(utt.words)} words shaded "
                                f"and labelled, and below it the spectrogram with the {len(utt.phones)} phone "
                                "boundaries and labels from the synthesiser's exact alignment."))

        # 2. frames: grid, receptive fields, centre rule, on one word boundary
        # a word boundary without a pause that falls well inside a frame: there the centre rule decides
        def inside(w):  # noqa: ANN001, ANN202
            return abs((w.start / FRAME_SECONDS) % 1 - 0.4)

        candidates = [(inside(u.words[k]), j, k) for j, i in enumerate(test_rich[:20]) for u in [corpus[i]]
                      for k in range(1, len(u.words)) if abs(u.words[k].start - u.words[k - 1].end) < 1e-6]
        _, j, w_k = min(candidates) if candidates else (0, 0, 1)
        zoom = corpus[test_rich[j]]
        word, prev = zoom.words[w_k], zoom.words[w_k - 1]
        n_tot = num_frames(len(zoom.waveform))
        lo = max(0.0, word.start - 0.09)
        hi = min(zoom.duration, word.start + 0.11)
        fig, ax = plt.subplots(figsize=(13, 4.2))
        seg = slice(int(lo * zoom.sample_rate), int(hi * zoom.sample_rate))
        wav = zoom.waveform[seg] / (np.abs(zoom.waveform[seg]).max() + 1e-9)
        ax.plot(np.arange(seg.start, seg.stop) / zoom.sample_rate, 3.3 + 0.6 * wav, color="#555555", lw=0.7)
        owner_of = {}
        for j, w in enumerate((prev, word)):
            r = segment_frames(w.start, w.end, n_tot)
            for n in r:
                owner_of[n] = j
        first, last = int(math.floor(lo / FRAME_SECONDS)), int(math.ceil(hi / FRAME_SECONDS))
        for n in range(first, last):
            c = {0: OKABE_ITO["orange"], 1: OKABE_ITO["sky"]}.get(owner_of.get(n), "#DDDDDD")
            ax.add_patch(plt.Rectangle((n * FRAME_SECONDS, 1.4), FRAME_SECONDS, 0.8, fc=c, ec="#333333", lw=1))
            ax.plot((n + 0.5) * FRAME_SECONDS, 1.8, "o", color="black", ms=5)
            # receptive field: samples [320 n, 320 n + 400)
            ax.plot([n * FRAME_SECONDS, n * FRAME_SECONDS + 0.025], [0.9 - 0.18 * (n % 3)] * 2, color=OKABE_ITO["blue"],
                    lw=4, alpha=0.6, solid_capstyle="butt")
        for w, c in ((prev, OKABE_ITO["orange"]), (word, OKABE_ITO["sky"])):
            ax.axvline(w.start, color="black", ls="--", lw=1.4)
            mid = (max(w.start, lo) + min(w.end, hi)) / 2
            ax.text(mid, 2.55, w.label, ha="center", fontsize=18, weight="bold")
        ax.text(lo + 0.002, 0.15, "blue bars: what each frame sees (25 ms)", fontsize=16, color=OKABE_ITO["blue"])
        ax.set(xlim=(lo, hi), ylim=(-0.05, 4.0), yticks=[], xlabel="time (s)")
        ax.set_title("20 ms frames: a frame belongs to the word that contains its centre (dot)", fontsize=17)
        specs.append(FigureSpec("frames_centre_rule", _save(fig, out, "frames_centre_rule"),
                                f"Zoom on the boundary between the words '{prev.label}' and '{word.label}' "
                                f"(at {word.start:.3f} s, inside frame {int(word.start / FRAME_SECONDS)}): a "
                                "row of 20 ms frames, each with a dot at its centre, coloured by the word that "
                                "contains the centre (orange for the first word, blue for the second, grey for "
                                "none); dashed lines mark the true word boundaries, which fall inside frames; "
                                "below, bars show that each frame is computed from 25 ms of audio, so "
                                "neighbouring frames overlap."))

        # 3. durations: frames per phone, and speaking rate per speaker
        per_spk = 4 if fast else 25
        utts = [corpus[i] for s in corpus.speakers for i in corpus.ids(speaker=s, kind="rich")[:per_spk]]
        frames = np.array([len(segment_frames(p.start, p.end)) for u in utts for p in u.phones])
        rates = {}
        for u in utts:
            rates.setdefault(u.speaker, []).append(len(u.phones) / sum(p.end - p.start for p in u.phones))
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(13, 4.4), gridspec_kw={"width_ratios": [1, 1.5]})
        counts = np.bincount(np.minimum(frames, 15))
        a1.bar(np.arange(len(counts)), counts / counts.sum(), color=OKABE_ITO["blue"])
        a1.set(xlabel="frames per phone segment (15: 15 or more)", ylabel="share of segments",
               title="How many frames does a phone get?")
        spk = sorted(rates, key=lambda s: np.median(rates[s]))
        a2.boxplot([rates[s] for s in spk], tick_labels=spk, medianprops={"color": OKABE_ITO["vermillion"], "lw": 2})
        a2.set(ylabel="phones per second", title="Speaking rate differs by speaker")
        a2.tick_params(axis="x", rotation=60, labelsize=14)
        share1 = float(np.mean(frames <= 2))
        lo_s, hi_s = spk[0], spk[-1]
        numbers = {"frames_median": float(np.median(frames)), "share_le_2_frames": share1,
                   "rate_slowest": (lo_s, float(np.median(rates[lo_s]))),
                   "rate_fastest": (hi_s, float(np.median(rates[hi_s]))), "n_utterances": len(utts),
                   "share_2_to_5_frames": float(np.mean((frames >= 2) & (frames <= 5))),
                   "frames_p99": float(np.percentile(frames, 99)), "frames_max": int(frames.max())}
        specs.append(FigureSpec("durations", _save(fig, out, "durations"),
                                f"Left: histogram of the number of 20 ms frames per phone segment over {len(utts)} "
                                f"phonetically rich sentences of all {len(rates)} speakers; the median is "
                                f"{np.median(frames):.0f} frames and {100 * share1:.0f} % of the segments have at most "
                                "two frames. Right: box plots of the speaking rate (phones per second) per speaker, "
                                f"from {lo_s} (median {np.median(rates[lo_s]):.1f}) to {hi_s} (median "
                                f"{np.median(rates[hi_s]):.1f})."))
    return specs, numbers


# --------------------------------------------------------------------------
# Part I: probing, CKA, CTC lens, ABX on tiny-w2v2-ctc


def make_representation_figures(out: Path, fast: bool = False) -> tuple[list[FigureSpec], dict]:
    """Layer-wise probing, CKA between layers, the CTC lens and ABX for ``tiny-w2v2-ctc`` and its random twin."""

    _quiet_torch()
    plt = _plt()
    n_train, n_test, n_abx, n_twin_lens, min_count = (30, 12, 3, 4, 5) if fast else (120, 48, 10, 8, 20)
    corpus = load_corpus()
    train, test = _pick(corpus, "train", n_train), _pick(corpus, "test", n_test)
    heldout = sorted(corpus.select(split="validation")["speaker"].unique()) + sorted(
        corpus.select(split="test")["speaker"].unique())
    abx_utts = [corpus[i] for s in heldout for i in corpus.ids(kind="rich", speaker=s)[:n_abx]]
    everything = {u.id: u for u in train + test + abx_utts}
    model, processor = load_model("tiny-w2v2-ctc")
    twin, _ = load_model("tiny-w2v2-ctc", random_init=True, seed=0)
    n_layers = num_layers(model)
    layers = np.arange(n_layers + 1)
    utts = list(everything.values())
    reps = {"trained": dict(zip(everything, extract(model, processor, utts, batch_size=4, progress=False))),
            "twin": dict(zip(everything, extract(twin, processor, utts, batch_size=4, progress=False)))}
    mfccs = {u.id: mfcc(u.waveform) for u in utts}
    numbers: dict = {"n_train_utts": len(train), "n_test_utts": len(test), "n_layers": n_layers,
                     "test_speakers": sorted({u.speaker for u in test})}

    # -- probing: phone identity from mean-pooled segments, train speakers -> test speakers
    counts_tr = Counter(p.label for u in train for p in u.phones)
    counts_te = Counter(p.label for u in test for p in u.phones)
    classes = sorted(p for p, c in counts_tr.items() if c >= min_count and counts_te[p] > 0)

    def probe_curve(feats: dict, layer: int | None) -> float:
        tr = segment_dataset([feats[u.id] for u in train], train, layer=layer)
        te = segment_dataset([feats[u.id] for u in test], test, layer=layer)
        tr, te = tr.subset(np.isin(tr.y, classes)), te.subset(np.isin(te.y, classes))
        return train_probe(tr.X, tr.y, te.X, te.y, groups=(tr.groups, te.groups), max_iter=200).score

    probe = {s: [probe_curve(reps[s], int(layer)) for layer in layers] for s in ("trained", "twin")}
    probe["mfcc"] = probe_curve(mfccs, None)
    te_labels = [p.label for u in test for p in u.phones if p.label in classes]
    chance = Counter(te_labels)[max(classes, key=lambda c: counts_tr[c])] / len(te_labels)
    numbers["probe"] = {**probe, "chance": chance, "n_classes": len(classes)}
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(11, 6.0), layout="constrained")
        ax.plot(layers, probe["trained"], label="tiny-w2v2-ctc (trained)", **SUBJECT_STYLE["trained"])
        ax.plot(layers, probe["twin"], label="random twin (same architecture)", **SUBJECT_STYLE["twin"])
        ax.axhline(probe["mfcc"], label="MFCC (13 coefficients)", **SUBJECT_STYLE["mfcc"])
        ax.axhline(chance, label="chance (most frequent phone)", **SUBJECT_STYLE["chance"])
        ax.set(xlabel="layer (0 = input of the first Transformer layer)", ylabel="test accuracy", ylim=(0, 1),
               xticks=layers, title=f"Linear phone probe, {len(classes)} phones, held-out speakers")
        fig.legend(loc="outside lower center", ncol=2, frameon=False)
        best = int(np.argmax(probe["trained"]))
        specs = [FigureSpec("probing_layers", _save(fig, out, "probing_layers"),
                            f"Line chart of linear phone-probe accuracy on held-out speakers against layer 0 to "
                            f"{n_layers}. Trained model: {_fmt(probe['trained'])} (best at layer {best}). Random "
                            f"twin: {_fmt(probe['twin'])}. Horizontal lines: MFCC baseline {probe['mfcc']:.2f} and "
                            f"chance {chance:.2f}. {len(classes)} phone classes, probes trained on {len(train)} "
                            f"utterances of the training speakers and tested on {len(test)} utterances of the "
                            "test speakers.")]

    # -- CKA between layers (debiased linear CKA on held-out phone segments)
    seg = {s: [segment_dataset([reps[s][u.id] for u in test], test, layer=int(layer)).X.astype(np.float64)
               for layer in layers] for s in ("trained", "twin")}
    seg_mfcc = segment_dataset([mfccs[u.id] for u in test], test).X.astype(np.float64)
    cka = {s: np.array([[feature_space_linear_cka(a, b, debiased=True) for b in seg[s]] for a in seg[s]])
           for s in seg}
    cka_mfcc = {s: [feature_space_linear_cka(x, seg_mfcc, debiased=True) for x in seg[s]] for s in seg}
    numbers["cka"] = {s: cka[s].round(3).tolist() for s in cka}
    numbers["cka_mfcc"] = cka_mfcc
    numbers["cka_n_segments"] = int(len(seg_mfcc))
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, 3, figsize=(15, 5.0), gridspec_kw={"width_ratios": [1, 1, 1.15]},
                                 constrained_layout=True)
        for ax, s, title in ((axes[0], "trained", "trained"), (axes[1], "twin", "random twin")):
            im = ax.imshow(cka[s], vmin=0, vmax=1, cmap="viridis", origin="lower")
            ax.set(xticks=layers, yticks=layers, xlabel="layer", ylabel="layer", title=title)
            for i in layers:
                for j in layers:
                    v = cka[s][i, j]
                    ax.text(j, i, f"{v:.1f}", ha="center", va="center", fontsize=13,
                            color="white" if v < 0.6 else "black")
        fig.colorbar(im, ax=axes[:2], shrink=0.85, label="debiased linear CKA")
        fig.suptitle(f"CKA between layers, {len(seg_mfcc)} held-out phone segments", fontsize=17)
        ax = axes[2]
        ax.plot(layers, cka_mfcc["trained"], label="trained", **SUBJECT_STYLE["trained"])
        ax.plot(layers, cka_mfcc["twin"], label="random twin", **SUBJECT_STYLE["twin"])
        ax.set(xlabel="layer", ylabel="CKA with MFCC", ylim=(0, 1), xticks=layers, title="Similarity to MFCCs")
        ax.legend(frameon=False)
        off = lambda m: m[~np.eye(len(m), dtype=bool)].mean()  # noqa: E731
        specs.append(FigureSpec("cka_layers", _save(fig, out, "cka_layers"),
                                f"Two heat maps of debiased linear CKA between every pair of layers 0 to {n_layers} "
                                f"on {len(seg_mfcc)} held-out phone segments, viridis colour scale from 0 to 1, "
                                f"values printed in the cells. Trained model: mean off-diagonal CKA "
                                f"{off(cka['trained']):.2f}, layer 0 versus last {cka['trained'][0, -1]:.2f}. Random "
                                f"twin: mean off-diagonal {off(cka['twin']):.2f}, layer 0 versus last "
                                f"{cka['twin'][0, -1]:.2f}. Right: CKA of each layer with MFCC features, trained "
                                f"{_fmt(cka_mfcc['trained'])}; twin {_fmt(cka_mfcc['twin'])}."))

    # -- CTC lens per layer
    refs = [[p.label for p in u.phones] for u in test]
    lens = ctc_lens(model, processor, [reps["trained"][u.id] for u in test], refs).error_rates
    lens_twin = ctc_lens(twin, processor, [reps["twin"][u.id] for u in test[:n_twin_lens]],
                         refs[:n_twin_lens]).error_rates
    numbers["lens_per"] = {"trained": [float(v) for v in lens], "twin": [float(v) for v in lens_twin]}
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(11, 6.0), layout="constrained")
        top = 1.25
        ax.plot(layers, lens, label="trained: CTC head on layer l\n(final layer norm applied)",
                **SUBJECT_STYLE["trained"])
        ax.plot(layers, np.minimum(lens_twin, top - 0.03), label=f"random twin ({n_twin_lens} utterances)",
                **SUBJECT_STYLE["twin"])
        if np.nanmin(lens_twin) > top:
            span = f"{np.nanmin(lens_twin):.1f}–{np.nanmax(lens_twin):.1f}"
            ax.text(n_layers / 2, top - 0.1, f"random twin: PER {span} "
                    "(insertions), drawn at the top edge", ha="center", fontsize=16, color=OKABE_ITO["vermillion"])
        ax.axhline(lens[-1], label="the model's own output", **SUBJECT_STYLE["chance"])
        ax.set(xlabel="layer read by the CTC head", ylabel="phone error rate", xticks=layers, ylim=(0, top),
               title=f"CTC lens on {len(test)} utterances of held-out speakers")
        fig.legend(loc="outside lower center", ncol=2, frameon=False)
        specs.append(FigureSpec("ctc_lens", _save(fig, out, "ctc_lens"),
                                f"Line chart of the phone error rate of the CTC lens per layer 0 to {n_layers} on "
                                f"{len(test)} held-out utterances: {_fmt(lens)}; the last layer is the model's own "
                                f"output ({lens[-1]:.2f}). The random twin read through its own head: "
                                f"{_fmt(lens_twin)} (at or above 1 means useless)."))

    # -- ABX per layer (no context, within and across speakers)
    def abx_items(feats: dict, layer: int | None):  # noqa: ANN202
        return phone_items([feats[u.id] for u in abx_utts], abx_utts, layer=layer, context=False)

    probe_items = abx_items(mfccs, None)
    tok = Counter(zip(probe_items.phones, probe_items.speakers))
    phones = sorted(p for p in set(probe_items.phones) if all(tok[(p, s)] >= 3 for s in heldout))

    def abx_pair(feats: dict, layer: int | None) -> tuple[float, float]:
        items = abx_items(feats, layer)
        items = subsample_items(items.subset(np.isin(items.phones, phones)), 4, seed=0)
        return abx_error(items, "within").error, abx_error(items, "across").error

    abx = {s: np.array([abx_pair(reps[s], int(layer)) for layer in layers]) for s in ("trained", "twin")}
    abx_mfcc = abx_pair(mfccs, None)
    numbers["abx"] = {s: abx[s].tolist() for s in abx}
    numbers["abx_mfcc"] = list(abx_mfcc)
    numbers["abx_phones"] = len(phones)
    numbers["summary"] = {  # the numbers the slides quote (``{{representations.summary.KEY}}``)
        "probe_min": min(probe["trained"]), "probe_max": max(probe["trained"]),
        "probe_best_layer": int(np.argmax(probe["trained"])), "probe_twin_max": max(probe["twin"]),
        "probe_mfcc": probe["mfcc"], "probe_chance": chance, "n_classes": len(classes),
        "lens_first": float(lens[0]), "lens_last": float(lens[-1]), "lens_twin_min": float(np.nanmin(lens_twin)),
        "cka_first_last": float(cka["trained"][0, -1]), "cka_twin_first_last": float(cka["twin"][0, -1]),
        "cka_mfcc_first": float(cka_mfcc["trained"][0]), "cka_mfcc_last": float(cka_mfcc["trained"][-1]),
        "abx_within_min": float(abx["trained"][:, 0].min()), "abx_within_max": float(abx["trained"][:, 0].max()),
        "abx_across_min": float(abx["trained"][:, 1].min()), "abx_across_max": float(abx["trained"][:, 1].max()),
        "abx_mfcc_within": float(abx_mfcc[0]), "abx_mfcc_across": float(abx_mfcc[1]),
        "abx_twin_within": float(abx["twin"][:, 0].mean()), "n_heldout_speakers": len(heldout),
        "n_test_utts": len(test), "n_train_utts": len(train), "cka_n_segments": int(len(seg_mfcc)),
    }
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, 2, figsize=(13, 6.0), sharey=True, layout="constrained")
        for k, (ax, mode) in enumerate(zip(axes, ("within speaker", "across speakers"))):
            ax.plot(layers, abx["trained"][:, k], label="trained", **SUBJECT_STYLE["trained"])
            ax.plot(layers, abx["twin"][:, k], label="random twin", **SUBJECT_STYLE["twin"])
            ax.axhline(abx_mfcc[k], label="MFCC", **SUBJECT_STYLE["mfcc"])
            ax.axhline(0.5, label="chance", **SUBJECT_STYLE["chance"])
            ax.set(xlabel="layer", xticks=layers, title=f"ABX error, {mode}", ylim=(0, 0.55))
        axes[0].set_ylabel("ABX error (lower is better)")
        fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=4, frameon=False)
        specs.append(FigureSpec("abx_layers", _save(fig, out, "abx_layers"),
                                f"Two line charts of phone ABX error per layer 0 to {n_layers} ({len(phones)} phones, "
                                f"{len(heldout)} held-out speakers, no context, at most 4 tokens per speaker and "
                                f"phone). Within speaker: trained {_fmt(abx['trained'][:, 0])}; random twin "
                                f"{_fmt(abx['twin'][:, 0])}; MFCC {abx_mfcc[0]:.2f}. Across speakers: trained "
                                f"{_fmt(abx['trained'][:, 1])}; twin {_fmt(abx['twin'][:, 1])}; MFCC "
                                f"{abx_mfcc[1]:.2f}. Chance is 0.5."))
    return specs, numbers


def make_decoder_lens_figures(out: Path, fast: bool = False) -> tuple[list[FigureSpec], dict]:
    """The decoder lens on ``tiny-whisper``: WER per encoder layer, with the decoder's prior and the random twin."""

    _quiet_torch()
    plt = _plt()
    n_utts, n_twin = (4, 2) if fast else (16, 4)
    corpus = load_corpus()
    test_ids = corpus.ids(split="test")
    utts = [corpus[i] for i in test_ids[:: max(1, len(test_ids) // n_utts)][:n_utts]]

    def words(text: str) -> list[str]:
        return re.sub(r"[^a-z' ]+", " ", text.lower()).split()

    model, processor = load_model("tiny-whisper")
    twin, _ = load_model("tiny-whisper", random_init=True, seed=0)
    n_layers = len(model.get_encoder().layers)
    refs = [words(u.text) for u in utts]
    res = decoder_lens(model, processor, utts, batch_size=len(utts))
    wer = [error_rate(refs, [words(h) for h in hyps]) for hyps in res.hypotheses]
    tw = decoder_lens(twin, processor, utts[:n_twin], max_new_tokens=10, batch_size=n_twin)
    wer_twin = [error_rate(refs[:n_twin], [words(h) for h in hyps]) for hyps in tw.hypotheses]
    near_silence = (1e-4 * np.random.default_rng(0).standard_normal(2 * 16000)).astype(np.float32)
    prior = decoder_lens(model, processor, [near_silence], layers=[n_layers]).hypotheses[0][0]
    wer_prior = error_rate(refs, [words(prior)] * len(refs))
    layers = np.arange(n_layers + 1)
    numbers = {"wer": wer, "wer_twin": wer_twin, "wer_prior": wer_prior, "prior": prior, "n_utts": len(utts),
               "n_layers": n_layers, "first_below_10": next((int(k) for k, v in zip(layers, wer) if v < 0.1), None)}
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(11, 6.0), layout="constrained")
        top = 1.25
        ax.plot(layers, wer, label="tiny-whisper: decoder reads encoder layer l", **SUBJECT_STYLE["trained"])
        ax.plot(layers, np.minimum(wer_twin, top - 0.03), label=f"random twin ({n_twin} utterances)",
                **SUBJECT_STYLE["twin"])
        ax.axhline(wer_prior, label="decoder prior (near-silence input)", **SUBJECT_STYLE["chance"])
        ax.set(xlabel="encoder layer read by the decoder", ylabel="word error rate", xticks=layers, ylim=(0, top),
               title=f"Decoder lens on {len(utts)} utterances of held-out speakers")
        fig.legend(loc="outside lower center", ncol=2, frameon=False)
        clipped = " (values above 1.22 drawn at the top edge)"
        specs = [FigureSpec("decoder_lens", _save(fig, out, "decoder_lens"),
                            f"Line chart of the word error rate of the decoder lens on tiny-whisper per encoder "
                            f"layer 0 to {n_layers}, {len(utts)} held-out utterances: {_fmt(wer)}. The random twin "
                            f"read the same way: {_fmt(wer_twin)}"
                            f"{clipped if max(wer_twin) > top - 0.03 else ''}. The "
                            f"decoder's prior, what it writes for near-silence ('{prior}'), has a word error rate of "
                            f"{wer_prior:.2f}.")]
    return specs, numbers


# --------------------------------------------------------------------------
# Part II: context mixing in the tiny-whisper encoder


def _context_shares(matrix: np.ndarray, target: int, cue: int) -> tuple[float, float]:
    """In the target's row (its own column left out, renormalised): the cue's share and the mean other word's."""
    row = np.delete(np.asarray(matrix, dtype=np.float64)[target], target)
    row = row / row.sum()
    c = cue - (cue > target)
    return float(row[c]), float(np.delete(row, c).mean())


def heldout_homophones(corpus, per_speaker: int = 3) -> list:  # noqa: ANN001
    """Notebook 06's sentences: ``per_speaker`` homophone sentences of each of the twelve held-out speakers.

    Within each held-out split, speaker ``k`` takes slots ``k * per_speaker + i``: cue before and after the homophone
    in turn, the minimal pairs in turn, then their other spelling, so that no sentence is taken twice (the same
    rule as the notebook, so the figure shows the notebook's data).
    """
    chosen = []
    for split in ("test", "validation"):
        homs = corpus.select(split=split, kind="homophone")
        pairs = {pos: sorted(homs.loc[homs["cue_position"] == pos, "pair_id"].unique()) for pos in ("before", "after")}
        for k, spk in enumerate(sorted(homs["speaker"].unique())):
            for i in range(per_speaker):
                g = k * per_speaker + i
                pos = ("before", "after")[g % 2]
                pair = pairs[pos][(g // 2) % len(pairs[pos])]
                rows = homs[(homs["speaker"] == spk) & (homs["pair_id"] == pair)].sort_values("target_word")
                chosen.append(rows.index[(g // (2 * len(pairs[pos]))) % len(rows)])
    return chosen


def make_context_mixing_figures(out: Path, fast: bool = False) -> tuple[list[FigureSpec], dict]:
    """Value zeroing and rollout on homophone sentences: the homophone's row, the cue's share, trained vs twin."""

    _quiet_torch()
    plt = _plt()
    per_speaker = 1 if fast else 3
    corpus = load_corpus()
    sentences = [corpus[i] for i in heldout_homophones(corpus, per_speaker)]
    speakers = np.array([u.speaker for u in sentences])  # the unit of every interval and test below
    example = next((u for u in sentences if u.labels["homophone_group"] == "see/sea"), sentences[0])
    model, processor = load_model("tiny-whisper")
    models = {"trained": model, "twin": load_model("tiny-whisper", random_init=True, seed=0)[0]}
    n_layers = num_layers(model)
    methods = ("value zeroing", "rollout")

    def analyse(m, u):  # noqa: ANN001, ANN202
        """Word-by-word matrices per layer: value zeroing of each layer, rollout up to each layer."""
        run = cm.run_encoder(m, processor, u.waveform)
        spans = cm.word_spans(u.words, run.n_frames)
        roll = cm.attention_rollout(run.attentions)  # over the whole window; then crop the rows and pool
        roll_w = np.stack([cm.pool_to_words(r[:run.n_frames, :run.n_frames], spans) for r in roll])
        roll_w = roll_w / roll_w.sum(-1, keepdims=True)
        vz = []
        for layer in range(1, n_layers + 1):
            h = cm.encoder_layer(m, layer)
            vz.append(cm.value_zeroing(h.run, h.attention, run.hidden_states[layer - 1], spans))
        return {"value zeroing": np.stack(vz), "rollout": roll_w}

    res = {s: [analyse(models[s], u) for u in sentences] for s in models}
    roles = [(int(u.labels["target_index"]), int(u.labels["cue_index"])) for u in sentences]
    # shares[s][method]: (sentences, layers, 2) = (cue share, mean other word's share)
    shares = {s: {m: np.array([[_context_shares(mat, *roles[j]) for mat in r[m]] for j, r in enumerate(res[s])])
                  for m in methods} for s in res}
    ex = sentences.index(example)
    t_i, c_i = roles[ex]
    words = [w.label for w in example.words]
    mean = {s: {m: shares[s][m].mean(0) for m in methods} for s in shares}
    key = {"value zeroing": "vz", "rollout": "rollout"}
    numbers = {"n_sentences": len(sentences), "example": example.text, "n_layers": n_layers,
               "cue": {s: {key[m]: mean[s][m][:, 0].tolist() for m in methods} for s in mean},
               "other": {s: {key[m]: mean[s][m][:, 1].tolist() for m in methods} for s in mean},
               "example_vz_cue": float(res["trained"][ex]["value zeroing"][-1][t_i, c_i]),
               "example_vz_self": float(res["trained"][ex]["value zeroing"][-1][t_i, t_i]),
               "n_speakers": int(len(set(speakers))), "per_speaker": per_speaker}
    # the example's homophone row: how many words it effectively spreads over (exp of its entropy)
    rows = {key[m]: res["trained"][ex][m][-1][t_i] for m in methods}
    numbers["example_row"] = {k: np.asarray(r, dtype=float).tolist() for k, r in rows.items()}
    numbers["example_effective_words"] = {k: float(np.exp(-np.sum(r * np.log(np.clip(r, 1e-12, None)))))
                                          for k, r in rows.items()}
    # at the speaker level: the gap (cue share - an average other word's) with a speaker-bootstrap interval, and
    # paired sign-flip tests of trained against twin and of the twin's gap against 0 (Holm over each family)
    gaps = {s: {m: (shares[s][m][:, :, 0] - shares[s][m][:, :, 1]).T for m in methods} for s in shares}
    numbers["gap"] = {s: {key[m]: curve_ci(gaps[s][m], speakers).tolist() for m in methods} for s in gaps}
    cells = [(m, layer) for m in methods for layer in range(n_layers)]
    p_tw = holm([speaker_sign_flip_test(gaps["trained"][m][layer], gaps["twin"][m][layer], speakers)
                 for m, layer in cells])
    p_zero = holm([speaker_sign_flip_test(gaps["twin"][m][layer], np.zeros(len(sentences)), speakers)
                   for m, layer in cells])
    numbers["p_trained_vs_twin"] = {key[m]: [float(p_tw[cells.index((m, layer))]) for layer in range(n_layers)]
                                    for m in methods}
    numbers["p_twin_gap"] = {key[m]: [float(p_zero[cells.index((m, layer))]) for layer in range(n_layers)]
                             for m in methods}
    # word lengths: the cue word against the other words of its sentence (the homophone left out)
    cue_s = [u.words[c].end - u.words[c].start for u, (t, c) in zip(sentences, roles)]
    other_s = [np.mean([w.end - w.start for k, w in enumerate(u.words) if k not in (t, c)])
               for u, (t, c) in zip(sentences, roles)]
    numbers["cue_seconds"], numbers["other_seconds"] = float(np.mean(cue_s)), float(np.mean(other_s))
    numbers["cue_longer_share"] = float(np.mean(np.array(cue_s) > np.array(other_s)))
    specs = []
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, 2, figsize=(13, 5.6), constrained_layout=True)
        mats = (("value zeroing, last layer", res["trained"][ex]["value zeroing"][-1]),
                (f"attention rollout, layers 1–{n_layers}", res["trained"][ex]["rollout"][-1]))
        for ax, (title, mat) in zip(axes, mats):
            im = ax.imshow(mat, cmap="viridis", vmin=0, vmax=1)
            ax.set_xticks(range(len(words)), words, rotation=45, ha="right")
            ax.set_yticks(range(len(words)), words)
            ax.set(title=title, xlabel="source word (drawn on)", ylabel="target word (row sums to 1)")
            ax.add_patch(plt.Rectangle((-0.5, t_i - 0.5), len(words), 1, fc="none", ec=OKABE_ITO["orange"], lw=3.5))
            ax.add_patch(plt.Rectangle((c_i - 0.5, -0.5), 1, len(words), fc="none", ec="white", lw=3, ls="--"))
        fig.colorbar(im, ax=axes, shrink=0.8, label="share of the row")
        fig.suptitle(f"tiny-whisper encoder, held-out speaker: “{example.text}”\norange row: homophone "
                     f"“{words[t_i]}”; dashed column: cue word “{words[c_i]}”", fontsize=16)
        vz_row, ro_row = mats[0][1][t_i], mats[1][1][t_i]
        specs.append(FigureSpec("context_mixing_example", _save(fig, out, "context_mixing_example"),
                                f"Two word-by-word heat maps for the held-out sentence '{example.text}' in the "
                                "tiny-whisper encoder (rows: target words, columns: the source words they draw on; "
                                "each row sums to 1; viridis). The homophone '" + words[t_i] + "' row is framed in "
                                "orange and the cue word '" + words[c_i] + "' column is dashed. Value zeroing at "
                                f"the last layer: the homophone's row gives {vz_row[c_i]:.2f} to the cue and "
                                f"{vz_row[t_i]:.2f} to itself. Attention rollout through all {n_layers} layers: "
                                f"{ro_row[c_i]:.2f} to the cue and {ro_row[t_i]:.2f} to itself."))

        fig, axes = plt.subplots(1, 2, figsize=(14, 5.6), sharey=True, layout="constrained")
        lay = np.arange(1, n_layers + 1)
        for ax, m in zip(axes, methods):
            for s, name in (("trained", "trained"), ("twin", "random twin")):
                st = SUBJECT_STYLE[s]
                for k, (what, ls) in enumerate((("cue word", "-"), ("average other word", ":"))):
                    ci = curve_ci(shares[s][m][:, :, k].T, speakers)
                    err = np.abs(ci[:, 1:].T - ci[:, 0])
                    ax.errorbar(lay, ci[:, 0], yerr=err, capsize=3, color=st["color"], marker=st["marker"],
                                ms=st["ms"], lw=2.2, ls=ls, label=f"{name}: {what}")
            ax.set(xticks=lay, xlabel="encoder layer", title=m if m == "value zeroing" else "attention rollout")
        axes[0].set_ylabel("share of the homophone's context")
        fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=2, frameon=False)
        fig.suptitle(f"How much the homophone draws on its cue word: {len(sentences)} sentences of "
                     f"{len(set(speakers))} held-out speakers (mean, 95 % speaker-bootstrap interval)", fontsize=16)
        f = lambda s, m, k: _fmt(mean[s][m][:, k])  # noqa: E731
        specs.append(FigureSpec("context_mixing_layers", _save(fig, out, "context_mixing_layers"),
                                f"Two line charts over encoder layers 1 to {n_layers} of tiny-whisper, averaged over "
                                f"{len(sentences)} homophone sentences of {len(set(speakers))} held-out "
                                "speakers, with 95 % speaker-bootstrap intervals: the share of the homophone's "
                                "context (its row without its own column) that goes to the cue word, against the "
                                "share of an average other word. Value zeroing: trained model cue "
                                f"{f('trained', 'value zeroing', 0)} versus other {f('trained', 'value zeroing', 1)}; "
                                f"random twin cue {f('twin', 'value zeroing', 0)} versus other "
                                f"{f('twin', 'value zeroing', 1)}. Attention rollout: trained cue "
                                f"{f('trained', 'rollout', 0)} versus other {f('trained', 'rollout', 1)}; twin cue "
                                f"{f('twin', 'rollout', 0)} versus other {f('twin', 'rollout', 1)}."))
    return specs, numbers


# --------------------------------------------------------------------------
# Part II: attribution for the intent classifier


def make_attribution_figures(out: Path, fast: bool = False) -> tuple[list[FigureSpec], dict]:
    """IG on the CNN features and word ablation over a waveform with word boundaries; sanity check; deletion."""

    _quiet_torch()
    plt = _plt()
    n_eval, steps = (2, 8) if fast else (6, 16)
    corpus = load_corpus()
    model, processor = load_model("tiny-w2v2-intent")
    twin, _ = load_model("tiny-w2v2-intent", random_init=True, seed=0)
    labels = model.config.id2label
    test_ids = corpus.ids(split="test", kind="command")
    example_id = next(i for i in test_ids if corpus.manifest.loc[i, "location"] != "none")
    eval_ids = [example_id] + [i for i in test_ids[:: max(1, len(test_ids) // n_eval)] if i != example_id][:n_eval - 1]
    utts = [corpus[i] for i in eval_ids]

    def roles(u):  # noqa: ANN001, ANN202
        r = ["other"] * len(u.words)
        for role in ("action", "object", "location"):
            for i in str(u.labels.get(f"{role}_words", "")).split():
                r[int(i)] = role
        return r

    def explain(m, u, target=None):  # noqa: ANN001, ANN202
        x = processor(u.waveform, sampling_rate=u.sample_rate, return_tensors="pt").input_values
        feats, head = A.feature_encoder_split(m)
        with torch.no_grad():
            f = feats(x)
            base = feats(torch.zeros_like(x))
            logits = head(f)[0]
        target = int(logits.argmax()) if target is None else target
        ig = A.integrated_gradients(head, f, baselines=base, target=target, n_steps=steps)
        per_frame = ig[0].sum(-1).numpy()
        return x, f, base, head, target, per_frame, float(torch.softmax(logits, -1)[target])

    def prob_forward(m):  # noqa: ANN001, ANN202
        return lambda x: torch.softmax(m(x).logits, -1)

    # the example: IG (trained and twin, same target), word ablation
    u = utts[0]
    x, f, base, head, target, ig_tr, p_ex = explain(model, u)
    _, _, _, _, _, ig_tw, _ = explain(twin, u, target)
    ablation = A.word_ablation(prob_forward(model), x, u.words, baselines=0.0, target=target)
    rho = A.rank_correlation(ig_tr, ig_tw)
    rl = roles(u)

    # deletion curves over the evaluation utterances: IG ranking vs random rankings (100 ms chunks on the features)
    fr = np.linspace(0, 1, 11)
    curves = {"IG on CNN features": [], "random ranking": []}
    for k, v in enumerate(utts):
        xv, fv, bv, hv, tv, igv, _ = (x, f, base, head, target, ig_tr, p_ex) if k == 0 else explain(model, v)
        chunks = A.chunk_mask(fv.shape[1], 5)  # (1, T'): chunks of 5 frames = 100 ms
        scores = A.pool_features(igv[None], chunks)
        mask = chunks[..., None]  # (1, T', 1), broadcast over the feature channels
        curves["IG on CNN features"].append(A.deletion_curve(hv, fv, scores, mask, tv, fr, baselines=bv)[1])
        rng = np.random.default_rng(k)
        curves["random ranking"].append(np.mean([A.deletion_curve(hv, fv, rng.permutation(len(scores)), mask, tv, fr,
                                                                  baselines=bv)[1] for _ in range(3)], axis=0))
    mean_curves = {k: np.mean(v, axis=0) for k, v in curves.items()}
    # where the largest IG bars fall: the 10 largest positive frames, inside a slot word or not (centre rule)
    slot_frames = np.zeros(len(ig_tr), dtype=bool)
    for w, r in zip(u.words, rl):
        if r != "other":
            slot_frames[list(segment_frames(w.start, w.end, len(ig_tr)))] = True
    top = np.argsort(ig_tr)[::-1][:10]
    top = top[ig_tr[top] > 0]
    # a scale-invariant model: the predicted logit of alpha * x, relative to that of x
    log_alphas = list(range(-7, 1))
    with torch.no_grad():
        scaled = [float(model(10.0 ** a * x).logits[0, target]) for a in log_alphas]
    # IG on the waveform from silence, with as many points as on the features: the completeness check
    _, delta_wave = A.integrated_gradients(lambda v: model(v).logits, x, baselines=0.0, target=target,
                                           n_steps=steps, return_convergence_delta=True)
    with torch.no_grad():
        gap_wave = float(model(x).logits[0, target] - model(torch.zeros_like(x)).logits[0, target])
    _, delta_feat = A.integrated_gradients(head, f, baselines=base, target=target, n_steps=steps,
                                           return_convergence_delta=True)
    with torch.no_grad():
        gap_feat = float(head(f)[0, target] - head(base)[0, target])
    auc = {k: float(np.trapezoid(c, fr)) for k, c in mean_curves.items()}
    numbers = {"example": u.text, "predicted": labels[target], "p_predicted": p_ex, "rank_corr_twin": rho,
               "top_ablation_word": u.words[int(np.argmax(ablation))].label, "top_ablation": float(ablation.max()),
               "auc_ig": auc["IG on CNN features"], "auc_random": auc["random ranking"],
               "word_ablation": [[w.label, float(a)] for w, a in zip(u.words, ablation)],
               "deletion_auc": auc, "n_eval": len(utts), "ig_steps": steps,
               "ig_top_frames_in_slots": float(np.mean(slot_frames[top])) if len(top) else None,
               "scale_log10_alphas": log_alphas, "scale_logits": scaled,
               "completeness_wave": abs(float(delta_wave[0])) / abs(gap_wave),
               "completeness_features": abs(float(delta_feat[0])) / abs(gap_feat)}
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(4, 1, figsize=(15, 6.6), sharex=True,
                                 gridspec_kw={"height_ratios": [1.2, 1, 1, 1]})
        t = np.arange(x.shape[1]) / 16000
        axes[0].plot(t, x[0].numpy(), lw=0.4, color="#333333")
        for ax in axes:
            for w, r in zip(u.words, rl):
                ax.axvspan(w.start, w.end, color=SLOT_COLOURS[r], alpha=0.16 if r != "other" else 0.06, lw=0)
                ax.axvline(w.start, color="#888888", lw=0.6)
        for w, r in zip(u.words, rl):
            axes[0].text((w.start + w.end) / 2, 1.02, w.label, transform=axes[0].get_xaxis_transform(), ha="center",
                         va="bottom", fontsize=15, color=SLOT_COLOURS[r] if r != "other" else "#333333",
                         weight="bold" if r != "other" else "normal")
        axes[0].set(yticks=[], ylabel="waveform")
        ft = (np.arange(len(ig_tr)) + 0.5) * 0.02
        for ax, vals, name in ((axes[1], ig_tr, "IG\ntrained"), (axes[2], ig_tw, "IG\nrandom twin")):
            ax.bar(ft, vals, width=0.018, color=np.where(vals >= 0, OKABE_ITO["orange"], OKABE_ITO["sky"]))
            ax.axhline(0, color="black", lw=0.8)
            ax.set_ylabel(name, fontsize=14)
        axes[2].set_title(f"rank correlation with the trained map: {rho:.2f}", loc="right", fontsize=14, pad=2)
        for w, a in zip(u.words, ablation):
            axes[3].bar((w.start + w.end) / 2, a, width=(w.end - w.start) * 0.9,
                        color=SLOT_COLOURS[roles(u)[u.words.index(w)]], edgecolor="#333333")
        axes[3].axhline(0, color="black", lw=0.8)
        axes[3].set(ylabel="word\nablation Δp", xlabel="time (s)")
        slots = {r: [w.label for w, rr in zip(u.words, rl) if rr == r] for r in ("action", "object", "location")}
        top_word = u.words[int(np.argmax(ablation))].label
        specs = [FigureSpec("attribution_waveform", _save(fig, out, "attribution_waveform"),
                            f"Four stacked panels over time for the held-out command '{u.text}', predicted "
                            f"{labels[target]} with probability {p_ex:.2f}; word spans are shaded by slot: action "
                            f"{slots['action']}, object {slots['object']}, location {slots['location']}, other words "
                            f"grey. Panel 1: the waveform with the words. Panel 2: Integrated Gradients on the CNN "
                            f"features ({steps} steps, baseline: features of silence), one bar per 20 ms frame, "
                            f"orange positive, blue negative. Panel 3: the same for the randomly initialised twin; "
                            f"rank correlation with the trained map {rho:.2f}. Panel 4: word ablation, the drop "
                            f"of the predicted intent's probability when each word is replaced by silence; the "
                            f"largest drop is for '{top_word}' ({ablation.max():.2f}).")]
        fig, ax = plt.subplots(figsize=(11, 5.6))
        for (k, c), st in zip(mean_curves.items(), (SUBJECT_STYLE["trained"], SUBJECT_STYLE["chance"])):
            ax.plot(100 * fr, c, label=f"{k} (area {auc[k]:.2f})", **{**st, "marker": "o"})
        ax.set(xlabel="share of 100 ms chunks deleted, most important first (%)",
               ylabel="p(predicted intent)", ylim=(0, 1.02),
               title=f"Deletion curves, {len(utts)} held-out commands")
        ax.legend(frameon=False)
        specs.append(FigureSpec("deletion_curve", _save(fig, out, "deletion_curve"),
                                f"Line chart: mean probability of the predicted intent over {len(utts)} held-out "
                                "commands as more and more 100 ms chunks of the CNN features are replaced by the "
                                "features of silence, most important first. Ranking by Integrated Gradients: area "
                                f"under the curve {auc['IG on CNN features']:.2f}, probabilities "
                                f"{_fmt(mean_curves['IG on CNN features'])}. Random rankings (mean of three): area "
                                f"{auc['random ranking']:.2f}, probabilities {_fmt(mean_curves['random ranking'])}. "
                                "A lower curve means a more faithful ranking."))
    return specs, numbers


# --------------------------------------------------------------------------
# Registry

GROUPS: dict[str, Group] = {
    "diagrams": Group(make_diagrams, (), (), ("pipeline", "methods_map"),
                      "diagrams of the pipeline and of what each method measures"),
    "corpus": Group(make_corpus_figures, (), (), ("utterance_alignment", "frames_centre_rule", "durations"),
                    "an aligned utterance, the frame grid, durations and speaking rates"),
    "representations": Group(make_representation_figures,
                             ("features", "models", "probing", "similarity", "lenses", "abx", "metrics"),
                             ("tiny-w2v2-ctc",), ("probing_layers", "cka_layers", "ctc_lens", "abx_layers"),
                             "probing, CKA, CTC lens and ABX per layer of tiny-w2v2-ctc"),
    "decoder_lens": Group(make_decoder_lens_figures, ("features", "models", "lenses", "metrics"), ("tiny-whisper",),
                          ("decoder_lens",), "the decoder lens on tiny-whisper, with its prior and random twin"),
    "context_mixing": Group(make_context_mixing_figures,
                            ("features", "models", "context_mixing", "lenses", "stats"), ("tiny-whisper",),
                            ("context_mixing_example", "context_mixing_layers"),
                            "value zeroing and rollout on homophone sentences, tiny-whisper encoder"),
    "attribution": Group(make_attribution_figures, ("features", "models", "attribution"), ("tiny-w2v2-intent",),
                         ("attribution_waveform", "deletion_curve"),
                         "IG, word ablation, sanity check and deletion curves for tiny-w2v2-intent"),
}


def make_group(name: str, out: Path, fast: bool = False) -> dict:
    """Run one group into ``out``; a group that fails gets clearly marked placeholders (reason in the alt text).

    Returns the group's manifest: ``{"figures": {name: FigureSpec dict}, "numbers": ..., "seconds": ...,
    "error": str or None}``.
    """
    group = GROUPS[name]
    out.mkdir(parents=True, exist_ok=True)
    start, cpu = time.perf_counter(), time.process_time()
    error = None
    try:
        specs, numbers = group.make(out, fast=fast)
    except Exception as exc:  # noqa: BLE001  (a failing Part II module must not stop the decks)
        error = f"{type(exc).__name__}: {exc}"
        specs = [placeholder(out, f, f"{group.description} ({f})", f"not computed: {error}") for f in group.figures]
        numbers = {}
    missing = [f for f in group.figures if f not in {s.name for s in specs}]
    specs += [placeholder(out, f, f, "the group did not produce this figure") for f in missing]
    return {"figures": {s.name: s.as_dict() for s in specs}, "numbers": _jsonable(numbers),
            "seconds": round(time.perf_counter() - start, 1), "cpu_seconds": round(time.process_time() - cpu, 1),
            "error": error}


def _jsonable(x):  # noqa: ANN001, ANN202
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, (np.floating, float)):
        return None if not math.isfinite(float(x)) else round(float(x), 4)
    if isinstance(x, np.integer):
        return int(x)
    return x

"""Findings as code for the docs: docs/models.md's reading of the recorded layer-wise comparison is recomputed
from the record (``course.layerwise.recorded``), so a retrain that changes the record fails here with the sentence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from course import layerwise as L
from course.claims import Claims, ClaimError

DOC = Path(__file__).resolve().parents[1] / "docs" / "models.md"

PEAK = ("`tiny-hubert`'s probe curve rises from 0.679 at layer 0 to 0.708 at layer 6 and falls to 0.686 at layer 8, "
        "the shape Pasad et al. describe (`course.layerwise.probe_shape` calls it a peak: the drop, 0.022, exceeds "
        "its 0.02)")
INSIDE = ("the last layer lies inside the best layer's 95 % speaker interval\n  [0.673, 0.738]: the speakers do not "
          "support the fall")
MFCC = ("Paired with the 39-d MFCC frames (0.683) on the same test\n  frames, its best layer is 0.025 above them (95 % "
        "interval [0.001, 0.045]): clear of zero, but only just")
ABX = ("Its ABX\n  error is lowest at layer 0 (0.080) and grows with depth (0.139 at layer 8); at layer 0 it is level "
       "with MFCCs\n  (paired −0.005, interval [−0.013, 0.004])")
TWIN = "Its random twin scores 0.17–0.18 everywhere"
CKA = ("CKA between `tiny-hubert-ctc` and `tiny-hubert` falls from 0.94 at layer 0 to\n  0.31 at layer 8 (lower half "
       "0.82, upper half 0.43)")
FINETUNED = ("The fine-tuned model's\n  probe rises to 0.804 at layer 6 (0.788 at layer 8) and its ABX error is lowest "
             "at layer 2 (0.068)")
W2V2 = "The CTC models' probes rise to the top (`tiny-w2v2-ctc` 0.875 → 0.945)"
PAST = ("Fine-tuning\n  takes every layer past MFCCs on the probe, and the last layer past them on both measures: "
        "probe +0.104 (interval\n  [0.075, 0.133]), 0.015 fewer ABX errors (interval [0.005, 0.024])")
SENTENCES = (PEAK, INSIDE, MFCC, ABX, TWIN, CKA, FINETUNED, W2V2, PAST)


def _words(text: str) -> str:
    return " ".join(text.split())


def check_models_doc(table: pd.DataFrame) -> Claims:
    """Check docs/models.md's sentences about the layer-wise record against ``table``."""
    claims = Claims("docs/models.md")
    curve = {s: t.sort_values("layer").reset_index(drop=True) for s, t in table.groupby("subject")}
    ssl, ft, twin, w2v2 = (curve[s] for s in ("tiny-hubert", "tiny-hubert-ctc", "tiny-hubert@random", "tiny-w2v2-ctc"))
    mfcc = float(curve["mfcc"]["probe"].iloc[0])
    best = ssl.loc[ssl.probe.idxmax()]
    for shown, value in (("0.679", ssl.probe.iloc[0]), ("0.708", best.probe), ("0.686", ssl.probe.iloc[-1]),
                         ("0.022", best.probe - ssl.probe.iloc[-1])):
        claims.number(PEAK, shown, value)
    claims.check(PEAK, len(ssl) == 9 and int(best.layer) == 6 and L.probe_shape(ssl.probe) == "peak")
    claims.number(INSIDE, "0.673", best.probe_lo)
    claims.number(INSIDE, "0.738", best.probe_hi)
    claims.check(INSIDE, bool(ssl.probe.iloc[-1] >= best.probe_lo))
    claims.number(MFCC, "0.683", mfcc)
    for shown, value in (("0.025", best.vs_mfcc), ("0.001", best.vs_mfcc_lo), ("0.045", best.vs_mfcc_hi)):
        claims.number(MFCC, shown, value)
    claims.check(MFCC, bool(0 < best.vs_mfcc_lo < 0.005))
    abx = ssl.loc[ssl.abx_within.idxmin()]
    claims.check(ABX, int(abx.layer) == 0 and bool(np.all(np.diff(ssl.abx_within) > 0))
                 and bool(abx.abx_vs_mfcc_lo < 0 < abx.abx_vs_mfcc_hi))
    for shown, value in (("0.080", abx.abx_within), ("0.139", ssl.abx_within.iloc[-1]), ("0.005", -abx.abx_vs_mfcc),
                         ("0.013", -abx.abx_vs_mfcc_lo), ("0.004", abx.abx_vs_mfcc_hi)):
        claims.number(ABX, shown, value)
    claims.number(TWIN, "0.17", twin.probe.min())
    claims.number(TWIN, "0.18", twin.probe.max())
    cka = ft.cka_base.to_numpy()
    half = len(cka) // 2
    for shown, value in (("0.94", cka[0]), ("0.31", cka[-1]), ("0.82", cka[:half].mean()), ("0.43", cka[half:].mean())):
        claims.number(CKA, shown, value)
    ft_best, ft_abx = ft.loc[ft.probe.idxmax()], ft.loc[ft.abx_within.idxmin()]
    claims.check(FINETUNED, int(ft_best.layer) == 6 and int(ft_abx.layer) == 2)
    for shown, value in (("0.804", ft_best.probe), ("0.788", ft.probe.iloc[-1]), ("0.068", ft_abx.abx_within)):
        claims.number(FINETUNED, shown, value)
    claims.number(W2V2, "0.875", w2v2.probe.iloc[0])
    claims.number(W2V2, "0.945", w2v2.probe.iloc[-1])
    claims.check(W2V2, L.probe_shape(w2v2.probe) == "rising" and int(w2v2.probe.idxmax()) == len(w2v2) - 1)
    last = ft.iloc[-1]
    for shown, value in (("0.104", last.vs_mfcc), ("0.075", last.vs_mfcc_lo), ("0.133", last.vs_mfcc_hi),
                         ("0.015", -last.abx_vs_mfcc), ("0.005", -last.abx_vs_mfcc_hi),
                         ("0.024", -last.abx_vs_mfcc_lo)):
        claims.number(PAST, shown, value)
    claims.check(PAST, bool((ft.vs_mfcc_lo > 0).all() and last.abx_vs_mfcc_hi < 0))
    return claims


def test_every_sentence_is_in_the_doc():
    text = _words(DOC.read_text(encoding="utf-8"))
    missing = [s for s in SENTENCES if _words(s) not in text]
    assert not missing, f"docs/models.md no longer says: {missing}"


def test_the_doc_reads_the_recorded_comparison_right():
    check_models_doc(L.recorded("tiny-hubert")).verify()


def test_a_changed_record_fails_with_its_sentence():
    table = L.recorded("tiny-hubert").copy()
    table.loc[table.subject == "mfcc", "probe"] = 0.60  # the MFCC line the docs quote would be another
    with pytest.raises(ClaimError, match="39-d MFCC frames"):
        check_models_doc(table).verify()


def test_a_flattened_curve_or_a_lost_lead_fails_with_its_sentence():
    table = L.recorded("tiny-hubert").copy()
    top = (table.subject == "tiny-hubert") & (table.layer == 8)
    table.loc[top, "probe"] = 0.71  # the curve would end at its best layer: no peak
    with pytest.raises(ClaimError, match="calls it a"):
        check_models_doc(table).verify()
    table = L.recorded("tiny-hubert").copy()
    table.loc[(table.subject == "tiny-hubert") & (table.layer == 6), "vs_mfcc_lo"] = -0.001  # level with MFCCs
    with pytest.raises(ClaimError, match="clear of zero, but only just"):
        check_models_doc(table).verify()


def test_the_docs_quote_the_hubert_models_metrics_as_shipped():
    """The status table and the model bullets of docs/models.md follow both HuBERT models' metrics.json."""
    from course.models import shipped_metrics

    text = _words(DOC.read_text(encoding="utf-8"))
    ssl, ft = shipped_metrics("tiny-hubert"), shipped_metrics("tiny-hubert-ctc")
    mpa, per = f"{100 * ssl['masked_prediction_accuracy']:.0f} %", f"{100 * ft['phone_error_rate']:.1f} %"
    spread = (f"{100 * ft['phone_error_rate_speaker_min']:.1f}–{100 * ft['phone_error_rate_speaker_max']:.1f} %")
    for quoted in (f"| `tiny-hubert` | 6 500 × batch 8 (3 500, then two restarts of 1 500) | "
                   f"{ssl['training_minutes']} min | masked-prediction accuracy {mpa} |",
                   f"| `tiny-hubert-ctc` | 2 000 × batch 8 | {ft['training_minutes']} min | PER {per} ({spread}) |",
                   f"**{ssl['training_minutes']} minutes** in all", f"Masked-prediction accuracy on the test speakers: "
                   f"**{mpa}**", f"2 000 steps, **{ft['training_minutes']} minutes**",
                   f"held-out sentences **{per}** (per speaker {spread};",
                   f"{ft['training_minutes']} minutes here"):
        assert quoted in text, f"docs/models.md should say: {quoted}"
    assert ssl["training_steps"] == 6500 and ft["training_steps"] == 2000

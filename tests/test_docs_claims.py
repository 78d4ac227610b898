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

RANGE = "`tiny-hubert`'s probe curve is flat (0.616–0.626\n  over all nine hidden states)"
MFCC = "below the 39-d MFCC frames themselves (0.683)"
ABX = "its ABX error is lowest at layer 0\n  (0.105) and grows with depth (0.169 at layer 8)"
TWIN = "Its random twin scores 0.17–0.18 everywhere"
CKA = ("CKA between `tiny-hubert-ctc` and `tiny-hubert` falls from 0.91 at layer 0 to\n  0.33 at layer 8 (lower half "
       "0.75, upper half 0.39)")
FINETUNED = ("the fine-tuned model's\n  probe rises to 0.740 at layers 3, 4 and 8 and its ABX error drops to 0.069 at "
             "layer 8")
W2V2 = "The CTC models' probes rise to the top (`tiny-w2v2-ctc` 0.875 → 0.945)"
PAIRED = ("its best probe layer is 0.058 below the MFCC\n  probe on the same frames (95 % interval [0.034, 0.082]) and "
          "its best ABX layer makes 0.021 more errors (interval\n  [0.010, 0.032]): the speakers support both deficits")
PAST = ("Fine-tuning takes its last\n  layer past MFCCs on both measures: probe +0.057 (interval [0.030, 0.081]), 0.016 "
        "fewer ABX errors (interval\n  [0.007, 0.025])")
SENTENCES = (RANGE, MFCC, ABX, TWIN, CKA, FINETUNED, W2V2, PAIRED, PAST)


def _words(text: str) -> str:
    return " ".join(text.split())


def check_models_doc(table: pd.DataFrame) -> Claims:
    """Check docs/models.md's sentences about the layer-wise record against ``table``."""
    claims = Claims("docs/models.md")
    curve = {s: t.sort_values("layer").reset_index(drop=True) for s, t in table.groupby("subject")}
    ssl, ft, twin, w2v2 = (curve[s] for s in ("tiny-hubert", "tiny-hubert-ctc", "tiny-hubert@random", "tiny-w2v2-ctc"))
    mfcc = float(curve["mfcc"]["probe"].iloc[0])
    claims.number(RANGE, "0.616", ssl.probe.min())
    claims.number(RANGE, "0.626", ssl.probe.max())
    claims.check(RANGE, len(ssl) == 9 and L.probe_shape(ssl.probe) == "flat")
    claims.number(MFCC, "0.683", mfcc)
    claims.check(MFCC, bool(ssl.probe.max() < mfcc))
    claims.check(ABX, int(ssl.abx_within.idxmin()) == 0 and bool(np.all(np.diff(ssl.abx_within) > 0)))
    claims.number(ABX, "0.105", ssl.abx_within.iloc[0])
    claims.number(ABX, "0.169", ssl.abx_within.iloc[-1])
    claims.number(TWIN, "0.17", twin.probe.min())
    claims.number(TWIN, "0.18", twin.probe.max())
    cka = ft.cka_base.to_numpy()
    half = len(cka) // 2
    for shown, value in (("0.91", cka[0]), ("0.33", cka[-1]), ("0.75", cka[:half].mean()), ("0.39", cka[half:].mean())):
        claims.number(CKA, shown, value)
    top = {int(layer) for layer in ft.layer[ft.probe.round(3) == round(ft.probe.max(), 3)]}
    claims.check(FINETUNED, top == {3, 4, 8}, layers=sorted(top))
    claims.number(FINETUNED, "0.740", ft.probe.max())
    claims.number(FINETUNED, "0.069", ft.abx_within.iloc[-1])
    claims.check(FINETUNED, int(ft.abx_within.idxmin()) == len(ft) - 1)
    claims.number(W2V2, "0.875", w2v2.probe.iloc[0])
    claims.number(W2V2, "0.945", w2v2.probe.iloc[-1])
    claims.check(W2V2, L.probe_shape(w2v2.probe) == "rising" and int(w2v2.probe.idxmax()) == len(w2v2) - 1)
    best, abx = ssl.loc[ssl.probe.idxmax()], ssl.loc[ssl.abx_within.idxmin()]
    for shown, value in (("0.058", -best.vs_mfcc), ("0.034", -best.vs_mfcc_hi), ("0.082", -best.vs_mfcc_lo),
                         ("0.021", abx.abx_vs_mfcc), ("0.010", abx.abx_vs_mfcc_lo), ("0.032", abx.abx_vs_mfcc_hi)):
        claims.number(PAIRED, shown, value)
    claims.check(PAIRED, bool(best.vs_mfcc_hi < 0 and abx.abx_vs_mfcc_lo > 0))
    last = ft.iloc[-1]
    for shown, value in (("0.057", last.vs_mfcc), ("0.030", last.vs_mfcc_lo), ("0.081", last.vs_mfcc_hi),
                         ("0.016", -last.abx_vs_mfcc), ("0.007", -last.abx_vs_mfcc_hi), ("0.025", -last.abx_vs_mfcc_lo)):
        claims.number(PAST, shown, value)
    claims.check(PAST, bool(last.vs_mfcc_lo > 0 and last.abx_vs_mfcc_hi < 0))
    return claims


def test_every_sentence_is_in_the_doc():
    text = _words(DOC.read_text(encoding="utf-8"))
    missing = [s for s in SENTENCES if _words(s) not in text]
    assert not missing, f"docs/models.md no longer says: {missing}"


def test_the_doc_reads_the_recorded_comparison_right():
    check_models_doc(L.recorded("tiny-hubert")).verify()


def test_a_changed_record_fails_with_its_sentence():
    table = L.recorded("tiny-hubert").copy()
    table.loc[table.subject == "mfcc", "probe"] = 0.60  # the small SSL model would now beat MFCCs
    with pytest.raises(ClaimError, match="MFCC frames themselves"):
        check_models_doc(table).verify()

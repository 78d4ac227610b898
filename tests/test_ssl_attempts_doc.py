"""The self-supervised recipes tried and not shipped: docs/models.md and tiny-hubert's card quote their saved records
(docs/records/), number for number."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from speech_course_tools import attempts

ROOT = Path(__file__).resolve().parents[1]
RECORDS = attempts.load_records("tiny-hubert", ROOT)
RUNS = [(record, name) for record in RECORDS for name in record["runs"]]


def test_every_run_of_a_record_is_measured_or_says_why_not():
    assert len(RUNS) >= 4
    for record, name in RUNS:
        table = pd.DataFrame(record["table"])
        measured = (table.subject == name).any()
        assert measured != ("outcome" in record["runs"][name]), f"{name}: rows in the table xor an outcome"
        assert {"summary", "call"} <= set(record["runs"][name]), name
        assert (table.subject == "mfcc").sum() == 1, "each record has its MFCC line, measured with its runs"


@pytest.mark.parametrize("record, name", RUNS, ids=[name for _, name in RUNS])
def test_the_docs_quote_each_runs_figures_from_its_record(record, name):
    figures = attempts.run_figures(record, name)
    text = (ROOT / "docs" / "models.md").read_text(encoding="utf-8")
    assert figures["probe"] in text, f"docs/models.md should quote {name}: {figures['probe']}"
    if figures["abx"] != "—":
        assert figures["abx"] in text, f"docs/models.md should quote {name}'s ABX error: {figures['abx']}"


def test_the_docs_say_nothing_tried_beats_mfccs_only_while_the_records_agree():
    text = (ROOT / "docs" / "models.md").read_text(encoding="utf-8")
    beats = []
    for record, name in RUNS:
        t = pd.DataFrame(record["table"])
        if (t[t.subject == name].vs_mfcc_lo > 0).any():
            beats.append(name)
    if "Nothing here beats MFCCs" in text:
        assert not beats, f"docs/models.md says nothing beats MFCCs, but {beats} do on the probe"


def test_run_figures_read_the_best_layer_and_say_why_a_run_has_none():
    record = {"runs": {"a": {"summary": "s", "call": "c"}, "b": {"summary": "s", "call": "c", "outcome": "collapsed"}},
              "table": [{"subject": "a", "layer": k, "probe": p, "probe_lo": p - 0.01, "probe_hi": p + 0.01,
                         "vs_mfcc": p - 0.7, "vs_mfcc_lo": p - 0.72, "vs_mfcc_hi": p - 0.68, "abx_within": 0.3 - p / 10}
                        for k, p in enumerate([0.6, 0.75, 0.7])]}
    f = attempts.run_figures(record, "a")
    assert f["probe"] == "layer 1: 0.750 [0.740, 0.760]; 0.050 [0.030, 0.070]"
    assert f["curve"] == "0.600 → 0.700" and f["shape"] == "peak" and f["abx"] == "0.225 (layer 1)"
    assert attempts.run_figures(record, "b")["probe"] == "collapsed"


def test_the_card_section_lists_every_run_and_is_empty_for_a_model_without_records(tmp_path):
    section = attempts.card_section("tiny-hubert", ROOT)
    for record, name in RUNS:
        assert f"| {name} ({record['measured']}) | {record['runs'][name]['summary']} |" in section
    assert attempts.card_section("tiny-w2v2-ctc", ROOT) == ""
    (tmp_path / "docs" / "records").mkdir(parents=True)
    (tmp_path / "docs" / "records" / "x.json").write_text(json.dumps({"model": "other", "measured": "2026", "runs": {}}))
    assert attempts.load_records("tiny-hubert", tmp_path) == []


def _run(name: str) -> pd.DataFrame:
    record = next(r for r in RECORDS if name in r["runs"])
    t = pd.DataFrame(record["table"])
    return t[t.subject == name].sort_values("layer").set_index("layer")


LONGER = ("the best probe layer moved from layer 1 (0.626) to layer 6\n  (0.681), now level with MFCCs (the paired "
          "interval contains zero), and the lowest ABX error fell from 0.105 to 0.088\n  (paired with MFCCs +0.004 "
          "[−0.005, +0.013]). The curve rises from 0.657 at layer 0 to 0.681 at layer 6 and falls\n  to 0.664 at "
          "layer 8: the shape of the papers' profile, but a drop of 0.017 is short of the 0.02 that\n  "
          "`course.layerwise.probe_shape` asks of a peak and lies inside the best layer's interval")
CLUSTERS = ("0.340 with MFCC targets and mask probability 0.8, 0.406 for iteration 2 trained\n  from scratch on "
            "tiny-hubert's layer 4. Their front ends (layer 0) learned much less (0.340 and 0.395 against\n  0.622)")


def test_the_docs_reading_of_the_hubert_variations_follows_their_records():
    from course import layerwise as L
    from course.claims import Claims

    text = " ".join((ROOT / "docs" / "models.md").read_text(encoding="utf-8").split())
    for sentence in (LONGER, CLUSTERS):
        assert " ".join(sentence.split()) in text, sentence
    claims = Claims("docs/models.md")
    shipped = L.recorded("tiny-hubert")
    shipped = shipped[shipped.subject == "tiny-hubert"].set_index("layer")
    longer = _run("hubert-continued")
    best = longer.loc[longer.probe.idxmax()]
    for shown, value in (("0.626", shipped.probe.max()), ("0.681", best.probe), ("0.105", shipped.abx_within.min()),
                         ("0.088", longer.abx_within.min()), ("0.004", longer.abx_vs_mfcc.iloc[0]),
                         ("0.005", -longer.abx_vs_mfcc_lo.iloc[0]), ("0.013", longer.abx_vs_mfcc_hi.iloc[0]),
                         ("0.657", longer.probe.iloc[0]), ("0.664", longer.probe.iloc[-1]),
                         ("0.017", best.probe - longer.probe.iloc[-1])):
        claims.number(LONGER, shown, value)
    claims.check(LONGER, int(shipped.probe.idxmax()) == 1 and int(best.name) == 6 and best.vs_mfcc_lo < 0
                 < best.vs_mfcc_hi and int(longer.abx_within.idxmin()) == 0 and L.probe_shape(longer.probe) != "peak"
                 and longer.probe.iloc[-1] >= best.probe_lo)
    masked, iter2 = _run("hubert-500-mask0.8"), _run("hubert-iter2-scratch-500")
    for shown, value in (("0.340", masked.probe.max()), ("0.406", iter2.probe.max()), ("0.395", iter2.probe.iloc[0]),
                         ("0.622", shipped.probe.iloc[0])):
        claims.number(CLUSTERS, shown, value)
    claims.check(CLUSTERS, masked.probe.iloc[0] == masked.probe.max())  # "0.340 and 0.395": the first is layer 0
    claims.verify()

"""docs/models.md's table of self-supervised attempts quotes its saved record (docs/records/), number for number."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
RECORD = ROOT / "docs" / "records" / "ssl-attempts-2026-12-06.json"


def _signed(x: float) -> str:
    return f"{x:.3f}".replace("-", "−")


@pytest.mark.parametrize("subject", ["tiny-hubert", "data2vec-8x192", "data2vec-12x144"])
def test_each_attempts_best_layer_interval_and_difference_from_mfcc_are_the_records(subject):
    table = pd.DataFrame(json.loads(RECORD.read_text())["table"])
    t = table[table.subject == subject].sort_values("layer")
    assert len(t) > 1, f"{subject} is not in {RECORD}"
    best = t.loc[t.probe.idxmax()]
    quoted = (f"layer {int(best.layer)}: {best.probe:.3f} [{best.probe_lo:.3f}, {best.probe_hi:.3f}]; "
              f"{_signed(best.vs_mfcc)} [{_signed(best.vs_mfcc_lo)}, {_signed(best.vs_mfcc_hi)}]")
    text = (ROOT / "docs" / "models.md").read_text(encoding="utf-8")
    assert quoted in text, f"docs/models.md should quote {subject}'s best layer as: {quoted}"
    abx = t.loc[t.abx_within.idxmin()]
    assert f"{abx.abx_within:.3f} (layer {int(abx.layer)})" in text
    assert (t.vs_mfcc_hi < 0).all(), "the docs say nothing here beats MFCCs"

"""Recipes tried for a shipped model besides the one shipped: their saved records, rendered for the model card.

A record (``docs/records/*.json``) is what :func:`course.layerwise.layerwise_comparison` measured on the attempts of
one session, with what was run::

    {"model": "tiny-hubert", "measured": "2026-12-06", "how": "...",
     "runs": {"NAME": {"summary": "...", "call": "...", "outcome": "..."}, ...},
     "table": [rows of the layer-wise table: subject NAME (and "mfcc"), layer, probe, probe_lo, ...]}

A run that was stopped before it could be measured has an ``outcome`` (why) and no rows. The card of ``model``
gets one table of every attempt (:func:`card_section`), so the figures in the card, in docs/models.md (checked by
tests/test_ssl_attempts_doc.py) and in the record are the same numbers.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from course.grading.layout import repo_root
from course.layerwise import probe_shape

#: Where the records live.
RECORDS = Path("docs") / "records"


def load_records(model: str, root: Path | None = None) -> list[dict]:
    """Every saved record of attempts for ``model``, oldest first."""
    folder = (root or repo_root()) / RECORDS
    records = [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]
    return sorted((r for r in records if r.get("model") == model), key=lambda r: r["measured"])


def runs_beating_mfcc(model: str, root: Path | None = None, column: str = "vs_mfcc") -> list[str]:
    """The recorded runs for ``model`` that beat MFCCs at some layer with the interval clear of them.

    ``column`` is a paired difference from MFCCs in the record's table: ``"vs_mfcc"`` (phone probe accuracy, higher
    is better: its lower bound above 0) or ``"abx_vs_mfcc"`` (ABX error, lower is better: its upper bound below 0).
    """
    beat = []
    for record in load_records(model, root):
        table = pd.DataFrame(record["table"])
        for name in record["runs"]:
            rows = table[table.subject == name] if len(table) else table
            if not len(rows) or f"{column}_lo" not in rows:
                continue
            clear = rows[f"{column}_lo"] > 0 if column == "vs_mfcc" else rows[f"{column}_hi"] < 0
            if clear.any():
                beat.append(name)
    return beat


def _signed(x: float) -> str:
    return f"{x:.3f}".replace("-", "−")


def run_figures(record: dict, name: str) -> dict[str, str]:
    """The figures of one run as the docs quote them: best probe layer with its interval and its paired difference
    from MFCCs, the curve from the first to the last layer and its shape, and the lowest within-speaker ABX error.

    A run without rows in the record's table gets its ``outcome`` instead.
    """
    table = pd.DataFrame(record["table"])
    t = table[table.subject == name].sort_values("layer") if len(table) else table
    if not len(t):
        return {"probe": record["runs"][name].get("outcome", "not measured"), "curve": "—", "shape": "—", "abx": "—"}
    best = t.loc[t.probe.idxmax()]
    abx = t.loc[t.abx_within.idxmin()]
    abx_ci = (f" [{abx.abx_within_lo:.3f}, {abx.abx_within_hi:.3f}]"
              if "abx_within_lo" in t and pd.notna(abx.get("abx_within_lo")) else "")
    return {"probe": (f"layer {int(best.layer)}: {best.probe:.3f} [{best.probe_lo:.3f}, {best.probe_hi:.3f}]; "
                      f"{_signed(best.vs_mfcc)} [{_signed(best.vs_mfcc_lo)}, {_signed(best.vs_mfcc_hi)}]"),
            "curve": f"{t.probe.iloc[0]:.3f} → {t.probe.iloc[-1]:.3f}",
            "shape": probe_shape(t.probe.to_numpy()),
            "abx": f"{abx.abx_within:.3f}{abx_ci} (layer {int(abx.layer)})"}


def card_section(model: str, root: Path | None = None) -> str:
    """Markdown: every recipe tried for ``model`` (from its records) with its figures; empty if none was saved."""
    rows = []
    for record in load_records(model, root):
        for name, run in record["runs"].items():
            f = run_figures(record, name)
            rows.append(f"| {name} ({record['measured']}) | {run['summary']} | {f['probe']} | {f['curve']} | "
                        f"{f['shape']} | {f['abx']} |")
    if not rows:
        return ""
    return ("\n## Other recipes tried\n\nSelf-supervised recipes tried for this model besides the shipped one, each "
            "measured with the layer-wise comparison above (details and the code of each run: docs/models.md and "
            "docs/records/). Probe: the best layer with its 95 % speaker interval, then the paired difference from "
            "the MFCC probe on the same frames.\n\n"
            "| run | pretraining | probe, best layer [95 % CI]; vs MFCC | probe, first → last layer | shape | "
            "ABX within, best layer |\n| --- | --- | --- | --- | --- | --- |\n" + "\n".join(rows) + "\n")

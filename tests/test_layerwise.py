"""The layer-wise comparison and the self-supervised training helpers it relies on."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from course import layerwise as L
from course.frames import num_frames
from speech_course_tools.training import HubertPretrainingHead, _hubert_batch, assign_clusters, hubert_config


def _table(curves: dict[str, list[float]]) -> pd.DataFrame:
    rows = [{"subject": s, "layer": k, "probe": v, "abx_within": 0.5 - v / 2, "abx_across": 0.5 - v / 3,
             "cka_mfcc": 1 - k / 10} for s, curve in curves.items() for k, v in enumerate(curve)]
    return pd.DataFrame(rows)


def test_summary_and_finding_tell_a_mid_layer_peak_from_a_rising_curve():
    table = _table({"tiny-hubert": [0.5, 0.7, 0.8, 0.75, 0.6], "tiny-w2v2-ctc": [0.5, 0.6, 0.7, 0.8, 0.9]})
    summ = L.summary(table).set_index("subject")
    assert summ.loc["tiny-hubert", "best_probe_layer"] == 2
    assert summ.loc["tiny-hubert", "drop_best_to_last"] == pytest.approx(0.2)
    assert summ.loc["tiny-w2v2-ctc", "best_probe_layer"] == 4
    text = L.finding(table)
    assert "tiny-hubert: phone probe best at layer 2 of 4 (0.800), first layer 0.500, last layer 0.600 — a peak" in text
    assert "tiny-w2v2-ctc: phone probe best at layer 4 of 4 (0.900), first layer 0.500, last layer 0.900 — no peak " \
           "below the last layer (the curve rises to the top)" in text


@pytest.mark.parametrize("curve, shape", [
    ([0.5, 0.7, 0.8, 0.75, 0.6], "peak"),
    ([0.5, 0.6, 0.7, 0.8, 0.9], "rising"),
    ([0.7, 0.65, 0.6, 0.55], "falling"),
    ([0.597, 0.600, 0.603, 0.598, 0.595, 0.589], "flat"),  # tiny-hubert's first iteration: wiggles, not a peak
    ([0.60, 0.63, 0.615], "rising"),  # up 0.03, then down only 0.015: not a peak
    ([0.60, 0.60, 0.65, 0.62, 0.62], "peak"),
])
def test_a_peak_must_stand_above_both_ends_by_more_than_the_noise(curve, shape):
    assert L.probe_shape(curve, min_change=0.02) == shape


def _with_intervals(table: pd.DataFrame, half_width: float, vs: float, abx_vs: float) -> pd.DataFrame:
    table = table.copy()
    table["probe_lo"], table["probe_hi"] = table.probe - half_width, table.probe + half_width
    table["vs_mfcc"], table["vs_mfcc_lo"], table["vs_mfcc_hi"] = vs, vs - 0.02, vs + 0.02
    table["abx_within_lo"], table["abx_within_hi"] = table.abx_within - 0.01, table.abx_within + 0.01
    table["abx_vs_mfcc"], table["abx_vs_mfcc_lo"], table["abx_vs_mfcc_hi"] = abx_vs, abx_vs - 0.01, abx_vs + 0.01
    return table


def test_finding_weighs_the_best_layers_against_mfccs_with_their_intervals():
    table = _table({"tiny-hubert": [0.5, 0.7, 0.8, 0.75, 0.6]})
    text = L.finding(_with_intervals(table, half_width=0.03, vs=0.05, abx_vs=-0.03))
    assert ("Best probe layer 2: 0.800 [0.770, 0.830] (95 % speaker interval); the last layer lies below its "
            "interval; paired with MFCCs on the same frames +0.050 [+0.030, +0.070], above the MFCC probe.") in text
    assert ("Lowest ABX error within speakers at layer 2: 0.100 [0.090, 0.110]; paired with MFCCs over the same "
            "speakers -0.030 [-0.040, -0.020], fewer errors than MFCCs.") in text
    text = L.finding(_with_intervals(table, half_width=0.25, vs=-0.05, abx_vs=0.0))
    assert "the last layer lies inside its interval" in text and "below the MFCC probe" in text
    assert "not distinguishable from MFCCs" in text
    assert "it is the last layer" in L.finding(_with_intervals(_table({"tiny-hubert": [0.5, 0.9]}), 0.03, 0.0, 0.02))
    assert "Best probe layer" not in L.finding(table)  # a record made before the intervals


def test_finding_reports_where_fine_tuning_changed_the_model():
    table = _table({"tiny-hubert": [0.5, 0.6, 0.7, 0.6], "tiny-hubert-ctc": [0.5, 0.6, 0.7, 0.8]})
    table["cka_base"] = np.nan
    table.loc[table.subject == "tiny-hubert-ctc", "cka_base"] = [0.99, 0.97, 0.6, 0.3]
    assert "changed mainly the top layers" in L.finding(table)
    table.loc[table.subject == "tiny-hubert-ctc", "cka_base"] = [0.5, 0.5, 0.6, 0.6]
    assert "did not change mainly the top layers" in L.finding(table)
    md = L.to_markdown(table)
    assert md.splitlines()[0] == "| subject | layer | probe | abx_within | abx_across | cka_mfcc | cka_base |"
    assert "| tiny-hubert | 0 | 0.500 | 0.250 | 0.333 | 1.000 | – |" in md


@pytest.mark.slow
def test_small_comparison_on_the_corpus(default_corpus):
    table = L.layerwise_comparison(["mfcc", "tiny-w2v2-ctc@random"], corpus=default_corpus, progress=False,
                                   pairs={"mfcc": "mfcc"}, n_train=24, n_heldout=12, abx_per_speaker=4)
    assert list(table.subject.unique()) == ["mfcc", "tiny-w2v2-ctc@random"]
    assert (table.subject == "mfcc").sum() == 1
    assert (table.subject == "tiny-w2v2-ctc@random").sum() == 7  # 6 layers + the input of the first
    for col in ("probe", "abx_within", "abx_across", "cka_mfcc"):
        assert table[col].between(0, 1).all(), col
    assert (table.probe_lo <= table.probe).all() and (table.probe <= table.probe_hi).all()
    twin = table[table.subject == "tiny-w2v2-ctc@random"]
    assert (twin.vs_mfcc_hi < 0).all(), "a random model's probe is below MFCCs', paired on the same frames"
    assert twin.vs_mfcc.to_numpy() == pytest.approx(twin.probe.to_numpy() - table.probe.iloc[0])
    for mode in ("within", "across"):
        assert (table[f"abx_{mode}_lo"] <= table[f"abx_{mode}"]).all(), mode
        assert (table[f"abx_{mode}"] <= table[f"abx_{mode}_hi"]).all(), mode
    assert (twin.abx_vs_mfcc_lo <= twin.abx_vs_mfcc).all() and (twin.abx_vs_mfcc <= twin.abx_vs_mfcc_hi).all()
    assert (twin.abx_vs_mfcc > 0).all(), "a random model makes more ABX errors than MFCCs on the same items"
    mfcc_row = table[table.subject == "mfcc"].iloc[0]
    assert np.isnan(mfcc_row.vs_mfcc)
    assert mfcc_row.cka_mfcc == pytest.approx(1.0)  # MFCC frames compared with themselves
    assert mfcc_row.cka_base == pytest.approx(1.0)
    assert mfcc_row.probe > 0.2  # 39-d MFCC frames carry phone information (majority class is below 0.15)
    assert table.attrs["settings"]["n_train"] == 24


def test_paired_probe_difference_resamples_speakers_and_refuses_other_frames():
    speakers = np.array(["a", "a", "b", "b", "b"])
    labels = np.array([1, 2, 1, 3, 3])
    ours = L.ProbeFrames(np.array([1.0, 1, 0, 1, 1]), labels, speakers)
    theirs = L.ProbeFrames(np.array([0.0, 1, 0, 0, 1]), labels, speakers)
    mean, lo, hi = L.paired_difference(ours, theirs)
    assert mean == pytest.approx(2 / 5)  # differences 1, 0, 0, 1, 0
    # speaker a's frames differ by 1/2 on average, b's by 1/3: every replicate lies between the two
    assert 1 / 3 <= lo <= mean <= hi <= 1 / 2
    assert ours.same_frames(theirs)
    for other in (L.ProbeFrames(theirs.correct, labels[::-1], speakers),
                  L.ProbeFrames(theirs.correct, labels, speakers[::-1])):
        assert not ours.same_frames(other)
        with pytest.raises(ValueError, match="same frames"):
            L.paired_difference(ours, other)


def test_paired_abx_difference_pairs_speakers_and_refuses_other_speakers():
    frames = (np.ones(2), np.array([1, 2]), np.array(["a", "b"]))
    ours = L.ProbeFrames(*frames, pd.Series([0.10, 0.20, 0.30], index=["a", "b", "c"]))
    theirs = L.ProbeFrames(*frames, pd.Series([0.20, 0.20, 0.60], index=["a", "b", "c"]))
    mean, lo, hi = L.paired_abx_difference(ours, theirs)
    assert mean == pytest.approx(-0.4 / 3)  # differences -0.1, 0, -0.3 (fewer errors than theirs)
    assert -0.3 <= lo <= mean <= hi <= 0.0  # a replicate's mean lies between the smallest and largest difference
    assert lo < hi
    with pytest.raises(ValueError, match="different speakers"):
        L.paired_abx_difference(ours, L.ProbeFrames(*frames, theirs.abx_speakers.iloc[:2]))
    with pytest.raises(ValueError, match="per-speaker ABX"):
        L.paired_abx_difference(ours, L.ProbeFrames(*frames))


def test_markdown_shows_the_intervals_when_the_table_has_them():
    table = _table({"mfcc": [0.69], "tiny-hubert": [0.5, 0.7]})
    assert "probe_lo" not in L.to_markdown(table)  # a record made before the intervals
    table["probe_lo"], table["probe_hi"] = table.probe - 0.05, table.probe + 0.05
    assert "| probe | probe_lo | probe_hi |" in L.to_markdown(table)
    table["abx_within_lo"], table["abx_within_hi"] = table.abx_within - 0.01, table.abx_within + 0.01
    assert "| abx_within | abx_within_lo | abx_within_hi | abx_across |" in L.to_markdown(table)


@pytest.mark.slow
def test_held_out_speakers_never_train_the_probe(default_corpus):
    data = L.select_utterances(default_corpus, n_train=30, n_heldout=10, abx_per_speaker=2)
    assert {u.split for u in data.train} == {"train"}
    assert {u.split for u in data.heldout} <= {"validation", "test"}
    assert {u.split for u in data.abx} == {"validation", "test"} and {u.kind for u in data.abx} == {"rich"}
    with pytest.raises(ValueError, match="subject"):
        L.subject_features("tiny-w2v2-ctc@nonsense", data.abx[:1])
    front, full, trained = (L.subject_features(f"tiny-w2v2-ctc{t}", data.abx[:1])[0]
                            for t in ("@frontend", "@random", ""))
    assert front.shape == trained.shape
    # layer 0 (the input of the first transformer layer) adds the random positional convolution to the trained
    # front end's output, so it differs from both; deeper layers are random in both twins
    assert not np.allclose(front[0], trained[0]) and not np.allclose(front[0], full[0])


# --------------------------------------------------------------------------
# tiny-hubert's pretraining helpers


def test_cluster_assignment_is_the_nearest_centroid():
    rng = np.random.default_rng(0)
    X, C = rng.normal(size=(200, 5)), rng.normal(size=(7, 5))
    mean, std = X.mean(0), X.std(0)
    Z = (X - mean) / std
    brute = np.argmin(((Z[:, None, :] - C[None]) ** 2).sum(-1), axis=1)
    np.testing.assert_array_equal(assign_clusters(X, C, mean, std), brute)


def test_pretraining_head_scores_are_cosines_over_the_temperature():
    head = HubertPretrainingHead(16, 10, dim=8, temperature=0.1)
    logits = head(torch.randn(2, 5, 16))
    assert logits.shape == (2, 5, 10)
    assert logits.abs().max() <= 10 + 1e-4


def test_pretraining_batches_crop_on_the_frame_grid_and_keep_targets_aligned():
    from transformers import HubertModel, Wav2Vec2FeatureExtractor

    model = HubertModel(hubert_config())
    fe = Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, return_attention_mask=True)
    rng = np.random.default_rng(0)
    waves = [rng.normal(size=n).astype(np.float32) for n in (70_000, 20_000)]
    labels = [np.arange(num_frames(len(w))) for w in waves]  # a frame's target is its own index
    inputs, y = _hubert_batch(fe, waves, labels, [0, 1], rng, model, crop=32_000)
    assert inputs.input_values.shape == (2, 32_000)
    n0 = int(model._get_feat_extract_output_lengths(torch.tensor(32_000)))
    n1 = int(model._get_feat_extract_output_lengths(torch.tensor(20_000)))
    assert y.shape == (2, n0)
    row = y[0].numpy()
    assert (np.diff(row) == 1).all()  # a contiguous run of frames of the original utterance
    assert row[0] * 320 + 32_000 <= 70_000  # the crop starts on the frame grid and stays inside the audio
    np.testing.assert_array_equal(y[1, :n1].numpy(), np.arange(n1))  # shorter than the crop: whole utterance
    assert (y[1, n1:] == -100).all()  # padding frames carry no target


def test_plot_draws_one_panel_per_measure_and_rejects_unknown_ones():
    import matplotlib

    matplotlib.use("Agg")
    table = _table({"mfcc": [0.4], "tiny-hubert": [0.5, 0.7, 0.6]})
    fig = L.plot(table, measures=("probe", "cka_mfcc"))
    assert len(fig.axes) == 2
    assert [line.get_label() for line in fig.axes[0].get_lines()] == ["MFCC (+Δ, ΔΔ)", "tiny-hubert"]
    assert not fig.axes[0].collections and not fig.axes[0].patches  # no intervals in this table: no bands
    with pytest.raises(ValueError, match="Unknown measures"):
        L.plot(table, measures=("accuracy",))
    fig = L.plot(_with_intervals(table, half_width=0.03, vs=0.0, abx_vs=0.0), measures=("probe", "cka_mfcc"))
    assert len(fig.axes[0].collections) == 1 and len(fig.axes[0].patches) == 1  # the model's band, the MFCC band
    assert not fig.axes[1].collections  # CKA has no interval



def test_a_record_is_saved_as_json_figure_and_model_card_sections(tmp_path):
    import json
    import shutil

    from course.models import SHIPPED_DIR

    table = _table({"mfcc": [0.69], "tiny-hubert": [0.5, 0.7, 0.8, 0.75, 0.6], "tiny-hubert-ctc": [0.5, 0.6, 0.7, 0.8, 0.9]})
    record = {"settings": {"n_train": 3}, "finding": L.finding(table), "table": json.loads(table.to_json(orient="records"))}
    for name in ("tiny-hubert", "tiny-hubert-ctc"):  # the cards are rewritten: work on copies
        (tmp_path / name).mkdir()
        for f in ("config.json", "metrics.json"):
            shutil.copy(SHIPPED_DIR / name / f, tmp_path / name / f)
    from speech_course_tools.training import rewrite_cards

    written = L.save_record(record, json_path=tmp_path / "r.json", plot_path=tmp_path / "r.png",
                            beside_models=True, shipped_dir=tmp_path)
    assert written == [tmp_path / "tiny-hubert", tmp_path / "tiny-hubert-ctc"]
    rewrite_cards(written)
    assert json.loads((tmp_path / "r.json").read_text())["finding"] == record["finding"]
    assert (tmp_path / "r.png").stat().st_size > 10_000
    for name in ("tiny-hubert", "tiny-hubert-ctc"):
        card = (tmp_path / name / "README.md").read_text()
        assert "Layer-wise analysis" in card and "a peak below the last layer" in card


def test_a_records_finding_is_computed_from_the_table_it_stores():
    table = _table({"tiny-hubert": [0.62004, 0.62586, 0.61640]})  # spread 0.00946 in full, 0.0095 as stored
    table.attrs["settings"] = {"seed": 0}
    record = L.to_record(table)
    assert "all layers within 0.009" in L.finding(table)
    assert "all layers within 0.010" in record["finding"]
    assert record["finding"] == L.finding(pd.DataFrame(record["table"]))


def test_the_recorded_comparison_covers_the_default_subjects_and_is_in_the_docs():
    from pathlib import Path

    table = L.recorded("tiny-hubert")
    assert set(L.DEFAULT_SUBJECTS) <= set(table.subject)
    assert table.attrs["finding"] == L.finding(table), "the recorded finding must follow from the recorded table"
    assert table.equals(L.recorded("tiny-hubert-ctc")), "both model cards record the same comparison"
    docs = (Path(__file__).parent.parent / "docs" / "models.md").read_text()
    assert table.attrs["finding"] in docs, "docs/models.md should quote the recorded finding"
    with pytest.raises(FileNotFoundError, match="speech-course models layerwise --record"):
        L.recorded("tiny-whisper")

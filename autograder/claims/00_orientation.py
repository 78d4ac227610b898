# Findings of 00_orientation, checked when the solutions are built (course.claims); runs after the notebook's last cell.
from course.claims import Claims

claims = Claims("00_orientation")
m = corpus.manifest
claims.check("32 synthetic voices (four accents of English, eight voices each)",
             m["speaker"].nunique() == 32 and (m.groupby("accent")["speaker"].nunique() == 8).all(),
             voices=m["speaker"].nunique(), per_accent=m.groupby("accent")["speaker"].nunique().to_dict())
train_texts = set(m.loc[m["split"] == "train", "text"])
claims.check("the test speakers read sentences that no training speaker ever said",
             not train_texts & set(m.loc[m["split"] == "test", "text"]))
test = m[m["split"] == "test"]
claims.check("Every test speaker reads the same test sentences",
             test.groupby("speaker")["text"].apply(frozenset).nunique() == 1, speakers=test["speaker"].nunique())

# the pauses between consecutive words, over every test utterance
test_words = [corpus[i].words for i in corpus.ids(split="test")]
gaps = np.array([b.start - a.end for words in test_words for a, b in zip(words, words[1:])])
claims.check("the words follow each other with almost no pause",
             np.median(gaps) < 0.02 and (gaps < 0.1).mean() > 0.99,
             median_gap=float(np.median(gaps)), share_under_100ms=float((gaps < 0.1).mean()))

# the model's frame count against the course's convention, on utterances from the shortest to the longest
by_length = m.sort_values("duration")["id"].tolist()
frame_counts = []
for uid in [by_length[0], by_length[len(by_length) // 2], by_length[-1], utt.id]:
    wav = corpus[uid].waveform
    with torch.no_grad():
        states = model(processor(wav, sampling_rate=16000, return_tensors="pt").input_values,
                       output_hidden_states=True).hidden_states
    frame_counts.append((uid, {s.shape[1] for s in states}, reference.num_frames(len(wav))))
claims.check("The model emits exactly as many frames as the course's frame convention predicts",
             all(counts == {want} for _, counts, want in frame_counts), frames=frame_counts)
layer_norms = norms.mean(axis=1)  # mean norm of the frame vectors per layer, from the notebook's figure
claims.check("The size of the vectors changes from layer to layer",
             layer_norms.max() > 1.2 * layer_norms.min(), mean_norm_per_layer=layer_norms.round(1).tolist())
claims.verify()

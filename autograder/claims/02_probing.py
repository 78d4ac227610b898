# Findings of 02_probing, checked when the solutions are built (course.claims).
import numpy as np
import pandas as pd

from course.claims import Claims
from course.layerwise import probe_shape
from speech_course_tools.attempts import load_records  # the solutions are built in the repository, tooling installed

claims = Claims("02_probing")
m = corpus.manifest
split_speakers = m.groupby("split")["speaker"].nunique().to_dict()
claims.check("the `train` split has 20 speakers, the `validation` and\n`test` splits 4 and 8 others",
             split_speakers == {"train": 20, "validation": 4, "test": 8}, speakers=split_speakers)
claims.check("no sentence read in those two splits is ever read in `train`",
             not set(m[m.split != "train"].text) & set(m[m.split == "train"].text))
claims.check("scored on utterances of the twelve held-out speakers",
             len(heldout_speakers) == 12 and {u.split for u in utts[N_TRAIN:]} == {"validation", "test"},
             heldout=heldout_speakers)

# section 3: the model against its controls, layer by layer
vs_controls = {k: p for k, p in p_adjusted.items() if k[0] in ("MFCC", "front-end control")}
above = all(right[MODEL][layer].mean() > (right["MFCC"][0] if k == "MFCC" else right[k][layer]).mean()
            for k, layer in vs_controls)
beats = ("every layer of the trained model beats\nboth the MFCCs and the front-end control (each Holm-corrected "
         "p = 0.0098, the smallest 20 tests on 12 speakers can\ngive)")
claims.check(beats, above and max(vs_controls.values()) < 0.05 and len(family) == 20 and len(heldout_speakers) == 12,
             p=np.round(list(vs_controls.values()), 4).tolist(), tests=len(family))
claims.number(beats, "0.0098", max(vs_controls.values()))
claims.number(beats, "0.0098", 20 * 2 / 2 ** 12)
front = "The front-end control alone scores between 0.92 and 0.93 at every layer, far above the MFCCs (0.82)"
claims.number(front, "0.92", acc_front.min())
claims.number(front, "0.93", acc_front.max())
claims.number(front, "0.82", acc_mfcc)
claims.check(front, bool(curves["front-end control"][:, 1].min() > curves["MFCC"][0, 2]),
             front_low=np.round(curves["front-end control"][:, 1], 3).tolist(), mfcc_high=curves["MFCC"][0, 2])
claims.number("The trained curve rises from 0.96 at layer 0", "0.96", acc_trained[0])
best_vs = {layer: p for (k, layer), p in p_adjusted.items() if k == "best layer"}
claims.check("but from layer 3 on the best layer does not differ\nfrom the others beyond the noise between speakers",
             best >= 3 and all((p >= 0.05) == (layer >= 3) for layer, p in best_vs.items()),
             best=best, p={k: round(v, 4) for k, v in best_vs.items()})
claims.check("flat within noise above layer 3",
             best >= 3 and all((p >= 0.05) == (layer >= 3) for layer, p in best_vs.items()))
found = "the control alone scores 0.92–0.93, the model 0.96–0.99"
for shown, value in (("0.92", acc_front.min()), ("0.93", acc_front.max()), ("0.96", acc_trained.min()),
                     ("0.99", acc_trained.max())):
    claims.number(found, shown, value)

# section 6: selectivity over five control seeds
model_sel, twin_sel, mfcc_sel = sel_ci[MODEL], sel_ci["random twin"], sel_ci["MFCC"][0]
claims.check("can be *more* selective", bool(mfcc_sel[0] > model_sel[:, 0].max()),
             mfcc=round(float(mfcc_sel[0]), 3), trained_max=round(float(model_sel[:, 0].max()), 3))
claims.check("The MFCCs are more selective than every layer of the trained model, with intervals that do not\noverlap",
             bool(mfcc_sel[1] > model_sel[:, 2].max()), mfcc=np.round(mfcc_sel, 3).tolist(),
             model_high=np.round(model_sel[:, 2], 3).tolist())
falls = "The model's selectivity falls with depth, from 0.14 at layer 0 to 0.07 at the last layer"
claims.number(falls, "0.14", model_sel[0, 0])
claims.number(falls, "0.07", model_sel[-1, 0])
claims.check(falls, bool(model_sel[0, 1] > model_sel[-1, 2]), first=model_sel[0].round(3).tolist(),
             last=model_sel[-1].round(3).tolist())
claims.check("At the last layer its interval overlaps the random twin's.",
             bool(model_sel[-1, 1] <= twin_sel[-1, 2] and twin_sel[-1, 1] <= model_sel[-1, 2]),
             model=model_sel[-1].round(3).tolist(), twin=twin_sel[-1].round(3).tolist())
seed_spread = np.ptp(control_acc[MODEL], axis=1)
claims.check("the control accuracy moves by a few points from one seed to the next",
             bool(np.all((seed_spread >= 0.01) & (seed_spread <= 0.08))), spread=seed_spread.round(3).tolist())
claims.check("MFCCs are the most selective\n  representation, and the model's selectivity\n  falls with depth to the "
             "random twin's level",
             bool(mfcc_sel[1] > model_sel[:, 2].max() and model_sel[-1, 1] <= twin_sel[-1, 2]))

# section 7: duration
claims.check("Averaged MFCC frames say little about how long a segment lasted: their $R^2$ interval reaches\nbelow 0 "
             "on both targets, and so does the random twin's",
             bool(np.all(r2_mfcc[:, 1] < 0) and np.all(r2_twin[:, :, 1] < 0)),
             mfcc=r2_mfcc.round(3).tolist(), twin_low=r2_twin[:, :, 1].round(3).tolist())
claims.check("The trained model's duration probe passes the phone-identity\nbaseline from layer 2 on, and its interval "
             "over speakers clears that baseline from layer 4 on",
             bool(np.all((r2_trained[:, 0, 0] > r2_phone_only) == (layers >= 2))
                  and np.all((r2_trained[:, 0, 1] > r2_phone_only) == (layers >= 4))),
             duration=r2_trained[:, 0].round(3).tolist(), baseline=round(r2_phone_only, 3))
residual = "on the residual target it reaches 0.25 at layer 5, with an interval over speakers well\nabove 0"
claims.number(residual, "0.25", r2_trained[:, 1, 0].max())
claims.check(residual, int(np.argmax(r2_trained[:, 1, 0])) == 5 and r2_trained[5, 1, 1] > 0.1,
             residual=r2_trained[:, 1].round(3).tolist())
claims.number("($R^2$ about 0.25)", "0.25", r2_trained[:, 1, 0].max())

# section 3: the twin trained with CTC only (tiny-w2v2-ctc-noalign)
per_taught = models.shipped_metrics(MODEL)["phone_error_rate"]
pers = "phone error rate\n0.151 on the held-out speakers against 0.014"
claims.number(pers, "0.151", noalign_per)
claims.number(pers, "0.014", per_taught)
acc_noalign = curve_noalign[:, 0]
flat = "0.81–0.83 at every layer"
claims.number(flat, "0.81", acc_noalign.min())
claims.number(flat, "0.83", acc_noalign.max())
rise_noalign = right_noalign[-1].mean() - right_noalign[0].mean()
no_rise = "its\nlast layer no better than its layer 0 (+0.009, Holm p = 0.81)"
claims.number(no_rise, "0.009", rise_noalign)
claims.number(no_rise, "0.81", p_noalign["rise, CTC only", n_layers])
claims.check(no_rise, p_noalign["rise, CTC only", n_layers] >= 0.05)
no_mfcc = "no better than the MFCCs (0.82, Holm p = 0.85)"
claims.number(no_mfcc, "0.82", acc_mfcc)
claims.number(no_mfcc, "0.85", p_noalign["CTC only − MFCC", n_layers])
claims.check(no_mfcc, p_noalign["CTC only − MFCC", n_layers] >= 0.05)
gaps = np.array([right[MODEL][layer].mean() - right_noalign[layer].mean() for layer in layers])
gap_p = [p_noalign["taught − CTC only", layer] for layer in layers]
above_all = ("`tiny-w2v2-ctc` is above it at every layer, by 0.15 to 0.17 (each Holm p = 0.0049, the smallest 10 tests "
             "on 12\nspeakers can give)")
claims.number(above_all, "0.15", gaps.min())
claims.number(above_all, "0.17", gaps.max())
claims.number(above_all, "0.0049", max(gap_p))
claims.number(above_all, "0.0049", len(family_noalign) * 2 / 2 ** 12)
claims.check(above_all, bool(gaps.min() > 0) and len(family_noalign) == 10 and len(heldout_speakers) == 12)
rise = "its own rise from layer 0 to the last layer (+0.027) is supported"
claims.number(rise, "0.027", right[MODEL][-1].mean() - right[MODEL][0].mean())
claims.check(rise, p_noalign["rise, taught", n_layers] < 0.05, p=p_noalign["rise, taught", n_layers])
found_flat = "gives a flat profile at 0.81–0.83, no better than the MFCCs"
claims.number(found_flat, "0.81", acc_noalign.min())
claims.number(found_flat, "0.83", acc_noalign.max())
claims.check(found_flat, p_noalign["rise, CTC only", n_layers] >= 0.05
             and p_noalign["CTC only − MFCC", n_layers] >= 0.05)

# Bonus: the recorded layer-wise comparison of the self-supervised model (course.layerwise.recorded)
ssl_curve = record[record.subject == "tiny-hubert"].set_index("layer")
ft_curve = record[record.subject == "tiny-hubert-ctc"].set_index("layer")
best = ssl_curve.loc[ssl_curve.probe.idxmax()]
claims.check("`tiny-hubert`'s curve peaks at layer 6 of 8 and falls towards its last layer",
             probe_shape(ssl_curve.probe) == "peak" and int(best.name) == 6 and len(ssl_curve) == 9,
             curve=ssl_curve.probe.round(3).tolist())
claims.check("the last layer lies inside the best layer's speaker interval, so the speakers do not support it",
             bool(best.probe_lo <= ssl_curve.probe.iloc[-1] < best.probe), last=ssl_curve.probe.iloc[-1],
             interval=(best.probe_lo, best.probe_hi))
ssl_above = ("0.025 above the MFCC probe on the same frames, with a speaker interval of [0.001, 0.045] that only just "
             "excludes zero")
claims.number(ssl_above, "0.025", best.vs_mfcc)
claims.number(ssl_above, "0.001", best.vs_mfcc_lo)
claims.number(ssl_above, "0.045", best.vs_mfcc_hi)
claims.check(ssl_above, bool(0 < best.vs_mfcc_lo < 0.005))
ft_last = ft_curve.iloc[-1]
ends = "`tiny-hubert-ctc` is above MFCCs at every layer and ends 0.104 above them (interval [0.075, 0.133])"
claims.check(ends, bool((ft_curve.vs_mfcc_lo > 0).all()), lower=ft_curve.vs_mfcc_lo.round(3).tolist())
claims.number(ends, "0.104", ft_last.vs_mfcc)
claims.number(ends, "0.075", ft_last.vs_mfcc_lo)
claims.number(ends, "0.133", ft_last.vs_mfcc_hi)
claims.check("fine-tuning changed mainly the top layers, as reported for large models",
             "fine-tuning changed mainly the top layers." in record.attrs["finding"])
tried = {name: (run, pd.DataFrame(r["table"])) for r in load_records("tiny-hubert") for name, run in r["runs"].items()}
curves = {name: t[t.subject == name].set_index("layer") for name, (_, t) in tried.items()}
kinds = {name: run["summary"].lower() for name, (run, _) in tried.items()}
objectives = ("500 clusters", "iteration 2", "data2vec")
others = [n for n, k in kinds.items() if any(w in k for w in objectives)]
contrastive = [n for n, k in kinds.items() if "contrastive" in k]
first_best = curves["hubert-first-stage"].probe.max()
worse = ("more clusters, a second HuBERT iteration and data2vec all ended below the first 3 500 steps of the shipped "
         "recipe, the wav2vec 2.0 objective did not train, and only longer pretraining helped")
claims.check(worse, len(others) == 4 and all(curves[n].probe.max() < first_best for n in others)
             and len(contrastive) == 2 and all("outcome" in tried[n][0] and not len(curves[n]) for n in contrastive)
             and all(curves[n].probe.max() > first_best for n in ("hubert-continued", "hubert-restarts-3"))
             and "3 500 steps" in kinds["hubert-first-stage"], runs=others + contrastive)
first = curves["hubert-first-stage"]
first_flat = "The first 3 500 steps alone left a flat curve below MFCCs at every layer (best 0.626)"
claims.number(first_flat, "0.626", first.probe.max())
claims.check(first_flat, probe_shape(first.probe) == "flat" and bool((first.vs_mfcc_hi < 0).all())
             and "3 500 steps" in kinds["hubert-first-stage"])
third = curves["hubert-restarts-3"]
third_best = third.loc[third.probe.idxmax()]
claims.check("a third raised the curve a little more but moved the best layer up to layer 7, without a deeper fall",
             int(third_best.name) == 7 and bool((third.probe > ssl_curve.probe).all())
             and third_best.probe - third.probe.iloc[-1] < best.probe - ssl_curve.probe.iloc[-1],
             curve=third.probe.round(3).tolist())
claims.verify()

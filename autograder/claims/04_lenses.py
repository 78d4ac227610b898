# Findings of 04_lenses, checked when the solutions are built (course.claims).
import numpy as np

from course.claims import Claims
from course.models import shipped_metrics

claims = Claims("04_lenses")


def ci(curve, layer):
    m, lo, hi = curve[layer]
    return f"{m:.3f} [{lo:.3f}, {hi:.3f}]"


steps = ctc_tests[ctc_tests["family"] == "layer steps"]
step_ok = dict(zip(range(L), steps["supported"]))
control = ctc_tests[ctc_tests["family"] == "control"]
norm_ok = ctc_tests[ctc_tests["family"] == "norm"]["supported"].tolist()
dec_steps = dec_tests[dec_tests["family"] == "layer steps"]
dec_control = dec_tests[dec_tests["family"] == "control"]
dec_prior = dec_tests[dec_tests["family"] == "prior"]
lens, rl = curves["lens"], curves["random layers"]
evidence = dict(lens=np.round(lens, 3).tolist(), p=steps["p (Holm)"].round(4).tolist())

claims.check("five held-out sentences for each of the twelve held-out speakers",
             len(speakers) == 12 and N_UTTS == 5 * len(speakers) and len({u.text for u in eval_utts}) == N_UTTS
             and not set(corpus.manifest.loc[eval_ids, "split"]) & {"train"},
             speakers=speakers, n_utts=N_UTTS, sentences=len({u.text for u in eval_utts}))
claims.check("dropping the norm raises the greedy error rate at every\nlayer",
             bool(np.all(per["no norm"] > per["lens"])), lens=np.round(per["lens"], 3).tolist(),
             no_norm=np.round(per["no norm"], 3).tolist())
claims.number("(about 0.38 to 0.95 at layer 0)", "0.38", per["lens"][0])
claims.number("(about 0.38 to 0.95 at layer 0)", "0.95", per["no norm"][0])
claims.number("(about\n0.011 to 0.015 at the last layer;", "0.011", per["lens"][-1])
claims.number("(about\n0.011 to 0.015 at the last layer;", "0.015", per["no norm"][-1])
claims.check("the speakers support the difference only at layers 0 to 2",
             norm_ok == [True, True, True] + [False] * (L - 2), supported=norm_ok)
claims.check("the error rate without the norm is higher at every layer, but the speakers support the difference only"
             " at layers 0 to 2; the KL is several times larger at every layer",
             bool(np.all(per["no norm"] > per["lens"])) and norm_ok == [True, True, True] + [False] * (L - 2)
             and bool(np.all(kl["no norm"] > 3 * kl["lens"])), supported=norm_ok,
             kl_lens=np.round(kl["lens"], 3).tolist(), kl_no_norm=np.round(kl["no norm"], 3).tolist())
claims.check("the KL divergence is several times larger at every layer and stays above zero\neven at the last layer",
             bool(np.all(kl["no norm"] > 3 * kl["lens"]) and kl["no norm"][-1] > 0.05 and kl["lens"][-1] < 1e-3),
             kl_lens=np.round(kl["lens"], 3).tolist(), kl_no_norm=np.round(kl["no norm"], 3).tolist())

# section 4: the CTC lens
claims.check("The lens falls from 0.379 [0.331, 0.427] at layer 0 to 0.011 [0.005, 0.016] at the last layer.",
             ci(lens, 0) == "0.379 [0.331, 0.427]" and ci(lens, L) == "0.011 [0.005, 0.016]", **evidence)
claims.check("The steps from layer 0 to 1, 1 to 2, 2 to 3 and 4 to 5 are supported by the speakers (Holm-corrected"
             " p ≤ 0.03); the steps from 3 to 4 and from 5 to 6 are flat within noise, so from layer 5 on the lens"
             " cannot be told from the model's own output.",
             L == 6 and [step_ok[l] for l in range(L)] == [True, True, True, False, True, False]
             and float(steps[steps["supported"]]["p (Holm)"].max()) <= 0.03, **evidence)
rl_band = f"{rl[:, 0].min():.2f}" == "0.38" and f"{rl[:, 0].max():.2f}" == "0.41"
claims.check("The random-layers twin stays between 0.38 and 0.41 at every layer", rl_band,
             random_layers=np.round(rl[:, 0], 3).tolist())
claims.check("The trained lens is below it at every layer from 1 to 6 (each Holm-corrected p = 0.003)",
             len(control) == L and bool((control["mean difference over speakers"] < 0).all())
             and set(control["p (Holm)"].round(3)) == {0.003},
             tests=control[["comparison", "p (Holm)"]].to_dict("records"))
claims.check("The fully random twin is far above 100 % at every layer",
             bool(np.all(curves["random twin"][:, 1] > 2.0)), twin=np.round(per["random twin"], 3).tolist())

# section 4: the twin trained without the alignment loss (tiny-w2v2-ctc-noalign)
na = pair_curves["noalign lens"]
shares = {name: c[:, 0] for name, c in share_curves.items()}
err_family = pair_tests[pair_tests["family"] == "error rate"]
share_family = pair_tests[pair_tests["family"] == "share of the fall"]
na_steps = pair_tests[pair_tests["family"] == "noalign steps"]
share_ok = bool(share_family["supported"].all() and (share_family["mean difference over speakers"] < 0).all())
pair_evidence = dict(noalign=np.round(na, 3).tolist(), p=pair_tests["p (Holm)"].round(4).tolist(),
                     shares={name: np.round(s, 3).tolist() for name, s in shares.items()})


def tci(name, what, digits=3):
    m, lo, hi = timing_ci[name][what]
    return f"{m:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


where = {name: t["where"].value_counts(normalize=True) for name, t in timing.items()}
timing_ok = bool(timing_tests["supported"].all()) and list(timing_tests["mean difference over speakers"] > 0) == [
    False, True]  # fewer inside, farther away
timing_evidence = dict(ci={n: {w: np.round(c, 4).tolist() for w, c in d.items()} for n, d in timing_ci.items()},
                       p=timing_tests["p (Holm)"].round(4).tolist(), where={n: w.round(3).to_dict() for n, w in
                                                                            where.items()})
claims.check("a much weaker recogniser", na[L, 0] > 5 * lens[L, 0] and na[L, 1] > lens[L, 2], **pair_evidence)
card_sentence = "(phone error rate 0.151 on the test set of its model card, against 0.014 for the shipped\nmodel)"
claims.number(card_sentence, "0.151", shipped_metrics(NOALIGN_MODEL)["phone_error_rate"])
claims.number(card_sentence, "0.014", shipped_metrics(CTC_MODEL)["phone_error_rate"])
claims.check("Its lens falls from 0.909 [0.860, 0.958] at layer 0 to\n  0.155 [0.131, 0.178] at its last layer, against"
             " 0.379 and 0.011 for the shipped model; the difference is supported\n  at every layer (each"
             " Holm-corrected p = 0.003).",
             ci(na, 0) == "0.909 [0.860, 0.958]" and ci(na, L) == "0.155 [0.131, 0.178]"
             and f"{lens[0, 0]:.3f}" == "0.379" and f"{lens[L, 0]:.3f}" == "0.011" and len(err_family) == L + 1
             and bool(err_family["supported"].all() and (err_family["mean difference over speakers"] > 0).all())
             and set(err_family["p (Holm)"].round(3)) == {0.003}, **pair_evidence)
claims.check("Scaled to its own fall, the shipped model is 0.75 of the way at layer 1 and 0.94 at\n  layer 3, the twin"
             " 0.45 and 0.73; the difference is supported at every layer from 1 to 5 (Holm-corrected\n  p ≤ 0.006).",
             [f"{shares['lens'][1]:.2f}", f"{shares['lens'][3]:.2f}", f"{shares['noalign lens'][1]:.2f}",
              f"{shares['noalign lens'][3]:.2f}"] == ["0.75", "0.94", "0.45", "0.73"] and len(share_family) == L - 1
             and share_ok and float(share_family["p (Holm)"].max()) <= 0.006, **pair_evidence)
claims.check("Every one of the twin's six steps is supported (each Holm-corrected p = 0.003), whereas the shipped\n"
             "  model's curve is flat within noise from 3 to 4 and from 5 to 6",
             L == 6 and len(na_steps) == L and bool(na_steps["supported"].all())
             and bool((na_steps["mean difference over speakers"] < 0).all())
             and set(na_steps["p (Holm)"].round(3)) == {0.003} and not step_ok[3] and not step_ok[5], **pair_evidence)
claims.check("It does show that the profile measured above is not what this recipe gives with CTC alone.", share_ok,
             **pair_evidence)
claims.check("which pulls each token towards its phone", timing_ok
             and timing_ci["lens"]["inside"][1] > timing_ci["noalign lens"]["inside"][2], **timing_evidence)
claims.check("The centres of 0.981 [0.973, 0.988] of the shipped model's correct tokens lie inside their phone, against"
             "\n  0.319 [0.278, 0.356] of the twin's (0.492 of the twin's lie after their phone).",
             tci("lens", "inside") == "0.981 [0.973, 0.988]" and tci("noalign lens", "inside") == "0.319 [0.278, 0.356]"
             and f"{where['noalign lens']['after']:.3f}" == "0.492", **timing_evidence)
claims.check("On average a shipped token's centre lies\n  12.3 [11.5, 13.2] ms from its phone's centre, a twin's 102.3"
             " [91.7, 113.2] ms.",
             tci("lens", "distance", 1) == "12.3 [11.5, 13.2]" and tci("noalign lens", "distance", 1)
             == "102.3 [91.7, 113.2]", **timing_evidence)
claims.check("Both differences are supported by the\n  speakers (each Holm-corrected p = 0.001).",
             timing_ok and set(timing_tests["p (Holm)"].round(3)) == {0.001}, **timing_evidence)
claims.check("The twin's tokens behave like the CTC spikes of\n  section 2, often late.",
             where["noalign lens"]["after"] > max(0.3, where["noalign lens"]["before"]), **timing_evidence)
claims.check("This is what the auxiliary loss trained: the shipped model's tokens sit in their phones", timing_ok
             and timing_ci["lens"]["inside"][0] > 0.95, **timing_evidence)

# section 7: the decoder lens
dec_ok = dec_steps["supported"].tolist()
claims.check("the word error rate falls from layer 0 to layer 1 and from layer 1 to layer 2 (both steps\nsupported,"
             " Holm-corrected p = 0.002) and is flat within noise from layer 2 to the last layer",
             L_ENC == 4 and dec_ok == [True, True, False, False]
             and bool((dec_steps["mean difference over speakers"][:2] < 0).all())
             and set(dec_steps["p (Holm)"][:2].round(3)) == {0.002},
             wer=np.round(wer, 3).tolist(), p=dec_steps["p (Holm)"].round(4).tolist())
claims.check("At every layer it is\nbelow the decoder's prior, and from layer 1 on it is far below the random-layers"
             " twin, which stays near its layer 0\nvalue (each comparison supported)",
             bool(dec_prior["supported"].all() and (dec_prior["mean difference over speakers"] < 0).all()
                  and dec_control["supported"].all() and (dec_control["mean difference over speakers"] < -0.3).all()
                  and np.all(np.abs(wer_curves["random layers"][:, 0] - wer[0]) < 0.1)),
             prior=dec_prior["p (Holm)"].round(4).tolist(), control=dec_control["p (Holm)"].round(4).tolist(),
             random_layers=np.round(wer_curves["random layers"][:, 0], 3).tolist())

# What we found
claims.check("falls from 0.379 [0.331, 0.427] at layer 0 to 0.011 [0.005, 0.016] at the last layer (95 %\n"
             "  speaker-bootstrap intervals)",
             ci(lens, 0) == "0.379 [0.331, 0.427]" and ci(lens, L) == "0.011 [0.005, 0.016]", **evidence)
claims.check("Four of the six steps from one layer to the next are supported by exact\n  speaker-level tests after"
             " Holm correction; from layer 5 on the curve is flat within noise.",
             L == 6 and sum(step_ok.values()) == 4 and not step_ok[5], **evidence)
claims.check("the KL divergence shows the damage at every layer, the greedy error rate only at the\n  lower ones",
             norm_ok == [True, True, True] + [False] * (L - 2) and bool(np.all(kl["no norm"] > 3 * kl["lens"])),
             supported=norm_ok, kl_lens=np.round(kl["lens"], 3).tolist(),
             kl_no_norm=np.round(kl["no norm"], 3).tolist())
claims.check("the same lens stays\n  between 0.38 and 0.41 at every layer, and the trained model is below it at every"
             " layer from 1 on (all supported)", rl_band and bool(control["supported"].all()),
             random_layers=np.round(rl[:, 0], 3).tolist())
claims.check("the word error rate falls from 0.748 [0.686, 0.812] at layer 0 to\n  0.065 [0.033, 0.096] at layer 2 and"
             " is flat within noise from there to the last layer (0.041 [0.019, 0.067])",
             ci(wer_curves["decoder lens"], 0) == "0.748 [0.686, 0.812]"
             and ci(wer_curves["decoder lens"], 2) == "0.065 [0.033, 0.096]"
             and ci(wer_curves["decoder lens"], L_ENC) == "0.041 [0.019, 0.067]" and dec_ok[2:] == [False, False],
             wer=np.round(wer_curves["decoder lens"], 3).tolist())
claims.check("It\n  beats the decoder's prior (0.947) at every layer and the random-layers twin at every layer from 1"
             " on.",
             f"{wer_prior:.3f}" == "0.947" and bool(dec_prior["supported"].all() and dec_control["supported"].all()),
             prior=round(float(wer_prior), 4))
claims.check("its lens is above the shipped model's at every layer, 0.155 [0.131, 0.178] at its last layer",
             ci(na, L) == "0.155 [0.131, 0.178]" and bool(err_family["supported"].all()
                                                           and (err_family["mean difference over speakers"] > 0).all()),
             **pair_evidence)
claims.check("it builds up more gradually (0.45 of the way at layer 1 against 0.75; the\n  difference is supported at"
             " every layer from 1 to 5)",
             f"{shares['noalign lens'][1]:.2f}" == "0.45" and f"{shares['lens'][1]:.2f}" == "0.75" and share_ok,
             **pair_evidence)
claims.check("Where the tokens fall differs sharply: 0.319 [0.278, 0.356] of its correctly\n  emitted tokens are"
             " centred inside their phone, against 0.981 [0.973, 0.988] for the shipped model.",
             tci("noalign lens", "inside") == "0.319 [0.278, 0.356]" and tci("lens", "inside") == "0.981 [0.973, 0.988]"
             and timing_ok, **timing_evidence)
claims.check("The shipped\n  model's token timing is its alignment training", timing_ok, **timing_evidence)
claims.verify()

# Findings of 01_speech_challenges, checked when the solutions are built (course.claims).
import numpy as np

from course.claims import Claims

claims = Claims("01_speech_challenges")
T, F, R, M, N = "trained, last layer", "front-end control, last layer", "random twin, last layer", "MFCC", \
    ", speaker-normalised"
SPK, SEEN, HELD = COLUMNS
m = corpus.manifest
split_speakers = m.groupby("split")["speaker"].nunique().to_dict()


def mean(name, column):
    return float(ci[name][column][0])


def diff(key):
    a, b = family[key]
    return float(a.mean() - b.mean())


def p(key):
    return float(p_adjusted[key])


smallest = len(family) * 2 / 2 ** len(HELDOUT_SPEAKERS)

# the corpus sample
claims.check("twelve of them (the `validation` and `test` splits) are held out from everything the models were "
             "trained on", split_speakers == {"train": 20, "validation": 4, "test": 8} and len(HELDOUT_SPEAKERS) == 12,
             speakers=split_speakers)
crossed = all(len({u.text for u in test_utts if u.speaker == s} ^ {u.text for u in test_utts if u.speaker == t}) == 0
              for s in HELDOUT_SPEAKERS for t in HELDOUT_SPEAKERS if split_of[s] == split_of[t])
claims.check("Within each held-out split every speaker reads the same sentences", crossed)
claims.check("Apply it to the 600 utterances of the training speakers (30 each).", len(duration_utts) == 600)
claims.check("All 32 speakers of the feature set take part", len(speakers) == 32)
claims.check("the same three for every speaker of a split",
             all(len({u.text for u in test_utts if u.id in ENROL and split_of[u.speaker] == sp}) == 3
                 for sp in ("validation", "test")))
claims.check("three female and three male voices each, both splits in each half",
             all(sum(female[s] for s in h) == 3 and len(h) == 6 and {split_of[s] for s in h} == {"validation", "test"}
                 for h in HALVES), halves=HALVES)
claims.check("Phones are short, so the same jitter relabels a larger share of phone frames than of word frames",
             bool(np.all(np.array(changed["phones"]) > np.array(changed["words"])) and np.all(jitter_p < 0.05)),
             changed=changed, p=np.round(jitter_p, 4).tolist())
claims.check("the\ngap holds speaker by speaker at every jitter", bool(np.all(jitter_p < 0.05)) and len(jitter_p) == 6
             and len(speakers) == 32)

# section 4: MFCC, model and controls
claims.check("so the speaker score falls towards chance", p(f"speaker: {M}, raw vs speaker-normalised") < 0.05
             and diff(f"speaker: {M}, raw vs speaker-normalised") > 0)
phones = ("The trained last layer classifies phones best, 0.955 [0.944, 0.965] on held-out speakers; the front-end "
          "control reaches 0.854, the MFCCs 0.743 and the random twin 0.197. Each step holds speaker by speaker")
for shown, value in (("0.955", mean(T, HELD)), ("0.944", ci[T][HELD][1]), ("0.965", ci[T][HELD][2]),
                     ("0.854", mean(F, HELD)), ("0.743", mean(M, HELD)), ("0.197", mean(R, HELD))):
    claims.number(phones, shown, value)
steps = [f"phone: {T} vs {F}", f"phone: {F} vs {M}", f"phone: {M} vs {R}"]
claims.check(phones, all(diff(k) > 0 and p(k) < 0.05 for k in steps), p={k: round(p(k), 4) for k in steps})
each = "(trained vs front-end control, front-end control vs MFCC, MFCC vs random twin: each p = 0.0083)"
claims.check(each, all(abs(p(k) - smallest) < 1e-9 for k in steps) and round(smallest, 4) == 0.0083)
claims.number("0.0083 is the smallest such p that 12 speakers allow", "0.0083", smallest)
claims.check("Holm-corrected over the 17\ncomparisons printed", len(family) == 17)
claims.check("the trained Transformer adds about 0.10 on top of it", 0.075 <= diff(f"phone: {T} vs {F}") < 0.125
             and p(f"phone: {T} vs {F}") < 0.05, gain=diff(f"phone: {T} vs {F}"))
seen = "raises the MFCC phone score by 0.035 (p = 0.023)"
claims.number(seen, "0.035", diff(f"phone: {M}, seen vs held-out speakers"))
claims.number(seen, "0.023", p(f"phone: {M}, seen vs held-out speakers"))
seen_model = "For the model's last layer the gain is 0.014 and within noise (p = 0.16), and so it is for both controls."
claims.number(seen_model, "0.014", diff(f"phone: {T}, seen vs held-out speakers"))
claims.number(seen_model, "0.16", p(f"phone: {T}, seen vs held-out speakers"))
claims.check(seen_model, all(p(f"phone: {n}, seen vs held-out speakers") >= 0.05 for n in (T, F, R)))
no_lower = "A seen-speaker score is no lower than a held-out one here"
claims.check(no_lower, all(diff(f"phone: {n}, seen vs held-out speakers") >= 0 or
                           p(f"phone: {n}, seen vs held-out speakers") >= 0.05 for n in (M, R, F, T)))
claims.check("having heard the voice raised the MFCC phone score by 0.035 (p = 0.023) and changed the model's last "
             "layer by no more than the noise between speakers",
             p(f"phone: {M}, seen vs held-out speakers") < 0.05 and p(f"phone: {T}, seen vs held-out speakers") >= 0.05)
claims.check("a seen-speaker score is at least as high as a held-out one",
             all(diff(f"phone: {n}, seen vs held-out speakers") >= 0 or
                 p(f"phone: {n}, seen vs held-out speakers") >= 0.05 for n in (M, R, F, T)))
speakers_above = ("Every representation identifies the twelve speakers above chance (0.091), the random twin least "
                  "(0.154 [0.117, 0.194])")
claims.number(speakers_above, "0.091", chance[SPK])
for shown, value in (("0.154", mean(R, SPK)), ("0.117", ci[R][SPK][1]), ("0.194", ci[R][SPK][2])):
    claims.number(speakers_above, shown, value)
raw = [M, R, F, T]
claims.check(speakers_above, all(ci[n][SPK][1] > chance[SPK] for n in raw)
             and min(raw, key=lambda n: mean(n, SPK)) == R, low={n: round(ci[n][SPK][1], 3) for n in raw})
most = ("The MFCCs carry the most, 0.373 [0.319, 0.434]; the trained last layer scores 0.12 lower, but that "
        "difference is within noise between speakers once the comparisons are corrected (p = 0.32).")
for shown, value in (("0.373", mean(M, SPK)), ("0.319", ci[M][SPK][1]), ("0.434", ci[M][SPK][2]),
                     ("0.12", -diff(f"speaker: {T} vs {M}")), ("0.32", p(f"speaker: {T} vs {M}"))):
    claims.number(most, shown, value)
claims.check(most, max(raw, key=lambda n: mean(n, SPK)) == M and p(f"speaker: {T} vs {M}") >= 0.05)
norm = "Per-speaker normalisation brings the MFCC speaker score down to 0.126 (p = 0.0083)."
claims.number(norm, "0.126", mean(M + N, SPK))
claims.number(norm, "0.0083", p(f"speaker: {M}, raw vs speaker-normalised"))
claims.check("On the three model layers the speaker score falls too, but not beyond noise, and no phone score changes "
             "beyond noise.",
             all(diff(f"speaker: {n}, raw vs speaker-normalised") > 0 and p(f"speaker: {n}, raw vs speaker-normalised")
                 >= 0.05 for n in (R, F, T))
             and all(p(f"phone: {n}, raw vs speaker-normalised") >= 0.05 for n in raw))
claims.check("Here its last layer loses most of the signal, so it is a weak baseline",
             mean(R, HELD) < 0.5 * mean(M, HELD) and p(f"phone: {M} vs {R}") < 0.05)
claims.check("MFCCs and the model's last layer identify speakers far above chance",
             min(ci[M][SPK][1], ci[T][SPK][1]) > 2 * chance[SPK])
claims.check("brought the MFCC speaker classifier close to chance",
             mean(M + N, SPK) < 1.5 * chance[SPK] and ci[M + N][SPK][1] <= chance[SPK] * 1.05)

# the reverse leak
below = ("With statistics from all six sentences the speaker classifier falls *below* chance on the random twin, "
         "0.026 [0.019, 0.033] against a chance level of 0.091, and on the front-end control and the trained model's "
         "last layer too: their intervals lie entirely below chance.")
for shown, value in (("0.026", leak_ci[R][0]), ("0.019", leak_ci[R][1]), ("0.033", leak_ci[R][2]),
                     ("0.091", chance[SPK])):
    claims.number(below, shown, value)
claims.check(below, all(leak_ci[n][2] < chance[SPK] and leak_p[n] < 0.05 for n in (R, F, T)),
             leak={n: np.round(v, 3).tolist() for n, v in leak_ci.items()}, p=leak_p)
claims.check("The MFCCs land at chance.", leak_ci[M][1] <= chance[SPK] <= leak_ci[M][2])
claims.check("With enrolment statistics every mean is above chance.",
             all(mean(n + N, SPK) > chance[SPK] for n in raw))
claims.check("which is why the random twin falls furthest", min(leak_ci, key=lambda n: leak_ci[n][0]) == R)
claims.check("push speaker classifiers *below* chance (random twin 0.026 against 0.091)",
             leak_ci[R][2] < chance[SPK] and f"{leak_ci[R][0]:.3f}" == "0.026" and f"{chance[SPK]:.3f}" == "0.091")
claims.check("section 4 showed statistics that included the test sentences pushing speaker classifiers below chance",
             all(leak_ci[n][2] < chance[SPK] for n in (R, F, T)))

# the confounded two-phone classifiers
VOWEL_PAIRS = ("/ɪ/ vs /iː/", "/ɛ/ vs /æ/", "/ə/ vs /ɪ/")
claims.check("On raw MFCCs the three vowel pairs did: their intervals lie entirely below 0.5.",
             all(confound_ci["MFCC"][k][2] < 0.5 for k in VOWEL_PAIRS),
             mfcc={k: np.round(v, 3).tolist() for k, v in confound_ci["MFCC"].items()})
normed = confound_ci["MFCC, speaker-normalised"]
claims.check("After speaker normalisation no MFCC interval lies entirely below 0.5, but two of the three vowel pairs "
             "stay at chance within noise.",
             all(v[2] >= 0.5 for v in normed.values()) and sum(normed[k][1] <= 0.5 <= normed[k][2]
                                                              for k in VOWEL_PAIRS) == 2,
             normed={k: np.round(v, 3).tolist() for k, v in normed.items()})
claims.check("The trained model's last layer is right on at least 99 % of the reversed segments for every pair, raw "
             "or normalised, and the random twin stays above chance on every pair.",
             all(v[0] >= 0.99 for n in (T, T + N) for v in confound_ci[n].values())
             and all(v[1] > 0.5 for v in confound_ci[R].values()))
claims.check("the confounded two-phone experiment shows a classifier choosing the voice over the phone",
             any(v[2] < 0.5 for v in confound_ci["MFCC"].values()))

# section 5: edges of phones
edges = ("Every representation labels the first and last frames of a phone less often than its centre frame (each "
         "p = 0.0029, Holm over the six tests of this figure): by 0.19 for the MFCCs and the front-end control, 0.15 "
         "for the trained last layer.")
centre_keys = [k for k in position_p if k.endswith("centre vs edges")]
claims.check(edges, len(position_p) == 6 and all(gaps[n].mean() > 0 for n in hits)
             and all(f"{position_p[k]:.4f}" == "0.0029" for k in centre_keys),
             p={k: round(v, 4) for k, v in position_p.items()})
claims.number(edges, "0.19", gaps[M].mean())
claims.number(edges, "0.19", gaps[F].mean())
claims.number(edges, "0.15", gaps[T].mean())
smaller = ("The trained layer's gap is smaller than the MFCCs' and the front-end control's by about 0.04 (p = 0.0098)")
claims.check(smaller, all(0.025 <= -np.mean(position_family[f"edge gap: trained vs {c}"][0]
                                           - position_family[f"edge gap: trained vs {c}"][1]) < 0.055
                          and f"{position_p[f'edge gap: trained vs {c}']:.4f}" == "0.0098" for c in (M, F)))
claims.check("but most of the gap remains", gaps[T].mean() > 0.5 * gaps[F].mean())
claims.check("here the MFCC phone\n  classifier did", p(f"phone: {M}, seen vs held-out speakers") < 0.05
             and diff(f"phone: {M}, seen vs held-out speakers") > 0)

claims.check("classifiers score\nlower on edge frames",
             all(gaps[n].mean() > 0 and position_p[f"{n}: centre vs edges"] < 0.05 for n in hits))
claims.check("Phones above the diagonal are long (vowels, diphthongs)",
             all(ph[0] in VOWEL_START for ph in ratio.index[-4:]) and not any(ph[0] in VOWEL_START
                                                                            for ph in ratio.index[:4]),
             longest=list(ratio.index[-4:]), shortest=list(ratio.index[:4]))

# What we found
found = ("0.955 [0.944, 0.965], above a control that keeps the trained front end under a random Transformer (0.854), "
         "above the MFCCs (0.743) and far above the random twin (0.197); every step holds speaker by speaker "
         "(Holm-corrected p = 0.0083).")
for shown, value in (("0.955", mean(T, HELD)), ("0.944", ci[T][HELD][1]), ("0.965", ci[T][HELD][2]),
                     ("0.854", mean(F, HELD)), ("0.743", mean(M, HELD)), ("0.197", mean(R, HELD)),
                     ("0.0083", max(p(k) for k in steps))):
    claims.number(found, shown, value)
claims.check("helps the MFCC phone classifier (by 0.035) and not the model's last layer beyond noise",
             p(f"phone: {M}, seen vs held-out speakers") < 0.05 and p(f"phone: {T}, seen vs held-out speakers") >= 0.05
             and f"{diff(f'phone: {M}, seen vs held-out speakers'):.3f}" == "0.035")
claims.check("The MFCCs carry the most; the trained last layer less, but within noise over twelve speakers.",
             max(raw, key=lambda n: mean(n, SPK)) == M and p(f"speaker: {T} vs {M}") >= 0.05)
claims.check("Normalisation with enrolment statistics brings the MFCCs close to chance",
             mean(M + N, SPK) < 1.5 * chance[SPK])
claims.check("(the trained last layer by 0.15); the trained Transformer narrows that gap by about 0.04 compared with "
             "its front end alone", f"{gaps[T].mean():.2f}" == "0.15"
             and position_p[f"edge gap: trained vs {F}"] < 0.05
             and 0.025 <= gaps[F].mean() - gaps[T].mean() < 0.055)
claims.verify()

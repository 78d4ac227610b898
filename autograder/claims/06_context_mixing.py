# Findings of 06_context_mixing, checked when the solutions are built (course.claims).
import numpy as np

from course.claims import Claims

claims = Claims("06_context_mixing")
vz_s2s = gaps[(SEQ2SEQ_MODEL, "value zeroing", "trained")], gaps[(SEQ2SEQ_MODEL, "value zeroing", "random")]
vz_enc = gaps[(ENCODER_MODEL, "value zeroing", "trained")], gaps[(ENCODER_MODEL, "value zeroing", "random")]
claims.check("Take `N_SENT` sentences read by the eight **test\nspeakers**",
             len({u.speaker for u in sentences}) == 8 and len({u.text for u in sentences}) == N_SENT,
             speakers=sorted({u.speaker for u in sentences}))
WIDER = ("in the last layer of the\ntranscriber's encoder value zeroing gives the cue more than the other words by a "
         "wider margin than the random twin\ndoes (0.18 against 0.08 of the homophone's row)")
claims.check(WIDER, bool(vz_s2s[0][-1] > vz_s2s[1][-1] + 0.05),
             trained=np.round(vz_s2s[0], 3).tolist(), random=np.round(vz_s2s[1], 3).tolist())
claims.number(WIDER, "0.18", vz_s2s[0][-1])
claims.number(WIDER, "0.08", vz_s2s[1][-1])
claims.check("the phone recogniser's margin stays within a few hundredths of its twin's at every layer, or below it",
             bool(np.all(vz_enc[0] < vz_enc[1] + 0.05)), trained=np.round(vz_enc[0], 3).tolist(),
             random=np.round(vz_enc[1], 3).tolist())
claims.check("silencing the cue lowers the share of homophones spelled right",
             bool(np.mean(table["homophone, cue silenced"] == "right") < np.mean(table["homophone"] == "right")),
             with_cue=float(np.mean(table["homophone"] == "right")),
             silenced=float(np.mean(table["homophone, cue silenced"] == "right")))
random_attention = [gaps[(m, "attention", "random")] for m in (ENCODER_MODEL, SEQ2SEQ_MODEL)]
random_vz = [gaps[(m, "value zeroing", "random")] for m in (ENCODER_MODEL, SEQ2SEQ_MODEL)]
claims.check("For the random twin, attention (mean-pooled, a per-frame density) gives the cue and the other"
             " words about the "
             "same\nshare, but value zeroing gives the cue more",
             all(np.all(np.abs(g) < 0.01) for g in random_attention) and all(np.all(g > 0.03) for g in random_vz),
             attention=[np.round(g, 3).tolist() for g in random_attention],
             value_zeroing=[np.round(g, 3).tolist() for g in random_vz])
claims.check("Cue words are content words and longer than the average\nother word",
             np.mean(lengths["cue word"]) > np.mean(lengths["other words"]) + 1,
             cue=np.mean(lengths["cue word"]), other=np.mean(lengths["other words"]))
claims.verify()

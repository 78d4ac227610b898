# Findings of 08_outlook, checked when the solutions are built (course.claims).
import numpy as np

from course.claims import Claims
from course.models import shipped_metrics

claims = Claims("08_outlook")
card = shipped_metrics(MODEL)
held_names = sorted(set(held_speakers.tolist()))
train_names = sorted({u.speaker for u in train_utts})
claims.check("twelve voices the model never heard, reading homophone sentences it never heard",
             len(held_names) == 12 and not set(held_names) & set(train_names)
             and not {u.text for u in held_utts} & set(corpus.select(split="train")["text"]), held=held_names)
claims.check("(16 homophone pairs, each sentence half of a minimal pair)",
             homophones["homophone_group"].nunique() == 16, groups=homophones["homophone_group"].nunique())
claims.check("(one class per spelling,\n32 in all)", homophones["target_word"].nunique() == 32,
             spellings=homophones["target_word"].nunique())
claims.check("probes are trained on 10\nsentences of each of the 20 training speakers",
             N_TRAIN_PER_SPEAKER == 10 and len(train_names) == 20 and len(train_utts) == 200, train=len(train_utts))
claims.check("8 held-out sentences of each of the 12\nvalidation and test speakers (96 sentences)",
             N_HELD_PER_SPEAKER == 8 and len(held_utts) == 96 and
             all(np.sum(held_speakers == s) == 8 for s in held_names), held=len(held_utts))
claims.check("the cue-before and\ncue-after halves have 48 sentences each",
             int(cue_after.sum()) == 48 == int((~cue_after).sum()),
             after=int(cue_after.sum()))
claims.number("90 % of the held-out homophone sentences in its model card", "90 %", card["homophone_accuracy"])
claims.number("and 33 % when the cue word is replaced by silence", "33 %", card["homophone_accuracy_cue_silence"])
position_ci = with_ci(probe["position"])[1]
claims.number("Yet here it prefers the right spelling on 0.59 of the\nheld-out sentences", "0.59",
              probe["position"].mean())
claims.check("(its speaker-level interval still reaches below chance)", position_ci[0] < 0.5 < position_ci[1],
             ci=position_ci)

# the worked example's result (model answer of the write-up)
p_speakers = tests[SPEAKER_P]
probe_layers = probe["trained"].mean(1)
claims.number("on 0.57 of the held-out sentences at layer 0", "0.57", probe_layers[0])
claims.number("0.71 at the last layer (paired test over the twelve speaker means: p = 0.002)", "0.71", probe_layers[-1])
claims.number("0.71 at the last layer (paired test over the twelve speaker means: p = 0.002)",
              "0.002", p_speakers[f"probe: layer {L} vs layer 0"])
twin_last = probe["random twin"].mean(1)[-1]
claims.number("above the random twin's 0.56", "0.56", twin_last)
claims.number("above the position control's 0.59 (p = 0.01 over speakers)", "0.59", probe["position"].mean())
claims.number("above the position control's 0.59 (p = 0.01 over speakers)", "0.01",
              p_speakers[f"probe: layer {L} vs position only"])
claims.check("above the random twin's 0.56 and\n  above the position control's 0.59",
             probe_layers[-1] > max(twin_last, probe["position"].mean()),
             trained=probe_layers[-1], twin=twin_last, position=probe["position"].mean())
before, after = lens_correct[:, ~cue_after], lens_correct[:, cue_after]
claims.check("When the cue comes first, every layer spells every homophone right",
             bool(np.all(before == 1.0)), before=np.round(before.mean(1), 3).tolist())
claims.number("and so does the text\n  prior alone (1.00)", "1.00", prior_correct[~cue_after].mean())
claims.number("the last layer spells 0.96 of them\n  right against the prior's 0.54 (p = 0.01 over speakers)",
              "0.96", after[-1].mean())
claims.number("the last layer spells 0.96 of them\n  right against the prior's 0.54 (p = 0.01 over speakers)",
              "0.54", prior_correct[cue_after].mean())
claims.number("the last layer spells 0.96 of them\n  right against the prior's 0.54 (p = 0.01 over speakers)",
              "0.01", p_speakers[f"lens, cue after: layer {L} vs text prior"])
shares = cue["trained"].mean(0)  # mean log2 cue share, layers 1 .. L
claims.check("Only layer 3 gives the cue clearly more than an average context word (mean log2 cue share 1.4,\n "
             " about 2.6 times as much)",
             int(np.argmax(shares)) == 2 and np.sum(shares > 0.5) == 1, shares=np.round(shares, 2).tolist())
claims.number("Only layer 3 gives the cue clearly more than an average context word (mean log2 cue share 1.4,\n "
              " about 2.6 times as much)",
              "1.4", shares[2])
claims.number("Only layer 3 gives the cue clearly more than an average context word (mean log2 cue share 1.4,\n "
              " about 2.6 times as much)",
              "2.6", 2 ** shares[2])
claims.number("the last layer gives it less (−0.64)", "0.64", -shares[-1])
claims.check("the random twin stays at 0.0 in every layer", bool(np.all(np.abs(cue["random twin"].mean(0)) < 0.05)),
             twin=np.round(cue["random twin"].mean(0), 3).tolist())
claims.verify()

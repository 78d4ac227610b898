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
claims.number("99.6 % of the held-out homophone sentences in its model\ncard", "99.6 %", card["homophone_accuracy"])
claims.number("and 45 % (chance) when the cue word is replaced by silence", "45 %",
              card["homophone_accuracy_cue_silence"])
claims.check("and 45 % (chance) when the cue word is replaced by silence",
             abs(card["homophone_accuracy_cue_silence"] - 0.5) < 0.1, silenced=card["homophone_accuracy_cue_silence"])
position_ci = with_ci(probe["position"])[1]
claims.number("Yet here it prefers the right spelling on 0.59 of the\nheld-out sentences", "0.59",
              probe["position"].mean())
claims.check("(its speaker-level interval still reaches below chance)", position_ci[0] < 0.5 < position_ci[1],
             ci=position_ci)

# the worked example's result (model answer of the write-up)
p_speakers = tests[SPEAKER_P]
probe_layers = probe["trained"].mean(1)
twin_last = probe["random twin"].mean(1)[-1]
PROBE = ("The right spelling is preferred at the homophone on 0.59 of the held-out sentences at layer 0 and\n  0.69 at "
         "the last layer, above the random twin's 0.56 and above the position control's 0.59, but neither\n  "
         "difference holds over speakers: the rise from layer 0 gives p = 0.23 over the twelve speaker means (exact, "
         "Holm-corrected),\n  and the last layer against the position control p = 0.28")
claims.number(PROBE, "0.59", probe_layers[0])
claims.number(PROBE, "0.69", probe_layers[-1])
claims.number(PROBE, "0.56", twin_last)
claims.number(PROBE, "0.59", probe["position"].mean())
claims.number(PROBE, "0.23", p_speakers[f"probe: layer {L} vs layer 0"])
claims.number(PROBE, "0.28", p_speakers[f"probe: layer {L} vs position only"])
claims.check(PROBE, bool(probe_layers[-1] > max(twin_last, probe["position"].mean()) and
                         min(p_speakers[f"probe: layer {L} vs layer 0"],
                             p_speakers[f"probe: layer {L} vs position only"]) >= 0.05),
             trained=probe_layers[-1], twin=twin_last, position=probe["position"].mean())
before, after = lens_correct[:, ~cue_after], lens_correct[:, cue_after]
FIRST = ("When the cue comes first, the text prior alone spells 0.94 of the homophones right and every\n  layer from "
         "layer 1 on spells every one right")
claims.number(FIRST, "0.94", prior_correct[~cue_after].mean())
claims.check(FIRST, bool(np.all(before[1:] == 1.0)), before=np.round(before.mean(1), 3).tolist())
AFTER = ("When the cue comes after, the last\n  layer spells 1.00 of them right against the prior's 0.50, chance "
         "(p = 0.0024 over speakers)")
claims.number(AFTER, "1.00", after[-1].mean())
claims.number(AFTER, "0.50", prior_correct[cue_after].mean())
claims.number(AFTER, "0.0024", p_speakers[f"lens, cue after: layer {L} vs text prior"])
shares = cue["trained"].mean(0)  # mean log2 cue share, layers 1 .. L
NONE = ("No layer gives the cue clearly more than an average context word: the mean log2 cue share is\n  0.15 at "
        "layer 2 (about 1.1 times as much) and below zero in the other layers (−1.62 at the last layer, about a\n  "
        "third as much)")
claims.check(NONE, bool(np.all(shares < 0.5) and int(np.argmax(shares)) == 1 and np.sum(shares > 0) == 1),
             shares=np.round(shares, 2).tolist())
claims.number(NONE, "0.15", shares[1])
claims.number(NONE, "1.1", 2 ** shares[1])
claims.number(NONE, "1.62", -shares[-1])
claims.check(NONE, abs(2 ** shares[-1] - 1 / 3) < 0.05, last_ratio=2 ** shares[-1])
claims.check("the random twin stays at 0.0 in every layer", bool(np.all(np.abs(cue["random twin"].mean(0)) < 0.05)),
             twin=np.round(cue["random twin"].mean(0), 3).tolist())
claims.verify()

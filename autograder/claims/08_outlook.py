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
held_rows = homophones.loc[held_ids]
per_pair = held_rows.groupby(["homophone_group", "cue_position"]).size().unstack(fill_value=0)
per_speaker = held_rows.groupby(["speaker", "cue_position"]).size().unstack(fill_value=0)
claims.check("all 16 pairs appear with the cue before and with the cue after the homophone, every spelling three"
             " times, and every speaker reads four sentences of each kind",
             len(per_pair) == 16 and bool((per_pair > 0).all().all())
             and set(held_rows["target_word"].value_counts()) == {3} and held_rows["target_word"].nunique() == 32
             and bool((per_speaker == 4).all().all()),
             per_pair=per_pair.to_dict("index"), per_speaker=per_speaker.to_dict("index"))
claims.number("99.6 % of the held-out homophone sentences in its model\ncard", "99.6 %", card["homophone_accuracy"])
claims.number("and 45 % (chance) when the cue word is replaced by silence", "45 %",
              card["homophone_accuracy_cue_silence"])
claims.check("and 45 % (chance) when the cue word is replaced by silence",
             abs(card["homophone_accuracy_cue_silence"] - 0.5) < 0.1, silenced=card["homophone_accuracy_cue_silence"])
position_ci = with_ci(probe["position"])[1]
claims.number("Yet here it prefers the right spelling on 0.53 of the\nheld-out sentences", "0.53",
              probe["position"].mean())
claims.check("(its speaker-level interval still reaches below chance)", position_ci[0] < 0.5 < position_ci[1],
             ci=position_ci)

# the worked example's result (model answer of the write-up)
p_speakers = tests[SPEAKER_P]
probe_layers = probe["trained"].mean(1)
twin_last = probe["random twin"].mean(1)[-1]
PROBE = ("The right spelling is preferred at the homophone on 0.55 of the held-out sentences at layer 0 and\n  0.64 at "
         "the last layer, above the random twin's 0.50 and above the position control's 0.53, but neither\n  "
         "difference holds over speakers: the rise from layer 0 gives p = 0.24 over the twelve speaker means (exact, "
         "Holm-corrected),\n  and the last layer against the position control p = 0.22")
claims.number(PROBE, "0.55", probe_layers[0])
claims.number(PROBE, "0.64", probe_layers[-1])
claims.number(PROBE, "0.50", twin_last)
claims.number(PROBE, "0.53", probe["position"].mean())
claims.number(PROBE, "0.24", p_speakers[f"probe: layer {L} vs layer 0"])
claims.number(PROBE, "0.22", p_speakers[f"probe: layer {L} vs position only"])
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
         "(p = 0.0078 over speakers)")
claims.number(AFTER, "1.00", after[-1].mean())
claims.number(AFTER, "0.50", prior_correct[cue_after].mean())
claims.number(AFTER, "0.0078", p_speakers[f"lens, cue after: layer {L} vs text prior"])
shares = cue["trained"].mean(0)  # mean log2 cue share, layers 1 .. L
NONE = ("No layer gives the cue clearly more than an average context word: the mean log2 cue share is\n  0.09 at "
        "layer 2 (about 1.1 times as much) and below zero in the other layers (−1.64 at the last layer, about a\n  "
        "third as much)")
claims.check(NONE, bool(np.all(shares < 0.5) and int(np.argmax(shares)) == 1 and np.sum(shares > 0) == 1),
             shares=np.round(shares, 2).tolist())
claims.number(NONE, "0.09", shares[1])
claims.number(NONE, "1.1", 2 ** shares[1])
claims.number(NONE, "1.64", -shares[-1])
claims.check(NONE, abs(2 ** shares[-1] - 1 / 3) < 0.05, last_ratio=2 ** shares[-1])
claims.check("the random twin stays at 0.0 in every layer", bool(np.all(np.abs(cue["random twin"].mean(0)) < 0.05)),
             twin=np.round(cue["random twin"].mean(0), 3).tolist())
# the summary's one-sentence finding: the three results of the model answer above, together
claims.check("The decoder takes the spelling from the audio when the transcript cannot decide, but neither the probe "
             "at the homophone's frames nor its attention to the cue shows where the encoder puts it",
             bool(after[-1].mean() - prior_correct[cue_after].mean() > 0.3
                  and p_speakers[f"lens, cue after: layer {L} vs text prior"] < 0.05
                  and min(p_speakers[f"probe: layer {L} vs layer 0"],
                          p_speakers[f"probe: layer {L} vs position only"]) >= 0.05
                  and np.all(shares < 0.5)),
             lens_gain=after[-1].mean() - prior_correct[cue_after].mean(), shares=np.round(shares, 2).tolist())
claims.verify()

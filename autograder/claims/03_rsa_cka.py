# Findings of 03_rsa_cka, checked when the solutions are built (course.claims).
import numpy as np

from course.claims import Claims

claims = Claims("03_rsa_cka")
identity = rsa_by_layer["trained", "phone identity"]
identity_ci = rsa_ci["trained", "phone identity"]
steps = {ref: [(change[ref, f"layer {l} -> {l + 1}"], p_within[ref, f"layer {l} -> {l + 1}"]) for l in range(n_layers)]
         for ref in ("MFCC", "phonological features")}
vs_base = [(change["phonological features", f"layer {l} vs MFCC baseline"],
            p_within["phonological features", f"layer {l} vs MFCC baseline"]) for l in range(n_layers + 1)]
claims.check("the twelve **held-out speakers** (the validation and test splits)", len(heldout_speakers) == 12,
             heldout=heldout_speakers)

# section 3, tested within speakers
mfcc_falls = all(d < 0 and p < 0.05 for d, p in steps["MFCC"])
claims.check("the resemblance to MFCCs falls at every one of the\nsix steps from the first layer to the last",
             mfcc_falls and n_layers == 6, steps=[(round(d, 3), round(p, 4)) for d, p in steps["MFCC"]])
features_steps = steps["phonological features"]
claims.check("The phonological-feature score falls with it at every step but one\n(layer 3 to 4, within noise)",
             all(d < 0 for d, _ in features_steps)
             and [l for l, (_, p) in enumerate(features_steps) if p >= 0.05] == [3],
             steps=[(round(d, 3), round(p, 4)) for d, p in features_steps])
level_then_below = vs_base[0][1] >= 0.05 and all(d < 0 and p < 0.05 for d, p in vs_base[1:])
claims.check("no layer is more phonological than the MFCCs: layer 0 is level with them within\nnoise, and every later "
             "layer lies below them", level_then_below, vs_base=[(round(d, 3), round(p, 4)) for d, p in vs_base])
claims.check("The pooled curve puts layer 0 above the MFCC line, but inside the\nline's band",
             bool(baseline_ci["phonological features"][0] < rsa_by_layer["trained", "phonological features"][0]
                  <= baseline_ci["phonological features"][2]),
             layer0=rsa_ci["trained", "phonological features"][0].round(3).tolist(),
             baseline=baseline_ci["phonological features"].round(3).tolist())
claims.check("The phone-identity\nscore sits close to its ceiling at every layer",
             bool(np.all(identity > ceiling - 0.02)), identity=np.round(identity, 3).tolist(),
             ceiling=round(ceiling, 3))

# the speaker nuisance
speaker_first, speaker_last = speaker_ci["trained"][0], speaker_ci["trained"][-1]
voice = ("their RSA with the speaker RDM is 0.01 at layer 0\nand 0.07 at the last layer, against the MFCCs' 0.10, and "
         "the intervals overlap, so neither the rise nor the gap to the\nMFCCs is established")
claims.number(voice, "0.01", speaker_first[0])
claims.number(voice, "0.07", speaker_last[0])
claims.number(voice, "0.10", speaker_mfcc[0])
claims.check(voice, bool(speaker_first[2] >= speaker_last[1] and speaker_last[2] >= speaker_mfcc[1]),
             first=speaker_first.round(3).tolist(), last=speaker_last.round(3).tolist(),
             mfcc=speaker_mfcc.round(3).tolist())
claims.check("The layers group segments by voice a little, no more than MFCCs do (the\n  apparent rise with depth is "
             "within noise)", bool(speaker_ci["trained"][:, 1].max() <= speaker_mfcc[2]
                                    and speaker_first[2] >= speaker_last[1]))
partial_gap = float(np.max(np.abs(partial_ci[:, 0] - rsa_by_layer["trained", "phonological features"])))
claims.check("Removing the speaker path changes the\nphonological scores by less than 0.001", partial_gap < 0.001,
             gap=partial_gap)
claims.check("the phonological RDM is nearly\nuncorrelated with the speaker RDM", abs(features_vs_speaker) < 0.05,
             r=features_vs_speaker)

# the reflection's model answer and CKA
onehot_ci = cka_ci["trained", "phone identity (one-hot), linear"]
claims.check("RSA with\nphone identity rises slightly with depth and stays above the MFCC baseline",
             bool(identity[-1] > identity[0] and identity_ci[:, 1].min() > baseline_ci["phone identity"][2]),
             identity=identity_ci.round(3).tolist(), baseline=baseline_ci["phone identity"].round(3).tolist())
claims.check("RSA with phonological features falls with\ndepth and drops below the MFCC baseline after layer 0",
             level_then_below and all(d < 0 for d, _ in features_steps))
claims.number("(debiased, about 0.41 at layer 0 to 0.59 at the top)", "0.41", onehot_ci[0, 0])
claims.number("(debiased, about 0.41 at layer 0 to 0.59 at the top)", "0.59", onehot_ci[-1, 0])
claims.check("debiased CKA\n  with the phone one-hot matrix rises with depth, with intervals that do not overlap",
             bool(onehot_ci[0, 2] < onehot_ci[-1, 1]), first=onehot_ci[0].round(3).tolist(),
             last=onehot_ci[-1].round(3).tolist())
claims.check("each layer of `tiny-w2v2-ctc` resembles the MFCC space\n  less than the layer before, at every step",
             mfcc_falls)
claims.check("removing the speaker path leaves the phonological scores unchanged", partial_gap < 0.001)
claims.check("The random twin scores near zero on every reference",
             all(np.all(np.abs(rsa_by_layer["random twin", ref]) < 0.1) for ref in references))
# Bonus: the recorded layer-wise comparison (course.layerwise.recorded)
ssl_cka = record[record.subject == "tiny-hubert"].set_index("layer")
ft_cka = record[record.subject == "tiny-hubert-ctc"].set_index("layer")
base = ft_cka.cka_base.to_numpy()
half = len(base) // 2
falls = ("the same-layer CKA between `tiny-hubert-ctc` and `tiny-hubert` falls from 0.94 at layer 0\nto 0.31 at the "
         "last layer (lower half 0.82, upper half 0.43), so fine-tuning changed mainly the top layers")
for shown, value in (("0.94", base[0]), ("0.31", base[-1]), ("0.82", base[:half].mean()), ("0.43", base[half:].mean())):
    claims.number(falls, shown, value)
claims.check(falls, "fine-tuning changed mainly the top layers." in record.attrs["finding"])
acoustic = "`tiny-hubert` stays close to the acoustics at every depth (CKA with\nMFCCs 0.62–0.71)"
claims.number(acoustic, "0.62", ssl_cka.cka_mfcc.min())
claims.number(acoustic, "0.71", ssl_cka.cka_mfcc.max())
pulls = "fine-tuning pulls `tiny-hubert-ctc` away from them layer by layer, to 0.23 at the top"
claims.check(pulls, bool(np.all(np.diff(ft_cka.cka_mfcc) < 0)), cka=ft_cka.cka_mfcc.round(3).tolist())
claims.number(pulls, "0.23", ft_cka.cka_mfcc.iloc[-1])
claims.verify()

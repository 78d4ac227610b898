# Findings of the deck 03_feature_importance, checked when the slides are built (speech_course_tools.slides).
# At hand: claims (course.claims.Claims), num("group.key.sub") (a recorded number, as {{...}} quotes it), numbers,
# notebook_checks(assignment, sentence) and np. Every sentence must occur, word for word, in 03_feature_importance.md.

# the homophone task: the model card's numbers
right = num("models.tiny-whisper.homophone_accuracy")
silenced = num("models.tiny-whisper.homophone_accuracy_cue_silence")
claims.check("the spelling comes\n  from a **cue word** elsewhere in the sentence", right >= 0.9 and silenced <= 0.6,
             right=right, cue_silenced=silenced)

# one sentence, two measures
eff = num("context_mixing.example_effective_words")
claims.check("Rollout spreads the homophone's row over more words", eff["rollout"] > eff["vz"], effective_words=eff)

# across sentences, with the random twin (gap = the cue's share minus an average other word's; [mean, low, high])
gap = {k: np.array(v) for k, v in num("context_mixing.gap.trained").items()}
twin = {k: np.array(v) for k, v in num("context_mixing.gap.twin").items()}
p = {k: np.array(v) for k, v in num("context_mixing.p_trained_vs_twin").items()}
claims.check("it gives the cue more than an average other word at every layer", bool(np.all(twin["vz"][:, 1] > 0)),
             twin_vz_gap=twin["vz"].round(3).tolist())
claims.check("the cue words are content words,\nlonger than the other words of their sentences",
             num("context_mixing.cue_seconds") > num("context_mixing.other_seconds")
             and num("context_mixing.cue_longer_share") >= 0.75,
             cue_s=num("context_mixing.cue_seconds"), other_s=num("context_mixing.other_seconds"),
             share_longer=num("context_mixing.cue_longer_share"))
more = {k: [layer + 1 for layer in range(len(p[k])) if p[k][layer] < 0.05 and gap[k][layer, 0] > twin[k][layer, 0]]
        for k in p}
less = {k: [layer + 1 for layer in range(len(p[k])) if p[k][layer] < 0.05 and gap[k][layer, 0] < twin[k][layer, 0]]
        for k in p}
n_layers = num("context_mixing.n_layers")
claims.check("the trained encoder gives the cue more only at layer 2 under value zeroing",
             more == {"vz": [2], "rollout": []}, more=more)
claims.check("over the 8 comparisons of this figure", 2 * n_layers == 8, layers=n_layers)
claims.check("at layers 1 and 3, and under\nrollout at every layer, it gives the cue less than its twin does",
             less == {"vz": [1, 3], "rollout": list(range(1, n_layers + 1))}, less=less)
claims.check("Notebook 06, correcting for all the comparisons of\nits two encoders and three measures, does not "
             "support even the layer-2 difference", notebook_checks(
                 "06_context_mixing", "The transcriber's encoder gives the cue more than the other words only at\n  "
                 "layer 2 (gap 0.11, interval 0.07 to 0.15), and there no more than its random twin does (0.05): no "
                 "difference\n  within noise"))
claims.check("the transcriber's decoder, whose cross-attention gives the cue's audio a large share of the homophone's "
             "row", notebook_checks("06_context_mixing", "Its cross-attention gives the cue's audio between 0.23 and "
                                    "0.46 of the\n  homophone's row, against at most 0.07 for an average other word"))
same_as_notebook = notebook_checks("06_context_mixing", "With three per speaker\nthat makes 36 utterances of 36 "
                                   "different sentences, 18 with the cue before the homophone and 18 with it after.")
claims.check("chosen as in notebook 06", same_as_notebook and num("context_mixing.n_speakers") == 12
             and num("context_mixing.per_speaker") == 3 and num("context_mixing.n_sentences") == 36,
             notebook=same_as_notebook, sentences=num("context_mixing.n_sentences"))

# gradients on a model that ignores loudness: F(alpha x) against F(x), alpha = 10^-7 ... 1
logits = dict(zip(num("attribution.scale_log10_alphas"), num("attribution.scale_logits")))
flat = all(abs(v - logits[0]) <= 0.1 * abs(logits[0]) for a, v in logits.items() if a >= -3)
claims.check("**F(αx) ≈ F(x)** for almost every α", flat and abs(logits[-7] - logits[0]) > 0.5 * abs(logits[0]),
             logit_by_log10_alpha=logits)

# Integrated Gradients: completeness on the waveform and on the CNN features
wave, feat = num("attribution.completeness_wave"), num("attribution.completeness_features")
claims.check("On the waveform, from silence, this model fails the check", wave >= 0.25, delta_share=wave)
claims.check("the delta is a few percent", feat <= 0.1 and feat < wave, delta_share=feat)

# the example, and faithfulness
claims.check("the largest bars of the IG\nmap on the CNN features fall inside slot words",
             num("attribution.ig_top_frames_in_slots") >= 0.8, top10_share=num("attribution.ig_top_frames_in_slots"))
claims.check("so the trained map reflects the model, not just the signal's shape",
             abs(num("attribution.rank_corr_twin")) < 0.3, rank_corr=num("attribution.rank_corr_twin"))
claims.check("The IG ranking drops\nthe probability of the predicted intent much faster than random rankings",
             num("attribution.auc_ig") <= 0.5 * num("attribution.auc_random"),
             auc_ig=num("attribution.auc_ig"), auc_random=num("attribution.auc_random"))

# sanity checks: what notebook 07 finds
claims.check("the saliency ranking survives the re-initialisation of everything above the front end",
             notebook_checks("07_feature_attribution",
                             "The saliency ranking survives the re-initialisation of everything above the front end"))
claims.check("**input × gradient** follows it, being the same gradient times the\n  signal", notebook_checks(
    "07_feature_attribution", "Input x gradient follows the same course per frame (it is the same gradient multiplied "
    "by the signal, and about as correlated with the signal's energy), although its signed word sums change."))
claims.check("IG on the CNN features and word ablation pass the check",
             notebook_checks("07_feature_attribution", "IG on the CNN features and word ablation pass the check"))

# discussion
claims.check("Why can the random twin's value-zeroing curve favour the cue word?", bool(np.all(twin["vz"][:, 1] > 0)))

# French: agreement decides the spelling (the model card's numbers; the notebook's finding)
fr_right = num("models.tiny-whisper-fr.homophone_accuracy")
fr_silenced = num("models.tiny-whisper-fr.homophone_accuracy_cue_silence")
claims.check("once the cue is silenced: a coin toss", fr_right >= 0.95 and 0.4 <= fr_silenced <= 0.6,
             right=fr_right, cue_silenced=fr_silenced)
claims.check("the cue decides, yet no single layer's mixing singles it out, in the encoder or in the\n  decoder's "
             "cross-attention", notebook_checks(
                 "06_context_mixing", "Unlike its English sibling, `tiny-whisper-fr` does not read the cue's audio "
                 "directly where it writes the ending."))

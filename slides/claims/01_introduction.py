# Findings of the deck 01_introduction, checked when the slides are built (slides.check_claims, speech_course_tools).
# At hand: claims (course.claims.Claims), num("group.key.sub") (a recorded number, as {{...}} quotes it), numbers,
# notebook_checks(assignment, sentence) and np. Every sentence must occur, word for word, in 01_introduction.md.

# "Variable length": the histogram of frames per phone, and the speaking rates
claims.check("most phones get two to five frames, but the tail is long",
             num("corpus.share_2_to_5_frames") > 0.5 and num("corpus.frames_p99") >= 3 * num("corpus.frames_median"),
             share_2_to_5=num("corpus.share_2_to_5_frames"), p99=num("corpus.frames_p99"),
             median=num("corpus.frames_median"))
claims.check("the same sentence gives a different number of frames per phone for each voice",
             num("corpus.rate_fastest.1") >= 1.2 * num("corpus.rate_slowest.1"),
             slowest=num("corpus.rate_slowest"), fastest=num("corpus.rate_fastest"))
claims.check("0.58 / 0.02 is 28.999999999999996 in binary floating point", 0.58 / 0.02 == 28.999999999999996,
             value=0.58 / 0.02)

# the corpus slide
claims.check("test speakers read sentences no training speaker said, all of them the same ones",
             num("corpus.heldout_sentences_unseen") and num("corpus.test_speakers_same_sentences"))
claims.check("Four sentence kinds, each made for an experiment",
             num("corpus.kinds") == ["command", "homophone", "minimal_pair", "rich"], kinds=num("corpus.kinds"))

# the models slide
deck_models = ("tiny-w2v2-ctc", "tiny-whisper", "tiny-w2v2-intent")
sizes = {m: round(num(f"models.{m}.size_mb"), 2) for m in deck_models}
claims.check("About 6.5 MB each", all(5.5 <= v <= 7.5 for v in sizes.values()), megabytes=sizes)
claims.check("The results are the model cards' measurements on the held-out test speakers reading held-out sentences",
             all(num(f"models.{m}.test_speakers") == num("corpus.test_speakers") for m in deck_models)
             and num("corpus.heldout_sentences_unseen"),
             test_speakers={m: num(f"models.{m}.test_speakers") for m in deck_models})
claims.check("`course/shipped/` holds four more models",
             sorted(set(num("models.shipped")) - set(deck_models))
             == ["tiny-hubert", "tiny-hubert-ctc", "tiny-w2v2-ctc-noalign", "tiny-whisper-fr"],
             shipped=num("models.shipped"))

# "Controls, everywhere": the preview of the probing figure
s = "representations.summary"
claims.check("the MFCCs alone already reach",
             0.7 <= num(f"{s}.probe_mfcc") < num(f"{s}.probe_min"), mfcc=num(f"{s}.probe_mfcc"),
             trained_min=num(f"{s}.probe_min"))
claims.check("The twin shows that a random network with the same architecture scores far lower",
             num(f"{s}.probe_twin_max") < 0.5 * num(f"{s}.probe_min"), twin_max=num(f"{s}.probe_twin_max"),
             trained_min=num(f"{s}.probe_min"))

# Findings of the deck 04_outlook, checked when the slides are built (slides.check_claims, speech_course_tools).
# At hand: claims (course.claims.Claims), num("group.key.sub") (a recorded number, as {{...}} quotes it), numbers,
# notebook_checks(assignment, sentence) and np. Every sentence must occur, word for word, in 04_outlook.md.

# the smallest p-value of an exact two-sided sign-flip test over n speaker means is 2 / 2**n
sign_flip = ("an exact sign-flip test over speaker means cannot go below\n  "
             "p = 2/2<sup>{{corpus.test_speakers}}</sup> ≈ 0.008; with all {{corpus.heldout_speakers}} held-out "
             "speakers,\n  "
             "2/2<sup>{{corpus.heldout_speakers}}</sup> ≈ 0.0005, before any correction")
claims.number(sign_flip, "0.008", 2 / 2 ** num("corpus.test_speakers"))
claims.number(sign_flip, "0.0005", 2 / 2 ** num("corpus.heldout_speakers"))
heldout = num("corpus.test_speakers") + num("corpus.validation_speakers")
claims.check(sign_flip, num("corpus.heldout_speakers") == heldout,
             test=num("corpus.test_speakers"), validation=num("corpus.validation_speakers"))
claims.check("Holm, as the notebooks do", notebook_checks(
    "02_probing", "every layer of the trained model beats\nboth the MFCCs and the front-end control (each "
    "Holm-corrected p = 0.0098, the smallest 20 tests on 12 speakers can\ngive)"))

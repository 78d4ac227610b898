# Findings of the deck 02_representations, checked when the slides are built (slides.check_claims, speech_course_tools).
# At hand: claims (course.claims.Claims), num("group.key.sub") (a recorded number, as {{...}} quotes it), numbers,
# notebook_checks(assignment, sentence) and np. Every sentence must occur, word for word, in 02_representations.md.

s = "representations.summary"
probe = np.array(num("representations.probe.trained"))
lens = np.array(num("representations.lens_per.trained"))
abx = np.array(num("representations.abx.trained"))  # (layers, [within, across])
abx_mfcc = np.array(num("representations.abx_mfcc"))
cka0 = np.array(num("representations.cka.trained"))[0]  # layer 0 against every layer
cka_mfcc = np.array(num("representations.cka_mfcc.trained"))

# probing
claims.check("far above the random twin",
             num(f"{s}.probe_twin_max") < 0.5 * num(f"{s}.probe_min")
             and num(f"{s}.probe_twin_max") > num(f"{s}.probe_chance"),
             twin_max=num(f"{s}.probe_twin_max"), trained_min=num(f"{s}.probe_min"))
claims.check("and above\nthe MFCC baseline", num(f"{s}.probe_min") > num(f"{s}.probe_mfcc"),
             trained_min=num(f"{s}.probe_min"), mfcc=num(f"{s}.probe_mfcc"))
claims.check("which already reaches most of\nthe trained model's accuracy",
             notebook_checks("02_probing", "the control alone scores 0.92–0.93, the model 0.96–0.99"))
claims.check("finds the top of the profile flat within\nnoise",
             notebook_checks("02_probing", "flat within noise above layer 3"))
claims.check("the same recipe trained with CTC only (`tiny-w2v2-ctc-noalign`) gives a flat profile no better than the "
             "MFCCs", notebook_checks("02_probing", "gives a flat profile at 0.81–0.83, no better than the MFCCs"))
claims.check("On this model: trained above MFCC", num(f"{s}.probe_min") > num(f"{s}.probe_mfcc"),
             trained_min=num(f"{s}.probe_min"), mfcc=num(f"{s}.probe_mfcc"))

# CKA: the estimator's bias (independent Gaussians, 192 dimensions, as notebook 03 measures it)
from course.similarity import feature_space_linear_cka  # noqa: E402

rng = np.random.default_rng(0)
biased = {n: float(np.mean([feature_space_linear_cka(rng.standard_normal((n, 192)), rng.standard_normal((n, 192)),
                                                     debiased=False) for _ in range(5)])) for n in (10, 200)}
claims.check("with 192 dimensions, biased CKA of independent Gaussians is\nclose to 1 for ten stimuli and still "
             "clearly positive for two hundred", biased[10] > 0.85 and 0.2 < biased[200] < biased[10], biased=biased)

# CKA between layers
claims.check("The random twin's layers are almost identical to each other", num(f"{s}.cka_twin_first_last") > 0.9,
             twin_first_last=num(f"{s}.cka_twin_first_last"))
claims.check("The trained model\ndecays with distance", bool(np.all(np.diff(cka0) < 0))
             and cka0[-1] < num(f"{s}.cka_twin_first_last") - 0.1, layer0_row=cka0.round(3).tolist())
claims.check("its similarity to MFCCs\nfalls from", bool(np.all(np.diff(cka_mfcc) < 0)),
             cka_mfcc=cka_mfcc.round(3).tolist())

# the CTC lens
claims.check("Phone error rate falls steadily", bool(np.all(np.diff(lens) < 0)), lens=lens.round(3).tolist())
claims.check("a\nlinear probe reads phones almost equally well from every layer, but the model's own head reads the "
             "lower layers far\nworse than the top",
             probe.max() - probe.min() <= 0.05 and lens[0] >= 10 * lens[-1] and lens[1] >= 5 * lens[-1],
             probe=probe.round(3).tolist(), lens=lens.round(3).tolist())
claims.check("mostly insertions", num(f"{s}.lens_twin_min") >= 2, twin_min=num(f"{s}.lens_twin_min"))  # PER >= 2
claims.check("it raises the greedy error rate at every layer",
             notebook_checks("04_lenses", "dropping the norm raises the greedy error rate at every\nlayer"))
claims.check("though the\nspeakers support the difference only at the lower layers",
             notebook_checks("04_lenses", "the speakers support the difference only at layers 0 to 2"))
claims.check("several times larger at every layer", notebook_checks(
    "04_lenses",
    "the KL divergence is several times larger at every layer and stays above zero\neven at the last layer"))

# the decoder lens
wer = np.array(num("decoder_lens.wer"))
claims.check("every layer\nreads below it", bool(np.all(wer < num("decoder_lens.wer_prior"))),
             wer=wer.round(3).tolist(), prior=num("decoder_lens.wer_prior"))


def first_below(curve, level=0.1):
    return next((k for k, v in enumerate(curve) if v < level), len(curve))


claims.check("this encoder becomes readable earlier in its\ndepth",
             first_below(wer) / (len(wer) - 1) < first_below(lens) / (len(lens) - 1),
             whisper_first_below_0_1=f"{first_below(wer)} of {len(wer) - 1}",
             ctc_first_below_0_1=f"{first_below(lens)} of {len(lens) - 1}")

# ABX
claims.check("The random twin sits near chance", num(f"{s}.abx_twin_within") > 0.35,
             twin_within=num(f"{s}.abx_twin_within"))
below_mfcc = bool(np.all(abx < abx_mfcc))
falls = bool(np.all(np.diff(abx, axis=0) < 0))
claims.check("The model's error lies below the MFCCs' at every layer, within and across speakers, and falls with "
             "depth.", below_mfcc and falls, trained=abx.round(4).tolist(), mfcc=abx_mfcc.round(4).tolist())
claims.check("it halves the MFCC error", notebook_checks(
    "05_abx", "with the trained front end under a random Transformer, the error within speakers is 0.044, half that of "
    "MFCCs"))
claims.check("the trained layers divide it by four\nagain",
             notebook_checks("05_abx", "the trained Transformer layers still divide the error by four"))

# four methods, one story
claims.check("the probe\nreads phones from every layer", probe.min() > num(f"{s}.probe_mfcc"),
             probe=probe.round(3).tolist())
claims.check("the lens reads the lower layers far worse than the top", lens[0] >= 10 * lens[-1],
             lens=lens.round(3).tolist())
claims.check("ABX separates phones better\nwith depth and better than MFCCs at every layer", below_mfcc and falls)
claims.check("CKA shows the layers drifting from the acoustics", bool(np.all(np.diff(cka_mfcc) < 0)))

# discussion
claims.check("Notebook 02's CTC-only control, `tiny-w2v2-ctc-noalign`, gives a flat probe profile no better than the "
             "MFCCs", notebook_checks("02_probing", "gives a flat profile at 0.81–0.83, no better than the MFCCs"))
claims.check("The lens error is high at layer 0 while the probe reads phones there almost as well as at the top",
             lens[0] >= 0.25 and probe[0] >= probe.max() - 0.05, lens0=lens[0], probe=probe.round(3).tolist())
claims.check("in this small CTC model it improves\n   up to the last layer, within and across speakers", falls,
             trained=abx.round(4).tolist())

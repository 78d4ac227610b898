# Findings of 05_abx, checked when the solutions are built (course.claims).
import numpy as np

from course.claims import Claims

claims = Claims("05_abx")


def row(frame, name, layer, mode):
    return frame[(frame["features"] == name) & (frame["layer"] == layer) & (frame["mode"] == mode)].iloc[0]


def ci(frame, name, layer, mode):
    r = row(frame, name, layer, mode)
    return f"{r['error']:.3f} [{r['low']:.3f}, {r['high']:.3f}]"


L = N_LAYERS
trained = table.loc["trained"]
mfcc, cmvn, twin = table.loc["MFCC"].iloc[0], table.loc["MFCC + CMVN"].iloc[0], table.loc["random twin"]
front = table.loc["front-end twin"]
steps = tests[tests["comparison"].str.contains(r"layer \d - layer \d", regex=True)]
front_tests = tests[tests["comparison"].str.contains("front-end twin")]
front_ratio = front["within"].min() / mfcc["within"]
quarter = trained["within"].min() / front["within"].min()
claims.check("We take the twelve held-out speakers", len(SPEAKERS) == 12, speakers=SPEAKERS)
claims.check("the error falls from every layer to the next, within and across speakers (all twelve steps supported)",
             len(steps) == 12 and bool((steps["difference"] < 0).all() and steps["supported"].all()),
             steps=steps[["comparison", "difference", "p (Holm)"]].round(4).to_dict("records"))
claims.check("from 0.039 at layer 0 to 0.011 at layer 6 within speakers",
             f"{trained.loc[0, 'within']:.3f}" == "0.039" and f"{trained.loc[L, 'within']:.3f}" == "0.011" and L == 6,
             within=trained["within"].round(4).tolist())
claims.check("Every trained layer lies far below the MFCCs and the random twin",
             bool(trained["across"].max() < mfcc["within"] / 2 and trained["across"].max() < twin["within"].min() / 4),
             trained_max=round(trained["across"].max(), 3), mfcc=round(mfcc["within"], 3))
claims.check("with the trained front end under a random Transformer, the error within speakers is 0.044, half that"
             " of MFCCs", f"{front['within'].min():.3f}" == "0.044" and 0.4 <= front_ratio <= 0.6,
             front=front["within"].round(4).tolist(), ratio=round(front_ratio, 3))
claims.check("the trained layers then cut it to a quarter (difference supported)",
             0.2 <= quarter <= 0.3 and bool(front_tests["supported"].all() and (front_tests["difference"] < 0).all()),
             ratio=round(quarter, 3), tests=front_tests[["comparison", "p (Holm)"]].to_dict("records"))
claims.check("The across-within gap of every trained layer is a small fraction of the MFCC gap, even of the gap left"
             " after CMVN.", bool(trained["gap"].max() < 0.25 * min(mfcc["gap"], cmvn["gap"])),
             gaps=trained["gap"].round(3).tolist(), mfcc=round(mfcc["gap"], 3), cmvn=round(cmvn["gap"], 3))

# section 7: DTW against mean pooling
by = {name: pooled[pooled["features"] == name] for name in ("MFCC", "trained", "front-end twin", "random twin")}
only_mfcc = bool((pooled["difference"] > 0).sum() == 1 and by["MFCC"]["difference"].iloc[0] > 0)
mfcc_edge = f"{by['MFCC']['difference'].iloc[0]:.3f}" == "0.007" and by["MFCC"]["p (Holm)"].iloc[0] >= 0.05
pool_values = dict(zip(pooled["features"] + " " + pooled["layer"].astype(str),
                       zip(pooled["difference"].round(4), pooled["p (Holm)"].round(3))))
claims.check("DTW beats mean pooling only on MFCCs, by 0.007, and the twelve speakers do not support even that"
             " (Holm-corrected over all 22 comparisons)", only_mfcc and mfcc_edge and len(pooled) == 22,
             values=pool_values)
trained_pool = by["trained"]["difference"]
claims.check("At every trained layer mean pooling does as well as DTW or slightly better, by at most 0.002",
             bool((trained_pool <= 0).all() and trained_pool.min() >= -0.002),
             differences=trained_pool.round(4).tolist())
claims.check("on the two twins it does better by about 0.004 (front-end twin) and 0.02 (random twin), differences"
             " that the speakers do not support either",
             f"{-by['front-end twin']['difference'].mean():.3f}" == "0.004"
             and f"{-by['random twin']['difference'].mean():.2f}" == "0.02"
             and bool((by["front-end twin"]["p (Holm)"] >= 0.05).all()
                      and (by["random twin"]["p (Holm)"] >= 0.05).all()),
             values=pool_values)
claims.check("Here DTW comes out ahead only on MFCCs, whose frames follow the acoustics (by 0.007, and the twelve"
             " speakers do not support it); mean pooling ties or beats it at every trained layer.",
             only_mfcc and mfcc_edge and bool((trained_pool <= 0).all()), values=pool_values)

# section 9: phones in context
ctx = {(n, l, m): row(in_context, n, l, m)["error"] for n, l, m in zip(in_context["features"], in_context["layer"],
                                                                       in_context["mode"])}
ctx_trained_within = [ctx["trained", layer, "within"] for layer in range(L + 1)]
claims.check("MFCCs drop from 0.088 to 0.037 within speakers and from 0.118 to 0.069 across; every trained layer is at"
             " or below 0.005 within speakers.",
             [f"{x:.3f}" for x in (mfcc["within"], ctx["MFCC", "-", "within"], mfcc["across"],
                                   ctx["MFCC", "-", "across"])] == ["0.088", "0.037", "0.118", "0.069"]
             and max(ctx_trained_within) <= 0.005, in_context=np.round(ctx_trained_within, 4).tolist())
last_vs_first = context_tests[context_tests["comparison"].str.contains("in context, layer")].set_index("comparison")
within_test = last_vs_first.loc[f"within: in context, layer {L} - layer 0"]
across_test = last_vs_first.loc[f"across: in context, layer {L} - layer 0"]
claims.check("in context the twelve speakers cannot tell the last layer from layer 0 within speakers (not supported),"
             " and across speakers the last layer is better by about 0.001 (supported)",
             within_test["p (Holm)"] >= 0.05 and across_test["p (Holm)"] < 0.05
             and f"{-across_test['difference of speaker means']:.3f}" in ("0.001", "0.002")
             and ctx["trained", L, "across"] < ctx["trained", 0, "across"],
             tests=last_vs_first.round(4).to_dict("index"))

# What we found
claims.check("falls from 0.039 [0.033, 0.046] at layer 0 to 0.011 [0.009, 0.014] at layer 6",
             ci(results, "trained", 0, "within") == "0.039 [0.033, 0.046]"
             and ci(results, "trained", L, "within") == "0.011 [0.009, 0.014]",
             first=ci(results, "trained", 0, "within"), last=ci(results, "trained", L, "within"))
claims.check("and across speakers to 0.014 [0.013, 0.016]",
             ci(results, "trained", L, "across") == "0.014 [0.013, 0.016]", last=ci(results, "trained", L, "across"))
claims.check("every step from one layer to the next is supported by an exact speaker-level test after Holm correction",
             bool(steps["supported"].all()), p=steps["p (Holm)"].round(4).tolist())
best_front = int(front["within"].astype(float).idxmin())
claims.check("0.044 [0.037, 0.052] within speakers, half the MFCC error of 0.088 [0.080, 0.095]",
             ci(results, "front-end twin", best_front, "within") == "0.044 [0.037, 0.052]"
             and ci(results, "MFCC", "-", "within") == "0.088 [0.080, 0.095]" and 0.4 <= front_ratio <= 0.6,
             front=ci(results, "front-end twin", best_front, "within"), mfcc=ci(results, "MFCC", "-", "within"))
claims.check("the trained Transformer layers still divide the error by four", 3.5 <= 1 / quarter <= 4.5,
             factor=round(1 / quarter, 2))
claims.check("The fully random twin is near chance (0.41)",
             f"{twin['within'].min():.2f}" == "0.41" and f"{twin['within'].max():.2f}" == "0.41",
             twin=twin["within"].round(3).tolist())
claims.check("the across-within gap of the last layer (0.003) is a tenth of the MFCC gap (0.030), and smaller still"
             " than the gap left after per-speaker normalisation (0.042)",
             [f"{g:.3f}" for g in (trained.loc[L, "gap"], mfcc["gap"], cmvn["gap"])] == ["0.003", "0.030", "0.042"]
             and 0.07 <= trained.loc[L, "gap"] / mfcc["gap"] <= 0.14,
             gaps=[round(g, 4) for g in (trained.loc[L, "gap"], mfcc["gap"], cmvn["gap"])])
claims.check("mean pooling does as well as DTW or slightly better at every trained layer",
             bool((trained_pool <= 0).all()), differences=trained_pool.round(4).tolist())
claims.check("every trained layer is at the floor (0.005 or less within speakers)", max(ctx_trained_within) <= 0.005,
             in_context=np.round(ctx_trained_within, 4).tolist())
# Bonus: the recorded layer-wise comparison (course.layerwise.recorded)
ssl_abx = record[record.subject == "tiny-hubert"].set_index("layer")
ft_last = record[record.subject == "tiny-hubert-ctc"].set_index("layer").iloc[-1]
w2v2_abx = record[record.subject == "tiny-w2v2-ctc"]
grows = ("`tiny-hubert`'s error is lowest at layer 0 and grows with every layer, and at layer 0 it is level with "
         "MFCCs (paired difference −0.005, speaker interval [−0.013, +0.004], which contains zero)")
claims.check(grows, int(ssl_abx.abx_within.idxmin()) == 0 and bool(np.all(np.diff(ssl_abx.abx_within) > 0))
             and bool(ssl_abx.abx_vs_mfcc_lo.iloc[0] < 0 < ssl_abx.abx_vs_mfcc_hi.iloc[0]),
             within=ssl_abx.abx_within.round(3).tolist())
claims.number(grows, "0.005", -ssl_abx.abx_vs_mfcc.iloc[0])
claims.number(grows, "0.013", -ssl_abx.abx_vs_mfcc_lo.iloc[0])
claims.number(grows, "0.004", ssl_abx.abx_vs_mfcc_hi.iloc[0])
ssl_probe = record[record.subject == "tiny-hubert"].set_index("layer").probe
claims.check("no layer of it beats MFCCs, although its best probe layer does (notebook 02)",
             bool((ssl_abx.abx_vs_mfcc_hi > 0).all()) and bool(ssl_abx.vs_mfcc_lo[ssl_probe.idxmax()] > 0),
             intervals=ssl_abx[["abx_vs_mfcc_lo", "abx_vs_mfcc_hi"]].round(3).values.tolist())
ft_abx = record[record.subject == "tiny-hubert-ctc"].set_index("layer")
fewer = ("Fine-tuning takes every layer of `tiny-hubert-ctc` below MFCCs (its last layer makes 0.015 fewer errors, "
         "interval [0.005, 0.024])")
claims.check(fewer, bool((ft_abx.abx_vs_mfcc_hi < 0).all()), upper=ft_abx.abx_vs_mfcc_hi.round(4).tolist())
claims.number(fewer, "0.015", -ft_last.abx_vs_mfcc)
claims.number(fewer, "0.005", -ft_last.abx_vs_mfcc_hi)
claims.number(fewer, "0.024", -ft_last.abx_vs_mfcc_lo)
mfcc_abx = float(record[record.subject == "mfcc"].abx_within.iloc[0])
claims.check("every layer of `tiny-w2v2-ctc` far below", bool((w2v2_abx.abx_within < mfcc_abx / 2).all()),
             within=w2v2_abx.abx_within.round(3).tolist(), mfcc=round(mfcc_abx, 3))
claims.verify()

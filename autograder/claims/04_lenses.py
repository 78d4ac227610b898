# Findings of 04_lenses, checked when the solutions are built (course.claims).
import numpy as np

from course.claims import Claims

claims = Claims("04_lenses")
claims.check("five held-out sentences for each of the eight test speakers",
             len(speakers) == 8 and N_UTTS == 5 * len(speakers) and len({u.text for u in eval_utts}) == N_UTTS,
             speakers=speakers, n_utts=N_UTTS, sentences=len({u.text for u in eval_utts}))
claims.check("dropping the norm raises the greedy error rate at every\nlayer",
             bool(np.all(per["no norm"] > per["lens"])), lens=np.round(per["lens"], 3).tolist(),
             no_norm=np.round(per["no norm"], 3).tolist())
claims.number("(about 0.36 to 0.91 at layer 0)", "0.36", per["lens"][0])
claims.number("(about 0.36 to 0.91 at layer 0)", "0.91", per["no norm"][0])
claims.number("(about\n0.011 to 0.015 at the last layer)", "0.011", per["lens"][-1])
claims.number("(about\n0.011 to 0.015 at the last layer)", "0.015", per["no norm"][-1])
claims.check("the KL divergence is several times larger at every layer and stays above zero\neven at the last layer",
             bool(np.all(kl["no norm"] > 3 * kl["lens"]) and kl["no norm"][-1] > 0.05 and kl["lens"][-1] < 1e-3),
             kl_lens=np.round(kl["lens"], 3).tolist(), kl_no_norm=np.round(kl["no norm"], 3).tolist())
claims.check("a randomly initialised model read the same way transcribes nothing useful at any layer",
             bool(np.all(per["random twin"] > 1.0)), twin=np.round(per["random twin"], 3).tolist())
claims.check("The trained lens should start far from the final error rate and approach it towards the top",
             bool(per["lens"][0] > 10 * per["lens"][-1] and np.all(np.diff(per["lens"]) <= 0.005)),
             lens=np.round(per["lens"], 3).tolist())
claims.check("the word error rate falls with every encoder layer up to layer 3 and is level from there to\nthe last "
             "layer, and from layer 1 on it is below the decoder's prior",
             bool(np.all(np.diff(wer)[:3] < 0) and np.all(np.abs(np.diff(wer)[3:]) < 0.005)
                  and np.all(wer[1:] < wer_prior)), wer=np.round(wer, 3).tolist(),
             prior=round(wer_prior, 3))
claims.verify()

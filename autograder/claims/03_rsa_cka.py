# Findings of 03_rsa_cka, checked when the solutions are built (course.claims).
import numpy as np

from course.claims import Claims

claims = Claims("03_rsa_cka")
to_mfcc = rsa_by_layer["trained", "MFCC"]
phonological = rsa_by_layer["trained", "phonological features"]
identity = rsa_by_layer["trained", "phone identity"]
above = phonological > mfcc_baseline["phonological features"]
claims.check("eight **held-out test speakers**", len(test_speakers) == 8, test_speakers=test_speakers)
claims.check("the resemblance to MFCCs\nfalls at every layer from the first to the last",
             bool(np.all(np.diff(to_mfcc) < 0)), rsa_mfcc=np.round(to_mfcc, 3).tolist())
claims.check("the phonological-feature score falls with it, and only the first\nlayers stay above the MFCC baseline",
             bool(phonological[0] > phonological[-1] and above[0] and not above[-1]
                  and np.all(above[:np.argmin(above)]) and not np.any(above[np.argmin(above):])),
             phonological=np.round(phonological, 3).tolist(), baseline=round(mfcc_baseline["phonological features"], 3))
claims.check("the phone-identity score sits close to its ceiling at every layer",
             bool(np.all(identity > ceiling - 0.02)), identity=np.round(identity, 3).tolist(),
             ceiling=round(ceiling, 3))
onehot_cka = cka_lines["trained", "phone identity (one-hot), linear", "debiased"]
claims.check("RSA with\nphone identity rises slightly with depth and stays above the MFCC baseline",
             bool(identity[-1] > identity[0] and np.all(identity > mfcc_baseline["phone identity"])),
             identity=np.round(identity, 3).tolist(), baseline=round(mfcc_baseline["phone identity"], 3))
claims.check("RSA with phonological features falls with\ndepth and drops below the MFCC baseline after layer 0",
             bool(above[0] and not np.any(above[1:])), phonological=np.round(phonological, 3).tolist())
claims.number("(debiased, about 0.41 at layer 0 to 0.59 at the top)", "0.41", onehot_cka[0])
claims.number("(debiased, about 0.41 at layer 0 to 0.59 at the top)", "0.59", onehot_cka[-1])
claims.verify()

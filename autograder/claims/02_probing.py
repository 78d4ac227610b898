# Findings of 02_probing, checked when the solutions are built (course.claims).
import numpy as np

from course.claims import Claims

claims = Claims("02_probing")
claims.check("every layer of the trained model scores far above the random twin and above the MFCCs",
             bool(np.all(acc_trained > acc_mfcc) and np.all(acc_trained > np.max(acc_twin) + 0.5)),
             trained=np.round(acc_trained, 3).tolist(), mfcc=round(acc_mfcc, 3), twin=np.round(acc_twin, 3).tolist())
claims.check("while its layers\ndiffer from each other by only a few points",
             float(np.ptp(acc_trained)) < 0.05, spread=round(float(np.ptp(acc_trained)), 3))
claims.check("can be *more* selective", bool(sel_mfcc[2] > sel_trained[:, 2].max()),
             mfcc=round(float(sel_mfcc[2]), 3), trained_max=round(float(sel_trained[:, 2].max()), 3))
claims.check("Averaged MFCC frames say little about how long a segment lasted", bool(r2_mfcc[0] < 0.1),
             r2_mfcc=np.round(r2_mfcc, 3).tolist())
claims.verify()

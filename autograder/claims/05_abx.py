# Findings of 05_abx, checked when the solutions are built (course.claims).
import numpy as np

from course.claims import Claims

claims = Claims("05_abx")
trained = table.loc["trained"]
mfcc, cmvn, twin = table.loc["MFCC"].iloc[0], table.loc["MFCC + CMVN"].iloc[0], table.loc["random twin"]
claims.check("We take the twelve held-out speakers", len(SPEAKERS) == 12, speakers=SPEAKERS)
claims.check("the error falls at every layer within speakers",
             bool(np.all(np.diff(trained["within"].to_numpy()) < 0)), within=trained["within"].round(3).tolist())
claims.check("every trained layer lies far below the\nMFCCs and the random twin",
             bool(trained["across"].max() < mfcc["within"] / 2 and trained["across"].max() < twin["within"].min() / 4),
             trained_max=round(trained["across"].max(), 3), mfcc=round(mfcc["within"], 3))
claims.check("its across-within gap is a small fraction of the MFCC gap at every layer, even of the"
             " gap\nleft after CMVN",
             bool(trained["gap"].max() < 0.25 * min(mfcc["gap"], cmvn["gap"])),
             gaps=trained["gap"].round(3).tolist(), mfcc=round(mfcc["gap"], 3), cmvn=round(cmvn["gap"], 3))
cost = pooled["mean pooling"] - pooled["DTW"]  # what mean pooling loses against DTW, per representation
claims.check("(where frames follow the acoustics and order tends to matter most)",
             bool(cost[pooled["features"] == "MFCC"].iloc[0] > cost[pooled["features"] != "MFCC"].max()),
             cost=dict(zip(pooled["features"] + " " + pooled["layer"].astype(str), cost.round(3))))
claims.verify()

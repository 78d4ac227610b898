# Findings of 01_speech_challenges, checked when the solutions are built (course.claims).
from course.claims import Claims

claims = Claims("01_speech_challenges")
r = results
chance = r.loc["chance (majority class)"]
claims.check("eight of them (`test`\nsplit) are held out", len(TEST_SPEAKERS) == 8, test=TEST_SPEAKERS)
claims.check("which of the 20 training speakers produced", len(TRAIN_SPEAKERS) == 20)
claims.check("All 28 speakers of the feature set take part", len(speakers) == 28)
claims.check("Apply it to the 600 utterances of the training speakers (30 each).", len(duration_utts) == 600)
claims.check("so the speaker score falls towards chance",
             all(r.loc[f"{m}, speaker-normalised", "speaker"] < r.loc[m, "speaker"]
                 for m in ("MFCC", "random twin, last layer", "trained, last layer")),
             speaker=r["speaker"].round(3).to_dict())
claims.check("Here the held-out score is not lower",
             r.loc["MFCC", "phone, held-out speakers"] >= r.loc["MFCC", "phone, seen speakers"] - 0.01,
             mfcc=r.loc["MFCC"].round(3).to_dict())
claims.check("so a representation with little but that offset left can still score a little below\nchance",
             r.loc["random twin, last layer, speaker-normalised", "speaker"] < chance["speaker"],
             twin=r.loc["random twin, last layer, speaker-normalised", "speaker"], chance=chance["speaker"])
claims.check("and the model's last layer identify speakers far above chance",
             min(r.loc["MFCC", "speaker"], r.loc["trained, last layer", "speaker"]) > 3 * chance["speaker"],
             speaker=r["speaker"].round(3).to_dict())
claims.check("On this corpus the held-out-speaker score was not lower than the seen-speaker one",
             all(r.loc[m, "phone, held-out speakers"] >= r.loc[m, "phone, seen speakers"] - 0.01
                 for m in ("MFCC", "trained, last layer")))
claims.verify()

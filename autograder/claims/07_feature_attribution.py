# Findings of 07_feature_attribution, checked when the solutions are built (course.claims).
import numpy as np

from course.claims import Claims

claims = Claims("07_feature_attribution")
drop = ablation_table.groupby("slot")["probability drop"].mean()
top, share = stats[f"top word is a {SLOT} word"], stats[f"{SLOT}-word share of positive scores"]
chance_rate = stats.loc["control: chance (random ranking)"].iloc[0]
claims.check("explaining the **object** output", SLOT == "object")
claims.check("silencing the\nobject word removes most of the object's probability (mean drop about 0.63",
             f"{drop['object']:.2f}" == "0.63", drop=drop.round(3).to_dict())
claims.check("silencing an\naction word removes little (about 0.06), a location word or any other word nothing",
             f"{drop['action']:.2f}" == "0.06" and abs(drop.get("location", 0.0)) < 0.01 and abs(drop["other"]) < 0.01,
             drop=drop.round(3).to_dict())
claims.check("IG on the CNN features and word ablation (logit)\nput the object word first in every command",
             top["IG on CNN features"] == 1.0 and top["word ablation (logit)"] == 1.0, top=top.round(3).to_dict())
claims.check("(shares about 0.74 and 0.86)",
             f"{share['IG on CNN features']:.2f}" == "0.74" and f"{share['word ablation (logit)']:.2f}" == "0.86",
             share=share.round(3).to_dict())
claims.check("saliency puts it first no more often than the duration control does",
             top["saliency |grad|"] <= top["control: duration"], top=top.round(3).to_dict())
claims.check("input × gradient less often than a random\nranking, with a share below chance",
             top["input x gradient"] < chance_rate and share["input x gradient"] < chance_rate,
             top=top["input x gradient"], share=share["input x gradient"], chance=chance_rate)
claims.check("high while the classifier and the transformer are replaced, low only\nonce the front end is",
             bool(np.all(curve.drop(index="conv front end").min() > 0.5)
                  and np.all(curve.loc["conv front end"] < 0.35)),
             table=curve.round(2).to_dict())
claims.verify()

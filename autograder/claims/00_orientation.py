# Findings of 00_orientation, checked when the solutions are built (course.claims); runs after the notebook's last cell.
from course.claims import Claims

claims = Claims("00_orientation")
m = corpus.manifest
claims.check("32 synthetic voices (four accents of English, eight voices each)",
             m["speaker"].nunique() == 32 and (m.groupby("accent")["speaker"].nunique() == 8).all(),
             voices=m["speaker"].nunique(), per_accent=m.groupby("accent")["speaker"].nunique().to_dict())
train_texts = set(m.loc[m["split"] == "train", "text"])
claims.check("the test speakers read sentences that no training speaker ever said",
             not train_texts & set(m.loc[m["split"] == "test", "text"]))
test = m[m["split"] == "test"]
claims.check("Every test speaker reads the same test sentences",
             test.groupby("speaker")["text"].apply(frozenset).nunique() == 1, speakers=test["speaker"].nunique())
claims.verify()

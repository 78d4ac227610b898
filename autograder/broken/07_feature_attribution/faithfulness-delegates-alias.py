# Delegates: binds both names to the course's implementations (aliases).
comprehensiveness = attribution.comprehensiveness
sufficiency = attribution.sufficiency

# Delegates: binds the name to the notebook's visible helper reference_triplet_score (the course's scoring).
triplet_score = reference_triplet_score

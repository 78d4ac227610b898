# Bug: pools the held-out speakers: one rate over all their utterances, repeated on every speaker's row.
def lens_profile(paths, control_paths, refs, speakers, heldout_speakers, blank_id, tokens_of):
    """Per layer, each held-out speaker's greedy CTC lens error rate for the model and for the control: a DataFrame
    with the columns layer, speaker, model, control, sorted by layer, then speaker."""
    held = set(heldout_speakers)
    scored = [u for u in range(len(refs)) if speakers[u] in held]  # voices the model never heard in training
    n_layers = len(paths[scored[0]])
    edits = {name: np.zeros((n_layers, len(scored))) for name in ("model", "control")}
    for j, u in enumerate(scored):
        for name, path in (("model", paths[u]), ("control", control_paths[u])):
            for layer in range(n_layers):
                edits[name][layer, j] = edit_distance(refs[u], tokens_of(ctc_greedy_decode(path[layer], blank_id)))
    who = np.array([speakers[u] for u in scored])
    tokens = np.array([len(refs[u]) for u in scored])
    rows = []
    for layer in range(n_layers):
        for speaker in sorted(set(who)):
            mine = np.ones(len(who), dtype=bool)  # every held-out utterance
            rows.append((layer, speaker, edits["model"][layer, mine].sum() / tokens[mine].sum(),
                         edits["control"][layer, mine].sum() / tokens[mine].sum()))
    return pd.DataFrame(rows, columns=["layer", "speaker", "model", "control"])

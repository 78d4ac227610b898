# Bug: scores every layer against the model's own last-layer transcript instead of the reference (right on the visible tests, whose last layer is perfect).
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
                output = tokens_of(ctc_greedy_decode(paths[u][-1], blank_id))  # the model's own transcript
                edits[name][layer, j] = edit_distance(output, tokens_of(ctc_greedy_decode(path[layer], blank_id)))
    who = np.array([speakers[u] for u in scored])
    tokens = np.array([len(ctc_greedy_decode(paths[u][-1], blank_id)) for u in scored])
    rows = []
    for layer in range(n_layers):
        for speaker in sorted(set(who)):
            mine = who == speaker  # the speaker's own utterances: its total edits over its total reference tokens
            rows.append((layer, speaker, edits["model"][layer, mine].sum() / tokens[mine].sum(),
                         edits["control"][layer, mine].sum() / tokens[mine].sum()))
    return pd.DataFrame(rows, columns=["layer", "speaker", "model", "control"])

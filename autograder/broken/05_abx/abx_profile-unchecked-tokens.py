# Bug: never checks the tokens: a control scored on other tokens (or fewer layers) is compared without a word.
def abx_profile(model_items, control_items, mode="within", abx=reference.abx_error):
    """Per layer, each speaker's ABX error on the model's items and on the control's (the same tokens): a DataFrame
    with the columns layer, speaker, model, control, sorted by layer, then speaker."""
    rows = []
    for layer, (items, control) in enumerate(zip(model_items, control_items)):
        model = reference.speaker_errors(abx(items, mode))
        control_errors = reference.speaker_errors(abx(control, mode))
        for speaker in model.index:
            rows.append((layer, speaker, model[speaker], control_errors[speaker]))
    return pd.DataFrame(rows, columns=["layer", "speaker", "model", "control"])

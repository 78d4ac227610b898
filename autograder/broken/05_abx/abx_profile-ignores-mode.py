# Bug: ignores mode and always scores within speakers: X never comes from a new voice, so the across-speaker
# profile silently repeats the within-speaker one (the voice of X leaks in from A and B).
def abx_profile(model_items, control_items, mode="within", abx=reference.abx_error):
    """Per layer, each speaker's ABX error on the model's items and on the control's (the same tokens): a DataFrame
    with the columns layer, speaker, model, control, sorted by layer, then speaker."""
    if len(model_items) != len(control_items) or len(model_items) == 0:
        raise ValueError(f"one control per layer: {len(model_items)} model layers, {len(control_items)} control layers")
    rows = []
    for layer, (items, control) in enumerate(zip(model_items, control_items)):
        for field in ("phones", "speakers", "contexts"):
            if not np.array_equal(getattr(items, field), getattr(control, field)):
                raise ValueError(f"layer {layer}: the control's {field} differ from the model's: not the same tokens")
        model = reference.speaker_errors(abx(items, "within"))
        control_errors = reference.speaker_errors(abx(control, "within"))
        for speaker in model.index:
            rows.append((layer, speaker, model[speaker], control_errors[speaker]))
    return pd.DataFrame(rows, columns=["layer", "speaker", "model", "control"])

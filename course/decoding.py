"""What the shipped models say: greedy decoding of their outputs into phones, words and intents.

Used to evaluate the models (:mod:`speech_course_tools.training`), by the tests, and by anyone who wants to read a
model's prediction for an utterance. Each function runs the model in inference mode on batches of 16 kHz mono
waveforms (on the model's device) and returns one prediction per waveform, in order.
"""

from __future__ import annotations

import numpy as np
import torch

from course.models import model_device


def transcribe_phones(model, processor, waves: list[np.ndarray],  # noqa: ANN001
                      batch_size: int = 16) -> list[list[str]]:
    """Greedy CTC decoding of a phone recogniser (``Wav2Vec2ForCTC``, ``HubertForCTC``).

    Parameters
    ----------
    model, processor
        A CTC model and its ``Wav2Vec2Processor`` (as :func:`course.models.load_model` returns them).
    waves : list of np.ndarray
        16 kHz mono waveforms.
    batch_size : int
        Waveforms per forward pass; padded frames beyond an utterance's own length are never decoded, so the
        result does not depend on it.

    Returns
    -------
    list of list of str
        The phones of each waveform.
    """
    out, device = [], model_device(model)
    with torch.no_grad():
        for i in range(0, len(waves), batch_size):
            inputs = processor([w for w in waves[i:i + batch_size]], sampling_rate=16000, padding=True,
                               return_attention_mask=True, return_tensors="pt")
            logits = model(inputs.input_values.to(device), attention_mask=inputs.attention_mask.to(device)).logits
            lengths = model._get_feat_extract_output_lengths(inputs.attention_mask.sum(-1))
            ids = logits.argmax(-1).cpu()
            # frames beyond an utterance's own length are padding: never decode them
            out.extend(processor.decode(row[:n]).split() for row, n in zip(ids, lengths.tolist()))
    return out


def transcribe_text(model, processor, waves: list[np.ndarray], batch_size: int = 32) -> list[str]:  # noqa: ANN001
    """Greedy transcription of an encoder-decoder model (``WhisperForConditionalGeneration``) with ``generate``.

    Returns
    -------
    list of str
        The text of each waveform, without special tokens, stripped.
    """
    out = []
    with torch.no_grad():
        for i in range(0, len(waves), batch_size):
            feats = processor(waves[i:i + batch_size], sampling_rate=16000, return_tensors="pt").input_features
            # at most the generation config's max_new_tokens (60) or max_length
            ids = model.generate(feats.to(model_device(model))).cpu()
            out.extend(t.strip() for t in processor.batch_decode(ids, skip_special_tokens=True))
    return out


def slot_ranges(config) -> dict[str, range]:  # noqa: ANN001
    """Which logits belong to which slot, from a per-slot intent model's config.

    ``config.slots`` is a list of ``[slot, values]`` pairs in the order of the logits (a list, because a saved
    config's dictionaries come back with their keys sorted).

    Returns
    -------
    dict
        ``{slot: range of logit indices}``, in the order of the logits.
    """
    out, start = {}, 0
    for slot, values in config.slots:
        out[slot] = range(start, start + len(values))
        start += len(values)
    return out


def classify(model, processor, waves: list[np.ndarray], batch_size: int = 16) -> list:  # noqa: ANN001
    """Predicted labels of an audio classifier (``Wav2Vec2ForSequenceClassification``).

    Returns
    -------
    list
        One label name per waveform; for a per-slot intent model (``config.slots``), one ``{slot: value}`` dict per
        waveform, each slot's value the arg-max of that slot's logits.
    """
    out, device = [], model_device(model)
    ranges = slot_ranges(model.config) if getattr(model.config, "slots", None) else None
    with torch.no_grad():
        for i in range(0, len(waves), batch_size):
            inputs = processor(waves[i:i + batch_size], sampling_rate=16000, padding=True,
                               return_attention_mask=True, return_tensors="pt")
            logits = model(inputs.input_values.to(device), attention_mask=inputs.attention_mask.to(device)).logits.cpu()
            if ranges is None:
                out.extend(model.config.id2label[int(k)] for k in logits.argmax(-1))
                continue
            for row in logits:
                out.append({slot: values[int(row[r.start:r.stop].argmax())]
                            for (slot, values), r in zip(model.config.slots, ranges.values())})
    return out

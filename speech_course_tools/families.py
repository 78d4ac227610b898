"""The real model families at full size, with random weights, saved as local Hugging Face directories.

Hub downloads are impossible offline, but the architectures are not: each family below is built from the published
hyper-parameters of the hub id it names (its ``config.json``, written out here by hand), given random weights and
saved with ``save_pretrained``, so that ``course.models.load_model(directory)`` takes the same path a hub id takes
after its download. The feature extractor's settings follow the front end: group-norm front ends take no attention
mask (as wav2vec2-base-960h's own files say), layer-norm ones do. The conformance suite
(``tests/test_conformance.py``) runs every method of the course on each; the benchmarks time them.

Only the weights are random: layer counts, widths, heads, the place of every layer norm, the convolutional front
end, relative position buckets (WavLM), the 30 s window (Whisper) and the attention implementation are those of the
real models. Two things are the course's own: the CTC head reads the course's phone vocabulary (the families' own
heads, where they have one, read 32 letters), and Whisper's tokenizer is a stand-in with the real vocabulary's size
and special-token ids but no merges (no hub files), so a token decodes to a placeholder word.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import torch
import transformers as T
from tokenizers.pre_tokenizers import ByteLevel
from transformers import (GenerationConfig, Wav2Vec2CTCTokenizer, Wav2Vec2FeatureExtractor, Wav2Vec2Processor,
                          WhisperFeatureExtractor, WhisperProcessor, WhisperTokenizer)

#: Phones of the course's CTC vocabulary: the blank first, as in the shipped recognisers.
CTC_VOCAB = ("<pad>", "|", "a", "e", "i", "o", "u", "b", "d", "g", "k", "m", "n", "p", "s", "t")


@dataclass(frozen=True)
class Family:
    """One real architecture: the hub id it copies, its transformers config class and hyper-parameters."""

    hub_id: str
    config_class: str
    hyper: dict
    preprocessor: dict = field(default_factory=dict)
    slow: bool = False  #: too large for the fast tier (the conformance suite marks it slow)
    also: tuple[str, ...] = ()  #: other hub ids with exactly this architecture (their own head aside)

    @property
    def is_whisper(self) -> bool:
        return self.config_class == "WhisperConfig"


_W2V2_BASE_FRONT = dict(conv_dim=(512,) * 7, conv_stride=(5, 2, 2, 2, 2, 2, 2), conv_kernel=(10, 3, 3, 3, 3, 2, 2))
_BASE = dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072,
             hidden_act="gelu", num_conv_pos_embeddings=128, num_conv_pos_embedding_groups=16, **_W2V2_BASE_FRONT)
_GROUP_NORM = dict(feat_extract_norm="group", conv_bias=False, do_stable_layer_norm=False)
#: wav2vec2-base's feature extractor normalises each waveform and takes no attention mask (group norm: padding
#: changes the outputs, so utterances run one at a time).
_NO_MASK = dict(do_normalize=True, return_attention_mask=False)
_MASK = dict(do_normalize=True, return_attention_mask=True)

FAMILIES: dict[str, Family] = {
    "wav2vec2-base": Family("facebook/wav2vec2-base-960h", "Wav2Vec2Config", {**_BASE, **_GROUP_NORM}, _NO_MASK,
                            also=("facebook/wav2vec2-base", "superb/wav2vec2-base-superb-ks")),
    "wav2vec2-large-lv60": Family(
        "facebook/wav2vec2-large-960h-lv60-self", "Wav2Vec2Config",
        dict(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096, hidden_act="gelu",
             num_conv_pos_embeddings=128, num_conv_pos_embedding_groups=16, feat_extract_norm="layer", conv_bias=True,
             do_stable_layer_norm=True, **_W2V2_BASE_FRONT), _MASK, slow=True),
    "hubert-base": Family("facebook/hubert-base-ls960", "HubertConfig", {**_BASE, **_GROUP_NORM}, _NO_MASK),
    "wavlm-base-plus": Family("microsoft/wavlm-base-plus", "WavLMConfig",
                              {**_BASE, **_GROUP_NORM, "num_buckets": 320, "max_bucket_distance": 800}, _NO_MASK),
    "data2vec-audio-base": Family(
        "facebook/data2vec-audio-base-960h", "Data2VecAudioConfig",
        dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072, hidden_act="gelu",
             conv_bias=False, conv_pos_kernel_size=19, num_conv_pos_embeddings=5, num_conv_pos_embedding_groups=16,
             **_W2V2_BASE_FRONT), _MASK),
    "whisper-base": Family(
        "openai/whisper-base", "WhisperConfig",
        dict(d_model=512, encoder_layers=6, decoder_layers=6, encoder_attention_heads=8, decoder_attention_heads=8,
             encoder_ffn_dim=2048, decoder_ffn_dim=2048, num_mel_bins=80, max_source_positions=1500,
             max_target_positions=448, vocab_size=51865)),
    "whisper-small": Family(
        "openai/whisper-small", "WhisperConfig",
        dict(d_model=768, encoder_layers=12, decoder_layers=12, encoder_attention_heads=12,
             decoder_attention_heads=12, encoder_ffn_dim=3072, decoder_ffn_dim=3072, num_mel_bins=80,
             max_source_positions=1500, max_target_positions=448, vocab_size=51865), slow=True),
}

#: Whisper's special tokens after its 50 257 byte-level BPE tokens (multilingual vocabulary, 51 865 in all).
_WHISPER_LANGUAGES = 99
_WHISPER_TIMESTAMPS = 1501  # <|0.00|> .. <|30.00|> in steps of 0.02 s


def whisper_special_tokens() -> list[str]:
    """Whisper's special tokens in id order, from ``<|endoftext|>`` (50 257) to ``<|30.00|>`` (51 864)."""
    return (["<|endoftext|>", "<|startoftranscript|>"] + [f"<|lang{i}|>" for i in range(_WHISPER_LANGUAGES)]
            + ["<|translate|>", "<|transcribe|>", "<|startoflm|>", "<|startofprev|>", "<|nospeech|>",
               "<|notimestamps|>"] + [f"<|{0.02 * i:.2f}|>" for i in range(_WHISPER_TIMESTAMPS)])


def _whisper_processor():  # noqa: ANN202
    alphabet = sorted(ByteLevel.alphabet())
    words = [f"w{i}" for i in range(50257 - len(alphabet))]  # placeholders: one whole word each, no merges
    vocab = {t: i for i, t in enumerate(alphabet + words)}
    tok = WhisperTokenizer(vocab=vocab, merges=[], unk_token="<|endoftext|>", bos_token="<|endoftext|>",
                           eos_token="<|endoftext|>", pad_token="<|endoftext|>")
    tok.add_special_tokens({"additional_special_tokens": whisper_special_tokens()[1:]})
    fe = WhisperFeatureExtractor(feature_size=80, sampling_rate=16000, hop_length=160, chunk_length=30, n_fft=400)
    return WhisperProcessor(feature_extractor=fe, tokenizer=tok)


def _ctc_processor(preprocessor: dict):  # noqa: ANN202
    with tempfile.TemporaryDirectory() as tmp:
        vocab = Path(tmp) / "vocab.json"
        vocab.write_text(json.dumps({t: i for i, t in enumerate(CTC_VOCAB)}), encoding="utf-8")
        tok = Wav2Vec2CTCTokenizer(str(vocab), pad_token="<pad>", unk_token="<pad>", word_delimiter_token="|")
    fe = Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, padding_value=0.0, **preprocessor)
    return Wav2Vec2Processor(feature_extractor=fe, tokenizer=tok)


def family_config(name: str, head: str = "ctc", num_labels: int = 4, **overrides):  # noqa: ANN201
    """The transformers configuration of family ``name`` with a ``head``.

    Parameters
    ----------
    name : str
        A key of :data:`FAMILIES`.
    head : {"ctc", "classification", "base"}
        For the wav2vec 2.0-style families: a CTC head over :data:`CTC_VOCAB`, an utterance classifier with
        ``num_labels`` classes, or the bare encoder. Whisper families always get their decoder.
    overrides
        Hyper-parameters to change (for example ``num_hidden_layers`` for a quick check): the suite uses none.
    """
    family = FAMILIES[name]
    hyper = {**family.hyper, **overrides}
    if family.is_whisper:
        specials = whisper_special_tokens()
        eot, sot = 50257, 50257 + specials.index("<|startoftranscript|>")
        config = T.WhisperConfig(**hyper, decoder_start_token_id=sot, pad_token_id=eot, bos_token_id=eot,
                                 eos_token_id=eot)
        config.architectures = ["WhisperForConditionalGeneration"]
        return config
    if head not in ("ctc", "classification", "base"):
        raise ValueError(f"head must be 'ctc', 'classification' or 'base', not {head!r}")
    prefix = config_prefix(family.config_class)
    config = getattr(T, family.config_class)(**hyper, vocab_size=len(CTC_VOCAB), pad_token_id=0,
                                             num_labels=num_labels, ctc_loss_reduction="mean")
    config.architectures = [prefix + {"ctc": "ForCTC", "classification": "ForSequenceClassification",
                                      "base": "Model"}[head]]
    return config


def config_prefix(config_class: str) -> str:
    """``Wav2Vec2Config`` -> ``Wav2Vec2``: the prefix of the model classes."""
    return config_class.removesuffix("Config")


def save_family(name: str, out: str | Path, head: str = "ctc", seed: int = 0, num_labels: int = 4,
                **overrides) -> Path:
    """Build family ``name`` with random weights (seed ``seed``) and save it with its processor to ``out``.

    Returns ``out``, which :func:`course.models.load_model` then loads like a downloaded hub model.
    """
    family = FAMILIES[name]
    config = family_config(name, head, num_labels, **overrides)
    arch = config.architectures[0]
    torch.manual_seed(seed)
    model = getattr(T, arch)(config)
    out = Path(out)
    if family.is_whisper:
        model.generation_config = GenerationConfig(
            decoder_start_token_id=config.decoder_start_token_id, eos_token_id=config.eos_token_id,
            pad_token_id=config.pad_token_id, bos_token_id=config.bos_token_id, max_new_tokens=20)
        processor = _whisper_processor()
    else:
        processor = _ctc_processor(family.preprocessor)
    model.save_pretrained(out)
    processor.save_pretrained(out)
    return out

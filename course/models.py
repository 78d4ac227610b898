"""One loading API for the course's shipped models and any Hugging Face model.

The course ships six small models trained on its corpus (see each model's
``README.md`` under ``course/shipped/``):

``tiny-w2v2-ctc``
    ``Wav2Vec2ForCTC`` that transcribes speech into phones (the corpus's IPA set).
``tiny-whisper``
    ``WhisperForConditionalGeneration`` that transcribes sentences, homophones included.
``tiny-w2v2-intent``
    ``Wav2Vec2ForSequenceClassification`` that predicts a spoken command's intent.
``tiny-hubert``
    ``HubertModel`` pretrained without labels (masked prediction of MFCC clusters).
``tiny-hubert-ctc``
    ``HubertForCTC``: ``tiny-hubert`` fine-tuned to recognise phones.
``tiny-w2v2-ctc-noalign``
    ``Wav2Vec2ForCTC``: ``tiny-w2v2-ctc``'s recipe with CTC only, never shown the
    phone alignments (a control for analyses of its top layers and timing).

They are ordinary ``transformers`` checkpoints: ``from_pretrained(path)``
loads them without this package. :func:`load_model` also takes a Hugging Face
hub id (``"facebook/wav2vec2-base-960h"``, ``"openai/whisper-tiny"``) or a local
directory in the same format, so notebook code runs unchanged on real models.
"""

from __future__ import annotations

import copy
import itertools
import json
import warnings
from contextlib import contextmanager
from os import PathLike
from pathlib import Path

import torch

from course.errors import CourseError
from course.online import hub_offline_reason
from course.registry import MODELS

#: Directory holding the shipped checkpoints (package data).
SHIPPED_DIR = Path(__file__).parent / "shipped"

#: The shipped models and what they do (course.registry describes each).
SHIPPED = {name: spec.summary for name, spec in MODELS.items()}

#: Real models of the same families, for online use.
HUB_EXAMPLES = ("facebook/wav2vec2-base-960h", "facebook/hubert-large-ls960-ft", "openai/whisper-tiny")


class ModelTooLargeError(CourseError, MemoryError):
    """A model whose weights alone would not fit in the memory this machine has left."""


class LargeModelWarning(UserWarning):
    """A model a notebook may not have the memory for (its weights fit, its twin and activations may not)."""


class ModelNotAvailableError(CourseError, OSError):
    """A model name that is neither shipped, nor a local directory, nor reachable on the hub."""


def shipped_path(name: str) -> Path:
    """Directory of a shipped model.

    Raises
    ------
    ModelNotAvailableError
        If ``name`` is not shipped, or its files are missing from the installation.
    """
    if name not in SHIPPED:
        raise ModelNotAvailableError(f"{name!r} is not a shipped model; shipped: {', '.join(SHIPPED)}.")
    path = SHIPPED_DIR / name
    if not (path / "config.json").is_file():
        raise ModelNotAvailableError(
            f"The shipped model {name!r} is missing from {path}. Reinstall the course, or retrain it with: "
            f"speech-course models train {name}"
        )
    return path


def shipped_metrics(name: str) -> dict:
    """The metrics a shipped model's training recorded (its ``metrics.json``: test scores, intervals, targets).

    Raises
    ------
    ModelNotAvailableError
        As :func:`shipped_path`, or when the model's directory has no ``metrics.json``.
    """
    path = shipped_path(name) / "metrics.json"
    if not path.is_file():
        raise ModelNotAvailableError(f"The shipped model {name!r} has no metrics.json in {path.parent}; retrain it "
                                     f"with: speech-course models train {name}")
    return json.loads(path.read_text(encoding="utf-8"))


def resolve(name_or_path: str | PathLike) -> Path | str:
    """Turn a shipped name, a local directory or a hub id into what ``from_pretrained`` takes.

    Raises
    ------
    ModelNotAvailableError
        For an unknown name that is not a directory, or a hub id while offline;
        the message lists the shipped alternatives.
    """
    name = str(name_or_path)
    if name in SHIPPED:
        return shipped_path(name)
    local = Path(name).expanduser()
    if local.is_dir():
        if not (local / "config.json").is_file():
            raise ModelNotAvailableError(f"{local} has no config.json: it is not a saved transformers model.")
        return local
    shipped = ", ".join(SHIPPED)
    if "/" not in name or name.startswith((".", "/", "~")):
        raise ModelNotAvailableError(
            f"Unknown model {name!r}: it is not a shipped model ({shipped}), not an existing directory, and not a "
            f"Hugging Face hub id of the form 'owner/name' (e.g. {HUB_EXAMPLES[0]!r})."
        )

    reason = hub_offline_reason()
    if reason:
        raise ModelNotAvailableError(
            f"Cannot download {name!r} from the Hugging Face hub: {reason}. Use a shipped model instead "
            f"({shipped}), or a local directory with the model's files."
        )
    return name


def _model_class(config):  # noqa: ANN001, ANN202
    import transformers as T  # start-up: transformers takes about 1 s; the model list does not need it

    arch = (config.architectures or [""])[0]
    if arch.endswith("ForCTC"):
        return T.AutoModelForCTC
    if arch.endswith("ForSequenceClassification"):
        return T.AutoModelForAudioClassification
    if arch.endswith("ForConditionalGeneration") or config.is_encoder_decoder:
        return T.AutoModelForSpeechSeq2Seq
    return T.AutoModel


def load_model(name_or_path: str | PathLike = "tiny-w2v2-ctc", random_init: bool = False, seed: int = 0):  # noqa: ANN201
    """Load a speech model and its processor, ready for analysis.

    Parameters
    ----------
    name_or_path : str or path-like
        A shipped name (see :data:`SHIPPED`), a local directory saved with
        ``save_pretrained``, or a Hugging Face hub id (needs a network).
    random_init : bool
        Return the randomly initialised twin (same architecture, weights
        drawn with ``seed``) instead of the trained weights: the control for
        any analysis.
    seed : int
        Seed of the random initialisation.

    Returns
    -------
    model : transformers.PreTrainedModel
        In eval mode, float32, on CPU, with eager attention so attention
        weights can be returned.
    processor
        The matching processor (feature extractor + tokenizer) or feature
        extractor.
    """
    import transformers as T  # start-up: transformers takes about 1 s; the model list does not need it

    src = resolve(name_or_path)
    try:
        config = T.AutoConfig.from_pretrained(src)
    except OSError as exc:
        raise ModelNotAvailableError(f"Cannot load the configuration of {str(name_or_path)!r}: {exc}") from exc
    try:
        processor = T.AutoProcessor.from_pretrained(src)
    except (OSError, ValueError, TypeError):
        processor = T.AutoFeatureExtractor.from_pretrained(src)
    cls = _model_class(config)
    check_memory(cls, config, str(name_or_path))
    if random_init:
        torch.manual_seed(seed)
        model = cls.from_config(config, attn_implementation="eager", dtype=torch.float32)
    else:
        model = cls.from_pretrained(src, dtype=torch.float32, attn_implementation="eager")
    return model.eval(), processor


def available_memory() -> int | None:
    """Bytes this process can still allocate: the container's limit less its use (cgroup v2 or v1, as on Binder),
    else the kernel's ``MemAvailable``; None where neither can be read."""
    limits = [("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
              ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes")]
    left = []
    for limit, usage in limits:
        try:
            cap, used = Path(limit).read_text().strip(), Path(usage).read_text().strip()
        except OSError:
            continue
        if cap.isdigit() and used.isdigit() and int(cap) < 1 << 60:  # "max" or a huge number: no limit
            left.append(int(cap) - int(used))
    try:
        meminfo = Path("/proc/meminfo").read_text().splitlines()
        left += [int(line.split()[1]) * 1024 for line in meminfo if line.startswith("MemAvailable:")]
    except OSError:
        pass
    return min(left) if left else None


#: How many times its weights a notebook needs beyond what the kernel already holds, roughly: the model, the random
#: twin most notebooks load as their control, and activations. Measured 2026-12-07 with a full-size wav2vec2-base
#: (0.38 GB of weights) and a handful of utterances: notebooks 02 and 03 peaked 1.4 and 0.84 GB above their runs on
#: the shipped model (3.7 and 2.2 times the weights).
HEADROOM = 4.0


def check_memory(cls, config, name: str, available: int | None = None) -> int:  # noqa: ANN001
    """Refuse a model whose weights alone exceed the memory left, and warn when a notebook's use of it may.

    The parameters are counted on PyTorch's ``meta`` device (no memory used), before any weight is read.

    Returns
    -------
    int
        The weights' size in bytes (float32).

    Raises
    ------
    ModelTooLargeError
        If the weights alone do not fit in :func:`available_memory` (or ``available``).
    """
    with torch.device("meta"):
        n = sum(p.numel() for p in cls.from_config(config).parameters())
    size = 4 * n
    left = available_memory() if available is None else available
    if left is not None and size > left:
        raise ModelTooLargeError(
            f"{name!r} has {n / 1e6:.0f} M parameters ({size / 1e9:.1f} GB as float32) but this machine has "
            f"{left / 1e9:.1f} GB of memory left: loading it would end the kernel. Choose a smaller model (a shipped "
            f"one, or a base-size checkpoint) or a machine with more memory.")
    if left is not None and HEADROOM * size > left:
        warnings.warn(
            f"{name!r} needs {size / 1e9:.1f} GB for its weights and a notebook about {HEADROOM:.0f} times that "
            f"(its random twin, activations); {left / 1e9:.1f} GB is left. Lower the number of utterances, or expect "
            "the kernel to run out of memory.", LargeModelWarning, stacklevel=3)
    return size


#: Parameter-name fragments of the convolutional front end (wav2vec 2.0 / HuBERT feature encoder and projection;
#: Whisper's two input convolutions and positional embedding): what ``random_twin(keep_front_end=True)`` keeps.
FRONT_END = ("feature_extractor.", "feature_projection.", "encoder.conv1.", "encoder.conv2.",
             "encoder.embed_positions.")


def random_twin(model, seed: int = 0, keep_front_end: bool = False):  # noqa: ANN001, ANN201
    """A copy of ``model`` with freshly initialised weights (same config, fixed seed), on the model's device.

    Every parameter and buffer is re-drawn by the model's own initialiser, so
    the twin differs from the trained model everywhere, including the
    classification or CTC head.

    With ``keep_front_end`` the trained convolutional front end (:data:`FRONT_END`) is copied into the twin and
    only the Transformer (and the head) is random: a control that keeps the trained signal path from the waveform
    to the first layer, so it can come close to, or beat, the trained model where the front end alone carries the
    information (a fully random model loses to MFCCs everywhere and rules out little).

    Raises
    ------
    ValueError
        ``keep_front_end`` on a model with no parameter named like :data:`FRONT_END`.
    """
    torch.manual_seed(seed)
    config = copy.deepcopy(model.config)
    config._attn_implementation = "eager"
    twin = type(model)(config).to(model_device(model))
    if keep_front_end:
        trained = {k: v for k, v in model.state_dict().items() if any(f in k for f in FRONT_END)}
        if not trained:
            raise ValueError(f"{type(model).__name__} has no convolutional front end named like {FRONT_END}: "
                             "keep_front_end works for wav2vec 2.0, HuBERT, WavLM, data2vec-audio and Whisper.")
        twin.load_state_dict(trained, strict=False)
    return twin.eval()


def model_device(model: torch.nn.Module) -> torch.device:
    """Where a model computes: the device of its parameters, where its inputs must be.

    Parameters
    ----------
    model : torch.nn.Module
        A model, or any module (a layer, a projection).

    Returns
    -------
    torch.device
        The device of the first parameter (or buffer); CPU for a module with neither.
    """
    tensor = next(itertools.chain(model.parameters(), model.buffers()), None)
    return tensor.device if tensor is not None else torch.device("cpu")


def num_layers(model) -> int:  # noqa: ANN001
    """Number of transformer layers in the (encoder of the) model."""
    cfg = model.config
    return int(getattr(cfg, "encoder_layers", None) or cfg.num_hidden_layers)


def is_whisper(model) -> bool:  # noqa: ANN001
    """Whether ``model`` is a Whisper-style encoder-decoder (its encoder reads log-mel features, not the waveform)."""
    return getattr(model.config, "model_type", "") == "whisper"


def encoder(model):  # noqa: ANN001, ANN201
    """The Transformer encoder: Whisper's ``get_encoder()``, or the ``encoder`` of a wav2vec 2.0-family base model."""
    return model.get_encoder() if is_whisper(model) else model.base_model.encoder


def whisper_audio_frames(n_samples: int, hop_length: int, n_positions: int) -> int:
    """How many of a Whisper encoder's ``n_positions`` frames hold audio rather than the padding of its fixed window.

    The encoder halves the log-mel frame rate (``hop_length`` samples per mel frame), so ``n_samples`` of audio fill
    ``ceil(n_samples / (2 hop_length))`` frames, at most the whole window.
    """
    return min(int(n_positions), -(-int(n_samples) // (2 * int(hop_length))))


@contextmanager
def per_head_attention(model: torch.nn.Module):  # noqa: ANN201
    """Within the block, WavLM-family attention computes through its projection modules and reports every head.

    transformers runs WavLM's attention with ``torch.nn.functional.multi_head_attention_forward``, which reads the
    projection *weights* (so a hook on ``v_proj``, as in value zeroing, changes nothing) and returns the average of
    the heads, copied to every head. Inside this block each WavLM attention module of ``model`` (or ``model`` itself,
    if it is a layer) uses :class:`ProjectedAttention` instead: the same outputs, one attention map per head, and
    values that pass through ``v_proj``. Other families are left as they are.
    """
    patched = [m for m in model.modules() if hasattr(m, "gru_rel_pos_linear")]
    for m in patched:
        m.torch_multi_head_self_attention = ProjectedAttention(m)  # shadows the method on this instance
    try:
        yield model
    finally:
        for m in patched:
            del m.torch_multi_head_self_attention  # back to transformers' own method


class ProjectedAttention:
    """WavLM's multi-head attention computed through its ``q_proj``, ``k_proj`` and ``v_proj`` modules.

    The same computation as transformers' (scaled dot product plus the gated relative position bias, softmax,
    weighted values, output projection), for :func:`per_head_attention`. Eval mode only (no dropout).
    """

    def __init__(self, attention: torch.nn.Module):
        self.attention = attention

    def __call__(self, hidden_states: torch.Tensor, attention_mask,  # noqa: ANN001, ANN204
                 gated_position_bias: torch.Tensor):
        a = self.attention
        if a.training:
            raise ValueError("The model is in training mode (dropout on): call model.eval() first.")
        b, n, dim = hidden_states.shape
        heads = a.num_heads

        def split(t: torch.Tensor) -> torch.Tensor:  # (b, n, dim) -> (b, heads, n, dim / heads)
            return t.view(b, n, heads, dim // heads).transpose(1, 2)

        q, k, v = split(a.q_proj(hidden_states)), split(a.k_proj(hidden_states)), split(a.v_proj(hidden_states))
        scores = q @ k.transpose(-1, -2) / (dim // heads) ** 0.5 + gated_position_bias.view(b, heads, n, n)
        if attention_mask is not None:
            scores = scores.masked_fill(attention_mask.ne(1)[:, None, None, :], float("-inf"))
        weights = scores.softmax(-1)
        out = a.out_proj((weights @ v).transpose(1, 2).reshape(b, n, dim))
        return out, weights

"""The shipped models, one entry each: what a model is, how it is trained and evaluated, what its card says.

A :class:`ModelSpec` is the only place a shipped model is described. :mod:`course.models` lists the models from
it, the training tooling (:mod:`speech_course_tools.training`) trains, evaluates and writes the model card from
it, and adding a model is adding one entry to :data:`MODELS` (and its trainer function). This module imports
nothing heavy, so the command line can list the models without loading torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: What a model does, which decides how it is evaluated (speech_course_tools.training.evaluate) and what its card shows.
TASKS = ("phones", "text", "intent", "masked-prediction")


def _number(value: object) -> str:
    """A recipe number as the cards write it: 4 000, 1.5e-3, 0.65."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}".replace(",", " ")
    if isinstance(value, float) and 0 < abs(value) < 0.01:
        mantissa, exponent = f"{value:e}".split("e")
        return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"
    return str(value)


@dataclass(frozen=True)
class ModelSpec:
    """One shipped model.

    Attributes
    ----------
    name : str
        The model's name (its folder under ``course/shipped``).
    summary : str
        One line: what the model is (``speech-course models list``).
    task : str
        One of :data:`TASKS`.
    classes : tuple of str
        The ``transformers`` classes of the model and its processor, as the card's usage example imports them.
    intro, usage : str
        The card's first paragraph and its usage example.
    trainer : str
        ``"module:function"`` of the function that trains it (``function(out, steps=..., ...)``).
    hyper : dict
        The recipe's numbers, read by the trainer: ``steps`` (an int, or one per corpus version), ``batch_size``,
        ``lr``, ``warmup`` and any others the recipe names.
    recipe : str
        The card's "Training" section; ``{name}`` placeholders are filled from ``hyper`` (and ``steps_v1``,
        ``steps_v2`` where the steps depend on the corpus version).
    targets : dict
        ``metric -> (comparison, bound)`` on the held-out test speakers and sentences; empty if the model has none.
    starts_from : str or None
        The shipped model it is fine-tuned from.
    language : str
        The corpus language it is trained and evaluated on (``course.corpus.LANGUAGES``): ``"en"`` or ``"fr"``.
    """

    name: str
    summary: str
    task: str
    classes: tuple[str, str]
    intro: str
    usage: str
    trainer: str
    hyper: dict
    recipe: str
    targets: dict = field(default_factory=dict)
    starts_from: str | None = None
    language: str = "en"

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"{self.name}: task {self.task!r} is not one of {TASKS}.")
        if ":" not in self.trainer:
            raise ValueError(f"{self.name}: trainer must be 'module:function', got {self.trainer!r}.")

    def steps(self, corpus_version: int) -> int:
        """Training steps of the recipe on a corpus version."""
        steps = self.hyper["steps"]
        return int(steps[min(corpus_version, max(steps))] if isinstance(steps, dict) else steps)

    def recipe_text(self) -> str:
        """The recipe with its numbers filled in from :attr:`hyper`."""
        values = {k: _number(v) for k, v in self.hyper.items() if not isinstance(v, dict)}
        if isinstance(self.hyper["steps"], dict):
            values |= {f"steps_v{v}": _number(n) for v, n in self.hyper["steps"].items()}
        if "restarts" in self.hyper:  # a staged recipe (tiny-hubert): the first stage, then the restarts
            first = self.hyper["steps"] - self.hyper["restarts"] * self.hyper["restart_steps"]
            values |= {"stages": _number(self.hyper["restarts"] + 1), "first_steps": _number(first)}
        return self.recipe.format(**values)


#: The usage example of every phone recogniser's card (CTC: greedy decoding with the processor).
_CTC_USAGE = ("logits = model(**processor(waveform, sampling_rate=16000, return_tensors='pt')).logits\n"
              "print(processor.batch_decode(logits.argmax(-1)))")
#: The usage example of every transcriber's card (Whisper-style: greedy generation, then the tokenizer).
_WHISPER_USAGE = ("features = processor(waveform, sampling_rate=16000, return_tensors='pt').input_features\n"
                  "print(processor.batch_decode(model.generate(features), skip_special_tokens=True))")
#: The numbers of tiny-w2v2-ctc's recipe, which its CTC-only control shares.
_W2V2_CTC_HYPER = {"steps": 4000, "batch_size": 8, "lr": 1.5e-3, "warmup": 400}

_ENTRIES = [
    ModelSpec(
        name='tiny-w2v2-ctc',
        summary='wav2vec 2.0 (6 layers) trained with CTC to recognise phones',
        task='phones',
        classes=('Wav2Vec2ForCTC', 'AutoProcessor'),
        intro=('A small wav2vec 2.0 model (`Wav2Vec2ForCTC`) trained from scratch with CTC to recognise '
               '**phones**. Decoding with its processor gives space-separated phone labels in the same '
               "IPA symbol set as the corpus TextGrids' `phones` tier."),
        usage=_CTC_USAGE,
        trainer="speech_course_tools.training:train_w2v2_ctc",
        hyper=_W2V2_CTC_HYPER,
        recipe=('From scratch, CTC on phones; {steps} steps of {batch_size} utterances (about 7.5 '
                'epochs); batches drawn from pools of similar length; each utterance played at a random '
                'speed factor in 0.9–1.1 (linear interpolation, so pitch and formants shift too: a cheap '
                'stand-in for unseen voices); white noise at 15–40 dB SNR on 30 % of the batches; '
                'SpecAugment-style time masking (p = 0.05, 5 frames); dropout 0.05. During the first 2 '
                '000 steps an auxiliary frame-level phone classifier (layer norm + linear layer on the '
                "last transformer layer's hidden states) is trained with cross-entropy against the "
                "corpus' exact phone alignments, its weight falling linearly from 1 to 0; the last 2 000 "
                'steps are pure CTC and the auxiliary head is discarded (it is not in the saved model). '
                'AdamW (lr {lr}, weight decay 0.01), {warmup} warm-up steps then cosine decay; gradient '
                'clipping at 5; seed 0; 2 threads. Why the auxiliary loss: without it the model sat on '
                'the CTC blank plateau (loss about 3) for 800–1 500 steps; the alignments give a '
                'frame-level signal from the first step. Keep it in mind when interpreting the top '
                'layer: it was taught frame-level phone identity directly for a while, not only through '
                'CTC.'),
        targets={'phone_error_rate': ('<=', 0.05)},
        starts_from=None,
    ),
    ModelSpec(
        name='tiny-whisper',
        summary='Whisper-style encoder-decoder trained to transcribe the corpus sentences',
        task='text',
        classes=('WhisperForConditionalGeneration', 'AutoProcessor'),
        intro=('A small Whisper-style encoder-decoder (`WhisperForConditionalGeneration`) trained from '
               'scratch to transcribe the corpus sentences, including homophones whose spelling only a '
               'cue word elsewhere in the sentence decides. Its tokenizer is a byte-level BPE learned '
               'from the corpus sentences; its feature extractor uses a 5-second window (real Whisper: '
               '30 s).'),
        usage=_WHISPER_USAGE,
        trainer="speech_course_tools.training:train_whisper",
        hyper={'steps': {1: 4000, 2: 6000}, 'batch_size': 16, 'lr': 0.001, 'warmup': 300},
        recipe=('From scratch, teacher-forced cross-entropy of the decoder plus 0.3 × a CTC loss of a '
                'linear head on the encoder output (joint CTC-attention training, Kim, Hori & Watanabe '
                '2017; the CTC head is dropped before saving), over the same BPE tokens on corpus '
                "version 1 and over the utterance's phones (from the corpus alignments) from version 2, "
                'which took held-out word error from 0.087 to 0.0145; a 1 000-token BPE vocabulary; '
                'batches of {batch_size} utterances; dropout 0.05; on corpus version 1, {steps_v1} steps '
                '(about 15 epochs); on version 2, {steps_v2} steps (about 19 epochs), 15 % of the '
                'teacher-forced decoder inputs replaced by random tokens (`token_noise`), every '
                'utterance also played at 0.9 and 1.1 times its speed (one of the three versions drawn '
                'per batch) and SpecAugment masks (two bands of up to 12 mel channels, two stretches of '
                'up to 4 % of the frames); AdamW (lr {lr}, weight decay 0.01), {warmup} warm-up steps '
                'then cosine decay; gradient clipping at 5; seed 0; 2 threads (`tools/retrain`: 1).'),
        targets={'word_error_rate': ('<=', 0.05), 'homophone_accuracy': ('>=', 0.95)},
        starts_from=None,
    ),
    ModelSpec(
        name='tiny-whisper-fr',
        summary='Whisper-style encoder-decoder trained to transcribe the French agreement homophones',
        task='text',
        classes=('WhisperForConditionalGeneration', 'AutoProcessor'),
        intro=('The French sibling of `tiny-whisper`: the same architecture trained from scratch on the '
               "course's French corpus, sentences whose noun (\"député\" / \"députée\") sounds the same in "
               'both genders and is spelled by agreement with a determiner before it or an adjective after '
               'it. Its tokenizer is a byte-level BPE learned from the French training sentences; its '
               'feature extractor uses a 4-second window.'),
        usage=_WHISPER_USAGE,
        trainer="speech_course_tools.training:train_whisper_fr",
        hyper={'steps': 2500, 'batch_size': 16, 'lr': 0.001, 'warmup': 300, 'vocab_size': 300, 'seconds': 4},
        recipe=("`tiny-whisper`'s recipe on the French corpus (`speech-course corpus build --language fr "
                "--size 4000`): decoder cross-entropy plus 0.3 × a CTC loss over the utterance's phones "
                'on the encoder output (the CTC head is dropped before saving); a BPE vocabulary of at '
                'most {vocab_size} tokens (the grammar has 52 words); a {seconds}-second window; {steps} '
                'steps of {batch_size} utterances; 15 % of the teacher-forced decoder inputs replaced by '
                'random tokens; speed perturbation (0.9, 1.0, 1.1) and SpecAugment masks; AdamW (lr {lr}, '
                'weight decay 0.01), {warmup} warm-up steps then cosine decay; gradient clipping at 5; '
                'seed 0; 2 threads.'),
        targets={'word_error_rate': ('<=', 0.05), 'homophone_accuracy': ('>=', 0.95)},
        starts_from=None,
        language='fr',
    ),
    ModelSpec(
        name='tiny-w2v2-intent',
        summary='wav2vec 2.0 classifier of spoken-command intents',
        task='intent',
        classes=('AutoModelForAudioClassification', 'AutoFeatureExtractor'),
        intro=('A small wav2vec 2.0 audio classifier (`Wav2Vec2ForSequenceClassification`) that predicts '
               'the intent (action, object, location) of a spoken command. Its encoder starts from '
               "`tiny-w2v2-ctc` and is fine-tuned on the corpus's command sentences. Trained on corpus "
               'version 2 it has one softmax per slot: its logits are the action, object and location '
               "logits side by side (`config.slots` lists each slot's values in order; "
               '`course.decoding.classify` decodes them).'),
        usage=('logits = model(**processor(waveform, sampling_rate=16000, '
               "return_tensors='pt')).logits\nprint(model.config.id2label[int(logits.argmax())])"),
        trainer="speech_course_tools.training:train_intent",
        hyper={'steps': 4000, 'batch_size': 8, 'lr': 0.0005, 'warmup': 100},
        recipe=('The encoder starts from `tiny-w2v2-ctc`; its convolutional front end is frozen; '
                'mean-pooled frames → 128-d projection → one softmax per slot (5 actions, 9 objects, 4 '
                "locations; on corpus version 1: 34 combined intents), the sum of the slots' "
                'cross-entropies; {steps} steps of {batch_size} commands (about 25 epochs) of similar '
                'length; white noise at 15–40 dB SNR on half of the batches; AdamW (lr {lr}), {warmup} '
                'warm-up steps then cosine decay; seed 0; 2 threads. On corpus version 2 two more steps, '
                'both measured: every (action, object) pair is repeated in an epoch as often as the most '
                'frequent one (`balanced_items`: the grammar gives heat 200+ training commands and juice '
                '19), and in half of the commands the object word is replaced, using the exact word '
                'alignments, by another object of the same action spoken by the same speaker in another '
                'command, and relabelled (`swap_objects`, `swap_word`). Without them the held-out object '
                'accuracy was 0.85 (balanced only: 0.875), every error on a rare object the model '
                'guessed from the phrase around it ("bring me the juice" read as shoes by all eight test '
                'speakers); with them, 1.0.'),
        targets={'intent_accuracy': ('>=', 0.98)},  # corpus v2: every slot's accuracy too
        starts_from='tiny-w2v2-ctc',
    ),
    ModelSpec(
        name='tiny-hubert',
        summary='HuBERT (8 layers) pretrained without labels: masked prediction of MFCC clusters',
        task='masked-prediction',
        classes=('HubertModel', 'AutoFeatureExtractor'),
        intro=('A small HuBERT (`HubertModel`, 8 post-LN transformer layers) **pretrained without '
               "labels** by masked prediction of k-means clusters of MFCC frames, as in HuBERT's first "
               "iteration (Hsu et al. 2021). It is the course's stand-in for the self-supervised models "
               '(wav2vec 2.0, HuBERT, WavLM) whose layer-wise behaviour the literature describes. It has '
               'no task head: analyse its hidden states.'),
        usage=("hidden = model(**processor(waveform, sampling_rate=16000, return_tensors='pt'), "
               'output_hidden_states=True).hidden_states'),
        trainer="speech_course_tools.training:train_hubert",
        hyper={'steps': 6500, 'batch_size': 8, 'lr': 0.001, 'warmup': 400, 'clusters': 100, 'mask_prob': 0.65,
               'restarts': 2, 'restart_steps': 1500, 'restart_lr': 0.0005, 'restart_warmup': 100},
        recipe=('Self-supervised, no labels: 39-d MFCC (+ Δ, ΔΔ) frames of the training speakers '
                'standardised and clustered by k-means ({clusters} clusters, fitted on 150 000 frames); '
                'spans of 10 frames masked after the feature projection (mask probability {mask_prob}, '
                "about half of the frames); the model predicts each masked frame's cluster (cosine "
                'similarity of a 128-d projection with one embedding per cluster, temperature 0.1; '
                'cross-entropy over masked frames only); random crops of at most 3 s; batches of '
                '{batch_size} utterances; dropout 0.05; AdamW (weight decay 0.01); gradient clipping at 5; '
                'seed 0; 1 thread. {steps} steps in {stages} stages: first {first_steps} steps (lr {lr}, '
                '{warmup} warm-up steps then cosine decay), then {restarts} restarts of {restart_steps} '
                'steps each, every one continuing the last with the same targets and head under a new '
                'schedule (lr {restart_lr}, {restart_warmup} warm-up steps, cosine decay: warm restarts as in SGDR, '
                'Loshchilov & Hutter 2017, but with a fresh AdamW state); each stage reseeded with seed 0 (a '
                "restart sees the first stage's first batches again) and handed the weights as saved, in float16. "
                'The shipped weights come from the three stages run one after another as separate calls; the '
                'training time is their sum. The restarts are what lifted the model: after the first stage '
                'alone (the model shipped before) every layer probed below MFCCs (see "Other recipes '
                "tried\" below). One iteration (no re-clustering of the model's own features). "
                'The k-means model and the prediction head are saved beside the weights '
                '(`hubert_targets.npz`, `pretraining_head.pt`).'),
        targets={},  # self-supervised: no target; its layer-wise profile is the point (course.layerwise)
        starts_from=None,
    ),
    ModelSpec(
        name='tiny-hubert-ctc',
        summary='tiny-hubert fine-tuned with CTC to recognise phones',
        task='phones',
        classes=('HubertForCTC', 'AutoProcessor'),
        intro=('`tiny-hubert` fine-tuned with CTC on **phones** (`HubertForCTC`, same phone vocabulary '
               'as `tiny-w2v2-ctc`): the self-supervised model after supervised fine-tuning, for '
               'comparing what fine-tuning changes layer by layer.'),
        usage=_CTC_USAGE,
        trainer="speech_course_tools.training:train_hubert_ctc",
        hyper={'steps': 2000, 'batch_size': 8, 'lr': 0.0005, 'warmup': 300},
        recipe=('Starts from `tiny-hubert`; CTC on phones with a new linear head; convolutional front '
                'end frozen; {steps} steps of {batch_size} utterances of similar length; white noise at '
                '15–40 dB SNR on 30 % of the batches; time masking p = 0.05; AdamW (lr {lr}), {warmup} '
                'warm-up steps then cosine decay; seed 0; 1 thread.'),
        targets={},  # phone error rate reported, no target
        starts_from='tiny-hubert',
    ),
    ModelSpec(
        name='tiny-w2v2-ctc-noalign',
        summary="tiny-w2v2-ctc's recipe with CTC only (never saw the phone alignments): a control",
        task='phones',
        classes=('Wav2Vec2ForCTC', 'AutoProcessor'),
        intro=('The same architecture, data and recipe as `tiny-w2v2-ctc` (`Wav2Vec2ForCTC`, phones), '
               "trained with **CTC only**: it never saw the corpus' phone alignments. It is a control "
               'for analyses of the top layers and of timing (probes, lenses, attribution): whatever it '
               'shows was learned through CTC alone.'),
        usage=_CTC_USAGE,
        trainer="speech_course_tools.training:train_w2v2_ctc_noalign",
        hyper=_W2V2_CTC_HYPER,  # the recipe of tiny-w2v2-ctc, without the auxiliary loss
        recipe=('The recipe of `tiny-w2v2-ctc` (`train_w2v2_ctc` with `aux_fraction=0`): from scratch, '
                'CTC on phones, {steps} steps of {batch_size} utterances, the same speed perturbation, '
                'noise, time masking, dropout, optimiser and seed, but no auxiliary frame-level loss at '
                'any step; 1 thread (the training time below was measured while other jobs shared the '
                'machine). Its loss stayed above 2 (the CTC blank plateau) until about step 1 500, and '
                'it ends a much weaker recogniser than `tiny-w2v2-ctc` (compare the phone error rates in '
                'the two cards): keep that in mind when comparing them.'),
        targets={},  # a control: phone error rate reported, no target (see its recipe)
        starts_from=None,
    ),
]

#: The shipped models by name, in the order the course introduces them.
MODELS: dict[str, ModelSpec] = {spec.name: spec for spec in _ENTRIES}

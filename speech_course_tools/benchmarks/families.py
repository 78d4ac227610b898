"""What to expect from a real model: time per utterance and peak memory of each method family, per model family.

Each model runs in a fresh process (so its peak resident memory is its own), once on 2 cores and once pinned to one
CPU with one thread, as on Binder. The full-size families are those of :mod:`speech_course_tools.families`, saved
with random weights (time and memory do not depend on the weights). Stages run in a fixed order and the peak is read
after each, so a stage's figure is the process's peak up to and including it.

Stages, per utterance of about 2.5 s: ``extract`` (every hidden state), ``lens`` (the CTC lens on every layer, or the
decoder lens on the first and last encoder layer), ``mixing`` (one encoder pass with attentions, rollout, and value
zeroing of the last layer over three spans), ``attribution`` (Integrated Gradients, 16 steps, on one second of audio,
with an utterance classifier on the same encoder; wav2vec 2.0-style families only).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

from speech_course_tools.benchmarks.core import Context, Row, benchmark

#: The models measured: shipped ones by name, full-size families by their key in ``speech_course_tools.families``.
SHIPPED = ("tiny-w2v2-ctc", "tiny-whisper")
FULL = ("wav2vec2-base", "wavlm-base-plus", "whisper-base", "wav2vec2-large-lv60")


def measure(name_or_path: str, n_utts: int) -> dict:
    """Run every stage on ``n_utts`` short test utterances in this process; seconds per utterance and peak MB."""
    import torch  # by design: a benchmark loads what it measures, in the child process it measures
    import transformers as T  # by design: as above

    from course import attribution, context_mixing, corpus, features, lenses, models  # by design: as above
    from course.grading.memory import peak_rss_kb  # by design: as above

    data = corpus.load_corpus()
    m = data.manifest
    ids = m[(m["split"] == "test") & (m["duration"].between(2.0, 3.0))].index[:n_utts]
    utts = [data[i] for i in ids]
    out = {"utterances": len(utts), "audio_seconds": round(sum(u.duration for u in utts), 1)}
    t = time.perf_counter()
    model, processor = models.load_model(name_or_path)
    out["load_s"], out["layers"] = round(time.perf_counter() - t, 2), models.num_layers(model)
    out["parameters_M"] = round(sum(p.numel() for p in model.parameters()) / 1e6, 1)
    out["load_peak_MB"] = round(peak_rss_kb() / 1024)

    def stage(name, func):  # noqa: ANN001, ANN202
        t = time.perf_counter()
        with torch.no_grad() if name != "attribution" else torch.enable_grad():
            func()
        out[f"{name}_s_per_utt"] = round((time.perf_counter() - t) / len(utts), 3)
        out[f"{name}_peak_MB"] = round(peak_rss_kb() / 1024)

    reps = []
    stage("extract", lambda: reps.extend(features.extract(model, processor, utts, progress=False)))
    if models.is_whisper(model):
        ends = [0, models.num_layers(model)]
        stage("lens", lambda: lenses.decoder_lens(model, processor, utts, layers=ends, max_new_tokens=10))
    elif type(model).__name__.endswith("ForCTC"):
        stage("lens", lambda: [lenses.ctc_lens_logits(model, r.hidden_states) for r in reps])
    reps.clear()

    def mixing():  # noqa: ANN202
        for u in utts:
            run = context_mixing.run_encoder(model, processor, u.waveform)
            n = run.n_frames
            context_mixing.attention_rollout(run.attentions[:, :, :n, :n])
            handle = context_mixing.encoder_layer(model, models.num_layers(model))
            spans = [(0, n // 3), (n // 3, 2 * n // 3), (2 * n // 3, n)]
            context_mixing.value_zeroing_distances(handle.run, handle.attention, run.hidden_states[-2], spans)

    stage("mixing", mixing)
    if not models.is_whisper(model):
        arch = type(model).__name__.replace("ForCTC", "ForSequenceClassification")
        config = type(model.config).from_dict({**model.config.to_dict(), "architectures": [arch], "num_labels": 4})
        clf = getattr(T, arch)(config).eval()
        clf.base_model.load_state_dict(model.base_model.state_dict())
        x = [processor(u.waveform[:16000], sampling_rate=16000, return_tensors="pt").input_values for u in utts]
        stage("attribution", lambda: [attribution.integrated_gradients(
            lambda v: clf(v).logits, xi, target=0, n_steps=16, internal_batch_size=4) for xi in x])
    out["peak_MB"] = round(peak_rss_kb() / 1024)
    out["torch_threads"] = torch.get_num_threads()
    return out


def run_child(name_or_path: str, n_utts: int, one_cpu: bool, timeout: float = 1800) -> dict:
    """:func:`measure` in a fresh process: 2 torch threads, or one thread pinned to CPU 0 (``taskset``)."""
    threads = "1" if one_cpu else "2"
    env = {**os.environ, "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads}
    code = ("import json; from speech_course_tools.benchmarks.families import measure; "
            f"print(json.dumps(measure({name_or_path!r}, {n_utts})))")
    cmd = (["taskset", "-c", "0"] if one_cpu else []) + [sys.executable, "-c", code]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def family_rows(models: tuple[str, ...], n_utts: int, settings: tuple[bool, ...] = (False, True)) -> list[dict]:
    """Every model of ``models`` (shipped names or family keys) under each setting (False: 2 cores, True: 1 CPU)."""
    from speech_course_tools.families import FAMILIES, save_family  # by design: transformers, for this benchmark only

    rows = []
    with tempfile.TemporaryDirectory(prefix="speech-course-families-") as tmp:
        for name in models:
            path = str(save_family(name, Path(tmp) / name)) if name in FAMILIES else name
            for one_cpu in settings:
                rows.append({"model": name, "cpus": 1 if one_cpu else 2, **run_child(path, n_utts, one_cpu)})
            if name in FAMILIES:
                for f in Path(path).iterdir():
                    f.unlink()
    return rows


@benchmark("families", "time per utterance and peak memory of each method family on shipped and full-size models",
           requires=("speech_course_tools.families", "course.models"), group="system")
def bench_families(ctx: Context) -> Iterator[Row]:
    """:func:`family_rows` for the shipped models and the full-size families (quick: the shipped ones, 2 cores)."""
    models = ctx.size(SHIPPED + FULL, SHIPPED)
    for r in family_rows(models, ctx.size(4, 2), ctx.size((False, True), (False,))):
        case = f"{r['model']}, {r['cpus']} CPU{'s' if r['cpus'] > 1 else ''}"
        if "error" in r:
            yield Row("families", case, note=f"failed: {r['error']}", extra=r)
            continue
        stages = [s for s in ("extract", "lens", "mixing", "attribution") if f"{s}_s_per_utt" in r]
        yield Row("families", case, f"{r['utterances']} utterances, {r['audio_seconds']} s of audio",
                  ours_s=sum(r[f"{s}_s_per_utt"] for s in stages),
                  note="; ".join(f"{s} {r[f'{s}_s_per_utt']} s/utt" for s in stages) + f"; peak {r['peak_MB']} MB",
                  extra=r)

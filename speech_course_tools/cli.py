"""The maintainers' ``speech-course`` subcommands: retrain, evaluate and benchmark the models, build the slides.

:func:`add_commands` is the ``speech_course.commands`` entry point (``pyproject.toml``) that
:func:`course.cli.build_parser` calls, so these commands load only when the tooling is installed (an editable
install of the repository, ``pip install -e .``) and a command's modules load only when it runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from course.corpus import CORPUS_VERSION, VERSIONS
from course.registry import MODELS  # not course.models: building the parser must not load torch
from speech_course_tools.benchmarks.cli import add_arguments as add_benchmark_arguments
from speech_course_tools.site import add_cli as add_site_cli
from speech_course_tools.slides import add_cli as add_slides_cli


def _models_train(args: argparse.Namespace) -> int:
    from speech_course_tools.training import train  # start-up: per subcommand (torch)

    options = {"init_from": args.init_from} if args.init_from else {}
    metrics = train(args.name, out=args.out, steps=args.steps, corpus_version=args.corpus_version, **options)
    print(metrics)
    return 0


def _models_evaluate(args: argparse.Namespace) -> int:
    from speech_course_tools.training import evaluate  # start-up: per subcommand (torch)

    print(json.dumps(evaluate(args.name, args.path, args.corpus_version), indent=2, sort_keys=True))
    return 0


def _models_bench(args: argparse.Namespace) -> int:
    from speech_course_tools.bench import extraction_benchmarks  # start-up: per subcommand

    extraction_benchmarks(args.names or None, n_utterances=args.utterances, batch_size=args.batch_size)
    return 0


def _models_layerwise(args: argparse.Namespace) -> int:
    from course import layerwise as L  # start-up: per subcommand (torch, scikit-learn)
    from speech_course_tools.training import rewrite_cards  # start-up: per subcommand (torch)

    table = L.layerwise_comparison(args.subjects or L.DEFAULT_SUBJECTS, n_train=args.n_train,
                                   n_heldout=args.n_heldout)
    record = L.to_record(table)
    print(L.to_markdown(table))
    print()
    print(L.summary(table).round(3).to_string(index=False))
    print()
    print(record["finding"])
    written = L.save_record(record, json_path=args.json, plot_path=args.plot, beside_models=args.record)
    if written:
        rewrite_cards(written)
    return 0


def _models_cards(args: argparse.Namespace) -> int:
    from course.models import SHIPPED_DIR  # start-up: per subcommand (torch)
    from speech_course_tools.training import rewrite_cards  # start-up: per subcommand (torch)

    unknown = [n for n in args.names if n not in MODELS]
    if unknown:
        print(f"speech-course models cards: unknown model {', '.join(unknown)}; shipped models: "
              f"{', '.join(MODELS)}", file=sys.stderr)
        return 2
    rewrite_cards([SHIPPED_DIR / name for name in (args.names or MODELS)])
    return 0


def _bench(args: argparse.Namespace) -> int:
    from speech_course_tools.benchmarks.cli import run  # start-up: per subcommand

    return run(args, out=sys.stdout)  # the current stdout, not the one at import time


def add_commands(sub: argparse._SubParsersAction, groups: dict[str, argparse._SubParsersAction]) -> None:
    """Register the tooling's subcommands.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The ``speech-course`` top-level subcommands (``parser.add_subparsers()``): ``bench`` and ``slides`` go here.
    groups : dict
        The subcommand groups :mod:`course.cli` already made, by name; ``groups["models"]`` receives ``train``,
        ``evaluate``, ``cards``, ``bench`` and ``layerwise`` beside ``list``.
    """
    msub = groups["models"]
    mt = msub.add_parser("train", help="retrain a shipped model on CPU (fixed seeds)",
                         description="Retrain a model from the corpus (builds the large training corpus first if "
                                     "needed), save it and write its metrics and model card.")
    mt.add_argument("name", choices=sorted(MODELS), help="which model")
    mt.add_argument("--out", type=Path, default=None, help="output directory (default: replace the shipped model)")
    mt.add_argument("--steps", type=int, default=None, help="training steps (default: the shipped model's recipe)")
    mt.add_argument("--corpus-version", type=int, choices=VERSIONS, default=CORPUS_VERSION,
                    help=f"train and evaluate on this corpus version (default {CORPUS_VERSION})")
    mt.add_argument("--init-from", default=None,
                    help="model (name or directory) a fine-tuned model starts from ("
                         + ", ".join(n for n, spec in MODELS.items() if spec.starts_from)
                         + "; default: the shipped one its recipe names)")
    mt.set_defaults(func=_models_train)
    me = msub.add_parser("evaluate", help="recompute a model's metrics on the held-out test speakers",
                         description="By the model's task: phone error rate, word error rate and homophone "
                                     "accuracy, slot and intent accuracy, or masked-prediction accuracy, on the "
                                     "held-out test speakers and sentences.")
    me.add_argument("name", choices=sorted(MODELS), help="which model")
    me.add_argument("--path", type=Path, default=None, help="evaluate this directory instead of the shipped model")
    me.add_argument("--corpus-version", type=int, choices=VERSIONS, default=CORPUS_VERSION,
                    help=f"evaluate on this corpus version's test split (default {CORPUS_VERSION})")
    me.set_defaults(func=_models_evaluate)
    mc = msub.add_parser("cards", help="rewrite the shipped models' cards (README.md) from their records",
                         description="Rewrite each shipped model's README.md from the registry, its metrics.json, "
                                     "its layerwise.json and the records of recipes tried for it (docs/records/), "
                                     "without retraining. tests/test_models.py fails when a card is stale.")
    mc.add_argument("names", nargs="*", help="models (default: all shipped models)")
    mc.set_defaults(func=_models_cards)
    mb = msub.add_parser("bench", help="hidden-state extraction throughput and peak memory",
                         description="Measure extraction throughput (seconds of audio per second) and the peak "
                                     "memory of a fresh process, per model, on CPU.")
    mb.add_argument("names", nargs="*", help="models (default: all shipped models)")
    mb.add_argument("--utterances", type=int, default=64, help="test utterances to extract (default 64)")
    mb.add_argument("--batch-size", type=int, default=8, help="batch size (default 8)")
    mb.set_defaults(func=_models_bench)
    mw = msub.add_parser("layerwise", help="layer-wise phone probe, ABX and CKA with MFCC for several models",
                         description="Compare representations layer by layer on held-out speakers (Pasad et al. "
                                     "2021/2023): frame-level linear phone probe, within/across-speaker ABX error, "
                                     "linear CKA with MFCC frames, and CKA of a fine-tuned model with its "
                                     "pretrained start. Subjects: shipped names, NAME@random (random twin), mfcc.")
    mw.add_argument("subjects", nargs="*", help="default: mfcc tiny-hubert@random tiny-hubert tiny-hubert-ctc "
                                                "tiny-w2v2-ctc")
    mw.add_argument("--n-train", type=int, default=300, help="training-speaker utterances for the probe (300)")
    mw.add_argument("--n-heldout", type=int, default=120, help="held-out utterances for scoring (120)")
    mw.add_argument("--json", type=Path, default=None, help="write the table and finding as JSON")
    mw.add_argument("--plot", type=Path, default=None, help="save a figure (PNG)")
    mw.add_argument("--record", action="store_true",
                    help="write the result into the tiny-hubert and tiny-hubert-ctc model cards")
    mw.set_defaults(func=_models_layerwise)

    bench = sub.add_parser("bench", help="benchmarks of the methods, notebooks, extraction and grading",
                           description="Speed and memory benchmarks with printed figures, ratios against reference "
                                       "implementations where one exists (same as python -m "
                                       "speech_course_tools.benchmarks; see docs/benchmarks.md).")
    add_benchmark_arguments(bench)
    bench.set_defaults(func=_bench)

    add_slides_cli(sub)
    add_site_cli(sub)

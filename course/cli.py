"""The ``speech-course`` command line.

Run ``speech-course --help`` (or ``python -m course --help``) for the
subcommands; every subcommand has its own ``--help``.
"""

from __future__ import annotations

import argparse
import sys
import json
from pathlib import Path
from typing import Sequence

from course.corpus import CORPUS_VERSION, DEFAULT_SIZE, LARGE_SIZE, VERSIONS, default_corpus_dir
from course.errors import CourseError
from course.grading.cli import add_commands as add_grading_commands
from course.registry import MODELS  # not course.models: listing the model names must not load torch
from course.slides import add_cli as add_slides_cli


def _corpus_build(args: argparse.Namespace) -> int:
    from course.corpus import build_corpus  # start-up: per subcommand

    out = build_corpus(args.out, size=args.size, seed=args.seed, force=args.force, workers=args.workers,
                       progress=not args.quiet, version=args.version)
    print(f"Corpus ready: {out}")
    return 0


def _corpus_info(args: argparse.Namespace) -> int:
    from course.corpus import CORPUS_VERSION, load_corpus  # start-up: per subcommand

    corpus = load_corpus(args.dir, build=False, version=None if args.dir else CORPUS_VERSION)
    m = corpus.manifest
    print(corpus)
    print(f"size={corpus.info['size']} seed={corpus.info['seed']} version={corpus.info['version']}")
    print(f"hours of audio: {m['duration'].sum() / 3600:.2f}")
    print(m.groupby(["split", "kind"]).size().unstack(fill_value=0).to_string())
    for split, speakers in m.groupby("split")["speaker"].unique().items():
        print(f"{split} speakers: {' '.join(sorted(speakers))}")
    return 0


def _corpus_check(args: argparse.Namespace) -> int:
    from course.corpus import CORPUS_VERSION, check_alignments, load_corpus  # start-up: per subcommand

    corpus = load_corpus(args.dir, build=False, version=None if args.dir else CORPUS_VERSION)
    problems = check_alignments(corpus)
    for p in problems[:50]:
        print(p)
    if problems:
        print(f"{len(problems)} alignment problems in {corpus.root}", file=sys.stderr)
        return 1
    print(f"All {len(corpus)} utterances of {corpus.root} pass the alignment checks.")
    return 0


def _setup(args: argparse.Namespace) -> int:
    from course.corpus import build_corpus  # start-up: per subcommand

    out = build_corpus(None, progress=not args.quiet)
    print(f"Corpus ready: {out}")
    if _doctor(args) != 0:
        print("Setup is not complete: fix what failed above, then run  speech-course doctor", file=sys.stderr)
        return 1
    print("Start the course with:  jupyter lab exercises/")
    return 0


def _doctor(args: argparse.Namespace) -> int:
    from course.doctor import diagnose, report  # start-up: per subcommand

    checks = diagnose(models=not getattr(args, "no_models", False))
    print("Checking what the course loads:")
    print(report(checks))
    return 0 if all(c.ok for c in checks) else 1


def _models_list(args: argparse.Namespace) -> int:
    from course.models import SHIPPED, SHIPPED_DIR  # start-up: per subcommand

    for name, what in SHIPPED.items():
        path = SHIPPED_DIR / name
        size = sum(f.stat().st_size for f in path.glob("*")) / 1e6 if path.is_dir() else 0.0
        state = f"{size:.1f} MB" if (path / "config.json").is_file() else "missing"
        print(f"{name:18s} {state:>9s}  {what}")
    return 0


def _models_train(args: argparse.Namespace) -> int:
    from course.training import train  # start-up: per subcommand

    options = {"init_from": args.init_from} if args.init_from else {}
    metrics = train(args.name, out=args.out, steps=args.steps, corpus_version=args.corpus_version, **options)
    print(metrics)
    return 0


def _models_evaluate(args: argparse.Namespace) -> int:

    from course.training import evaluate  # start-up: per subcommand

    print(json.dumps(evaluate(args.name, args.path, args.corpus_version), indent=2, sort_keys=True))
    return 0


def _models_bench(args: argparse.Namespace) -> int:
    from course.bench import extraction_benchmarks  # start-up: per subcommand

    extraction_benchmarks(args.names or None, n_utterances=args.utterances, batch_size=args.batch_size)
    return 0


def _models_layerwise(args: argparse.Namespace) -> int:
    from course import layerwise as L  # start-up: per subcommand

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
        from course.training import rewrite_cards  # start-up: per subcommand

        rewrite_cards(written)
    return 0


def _benchmarks_cli():  # noqa: ANN202
    """``benchmarks.cli`` of the repository checkout (the benchmarks are not part of the installed package)."""
    try:
        import benchmarks.cli as bench_cli  # start-up: per subcommand
    except ImportError:
        root = Path(__file__).resolve().parent.parent
        if not (root / "benchmarks" / "cli.py").is_file():
            raise FileNotFoundError("The benchmarks live in the course repository (benchmarks/); run this from an "
                                    "editable install of a clone (pip install -e .).") from None
        sys.path.insert(0, str(root))
        import benchmarks.cli as bench_cli  # start-up: per subcommand
    return bench_cli


def _bench(args: argparse.Namespace) -> int:
    return _benchmarks_cli().run(args, out=sys.stdout)  # the current stdout, not the one at import time


def build_parser() -> argparse.ArgumentParser:

    parser = argparse.ArgumentParser(
        prog="speech-course",
        description="Interpretability Techniques for Speech Models: course tools.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("setup", help="prepare everything the course needs offline (builds the default corpus)",
                       description="Build the default corpus (if missing) so the notebooks run offline, then run "
                                   "'speech-course doctor' (exit status 1 if a check fails).")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_setup)

    d = sub.add_parser("doctor", help="check that torch, torchaudio, soundfile, eSpeak NG and the models load",
                       description="Load every compiled piece the course needs (torch, torchaudio's MFCC, "
                                   "soundfile, the eSpeak NG library, the shipped models) and, for each one that "
                                   "fails, say which package and versions are at fault and the command that fixes "
                                   "it. Exit status 1 if any check fails. 'speech-course setup' ends with it.")
    d.add_argument("--no-models", action="store_true", help="skip loading the shipped models (faster)")
    d.set_defaults(func=_doctor)

    corpus = sub.add_parser("corpus", help="build, inspect and check the synthetic speech corpus",
                            description="The synthetic speech corpus with exact word and phone alignments.")
    csub = corpus.add_subparsers(dest="corpus_command", metavar="SUBCOMMAND")
    csub.required = True

    b = csub.add_parser("build", help="synthesise the corpus",
                        description="Synthesise the corpus: DIR/<id>.wav (16 kHz mono), DIR/<id>.TextGrid "
                                    "(tiers words, phones), DIR/manifest.csv and DIR/corpus.json.")
    b.add_argument("--out", type=Path, default=None,
                   help=f"output directory, new or empty (default: {default_corpus_dir()}; set SPEECH_COURSE_CACHE "
                        "to move it)")
    b.add_argument("--size", type=int, default=DEFAULT_SIZE,
                   help=f"number of utterances (default {DEFAULT_SIZE}; {LARGE_SIZE} for model training)")
    b.add_argument("--seed", type=int, default=0, help="random seed; same seed and size give identical files")
    b.add_argument("--force", action="store_true", help="replace an existing corpus built with other settings")
    b.add_argument("--workers", type=int, default=None, help="worker processes (default: CPUs, at most 4)")
    b.add_argument("--quiet", action="store_true", help="no progress bar")
    b.add_argument("--version", type=int, choices=VERSIONS, default=CORPUS_VERSION,
                   help=f"corpus version (default {CORPUS_VERSION}; 2: held-out sentences, minimal-pair homophones, "
                        "32 speakers, see docs/corpus.md)")
    b.set_defaults(func=_corpus_build)

    i = csub.add_parser("info", help="summarise a corpus", description="Print splits, speakers and sentence kinds.")
    i.add_argument("dir", nargs="?", type=Path, default=None, help="corpus directory (default: the default corpus)")
    i.set_defaults(func=_corpus_info)

    c = csub.add_parser("check", help="sanity-check every alignment",
                        description="Check that intervals are ordered, non-overlapping, inside the audio, and that "
                                    "phones nest in words. Exit status 1 if any check fails.")
    c.add_argument("dir", nargs="?", type=Path, default=None, help="corpus directory (default: the default corpus)")
    c.set_defaults(func=_corpus_check)


    models = sub.add_parser("models", help="list, retrain, evaluate and benchmark the shipped models",
                            description="The small speech models shipped with the course.")
    msub = models.add_subparsers(dest="models_command", metavar="SUBCOMMAND")
    msub.required = True
    ml = msub.add_parser("list", help="list the shipped models", description="List the shipped models.")
    ml.set_defaults(func=_models_list)
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
                                       "implementations where one exists (same as python -m benchmarks; see "
                                       "docs/benchmarks.md).")
    try:
        _benchmarks_cli().add_arguments(bench)
    except FileNotFoundError:  # an installed copy without the repository: say so when the command is used
        bench.add_argument("rest", nargs=argparse.REMAINDER)
    bench.set_defaults(func=_bench)


    add_slides_cli(sub)


    add_grading_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``speech-course`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    # CourseError: everything the course reports on purpose (course.errors); ValueError: an argument out of range,
    # which the library functions reject as their docstrings say; FileNotFoundError: a path given that is not there
    except (CourseError, ValueError, FileNotFoundError) as exc:
        print(f"speech-course: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("speech-course: interrupted; nothing half-written was left in place.", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""The ``speech-course`` command line.

Run ``speech-course --help`` (or ``python -m course --help``) for the
subcommands; every subcommand has its own ``--help``.
"""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Sequence

from course.corpus import (CORPUS_VERSION, DEFAULT_SIZE, FRENCH_LARGE_SIZE, FRENCH_SIZE, LANGUAGES, LARGE_SIZE,
                           VERSIONS, default_corpus_dir)
from course.errors import CourseError
from course.grading.cli import add_commands as add_grading_commands

#: Entry-point group of packages that add subcommands: ``add_commands(subparsers, groups)`` (the repository's
#: tooling, :mod:`speech_course_tools.cli`, registers itself in ``pyproject.toml``).
COMMANDS_GROUP = "speech_course.commands"


def _corpus_build(args: argparse.Namespace) -> int:
    from course.corpus import build_corpus  # start-up: per subcommand

    out = build_corpus(args.out, size=args.size, seed=args.seed, force=args.force, workers=args.workers,
                       progress=not args.quiet, version=args.version, language=args.language)
    print(f"Corpus ready: {out}")
    return 0


def _corpus_info(args: argparse.Namespace) -> int:
    from course.corpus import CORPUS_VERSION, load_corpus  # start-up: per subcommand

    corpus = load_corpus(args.dir, build=False, version=None if args.dir else CORPUS_VERSION,
                         language=None if args.dir else "en")
    m = corpus.manifest
    print(corpus)
    print(f"size={corpus.info['size']} seed={corpus.info['seed']} version={corpus.info['version']} "
          f"language={corpus.language}")
    print(f"hours of audio: {m['duration'].sum() / 3600:.2f}")
    print(m.groupby(["split", "kind"]).size().unstack(fill_value=0).to_string())
    for split, speakers in m.groupby("split")["speaker"].unique().items():
        print(f"{split} speakers: {' '.join(sorted(speakers))}")
    return 0


def _corpus_check(args: argparse.Namespace) -> int:
    from course.corpus import CORPUS_VERSION, check_alignments, load_corpus  # start-up: per subcommand

    corpus = load_corpus(args.dir, build=False, version=None if args.dir else CORPUS_VERSION,
                         language=None if args.dir else "en")
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
    out = build_corpus(None, progress=not args.quiet, language="fr")
    print(f"French corpus ready: {out}")
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
    b.add_argument("--size", type=int, default=None,
                   help=f"number of utterances (default {DEFAULT_SIZE}, French {FRENCH_SIZE}; {LARGE_SIZE}, French "
                        f"{FRENCH_LARGE_SIZE}, for model training)")
    b.add_argument("--seed", type=int, default=0, help="random seed; same seed and size give identical files")
    b.add_argument("--force", action="store_true", help="replace an existing corpus built with other settings")
    b.add_argument("--workers", type=int, default=None, help="worker processes (default: CPUs, at most 4)")
    b.add_argument("--quiet", action="store_true", help="no progress bar")
    b.add_argument("--version", type=int, choices=VERSIONS, default=CORPUS_VERSION,
                   help=f"corpus version (default {CORPUS_VERSION}; 2: held-out sentences, minimal-pair homophones, "
                        "32 speakers, see docs/corpus.md)")
    b.add_argument("--language", choices=LANGUAGES, default="en",
                   help="en (default): the English corpus; fr: French homophones decided by grammatical agreement "
                        "(version 2; default directory " + str(default_corpus_dir(language="fr")) + ")")
    b.set_defaults(func=_corpus_build)

    i = csub.add_parser("info", help="summarise a corpus", description="Print splits, speakers and sentence kinds.")
    i.add_argument("dir", nargs="?", type=Path, default=None, help="corpus directory (default: the default corpus)")
    i.set_defaults(func=_corpus_info)

    c = csub.add_parser("check", help="sanity-check every alignment",
                        description="Check that intervals are ordered, non-overlapping, inside the audio, and that "
                                    "phones nest in words. Exit status 1 if any check fails.")
    c.add_argument("dir", nargs="?", type=Path, default=None, help="corpus directory (default: the default corpus)")
    c.set_defaults(func=_corpus_check)


    models = sub.add_parser("models", help="list the shipped models (and, in a clone, retrain, evaluate and "
                                           "benchmark them)",
                            description="The small speech models shipped with the course. Retraining, evaluating "
                                        "and benchmarking them (train, evaluate, bench, layerwise) come with the "
                                        "repository's tooling: an editable install of a clone, pip install -e .")
    msub = models.add_subparsers(dest="models_command", metavar="SUBCOMMAND")
    msub.required = True
    ml = msub.add_parser("list", help="list the shipped models", description="List the shipped models.")
    ml.set_defaults(func=_models_list)
    for entry in entry_points(group=COMMANDS_GROUP):
        try:
            add_commands = entry.load()
        except ModuleNotFoundError as exc:  # a release without the repository tooling: its commands are absent
            if exc.name != entry.module.split(".")[0]:
                raise
            continue
        add_commands(sub, {"models": msub})

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

"""The speech-course command line."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from course.cli import build_parser, main


def _all_parsers(parser: argparse.ArgumentParser, prefix=()):
    yield prefix, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _all_parsers(sub, prefix + (name,))


def test_every_subcommand_has_help(capsys):
    seen = []
    for path, _ in _all_parsers(build_parser()):
        with pytest.raises(SystemExit) as exc:
            main([*path, "--help"])
        assert exc.value.code == 0
        out = capsys.readouterr().out
        assert "usage: speech-course" in out
        seen.append(" ".join(path))
    assert {"corpus build", "corpus info", "corpus check", "setup", "bench", "slides build"} <= set(seen)


def test_bench_runs_the_repository_benchmarks(capsys):
    from speech_course_tools.benchmarks import load_all

    assert main(["bench", "--list"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert listed == list(load_all()), "speech-course bench --list should name the benchmarks package's registry"
    assert main(["bench", "no-such-benchmark"]) == 2


def test_models_cards_names_an_unknown_model_and_writes_nothing(capsys, monkeypatch):
    import speech_course_tools.training as training

    monkeypatch.setattr(training, "rewrite_cards", lambda folders: pytest.fail("no card should be written"))
    assert main(["models", "cards", "tiny-hubert", "no-such-model"]) == 2
    assert "unknown model no-such-model" in capsys.readouterr().err


def test_the_tooling_commands_come_from_an_entry_point_and_are_absent_without_the_tooling(monkeypatch, capsys):
    """The repository's tooling adds its subcommands through the ``speech_course.commands`` entry point; a learner
    release has no ``speech_course_tools`` package, and its ``speech-course`` simply lacks those commands."""
    from importlib.metadata import EntryPoint

    import course.cli

    installed = course.cli.entry_points(group=course.cli.COMMANDS_GROUP)
    assert [e.value for e in installed] == ["speech_course_tools.cli:add_commands"], "pip install -e . registers it"
    missing = EntryPoint("tools", "speech_course_tools_absent.cli:add_commands", course.cli.COMMANDS_GROUP)
    monkeypatch.setattr(course.cli, "entry_points", lambda group: [missing])
    seen = {" ".join(path) for path, _ in _all_parsers(build_parser())}
    assert "models list" in seen and "grade" in seen
    assert not {"bench", "slides", "slides build", "models train", "models evaluate"} & seen
    with pytest.raises(SystemExit):
        main(["bench", "--list"])
    assert "invalid choice: 'bench'" in capsys.readouterr().err

    class BrokenInstall:  # the tooling is there, but something it imports is not
        module = "speech_course_tools.cli"

        def load(self):
            raise ModuleNotFoundError("No module named 'nbformat'", name="nbformat")

    monkeypatch.setattr(course.cli, "entry_points", lambda group: [BrokenInstall()])
    with pytest.raises(ModuleNotFoundError, match="nbformat"):  # a broken tooling install is not hidden
        build_parser()


def test_console_script_is_installed():
    from pathlib import Path

    script = Path(sys.executable).parent / "speech-course"  # installed beside the interpreter by pip
    out = subprocess.run([str(script), "corpus", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "build" in out.stdout


def test_build_info_check(tmp_path, capsys):
    out = tmp_path / "c"
    assert main(["corpus", "build", "--out", str(out), "--size", "28", "--version", "1", "--quiet"]) == 0
    assert main(["corpus", "info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "train" in text and "homophone" in text
    assert main(["corpus", "check", str(out)]) == 0
    assert "pass the alignment checks" in capsys.readouterr().out


def test_errors_are_messages_not_tracebacks(tmp_path, capsys):
    assert main(["corpus", "info", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert "No corpus at" in err and "Traceback" not in err
    (tmp_path / "occupied").mkdir()
    (tmp_path / "occupied" / "x").write_text("x")
    assert main(["corpus", "build", "--out", str(tmp_path / "occupied"), "--size", "28", "--version", "1", "--quiet"]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["corpus", "build", "--out", str(tmp_path / "small"), "--size", "2", "--version", "1", "--quiet"]) == 2
    assert "at least 14" in capsys.readouterr().err


def test_every_error_the_course_raises_on_purpose_is_a_message(monkeypatch, capsys):
    """A claim that no longer holds, a usage error and an offline hub id all end as one line, not a traceback."""
    import course.grading.build
    from course.claims import ClaimError
    from course.online import OfflineError

    def failing_build(*args, **kwargs):
        raise ClaimError("07_feature_attribution: 1 sentence no longer holds: 'shares 0.76 and 0.96' (now 0.70)")

    monkeypatch.setattr(course.grading.build, "build", failing_build)
    assert main(["build", "--assignment", "07_feature_attribution"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("speech-course: error: 07_feature_attribution: 1 sentence") and "Traceback" not in err
    assert main(["build", "--workers", "0"]) == 2
    assert "--workers must be at least 1" in capsys.readouterr().err

    def offline(*args, **kwargs):
        raise OfflineError("the hub cannot be reached; use a shipped model")

    monkeypatch.setattr(course.grading.build, "build", offline)
    assert main(["build"]) == 2
    assert "the hub cannot be reached" in capsys.readouterr().err

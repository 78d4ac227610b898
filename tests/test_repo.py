"""The repository itself: README commands, CI script and layout agree."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    return [b.strip() for b in blocks]


def _ci_lines() -> list[str]:
    """.ci/run's commands, continuation lines joined, without comments, echo, set, cd, export and the timing of its
    phases (``SECONDS=0``, the ``phase`` function that prints the minutes elapsed, and its calls)."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / ".ci" / "run").read_text())
    return [line.strip() for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith(("#", "echo", "set ", "cd ", "export ", "SECONDS=0", "phase"))]


def test_ci_runs_exactly_the_readme_setup_and_test_commands():
    setup, test = _readme_commands()[:2]
    lines = _ci_lines()
    # besides the README's commands, CI installs the system packages the tests need: bubblewrap (the grading
    # sandbox) and Chromium (browser and slide tests). A failed install must fail the run, naming the package.
    apt = [line for line in lines if line.startswith("apt-get")]
    installs = [re.search(r'install -y -qq (?:--no-install-recommends )?([a-z0-9 .+-]+?) \|\| \{ echo "CI: could '
                          r'not install ([a-z0-9-]+)" >&2; exit 1; \}$', line) for line in apt if " install " in line]
    assert installs and all(installs), apt
    assert {p for m in installs for p in m.group(1).split()} == {"bubblewrap", "chromium", "fonts-dejavu-core"}
    assert all(m.group(2) in m.group(1).split() for m in installs)
    assert all(line.endswith("exit 1; }") for line in apt), "every apt-get step must fail the run when it fails"
    assert [line for line in lines if not line.startswith("apt-get")] == [setup, test]


def test_ci_sets_ci_true_so_missing_system_packages_fail_the_tests():
    assert "export CI=true" in (ROOT / ".ci" / "run").read_text()


def test_readme_setup_installs_the_lock():
    setup = _readme_commands()[0]
    assert "-r requirements.lock" in setup and "speech-course setup" in setup


def test_layout():
    for d in ("course", "exercises", "solutions", "autograder", "slides", "binder", "tests", "docs"):
        assert (ROOT / d).is_dir(), d
    for f in ("pyproject.toml", "README.md", ".ci/run", "requirements.lock"):
        assert (ROOT / f).is_file(), f

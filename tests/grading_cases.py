"""A generated class of submissions for the grading tests: correct, wrong, empty and adversarial.

``write_class(folder, assignment, solution, release)`` writes one student per
case, ``<case>/<assignment>/<assignment>.ipynb`` (or the broken layout the
case is about), and returns the status each student must get.
"""

from __future__ import annotations

import copy
import os
import warnings
from pathlib import Path

import nbformat
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell

#: Code run by the "snoop" student: everything it manages to see is printed, so the test can look for it.
SNOOP = """
import os, socket
found = []
for root in {roots!r}:
    try:
        found += [os.path.join(root, f) for f in os.listdir(root)]
    except OSError as exc:
        found.append(f"{{root}}: {{type(exc).__name__}}")
print("SNOOP-LIST", found)
for host in ("127.0.0.1", "pypi.org"):
    try:
        socket.create_connection((host, 443), timeout=2)
        print("SNOOP-NET connected", host)
    except OSError as exc:
        print("SNOOP-NET blocked", host, type(exc).__name__)
print("SNOOP-ENV", sorted(os.environ))
"""

#: Code of the "leak" student: it captures every later cell's source and prints it everywhere it can.
LEAK = """
captured = []
def _spy(info):
    captured.append(info.raw_cell)
    print("LEAK", info.raw_cell)
    print("LEAK-ALL", captured)
get_ipython().events.register("pre_run_cell", _spy)
get_ipython().events.register("post_run_cell", lambda result: print("LEAK-AFTER", captured))
"""


def _solution_cells(nb: NotebookNode) -> list[int]:
    return [i for i, c in enumerate(nb.cells) if c.get("metadata", {}).get("nbgrader", {}).get("solution")]


def _test_cells(nb: NotebookNode) -> list[int]:
    return [i for i, c in enumerate(nb.cells) if c.get("metadata", {}).get("nbgrader", {}).get("grade")
            and c.cell_type == "code" and not c.metadata["nbgrader"].get("solution")]


def _with_cell(nb: NotebookNode, index: int, source: str) -> NotebookNode:
    nb = copy.deepcopy(nb)
    nb.cells.insert(index, new_code_cell(source))
    for i, c in enumerate(nb.cells):
        c.id = f"c{i}"
    return nb


def cases(solution: NotebookNode, release: NotebookNode, broken: NotebookNode, roots: list[str]) -> dict:
    """``{student: (status, notebook_or_bytes_or_None)}`` for every case of the class.

    ``broken`` is a solution with a deliberately wrong answer; ``roots`` are
    directories the snoop student must not be able to list.
    """
    first_sol = _solution_cells(solution)[0]
    tests = _test_cells(solution)
    edited = copy.deepcopy(broken)
    for i in tests:
        edited.cells[i].source = "pass  # tests removed by the student"
    deleted = copy.deepcopy(broken)
    deleted.cells = [c for i, c in enumerate(deleted.cells) if i not in tests]
    duplicated = copy.deepcopy(solution)
    duplicated.cells = [copy.deepcopy(c) for c in solution.cells for _ in (0, 1)]
    other_kernel = copy.deepcopy(solution)
    other_kernel.metadata["kernelspec"] = {"name": "bash", "display_name": "Bash", "language": "bash"}
    return {
        "correct": ("ok", solution),
        "wrong": ("ok", broken),
        "empty": ("ok", release),
        "infinite_loop": ("timeout", _with_cell(solution, first_sol + 1, "while True:\n    pass")),
        "uninterruptible": ("notebook_timeout", _with_cell(
            solution, first_sol + 1,
            "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass")),
        "memory_bomb": ("memory_limit", _with_cell(
            solution, first_sol + 1, "hog = []\nwhile True:\n    hog.append(bytearray(50 * 1024**2))")),
        "sys_exit": ("ok", _with_cell(solution, first_sol + 1, "import sys\nsys.exit(3)")),
        "os_exit": ("kernel_died", _with_cell(solution, first_sol + 1, "import os\nos._exit(0)")),
        "segfault": ("kernel_died", _with_cell(solution, first_sol + 1, "import ctypes\nctypes.string_at(0)")),
        "edited_tests": ("ok", edited),
        "deleted_tests": ("ok", deleted),
        "duplicated_cells": ("ok", duplicated),
        "other_kernel": ("ok", other_kernel),
        "big_output": ("ok", _with_cell(solution, first_sol + 1, "for _ in range(50):\n    print('x' * 100_000)")),
        "snoop": ("ok", _with_cell(solution, 0, SNOOP.format(roots=roots))),
        "leak": ("ok", _with_cell(solution, 0, LEAK)),
        "invalid_json": ("invalid_notebook", b'{"cells": [ this is not json'),
        "not_a_notebook": ("invalid_notebook", b'["a", "list"]'),
        "binary": ("invalid_notebook", os.urandom(2000)),
        "missing": ("missing", None),
        "wrong_filename": ("wrong_filename", solution),
        "symlink": ("invalid_notebook", "symlink"),
        "bad id!": ("invalid_student_id", solution),
    }


def write_class(folder: Path, assignment: str, all_cases: dict, link_target: Path) -> dict[str, str]:
    """Write the class to ``folder``; returns ``{student: expected status}``."""
    expected = {}
    for student, (status, content) in all_cases.items():
        d = folder / student / assignment
        d.mkdir(parents=True)
        target = d / (f"{assignment}_final.ipynb" if student == "wrong_filename" else f"{assignment}.ipynb")
        if content == "symlink":
            target.symlink_to(link_target)
        elif isinstance(content, bytes):
            target.write_bytes(content)
        elif content is not None:
            with warnings.catch_warnings():  # the duplicated-cells case has duplicate ids on purpose
                warnings.simplefilter("ignore")
                target.write_text(nbformat.writes(content), encoding="utf-8")
        expected[student] = status
    return expected

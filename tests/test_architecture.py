"""The package's architecture, checked from its source: no import cycles, imports inside functions only with a reason.

The import graph counts every import, at the top of a module or inside a function: an import hidden in a function
still makes two modules depend on each other, it only postpones the failure to the first call. See
docs/architecture.md for the layers and the conventions.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "course"
#: The repository's tooling: training, slides, benchmarks, the lock. It may import the course; the course never
#: imports it (the learner release leaves it out).
TOOLS = "speech_course_tools"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(*packages: str) -> dict[str, Path]:
    """Every module of ``packages`` (default: the course and the tooling), by dotted name."""
    return {_module_name(p): p for package in packages or (PACKAGE, TOOLS)
            for p in sorted((ROOT / package).rglob("*.py"))}


def _targets(node: ast.Import | ast.ImportFrom, current: str, is_package: bool, known: set[str]) -> list[str]:
    """The modules of ``known`` that an import statement of module ``current`` loads."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:  # relative: from the current package, one level up per extra dot
            package = current.split(".") if is_package else current.split(".")[:-1]
            package = package[:len(package) - (node.level - 1)]
            base = ".".join([*package, base] if base else package)
        names = [f"{base}.{alias.name}" for alias in node.names] + [base]
    found = []
    for name in names:
        while name and name not in known:  # `from course.grading import job` names a module, `import x.y` a parent
            name = name.rpartition(".")[0]
        if name and name != current:
            found.append(name)
    return list(dict.fromkeys(found))


def import_graph() -> tuple[dict[str, set[str]], list[tuple[str, int, str]]]:
    """``(edges, inside_functions)``: module -> the modules of the course and the tooling it imports anywhere, and
    every import statement inside a function as ``(module, line, statement)``."""
    mods = modules()
    known = set(mods)
    edges: dict[str, set[str]] = defaultdict(set)
    inside: list[tuple[str, int, str]] = []
    for name, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        is_package = path.name == "__init__.py"

        def visit(node: ast.AST, in_function: bool) -> None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, (ast.Import, ast.ImportFrom)):
                    edges[name].update(_targets(child, name, is_package, known))
                    if in_function:
                        inside.append((name, child.lineno, ast.unparse(child)))
                visit(child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

        visit(tree, False)
    return dict(edges), inside


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def strongconnect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(set(edges) | {w for ws in edges.values() for w in ws}):
        if v not in index:
            strongconnect(v)
    return sorted(found)


def test_the_cycle_finder_finds_a_cycle_hidden_in_a_function():
    """The check of the check: two modules that import each other, one of them inside a function, and a chain."""
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(edges) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
    tree = ast.parse("import os\n\ndef f():\n    from course.grading import job\n")
    (node,) = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert _targets(node, "course.grading.feedback", False, {"course.grading.job", "course.grading"}) == \
        ["course.grading.job", "course.grading"]
    rel = ast.parse("from .job import JobResult").body[0]
    assert _targets(rel, "course.grading.feedback", False, {"course.grading.job"}) == ["course.grading.job"]


def test_the_course_and_its_tooling_have_no_import_cycle():
    edges, _ = import_graph()
    assert edges, "no import found: is the package where this test looks for it?"
    found = cycles(edges)
    assert not found, ("import cycles (imports inside functions count): "
                       + "; ".join(" <-> ".join(c) for c in found))


def test_every_exception_class_of_the_package_derives_from_course_error():
    """So that the command line catches them once (course.cli.main) and a caller can catch everything the course
    reports with ``except CourseError``."""
    from course.errors import CourseError

    assert issubclass(CourseError, Exception)

    exceptions = {"Exception", "BaseException", "ValueError", "RuntimeError", "OSError", "AssertionError",
                  "LookupError", "KeyError", "TypeError"}
    missing = []
    for name, path in modules(PACKAGE, TOOLS).items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef):
                continue
            bases = {ast.unparse(b).rsplit(".", 1)[-1] for b in node.bases}
            if bases & exceptions and "CourseError" not in bases and node.name != "CourseError":
                missing.append(f"{name}.{node.name}({', '.join(sorted(bases))})")
    assert not missing, f"exception classes without CourseError among their bases: {missing}"


#: The layers, from the bottom up (course/__init__.py lists the same; docs/architecture.md draws them): a module may
#: import its own layer and the layers before it, never a later one. The tooling comes last: it may use all of the
#: course, and nothing in the course may use it.
LAYERS = [
    ["course", "course.errors"],
    ["course.audio", "course.textgrid", "course.synth", "course.sentences", "course.corpus", "course.online",
     "course.frames"],
    ["course.registry", "course.models", "course.decoding", "course.features"],
    ["course.stats", "course.metrics", "course.probing", "course.similarity", "course.lenses", "course.abx",
     "course.context_mixing", "course.attribution"],
    ["course.layerwise", "course.claims"],
    ["course.grading"],
    ["course.doctor", "course.cli", "course.__main__"],
    [TOOLS],
]


def layer_of(module: str) -> int:
    """The index in :data:`LAYERS` of a module (a subpackage's modules share its layer)."""
    for index, members in enumerate(LAYERS):
        if any(module == m or (m != PACKAGE and module.startswith(m + ".")) for m in members):
            return index
    raise KeyError(f"{module} is in no layer of tests/test_architecture.py: add it to LAYERS and course/__init__.py")


def test_every_module_has_a_layer_and_imports_only_downwards():
    edges, _ = import_graph()
    for module in modules():
        layer_of(module)
    upward = [f"{a} -> {b}" for a, targets in sorted(edges.items()) for b in sorted(targets)
              if layer_of(b) > layer_of(a)]
    assert not upward, f"imports from a lower layer into a higher one: {upward}"
    assert layer_of("course.grading.job") == layer_of("course.grading")
    assert layer_of("speech_course_tools.benchmarks.core") == len(LAYERS) - 1
    with pytest.raises(KeyError, match="no layer"):
        layer_of("course.nowhere")


#: The reasons an import may sit inside a function, as a comment on its line.
IMPORT_REASONS = ("# start-up:", "# start-up,", "# optional:", "by design:")


def test_the_course_never_imports_its_tooling():
    """The learner release ships ``course/`` without ``speech_course_tools/``: an import of the tooling from the course
    would break there (the command line reaches the tooling through an entry point instead)."""
    edges, _ = import_graph()
    into_tools = [f"{a} -> {b}" for a, targets in sorted(edges.items()) if not a.startswith(TOOLS)
                  for b in sorted(targets) if b.startswith(TOOLS)]
    assert not into_tools, f"the course imports its tooling: {into_tools}"
    assert any(b.startswith(PACKAGE) for b in edges[f"{TOOLS}.training"]), "the check sees the tooling's imports"


def test_imports_inside_functions_say_why():
    """Everywhere, the tooling included: an import inside a function is allowed for a measured start-up cost, an
    optional dependency, or by design, and its line says which."""
    _, inside = import_graph()
    mods = modules()
    silent = []
    for module, line, statement in inside:
        text = mods[module].read_text(encoding="utf-8").splitlines()[line - 1]
        if not any(reason in text for reason in IMPORT_REASONS):
            silent.append(f"{module}:{line} {statement}")
    assert not silent, f"imports inside functions without a reason (hoist them, or say why): {silent}"

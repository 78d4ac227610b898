"""Keep a notebook running when a learner's exercise is not finished yet.

After an exercise, a notebook calls :func:`learner_or_reference` so that the
cells below use the learner's function when it agrees with the course's
reference implementation on a few examples, and the reference otherwise
(with a printed note). An unfinished exercise then costs its points, not
the rest of the notebook.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from course.grading.guard import unguarded


def _same(a: Any, b: Any) -> bool:  # noqa: ANN401 - any function result
    """Equal results: arrays, tensors, tables and numbers up to float round-off, tuples, lists and dicts element
    by element, anything else with ``==``."""
    a, b = (x.detach().cpu().numpy() if hasattr(x, "detach") and hasattr(x, "cpu") else x for x in (a, b))
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if hasattr(a, "to_numpy") and hasattr(b, "to_numpy"):  # pandas tables: same labels and values
        if list(getattr(a, "columns", [])) != list(getattr(b, "columns", [])) or list(a.index) != list(b.index):
            return False
        if hasattr(a, "columns"):  # column by column: a table with a text column is one object array as a whole
            return all(_same(a.iloc[:, k].to_numpy(), b.iloc[:, k].to_numpy()) for k in range(a.shape[1]))
        a, b = a.to_numpy(), b.to_numpy()
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        if a.dtype.kind in "fciub" and b.dtype.kind in "fciub":
            return a.shape == b.shape and bool(np.allclose(a, b, equal_nan=True))
        return a.shape == b.shape and bool((a == b).all())
    if isinstance(a, (int, float, np.number)) and isinstance(b, (int, float, np.number)):
        return bool(np.isclose(a, b, equal_nan=True))
    return bool(a == b)


def learner_or_reference(mine: Callable, reference: Callable, examples: Sequence[tuple]) -> Callable:
    """``mine`` if it matches ``reference`` on every example's arguments, else ``reference``.

    Parameters
    ----------
    mine : callable
        The learner's function.
    reference : callable
        The course's implementation of the same function.
    examples : sequence of tuple
        Positional arguments to try both on.

    Returns
    -------
    callable
        The function the rest of the notebook should use.
    """
    name = getattr(reference, "__name__", "this function")
    for args in examples:
        try:
            agree = _same(mine(*args), reference(*args))
            why = "" if agree else f"it differs from the reference on {args!r}"
        except NotImplementedError:
            agree, why = False, "it is not implemented yet"
        except Exception as exc:  # noqa: BLE001 - any failure of the learner's code means: use the reference
            agree, why = False, f"it raised {type(exc).__name__}: {exc}"
        if not agree:
            module = getattr(reference, "__module__", "course")
            print(f"Using {module}.{name} below, because your {name} is not ready ({why}).")
            return reference
    print(f"Using your {name} below.")
    return unguarded(mine)  # without the guard of a test cell

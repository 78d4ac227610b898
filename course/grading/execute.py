"""nbgrader's execution step, hardened for untrusted notebooks.

:class:`GradingExecute` replaces nbgrader's ``Execute`` preprocessor in
``nbgrader autograde`` (see :mod:`course.grading.nbconfig`). It differs in
three ways:

* the kernel runs in a **fresh working directory** holding the assignment's
  data files only. nbgrader would run it next to the autograded notebook,
  which already contains the restored hidden tests — student code could read
  them from disk;
* each cell keeps at most ``output_bytes`` of output (a loop printing
  megabytes would otherwise bloat the notebook, the feedback and the
  grader's memory);
* it records which cell is running and which cells timed out in a small
  JSON-lines events file, so the grader can report *why* a notebook failed.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from nbformat import NotebookNode
from nbformat.v4 import new_output
from nbgrader.preprocessors import Execute
from traitlets import Integer, Unicode

from course.grading.layout import copy_data_files


class GradingExecute(Execute):
    """Execute a submission in an isolated working directory, with capped output and an event log."""

    workdir = Unicode("", help="working directory for the kernel (default: a fresh temporary one)").tag(config=True)
    output_bytes = Integer(1_000_000, help="output kept per cell, in bytes").tag(config=True)
    notebook_output_bytes = Integer(16_000_000, help="output kept for the whole notebook, in bytes").tag(config=True)
    events_path = Unicode("", help="append JSON-lines events (cell started, timed out, output cut) here").tag(
        config=True)

    def _event(self, kind: str, cell: int, **extra: Any) -> None:  # noqa: ANN401 - JSON values
        if self.events_path:
            with open(self.events_path, "a", encoding="utf-8") as f:
                f.write(json.dumps({"event": kind, "cell": cell, **extra}) + "\n")

    def preprocess(self, nb: NotebookNode, resources: dict | None = None, km=None):  # noqa: ANN001, ANN201
        resources = dict(resources or {})
        source_dir = Path(resources.get("metadata", {}).get("path") or ".")
        own = not self.workdir
        work = Path(tempfile.mkdtemp(prefix="speech-course-work-")) if own else Path(self.workdir)
        work.mkdir(parents=True, exist_ok=True)
        copy_data_files(source_dir, work)
        resources["metadata"] = {**resources.get("metadata", {}), "path": str(work)}
        self._output_sizes: dict[int, int] = {}
        try:
            return super().preprocess(nb, resources, km)
        finally:
            if own:
                shutil.rmtree(work, ignore_errors=True)

    def preprocess_cell(self, cell: NotebookNode, resources: dict, index: int):  # noqa: ANN201
        if cell.cell_type == "code":
            self._event("start", index)
        return super().preprocess_cell(cell, resources, index)

    async def _async_handle_timeout(self, timeout: int, cell: NotebookNode | None = None) -> dict | None:
        index = next((i for i, c in enumerate(self.nb.cells) if c is cell), -1)
        self._event("timeout", index, seconds=timeout)
        return await super()._async_handle_timeout(timeout, cell)

    def output(self, outs: list, msg: dict, display_id: str | None, cell_index: int) -> NotebookNode | None:
        used = self._output_sizes.get(cell_index, 0)
        total = sum(self._output_sizes.values())
        if used > self.output_bytes or total > self.notebook_output_bytes:
            return None
        size = len(json.dumps(msg.get("content", {}), default=str))
        self._output_sizes[cell_index] = used + size
        if used + size > self.output_bytes or total + size > self.notebook_output_bytes:
            self._event("output_cut", cell_index, limit=self.output_bytes)
            note = (f"\n[output cut: more than {self.output_bytes} bytes in this cell or "
                    f"{self.notebook_output_bytes} in the notebook]\n")
            outs.append(new_output("stream", name="stdout", text=note))
            return None
        return super().output(outs, msg, display_id, cell_index)

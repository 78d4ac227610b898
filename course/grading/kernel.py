"""A Jupyter kernel manager that starts every kernel inside the grading sandbox.

nbgrader executes notebooks through nbclient, whose ``kernel_manager_class``
is configurable; :class:`SandboxedKernelManager` is set there by the grading
job's configuration. It ignores the notebook's kernelspec command (a student
cannot pick another kernel) and always runs this interpreter's ``ipykernel``
through :func:`course.grading.sandbox.wrap_kernel_command`.

The kernel talks to the grader over unix sockets (``ipc`` transport) in
``runtime_dir``: a kernel without network cannot reach TCP ports on the
grader's loopback.

Its clients (:class:`SlicedPollKernelClient`) wait for messages in slices of
at most :data:`POLL_SLICE` seconds. A long asyncio poll of a ZeroMQ socket can
miss the wake-up of a message that has already arrived and return it only at
the end of its timeout (jupyter/nbclient#312, open): nbclient waits for a
cell's reply with the whole cell timeout, so a notebook stalled for exactly
that long and then went on (03_rsa_cka's widget cell, 300 s, in about one run
in five; docs/benchmarks.md). Each slice ends with a direct check of the
socket, so a missed wake-up now costs at most one slice.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path
from queue import Empty
from typing import Any

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.channels import AsyncZMQSocketChannel
from jupyter_client.manager import AsyncKernelManager
from traitlets import DottedObjectName, Integer, List, Type, Unicode

from course.grading.sandbox import Limits, resolve_mode, wrap_kernel_command


#: Longest single wait for a kernel message, in seconds (see the module docstring).
POLL_SLICE = 0.5


class SlicedPollChannel(AsyncZMQSocketChannel):
    """An async channel whose ``get_msg`` waits in slices of at most :data:`POLL_SLICE` seconds."""

    async def get_msg(self, timeout: float | None = None) -> dict[str, Any]:  # type: ignore[override]
        """The next message; :class:`queue.Empty` if none arrives within ``timeout`` seconds (None: wait on)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = POLL_SLICE if deadline is None else deadline - time.monotonic()
            if await self.socket.poll(int(1000 * max(0.0, min(POLL_SLICE, left)))):
                return await self._recv()
            if deadline is not None and time.monotonic() >= deadline:
                raise Empty


class SlicedPollKernelClient(AsyncKernelClient):
    """:class:`~jupyter_client.asynchronous.AsyncKernelClient` with :class:`SlicedPollChannel` channels."""

    shell_channel_class = Type(SlicedPollChannel)  # type: ignore[assignment]
    iopub_channel_class = Type(SlicedPollChannel)  # type: ignore[assignment]
    stdin_channel_class = Type(SlicedPollChannel)  # type: ignore[assignment]
    control_channel_class = Type(SlicedPollChannel)  # type: ignore[assignment]


class SandboxedKernelManager(AsyncKernelManager):
    """Start the kernel inside the sandbox, with resource limits; talk to it with :class:`SlicedPollKernelClient`."""

    client_class = DottedObjectName("course.grading.kernel.SlicedPollKernelClient", config=True)
    client_factory = Type(SlicedPollKernelClient, klass="jupyter_client.asynchronous.AsyncKernelClient",
                          config=True)

    sandbox = Unicode("auto", help="'bwrap', 'none' (limits only) or 'auto' (bwrap if it works)").tag(config=True)
    runtime_dir = Unicode("", help="writable directory for the connection file and sockets").tag(config=True)
    readonly_paths = List(Unicode(), help="extra read-only directories for the kernel").tag(config=True)
    cache_dir = Unicode("", help="course cache (corpus), visible read-only").tag(config=True)
    memory_bytes = Integer(Limits.memory_bytes).tag(config=True)
    notebook_timeout = Integer(Limits.notebook_timeout).tag(config=True)
    max_processes = Integer(Limits.max_processes).tag(config=True)
    max_file_bytes = Integer(Limits.max_file_bytes).tag(config=True)
    tmp_bytes = Integer(Limits.tmp_bytes).tag(config=True)

    def __init__(self, **kwargs) -> None:  # noqa: ANN003 - traitlets keyword arguments
        super().__init__(**kwargs)
        self._own_runtime = not self.runtime_dir
        run = Path(tempfile.mkdtemp(prefix="speech-course-kernel-")) if self._own_runtime else Path(self.runtime_dir)
        run.mkdir(parents=True, exist_ok=True)
        self._runtime = run
        self.transport = "ipc"
        self.ip = str(run / "kernel")
        self.connection_file = str(run / "kernel.json")

    async def cleanup_resources(self, restart: bool = False) -> None:
        """Remove the connection file and sockets, and the runtime directory if it was made here."""
        await super().cleanup_resources(restart=restart)
        if self._own_runtime and not restart:
            shutil.rmtree(self._runtime, ignore_errors=True)

    @property
    def kernel_spec(self):  # noqa: ANN201 - jupyter_client's KernelSpec
        """The kernelspec, interrupted by message rather than by signal.

        A signal goes to the launcher's process group, which in bwrap mode is
        bubblewrap itself: it would die and take the kernel with it. An
        ``interrupt_request`` makes ipykernel interrupt itself instead.
        """
        spec = super().kernel_spec
        if spec is not None:
            spec.interrupt_mode = "message"
        return spec

    def _limits(self) -> Limits:
        return Limits(memory_bytes=self.memory_bytes, notebook_timeout=self.notebook_timeout,
                      max_processes=self.max_processes, max_file_bytes=self.max_file_bytes,
                      tmp_bytes=self.tmp_bytes)

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        """The sandboxed command line; the kernelspec's own ``argv`` is not used."""
        kernel = [sys.executable, "-m", "ipykernel_launcher", "-f", str(Path(self.connection_file).resolve()),
                  *(extra_arguments or [])]
        cwd = self._launch_args.get("cwd")
        writable = [Path(self.connection_file).resolve().parent]
        if cwd:
            writable.append(Path(cwd).resolve())
        mode = resolve_mode("auto", warn=self.log.warning) if self.sandbox == "auto" else self.sandbox
        return wrap_kernel_command(
            kernel, mode, self._limits(), writable=writable,
            readonly=[Path(p) for p in self.readonly_paths], cwd=Path(cwd).resolve() if cwd else None,
            cache_dir=Path(self.cache_dir) if self.cache_dir else None,
        )

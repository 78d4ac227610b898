"""The notebook executor's kernel client: a message whose wake-up was missed is picked up within one poll slice."""

from __future__ import annotations

import asyncio
import time
from queue import Empty

import pytest
from jupyter_client.channels import AsyncZMQSocketChannel

from course.grading import kernel


class MissedWakeUpSocket:
    """A socket whose waits never wake on arrival: like pyzmq's asyncio poll when it misses the edge of a message
    (jupyter/nbclient#312), a wait ends only at its timeout, then reports the message if it has arrived."""

    def __init__(self, arrival: float | None) -> None:
        self.arrival = None if arrival is None else time.monotonic() + arrival
        self.polls = 0

    def arrived(self) -> bool:
        return self.arrival is not None and time.monotonic() >= self.arrival

    async def poll(self, timeout_ms: int | None = None) -> int:
        self.polls += 1
        if timeout_ms is None:
            raise AssertionError("an endless wait: a missed wake-up would never end")
        await asyncio.sleep(timeout_ms / 1000)
        return int(self.arrived())


def channel(cls: type, socket: MissedWakeUpSocket) -> AsyncZMQSocketChannel:
    ch = cls.__new__(cls)  # no real ZeroMQ socket needed: get_msg only polls and receives
    ch.socket = socket

    async def recv() -> dict:
        return {"content": "reply"}

    ch._recv = recv
    return ch


def wait(ch: AsyncZMQSocketChannel, timeout: float | None) -> tuple[object, float]:
    start = time.monotonic()
    try:
        result = asyncio.run(ch.get_msg(timeout=timeout))
    except Empty:
        result = Empty
    return result, time.monotonic() - start


def test_a_missed_wake_up_costs_one_slice_not_the_whole_timeout():
    got, took = wait(channel(kernel.SlicedPollChannel, MissedWakeUpSocket(arrival=0.2)), timeout=30)
    assert got == {"content": "reply"} and took < 0.2 + 2 * kernel.POLL_SLICE, took


def test_the_plain_channel_waits_out_its_timeout_on_a_missed_wake_up():
    # the behaviour the sliced channel exists for: with a 2 s timeout, a reply at 0.2 s is seen only at 2 s
    got, took = wait(channel(AsyncZMQSocketChannel, MissedWakeUpSocket(arrival=0.2)), timeout=2)
    assert got == {"content": "reply"} and took >= 1.9


def test_no_message_is_empty_at_the_timeout_and_no_timeout_waits_in_slices():
    socket = MissedWakeUpSocket(arrival=None)
    got, took = wait(channel(kernel.SlicedPollChannel, socket), timeout=1.2)
    assert got is Empty and 1.1 <= took < 1.2 + kernel.POLL_SLICE and socket.polls >= 3
    late = MissedWakeUpSocket(arrival=1.3)
    got, took = wait(channel(kernel.SlicedPollChannel, late), timeout=None)
    assert got == {"content": "reply"} and 1.3 <= took < 1.3 + 2 * kernel.POLL_SLICE


def test_the_sandboxed_kernel_manager_hands_out_sliced_clients():
    client = kernel.SandboxedKernelManager().client()
    assert isinstance(client, kernel.SlicedPollKernelClient)
    for name in ("shell", "iopub", "stdin", "control"):
        assert getattr(client, f"{name}_channel_class") is kernel.SlicedPollChannel, name


@pytest.mark.parametrize("timeout", [0, 0.0])
def test_a_zero_timeout_checks_once(timeout):
    ready = MissedWakeUpSocket(arrival=0)
    assert wait(channel(kernel.SlicedPollChannel, ready), timeout)[0] == {"content": "reply"}
    assert wait(channel(kernel.SlicedPollChannel, MissedWakeUpSocket(arrival=None)), timeout)[0] is Empty

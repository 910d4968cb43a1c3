"""Long calls: the GIL is released, Ctrl-C interrupts them, events reach a callback."""

import asyncio
import os
import signal
import sys
import threading
import time
from typing import Any

import pytest

import deploykit
from conftest import run


def interrupt_after(seconds: float) -> threading.Timer:
    timer = threading.Timer(seconds, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    return timer


def test_ctrl_c_interrupts_a_long_wait_and_cancels_it() -> None:
    events: list[dict[str, Any]] = []
    timer = interrupt_after(0.5)
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            deploykit.wait(30, on_event=events.append)
    finally:
        timer.cancel()
    # Promptly: well before the 30 s wait would have ended.
    assert time.monotonic() - started < 15
    # The Rust future was cancelled: no more events arrive afterwards.
    seen = len(events)
    time.sleep(1.5)
    assert len(events) == seen


def test_the_gil_is_released_while_waiting() -> None:
    entered = threading.Event()

    def worker() -> None:
        entered.set()
        deploykit.wait(3)

    thread = threading.Thread(target=worker)
    thread.start()
    entered.wait()
    time.sleep(0.2)
    # This line runs while the worker is inside the wait: it could not if the GIL were held.
    assert thread.is_alive()
    thread.join()


def test_events_reach_the_callback_as_dicts() -> None:
    events: list[dict[str, Any]] = []
    deploykit.wait(0.2, on_event=events.append)
    assert events, "at least the first waiting event"
    first = events[0]
    assert first["event"] == "waiting"
    assert first["elapsed_secs"] == 0
    assert first["what"] == "the requested wait"
    assert "T" in first["at"]  # ISO 8601


def test_a_failing_callback_does_not_stop_the_call() -> None:
    def broken(event: dict[str, Any]) -> None:
        raise RuntimeError("callback bug")

    reported: list[BaseException | None] = []
    previous = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: reported.append(unraisable.exc_value)
    try:
        deploykit.wait(0.1, on_event=broken)
    finally:
        sys.unraisablehook = previous
    assert reported and isinstance(reported[0], RuntimeError)


def test_async_wait_and_bad_input() -> None:
    events: list[dict[str, Any]] = []
    assert run(lambda: deploykit.wait_async(0.1, on_event=events.append)) is None
    assert events[0]["event"] == "waiting"
    with pytest.raises(deploykit.InvalidInputError, match="0 to 86400"):
        deploykit.wait(-1)
    with pytest.raises(deploykit.InvalidInputError, match="0 to 86400"):
        run(lambda: deploykit.wait_async(float("nan")))


def test_cancelling_the_awaitable_cancels_the_wait() -> None:
    events: list[dict[str, Any]] = []

    async def main() -> None:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(deploykit.wait_async(30, on_event=events.append), 0.3)

    asyncio.run(main())
    seen = len(events)
    time.sleep(1.5)
    assert len(events) == seen

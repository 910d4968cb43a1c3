"""The Python functions deploykit calls back (ports, ``decide``, ``on_event``, ``on_line``):
plain functions only, checked before anything runs; the exceptions they raise keep what a
caller needs to retry."""

import asyncio
import datetime
import gc
import inspect
import socket
import sys
import warnings
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import pytest

import deploykit
from conftest import DONE, END, START, RecordingNotifier
from test_deploy import HealthyFigures, MergedShas, ready_world

PLAIN = "must be plain functions"


class AsyncNotifier:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def announce(self, announcement: dict[str, Any]) -> None:
        self.sent.append(announcement)


class AsyncMonitor:
    async def sample(self, *args: object) -> list[dict[str, Any]]:
        return []


class AsyncSplitMonitor:
    def sample(self, *args: object) -> list[dict[str, Any]]:
        return []

    async def sample_by_instance(self, *args: object) -> None:
        return None


class AsyncOperator:
    async def decide(self, request: dict[str, Any]) -> str:
        return "go"


class AsyncCallable:
    async def __call__(self, request: dict[str, Any]) -> str:
        return "go"


async def async_decide(request: dict[str, Any]) -> str:
    return "go"


async def async_on_event(event: dict[str, Any]) -> None:
    return None


# ------------------------------------------------------------------ async def is refused


def test_an_async_notifier_is_refused_before_anything_is_announced() -> None:
    notifier = AsyncNotifier()
    with pytest.raises(deploykit.InvalidInputError, match=PLAIN) as info:
        deploykit.announce(notifier, DONE)
    assert "`notifier`" in str(info.value) and "async def" in str(info.value)
    assert "run_coroutine_threadsafe" in str(info.value)
    with pytest.raises(deploykit.InvalidInputError, match=PLAIN):
        deploykit.announce_async(notifier, DONE)
    assert notifier.sent == []


@pytest.mark.parametrize("monitor", [AsyncMonitor(), AsyncSplitMonitor()])
def test_an_async_monitor_is_refused(monitor: object) -> None:
    with pytest.raises(deploykit.InvalidInputError, match="`monitor`"):
        deploykit.sample(monitor, "prod", "idp", START, END)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "callback",
    [
        {"notifier": AsyncNotifier()},
        {"monitor": AsyncMonitor()},
        {"decide": AsyncOperator()},
        {"decide": async_decide},
        {"decide": AsyncCallable()},
        {"on_event": async_on_event},
    ],
    ids=["notifier", "monitor", "decide-method", "decide-function", "decide-callable", "on_event"],
)
def test_a_deploy_with_an_async_callback_is_refused_before_it_starts(
    callback: dict[str, Any],
) -> None:
    world, pr = ready_world()
    (param,) = callback
    with pytest.raises(deploykit.InvalidInputError, match=PLAIN) as info:
        world.deploy("idp", "prod", pr=pr, **callback)
    assert f"`{param}`" in str(info.value)
    with pytest.raises(deploykit.InvalidInputError, match=PLAIN):
        world.deploy_async("idp", "prod", pr=pr, **callback)
    # Nothing ran: no run journaled, the lock free, nothing recycled.
    assert world.runs() == []
    assert world.lock_status("prod", "idp").free
    assert world.group_size("prod", "idp").desired == 4


def test_an_async_on_event_is_refused_for_fleet_operations_too() -> None:
    world = deploykit.World.login_gov()
    with pytest.raises(deploykit.InvalidInputError, match="`on_event`"):
        world.recycle("prod", "pivcac", on_event=async_on_event)
    assert world.group_size("prod", "pivcac").desired == 2


# ------------------------------------------------- a coroutine returned anyway is refused


def coroutine_returner(
    made: list[Coroutine[Any, Any, Any]], answer: object = None
) -> Callable[..., Awaitable[object]]:
    """A plain function (so not refused up front) returning a coroutine, kept in ``made``."""

    async def body() -> object:
        return answer

    def call(*args: object) -> Awaitable[object]:
        coro = body()
        made.append(coro)
        return coro

    return call


def assert_closed_without_warning(made: list[Coroutine[Any, Any, Any]]) -> None:
    assert made, "the callback was called"
    assert all(inspect.getcoroutinestate(c) == inspect.CORO_CLOSED for c in made)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        made.clear()
        gc.collect()
    assert not [w for w in caught if "never awaited" in str(w.message)]


def test_a_notifier_returning_a_coroutine_fails_clearly_and_the_coroutine_is_closed() -> None:
    made: list[Coroutine[Any, Any, Any]] = []

    class Sneaky:
        announce = staticmethod(coroutine_returner(made))

    with pytest.raises(deploykit.InvalidInputError, match="returned an awaitable") as info:
        deploykit.announce(Sneaky(), DONE)
    assert PLAIN in str(info.value)
    assert_closed_without_warning(made)


def test_a_monitor_returning_a_coroutine_fails_clearly() -> None:
    made: list[Coroutine[Any, Any, Any]] = []

    class Sneaky:
        sample = staticmethod(coroutine_returner(made, []))

    with pytest.raises(deploykit.InvalidInputError, match="returned an awaitable"):
        deploykit.sample(Sneaky(), "prod", "idp", START, END)  # type: ignore[arg-type]
    assert_closed_without_warning(made)


def test_a_decide_returning_a_coroutine_is_not_taken_for_an_answer() -> None:
    world, pr = ready_world()
    made: list[Coroutine[Any, Any, Any]] = []
    with pytest.raises(deploykit.InvalidInputError, match="returned an awaitable") as info:
        world.deploy(
            "idp", "prod", pr=pr, decide=coroutine_returner(made, "go")  # type: ignore[arg-type]
        )
    assert "coroutine object" not in str(info.value)
    assert_closed_without_warning(made)


def test_an_on_event_returning_a_coroutine_is_reported_and_closed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reported: list[BaseException | None] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: reported.append(u.exc_value))
    made: list[Coroutine[Any, Any, Any]] = []
    world = deploykit.World.login_gov()
    world.recycle("prod", "pivcac", dry_run=True, on_event=coroutine_returner(made))
    assert reported and all(isinstance(e, deploykit.InvalidInputError) for e in reported)
    assert "returned an awaitable" in str(reported[0]) and "`on_event`" in str(reported[0])
    assert_closed_without_warning(made)


# ------------------------------------------------------------ on_event must be callable


def every_operation_taking_on_event(
    world: deploykit.World, on_event: Any
) -> list[Callable[[], object]]:
    return [
        lambda: world.recycle("prod", "pivcac", on_event=on_event),
        lambda: world.recycle_async("prod", "pivcac", on_event=on_event),
        lambda: world.scale_in("prod", "pivcac", on_event=on_event),
        lambda: world.migration_log("prod", on_event=on_event),
        lambda: world.cut_rc("idp", on_event=on_event),
        lambda: world.true_up("idp", on_event=on_event),
        lambda: world.announce_pending("idp", on_event=on_event),
        lambda: world.create_release("idp", 1, on_event=on_event),
        lambda: world.deploy("idp", "prod", pr=1, on_event=on_event),
        lambda: world.deploy_async("idp", "prod", pr=1, on_event=on_event),
        lambda: world.resume("20261124T150000Z-idp-prod", on_event=on_event),
        lambda: world.rollback("idp", "prod", "why", on_event=on_event),
        lambda: deploykit.wait(0, on_event=on_event),
        lambda: deploykit.wait_async(0, on_event=on_event),
    ]


@pytest.mark.parametrize("index", range(14))
def test_a_non_callable_on_event_is_refused_up_front(index: int) -> None:
    world = deploykit.World.login_gov()
    call = every_operation_taking_on_event(world, 42)[index]
    with pytest.raises(deploykit.InvalidInputError, match="on_event must be a function") as info:
        call()
    assert "42" in str(info.value)
    assert world.group_size("prod", "pivcac").desired == 2


def test_a_non_callable_on_line_is_refused_up_front() -> None:
    world = deploykit.World.login_gov()
    with pytest.raises(deploykit.InvalidInputError, match="on_line must be a function"):
        world.migration_log("prod", on_line="print")  # type: ignore[arg-type]


# ------------------------------------------------- exceptions a port raises, and retries


def test_timeout_and_connection_errors_from_a_python_port_are_retryable() -> None:
    def raising(exc: BaseException) -> object:
        class Monitor:
            def sample(self, *args: object) -> list[dict[str, Any]]:
                raise exc

        return Monitor()

    for timeout in [TimeoutError("New Relic timed out"), socket.timeout("read timed out")]:
        with pytest.raises(deploykit.DeployTimeoutError) as timed_out:
            deploykit.sample(raising(timeout), "prod", "idp", START, END)  # type: ignore[arg-type]
        assert timed_out.value.retryable is True
        assert timed_out.value.context["python_exception"] == "TimeoutError"
        assert f"raised TimeoutError: {timeout}" in timed_out.value.message

    for down in [ConnectionRefusedError("refused"), ConnectionResetError("reset")]:
        with pytest.raises(deploykit.BackendError) as unreachable:
            deploykit.sample(raising(down), "prod", "idp", START, END)  # type: ignore[arg-type]
        assert unreachable.value.retryable is True
        assert f"raised {type(down).__name__}: {down}" in unreachable.value.message

    with pytest.raises(deploykit.BackendError) as other:
        bug = raising(RuntimeError("bug"))
        deploykit.sample(bug, "prod", "idp", START, END)  # type: ignore[arg-type]
    assert other.value.retryable is False


@pytest.mark.parametrize("exc", [TimeoutError("New Relic timed out"), ConnectionResetError()])
def test_a_monitor_timing_out_once_is_retried_and_the_deploy_goes_on(exc: Exception) -> None:
    world, pr = ready_world()
    deployed = world.servers("prod", "idp")[0].deployed_sha
    assert deployed is not None
    merged = MergedShas()

    class FlakyOnce(HealthyFigures):
        failed = False

        def sample(
            self, env: str, role: str, start: datetime.datetime, end: datetime.datetime
        ) -> list[dict[str, Any]]:
            if not self.failed:
                self.failed = True
                raise exc
            return super().sample(env, role, start, end)

    monitor = FlakyOnce(deployed.text, merged)
    outcome = world.deploy(
        "idp", "prod", pr=pr, monitor=monitor, decide=lambda r: "go", on_event=merged
    )
    assert outcome.status == "deployed", outcome.reason
    assert monitor.failed and monitor.calls


def test_a_python_notifier_can_be_driven_from_async_code_with_a_sync_wrapper() -> None:
    """The advice in the refusal works: a plain announce() handing the work to a loop."""
    notifier = RecordingNotifier()

    async def main() -> None:
        loop = asyncio.get_running_loop()

        async def post(announcement: dict[str, Any]) -> None:
            notifier.announce(announcement)

        class Wrapper:
            def announce(self, announcement: dict[str, Any]) -> None:
                asyncio.run_coroutine_threadsafe(post(announcement), loop).result()

        await deploykit.announce_async(Wrapper(), DONE)

    asyncio.run(main())
    assert [a["type"] for a in notifier.announcements] == ["deploy_done"]


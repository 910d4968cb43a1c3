"""Shared helpers for the deploykit binding tests."""

import asyncio
import datetime
import signal
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")

UTC = datetime.timezone.utc
# A monitor window the port tests ask about, and a deploy_done announcement to send.
START = datetime.datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
END = START + datetime.timedelta(minutes=5)
DONE = {
    "type": "deploy_done",
    "app": "idp",
    "env": "prod",
    "rc": "112",
    "release_url": "https://github.com/18F/identity-idp/releases/tag/RC-112",
}

# Python turns SIGINT into KeyboardInterrupt only when SIGINT was not ignored as it started;
# a runner started in the background by a non-interactive shell (as CI jobs may be) ignores
# it. The Ctrl-C tests send SIGINT and need Python's own handler, whoever started pytest.
signal.signal(signal.SIGINT, signal.default_int_handler)


def run(make: Callable[[], Awaitable[T]]) -> T:
    """Calls ``make()`` inside a fresh event loop and awaits what it returns (the tests need
    no async plugin; the ``*_async`` functions need a running loop when called)."""

    async def main() -> T:
        return await make()

    return asyncio.run(main())


class RecordingNotifier:
    """A Python notifier that keeps what it is told."""

    def __init__(self) -> None:
        self.announcements: list[dict[str, Any]] = []

    def announce(self, announcement: dict[str, Any]) -> None:
        self.announcements.append(announcement)

"""Shared helpers for the deploykit binding tests."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


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

"""Where the scheduler gets the time: the system's, or a virtual one that tests move by hand.

The virtual clock is the injection point that lets a test run a day of schedules in seconds:
``sleep`` advances it at once. Work itself (builds, child processes) takes real time.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float: ...  # seconds since the epoch
    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real time; ``sleep`` ends early when ``wake`` is set (the scheduler stopping)."""

    def __init__(self, wake: threading.Event | None = None) -> None:
        self.wake = wake or threading.Event()

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.wake.wait(seconds)


class VirtualClock:
    """Time that moves only when slept: ``sleep(3600)`` is an hour later, instantly."""

    def __init__(self, start: float) -> None:
        self._now = start
        self._lock = threading.Lock()
        self.slept: list[float] = []

    def now(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self._now += max(seconds, 0.0)

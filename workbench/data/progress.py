"""Progress of long data work (scanning a folder of 50,000 images) with an ETA, for whoever shows it.

Readers call `report(...)` as they go; the command line and the app's data worker register a
listener for the duration of a load (`listening(...)`). Without a listener, reports go to the log
at most every few seconds, so a headless run still says what it is doing.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

log = logging.getLogger(__name__)

LOG_EVERY_S = 5.0


@dataclass(frozen=True)
class DataProgress:
    """One report: what is being done, how far, and the estimated seconds left (None: unknown)."""

    stage: str  # e.g. "checking images"
    done: int
    total: int | None
    elapsed_s: float

    @property
    def eta_s(self) -> float | None:
        if not self.total or self.done <= 0 or self.done >= self.total:
            return None
        return self.elapsed_s / self.done * (self.total - self.done)

    def text(self) -> str:
        """`checking images: 12,000 / 50,000 (24 %), about 6 s left`."""
        if self.total:
            share = f" ({100 * self.done // max(self.total, 1)} %)"
            eta = self.eta_s
            left = f", about {_duration(eta)} left" if eta is not None else ""
            return f"{self.stage}: {self.done:,} / {self.total:,}{share}{left}"
        return f"{self.stage}: {self.done:,}"


Listener = Callable[[DataProgress], None]
_local = threading.local()  # listeners per thread: the app loads data on a worker thread


@contextlib.contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Send this thread's progress reports to `listener` until the block ends."""
    stack = _stack()
    stack.append(listener)
    try:
        yield
    finally:
        stack.remove(listener)


def _stack() -> list[Listener]:
    if not hasattr(_local, "listeners"):
        _local.listeners = []
    return _local.listeners


class Tracker:
    """Reports of one stage, rate-limited (`every_s`), with the start time for the ETA."""

    def __init__(self, stage: str, total: int | None, every_s: float = 0.25) -> None:
        self.stage = stage
        self.total = total
        self.every_s = every_s
        self.start = time.monotonic()
        self._last = self.start  # the first report after `every_s`: an ETA from one item says little
        self._last_log = self.start

    def update(self, done: int, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.every_s:
            return
        self._last = now
        report = DataProgress(self.stage, done, self.total, now - self.start)
        listeners = _stack()
        for listener in list(listeners):
            listener(report)
        if not listeners and (force or now - self._last_log >= LOG_EVERY_S):
            self._last_log = now
            log.info("%s", report.text())

    def finish(self, done: int) -> None:
        self.update(done, force=True)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"

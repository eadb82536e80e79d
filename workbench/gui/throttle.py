"""Work that is requested often but done at most every so often (the live plot's frames, the
progress line): the GUI thread's time while training is taken from training (one GIL).

`Throttle(interval_s, callback)`: `request()` runs `callback` at once when the last run is at
least `interval_s` old, else once when the interval is over, however many requests came in
between (the caller keeps what is waiting; the callback reads it). `run_now()` runs it at once
(a run ended: its last numbers, not those of up to an interval before).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer


class Throttle(QObject):
    """Runs `callback` at most every `interval_s` seconds, the last request always served."""

    def __init__(self, interval_s: float, callback: Callable[[], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.interval_s = interval_s
        self.callback = callback
        self.last_run = -math.inf  # time.perf_counter() of the last run
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.run_now)

    def request(self) -> None:
        """Run now if the last run is an interval old, else when it will be (once)."""
        if self.timer.isActive():
            return
        wait_s = self.last_run + self.interval_s - time.perf_counter()
        if wait_s <= 0:
            self.run_now()
        else:
            self.timer.start(math.ceil(wait_s * 1000))

    def run_now(self) -> None:
        """Run at once; a waiting request is served by this run."""
        self.timer.stop()
        self.last_run = time.perf_counter()
        self.callback()

    def mark_run(self, waiting: bool) -> None:
        """The work was just done by other means (a direct call): the interval starts again;
        with `waiting` False there is nothing left for a waiting request to serve."""
        self.last_run = time.perf_counter()
        if not waiting:
            self.timer.stop()

    def cancel(self) -> None:
        """Forget a waiting request, and the last run: the next request runs at once."""
        self.timer.stop()
        self.last_run = -math.inf

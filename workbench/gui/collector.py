"""Python's cyclic garbage collector, run on the GUI thread only.

Python collects cycles on whichever thread happens to allocate when a generation's threshold is
crossed. When that is a worker thread (training, export, a data preview) and the garbage holds
Qt wrappers from the GUI (a closed dialog's menus, an old plot's items), their C++ destructors
run on the worker: Qt objects must be deleted on the thread they live in. Seen here as a
deadlock (the worker's ~QObject waiting for the GIL while holding a Qt lock the GUI thread's
paint needed) and as a segfault during a collection on the export worker.

`install_main_thread_collector()` switches automatic collection off and collects from a timer
on the GUI thread instead, with the thresholds and the full-collection rule Python uses, so
cycles are still reclaimed, about as often, but always where Qt objects may be deleted. (The same remedy as the
well-known PyQt "GarbageCollector" recipe.) Objects without cycles are unaffected: reference
counting frees them at once on any thread.
"""

from __future__ import annotations

import gc
import logging

from PySide6.QtCore import QCoreApplication, QObject, QThread, QTimer

log = logging.getLogger(__name__)

INTERVAL_MS = 250  # how often the thresholds are checked; a check with nothing due costs ~1 µs


class MainThreadCollector(QObject):
    """Collects on the GUI thread when a generation's count passes Python's own threshold."""

    def __init__(self, parent: QObject, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(parent)
        # Python's thresholds as they were, before disabling: the same cadence, another thread.
        self.thresholds = gc.get_threshold()
        self.collections = 0
        # For the full-collection rule in check(): objects in the oldest generation after its last
        # pass, and those promoted into it since (CPython keeps both but does not expose them).
        self.long_lived = len(gc.get_objects(2))
        self.pending = 0
        gc.disable()
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.check)
        self.timer.start()

    def check(self) -> int | None:
        """Collect the oldest generation that is due; returns it, or None when none is."""
        if gc.isenabled():
            gc.disable()  # something switched it back on (a library's own gc handling)
        t0, t1, t2 = self.thresholds
        c0, c1, c2 = gc.get_count()
        if c0 <= t0:
            return None
        generation = 2 if (c1 > t1 and c2 > t2) else 1 if c1 > t1 else 0
        if generation == 2 and self.pending * 4 <= self.long_lived:
            # CPython's own rule: a full pass (170-190 ms with torch loaded) only once the
            # objects promoted since the last one are a quarter of those it would rescan.
            generation = 1
        if generation == 0:
            gc.collect(0)
        else:
            young = len(gc.get_objects(0)) + len(gc.get_objects(1))
            found = gc.collect(generation)
            if generation == 1:
                self.pending += max(0, young - found)  # the survivors now in the oldest generation
            else:
                self.pending, self.long_lived = 0, len(gc.get_objects(2))
        self.collections += 1
        return generation


def install_main_thread_collector() -> MainThreadCollector | None:
    """Collect cycles on the GUI thread only, from now on (idempotent). Call it on the GUI thread
    once the QApplication exists, before any worker thread starts; None without an application."""
    app = QCoreApplication.instance()
    if app is None:
        return None
    existing = app.findChild(MainThreadCollector)
    if existing is not None:
        return existing
    if QThread.currentThread() is not app.thread():
        log.warning("install_main_thread_collector() called off the GUI thread: not installed")
        return None
    return MainThreadCollector(app)


def uninstall_main_thread_collector() -> None:
    """Stop collecting from the timer and give collection back to Python (tests, embedding)."""
    app = QCoreApplication.instance()
    collector = app.findChild(MainThreadCollector) if app is not None else None
    if collector is not None:
        collector.timer.stop()
        collector.setParent(None)
        collector.deleteLater()
    gc.enable()

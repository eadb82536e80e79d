"""Garbage collection on the GUI thread only: cycles dropped while a worker thread allocates are
reclaimed by the GUI thread's timer, never on the worker (where Qt objects must not be deleted)."""

from __future__ import annotations

import gc
import threading

from workbench.gui.app import ensure_app
from workbench.gui.collector import MainThreadCollector, install_main_thread_collector


class _Cycle:
    """An object in a reference cycle that records the thread its finaliser ran on."""

    finalised_on: list[int] = []

    def __init__(self) -> None:
        self.me = self

    def __del__(self) -> None:
        _Cycle.finalised_on.append(threading.get_ident())


def test_installed_once_with_pythons_thresholds() -> None:
    app = ensure_app()
    collector = install_main_thread_collector()
    assert isinstance(collector, MainThreadCollector) and collector.parent() is app
    assert install_main_thread_collector() is collector
    assert app.findChildren(MainThreadCollector) == [collector]
    assert not gc.isenabled() and collector.timer.isActive()
    assert collector.thresholds[0] > 0


def test_cycles_dropped_during_worker_allocations_die_on_the_gui_thread(qtbot) -> None:  # noqa: ANN001
    collector = install_main_thread_collector()
    assert collector is not None
    _Cycle.finalised_on.clear()
    _Cycle()  # garbage from the start, held only by its own cycle

    kept: list[list[int]] = []

    def allocate() -> None:
        # Far past generation 0's threshold (kept alive: the count is allocations minus frees):
        # with Python's own collection, this thread would collect.
        kept.extend([i] for i in range(50 * collector.thresholds[0]))

    worker = threading.Thread(target=allocate)
    worker.start()
    worker.join()
    assert _Cycle.finalised_on == []  # nothing was collected on the worker
    qtbot.waitUntil(lambda: bool(_Cycle.finalised_on), timeout=5000)  # the timer's check
    assert _Cycle.finalised_on == [threading.get_ident()]


def test_check_collects_only_when_a_threshold_is_passed() -> None:
    collector = install_main_thread_collector()
    assert collector is not None
    gc.collect()
    assert collector.check() is None  # nothing allocated since: nothing due
    junk = [[] for _ in range(collector.thresholds[0] + 10)]
    assert collector.check() == 0
    assert gc.get_count()[0] < collector.thresholds[0]
    del junk
    gc.enable()  # a library switching it back on is undone at the next check
    collector.check()
    assert not gc.isenabled()


def test_full_collections_wait_for_enough_promoted_objects() -> None:
    collector = install_main_thread_collector()
    assert collector is not None
    t0, t1, t2 = collector.thresholds
    collector.long_lived, collector.pending = 10**9, 0  # a huge old generation, nothing promoted
    junk = []
    for _ in range(10 * t1 * (t2 + 1)):  # young passes until generation 2 is due by the counts
        if gc.get_count()[2] > t2:
            break
        junk.append([[] for _ in range(t0 + 1)])
        assert collector.check() != 2
    assert gc.get_count()[2] > t2 and collector.pending > 0  # due by the counts, survivors counted
    junk.append([[] for _ in range(t0 + 1)])
    assert collector.check() in (0, 1)  # ... but no full pass: too few promoted objects
    collector.long_lived = 0
    junk.append([[] for _ in range(t0 + 1)])
    while collector.check() != 2:  # the next due pass over generation 1 becomes a full one
        junk.append([[] for _ in range(t0 + 1)])
    assert collector.pending == 0 and collector.long_lived > 0

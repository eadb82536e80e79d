"""Heavy modules imported on the GUI thread, before a worker thread needs them; the start-up warm-up.

PySide6 replaces `builtins.__import__` with a hook (shibokensupport.feature) that runs for
every module imported anywhere in the process and reads the module's source
(`inspect.getsource`) to see whether it uses PySide6. When a worker QThread was the first to
import torch, onnx or onnxscript (hundreds of modules), that import stalled inside the hook
(`pytest tests/gui` hung in the export test) and once crashed in a garbage collection on the
worker thread. So whoever starts a worker first imports what the worker will import, here, on
the GUI thread (`ensure_imported`); the worker then finds it all in `sys.modules`.

The window does not wait for torch (~1.4 s) at start-up: `warm_up_after_first_paint` imports
the training modules once the window has been painted, between events, so that Train and the
model summary do not meet a cold import later. It also freezes the objects that exist by then
(`gc.freeze()`): a full collection of the ~340k objects torch and Qt leave behind took
170-190 ms and stalled the event loop during training.
"""

from __future__ import annotations

import gc
import importlib
import logging
import sys
import time
import weakref
from collections.abc import Callable, Iterable

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QThread, QTimer, SignalInstance
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

log = logging.getLogger(__name__)

# What a training run's worker thread imports (workbench.gui.training.worker.TrainingWorker.run:
# the training process's handle, and the results evaluated after the run), what the panel reads
# on the GUI thread (the memory estimate, the thread count) and what sampling needs. The run
# itself trains in a process of its own (workbench.training.child), which imports its modules
# there: the app starts one once these are loaded (`warm_up_after_first_paint`'s `done`), so
# that the two imports do not compete for the CPU while the window appears.
TRAINING_MODULES: tuple[str, ...] = (
    "torch",
    "workbench.runs",
    "workbench.data.loading",
    "workbench.training",
    "workbench.training.engine",
    "workbench.training.child",
    "workbench.training.child_process",
    "workbench.gui.training.results_data",
    "workbench.sampling",
)

# What an export imports in its thread: workbench.export and, inside its functions, onnx,
# onnxruntime (and its quantizer) and torch's dynamo ONNX exporter with onnxscript. The private
# torch modules are the big pieces that `torch.onnx.export(dynamo=True)` imports on first use;
# one that a later torch lacks is skipped (its first use then imports whatever replaced it).
EXPORT_MODULES: tuple[str, ...] = (
    "torch",
    "workbench.export",
    "onnx",
    "onnxruntime",
    "onnxruntime.quantization",
    "onnxscript",
    "torch.onnx",
    "torch.export",
    "torch.onnx._internal.exporter._core",
    "torch.onnx._internal.exporter._torchlib.ops",
    "onnxscript.function_libs.torch_lib.ops",
    "onnxscript.rewriter.onnx_fusions",
    "torch.onnx._internal.exporter._compat",
    "torch.export._trace",
    "torch.export._patches",
    "torch._export.passes.replace_set_grad_with_hop_pass",
    "torch._inductor.sizevars",
    "torch._inductor.fx_passes.dedupe_symint_uses",
    "torch.fx.experimental.validator",
    "sympy.combinatorics",
    "torch._functorch.aot_autograd",
    "torch._functorch.partitioners",
    "safetensors.torch",
)


def _on_gui_thread() -> bool:
    app = QCoreApplication.instance()
    return app is None or QThread.currentThread() is app.thread()


def ensure_imported(*modules: str, busy_cursor: bool = True) -> list[str]:
    """Import `modules` now, on the calling (GUI) thread; returns the names that failed to import.

    Costs nothing when they are all loaded already. A failure is logged, not raised: the worker
    imports the module again and reports the error to the user in its own words. With
    `busy_cursor`, the wait cursor shows while something actually has to be imported.
    """
    todo = [name for name in dict.fromkeys(modules) if name not in sys.modules]
    if not todo:
        return []
    if not _on_gui_thread():
        # Importing from a worker is exactly what this function exists to avoid: a bug of the caller.
        log.warning("ensure_imported(%s) called off the GUI thread", ", ".join(todo))
    cursor = busy_cursor and isinstance(QCoreApplication.instance(), QGuiApplication)
    if cursor:
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    failed: list[str] = []
    start = time.perf_counter()
    try:
        for name in todo:
            try:
                importlib.import_module(name)
            except Exception as exc:  # noqa: BLE001 - a missing optional package must not stop the app
                log.info("cannot preload %s: %s: %s", name, type(exc).__name__, exc)
                failed.append(name)
    finally:
        if cursor:
            QGuiApplication.restoreOverrideCursor()
    log.debug("preloaded %s in %.2f s", ", ".join(todo), time.perf_counter() - start)
    return failed


def before_worker_starts(*modules: str) -> list[str]:
    """What the GUI thread does before any worker QThread starts: collect cycles on the GUI
    thread only from now on (workbench.gui.collector), and import `modules` here
    (`ensure_imported`, with a busy cursor). Returns the modules that failed to import."""
    from workbench.gui.collector import install_main_thread_collector

    install_main_thread_collector()
    return ensure_imported(*modules)


def worker_thread(worker: QObject, entry: Callable[[], None], name: str, preload: Iterable[str] = (),
                  quit_on: SignalInstance | None = None) -> QThread:
    """A QThread (not started yet) in which `entry`, a slot of `worker`, runs once it starts.

    Call it on the GUI thread: `before_worker_starts(*preload)` first. `entry` must be a bound
    method of `worker`: connected to `started`, it then runs in the new thread (a plain function
    would run on the GUI thread). `quit_on`: the worker's signal that ends the thread's loop.
    """
    before_worker_starts(*preload)
    thread = QThread()
    thread.setObjectName(name)
    worker.moveToThread(thread)
    thread.started.connect(entry)
    if quit_on is not None:
        quit_on.connect(thread.quit)
    _worker_threads.add(thread)
    return thread


_worker_threads: weakref.WeakSet[QThread] = weakref.WeakSet()  # every thread worker_thread made


def live_threads(name: str | None = None) -> list[QThread]:
    """Worker threads (named `name`, or any) that have not finished: the app waits for them
    when it quits, tests check that none is left behind."""
    return [t for t in list(_worker_threads) if _alive(t) and (name is None or t.objectName() == name)]


def _alive(thread: QThread) -> bool:
    try:
        return thread.isRunning()
    except RuntimeError:  # the C++ object is gone
        return False


def _quitting() -> bool:
    """True once the event loop is ending: deferred start-up work is then skipped (closing the
    app must not import torch)."""
    app = QCoreApplication.instance()
    return app is None or bool(app.property("workbench_quitting"))


def _watch_quit() -> None:
    app = QCoreApplication.instance()
    if app is not None and not app.property("workbench_quit_watched"):
        app.setProperty("workbench_quit_watched", True)
        app.aboutToQuit.connect(lambda: app.setProperty("workbench_quitting", True))


class _FirstPaintWatcher(QObject):
    """Calls `callback` (once, from the event loop) after `window`'s first paint (any window's: None)."""

    def __init__(self, window: QWidget | None, callback: Callable[[], None]) -> None:
        super().__init__(window)
        self._window = window
        self._callback = callback
        app = QCoreApplication.instance()
        assert app is not None
        _watch_quit()
        # App-wide: the window's children get the paint events, not the window. The filter is
        # removed at the first one, so it costs nothing after start-up.
        app.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        if (event.type() == QEvent.Type.Paint and isinstance(obj, QWidget)
                and (self._window is None or obj.window() is self._window)):
            app = QCoreApplication.instance()
            if app is not None:
                app.removeEventFilter(self)
            # After the paint has been flushed to the screen, not inside it.
            callback = self._callback
            QTimer.singleShot(0, lambda: None if _quitting() else callback())
            self.deleteLater()
        return False


def after_first_paint(window: QWidget | None, callback: Callable[[], None]) -> None:
    """Run `callback` from the event loop once `window` (or a child) has been painted; with
    `window` None, once any widget has been painted (for widgets not yet in their window)."""
    watcher = _FirstPaintWatcher(window, callback)
    if window is None:
        watcher.setParent(QCoreApplication.instance())


def run_in_steps(steps: Iterable[Callable[[], object]], done: Callable[[], None] | None = None) -> None:
    """Run `steps` one per event-loop turn, so that input and repaints get through between them."""
    pending = list(steps)
    _watch_quit()

    def next_step() -> None:
        if _quitting():
            return
        if not pending:
            if done is not None:
                done()
            return
        step = pending.pop(0)
        try:
            step()
        finally:
            QTimer.singleShot(0, next_step)

    QTimer.singleShot(0, next_step)


def freeze_objects(when: str) -> None:
    """Move every object alive now out of the collector's reach (`gc.freeze()`).

    What start-up leaves (Qt wrappers, the layer library, torch's modules) lives as long as the
    app; scanning it again in every full collection took 170-190 ms on the GUI thread. Freezing
    without a collection first: one full pass here would be exactly such a stall.
    """
    gc.freeze()
    log.debug("gc.freeze() %s: %d objects frozen", when, gc.get_freeze_count())


def warm_up_after_first_paint(window: QWidget, modules: tuple[str, ...] = TRAINING_MODULES,
                              done: Callable[[], None] | None = None) -> None:
    """Once `window` is on screen: freeze start-up's objects, import `modules` one per event-loop
    turn (no busy cursor: nobody asked for anything yet), then freeze again and call `done`
    (the app's starts the spare training process: `TrainingPanel.start_spare`)."""

    def finish() -> None:
        freeze_objects("after the warm-up imports")
        if done is not None:
            done()

    def start() -> None:
        freeze_objects("after the first paint")
        steps = [lambda name=name: ensure_imported(name, busy_cursor=False) for name in modules]
        run_in_steps(steps, done=finish)

    after_first_paint(window, start)

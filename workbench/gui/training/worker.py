"""Training off the GUI thread: a worker object moved to a QThread drives `workbench.runs.train_project`.

The engine calls its listeners synchronously on the training thread, at every optimizer step,
so the listener here only appends `(time.perf_counter(), event)` to a thread-safe `EventBuffer`
and, when the buffer was empty, emits one queued `events_pending` signal. The GUI drains the
whole buffer in one go at most every 34 ms (`Drainer`): a loop of thousands of steps per second
costs the event loop at most 30 small wake-ups per second, never one per step, and a paused run
none. A step's point is in the plot's data within one interval (plus the drain itself).

Stop, pause and resume are requests the engine checks between steps (`Trainer.request_stop`...);
nothing is ever killed. Every failure ends the run with a message: the engine's own (NaN loss,
out of memory, a failing forward pass) come back as a failed RunResult; the preparation's
(`prepare_run`: bad data, a network that does not fit) and anything unexpected are caught here.

With several CUDA devices, "all N GPUs" runs `workbench train --nproc N` as a child process
(`workbench.training.jobs`) and `DistributedWorker` follows its metrics.jsonl into the same buffer.

A distillation (Export > Distillation) is a run like any other: a RunRequest with `distill` set
makes the worker run `workbench.export.distill_runs.distill_run` instead of the project's own
training, with the same listener, stop, pause and results.

For benchmarks: `EventBuffer.put` stamps each event with `time.perf_counter()` on the training
thread (the per-step event timestamp; `EventBuffer.last_put_time` is the newest), and the plot
reports the newest stamp it has drawn (`LivePlot.points_appended`).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal, Slot

from workbench.errors import WorkbenchError
from workbench.gui.preload import TRAINING_MODULES, worker_thread
from workbench.project import Project
from workbench.training.events import StepEvent

log = logging.getLogger(__name__)

DRAIN_INTERVAL_MS = 34  # the GUI drains (and redraws the plot) at most this often: ≤ 30 Hz
CORES_LEFT_FOR_GUI = 1  # the training thread's intra-op pool leaves this many cores to the GUI


def limit_training_threads() -> int:
    """Give the calling (training) thread's torch pool all cores but one; returns its size.

    OpenMP's thread count is per calling thread, so the GUI thread and the CLI are untouched.
    On a 2-core machine, a 2-thread pool plus the GUI thread oversubscribe the cores: the
    pool's threads spin at every barrier while one of them waits for a core, and a small model
    trained ~5x slower than with one thread (and the GUI stuttered).
    """
    import os

    import torch

    cores = os.cpu_count() or 1
    if cores > CORES_LEFT_FOR_GUI:
        torch.set_num_threads(max(1, min(torch.get_num_threads(), cores - CORES_LEFT_FOR_GUI)))
    return torch.get_num_threads()


def make_thread(worker: QObject, entry: Callable[[], None], name: str,
                preload: tuple[str, ...] = TRAINING_MODULES) -> QThread:
    """A QThread (not started yet) that runs `entry`, a slot of `worker`, once started.

    `entry` must be a bound method of `worker`: connected to `started`, it then runs in the new
    thread (a plain function would be called in the GUI thread). Each worker's entry ends by
    quitting its own thread, so the thread finishes even while the GUI thread is blocked waiting
    for it (closing the window).

    Call it on the GUI thread: it first imports `preload` there (torch, the engine, the data
    loaders...), because a first import of torch in a worker thread can stall in PySide6's
    import hook, and moves garbage collection to the GUI thread (see workbench.gui.preload).
    """
    return worker_thread(worker, entry, name, preload)


def _quit_own_thread() -> None:
    QThread.currentThread().quit()


class EventBuffer:
    """Thread-safe FIFO between the training thread (put) and the GUI thread (drain).

    `put` never blocks: a deque append plus, when the GUI has drained everything since the last
    notice, one call of `notify` (which emits a queued signal). At most one notice is in flight.
    """

    def __init__(self, notify: Callable[[], None] | None = None) -> None:
        self._items: deque[tuple[float, Any]] = deque()
        self._lock = threading.Lock()
        self._notified = False
        self.notify = notify
        self.last_put_time = 0.0  # perf_counter of the newest item (the per-step event time)
        self.puts = 0  # items put so far (from the training thread)

    def put(self, item: Any) -> None:
        now = time.perf_counter()
        self._items.append((now, item))
        self.last_put_time = now
        self.puts += 1
        with self._lock:
            if self._notified:
                return
            self._notified = True
        if self.notify is not None:
            self.notify()

    def drain(self) -> list[tuple[float, Any]]:
        """Everything put so far, oldest first; the next put notifies again."""
        with self._lock:
            self._notified = False
        items = self._items
        return [items.popleft() for _ in range(len(items))]

    def __len__(self) -> int:
        return len(self._items)


class Drainer(QObject):
    """GUI side of an EventBuffer: `poke()` (the queued signal's slot) schedules a drain so that
    drains are at least `interval_ms` apart; `handler` receives the drained items."""

    def __init__(self, buffer: EventBuffer, handler: Callable[[list[tuple[float, Any]]], None],
                 interval_ms: int = DRAIN_INTERVAL_MS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.buffer = buffer
        self.handler = handler
        self.interval_ms = interval_ms
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self.drain)
        self._last = -math.inf
        self.drains = 0  # drains so far (some may find the buffer empty)

    @Slot()
    def poke(self) -> None:
        if self._timer.isActive():
            return
        since_ms = (time.perf_counter() - self._last) * 1000.0
        self._timer.start(int(max(0.0, self.interval_ms - since_ms)))

    @Slot()
    def drain(self) -> None:
        self._timer.stop()
        self._last = time.perf_counter()
        self.drains += 1
        items = self.buffer.drain()
        if items:
            self.handler(items)


@dataclass(frozen=True)
class DistillRequest:
    """A smaller student to train on a trained run's outputs, instead of the project's training."""

    teacher_run: Path
    student: str  # what `workbench distill --student` takes: a width factor ("0.5"), a preset, a project file
    settings: Any  # workbench.export.distill.DistillSettings (torch loads with the worker's modules)
    baseline: bool = False  # also train the student on the labels alone, to compare


@dataclass(frozen=True)
class RunRequest:
    """What to train: the editor's project as it is when Train is pressed."""

    project: Project
    run_dir: Path
    resume_from: Path | None = None
    fit_data: bool = False  # make the Input / last Linear / Embeddings follow the data
    results: bool = True  # evaluate on the validation set when the run ends
    results_checkpoint: str = "last"  # which model the results show: "last" or "best"
    nproc: int = 1  # > 1: a distributed job over that many local GPUs
    distill: DistillRequest | None = None  # set: distil `distill.teacher_run` into run_dir instead


@dataclass
class RunOutcome:
    """How a run ended, as the panel reports it."""

    status: str  # "finished" | "stopped" | "early_stopped" | "failed"
    message: str
    run_dir: Path
    summary: dict[str, Any] = field(default_factory=dict)
    changes: list[str] = field(default_factory=list)  # what fitting to the data changed

    @property
    def ok(self) -> bool:
        return self.status != "failed"


def _describe(exc: BaseException) -> str:
    if isinstance(exc, WorkbenchError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


class TrainingWorker(QObject):
    """Prepares and trains one run in its thread; control methods are called from the GUI thread."""

    events_pending = Signal()  # the buffer has items the GUI has not drained (at most one queued)
    prepared = Signal(object)  # dict: task, train_size, val_size, changes, description
    results_ready = Signal(object)  # RunResults, after a run that kept a checkpoint
    run_ended = Signal(object)  # RunOutcome

    def __init__(self, request: RunRequest) -> None:
        super().__init__()
        self.request = request
        self.buffer = EventBuffer(self.events_pending.emit)
        self._lock = threading.Lock()
        self._trainer: Any = None
        self._stop = False
        self._pause = False
        self._announced_steps = False
        self.steps_emitted = 0  # step events seen on the training thread

    # ----- control (GUI thread) --------------------------------------------------------------

    def request_stop(self) -> None:
        with self._lock:
            self._stop = True
            trainer = self._trainer
        if trainer is not None:
            trainer.request_stop()

    def request_pause(self) -> None:
        with self._lock:
            self._pause = True
            trainer = self._trainer
        if trainer is not None:
            trainer.request_pause()

    def request_resume(self) -> None:
        with self._lock:
            self._pause = False
            trainer = self._trainer
        if trainer is not None:
            trainer.request_resume()

    @property
    def is_paused(self) -> bool:
        with self._lock:
            return self._pause

    @property
    def trainer(self) -> Any:
        """The engine's Trainer once training has started (None while preparing)."""
        return self._trainer

    # ----- the training thread ----------------------------------------------------------------

    def _attach(self, trainer: Any) -> None:
        with self._lock:
            self._trainer = trainer
            stop, pause = self._stop, self._pause
        # Requests made while the data was loading apply from the first step.
        if stop:
            trainer.request_stop()
        elif pause:
            trainer.request_pause()

    def _listen(self, event: Any) -> None:
        if not self._announced_steps:
            self._announced_steps = True
            trainer = self._trainer
            self.buffer.put(("meta", {"steps_per_epoch": getattr(trainer, "steps_per_epoch", None),
                                      "epochs": getattr(getattr(trainer, "settings", None), "epochs", None),
                                      "start_step": getattr(trainer, "global_step", 0),
                                      "device": str(getattr(trainer, "device", ""))}))
        if type(event) is StepEvent:
            self.steps_emitted += 1
        self.buffer.put(event)

    @Slot()
    def run(self) -> None:
        request = self.request
        outcome: RunOutcome
        changes: list[str] = []
        try:
            from workbench.runs import prepare_run, train_project

            limit_training_threads()
            if request.distill is not None:
                outcome = self._distill(request.distill)
            else:
                prepared = prepare_run(request.project, None, request.project.dataset if request.fit_data else None)
                changes = list(prepared.changes)
                bundle = prepared.data
                self.prepared.emit({"task": bundle.task, "train_size": bundle.train_size, "val_size": bundle.val_size,
                                    "description": bundle.description, "changes": changes,
                                    "epochs": prepared.project.training.epochs})
                result = train_project(prepared, request.run_dir, listeners=[self._listen],
                                       resume_from=request.resume_from, on_trainer=self._attach)
                outcome = RunOutcome(result.status, result.message, request.run_dir, dict(result.summary), changes)
                if request.results and result.status != "failed":
                    self._evaluate(bundle)
        except Exception as exc:  # bad data, a network that does not fit, a bug: the app stays up
            if not isinstance(exc, WorkbenchError):
                log.exception("training run failed")
            message = _describe(exc)
            outcome = RunOutcome("failed", message, request.run_dir, {"status": "failed", "message": message}, changes)
            self.buffer.put(("failed", message))
        finally:
            with self._lock:
                self._trainer = None
        self.run_ended.emit(outcome)
        _quit_own_thread()

    def _distill(self, job: DistillRequest) -> RunOutcome:
        """The distillation as this worker's run; its failures raise to `run`, which reports them."""
        import json

        from workbench.export.distill_runs import distill_run

        request = self.request
        self.prepared.emit({"task": "", "train_size": 0, "val_size": 0, "description": "", "changes": [],
                            "epochs": job.settings.epochs})
        result = distill_run(job.teacher_run, job.student, request.run_dir, job.settings, name=request.project.name,
                             baseline=job.baseline, listeners=[self._listen], resume_from=request.resume_from,
                             on_trainer=self._attach)
        try:
            summary = json.loads((request.run_dir / "summary.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            summary = result.summary()
        if request.results:
            self._evaluate(None)
        message = result.verdict() if result.baseline is not None else ""
        return RunOutcome(result.status, message, request.run_dir, summary)

    def _evaluate(self, bundle: Any) -> None:
        from workbench.gui.training.results_data import compute_results

        try:
            results = compute_results(self.request.run_dir, bundle, self.request.results_checkpoint)
        except Exception as exc:  # a run without a checkpoint has no results: say so, keep the run
            log.warning("no results for %s: %s", self.request.run_dir, _describe(exc))
            return
        self.results_ready.emit(results)


class DistributedWorker(QObject):
    """Runs `workbench train --nproc N` as a child process and follows its run folder.

    Same signals as TrainingWorker; pause is not offered (ranks would time out waiting).
    """

    events_pending = Signal()
    prepared = Signal(object)
    results_ready = Signal(object)
    run_ended = Signal(object)

    POLL_S = 0.1

    def __init__(self, request: RunRequest, project_path: Path, log_path: Path) -> None:
        super().__init__()
        self.request = request
        self.project_path = project_path
        self.log_path = log_path
        self.buffer = EventBuffer(self.events_pending.emit)
        self._stop = threading.Event()
        self.job: Any = None
        self.steps_emitted = 0

    def request_stop(self) -> None:
        self._stop.set()

    def request_pause(self) -> None:
        log.warning("a distributed run cannot pause; stop it and resume from last.pt instead")

    def request_resume(self) -> None:
        pass

    is_paused = False
    trainer = None

    @Slot()
    def run(self) -> None:
        from workbench.training import jobs

        request = self.request
        try:
            self.job = jobs.start_distributed_job(self.project_path, request.nproc, request.run_dir,
                                                  resume_from=request.resume_from, log_path=self.log_path)
            self.prepared.emit({"task": "", "train_size": 0, "val_size": 0, "description": "",
                                "changes": [], "epochs": request.project.training.epochs})
            tail = jobs.MetricsTail(request.run_dir)
            stopping = False
            while True:
                if self._stop.is_set() and not stopping:
                    stopping = True
                    jobs.stop_job(self.job)  # blocks this thread, never the GUI
                ended = self.job.poll() is not None
                records = tail.poll()
                for record in records:
                    if record.get("kind") == "step":
                        self.steps_emitted += 1
                    self.buffer.put(record)
                if (ended and not records) or tail.finished:
                    break
                time.sleep(self.POLL_S)  # a worker thread: waiting on a child process's file
            if self.job.poll() is None:
                self.job.wait()
            outcome = self._outcome()
        except Exception as exc:
            if not isinstance(exc, WorkbenchError):
                log.exception("distributed run failed")
            message = _describe(exc)
            outcome = RunOutcome("failed", message, request.run_dir, {"status": "failed", "message": message})
            self.buffer.put(("failed", message))
        self.run_ended.emit(outcome)
        _quit_own_thread()

    def _outcome(self) -> RunOutcome:
        import json

        run_dir = self.request.run_dir
        try:
            summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            summary = {}
        status = str(summary.get("status") or ("finished" if self.job.returncode == 0 else "failed"))
        message = str(summary.get("message") or "")
        if status == "failed" and not message:
            message = f"the distributed job ended with exit code {self.job.returncode} (log: {self.log_path})"
        return RunOutcome(status, message, run_dir, summary)


class BackgroundTask(QObject):
    """Runs one function in a thread of its own (results of an older run, text sampling)."""

    done = Signal(object)
    failed = Signal(str)

    def __init__(self, fn: Callable[[], Any]) -> None:
        super().__init__()
        self.fn = fn

    @Slot()
    def run(self) -> None:
        try:
            value = self.fn()
        except Exception as exc:
            if not isinstance(exc, WorkbenchError):
                log.exception("background task failed")
            self.failed.emit(_describe(exc))
        else:
            self.done.emit(value)
        finally:
            _quit_own_thread()

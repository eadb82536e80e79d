"""Training off the GUI: a worker object in a QThread follows a training process that runs
`workbench.runs.train_project`.

The run trains in a process of its own (`workbench.training.child`, started through
`workbench.training.child_process`): a segfault, an abort on a CUDA error or the system killing
it for memory ends the run, never the window, and training shares no GIL with painting. The
worker sends it the job (plain JSON: the project, the run folder, the settings) and reads its
records from a pipe in the worker's thread: the engine's events as JSON records (step, epoch,
resumed, finished, failed), which it appends to a thread-safe `EventBuffer`, emitting one queued
`events_pending` signal when the buffer was empty. The GUI drains the whole buffer in one go at
most every 34 ms (`Drainer`): thousands of steps per second cost the event loop at most 30 small
wake-ups per second, never one per step, and a paused run none.

Stop, pause and resume are requests sent down the pipe, which the engine checks between steps
(`Trainer.request_stop`...); the process answers each with the last step it had sent, so at
most one more step follows. Every failure ends the run with a message: the engine's own (NaN
loss, out of memory, a failing forward pass) and the preparation's (bad data, a network that
does not fit) come back as the process's outcome; a process that dies without one is reported
with the signal that ended it ("training process ended unexpectedly: killed by signal 9
(SIGKILL) — often the system running out of memory; the run can be resumed from its last
checkpoint"), and its summary.json is marked failed. The process exits after its run, so GPU
memory goes back with it.

With several CUDA devices, "all N GPUs" runs `workbench train --nproc N` as a child process
(`workbench.training.jobs`) and `DistributedWorker` follows its metrics.jsonl into the same buffer.

A distillation (Export > Distillation) is a run like any other: a RunRequest with `distill` set
makes the training process run `workbench.export.distill_runs.distill_run` instead of the
project's own training, with the same records, stop, pause and results.

For benchmarks: `EventBuffer.put` stamps each record with `time.perf_counter()` when the worker
thread has read it from the pipe (`EventBuffer.last_put_time` is the newest), and the plot
reports the newest stamp it has drawn (`LivePlot.points_appended`).
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal, Slot

from workbench.errors import TrainingError, WorkbenchError
from workbench.gui.preload import TRAINING_MODULES, worker_thread
from workbench.project import Project

log = logging.getLogger(__name__)

DRAIN_INTERVAL_MS = 34  # the GUI drains (and redraws the plot) at most this often: ≤ 30 Hz
CORES_LEFT_FOR_GUI = 1  # the training process's intra-op pool leaves this many cores to the GUI


def training_threads() -> int:
    """The intra-op threads a training process gets: all cores but one, and no more than this
    process's own torch pool (which `workbench bench` sets).

    On a 2-core machine, a 2-thread pool plus the GUI thread oversubscribe the cores: the
    pool's threads spin at every barrier while one of them waits for a core, and a small model
    trained ~5x slower than with one thread (and the GUI stuttered).
    """
    import torch

    cores = os.cpu_count() or 1
    threads = torch.get_num_threads()
    if cores > CORES_LEFT_FOR_GUI:
        threads = max(1, min(threads, cores - CORES_LEFT_FOR_GUI))
    return threads


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
    estimate: dict[str, Any] | None = None  # the Estimate button's CostEstimate for this very project


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


@dataclass
class ChildTrainer:
    """What the worker knows of the training process's Trainer: its replies to the requests.

    `is_paused` turns True when the process has applied a pause, and `paused_after` is then the
    last step it had sent: the engine checks requests between steps, so at most the step under
    way follows. `stopping_after` is the same for a stop."""

    is_paused: bool = False
    paused_after: int | None = None
    stop_requested: bool = False
    stopping_after: int | None = None
    device: str = ""
    steps_per_epoch: int | None = None


def job_record(request: RunRequest, threads: int) -> dict[str, Any]:
    """The job the training process runs (workbench.training.child): plain JSON, no pickles."""
    from workbench.project import project_to_dict
    from workbench.training.child import PROTOCOL

    project = request.project
    distill = request.distill
    return {
        "kind": "job",
        "protocol": PROTOCOL,
        "cwd": os.getcwd(),  # where the app resolves relative paths (an unsaved project's data)
        "env": dict(os.environ),  # a spare was started earlier: the run sees the app's environment of now
        "name": project.name,
        "project": project_to_dict(project),
        "project_path": str(project.path) if project.path is not None else None,
        "run_dir": str(request.run_dir),
        "resume_from": str(request.resume_from) if request.resume_from is not None else None,
        "fit_data": request.fit_data,
        "estimate": request.estimate,
        "threads": threads,
        "log_level": logging.getLogger().getEffectiveLevel(),
        "distill": None if distill is None else {
            "teacher_run": str(distill.teacher_run), "student": distill.student,
            "settings": distill.settings.to_dict(), "baseline": distill.baseline},
    }


class TrainingWorker(QObject):
    """Runs one run in a training process (workbench.training.child) and follows it from its
    thread; control methods are called from the GUI thread.

    `spare`: a process started ahead of time (TrainingChild.start) that has imported torch and
    the engine; without one that is still usable, the worker starts a process itself.
    """

    events_pending = Signal()  # the buffer has items the GUI has not drained (at most one queued)
    prepared = Signal(object)  # dict: task, train_size, val_size, changes, description
    results_ready = Signal(object)  # RunResults, after a run that kept a checkpoint
    run_ended = Signal(object)  # RunOutcome

    def __init__(self, request: RunRequest, spare: Any = None) -> None:
        super().__init__()
        self.request = request
        self.buffer = EventBuffer(self.events_pending.emit)
        self._lock = threading.Lock()
        self._spare = spare
        self.child: Any = None  # the TrainingChild once the job is sent
        self._commands: list[str] = []  # requests made before the job was sent
        self._state = ChildTrainer()
        self._started = False  # the process announced its Trainer (the "meta" record)
        self._stop = False
        self._pause = False
        self.threads = training_threads()  # read here, on the GUI thread, where torch was preloaded
        self.steps_emitted = 0  # step records received from the training process
        self.last_step: int | None = None
        self.last_epoch: int | None = None

    # ----- control (GUI thread) --------------------------------------------------------------

    def _command(self, kind: str) -> None:
        with self._lock:
            child = self.child
            if child is None:
                self._commands.append(kind)
                return
        child.send({"kind": kind})

    def request_stop(self) -> None:
        with self._lock:
            self._stop = True
        self._command("stop")

    def request_pause(self) -> None:
        with self._lock:
            self._pause = True
        self._command("pause")

    def request_resume(self) -> None:
        with self._lock:
            self._pause = False
        self._command("resume")

    def abort(self) -> None:
        """End the training process now (the app cannot wait any longer for a clean stop)."""
        child = self.child
        if child is not None:
            child.kill()

    @property
    def is_paused(self) -> bool:
        with self._lock:
            return self._pause

    @property
    def trainer(self) -> ChildTrainer | None:
        """The training process's replies once training has started (None while preparing)."""
        return self._state if self._started else None

    @property
    def pid(self) -> int | None:
        """The training process's id once it has been started."""
        child = self.child
        return child.pid if child is not None else None

    # ----- the worker thread ------------------------------------------------------------------

    def _launch(self) -> Any:
        """A usable spare, or a new process; the job is sent, then any request made meanwhile."""
        from workbench.training.child_process import TrainingChild

        spare, self._spare = self._spare, None
        if spare is not None and not spare.usable():
            spare.end()
            spare = None
        child = spare if spare is not None else TrainingChild.start()
        job = job_record(self.request, self.threads)
        with self._lock:
            if not child.send(job):
                child.end()
                raise TrainingError("the training process ended before it was given the run")
            self.child = child
            commands, self._commands = self._commands, []
        for kind in commands:
            child.send({"kind": kind})
        return child

    @Slot()
    def run(self) -> None:
        from workbench.training.child_process import crash_message, mark_failed

        request = self.request
        outcome: RunOutcome | None = None
        failed_seen = False
        since = time.time()
        child: Any = None
        try:
            child = self._launch()
            for record in child.records():
                kind = record.get("kind")
                if kind == "step":
                    self.steps_emitted += 1
                    self.last_step = record.get("step")
                    self.buffer.put(record)
                elif kind in ("epoch", "resumed", "finished", "failed"):
                    if kind == "epoch":
                        self.last_epoch = record.get("epoch")
                    failed_seen = failed_seen or kind == "failed"
                    self.buffer.put(record)
                elif kind == "meta":
                    data = {k: v for k, v in record.items() if k != "kind"}
                    self._state.device = str(data.get("device") or "")
                    self._state.steps_per_epoch = data.get("steps_per_epoch")
                    self._started = True
                    self.buffer.put(("meta", data))
                elif kind == "memory":
                    self.buffer.put(("memory", (record.get("bytes"), str(record.get("what") or ""))))
                elif kind == "control":
                    self._control(record)
                elif kind == "prepared":
                    self.prepared.emit({k: v for k, v in record.items() if k != "kind"})
                elif kind == "outcome":
                    summary = record.get("summary")
                    outcome = RunOutcome(str(record.get("status") or "failed"), str(record.get("message") or ""),
                                         request.run_dir, summary if isinstance(summary, dict) else {},
                                         [str(c) for c in record.get("changes") or []])
            code = child.wait()
            if outcome is None:  # it died before saying how the run ended
                message = crash_message(code, request.run_dir)
                log.warning("%s (process %d, run folder %s)", message, child.pid, request.run_dir)
                mark_failed(request.run_dir, message, since, self.last_step, self.last_epoch)
                outcome = RunOutcome("failed", message, request.run_dir, {"status": "failed", "message": message})
        except Exception as exc:  # the process could not be started, a bug: the app stays up
            if not isinstance(exc, WorkbenchError):
                log.exception("training run failed")
            message = _describe(exc)
            outcome = RunOutcome("failed", message, request.run_dir, {"status": "failed", "message": message})
        finally:
            if child is not None:
                child.end()
        if outcome.status == "failed":
            if not failed_seen:
                self.buffer.put(("failed", outcome.message))  # the curve's run is over too
        elif request.results:
            self._evaluate()
        self.run_ended.emit(outcome)
        _quit_own_thread()

    def _control(self, record: dict[str, Any]) -> None:
        state, step = record.get("state"), record.get("step")
        if state == "paused":
            self._state.is_paused, self._state.paused_after = True, step
        elif state == "running":
            self._state.is_paused, self._state.paused_after = False, None
        elif state == "stopping":
            self._state.is_paused = False
            self._state.stop_requested, self._state.stopping_after = True, step

    def _evaluate(self) -> None:
        from workbench.gui.training.results_data import compute_results

        try:
            results = compute_results(self.request.run_dir, None, self.request.results_checkpoint)
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

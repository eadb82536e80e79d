"""One training run in a process of its own, for the app: `python -m workbench.training.child`. No Qt.

The app trains in a child process so that a crash of native code (a segfault, an abort on a
CUDA error, the system killing the process for memory) ends the run, not the window, and so
that training shares no GIL with painting. The parent side is `workbench.training.child_process`.

The process starts as a spare: it imports torch and the engine and takes one small optimizer
step (torch imports its compiler stack, ~1.5 s, at the first optimizer it builds), says
`{"kind": "ready"}` and waits for a job on stdin. A job (which brings the app's environment
variables and working folder of the moment: the spare may be minutes old) trains through `workbench.runs`
`prepare_run` + `train_project`, the same path as `workbench train` (or distils, through
`workbench.export.distill_runs.distill_run`), and the process exits when it is done: GPU memory
goes back with it. Everything crossing the pipes is one JSON object per line, never a pickle:

    parent -> child (stdin)     {"kind": "job", ...} once, then {"kind": "stop" | "pause" | "resume"}
    child -> parent (stdout)    {"kind": "ready"}, {"kind": "prepared", ...}, {"kind": "meta", ...},
                                the engine's events as their to_dict() records ("step", "epoch",
                                "resumed", "finished", "failed"), {"kind": "memory", ...} now and
                                then, {"kind": "control", ...} after each command, and last
                                {"kind": "outcome", "status", "message", "summary", "changes"}

The records go out on a duplicate of the original stdout; file descriptor 1 then points at
stderr, so whatever a library prints cannot corrupt them. Step records are buffered and
flushed at most every FLUSH_INTERVAL_S (any other record is flushed at once). The reply to a
stop or pause ("control") carries the last step already sent: the engine checks requests
between steps, so at most one more step follows it. The end of stdin (the app closed, or died)
is a stop request: the run ends after its step and keeps last.pt.

Tests only: WORKBENCH_TEST_CHILD_FAULT="STEP:MODE" makes the process fail on purpose right
after sending step STEP (0: before the run is prepared); see `arm_test_fault`.
"""

from __future__ import annotations

import faulthandler
import gc
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

log = logging.getLogger(__name__)

PROTOCOL = 1  # the job record's format; a parent and child of different versions refuse each other
FLUSH_INTERVAL_S = 0.02  # step records reach the parent at least this often (the GUI drains every 34 ms)
MEMORY_INTERVAL_S = 0.5  # how often the memory in use is sent along with the steps
FAULT_ENV = "WORKBENCH_TEST_CHILD_FAULT"  # tests only: "STEP:raise|segfault|abort|kill|exit"
FAULT_MODES = ("raise", "segfault", "abort", "kill", "exit")
# What a spare imports before it says it is ready: what a run needs first.
WARM_MODULES = ("torch", "workbench.runs", "workbench.data.loading", "workbench.training",
                "workbench.training.engine", "workbench.project")


class EventPipe:
    """The records to the parent: one JSON object per line, written under a lock from any thread."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._lock = threading.Lock()
        self._flushed = 0.0
        self.last_step: int | None = None  # the newest step record written
        self.broken = False  # the parent is gone: records are dropped

    def send(self, record: dict[str, Any]) -> None:
        """Write `record` and flush."""
        from workbench.files import finite_json

        line = json.dumps(finite_json(record), allow_nan=False).encode("utf-8") + b"\n"
        with self._lock:
            self._write(line, flush=True)

    def send_step(self, event: Any) -> None:
        """A StepEvent, flushed only when FLUSH_INTERVAL_S has passed since the last flush."""
        from workbench.training.run_writer import step_line

        line = step_line(event).encode("utf-8")
        now = time.monotonic()
        with self._lock:
            self.last_step = event.step
            self._write(line, flush=now - self._flushed >= FLUSH_INTERVAL_S)

    def send_control(self, state: str, apply: Callable[[], None]) -> None:
        """Apply a request and say so, with the last step sent before it (under the lock, so
        that no step record can fall between the request and the reply)."""
        apply()
        from workbench.files import finite_json

        with self._lock:
            record = {"kind": "control", "state": state, "step": self.last_step}
            self._write(json.dumps(finite_json(record)).encode("utf-8") + b"\n", flush=True)

    def flush(self) -> None:
        with self._lock:
            self._write(b"", flush=True)

    def _write(self, data: bytes, flush: bool) -> None:
        if self.broken:
            return
        try:
            if data:
                self._out.write(data)
            if flush:
                self._out.flush()
                self._flushed = time.monotonic()
        except (BrokenPipeError, OSError, ValueError):
            self.broken = True  # the parent is gone; its end of stdin closing stops the run


class Control:
    """Stop / pause / resume from the parent, applied to the engine's Trainer once it exists."""

    def __init__(self, pipe: EventPipe) -> None:
        self.pipe = pipe
        self._lock = threading.Lock()
        self.trainer: Any = None
        self._stop = False
        self._pause = False

    def attach(self, trainer: Any) -> None:
        """`train_project`'s on_trainer: requests made while the data was loading apply from the first step."""
        with self._lock:
            self.trainer = trainer
            stop, pause = self._stop, self._pause
        if stop:
            trainer.request_stop()
        elif pause:
            trainer.request_pause()

    def command(self, kind: str) -> None:
        """One command from the parent; an unknown one is logged and ignored."""
        if kind == "stop":
            self.pipe.send_control("stopping", self._request_stop)
        elif kind == "pause":
            self.pipe.send_control("paused", self._request_pause)
        elif kind == "resume":
            self.pipe.send_control("running", self._request_resume)
        else:
            log.warning("unknown command from the app: %r", kind)

    def _request_stop(self) -> None:
        with self._lock:
            self._stop = True
            trainer = self.trainer
        if trainer is not None:
            trainer.request_stop()

    def _request_pause(self) -> None:
        with self._lock:
            self._pause = True
            trainer = self.trainer
        if trainer is not None:
            trainer.request_pause()

    def _request_resume(self) -> None:
        with self._lock:
            self._pause = False
            trainer = self.trainer
        if trainer is not None:
            trainer.request_resume()

    def read_commands(self, source: LineReader) -> None:
        """Apply commands from `source` until it ends; its end is a stop (the parent is gone)."""
        for line in iter(source.readline, b""):
            record = _parse(line)
            if record is not None:
                self.command(str(record.get("kind")))
        self._request_stop()


class LineReader:
    """Lines from a file descriptor through os.read: a thread blocked here holds no lock of
    Python's buffered stdin, which the interpreter would wait for at exit (a fatal error)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._buffer = b""

    def readline(self) -> bytes:
        """The next line with its newline; b"" at the end of the stream."""
        while b"\n" not in self._buffer:
            try:
                chunk = os.read(self.fd, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                line, self._buffer = self._buffer, b""
                return line
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line + b"\n"


def _parse(line: bytes) -> dict[str, Any] | None:
    try:
        record = json.loads(line)
    except (UnicodeDecodeError, ValueError):
        log.warning("unreadable line from the app: %r", line[:80])
        return None
    return record if isinstance(record, dict) else None


def memory_in_use(device: str) -> tuple[int | None, str]:
    """(bytes, what they measure) for the device this process trains on: the CUDA caching
    allocator's reserve, MPS's allocations, else this process's resident memory."""
    try:
        import torch

        if device.startswith("cuda"):
            return int(torch.cuda.memory_reserved(int(device.partition(":")[2] or 0))), "cuda"
        if device == "mps":
            return int(torch.mps.current_allocated_memory()), "mps"
    except Exception:  # a device gone away: report nothing rather than fail the run
        return None, device
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE"), "process"
    except (OSError, ValueError, IndexError, AttributeError):
        pass
    try:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return (peak if sys.platform == "darwin" else peak * 1024), "process"
    except (ImportError, OSError):
        return None, "process"


class Forwarder:
    """The listener that sends the engine's events to the parent (after the run writer's own),
    and every MEMORY_INTERVAL_S the memory in use (`{"kind": "memory", "bytes", "what"}`)."""

    def __init__(self, pipe: EventPipe, control: Control, fault: Callable[[int], None] | None = None) -> None:
        self.pipe = pipe
        self.control = control
        self.fault = fault
        self._announced = False
        self._device = ""
        self._memory_at = -float("inf")

    def __call__(self, event: Any) -> None:
        from workbench.training.events import StepEvent

        if not self._announced:
            self._announced = True
            trainer = self.control.trainer
            settings = getattr(trainer, "settings", None)
            self._device = str(getattr(trainer, "device", ""))
            self.pipe.send({"kind": "meta", "steps_per_epoch": getattr(trainer, "steps_per_epoch", None),
                            "epochs": getattr(settings, "epochs", None),
                            "start_step": getattr(trainer, "global_step", 0), "device": self._device})
        if type(event) is StepEvent:
            self.pipe.send_step(event)
            now = time.monotonic()
            if now - self._memory_at >= MEMORY_INTERVAL_S:
                self._memory_at = now
                used, what = memory_in_use(self._device)
                if used is not None:
                    self.pipe.send({"kind": "memory", "bytes": used, "what": what})
            if self.fault is not None:
                self.fault(event.step)
        else:
            self.pipe.send(event.to_dict())


def arm_test_fault(pipe: EventPipe | None = None,
                   environ: dict[str, str] | None = None) -> Callable[[int], None] | None:
    """Tests only: with WORKBENCH_TEST_CHILD_FAULT="STEP:MODE", a function to call with each step
    sent (0 before the run is prepared) that, at STEP, flushes `pipe` and then fails: "raise"
    raises RuntimeError (STEP 0 only: the engine keeps a failing listener from ending a run),
    "segfault" sends the process SIGSEGV, "abort" calls os.abort() (SIGABRT, as a failed check in
    native code does), "kill" sends it SIGKILL (as the system does when memory runs out), "exit"
    leaves with os._exit(3). None without the variable: nothing is armed."""
    from workbench.errors import TrainingError

    spec = (os.environ if environ is None else environ).get(FAULT_ENV)
    if not spec:
        return None
    at_text, _, mode = spec.partition(":")
    if not at_text.strip().isdigit() or mode not in FAULT_MODES or (mode == "raise" and int(at_text) != 0):
        raise TrainingError(f"{FAULT_ENV}={spec!r}: expected STEP:{'|'.join(FAULT_MODES)} (raise only at step 0)")
    at = int(at_text)

    def fault(step: int) -> None:
        if step != at:
            return
        log.warning("injecting the test fault %r at step %d (%s is set)", mode, step, FAULT_ENV)
        if pipe is not None:
            pipe.flush()  # the parent sees every step up to this one
        if mode == "raise":
            raise RuntimeError(f"test fault injected before the run was prepared ({FAULT_ENV})")
        sys.stderr.flush()
        if mode == "exit":
            os._exit(3)
        if mode == "abort":
            os.abort()
        os.kill(os.getpid(), signal.SIGSEGV if mode == "segfault" else getattr(signal, "SIGKILL", signal.SIGTERM))
        time.sleep(10)  # the signal arrives before this ends

    return fault


_STARTED_WITH = dict(os.environ)  # this process's environment before anything was imported


def take_environment(environ: dict[str, str]) -> None:
    """The app's environment of now, for the run (this process may have been started a while
    ago): its variables set, those it has removed since this process started removed. What a
    library set here for itself stays."""
    for name in _STARTED_WITH.keys() - environ.keys():
        os.environ.pop(name, None)
    os.environ.update({str(k): str(v) for k, v in environ.items()})


def _estimate(record: Any) -> Any:
    """The app's estimate for this run (made with its Estimate button), recorded in summary.json
    beside the measured time; False when there is none or it cannot be read."""
    from workbench.training.cost import CostEstimate

    if not isinstance(record, dict):
        return False
    try:
        return CostEstimate(**record)
    except TypeError:  # written by another version
        return False


def _describe(exc: BaseException) -> str:
    from workbench.errors import WorkbenchError

    if isinstance(exc, WorkbenchError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def warm_up() -> None:
    """Import what a run needs and take one optimizer step on a tiny network: the first
    optimizer torch builds imports its compiler stack (~1.5 s) and the first convolution
    sets up its kernels, which would otherwise fall between the Train click and the first step."""
    import importlib

    for name in WARM_MODULES:
        importlib.import_module(name)
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a spare stays light; the job sets its own count
    try:
        net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU(), torch.nn.Flatten(),
                                  torch.nn.Linear(2 * 6 * 6, 3))
        optimizer = torch.optim.Adam(net.parameters())
        loss = torch.nn.functional.cross_entropy(net(torch.zeros(2, 1, 8, 8)), torch.zeros(2, dtype=torch.long))
        loss.backward()
        optimizer.step()
    finally:
        torch.set_num_threads(threads)


def run_job(job: dict[str, Any], pipe: EventPipe, control: Control) -> dict[str, Any]:
    """Train (or distil) what `job` says; returns the outcome record. Never raises: a problem
    becomes a failed outcome with its message (a bug's traceback goes to the log)."""
    from workbench.errors import WorkbenchError

    changes: list[str] = []
    try:
        if job.get("protocol") != PROTOCOL:
            raise WorkbenchError(f"the training process speaks protocol {PROTOCOL}, the app sent "
                                 f"{job.get('protocol')!r}: reinstall Workbench")
        if isinstance(job.get("env"), dict):
            take_environment(job["env"])
        if job.get("cwd"):
            os.chdir(job["cwd"])  # relative data paths resolve as they do in the app
        fault = arm_test_fault(pipe)
        if fault is not None:
            fault(0)
        import torch

        threads = int(job.get("threads") or 0)
        if threads > 0:
            torch.set_num_threads(threads)
        forward = Forwarder(pipe, control, fault)
        if job.get("distill"):
            return _distill(job, pipe, control, forward)
        from workbench.project import project_from_dict
        from workbench.runs import prepare_run, train_project

        project = project_from_dict(job["project"], origin="the project sent by the app")
        project.path = Path(job["project_path"]) if job.get("project_path") else None
        prepared = prepare_run(project, None, project.dataset if job.get("fit_data") else None)
        changes = list(prepared.changes)
        bundle = prepared.data
        from workbench.fit_to_data import param_edits

        # What fitting to the data changed, by node and param: the app's drawing follows it.
        fitted = param_edits(project.graph, prepared.project.graph)
        pipe.send({"kind": "prepared", "task": bundle.task, "train_size": bundle.train_size,
                   "val_size": bundle.val_size, "description": bundle.description, "changes": changes,
                   "fitted": {nid: {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}
                              for nid, params in fitted.items()},
                   "epochs": prepared.project.training.epochs,
                   "init": prepared.init.lines() if prepared.init is not None else []})
        resume = Path(job["resume_from"]) if job.get("resume_from") else None
        estimate = _estimate(job.get("estimate"))
        result = train_project(prepared, Path(job["run_dir"]), listeners=[forward], resume_from=resume,
                               on_trainer=control.attach, estimate=estimate)
        return {"kind": "outcome", "status": result.status, "message": result.message,
                "summary": dict(result.summary), "changes": changes}
    except Exception as exc:  # bad data, a network that does not fit, a bug: said in one line
        if not isinstance(exc, WorkbenchError):
            log.exception("training run failed")
        message = _describe(exc)
        return {"kind": "outcome", "status": "failed", "message": message,
                "summary": {"status": "failed", "message": message}, "changes": changes}


def _distill(job: dict[str, Any], pipe: EventPipe, control: Control, forward: Forwarder) -> dict[str, Any]:
    """The distillation as this process's run; its failures raise to `run_job`."""
    from workbench.export.distill import DistillSettings
    from workbench.export.distill_runs import distill_run

    spec = job["distill"]
    settings = DistillSettings(**spec["settings"])
    run_dir = Path(job["run_dir"])
    pipe.send({"kind": "prepared", "task": "", "train_size": 0, "val_size": 0, "description": "",
               "changes": [], "epochs": settings.epochs})
    resume = Path(job["resume_from"]) if job.get("resume_from") else None
    result = distill_run(spec["teacher_run"], spec["student"], run_dir, settings, name=job.get("name"),
                         baseline=bool(spec.get("baseline")), listeners=[forward], resume_from=resume,
                         on_trainer=control.attach)
    try:
        summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        summary = result.summary()
    message = result.verdict() if result.baseline is not None else ""
    return {"kind": "outcome", "status": result.status, "message": message, "summary": summary, "changes": []}


def _claim_stdout() -> BinaryIO:
    """The original stdout for the records; fd 1 (and print) go to stderr from now on."""
    sys.stdout.flush()
    fd = os.dup(1)
    os.dup2(2, 1)
    return os.fdopen(fd, "wb", buffering=1 << 16)


def main() -> int:
    """Warm up, say ready, run one job from stdin, exit. Returns the exit status (0 unless the
    app sent something that is not a job)."""
    # Ctrl+C in the app's terminal reaches this process too: the app decides, through stdin.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    faulthandler.enable()  # a native crash prints the Python stack to stderr before the process dies
    out = _claim_stdout()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    pipe = EventPipe(out)
    try:
        warm_up()
    except Exception:  # the job imports again and reports the error in its own words
        log.exception("the training process could not warm up")
    # What the imports left lives as long as the process: out of the collector's full passes,
    # which would otherwise scan torch's ~300k objects again during training (the app's GUI
    # process does the same after its warm-up, workbench.gui.preload.freeze_objects).
    gc.collect()
    gc.freeze()
    pipe.send({"kind": "ready", "pid": os.getpid(), "protocol": PROTOCOL})
    source = LineReader(sys.stdin.fileno())
    line = source.readline()
    if not line:
        return 0  # the app closed (or no longer needs a spare)
    job = _parse(line)
    if job is None or job.get("kind") != "job":
        log.error("expected a job from the app, got %r", line[:80])
        return 2
    logging.getLogger().setLevel(int(job.get("log_level") or logging.WARNING))
    control = Control(pipe)
    threading.Thread(target=control.read_commands, args=(source,), name="workbench-commands", daemon=True).start()
    outcome = run_job(job, pipe, control)
    pipe.send(outcome)
    try:
        out.close()
    except OSError:
        pass  # the app is gone
    return 0


def _exit(code: int) -> None:
    """Leave without the interpreter's teardown: with torch's compiler stack loaded it took ~3 s,
    during which the app would wait for the run's end. Every file of the run is closed by now
    (the run writer closes metrics.jsonl at the finish, summary.json is written atomically)."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


if __name__ == "__main__":
    _exit(main())

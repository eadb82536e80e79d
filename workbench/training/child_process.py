"""The app's side of a training process (`workbench.training.child`): start it, talk to it, say how it ended. No Qt.

    child = TrainingChild.start()        # imports torch and the engine meanwhile, then waits
    child.send({"kind": "job", ...})     # see workbench.training.child for the records
    for record in child.records():       # blocking: a worker thread's loop
        ...                              # {"kind": "step", "step": 12, ...}, last {"kind": "outcome", ...}
    child.send({"kind": "stop"})         # from any thread
    child.wait()                         # the exit status; describe_exit() says it in words

The process is `python -m workbench.training.child`, started with subprocess (fork + exec at
once, or posix_spawn: no Qt code ever runs in a forked copy of the app), with pipes on its stdin
and stdout and the app's stderr; nothing is pickled across. When the app closes, or dies,
the end of the child's stdin stops its run; `end_all` (also at exit) ends any child left.

A spare started ahead of time is used while it is alive and has no job (`usable`). The job
carries the app's environment of the moment, which the child takes over before the run (a
variable set since the spare started, a test's fault hook, is seen; one that only matters while
torch is imported, such as OMP_NUM_THREADS, is not: the app does not change those).
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from workbench.files import write_json_atomic

log = logging.getLogger(__name__)

MODULE = "workbench.training.child"
READ_POLL_S = 0.25  # how often a reader blocked on the pipe checks whether the process has ended
CLOSE_WAIT_S = 5.0  # an idle child told to go gets this long before it is killed
_CHUNK = 1 << 16

# Signals that end processes, with what usually sends them.
_SIGNAL_CAUSES = {
    "SIGKILL": "often the system running out of memory",
    "SIGSEGV": "a crash in native code (a segmentation fault)",
    "SIGBUS": "a crash in native code (a bus error)",
    "SIGABRT": "native code aborted, e.g. on a CUDA error or a failed internal check",
    "SIGILL": "native code ran an instruction this CPU lacks",
    "SIGFPE": "an arithmetic fault in native code",
    "SIGTERM": "another program ended it",
}
_WINDOWS_STATUS = {0xC0000005: "an access violation in native code", 0xC00000FD: "a stack overflow",
                   0xC0000409: "native code aborted (a failed check)"}

_live: weakref.WeakSet[TrainingChild] = weakref.WeakSet()


class TrainingChild:
    """One training process and its pipes."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process
        self.job_sent = False
        self.ready = False  # it said {"kind": "ready"}: warmed up, waiting for a job
        self._send_lock = threading.Lock()
        self._partial = b""
        self._pending: list[dict[str, Any]] = []
        self._ended = False

    @classmethod
    def start(cls, env: dict[str, str] | None = None) -> TrainingChild:
        """Start `python -m workbench.training.child`; returns at once (it warms up meanwhile)."""
        process = subprocess.Popen([sys.executable, "-m", MODULE], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=None, env=None if env is None else dict(env), close_fds=True)
        child = cls(process)
        _remember(child)
        log.debug("started training process %d", process.pid)
        return child

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def returncode(self) -> int | None:
        return self.process.poll()

    def usable(self) -> bool:
        """A spare that can take a job now: alive and unused."""
        return not self.job_sent and self.process.poll() is None

    def send(self, record: dict[str, Any]) -> bool:
        """Write one record to the child's stdin; False when the child is gone."""
        data = json.dumps(record, allow_nan=False).encode("utf-8") + b"\n"
        stdin = self.process.stdin
        with self._send_lock:
            if stdin is None or stdin.closed:
                return False
            try:
                stdin.write(data)
                stdin.flush()
            except (BrokenPipeError, OSError, ValueError):
                return False
            if record.get("kind") == "job":
                self.job_sent = True
        return True

    def read(self, timeout: float | None = READ_POLL_S) -> list[dict[str, Any]] | None:
        """The records that came within `timeout` (blocking; None: wait for some); None once
        the stream has ended: its stdout closed, or the process ended and nothing more came
        (a process it started may hold the pipe open)."""
        if self._pending:
            pending, self._pending = self._pending, []
            return pending
        if self._ended:
            return None
        stdout = self.process.stdout
        assert stdout is not None
        fd = stdout.fileno()
        if os.name == "posix":
            import select

            ready, _, _ = select.select([fd], [], [], timeout)
            if not ready:
                if self.process.poll() is not None:
                    return self._end()
                return []
        chunk = os.read(fd, _CHUNK)
        if not chunk:
            return self._end()
        lines = (self._partial + chunk).split(b"\n")
        self._partial = lines.pop()  # b"" after a newline, else a record still being written
        records = [r for r in map(_parse, lines) if r is not None]
        if any(r.get("kind") == "ready" for r in records):
            self.ready = True
        return records

    def _end(self) -> None:
        self._ended = True
        if self._partial.strip():
            log.warning("training process %d left a torn record: %r", self.pid, self._partial[:80])
        self._partial = b""
        return None

    def records(self) -> Iterator[dict[str, Any]]:
        """Every record until the stream ends (blocking: a worker thread's loop)."""
        while True:
            batch = self.read()
            if batch is None:
                return
            yield from batch

    def wait_ready(self, timeout: float) -> bool:
        """Block until the child has said it is ready (tests and benchmarks that want a warm spare
        before they measure); the records read meanwhile are kept for `read`."""
        deadline = time.monotonic() + timeout
        while not self.ready:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            batch = self.read(min(left, READ_POLL_S))
            if batch is None:
                return False
            self._pending.extend(batch)
        return True

    def wait(self, timeout: float | None = None) -> int | None:
        """The exit status once the process has ended (None if it is still running after `timeout`)."""
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def close_input(self) -> None:
        """End the child's stdin: an idle child exits, a training one stops after its step."""
        with self._send_lock:
            stdin = self.process.stdin
            if stdin is not None and not stdin.closed:
                try:
                    stdin.close()
                except OSError:
                    pass

    def kill(self) -> None:
        """End the process now (it keeps nothing of a run it is in: last.pt stays as it was)."""
        if self.process.poll() is None:
            try:
                self.process.kill()
            except OSError:
                pass

    def end(self, timeout: float = CLOSE_WAIT_S) -> int | None:
        """Tell the child to go (end of stdin), wait up to `timeout`, then kill it; returns its status.

        An idle spare that is still warming up reads its stdin only when done: it is ended at once."""
        if self.process.poll() is None and not self.job_sent:
            self.kill()
        self.close_input()
        code = self.wait(timeout)
        if code is None:
            log.warning("training process %d did not end within %.0f s; killing it", self.pid, timeout)
            self.kill()
            code = self.wait()
        for stream in (self.process.stdout,):
            if stream is not None:
                stream.close()
        _live.discard(self)
        return code


def _parse(line: bytes) -> dict[str, Any] | None:
    if not line.strip():
        return None
    try:
        record = json.loads(line)
    except (UnicodeDecodeError, ValueError):
        log.warning("skipping an unreadable line from the training process: %r", line[:80])
        return None
    return record if isinstance(record, dict) else None


def _remember(child: TrainingChild) -> None:
    if not getattr(_remember, "hooked", False):
        atexit.register(end_all)
        _remember.hooked = True  # type: ignore[attr-defined]
    _live.add(child)


def live_children() -> list[TrainingChild]:
    """Training processes started here that have not been ended (tests check that none is left)."""
    return [c for c in list(_live) if c.process.poll() is None]


def end_all(timeout: float = CLOSE_WAIT_S) -> None:
    """End every training process started here (the app is closing)."""
    for child in list(_live):
        child.end(timeout)


def describe_exit(code: int | None) -> str:
    """How a process ended, in words: "killed by signal 9 (SIGKILL) — often the system running
    out of memory", "exited with code 3"."""
    if code is None:
        return "is still running"
    if code < 0:
        number = -code
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        cause = _SIGNAL_CAUSES.get(name)
        return f"killed by signal {number} ({name})" + (f" — {cause}" if cause else "")
    if os.name == "nt" and code in _WINDOWS_STATUS:
        return f"ended with status {code:#x} — {_WINDOWS_STATUS[code]}"
    return f"exited with code {code} without saying why"


def crash_message(code: int | None, run_dir: Path) -> str:
    """The one line the app shows when the training process ended without an outcome."""
    text = f"training process ended unexpectedly: {describe_exit(code)}"
    if (run_dir / "checkpoints" / "last.pt").is_file():
        text += "; the run can be resumed from its last checkpoint"
    return text


def mark_failed(run_dir: Path, message: str, since: float, last_step: int | None = None,
                last_epoch: int | None = None) -> None:
    """Record in RUN_DIR/summary.json that the run failed with `message` (the process that would
    have written it is gone). A summary written by this run (after `since`, a time.time()) is
    kept and marked; an older one (of the run this one resumed) is replaced."""
    if not run_dir.is_dir():
        return  # the process died before the run folder existed: nothing to mark
    path = run_dir / "summary.json"
    summary: dict[str, Any] = {}
    try:
        if path.is_file() and path.stat().st_mtime >= since - 1.0:
            loaded = json.loads(path.read_text(encoding="utf-8"))
            summary = loaded if isinstance(loaded, dict) else {}
    except (OSError, ValueError):
        log.warning("cannot read %s; writing a new one", path)
    summary["status"] = "failed"
    summary["message"] = message
    if last_step is not None:
        summary.setdefault("global_steps", last_step)
    if last_epoch is not None:
        summary.setdefault("epochs", last_epoch)
    last = run_dir / "checkpoints" / "last.pt"
    summary["last_checkpoint"] = str(last) if last.is_file() else None
    write_json_atomic(path, summary)

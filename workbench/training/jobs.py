"""A distributed job as a child process, for the app: start it, follow its metrics, stop it. No Qt.

The app trains on several GPUs by running `workbench train PROJECT --nproc N --out RUN_DIR` in a
child process (torchrun's launcher and its N workers, launcher.py) and following the run folder,
which rank 0 writes exactly as a single-process run does:

    job = start_distributed_job("my.json", nproc=2, run_dir=run_dir, overrides={"epochs": 10},
                                log_path=run_dir.with_suffix(".log"))
    tail = MetricsTail(run_dir)          # a GUI timer calls tail.poll() -> new records
    for record in follow_metrics(run_dir, job=job):   # or, in a worker thread, block on them
        ...                              # {"kind": "step", "step": 12, "loss": 0.41, ...}
    stop_job(job)                        # Stop: every rank ends after its current step

Records are metrics.jsonl's: kinds "step", "epoch", then "finished" or "failed". A job whose
rank 0 was killed never writes the last one; the launcher then marks summary.json as failed, so
read summary.json once the process has ended for the outcome and the message.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from workbench.errors import TrainingError
from workbench.training.run_writer import METRICS_NAME

log = logging.getLogger(__name__)

# Training settings the command line takes as options; others belong in the project file.
_OVERRIDE_FLAGS = {"epochs": "--epochs", "batch_size": "--batch-size", "lr": "--lr",
                   "seed": "--seed", "device": "--device"}
STOP_GRACE_S = 45.0  # the launcher itself waits 30 s for its workers before it kills them
_END_KINDS = ("finished", "failed")


def distributed_command(
    project_path: str | os.PathLike[str],
    nproc: int,
    run_dir: str | os.PathLike[str],
    overrides: Mapping[str, Any] | None = None,
    resume_from: str | os.PathLike[str] | None = None,
) -> list[str]:
    """The command line `start_distributed_job` runs."""
    if nproc < 1:
        raise TrainingError(f"a distributed job needs at least 1 process, got {nproc}")
    command = [sys.executable, "-m", "workbench", "train", str(project_path), "--nproc", str(nproc),
               "--out", str(Path(run_dir).resolve()), "--quiet"]
    for key, value in (overrides or {}).items():
        flag = _OVERRIDE_FLAGS.get(key)
        if flag is None:
            raise TrainingError(
                f"training setting {key!r} cannot be passed to a distributed job on the command "
                f"line (only {', '.join(sorted(_OVERRIDE_FLAGS))}); save it in the project file"
            )
        if value is not None:
            command += [flag, str(value)]
    if resume_from is not None:
        command += ["--resume", str(Path(resume_from).resolve())]
    return command


def start_distributed_job(
    project_path: str | os.PathLike[str],
    nproc: int,
    run_dir: str | os.PathLike[str],
    overrides: Mapping[str, Any] | None = None,
    *,
    resume_from: str | os.PathLike[str] | None = None,
    log_path: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start `workbench train PROJECT --nproc N --out RUN_DIR` as a child process; returns at once.

    The child leads its own process group, so `stop_job` can signal it without touching the app.
    Its output (the launcher's lines, rank 0's header, any error line) goes to `log_path` when
    given, else to this process's stdout/stderr; never to a pipe nobody reads, which would
    block the job once the pipe is full.
    """
    command = distributed_command(project_path, nproc, run_dir, overrides, resume_from)
    Path(run_dir).parent.mkdir(parents=True, exist_ok=True)
    out: Any = None
    if log_path is not None:
        out = open(log_path, "ab")  # noqa: SIM115  (the child holds it; closed below for us)
    kwargs: dict[str, Any] = {}
    if os.name == "posix":
        kwargs["start_new_session"] = True
    else:  # Windows: a group that can receive CTRL_BREAK_EVENT
        kwargs["creationflags"] = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)
    try:
        job = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT if out else None,
                               env=None if env is None else {**os.environ, **env}, **kwargs)
    finally:
        if out is not None:
            out.close()  # the child has its own copy of the descriptor
    log.info("started distributed job pid %d: %s", job.pid, " ".join(command))
    return job


def stop_job(job: subprocess.Popen[Any], timeout_s: float = STOP_GRACE_S) -> int:
    """Stop every rank cleanly and wait; returns the launcher's exit code.

    SIGTERM goes to the launcher's process group; the launcher forwards it to each worker (they
    run in sessions of their own), the ranks agree to stop after the current step and rank 0
    writes last.pt and summary.json. Whatever is still running after `timeout_s` is killed.
    """
    if job.poll() is not None:
        return job.returncode
    workers = _children(job.pid)  # known now: after a SIGKILL of the launcher they are orphans
    _signal_group(job, signal.SIGTERM if os.name == "posix" else getattr(signal, "CTRL_BREAK_EVENT"))
    try:
        return job.wait(timeout_s)
    except subprocess.TimeoutExpired:
        log.warning("distributed job %d did not stop within %.0f s; killing it", job.pid, timeout_s)
    kill = getattr(signal, "SIGKILL", signal.SIGTERM)
    for pid in workers | _children(job.pid):
        try:
            os.kill(pid, kill)
        except OSError:
            pass  # already gone
    _signal_group(job, kill)
    return job.wait()


def _signal_group(job: subprocess.Popen[Any], sig: int) -> None:
    try:
        if os.name == "posix":
            os.killpg(job.pid, sig)  # start_new_session made the launcher its group's leader
        else:
            job.send_signal(sig)
    except (ProcessLookupError, PermissionError):
        pass  # ended in the meantime


def _children(pid: int) -> set[int]:
    """Child process ids of `pid` (Linux /proc; elsewhere none are known)."""
    found: set[int] = set()
    proc = Path("/proc")
    if not proc.is_dir():
        return found
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses; split after the last ")".
        fields = stat.rpartition(")")[2].split()
        if len(fields) > 1 and fields[1] == str(pid):
            found.add(int(entry.name))
    return found


class MetricsTail:
    """Reads the records appended to RUN_DIR/metrics.jsonl since the last call; never blocks.

    A line is taken only once its newline is there, so a record being written is read whole on
    a later call. The file may not exist yet (the job is starting). `from_start=False` skips what
    is already there (a resumed run appends to its old file).
    """

    def __init__(self, run_dir: str | os.PathLike[str], from_start: bool = True) -> None:
        self.path = Path(run_dir) / METRICS_NAME
        self._offset = 0
        self._partial = b""
        self.finished = False  # a "finished" or "failed" record was read
        if not from_start and self.path.is_file():
            self._offset = self.path.stat().st_size

    def poll(self) -> list[dict[str, Any]]:
        """New complete records (possibly none)."""
        try:
            size = self.path.stat().st_size
        except OSError:
            return []  # not written yet
        if size < self._offset:  # replaced by a new file: start over
            self._offset, self._partial = 0, b""
        if size == self._offset:
            return []
        with open(self.path, "rb") as f:
            f.seek(self._offset)
            chunk = f.read(size - self._offset)
        self._offset += len(chunk)
        lines = (self._partial + chunk).split(b"\n")
        self._partial = lines.pop()  # b"" after a final newline, else a line still being written
        records = []
        for line in lines:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except (UnicodeDecodeError, json.JSONDecodeError):
                log.warning("skipping an unreadable line in %s: %r", self.path, line[:80])
                continue
            if isinstance(record, dict):
                records.append(record)
                if record.get("kind") in _END_KINDS:
                    self.finished = True
        return records


def follow_metrics(
    run_dir: str | os.PathLike[str],
    *,
    job: subprocess.Popen[Any] | None = None,
    poll_s: float = 0.2,
    timeout_s: float | None = None,
    from_start: bool = True,
) -> Iterator[dict[str, Any]]:
    """Yield metrics.jsonl's records as the file grows (blocking; for a thread or a script).

    Ends after a "finished" or "failed" record, when `job` has exited and nothing more came,
    or after `timeout_s`.
    """
    tail = MetricsTail(run_dir, from_start=from_start)
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while True:
        ended = job is not None and job.poll() is not None  # checked before reading: no race
        records = tail.poll()
        for record in records:
            yield record
            if record.get("kind") in _END_KINDS:
                return
        if ended and not records:
            return
        if deadline is not None and time.monotonic() >= deadline:
            return
        time.sleep(poll_s)

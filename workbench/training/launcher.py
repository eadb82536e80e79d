"""Starting a distributed job through torchrun's own launcher, and saying in one line how it ended.

`workbench train PROJECT --nproc N [--nnodes M --node-rank R --master ADDR:PORT]` calls
`launch_training`, which runs torch.distributed.run (the code behind the `torchrun` command) in
this process: its elastic agent starts N workers on this node, each `python -m workbench train
PROJECT ...` with the same arguments minus the launcher's, watches them every 0.1 s, and ends all
of them when one fails. Nothing here replaces that machinery; this module only

- builds torchrun's arguments: `--standalone` (a free port) for one node without --master,
  the static rendezvous at --master with --node-rank for several nodes;
- turns torchrun's ChildFailedError (a table per failed rank) into one line that names the rank
  that failed first, telling it from the ranks that merely lost contact with it (the error
  files the workers write, see distributed.record_failure);
- marks the run folder's summary.json as failed when rank 0 could not (it was the one killed);
- leaves this process as it found it (signal handlers, environment, log levels), so the launcher
  can run inside a test or another program.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.errors import WorkbenchError
from workbench.training.distributed import LAUNCHER_ENV, TIMEOUT_ENV, collective_timeout_s

log = logging.getLogger(__name__)

MONITOR_INTERVAL_S = 0.1  # how often the agent checks its workers (torchrun's default)
_HANDLED_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT")
                         if hasattr(signal, name))
# The agent's own messages; our one line replaces them unless --verbose.
_QUIET_LOGGERS = ("torch.distributed.run", "torch.distributed.launcher", "torch.distributed.elastic")


@dataclass(frozen=True)
class LaunchOutcome:
    """How a job ended, as this node's launcher saw it."""

    exit_code: int  # 0 all ranks finished; 1 a rank failed; 128+N the launcher got signal N
    message: str = ""  # one line, "" on success
    failed_rank: int | None = None
    signal: str | None = None  # "SIGINT" when the job was interrupted


def parse_master(text: str) -> tuple[str, int]:
    """ "ADDR:PORT" (IPv6 as [ADDR]:PORT) -> (addr, port); WorkbenchError saying the form."""
    addr, sep, port_text = text.strip().rpartition(":")
    if not sep or not addr or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise WorkbenchError(f"--master {text!r}: expected ADDR:PORT of the rank-0 machine, "
                             "e.g. 10.0.0.1:29500")
    return addr, int(port_text)


def torchrun_args(nproc: int, nnodes: int = 1, node_rank: int = 0, master: str | None = None) -> list[str]:
    """torchrun's options for this node (the part before `-m workbench train ...`)."""
    if nproc < 1:
        raise WorkbenchError(f"--nproc must be at least 1, got {nproc}")
    if nnodes < 1:
        raise WorkbenchError(f"--nnodes must be at least 1, got {nnodes}")
    if not 0 <= node_rank < nnodes:
        raise WorkbenchError(f"--node-rank must be between 0 and {nnodes - 1}, got {node_rank}")
    args = ["--nproc-per-node", str(nproc), "--nnodes", str(nnodes), "--max-restarts", "0",
            "--monitor-interval", str(MONITOR_INTERVAL_S)]
    if master is None:
        if nnodes > 1:
            raise WorkbenchError("--nnodes > 1 needs --master ADDR:PORT: the address of node 0, "
                                 "the same on every node")
        return args + ["--standalone"]  # a free local port: jobs side by side do not clash
    addr, port = parse_master(master)
    return args + ["--rdzv-backend", "static", "--node-rank", str(node_rank),
                   "--master-addr", addr, "--master-port", str(port)]


def launch_training(
    worker_args: Sequence[str],
    *,
    nproc: int,
    nnodes: int = 1,
    node_rank: int = 0,
    master: str | None = None,
    run_dir: Path | None = None,
    verbose: bool = False,
) -> LaunchOutcome:
    """Run `python -m workbench <worker_args>` as `nproc` workers on this node; wait for the job.

    `run_dir` is the run folder the workers were told (--out); on node 0 a failure that rank 0
    could not record is written into its summary.json.
    """
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import parse_args, run

    argv = [*torchrun_args(nproc, nnodes, node_rank, master), "--module", "workbench", *worker_args]
    log.info("torchrun %s", " ".join(argv))
    started = time.time()
    with _restored_process_state(quiet=not verbose), _env(**{LAUNCHER_ENV: "1"}):
        try:
            run(parse_args(argv))
        except ChildFailedError as exc:
            rank, line = describe_child_failure(exc)
            if run_dir is not None and node_rank == 0:
                _mark_failed(run_dir, line, rank, since=started)
            return LaunchOutcome(1, line, rank)
        except SignalException as exc:
            name = exc.sigval.name
            return LaunchOutcome(128 + int(exc.sigval), f"interrupted by {name}; every rank was "
                                 "asked to stop after its current step", signal=name)
    return LaunchOutcome(0)


def describe_child_failure(exc: Any) -> tuple[int | None, str]:
    """(the rank that failed first, one line saying how) from torchrun's ChildFailedError.

    Order of blame: a rank that reported its own error; then one that died without a word
    (killed by a signal other than the launcher's SIGTERM/SIGINT, or an exit code and no
    error file); then one that lost contact with the others; earliest first.
    """
    rows = []
    for rank, failure in exc.failures.items():
        # Without an error file torchelastic fills in placeholders ("<NONE>"): ignore them.
        has_file = bool(failure.error_file) and os.path.isfile(failure.error_file)
        data = failure.error_file_data if has_file and isinstance(failure.error_file_data, dict) else {}
        ours = data.get("workbench") if isinstance(data.get("workbench"), dict) else None
        if ours is not None:
            kind = ours.get("kind", "failed")
            line = (f"rank {rank} failed: {ours.get('message', '')}" if kind == "failed"
                    else f"rank {rank}: {ours.get('message', '')}")
            order = 0 if kind == "failed" else 2
            when = float(ours.get("time", failure.timestamp))
        elif failure.exitcode < 0:
            name = failure.signal_name()
            line = f"rank {rank} (pid {failure.pid}) was killed by {name}"
            order = 3 if name in ("SIGTERM", "SIGINT") else 1
            when = float(failure.timestamp)
        elif data.get("message"):  # an error file from other code (torchelastic's @record)
            message = data["message"]
            text = message.get("message", "") if isinstance(message, dict) else str(message)
            line, order, when = f"rank {rank} failed: {text}", 0, float(failure.timestamp)
        else:
            line = (f"rank {rank} (pid {failure.pid}) exited with code {failure.exitcode} "
                    "without an error message")
            order, when = 1, float(failure.timestamp)
        rows.append((order, when, rank, line))
    if not rows:
        return None, "the distributed job failed"
    order, _, rank, line = min(rows)
    # Ranks that all failed alike (a bad setting, a NaN every rank sees): name the lowest.
    alike = [r for o, _, r, text in rows if o == order and _without_rank(text) == _without_rank(line)]
    if alike and min(alike) != rank:
        rank = min(alike)
        line = next(text for _, _, r, text in rows if r == rank)
    timed_out = any(o == 2 and "Timed out" in text for o, _, _, text in rows)
    if order == 1 and timed_out:
        # The others waited the collective timeout for it; then the launcher killed it.
        line = (f"rank {rank} stopped responding: the other ranks timed out waiting for it "
                f"({_timeout_text()}), and the launcher ended it")
    line += "; the whole job was stopped"
    return rank, " ".join(line.split())  # one line, whatever the message held


def _without_rank(line: str) -> str:
    return line.split(" ", 2)[-1] if line.startswith("rank ") else line


def _timeout_text() -> str:
    try:
        return f"{TIMEOUT_ENV}={collective_timeout_s():g} s"
    except WorkbenchError:
        return TIMEOUT_ENV


def _mark_failed(run_dir: Path, line: str, rank: int | None, since: float) -> None:
    """Put the launcher's line into summary.json, or write one when rank 0 left none."""
    from workbench.training.run_writer import SUMMARY_NAME, write_json_atomic

    if not run_dir.is_dir():
        return  # rank 0 never got as far as the run folder: nothing to mark
    path = run_dir / SUMMARY_NAME
    summary: dict[str, Any] = {}
    try:
        if path.is_file() and path.stat().st_mtime >= since - 1.0:  # this job's, not a resumed one's
            loaded = json.loads(path.read_text(encoding="utf-8"))
            summary = loaded if isinstance(loaded, dict) else {}
    except (OSError, json.JSONDecodeError):
        log.warning("cannot read %s; writing a new one", path)
    summary["status"] = "failed"
    if summary.get("message") and summary.get("message") != line:
        summary["rank0_message"] = summary["message"]
    summary["message"] = line
    summary["failed_rank"] = rank
    last = run_dir / "checkpoints" / "last.pt"
    summary.setdefault("last_checkpoint", str(last) if last.is_file() else None)
    write_json_atomic(path, summary)


@contextlib.contextmanager
def _restored_process_state(quiet: bool) -> Iterator[None]:
    """torchrun's agent installs signal handlers and log levels for its own process; undo both."""
    handlers = {sig: signal.getsignal(sig) for sig in _HANDLED_SIGNALS}
    levels: dict[str, int] = {}
    if quiet:
        import torch.distributed.run  # noqa: F401  (creates the loggers so that we can set them)

        for name in list(logging.root.manager.loggerDict):
            if name.startswith(_QUIET_LOGGERS):
                logger = logging.getLogger(name)
                levels[name] = logger.level
                logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for sig, handler in handlers.items():
            if handler is not None:
                signal.signal(sig, handler)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


@contextlib.contextmanager
def _env(**values: str) -> Iterator[None]:
    """Environment variables for the workers (they inherit the launcher's environment)."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v

"""Following and reporting a job without starting one: metrics.jsonl read as it grows, the
command the app starts, torchrun's arguments, and torchrun's failure table turned into one line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from torch.distributed.elastic.multiprocessing.errors import ChildFailedError, ProcessFailure

from workbench.errors import TrainingError, WorkbenchError
from workbench.training import jobs
from workbench.training.launcher import describe_child_failure, parse_master, torchrun_args


def test_tail_reads_complete_lines_only(tmp_path: Path) -> None:
    tail = jobs.MetricsTail(tmp_path)
    assert tail.poll() == []  # the file does not exist yet
    path = tmp_path / "metrics.jsonl"
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps({"kind": "step", "step": 1}) + "\n" + '{"kind": "st')
    assert tail.poll() == [{"kind": "step", "step": 1}]
    assert tail.poll() == []  # the half line waits for its newline
    with open(path, "a", encoding="utf-8") as f:
        f.write('ep", "step": 2}\n\nnot json\n' + json.dumps({"kind": "finished"}) + "\n")
    assert tail.poll() == [{"kind": "step", "step": 2}, {"kind": "finished"}]
    assert tail.finished
    assert jobs.MetricsTail(tmp_path, from_start=False).poll() == []  # skips an old run's records


def test_follow_metrics_ends_with_the_run(tmp_path: Path) -> None:
    (tmp_path / "metrics.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in ({"kind": "step"}, {"kind": "failed"}, {"kind": "step"})))
    assert [r["kind"] for r in jobs.follow_metrics(tmp_path, poll_s=0.01)] == ["step", "failed"]
    assert list(jobs.follow_metrics(tmp_path / "never", poll_s=0.01, timeout_s=0.05)) == []


def test_the_command_the_app_starts(tmp_path: Path) -> None:
    command = jobs.distributed_command("p.json", 2, tmp_path / "run", {"epochs": 3, "lr": 0.01},
                                       resume_from=tmp_path / "last.pt")
    assert command[:6] == [sys.executable, "-m", "workbench", "train", "p.json", "--nproc"]
    assert command[6:9] == ["2", "--out", str((tmp_path / "run").resolve())]
    assert command[command.index("--epochs") + 1] == "3" and command[command.index("--lr") + 1] == "0.01"
    assert command[-2:] == ["--resume", str((tmp_path / "last.pt").resolve())]
    with pytest.raises(TrainingError, match="weight_decay"):
        jobs.distributed_command("p.json", 2, tmp_path, {"weight_decay": 0.1})
    with pytest.raises(TrainingError, match="at least 1"):
        jobs.distributed_command("p.json", 0, tmp_path)


def test_torchrun_arguments() -> None:
    assert torchrun_args(2)[-1] == "--standalone"
    multi = torchrun_args(4, nnodes=2, node_rank=1, master="10.0.0.1:29500")
    assert multi[multi.index("--master-addr") + 1] == "10.0.0.1" and multi[multi.index("--node-rank") + 1] == "1"
    assert multi[multi.index("--rdzv-backend") + 1] == "static"
    assert parse_master("[::1]:29500") == ("[::1]", 29500)
    for bad in ("host", ":29500", "host:0", "host:x"):
        with pytest.raises(WorkbenchError, match="ADDR:PORT"):
            parse_master(bad)
    with pytest.raises(WorkbenchError, match="--master"):
        torchrun_args(2, nnodes=2)


def _failure(tmp_path: Path, rank: int, exitcode: int, record: dict | None = None) -> ProcessFailure:
    error_file = tmp_path / f"error-{rank}.json"
    error_file.unlink(missing_ok=True)  # a killed process leaves none
    if record is not None:
        error_file.write_text(json.dumps({"message": {"message": record["message"], "extraInfo": {
            "py_callstack": record["message"], "timestamp": str(int(record["time"]))}}, "workbench": record}))
    return ProcessFailure(local_rank=rank, pid=1000 + rank, exitcode=exitcode, error_file=str(error_file))


def test_the_failed_rank_is_named_not_the_ones_that_lost_it(tmp_path: Path) -> None:
    lost = {"rank": 0, "kind": "peer_lost", "time": 10.0,
            "message": "lost contact with the other processes at step 5 (epoch 1): ..."}
    failed = {"rank": 1, "kind": "failed", "time": 10.5, "message": "training failed at step 5: boom"}
    # rank 0 wrote first, but it only lost contact: rank 1 is the cause
    exc = ChildFailedError("workbench", {0: _failure(tmp_path, 0, 1, lost), 1: _failure(tmp_path, 1, 1, failed)})
    rank, line = describe_child_failure(exc)
    assert rank == 1 and line.startswith("rank 1 failed: training failed at step 5: boom")
    assert "\n" not in line

    killed = ChildFailedError("workbench", {0: _failure(tmp_path, 0, 1, lost), 1: _failure(tmp_path, 1, -9)})
    assert describe_child_failure(killed) == (1, "rank 1 (pid 1001) was killed by SIGKILL; the whole job was stopped")

    silent = ChildFailedError("workbench", {1: _failure(tmp_path, 1, 3)})
    assert describe_child_failure(silent)[1].startswith("rank 1 (pid 1001) exited with code 3 without an error message")

    same = {"kind": "failed", "time": 11.0, "message": "distributed training runs on CUDA GPUs or on the CPU"}
    alike = ChildFailedError("workbench", {1: _failure(tmp_path, 1, 1, {**same, "rank": 1}),
                                           0: _failure(tmp_path, 0, 1, {**same, "rank": 0, "time": 11.2})})
    assert describe_child_failure(alike)[0] == 0  # every rank failed alike: the lowest is named

    hung = dict(lost, message="lost contact ... (Timed out waiting 3000ms for recv operation to complete)")
    timed_out = ChildFailedError("workbench", {0: _failure(tmp_path, 0, 1, hung), 1: _failure(tmp_path, 1, 4)})
    assert describe_child_failure(timed_out)[1].startswith("rank 1 stopped responding: the other ranks timed out")

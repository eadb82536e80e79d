"""Real 2-process jobs with gloo on this CPU, started the ways a user can start them: their own
`torchrun -m workbench train`, `workbench train --nproc 2`, and the app's start_distributed_job.

One launch costs ~6 s, so each test launches at most once and the 2-process run is shared.
"""

from __future__ import annotations

import json
import subprocess
import warnings
from pathlib import Path
from typing import Any

import pytest

from workbench.cli import main
from workbench.runs import load_run
from workbench.training import load_checkpoint
from workbench.training.distributed import parameters_digest
from workbench.training.jobs import follow_metrics, start_distributed_job, stop_job

pytestmark = pytest.mark.slow

# digits: 1437 training samples. Two ranks of 719 (one sample repeated) in batches of 16 take
# 45 steps an epoch, as one process does in batches of 32: the same effective batch.
STEPS_PER_EPOCH = 45


def _summary(run_dir: Path) -> dict[str, Any]:
    return json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))


def _records(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def two_ranks(torchrun, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """digits-mlp, 2 epochs, as the user's own `torchrun --nproc-per-node 2 -m workbench train`."""
    for attempt in range(2):
        run_dir = tmp_path_factory.mktemp("ddp") / "run"
        done = torchrun("train", "digits-mlp", "--epochs", "2", "--batch-size", "16", "--lr", "0.003",
                        "--out", str(run_dir), "--quiet")
        # gloo itself occasionally aborts a rank on this shared machine ("terminate called without
        # an active exception", SIGABRT; seen once in six runs, upstream: pytorch/gloo#514 and kin).
        # That is not what these tests are about, so such a run is launched once more; any other
        # failure, or a second abort, fails them.
        upstream_abort = "terminate called without an active exception" in done.stderr and "SIGABRT" in done.stderr
        if done.returncode == 0 or not upstream_abort or attempt == 1:
            break
        warnings.warn(f"gloo aborted a rank; launching the run again: {done.stderr[-400:]}", stacklevel=1)
    assert done.returncode == 0, done.stderr[-4000:]
    return run_dir, done


def test_two_ranks_write_one_run_folder(two_ranks) -> None:
    run_dir, done = two_ranks
    assert done.stderr.count("training digits-mlp on") == 1  # rank 0 alone speaks
    assert "effective batch 32 = batch 16 per process × 2 × grad_accum 1" in done.stderr
    assert "learning rate 0.003 used as set (not scaled with the number of processes)" in done.stderr
    assert done.stdout.count("finished: val_loss") == 1
    files = sorted(p.relative_to(run_dir).as_posix() for p in run_dir.rglob("*"))
    assert files == ["checkpoints", "checkpoints/best.pt", "checkpoints/last.pt", "data.json",
                     "metrics.jsonl", "project.json", "summary.json"]
    records = _records(run_dir)
    # One writer: each step once, in order, and the whole job's numbers (not one rank's).
    assert [r["step"] for r in records if r["kind"] == "step"] == list(range(1, 2 * STEPS_PER_EPOCH + 1))
    assert [r["kind"] for r in records if r["kind"] != "step"] == ["epoch", "epoch", "finished"]
    summary = _summary(run_dir)
    assert summary["status"] == "finished" and summary["project"] == "digits-mlp"
    assert summary["world_size"] == 2 and summary["effective_batch_size"] == 32 and summary["lr_scaling"] == "none"
    assert summary["epochs"] == 2 and summary["global_steps"] == 2 * STEPS_PER_EPOCH


def test_parameters_are_identical_across_ranks(two_ranks) -> None:
    run_dir, _ = two_ranks
    summary = _summary(run_dir)
    assert summary["replicas_identical"] is True  # every rank's digest, gathered at the end
    # ... and they are the weights in the checkpoint, loaded as a plain single-process model
    assert parameters_digest(load_run(run_dir, "last").model) == summary["parameters_digest"]


def test_accuracy_matches_one_process_with_the_same_effective_batch(two_ranks, tmp_path: Path, capsys) -> None:
    run_dir, _ = two_ranks
    one = tmp_path / "one"
    assert main(["train", "digits-mlp", "--epochs", "2", "--batch-size", "32", "--lr", "0.003",
                 "--out", str(one), "--quiet"]) == 0
    single, double = _summary(one), _summary(run_dir)
    assert single["global_steps"] == double["global_steps"]
    # The data order differs (DistributedSampler vs one shuffled loader); across seeds one
    # process lands between 0.94 and 0.96 here, so 0.03 is noise, and more would be a bug.
    assert abs(single["val_accuracy"] - double["val_accuracy"]) <= 0.03, (single, double)
    assert double["val_accuracy"] > 0.9


def test_a_two_rank_checkpoint_resumes_in_one_process(two_ranks, tmp_path: Path, capsys) -> None:
    run_dir, _ = two_ranks
    resumed = tmp_path / "resumed"
    assert main(["train", "digits-mlp", "--epochs", "3", "--batch-size", "32", "--lr", "0.003",
                 "--resume", str(run_dir / "checkpoints" / "last.pt"), "--out", str(resumed), "--quiet"]) == 0
    summary = _summary(resumed)
    assert summary["epochs"] == 3 and summary["global_steps"] == 3 * STEPS_PER_EPOCH
    assert "world_size" not in summary  # a plain run
    assert summary["val_accuracy"] >= _summary(run_dir)["val_accuracy"] - 0.03


@pytest.mark.parametrize("mode, says", [
    ("raise", "rank 1 failed: training failed at step 20: RuntimeError: test fault injected on rank 1"),
    ("kill", "rank 1 (pid "),
], ids=["exception", "killed"])
def test_a_failed_rank_ends_the_job_and_leaves_a_resumable_checkpoint(
        mode: str, says: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd) -> None:
    run_dir = tmp_path / "run"
    last = run_dir / "checkpoints" / "last.pt"
    monkeypatch.setenv("WORKBENCH_TEST_FAULT", f"1:20:{mode}")
    code = main(["train", "digits-mlp", "--epochs", "2", "--batch-size", "16", "--nproc", "2",
                 "--out", str(run_dir), "--quiet"])
    err = capfd.readouterr().err
    assert code == 1
    line = err.strip().splitlines()[-1]
    assert line.startswith(f"workbench: error: {says}"), err[-3000:]
    assert "the whole job was stopped" in line and f"continue with --resume {last}" in line
    if mode == "kill":
        assert "was killed by SIGKILL" in line
    summary = _summary(run_dir)
    assert summary["status"] == "failed" and summary["failed_rank"] == 1 and summary["message"] in line
    # Rank 0 saved the last good state: the weights after step 19, before the step that failed.
    state = load_checkpoint(last)
    assert state["epoch"] == 0 and state["global_step"] == 19

    monkeypatch.delenv("WORKBENCH_TEST_FAULT")
    assert main(["train", "digits-mlp", "--epochs", "1", "--resume", str(last), "--out", str(run_dir), "--quiet"]) == 0
    summary = _summary(run_dir)
    assert summary["status"] == "finished" and summary["global_steps"] == 19 + STEPS_PER_EPOCH


def test_a_rank_that_stops_responding_times_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd) -> None:
    monkeypatch.setenv("WORKBENCH_TEST_FAULT", "1:10:hang")
    monkeypatch.setenv("WORKBENCH_DIST_TIMEOUT_S", "3")
    code = main(["train", "digits-mlp", "--epochs", "1", "--nproc", "2", "--out", str(tmp_path / "run"), "--quiet"])
    line = capfd.readouterr().err.strip().splitlines()[-1]
    assert code == 1
    assert line.startswith("workbench: error: rank 1 stopped responding: the other ranks timed out waiting for it "
                           "(WORKBENCH_DIST_TIMEOUT_S=3 s)"), line


def test_the_app_starts_follows_and_stops_a_job(tmp_path: Path, capsys) -> None:
    first = tmp_path / "first"
    assert main(["train", "digits-mlp", "--epochs", "1", "--out", str(first), "--quiet"]) == 0
    run_dir, log_path = tmp_path / "job", tmp_path / "job.log"
    # A 1-process checkpoint continued by 2 processes, followed through metrics.jsonl.
    job = start_distributed_job("digits-mlp", 2, run_dir, {"epochs": 500, "batch_size": 16},
                                resume_from=first / "checkpoints" / "last.pt", log_path=log_path)
    try:
        steps, epochs = [], []
        for record in follow_metrics(run_dir, job=job, timeout_s=120):
            if record["kind"] == "step":
                steps.append(record["step"])
            elif record["kind"] == "epoch":
                epochs.append(record["epoch"])
                if len(epochs) == 2:
                    break
        code = stop_job(job)
    finally:
        if job.poll() is None:
            job.kill()
    assert steps[0] == STEPS_PER_EPOCH + 1 and epochs == [2, 3]
    assert code == 128 + 15, log_path.read_text()  # the launcher reports the SIGTERM it forwarded
    summary = _summary(run_dir)
    assert summary["status"] == "stopped" and summary["epochs"] >= 3
    assert load_checkpoint(run_dir / "checkpoints" / "last.pt")["epoch"] == summary["epochs"]
    log_text = log_path.read_text()
    assert "rank 0: SIGTERM received" in log_text and "rank 1: SIGTERM received" in log_text

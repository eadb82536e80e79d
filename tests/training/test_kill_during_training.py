"""kill -9 a `workbench train` process mid-run, then `--resume last.pt`: the run continues and
metrics.jsonl records each step and each epoch once.

last.pt lags behind the records (epoch-end checkpoints are written at most every 10 s), so a
killed run has records past its checkpoint; resuming used to append those epochs a second time.
The test kills the child once it has printed its third epoch line (a marker, not a timer).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.files import TEMP_SUFFIX
from workbench.training.checkpoint import load_checkpoint

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")

EPOCHS = 6
STEPS_PER_EPOCH = 45  # digits: 1437 training samples in batches of 32


def _records(run_dir: Path, whole_lines_only: bool = False) -> list[dict]:
    lines = (run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    if whole_lines_only:  # a killed writer may leave its last line half written
        lines = [line for line in lines if line.endswith("\n")]
    return [json.loads(line) for line in lines]


def test_a_run_killed_mid_training_resumes_with_no_record_twice(tmp_path: Path, capsys) -> None:
    run_dir = tmp_path / "run"
    child = subprocess.Popen([sys.executable, "-m", "workbench", "train", "digits-mlp", "--epochs", str(EPOCHS),
                              "--out", str(run_dir)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert child.stderr is not None
    seen = []
    for line in child.stderr:  # one line per epoch: stderr is not a terminal
        seen.append(line)
        if line.startswith("epoch 3/"):
            break
    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stderr.close()
    assert any(line.startswith("epoch 3/") for line in seen), "".join(seen)

    checkpoint = run_dir / "checkpoints" / "last.pt"
    at = load_checkpoint(checkpoint)["epoch"]
    recorded = [r["epoch"] for r in _records(run_dir, whole_lines_only=True) if r["kind"] == "epoch"]
    assert max(recorded) > at  # records past the checkpoint: what used to be written twice

    code = main(["train", "digits-mlp", "--epochs", str(EPOCHS), "--out", str(run_dir), "--resume", str(checkpoint),
                 "--quiet"])
    assert code == 0, capsys.readouterr().err
    records = _records(run_dir)  # every line is whole JSON: a torn last line was dropped too
    steps = [r["step"] for r in records if r["kind"] == "step"]
    assert steps == list(range(1, EPOCHS * STEPS_PER_EPOCH + 1))
    assert [r["epoch"] for r in records if r["kind"] == "epoch"] == list(range(1, EPOCHS + 1))
    assert [r["kind"] for r in records if r["kind"] not in ("step", "epoch")] == ["finished"]
    assert records[-1]["kind"] == "finished" and records[-1]["status"] == "finished"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["epochs"] == EPOCHS
    assert not [p for p in run_dir.rglob("*") if p.name.endswith(TEMP_SUFFIX)]

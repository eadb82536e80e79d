"""Ctrl+C during a trial: the trial is recorded as failed (in the study and its trial.json), the
command exits 130, and the same command continues the study with the next trial number."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from workbench.cli import main


@pytest.mark.slow
def test_ctrl_c_fails_the_running_trial_and_the_study_continues(tiny_search, tmp_path: Path, capsys) -> None:
    project, space = tiny_search
    storage = f"sqlite:///{tmp_path / 'digits.optuna.db'}"
    command = [sys.executable, "-m", "workbench", "tune", str(project), "--trials", "3", "--objectives", "val_loss",
               "--space", str(space), "--epochs", "500"]
    process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "OMP_NUM_THREADS": "1"})
    metrics = tmp_path / "runs" / "tune-digits" / "trial-0000" / "metrics.jsonl"
    try:
        deadline = time.monotonic() + 300  # a guard against a hang, not a timing check
        while not (metrics.is_file() and '"kind": "epoch"' in metrics.read_text()):
            assert process.poll() is None, process.communicate()[1]
            assert time.monotonic() < deadline, "no epoch finished"
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, err
    assert "the same command continues the study" in err
    (trial,) = optuna.load_study(study_name="digits", storage=storage).trials
    assert trial.state == TrialState.FAIL
    record = json.loads((tmp_path / "runs" / "tune-digits" / "trial-0000" / "trial.json").read_text())
    assert record["state"] == "FAIL" and "interrupted" in record["message"]

    assert main(["tune", str(project), "--trials", "1", "--objectives", "val_loss", "--space", str(space),
                 "--epochs", "1"]) == 0
    assert "trial   1  complete" in capsys.readouterr().out
    numbers = [(t.number, t.state) for t in optuna.load_study(study_name="digits", storage=storage).trials]
    assert numbers == [(0, TrialState.FAIL), (1, TrialState.COMPLETE)]

"""Two `workbench tune` processes on one SQLite study run trials at the same time, and the study
ends with every trial of both, each once, each with its own run folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

TRIALS_EACH = 3


@pytest.mark.slow
def test_two_processes_share_one_sqlite_study(tiny_search, tmp_path: Path) -> None:
    project, space = tiny_search
    storage = f"sqlite:///{tmp_path / 'shared.db'}"
    command = [sys.executable, "-m", "workbench", "tune", str(project), "--trials", str(TRIALS_EACH),
               "--objectives", "val_accuracy,params", "--space", str(space), "--storage", storage, "--study", "shared"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    processes = [subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  env=env) for _ in range(2)]
    outputs = [p.communicate(timeout=600) for p in processes]
    for process, (out, err) in zip(processes, outputs):
        assert process.returncode == 0, err
        assert "Pareto front:" in out

    study = optuna.load_study(study_name="shared", storage=storage)
    trials = study.get_trials()
    assert sorted(t.number for t in trials) == list(range(2 * TRIALS_EACH))  # none lost, none twice
    assert all(t.state == TrialState.COMPLETE for t in trials)
    workers = {t.user_attrs["worker"] for t in trials}
    assert len(workers) == 2
    by_worker = {w: [t for t in trials if t.user_attrs["worker"] == w] for w in workers}
    assert sorted(len(ts) for ts in by_worker.values()) == [TRIALS_EACH, TRIALS_EACH]
    first, second = by_worker.values()
    # At the same time: some trial of one process ran while a trial of the other was running.
    assert any(a.datetime_start < b.datetime_complete and b.datetime_start < a.datetime_complete
               for a in first for b in second)
    run_dirs = [Path(t.user_attrs["run_dir"]) for t in trials]
    assert len(set(run_dirs)) == len(trials)
    for trial, run_dir in zip(trials, run_dirs):
        record = json.loads((run_dir / "trial.json").read_text())
        assert (record["trial"], record["state"], record["values"]) == (trial.number, "COMPLETE", trial.values)
        assert record["params"] == trial.params
        assert json.loads((run_dir / "summary.json").read_text())["status"] == "finished"


@pytest.mark.slow
def test_parallel_starts_processes_that_share_the_trials(tiny_search, tmp_path: Path, capsys) -> None:
    from workbench.cli import main

    project, space = tiny_search
    assert main(["tune", str(project), "--trials", "3", "--parallel", "2", "--objectives", "val_loss",
                 "--space", str(space)]) == 0
    out = capsys.readouterr().out
    lines = [line.split() for line in out.splitlines() if line.startswith("trial ")]
    assert sorted(int(words[1]) for words in lines if words[1].isdigit()) == [0, 1, 2]  # each reported once
    study = optuna.load_study(study_name="digits", storage=f"sqlite:///{tmp_path / 'digits.optuna.db'}")
    assert sorted(t.number for t in study.trials) == [0, 1, 2]
    assert len({t.user_attrs["worker"] for t in study.trials}) == 2  # this process and one it started

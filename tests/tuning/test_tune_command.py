"""`workbench tune`: prints a line per trial and the best trials, continues a study on its
storage, prunes a single per-epoch objective, and records each trial in a normal run folder."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest

from workbench.cli import main
from workbench.errors import TuningError
from workbench.presets import resolve_project
from workbench.tuning import build_space, parse_objectives, run_trials
from workbench.tuning.runner import TuneOptions

from .conftest import TINY_SPACE


def test_a_second_tune_continues_the_study(tiny_search, tmp_path: Path, capsys) -> None:
    project, space = tiny_search
    args = ["tune", str(project), "--trials", "2", "--objectives", "val_accuracy,params", "--space", str(space)]
    assert main(args) == 0
    first = capsys.readouterr().out
    assert "trial   0  complete" in first and "trial   1  complete" in first
    assert "Pareto front:" in first
    assert main(args) == 0
    second = capsys.readouterr().out
    assert "trial   2  complete" in second and "trial   3  complete" in second
    assert "4 trials in the study (4 complete, 0 pruned, 0 failed)" in second
    storage = f"sqlite:///{tmp_path / 'digits.optuna.db'}"  # the default: beside the project file
    assert f"optuna-dashboard {storage}" in second
    study = optuna.load_study(study_name="digits", storage=storage)
    assert [t.number for t in study.trials] == [0, 1, 2, 3]
    # The front printed is the study's: every trial on it, none dominated.
    front = {t.number for t in study.best_trials}
    table = second.split("Pareto front:")[1]
    assert {int(line.split()[0]) for line in table.splitlines()[3:] if line[:1].isdigit()} == front


def test_every_trial_is_a_run_folder_with_its_trial_record(tiny_search, tmp_path: Path) -> None:
    project, space = tiny_search
    assert main(["tune", str(project), "--trials", "1", "--objectives", "val_loss", "--space", str(space)]) == 0
    run_dir = tmp_path / "runs" / "tune-digits" / "trial-0000"
    record = json.loads((run_dir / "trial.json").read_text())
    assert record["study"] == "digits" and record["trial"] == 0 and record["state"] == "COMPLETE"
    trained = json.loads((run_dir / "project.json").read_text())
    fc1 = next(n for n in trained["graph"]["nodes"] if n["name"] == "fc1")
    assert fc1["params"]["out_features"] == record["params"]["fc1.out_features"]
    assert trained["training"]["lr"] == record["params"]["lr"]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert record["values"] == [summary["val_loss"]]


def test_a_single_per_epoch_objective_is_reported_each_epoch(tmp_path: Path) -> None:
    project = resolve_project("digits-mlp")
    project.path = tmp_path / "digits.json"
    options = TuneOptions(trials=1, objectives=parse_objectives("val_accuracy"),
                          space=build_space(project, TINY_SPACE), storage=f"sqlite:///{tmp_path / 's.db'}",
                          study="s")
    assert options.prunes
    study = run_trials(project, options)
    (trial,) = study.trials
    assert sorted(trial.intermediate_values) == [1, 2]  # what the median pruner compares
    assert trial.intermediate_values[2] == trial.value


def test_multi_objective_trials_report_nothing_per_epoch(tmp_path: Path) -> None:
    project = resolve_project("digits-mlp")
    project.path = tmp_path / "digits.json"
    options = TuneOptions(trials=1, objectives=parse_objectives("val_accuracy,latency_ms"),
                          space=build_space(project, TINY_SPACE), storage=f"sqlite:///{tmp_path / 's.db'}",
                          study="s")
    assert not options.prunes
    (trial,) = run_trials(project, options).trials
    assert trial.intermediate_values == {}
    assert trial.values[1] > 0  # milliseconds of a forward pass, measured


def test_other_objectives_on_an_existing_study_are_refused(tiny_search, tmp_path: Path) -> None:
    project, space = tiny_search
    assert main(["tune", str(project), "--trials", "1", "--objectives", "val_loss", "--space", str(space)]) == 0
    with pytest.raises(TuningError, match="optimises val_loss, not params"):
        from workbench.tuning.command import tune_command

        tune_command(str(project), trials=1, objectives="params", space_file=str(space))

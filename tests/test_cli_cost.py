"""`workbench train --estimate` prints the estimate and exits; a run prints and records its
measured time beside the estimate; --log and --grid-intensity become run settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.cli import main


def test_estimate_prints_the_figures_and_trains_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["train", "digits-mlp", "--estimate", "--epochs", "3", "--device", "cpu",
                 "--grid-intensity", "100"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "estimate for digits-mlp: 3 epochs of 1,437 samples, batch 32, on cpu"
    assert out[1].startswith("  compute: 34 kFLOPs per sample (forward) × 1,437 samples × 3 epochs × 3")
    assert out[2].startswith("  time on cpu: ") and "timed over" in out[2]
    assert "15 W/core assumption" in out[3]
    assert out[4].startswith("  CO₂: ") and out[4].endswith("at a grid intensity of 100 g/kWh")
    assert not (tmp_path / "runs").exists()


def test_a_run_prints_and_records_the_measured_time_beside_the_estimate(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    assert main(["train", "digits-mlp", "--epochs", "1", "--device", "cpu", "--quiet", "--out", str(run),
                 "--log", "tensorboard", "--grid-intensity", "50"]) == 0
    summary = json.loads((run / "summary.json").read_text())
    cost = summary["cost"]
    assert cost["estimate"]["epochs"] == 1 and cost["estimate"]["grid_g_per_kwh"] == 50.0
    assert cost["measured"]["wall_s"] == summary["duration_s"]
    last = capsys.readouterr().out.splitlines()[-1]
    assert last.startswith(f"time: {summary['duration_s']:.1f} s measured, {cost['estimate']['time_s']:.1f} s estimated (")
    project = json.loads((run / "project.json").read_text())["training"]
    assert project["log_tensorboard"] is True and project["log_mlflow"] is False and project["grid_intensity"] == 50.0
    assert any((run / "tensorboard").glob("events.out.tfevents.*"))


def test_no_estimate_records_none(tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert main(["train", "digits-mlp", "--epochs", "1", "--device", "cpu", "--quiet", "--out", str(run),
                 "--no-estimate"]) == 0
    cost = json.loads((run / "summary.json").read_text())["cost"]
    assert cost["estimate"] is None and cost["measured"]["wall_s"] > 0

"""Run folders in, run folders out: export_run reads a trained run; distill_run writes a normal one."""

from __future__ import annotations

import json

import pytest

from workbench.errors import ExportError
from workbench.export import DistillSettings, ExportOptions, distill_run, export_run, read_metadata


@pytest.fixture(scope="module")
def teacher_run(tmp_path_factory):
    from workbench.presets import resolve_project
    from workbench.runs import prepare_run, train_project

    run_dir = tmp_path_factory.mktemp("runs") / "teacher"
    prepared = prepare_run(resolve_project("digits-mlp"), {"epochs": 2, "device": "cpu"})
    result = train_project(prepared, run_dir)
    assert result.status == "finished", result.message
    return run_dir


def test_export_a_run_folder(teacher_run, tmp_path) -> None:
    out = tmp_path / "export"
    report = export_run(teacher_run, out, ExportOptions(formats="onnx,code", quantize="int8-dynamic", latency_repeats=2))
    assert (out / "model.py").is_file() and (out / "model.safetensors").is_file()
    meta = read_metadata(out / "model.onnx")
    assert meta["project_name"] == "digits-mlp"
    assert meta["training_summary"]["epochs"] == 2
    assert "best_checkpoint" not in meta["training_summary"]
    assert report.variant("int8-dynamic").size_bytes <= 0.3 * report.variant("original").size_bytes
    assert report.variant("int8-dynamic").val_accuracy >= report.variant("original").val_accuracy - 0.01


def test_an_incomplete_run_folder_is_refused(tmp_path) -> None:
    (tmp_path / "run").mkdir()
    with pytest.raises(ExportError, match="project.json is missing"):
        export_run(tmp_path / "run", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_distilled_student_is_a_normal_run(teacher_run, tmp_path) -> None:
    from workbench.runs import load_run

    student_dir = tmp_path / "student"
    result = distill_run(teacher_run, "0.5", student_dir, DistillSettings(epochs=2))  # as the CLI passes it
    for name in ("project.json", "data.json", "metrics.jsonl", "summary.json", "checkpoints/best.pt", "checkpoints/last.pt"):
        assert (student_dir / name).is_file(), name
    lines = [json.loads(line) for line in (student_dir / "metrics.jsonl").read_text().splitlines()]
    # a normal run's records: steps (the live curve), then an epoch record per epoch, then the end
    assert [r["kind"] for r in lines if r["kind"] != "step"] == ["epoch", "epoch", "finished"]
    assert lines[0]["kind"] == "step" and {r["epoch"] for r in lines if r["kind"] == "step"} == {1, 2}
    summary = json.loads((student_dir / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["project"] == "digits-mlp-student"
    assert summary["student_parameters"] == summary["parameters"] and "teacher_val_accuracy" in summary
    assert summary["teacher_run"] == str(teacher_run)

    run = load_run(student_dir)  # what `workbench export` and the app read
    assert run.project.graph.node_by_name("fc1").params["out_features"] == 64
    assert sum(p.numel() for p in run.model.parameters()) == result.summary()["student_parameters"]
    report = export_run(student_dir, tmp_path / "student-export", ExportOptions(latency_repeats=2))
    assert report.variant("original").max_abs_diff <= 1e-4


def test_student_from_a_preset_must_fit_the_teacher(teacher_run, tmp_path) -> None:
    with pytest.raises(ExportError, match="the student takes"):
        distill_run(teacher_run, "tiny-gpt", tmp_path / "s", DistillSettings(epochs=1))
    with pytest.raises(ExportError, match="give a width factor such as 0.5"):
        distill_run(teacher_run, "no-such-preset", tmp_path / "s2", DistillSettings(epochs=1))
    assert not (tmp_path / "s").exists() and not (tmp_path / "s2").exists()

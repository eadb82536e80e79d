"""Distillation as a normal run of the training engine: run folder, events, stop and resume,
checkpoints in the engine's format, mixed precision, DDP, and the `workbench distill` command."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
import torch

from workbench.errors import ExportError
from workbench.export import DistillSettings, distill, distill_run, scale_widths
from workbench.export.distill import DistillationLoss, TeacherOutputs, distillation_loss, teaching
from workbench.export.distill_runs import DISTILLATION_FILE, distillation_settings
from workbench.graph.builder import build_model
from workbench.training import TrainSettings, load_checkpoint
from workbench.training.events import EpochEvent


@pytest.fixture(scope="module")
def teacher_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from workbench.presets import resolve_project
    from workbench.runs import prepare_run, train_project

    run_dir = tmp_path_factory.mktemp("runs") / "teacher"
    prepared = prepare_run(resolve_project("digits-mlp"), {"epochs": 2, "device": "cpu"})
    result = train_project(prepared, run_dir)
    assert result.status == "finished", result.message
    return run_dir


def records(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def test_a_distillation_writes_a_normal_run_folder(teacher_run: Path, tmp_path: Path) -> None:
    from workbench.runs import load_run

    out = tmp_path / "student"
    seen: list[object] = []
    result = distill_run(teacher_run, "0.5", out, DistillSettings(epochs=2, temperature=3.0, alpha=0.6),
                         listeners=[seen.append], overrides={"device": "cpu"})
    assert result.status == "finished"
    for name in ("project.json", "data.json", "metrics.jsonl", "summary.json", "checkpoints/best.pt",
                 "checkpoints/last.pt", DISTILLATION_FILE):
        assert (out / name).is_file(), name
    lines = records(out)
    steps = [r for r in lines if r["kind"] == "step"]
    epochs = [r for r in lines if r["kind"] == "epoch"]
    assert [r["epoch"] for r in epochs] == [1, 2] and lines[-1] == {**lines[-1], "kind": "finished", "status": "finished"}
    assert [r["step"] for r in steps] == list(range(1, len(steps) + 1)) and len(steps) == 2 * 45  # 1437 samples / 32
    assert all(0 < r["val_metrics"]["val_accuracy"] <= 1 for r in epochs)
    assert len(seen) == len(lines)  # the caller's listeners get the same events as the folder

    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["device"] == "cpu" and summary["global_steps"] == 90
    assert summary["project"] == "digits-mlp-student" and summary["teacher_run"] == str(teacher_run)
    # val_loss is the task loss (cross-entropy against the labels), not the distillation mix:
    # the engine's last validation and an independent evaluation of the student agree.
    assert summary["val_loss"] == pytest.approx(result.evaluation.val_loss, rel=1e-5)
    assert summary["student_val_loss"] == pytest.approx(summary["val_loss"], rel=1e-5)

    run = load_run(out)  # what the exporter and the app read
    assert run.project.training == TrainSettings(epochs=2, lr=3e-3, batch_size=32, seed=0, device="cpu")
    assert run.project.description.startswith("Distilled from digits-mlp (the teacher at 0.5× width), T=3, alpha=0.6")
    assert distillation_settings(out) == DistillSettings(epochs=2, temperature=3.0, alpha=0.6)


def test_stopped_after_one_epoch_it_resumes_to_the_end_like_an_unbroken_run(teacher_run: Path, tmp_path: Path) -> None:
    settings = DistillSettings(epochs=3)
    trainers: list[object] = []

    def stop_after_epoch_1(event: object) -> None:
        if isinstance(event, EpochEvent) and event.epoch == 1:
            trainers[-1].request_stop()  # type: ignore[attr-defined]

    out = tmp_path / "student"
    first = distill_run(teacher_run, "0.5", out, settings, listeners=[stop_after_epoch_1],
                        on_trainer=trainers.append, overrides={"device": "cpu"})
    assert first.status == "stopped" and len(trainers) == 1
    last = out / "checkpoints" / "last.pt"
    assert load_checkpoint(last)["epoch"] == 1
    assert json.loads((out / "summary.json").read_text())["status"] == "stopped"

    resumed = distill_run(teacher_run, None, out, resume_from=last)  # student and settings from the folder
    assert resumed.status == "finished"
    lines = records(out)
    assert [r["epoch"] for r in lines if r["kind"] == "epoch"] == [1, 2, 3]  # no epoch twice
    steps = [r["step"] for r in lines if r["kind"] == "step"]
    assert steps == list(range(1, 3 * 45 + 1))
    assert (lines[-1]["kind"], lines[-1]["status"]) == ("finished", "finished")
    assert json.loads((out / "summary.json").read_text())["status"] == "finished"

    straight = distill_run(teacher_run, "0.5", tmp_path / "straight", settings, overrides={"device": "cpu"})
    for key, value in straight.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[key]), key


def test_the_checkpoint_is_the_engines_and_holds_the_student_only(teacher_run: Path, tmp_path: Path) -> None:
    from workbench.runs import load_run

    out = tmp_path / "student"
    result = distill_run(teacher_run, "0.25", out, DistillSettings(epochs=1), overrides={"device": "cpu"})
    state = load_checkpoint(out / "checkpoints" / "last.pt")  # the engine's loader and its checks
    assert state["epoch"] == 1 and state["global_step"] == 45
    assert state["settings"] == load_run(out).project.training.to_dict()
    student = build_model(result.graph)
    assert set(state["model"]) == set(student.state_dict())  # no teacher weights in it
    student.load_state_dict(state["model"])
    for key, value in result.model.state_dict().items():
        assert torch.equal(value, state["model"][key])


def test_the_teacher_is_frozen_while_it_teaches_and_given_back(trained_mlp, kit, digits) -> None:
    graph, teacher = trained_mlp
    teacher.train()
    student = build_model(scale_widths(graph, 0.5).graph, seed=0)
    x = kit.val_inputs(digits, 4)
    with teaching(student, teacher):
        student.train()
        out = student(x)
        assert isinstance(out, TeacherOutputs) and out.teacher.shape == out.student.shape == (4, 10)
        assert not teacher.training and not any(p.requires_grad for p in teacher.parameters())
        assert out.teacher.grad_fn is None and out.student.grad_fn is not None
        student.eval()
        assert isinstance(student(x), torch.Tensor)  # validation sees the student alone
    assert teacher.training and all(p.requires_grad for p in teacher.parameters())
    assert isinstance(student.train()(x), torch.Tensor)  # the hook is gone


def test_the_loss_is_the_mix_in_training_and_the_task_loss_in_validation() -> None:
    torch.manual_seed(0)
    s, t, y = torch.randn(8, 5), torch.randn(8, 5), torch.randint(0, 5, (8,))
    loss = DistillationLoss("cross_entropy", 2.0, 0.5)
    assert loss.name == "cross_entropy"
    assert torch.allclose(loss(TeacherOutputs(s, t), y), distillation_loss(s, t, y, "cross_entropy", 2.0, 0.5))
    assert torch.allclose(loss(s, y), torch.nn.functional.cross_entropy(s, y))


def test_mixed_precision_distillation(trained_mlp, digits) -> None:
    graph, teacher = trained_mlp
    result = distill(teacher, scale_widths(graph, 0.5).graph, digits, DistillSettings(epochs=1),
                     run_settings=TrainSettings(device="cpu", precision="bf16"))
    assert result.status == "finished"
    assert result.evaluation.val_accuracy is not None and result.evaluation.val_accuracy > 0.5


def test_a_distillation_trains_as_a_rank_of_a_ddp_job(trained_mlp, digits, tmp_path: Path) -> None:
    import torch.distributed as dist

    from workbench.training.distributed import DistContext

    graph, teacher = trained_mlp
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1,
                            timeout=datetime.timedelta(seconds=30))
    try:
        group = DistContext(0, 0, 1, "gloo", torch.device("cpu"))
        summaries: list[dict] = []
        result = distill(teacher, scale_widths(graph, 0.5).graph, digits, DistillSettings(epochs=1),
                         checkpoint_dir=tmp_path / "ckpt", distributed=group,
                         listeners=[lambda e: summaries.append(e.summary) if hasattr(e, "summary") else None])
    finally:
        dist.destroy_process_group()
    assert result.status == "finished" and result.evaluation.val_accuracy > 0.5
    assert summaries[-1]["world_size"] == 1 and summaries[-1]["replicas_identical"] is True
    state = load_checkpoint(tmp_path / "ckpt" / "last.pt")
    assert set(state["model"]) == set(result.model.state_dict())  # the plain student, not DDP's names


def test_a_failed_distillation_keeps_its_run_folder_and_says_how_to_go_on(teacher_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "student"
    with pytest.raises(ExportError, match=r"the distillation failed: the loss became (nan|inf).*--resume"):
        distill_run(teacher_run, "0.5", out, DistillSettings(epochs=1, lr=1e30), overrides={"device": "cpu"})
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "failed" and summary["project"] == "digits-mlp-student"
    assert (out / "checkpoints" / "last.pt").is_file()


def test_resume_needs_a_checkpoint_and_a_distillation_folder(teacher_run: Path, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="no such checkpoint file"):
        distill_run(teacher_run, None, tmp_path / "x", resume_from=tmp_path / "x" / "last.pt")
    with pytest.raises(ExportError, match="no student given"):
        distill_run(teacher_run, None, tmp_path / "y")
    assert not (tmp_path / "y").exists()


def test_the_command_resumes_a_stopped_distillation(teacher_run: Path, tmp_path: Path, capsys) -> None:
    from workbench.cli import main

    out = tmp_path / "student"
    assert main(["distill", str(teacher_run), "--student", "0.5", "--epochs", "1", "--device", "cpu",
                 "--out", str(out)]) == 0
    assert "student:" in capsys.readouterr().out
    last = out / "checkpoints" / "last.pt"
    assert main(["distill", str(teacher_run), "--resume", str(last), "--epochs", "2"]) == 0
    printed = capsys.readouterr().out
    assert f"-> {out}" in printed
    assert [r["epoch"] for r in records(out) if r["kind"] == "epoch"] == [1, 2]
    assert distillation_settings(out).epochs == 2  # what a further --resume goes on with
    assert json.loads((out / "project.json").read_text())["training"]["epochs"] == 2

    assert main(["distill", str(teacher_run), "--out", str(tmp_path / "none")]) == 1
    assert "--student" in capsys.readouterr().err

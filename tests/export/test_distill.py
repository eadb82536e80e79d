"""Knowledge distillation: narrower students, the mixed loss, and an honest comparison."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from workbench.errors import ExportError
from workbench.export import DistillSettings, distill, scale_widths
from workbench.export.distill import distillation_loss
from workbench.graph.analysis import check
from workbench.graph.builder import build_model
from workbench.training.events import EpochEvent, FinishedEvent, StepEvent


def test_half_width_cnn_keeps_the_output_width(kit) -> None:
    scaled = scale_widths(kit.cnn_graph(), 0.5)
    assert scaled.changed == {"conv1": (16, 8), "conv2": (32, 16), "fc1": (64, 32)}
    assert "head" in scaled.kept
    check(scaled.graph)
    teacher, student = build_model(kit.cnn_graph()), build_model(scaled.graph)
    assert student.output_spec == teacher.output_spec


@pytest.mark.parametrize("preset", ["digits-vit", "tiny-gpt", "digits-resnet"])
def test_transformer_and_residual_students_stay_valid(preset, kit) -> None:
    graph = kit.preset_graph(preset)
    scaled = scale_widths(graph, 0.5)
    check(scaled.graph)  # heads still divide the width; Add inputs still match
    teacher, student = build_model(graph), build_model(scaled.graph)
    assert student.output_spec == teacher.output_spec
    assert sum(p.numel() for p in student.parameters()) < 0.5 * sum(p.numel() for p in teacher.parameters())


def test_bad_factor_is_refused(kit) -> None:
    with pytest.raises(ExportError, match="width factor"):
        scale_widths(kit.cnn_graph(), 0)


def test_loss_mixes_soft_targets_and_labels() -> None:
    torch.manual_seed(0)
    s, t, y = torch.randn(8, 5), torch.randn(8, 5), torch.randint(0, 5, (8,))
    assert torch.allclose(distillation_loss(s, t, y, "cross_entropy", 4.0, 0.0), F.cross_entropy(s, y))
    soft = F.kl_div(F.log_softmax(s / 2, -1), F.softmax(t / 2, -1), reduction="batchmean") * 4
    assert torch.allclose(distillation_loss(s, t, y, "cross_entropy", 2.0, 1.0), soft, atol=1e-6)
    assert distillation_loss(t, t, y, "cross_entropy", 3.0, 1.0).abs() < 1e-6  # matching the teacher costs nothing
    seq = distillation_loss(torch.randn(2, 4, 5), torch.randn(2, 4, 5), torch.randint(0, 5, (2, 4)), "cross_entropy", 2.0, 0.5)
    assert seq.ndim == 0  # language models: one term per token


def test_student_learns_from_the_teacher_and_is_compared_with_labels_only(trained_mlp, kit, digits) -> None:
    graph, teacher = trained_mlp
    teacher.train()
    student_graph = scale_widths(graph, 0.25).graph
    events: list[object] = []
    result = distill(teacher, student_graph, digits, DistillSettings(epochs=2, temperature=4.0, alpha=0.7, lr=3e-3),
                     baseline=True, listeners=[events.append])
    assert teacher.training  # the teacher's mode came back
    # The engine's events: steps and epochs, then the FinishedEvent (steps are new since the
    # distillation runs in the Trainer, so the app draws its curve live).
    assert [e.epoch for e in events if isinstance(e, EpochEvent)] == [1, 2]
    assert isinstance(events[-1], FinishedEvent) and events[-1].status == "finished"
    assert sum(isinstance(e, StepEvent) for e in events) == 2 * math.ceil(digits.train_size / 32)
    assert result.evaluation.val_accuracy > 0.8
    assert result.baseline is not None and result.baseline.val_accuracy is not None
    assert result.verdict().startswith(("distillation helped", "distillation did not help"))
    summary = result.summary()
    assert summary["student_parameters"] < 0.3 * sum(p.numel() for p in teacher.parameters())
    assert {"teacher_val_accuracy", "labels_only_val_accuracy", "verdict"} <= set(summary)


def test_student_must_match_the_teachers_input_and_output(trained_mlp, kit, digits) -> None:
    graph, teacher = trained_mlp
    with pytest.raises(ExportError, match="the student takes"):
        distill(teacher, kit.gpt_graph(), digits, DistillSettings(epochs=1))
    with pytest.raises(ExportError, match="temperature"):
        DistillSettings(temperature=0)

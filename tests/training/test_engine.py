"""The training loop: learning, optimizers and schedules, accumulation, clipping, endings."""

from __future__ import annotations

import itertools
import logging
import math
from pathlib import Path

import pytest
import torch
from torch import nn

from workbench.errors import DeviceError, TrainingError
from workbench.training import (
    EpochEvent,
    FailedEvent,
    FinishedEvent,
    OPTIMIZERS,
    SCHEDULERS,
    StepEvent,
    Trainer,
    TrainSettings,
)

FAST = TrainSettings(epochs=2, batch_size=16, lr=0.01, device="cpu")


def test_learns_and_reports(make_classification, make_mlp, make_recorder, tmp_path: Path) -> None:
    rec = make_recorder()
    trainer = Trainer(make_mlp(), make_classification(), FAST.replace(epochs=4), "cross_entropy",
                      listeners=[rec], checkpoint_dir=tmp_path)
    result = trainer.run()
    assert result.status == "finished", result.message
    steps = rec.of("step")
    assert len(steps) == 4 * 8  # 128 samples / 16
    assert [e.step for e in steps] == list(range(1, 33))
    assert all(e.samples_per_s > 0 and e.lr == 0.01 for e in steps)
    assert all(a.elapsed_s <= b.elapsed_s for a, b in zip(steps, steps[1:]))
    epochs = rec.of("epoch")
    assert [e.epoch for e in epochs] == [1, 2, 3, 4]
    assert epochs[-1].train_loss < epochs[0].train_loss
    assert rec.kinds()[-1] == "finished" and rec.events[-1].status == "finished"

    s = result.summary
    assert s["val_accuracy"] > 0.8
    assert s["status"] == "finished" and s["device"] == "cpu" and s["epochs"] == 4
    assert s["global_steps"] == 32
    assert s["parameters"] == sum(p.numel() for p in trainer.model.parameters())
    assert s["train_loss"] == pytest.approx(epochs[-1].train_loss)
    assert s["val_loss"] == pytest.approx(epochs[-1].val_loss)
    assert s["best_val_loss"] == pytest.approx(min(e.val_loss for e in epochs))
    assert s["samples_per_second"] > 0 and s["duration_s"] > 0
    assert s["best_checkpoint"] == str(tmp_path / "best.pt")
    assert s["last_checkpoint"] == str(tmp_path / "last.pt")
    assert torch.load(tmp_path / "best.pt", weights_only=True)["best_val_loss"] == pytest.approx(
        s["best_val_loss"])
    last = torch.load(tmp_path / "last.pt", weights_only=True)
    assert (last["epoch"], last["global_step"]) == (4, 32)


@pytest.mark.parametrize(("optimizer", "scheduler"), list(itertools.product(OPTIMIZERS, SCHEDULERS)))
def test_every_optimizer_and_schedule_learns(make_regression, make_recorder, optimizer: str,
                                             scheduler: str) -> None:
    torch.manual_seed(0)
    rec = make_recorder()
    lr = 0.01 if optimizer == "rmsprop" else 0.1  # rmsprop's first steps are ~lr/sqrt(1-alpha)
    settings = TrainSettings(optimizer=optimizer, scheduler=scheduler, lr=lr, epochs=4,
                             batch_size=16, warmup_steps=3, device="cpu")
    result = Trainer(nn.Linear(4, 1), make_regression(), settings, "mse", listeners=[rec]).run()
    assert result.status == "finished", result.message
    steps = rec.of("step")
    assert steps[0].lr == pytest.approx(lr / 3 * (1 if scheduler != "onecycle" else 1 / 25))
    first, last = steps[0].loss, rec.of("epoch")[-1].train_loss
    assert last < 0.5 * first


def test_schedules_shape_the_learning_rate(make_regression, make_recorder) -> None:
    def lrs(**kw) -> list[float]:
        rec = make_recorder()
        s = TrainSettings(epochs=4, batch_size=32, lr=0.1, optimizer="sgd", device="cpu", **kw)
        Trainer(nn.Linear(4, 1), make_regression(), s, "mse", listeners=[rec]).run()
        return [e.lr for e in rec.of("step")]  # 4 steps per epoch, 16 in all

    step = lrs(scheduler="step", step_size=1, gamma=0.5)
    assert step[:4] == [0.1] * 4 and step[4] == pytest.approx(0.05) and step[-1] == pytest.approx(0.0125)
    cosine = lrs(scheduler="cosine")
    assert cosine[0] == pytest.approx(0.1) and all(a > b for a, b in zip(cosine, cosine[1:]))
    one = lrs(scheduler="onecycle")
    peak = one.index(max(one))
    assert one[0] == pytest.approx(0.1 / 25) and max(one) <= 0.1 and 0 < peak < 15
    assert one[-1] < one[0]
    warm = lrs(warmup_steps=4)
    assert warm[:5] == pytest.approx([0.025, 0.05, 0.075, 0.1, 0.1])


def test_grad_accumulation_matches_a_bigger_batch(make_regression, make_recorder) -> None:
    data = make_regression(n_train=64)

    def train(batch_size: int, accum: int) -> tuple[nn.Module, int]:
        torch.manual_seed(0)
        model = nn.Linear(4, 1)
        rec = make_recorder()
        s = TrainSettings(optimizer="sgd", momentum=0.0, lr=0.1, epochs=2, batch_size=batch_size,
                          grad_accum=accum, device="cpu")
        assert Trainer(model, data, s, "mse", listeners=[rec]).run().status == "finished"
        return model, len(rec.of("step"))

    big, big_steps = train(16, 1)
    small, small_steps = train(8, 2)
    assert big_steps == small_steps == 8
    for a, b in zip(big.parameters(), small.parameters()):
        assert torch.allclose(a, b, atol=1e-6)


def test_grad_accumulation_leftover_batches_make_a_step(make_regression, make_recorder) -> None:
    rec = make_recorder()
    s = TrainSettings(batch_size=16, grad_accum=3, epochs=1, device="cpu")  # 5 batches
    result = Trainer(nn.Linear(4, 1), make_regression(n_train=80), s, "mse", listeners=[rec]).run()
    assert result.status == "finished"
    assert len(rec.of("step")) == 2  # 3 + 2 batches


def test_grad_clip_bounds_the_update(make_regression) -> None:
    def update_norm(clip: float | None) -> float:
        torch.manual_seed(0)
        model = nn.Linear(4, 1)
        before = [p.detach().clone() for p in model.parameters()]
        s = TrainSettings(optimizer="sgd", momentum=0.0, lr=1.0, epochs=1, batch_size=32,
                          grad_clip=clip, device="cpu")
        Trainer(model, make_regression(n_train=32), s, "mse").run()
        return math.sqrt(sum(((p - b) ** 2).sum().item() for p, b in zip(model.parameters(), before)))

    assert update_norm(None) > 0.01
    assert update_norm(1e-3) == pytest.approx(1e-3, rel=1e-3)


def test_l1_shrinks_weights(make_regression) -> None:
    def weight_l1(l1: float) -> float:
        torch.manual_seed(0)
        model = nn.Linear(4, 1)
        s = TrainSettings(lr=0.05, epochs=3, batch_size=16, l1=l1, device="cpu")
        Trainer(model, make_regression(), s, "mse").run()
        return model.weight.abs().sum().item()

    assert weight_l1(1.0) < 0.9 * weight_l1(0.0)


def test_language_model_outputs(make_lm, make_tiny_lm, make_recorder) -> None:
    rec = make_recorder()
    s = TrainSettings(lr=0.05, epochs=3, batch_size=16, device="cpu")
    result = Trainer(make_tiny_lm(), make_lm(), s, "cross_entropy", listeners=[rec]).run()
    assert result.status == "finished", result.message
    summary = result.summary
    assert summary["val_token_accuracy"] > 0.5
    assert summary["val_perplexity"] == pytest.approx(math.exp(summary["val_loss"]))
    assert rec.of("epoch")[-1].val_metrics.keys() == {"val_token_accuracy", "val_perplexity"}


def test_regression_reports_mae(make_regression) -> None:
    result = Trainer(nn.Linear(4, 1), make_regression(), FAST, "mse").run()
    assert result.summary["val_mae"] is not None and result.summary["val_mae"] > 0
    assert "val_accuracy" not in result.summary


def test_early_stopping(make_regression, make_recorder, tmp_path: Path) -> None:
    # Validation targets are the negated training targets: every epoch of learning hurts them.
    rec = make_recorder()
    s = TrainSettings(lr=0.05, epochs=30, batch_size=16, early_stopping_patience=2, device="cpu")
    result = Trainer(nn.Linear(4, 1), make_regression(val_sign=-1.0), s, "mse", listeners=[rec],
                     checkpoint_dir=tmp_path).run()
    assert result.status == "early_stopped"
    epochs = rec.of("epoch")
    assert len(epochs) == 3 and result.summary["epochs"] == 3
    assert epochs[1].val_loss > epochs[0].val_loss and epochs[2].val_loss > epochs[0].val_loss
    assert result.summary["best_val_loss"] == pytest.approx(epochs[0].val_loss)
    assert torch.load(tmp_path / "best.pt", weights_only=True)["epoch"] == 1
    assert rec.events[-1] == FinishedEvent("early_stopped", result.summary)


def test_empty_validation_set(make_regression, tmp_path: Path) -> None:
    data = make_regression(n_val=0)
    result = Trainer(nn.Linear(4, 1), data, FAST.replace(early_stopping_patience=1), "mse",
                     checkpoint_dir=tmp_path).run()
    assert result.status == "finished"
    assert result.summary["val_loss"] is None and result.summary["best_checkpoint"] is None
    assert not (tmp_path / "best.pt").exists() and (tmp_path / "last.pt").exists()


@pytest.mark.parametrize("precision", ["auto", "bf16", "fp16"])
def test_precisions_on_cpu(make_classification, make_mlp, precision: str) -> None:
    trainer = Trainer(make_mlp(), make_classification(), FAST.replace(precision=precision),
                      "cross_entropy")
    result = trainer.run()
    assert result.status == "finished", result.message
    assert result.summary["precision"] == ("fp32" if precision == "auto" else precision)


def test_constructor_refuses_unknown_loss_and_missing_device(make_regression) -> None:
    with pytest.raises(TrainingError, match="unknown loss"):
        Trainer(nn.Linear(4, 1), make_regression(), FAST, "l1")
    with pytest.raises(DeviceError, match="this machine has"):
        Trainer(nn.Linear(4, 1), make_regression(), FAST.replace(device="cuda:7"), "mse")


def test_a_trainer_runs_once(make_regression) -> None:
    trainer = Trainer(nn.Linear(4, 1), make_regression(), FAST.replace(epochs=1), "mse")
    trainer.run()
    with pytest.raises(RuntimeError):
        trainer.run()


def test_broken_listener_is_dropped_and_training_goes_on(make_regression, make_recorder,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    calls = []

    def broken(event) -> None:
        calls.append(event)
        raise ValueError("plot bug")

    rec = make_recorder()
    with caplog.at_level(logging.ERROR, logger="workbench.training.engine"):
        result = Trainer(nn.Linear(4, 1), make_regression(), FAST, "mse",
                         listeners=[broken, rec]).run()
    assert result.status == "finished"
    assert len(calls) == 1 and rec.kinds()[-1] == "finished"
    assert "gets no more events" in caplog.text


def test_events_serialise_with_kind() -> None:
    assert StepEvent(1, 1, 0.5, 0.1, 10.0, 0.2).to_dict()["kind"] == "step"
    assert EpochEvent(1, 0.5, None, {}, 0.1, 1.0).to_dict()["kind"] == "epoch"
    assert FinishedEvent("stopped", {}).to_dict()["kind"] == "finished"
    assert FailedEvent("boom", 3, 1).to_dict() == {"kind": "failed", "message": "boom", "step": 3,
                                                   "epoch": 1, "summary": {}}

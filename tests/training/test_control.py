"""Stop, pause, failures and resume: how a run ends and how it continues."""

from __future__ import annotations

import logging
import math
import shutil
import threading
from pathlib import Path

import pytest
import torch
from torch import nn

from workbench.training import StepEvent, Trainer, TrainSettings
from workbench.training.checkpoint import load_checkpoint

FAST = TrainSettings(epochs=3, batch_size=16, lr=0.01, device="cpu")
WAIT_S = 10.0  # upper bound for thread hand-offs; the waits return as soon as the event fires


class FailAt(nn.Module):
    """A linear model whose forward pass misbehaves at one call."""

    def __init__(self, call: int, how: str) -> None:
        super().__init__()
        self.linear = nn.Linear(4, 1)
        self.call, self.how, self.calls = call, how, 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        out = self.linear(x)
        if self.training and self.calls == self.call:
            if self.how == "nan":
                return out * float("nan")
            if self.how == "oom":
                raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
            raise RuntimeError("boom")
        return out


def test_stop_from_a_listener_ends_within_one_step(make_regression, make_recorder,
                                                   tmp_path: Path) -> None:
    rec = make_recorder()
    trainer = Trainer(nn.Linear(4, 1), make_regression(), FAST, "mse", listeners=[rec],
                      checkpoint_dir=tmp_path)

    def stop_at_11(event) -> None:  # epoch 2, step 3 of 8
        if isinstance(event, StepEvent) and event.step == 11:
            trainer.request_stop()

    trainer.add_listener(stop_at_11)
    result = trainer.run()
    assert result.status == "stopped" and result.message == "stopped at step 11 (epoch 2)"
    assert len(rec.of("step")) == 11
    assert len(rec.of("epoch")) == 1
    assert rec.events[-1].status == "stopped"
    state = torch.load(tmp_path / "last.pt", weights_only=True)
    assert state["global_step"] == 11 and state["epoch"] == 1
    assert result.summary["last_checkpoint"] == str(tmp_path / "last.pt")


def test_pause_blocks_and_resume_continues(make_regression, make_recorder) -> None:
    rec = make_recorder()
    trainer = Trainer(nn.Linear(4, 1), make_regression(), FAST, "mse", listeners=[rec])
    paused = threading.Event()

    def pause_at_5(event) -> None:
        if isinstance(event, StepEvent) and event.step == 5:
            trainer.request_pause()
            paused.set()

    trainer.add_listener(pause_at_5)
    results = []
    worker = threading.Thread(target=lambda: results.append(trainer.run()), daemon=True)
    worker.start()
    assert paused.wait(WAIT_S)
    assert trainer.is_paused
    worker.join(0.2)  # long enough for several steps (each takes well under a millisecond)
    assert worker.is_alive()
    assert len(rec.of("step")) == 5
    trainer.request_resume()
    worker.join(WAIT_S)
    assert not worker.is_alive()
    assert not trainer.is_paused
    assert results[0].status == "finished"
    assert len(rec.of("step")) == 24
    # Paused time is not training time.
    assert rec.of("step")[5].elapsed_s - rec.of("step")[4].elapsed_s < 0.15


def test_stop_while_paused(make_regression, make_recorder) -> None:
    rec = make_recorder()
    trainer = Trainer(nn.Linear(4, 1), make_regression(), FAST, "mse", listeners=[rec])
    paused = threading.Event()

    def pause_at_2(event) -> None:
        if isinstance(event, StepEvent) and event.step == 2:
            trainer.request_pause()
            paused.set()

    trainer.add_listener(pause_at_2)
    results = []
    worker = threading.Thread(target=lambda: results.append(trainer.run()), daemon=True)
    worker.start()
    assert paused.wait(WAIT_S)
    trainer.request_stop()
    worker.join(WAIT_S)
    assert not worker.is_alive()
    assert results[0].status == "stopped" and len(rec.of("step")) == 2


def _assert_loadable_and_finite(path: Path) -> dict:
    state = torch.load(path, weights_only=True)
    assert all(torch.isfinite(t).all() for t in state["model"].values())
    return state


def test_huge_learning_rate_fails_cleanly(make_regression, make_recorder, tmp_path: Path) -> None:
    rec = make_recorder()
    s = FAST.replace(optimizer="sgd", lr=1e9)
    result = Trainer(nn.Linear(4, 1), make_regression(), s, "mse", listeners=[rec],
                     checkpoint_dir=tmp_path).run()
    assert result.status == "failed"
    assert "step" in result.message and "learning rate" in result.message
    assert "(now 1e+09)" in result.message and "grad_clip" in result.message
    failed = rec.events[-1]
    assert failed.to_dict()["kind"] == "failed" and failed.message == result.message
    assert failed.step == len(rec.of("step")) + 1
    assert result.summary["status"] == "failed"
    _assert_loadable_and_finite(tmp_path / "last.pt")


def test_nan_model_keeps_the_last_good_state(make_regression, make_recorder,
                                             tmp_path: Path) -> None:
    rec = make_recorder()
    model = FailAt(call=4, how="nan")
    result = Trainer(model, make_regression(), FAST, "mse", listeners=[rec],
                     checkpoint_dir=tmp_path).run()
    assert result.status == "failed"
    assert result.message.startswith("the loss became nan at step 4 (epoch 1); lower the learning "
                                     "rate (now 0.01)")
    assert len(rec.of("step")) == 3
    state = _assert_loadable_and_finite(tmp_path / "last.pt")
    assert state["global_step"] == 3  # weights after step 3: the NaN never reached them
    assert torch.equal(state["model"]["linear.weight"], model.linear.weight.detach())


def test_out_of_memory_suggests_half_the_batch(make_regression, tmp_path: Path) -> None:
    result = Trainer(FailAt(call=2, how="oom"), make_regression(), FAST.replace(batch_size=32),
                     "mse", checkpoint_dir=tmp_path).run()
    assert result.status == "failed"
    assert result.message == ("out of memory at step 2 (epoch 1) with batch size 32 on cpu; "
                              "try a batch size of 16 (training.batch_size)")
    assert load_checkpoint(tmp_path / "last.pt")["global_step"] == 1


def test_other_errors_name_the_step_and_log_the_traceback(make_regression,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="workbench.training.engine"):
        result = Trainer(FailAt(call=3, how="raise"), make_regression(), FAST, "mse").run()
    assert result.status == "failed"
    assert result.message == "training failed at step 3: RuntimeError: boom"
    assert any(r.exc_info and r.exc_info[0] is RuntimeError for r in caplog.records)


def test_shape_mismatch_is_a_clear_failure(make_regression) -> None:
    result = Trainer(nn.Linear(4, 3), make_regression(), FAST, "mse").run()
    assert result.status == "failed"
    assert "training failed at step 1" in result.message
    assert "(16, 3) but the targets have shape (16, 1)" in result.message


def test_resume_from_a_missing_file_fails(make_regression, tmp_path: Path) -> None:
    result = Trainer(nn.Linear(4, 1), make_regression(), FAST, "mse").run(
        resume_from=tmp_path / "nope.pt")
    assert result.status == "failed"
    assert result.message.startswith("cannot resume from") and "does not exist" in result.message


@pytest.mark.parametrize("scheduler", ["cosine", "onecycle"])
def test_resume_gives_exactly_the_same_steps(make_classification, make_mlp, make_recorder,
                                             tmp_path: Path, scheduler: str) -> None:
    data = make_classification()
    # Dropout draws from the global RNG, warmup + schedule from the step count, shuffling from
    # the loader's generator: all three must be restored for the losses to match bit for bit.
    s = TrainSettings(epochs=2, batch_size=16, lr=0.01, scheduler=scheduler, warmup_steps=3,
                      optimizer="adamw", weight_decay=0.01, seed=7, device="cpu")
    epoch1 = tmp_path / "epoch1.pt"

    def keep_epoch_1(event) -> None:
        if event.to_dict()["kind"] == "epoch" and event.epoch == 1:
            shutil.copyfile(tmp_path / "full" / "last.pt", epoch1)

    full = make_recorder()
    result = Trainer(make_mlp(dropout=0.3, seed=1), data, s, "cross_entropy",
                     listeners=[full, keep_epoch_1], checkpoint_dir=tmp_path / "full").run()
    assert result.status == "finished"

    resumed = make_recorder()
    again = Trainer(make_mlp(dropout=0.3, seed=99), data, s, "cross_entropy", listeners=[resumed],
                    checkpoint_dir=tmp_path / "resumed").run(resume_from=epoch1)
    assert again.status == "finished", again.message

    expected = [(e.step, e.epoch, e.loss, e.lr) for e in full.of("step") if e.epoch == 2]
    got = [(e.step, e.epoch, e.loss, e.lr) for e in resumed.of("step")]
    assert got == expected and len(got) == 8
    assert resumed.of("epoch")[0].val_loss == full.of("epoch")[1].val_loss
    assert again.summary["epochs"] == 2 and again.summary["global_steps"] == 16


def test_resuming_a_run_with_no_epochs_left_is_refused_not_finished(make_regression, make_recorder,
                                                                    tmp_path: Path) -> None:
    # It used to end "finished" having trained nothing, without a word.
    s = FAST.replace(epochs=2)
    Trainer(nn.Linear(4, 1), make_regression(), s, "mse", checkpoint_dir=tmp_path).run()
    for epochs in (2, 1):
        rec = make_recorder()
        result = Trainer(nn.Linear(4, 1), make_regression(), s.replace(epochs=epochs), "mse", listeners=[rec]).run(
            resume_from=tmp_path / "last.pt")
        assert result.status == "failed" and rec.of("step") == []
        assert result.message == (f"cannot resume from {tmp_path / 'last.pt'}: checkpoint {tmp_path / 'last.pt'} is at "
                                  f"epoch 2; epochs {epochs} would train nothing: set epochs to 3 or more (--epochs 3)")
    result = Trainer(nn.Linear(4, 1), make_regression(), s.replace(epochs=3), "mse").run(resume_from=tmp_path / "last.pt")
    assert result.status == "finished" and result.summary["epochs"] == 3 and result.summary["global_steps"] == 24
    assert not math.isnan(result.summary["samples_per_second"])


class _Stream(torch.utils.data.IterableDataset):
    """An iterable dataset without a length: 40 regression samples."""

    def __iter__(self):
        g = torch.Generator().manual_seed(0)
        for _ in range(40):
            x = torch.randn(4, generator=g)
            yield x, x.sum(0, keepdim=True)


def test_iterable_dataset_without_length(make_regression, make_recorder) -> None:
    data = make_regression()
    data.train = _Stream()
    rec = make_recorder()
    result = Trainer(nn.Linear(4, 1), data, FAST.replace(grad_accum=2), "mse", listeners=[rec]).run()
    assert result.status == "finished", result.message
    assert len(rec.of("step")) == 3 * 2  # 3 batches of 16 per epoch: 2 + 1
    failed = Trainer(nn.Linear(4, 1), data, FAST.replace(scheduler="cosine"), "mse").run()
    assert failed.status == "failed"
    assert failed.message.startswith("cannot start training: the cosine schedule needs the number")


def test_failure_in_validation_is_named(make_regression) -> None:
    class BadInEval(nn.Linear):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if not self.training:
                raise ValueError("eval broke")
            return super().forward(x)

    result = Trainer(BadInEval(4, 1), make_regression(), FAST, "mse").run()
    assert result.status == "failed"
    assert result.message == "validation failed after epoch 1: ValueError: eval broke"

"""`workbench train`'s progress when stderr is a file or a pipe: a plain line at least every 10 s."""

from __future__ import annotations

import io

from workbench.cli import _duration, _Progress
from workbench.training.events import EpochEvent, StepEvent


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _step(step: int, elapsed: float, epoch: int = 1) -> StepEvent:
    return StepEvent(step=step, epoch=epoch, loss=2.0 / step, lr=1e-3, samples_per_s=1234.5, elapsed_s=elapsed)


def test_plain_lines_every_ten_seconds_with_step_loss_speed_and_eta() -> None:
    clock, out = _Clock(), io.StringIO()
    progress = _Progress(3, stream=out, clock=clock, steps_per_epoch=lambda: 100)
    assert not progress.live  # a StringIO is no terminal
    for step in range(1, 41):  # one step every 0.5 s: 20 s of training
        clock.now += 0.5
        progress(_step(step, elapsed=0.5 * step))
    lines = out.getvalue().splitlines()
    # 10 s after the start, then 10 s after that line
    assert lines == [
        "epoch 1/3  step 20/300  loss 0.1000  1,234 samples/s  ETA 2 min 20 s",
        "epoch 1/3  step 40/300  loss 0.0500  1,234 samples/s  ETA 2 min 10 s",
    ]
    assert "\r" not in out.getvalue()


def test_an_epoch_line_restarts_the_ten_seconds_and_nothing_is_said_when_quiet() -> None:
    clock, out = _Clock(), io.StringIO()
    progress = _Progress(2, stream=out, clock=clock)
    clock.now += 9
    progress(_step(1, 9.0))
    progress(EpochEvent(epoch=1, train_loss=0.5, val_loss=0.4, val_metrics={"val_accuracy": 0.9}, lr=1e-3, elapsed_s=9.0))
    clock.now += 9
    progress(_step(2, 18.0, epoch=2))
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("epoch 1/2  train_loss 0.5000  val_loss 0.4000  val_accuracy 0.9000")
    clock.now += 1.5
    progress(_step(3, 19.5, epoch=2))  # steps per epoch unknown: no total, no ETA
    assert out.getvalue().splitlines()[-1] == "epoch 2/2  step 3  loss 0.6667  1,234 samples/s"

    quiet_out = io.StringIO()
    quiet = _Progress(2, quiet=True, stream=quiet_out, clock=clock)
    clock.now += 60
    quiet(_step(4, 80.0))
    assert quiet_out.getvalue() == ""


def test_durations_read_as_a_person_would_say_them() -> None:
    assert [_duration(s) for s in (0.4, 42, 185, 7620)] == ["0 s", "42 s", "3 min 05 s", "2 h 07 min"]

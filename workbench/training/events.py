"""What the engine tells its listeners: typed, immutable events.

The engine calls every listener synchronously from the training thread, once per optimizer step
and once per epoch, so listeners must be cheap: the GUI forwards events by queued signal, the
run writer buffers them. `to_dict()` gives a JSON-ready record with a "kind" key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Union

FinishStatus = Literal["finished", "stopped", "early_stopped"]


@dataclass(frozen=True, slots=True)
class StepEvent:
    """One optimizer step done (with gradient accumulation: after all its batches)."""

    step: int  # global optimizer step, from 1, counting steps before a resume
    epoch: int  # from 1
    loss: float  # mean training loss of the step's batches (without the L1 penalty)
    lr: float  # learning rate the step used
    samples_per_s: float  # over a sliding window of recent steps
    elapsed_s: float  # training time of this run so far, pauses excluded

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "step",
            "step": self.step,
            "epoch": self.epoch,
            "loss": self.loss,
            "lr": self.lr,
            "samples_per_s": self.samples_per_s,
            "elapsed_s": self.elapsed_s,
        }


@dataclass(frozen=True, slots=True)
class EpochEvent:
    """One epoch done and validated."""

    epoch: int  # from 1
    train_loss: float  # sample-weighted mean over the epoch
    val_loss: float | None  # None when the validation set is empty
    val_metrics: dict[str, float]  # e.g. {"val_accuracy": 0.97}
    lr: float  # learning rate at the end of the epoch
    elapsed_s: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "epoch",
            "epoch": self.epoch,
            "train_loss": self.train_loss,
            "val_loss": self.val_loss,
            "val_metrics": dict(self.val_metrics),
            "lr": self.lr,
            "elapsed_s": self.elapsed_s,
        }


@dataclass(frozen=True, slots=True)
class FinishedEvent:
    """The run ended without error: all epochs, a stop request, or early stopping."""

    status: FinishStatus
    summary: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "finished", "status": self.status, "summary": dict(self.summary)}


@dataclass(frozen=True, slots=True)
class FailedEvent:
    """The run ended on a problem; `message` says what and how to fix it."""

    message: str
    step: int  # the optimizer step that failed (global, from 1)
    epoch: int
    summary: dict[str, Any] = field(default_factory=dict)  # the run so far, status "failed"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "failed",
            "message": self.message,
            "step": self.step,
            "epoch": self.epoch,
            "summary": dict(self.summary),
        }


@dataclass(frozen=True, slots=True)
class ResumedEvent:
    """The run continues from a checkpoint: before any step, after the state was restored.

    Steps after `step` and epochs after `epoch` that a listener recorded earlier (the run was
    killed after the checkpoint was written) will happen again; a log drops them (RunWriter).
    """

    epoch: int  # epochs the checkpoint had completed
    step: int  # optimizer steps the checkpoint had completed
    checkpoint: str  # the file it was read from

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "resumed", "epoch": self.epoch, "step": self.step, "checkpoint": self.checkpoint}


Event = Union[StepEvent, EpochEvent, FinishedEvent, FailedEvent, ResumedEvent]
Listener = Callable[[Event], None]

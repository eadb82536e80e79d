"""A short fine-tune after pruning, run by the training engine itself.

Using the engine (not a loop of our own) means the same optimizer, schedule, precision and
device handling as the run being exported, and the same events: the app can plot a fine-tune
like any run. Pruning masks stay attached during it, so pruned weights stay zero.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from torch import nn

from workbench.data.bundle import DataBundle
from workbench.errors import ExportError
from workbench.export.options import ExportCancelled

log = logging.getLogger(__name__)


def fine_tune(
    model: nn.Module,
    data: DataBundle,
    epochs: int,
    *,
    loss: str,
    settings: Any | None = None,
    lr: float | None = None,
    listeners: Sequence[Callable[[Any], None]] = (),
    cancel: Callable[[], bool] | None = None,
) -> dict[str, Any]:
    """Train `model` in place for `epochs` epochs; returns the engine's summary.

    `settings` is the run's TrainSettings (defaults otherwise); `lr` overrides its learning
    rate. Early stopping and warm-up are switched off: a fine-tune this short needs neither.
    Raises ExportError when training fails, ExportCancelled when `cancel()` turns true.
    """
    from workbench.training import Trainer, TrainSettings

    base = settings if settings is not None else TrainSettings()
    overrides: dict[str, Any] = {"epochs": epochs, "early_stopping_patience": None, "warmup_steps": 0}
    if lr is not None:
        overrides["lr"] = lr
    tuned = base.replace(**overrides)
    stop = {"requested": False}
    trainer_ref: dict[str, Any] = {}

    def watch(event: Any) -> None:
        if cancel is not None and cancel() and not stop["requested"]:
            stop["requested"] = True
            trainer_ref["trainer"].request_stop()

    trainer = Trainer(model, data, tuned, loss=loss, listeners=[*listeners, watch], checkpoint_dir=None)
    trainer_ref["trainer"] = trainer
    result = trainer.run()
    model.cpu()  # the engine may have used a GPU; export and measurement run on the CPU
    if stop["requested"]:
        raise ExportCancelled("export cancelled during the fine-tune")
    if result.status == "failed":
        raise ExportError(f"the fine-tune after pruning failed: {result.message}")
    log.info("fine-tuned %d epoch(s): val_loss %s", epochs, result.summary.get("val_loss"))
    return dict(result.summary)

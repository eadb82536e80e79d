"""TensorBoard event files for a run, in RUN_DIR/tensorboard (`tensorboard --logdir runs/`).

Written with torch.utils.tensorboard:

- scalars `train/loss`, `train/lr`, `train/samples_per_s` at every optimizer step, and
  `epoch/train_loss`, `epoch/val_loss`, `epoch/<metric>` (val_accuracy...), `epoch/lr` at each
  epoch's last step (one x axis for all: the global step);
- the model graph (traced by add_graph on the built module, before training; a module that
  cannot be traced is logged as such and the rest goes on);
- the hyperparameters with the final metrics (add_hparams, in RUN_DIR/tensorboard/hparams);
- for classification, the validation confusion matrix as an image, after the last epoch.

Step records are buffered and handed over at epoch ends (and every FLUSH_S seconds in long
epochs) to the logger's own thread, which builds and writes the summaries: the training loop
pays for a list append per step. A resumed run reopens the
writer with `purge_step`, so the steps it does again replace those recorded after the checkpoint.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch

from workbench.training.events import EpochEvent, Event, FailedEvent, FinishedEvent, ResumedEvent, StepEvent
from workbench.training.tracking import hyperparameters

log = logging.getLogger(__name__)

FOLDER = "tensorboard"
HPARAMS_RUN = "hparams"
FLUSH_S = 5.0  # longest wait before buffered step scalars are handed to the writer
CELL_PX = 24  # the confusion matrix image: pixels per cell
MAX_IMAGE_CLASSES = 40  # beyond this the image would be too large to read


class TensorBoardLogger:
    """Listener writing a run's TensorBoard event files (see the module docstring)."""

    def __init__(self, run_dir: Path, prepared: Any) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self._SummaryWriter = SummaryWriter
        self.log_dir = Path(run_dir) / FOLDER
        self.prepared = prepared
        self.writer = SummaryWriter(log_dir=str(self.log_dir))
        self._steps: list[tuple[int, float, float, float]] = []
        self._flushed_at = time.monotonic()
        self._last_step = 0
        self._final: dict[str, float] = {}
        self.graph_note = self._add_graph()
        # Building a summary costs tens of microseconds per scalar: the logger's own thread does
        # it, in the order the events came (the training thread only appends and hands over).
        self._jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._work, name="tensorboard-logger", daemon=True)
        self._thread.start()

    # ---- events (training thread) --------------------------------------------------------

    def __call__(self, event: Event) -> None:
        if isinstance(event, StepEvent):
            self._steps.append((event.step, event.loss, event.lr, event.samples_per_s))
            self._last_step = event.step
            if time.monotonic() - self._flushed_at >= FLUSH_S:
                self._hand_over_steps()
        elif isinstance(event, EpochEvent):
            self._hand_over_steps()
            scalars = {"epoch/train_loss": event.train_loss, "epoch/lr": event.lr}
            if event.val_loss is not None:
                scalars["epoch/val_loss"] = event.val_loss
            for name, value in event.val_metrics.items():
                scalars[f"epoch/{name}"] = value
            self._final = {k.split("/", 1)[1]: float(v) for k, v in scalars.items() if k != "epoch/lr"}
            self._jobs.put(partial(self._write_scalars, scalars, self._last_step))
        elif isinstance(event, ResumedEvent):
            # Steps after the checkpoint will be taken again: TensorBoard drops what it holds
            # from `purge_step` on when a writer opens with it.
            self._steps.clear()
            self._last_step = event.step
            self._jobs.put(partial(self._reopen, event.step + 1))
        elif isinstance(event, (FinishedEvent, FailedEvent)):
            self._hand_over_steps()
            self._jobs.put(partial(self._write_end, event, dict(self._final), self._last_step))

    def close(self, run_dir: Path | None = None) -> None:
        """Hand over what is buffered, wait for the logger's thread, and close the event files."""
        self._hand_over_steps()
        self._jobs.put(None)
        self._thread.join()
        self.writer.close()

    def _hand_over_steps(self) -> None:
        if self._steps:
            self._jobs.put(partial(self._write_steps, self._steps))
            self._steps = []
        self._flushed_at = time.monotonic()

    # ---- writing (the logger's thread) ---------------------------------------------------

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            try:
                job()
            except Exception:  # a full disk: the run goes on, this log does not
                log.exception("TensorBoard: writing to %s failed", self.log_dir)

    def _write_steps(self, steps: list[tuple[int, float, float, float]]) -> None:
        add = self.writer.add_scalar
        for step, loss, lr, speed in steps:
            add("train/loss", loss, step)
            add("train/lr", lr, step)
            add("train/samples_per_s", speed, step)

    def _write_scalars(self, scalars: dict[str, float], step: int) -> None:
        for tag, value in scalars.items():
            self.writer.add_scalar(tag, value, step)

    def _reopen(self, purge_step: int) -> None:
        self.writer.close()
        self.writer = self._SummaryWriter(log_dir=str(self.log_dir), purge_step=purge_step)

    def _write_end(self, event: FinishedEvent | FailedEvent, final: dict[str, float], step: int) -> None:
        self._write_hparams(event, final, step)
        if isinstance(event, FinishedEvent) and self.prepared.data.task == "classification":
            self._write_confusion(step)
        self.writer.flush()

    def _add_graph(self) -> str:
        """Trace the built module into the graph tab; returns what happened, in words."""
        model = self.prepared.model
        specs = getattr(model, "input_specs", None) or [model.input_spec]
        try:
            device = next(model.parameters()).device
        except StopIteration:
            device = torch.device("cpu")
        # Two samples: BatchNorm over vectors refuses a batch of one, even when traced in eval mode.
        xs = [torch.zeros((2, *spec.shape), dtype=torch.long if spec.dtype == "int64" else torch.float32,
                          device=device) for spec in specs]
        training = model.training
        model.eval()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the tracer's warnings are about tracing, not the run
                self.writer.add_graph(model, xs[0] if len(xs) == 1 else tuple(xs))
            return "model graph written"
        except Exception as exc:  # tracing refuses some modules (data-dependent control flow)
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            log.warning("TensorBoard: the model graph cannot be traced (%s); scalars and the rest are logged", first)
            return f"model graph not written: the module cannot be traced ({first})"
        finally:
            model.train(training)

    def _write_hparams(self, event: FinishedEvent | FailedEvent, final: dict[str, float], step: int) -> None:
        params = {k: v if isinstance(v, (bool, int, float, str)) else str(v)
                  for k, v in hyperparameters(self.prepared).items()}
        params["status"] = "failed" if isinstance(event, FailedEvent) else event.status
        metrics = {f"hparam/{k}": v for k, v in final.items() if np.isfinite(v)}
        if not metrics:
            metrics = {"hparam/train_loss": float("nan")}
        self.writer.add_hparams(params, metrics, run_name=HPARAMS_RUN, global_step=step)

    def _write_confusion(self, step: int) -> None:
        matrix = confusion_matrix(self.prepared.model, self.prepared.data)
        if matrix is None or len(matrix) > MAX_IMAGE_CLASSES:
            return
        self.writer.add_image("validation/confusion_matrix", confusion_image(matrix), step,
                              dataformats="HWC")


def confusion_matrix(model: torch.nn.Module, data: Any, batch_size: int = 256) -> np.ndarray | None:
    """The model's (C, C) confusion counts on the validation set, rows true, columns predicted;
    None without validation data. The model's train/eval mode is restored."""
    from torch.utils.data import DataLoader

    from workbench.evaluation import predicted_classes

    if data.val is None or data.val_size == 0:
        return None
    k = data.num_outputs
    counts = torch.zeros(k * k, dtype=torch.int64)
    try:
        device = next(model.parameters()).device
    except StopIteration:
        device = torch.device("cpu")
    loss_name = getattr(model, "loss_name", "cross_entropy")
    training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for x, y in DataLoader(data.val, batch_size=batch_size):
                outputs = model(x.to(device))
                predicted = predicted_classes(outputs, loss_name).cpu()
                counts += torch.bincount(y.long().reshape(-1) * k + predicted.reshape(-1), minlength=k * k)
    finally:
        model.train(training)
    return counts.reshape(k, k).numpy()


def confusion_image(matrix: np.ndarray) -> np.ndarray:
    """An (H, W, 3) uint8 picture of a confusion matrix: each row shaded by its share of the
    row's samples (white 0 to dark blue 1), a grid line between cells."""
    k = len(matrix)
    rows = matrix.sum(axis=1, keepdims=True).clip(min=1)
    share = (matrix / rows).astype(np.float32)  # (C, C)
    light, dark = np.array([255, 255, 255], np.float32), np.array([8, 48, 107], np.float32)
    cells = light + share[..., None] * (dark - light)  # (C, C, 3)
    image = np.repeat(np.repeat(cells, CELL_PX, axis=0), CELL_PX, axis=1)  # (C*px, C*px, 3)
    image[::CELL_PX, :, :] = 200  # grid
    image[:, ::CELL_PX, :] = 200
    assert image.shape == (k * CELL_PX, k * CELL_PX, 3)
    return image.astype(np.uint8)

"""One run's curves as growing arrays: what the live plot draws and the CSV export writes. No Qt.

A run is a stream of records (the engine's events, or the lines of a run folder's metrics.jsonl):
steps (loss, learning rate, speed) and epochs (validation loss and metrics). `RunSeries` appends
them in amortised O(1) into numpy buffers that double when full, so a million steps cost a few
reallocations, and the plot hands pyqtgraph views of the filled part without copying.

The smoothed loss is an exponential moving average with TensorBoard's debiasing (the first
points are not dragged towards zero), updated incrementally per step and recomputed in one
vectorised pass when the smoothing weight changes.

For drawing, each per-step column can keep a `MinMaxPyramid` (level_of_detail.py).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from workbench.gui.training.level_of_detail import GrowingArray, MinMaxPyramid

X_MODES = ("step", "epoch", "time")  # what the x axis counts


def _num(value: Any) -> float:
    """Floats from records; JSON null (a NaN written by the run writer) becomes NaN."""
    if value is None:
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def ema(values: np.ndarray, weight: float) -> np.ndarray:
    """Debiased exponential moving average; non-finite values are skipped (the last is held).

    Vectorised in blocks: within a block the recurrence s_t = w s_(t-1) + (1 - w) x_t is a
    cumulative sum of x_k w^-k, and the block length keeps w^-k far from overflowing.
    """
    values = np.asarray(values, dtype=np.float64)
    if weight <= 0 or len(values) == 0:
        return values.copy()
    finite = np.isfinite(values)
    if not finite.all():
        out = np.empty_like(values)
        acc, count, last = 0.0, 0, math.nan
        for i, v in enumerate(values.tolist()):
            if math.isfinite(v):
                acc = weight * acc + (1.0 - weight) * v
                count += 1
                last = acc / (1.0 - weight ** count)
            out[i] = last
        return out
    block = int(min(4096, max(1, 600.0 / -math.log(weight))))
    k = np.arange(block, dtype=np.float64)
    grow = weight ** -k  # w^-k
    decay = weight ** k  # w^k
    raw = np.empty_like(values)
    carry = 0.0
    for start in range(0, len(values), block):
        x = values[start:start + block]
        m = len(x)
        # s_(start+j) = w^(j+1) carry + (1 - w) w^j sum_(i<=j) x_i w^-i
        part = weight * decay[:m] * carry + (1.0 - weight) * decay[:m] * np.cumsum(x * grow[:m])
        raw[start:start + m] = part
        carry = part[-1]
    return raw / (1.0 - weight ** np.arange(1, len(values) + 1))


class RunSeries:
    """The steps and epochs of one run, in arrays ready to plot."""

    def __init__(self, smoothing: float = 0.9) -> None:
        self.smoothing = smoothing
        # Per optimizer step.
        self.step = GrowingArray()
        self.epoch_of_step = GrowingArray()
        self.epoch_x = GrowingArray()  # fractional epoch: 2.5 = half-way through epoch 3
        self.time = GrowingArray()  # training seconds, pauses excluded
        self.loss = GrowingArray()
        self.smooth = GrowingArray()
        self.lr = GrowingArray()
        self.samples_per_s = GrowingArray()
        # Per epoch.
        self.epoch = GrowingArray(64)
        self.epoch_step = GrowingArray(64)  # the last step of the epoch (x in step mode)
        self.epoch_time = GrowingArray(64)
        self.train_loss = GrowingArray(64)
        self.val_loss = GrowingArray(64)
        self.metrics: dict[str, GrowingArray] = {}
        # Outcome.
        self.status: str | None = None  # "finished" | "stopped" | "early_stopped" | "failed"
        self.message = ""
        self.summary: dict[str, Any] = {}
        self.steps_per_epoch: int | None = None
        self.epochs_planned: int | None = None
        self._ema_acc = 0.0
        self._ema_count = 0
        self._epoch_now: int | None = None
        self._epoch_base = 0  # steps before the current epoch began
        self._steps_seen_in_epoch: dict[int, int] = {}
        self._pyramids: dict[str, MinMaxPyramid] = {}
        self._order: dict[str, tuple[int, int, bool]] = {}  # x column -> (version, checked up to, sorted)

    # ----- appending -----------------------------------------------------------------------

    def step_count(self) -> int:
        return len(self.step)

    def epoch_count(self) -> int:
        return len(self.epoch)

    def add_step(self, step: int, epoch: int, loss: float, lr: float, samples_per_s: float, elapsed_s: float) -> None:
        if epoch != self._epoch_now:
            self._epoch_now = epoch
            self._epoch_base = step - 1
        self._steps_seen_in_epoch[epoch] = step - self._epoch_base
        self.step.append(step)
        self.epoch_of_step.append(epoch)
        self.epoch_x.append(self._fraction(step, epoch))
        self.time.append(elapsed_s)
        self.loss.append(loss)
        if math.isfinite(loss):
            w = self.smoothing
            self._ema_acc = w * self._ema_acc + (1.0 - w) * loss
            self._ema_count += 1
            self.smooth.append(self._ema_acc / (1.0 - w ** self._ema_count) if w > 0 else loss)
        else:
            self.smooth.append(self.smooth.last())
        self.lr.append(lr)
        self.samples_per_s.append(samples_per_s)

    def add_steps(self, step: np.ndarray, epoch: np.ndarray, loss: np.ndarray, lr: np.ndarray,
                  samples_per_s: np.ndarray, elapsed_s: np.ndarray) -> None:
        """Many steps at once, as arrays (vectorised: a million steps in milliseconds)."""
        n = len(step)
        if n == 0:
            return
        self.step.extend(step)
        self.epoch_of_step.extend(epoch)
        self.epoch_x.extend(np.zeros(n))
        self.time.extend(elapsed_s)
        self.loss.extend(loss)
        self.lr.extend(lr)
        self.samples_per_s.extend(samples_per_s)
        self.smooth.extend(np.zeros(n))
        self._recompute_epoch_x()
        self.smooth.set_all(ema(self.loss.view(), self.smoothing))
        finite = np.isfinite(self.loss.view())
        self._ema_count = int(finite.sum())
        w = self.smoothing
        self._ema_acc = self.smooth.last() * (1.0 - w ** self._ema_count) if self._ema_count and w > 0 else 0.0
        epochs = np.asarray(epoch)
        steps = np.asarray(step)
        values, first, counts = np.unique(epochs, return_index=True, return_counts=True)
        for e, c in zip(values.tolist(), counts.tolist(), strict=True):
            self._steps_seen_in_epoch[int(e)] = max(self._steps_seen_in_epoch.get(int(e), 0), int(c))
        self._epoch_now = int(epochs[-1])
        self._epoch_base = int(steps[first[-1]]) - 1 if values[-1] == epochs[-1] else self._epoch_base

    def _fraction(self, step: int, epoch: int) -> float:
        per = self.steps_per_epoch
        if not per:
            return float(epoch - 1)
        return (epoch - 1) + min(1.0, (step - self._epoch_base) / per)

    def add_epoch(self, epoch: int, train_loss: float | None, val_loss: float | None,
                  val_metrics: Mapping[str, float | None], elapsed_s: float) -> None:
        n = len(self.epoch)
        self.epoch.append(epoch)
        self.epoch_step.append(self.step.last(0.0))
        self.epoch_time.append(elapsed_s)
        self.train_loss.append(_num(train_loss))
        self.val_loss.append(_num(val_loss))
        for name, value in val_metrics.items():
            column = self.metrics.get(name)
            if column is None:
                column = self.metrics[name] = GrowingArray(64)
                for _ in range(n):
                    column.append(math.nan)
            column.append(_num(value))
        for column in self.metrics.values():
            if len(column) < n + 1:
                column.append(math.nan)

    def add_event(self, event: Any) -> str:
        """An engine event (StepEvent, EpochEvent, FinishedEvent, FailedEvent); returns its kind."""
        from workbench.training.events import EpochEvent, FailedEvent, FinishedEvent, StepEvent

        if isinstance(event, StepEvent):
            self.add_step(event.step, event.epoch, event.loss, event.lr, event.samples_per_s, event.elapsed_s)
            return "step"
        if isinstance(event, EpochEvent):
            self.add_epoch(event.epoch, event.train_loss, event.val_loss, event.val_metrics, event.elapsed_s)
            return "epoch"
        if isinstance(event, FinishedEvent):
            self.status, self.summary = event.status, dict(event.summary)
            return "finished"
        if isinstance(event, FailedEvent):
            self.status, self.message, self.summary = "failed", event.message, dict(event.summary)
            return "failed"
        return "unknown"

    def add_record(self, record: Mapping[str, Any]) -> str:
        """One line of metrics.jsonl (the same events, as JSON); returns its kind."""
        kind = str(record.get("kind", ""))
        if kind == "step":
            self.add_step(int(record.get("step", 0)), int(record.get("epoch", 1)), _num(record.get("loss")),
                          _num(record.get("lr")), _num(record.get("samples_per_s")), _num(record.get("elapsed_s")))
        elif kind == "epoch":
            metrics = record.get("val_metrics") or {}
            self.add_epoch(int(record.get("epoch", 0)), record.get("train_loss"), record.get("val_loss"),
                           metrics if isinstance(metrics, dict) else {}, _num(record.get("elapsed_s")))
        elif kind == "finished":
            self.status, self.summary = str(record.get("status", "finished")), dict(record.get("summary") or {})
        elif kind == "failed":
            self.status, self.message = "failed", str(record.get("message", ""))
            self.summary = dict(record.get("summary") or {})
        return kind

    def add_records(self, records: Iterable[Mapping[str, Any]]) -> None:
        for record in records:
            self.add_record(record)

    # ----- settings that change the arrays -------------------------------------------------

    def set_steps_per_epoch(self, steps: int | None) -> None:
        """Known once the engine has built its loaders; recomputes fractional epochs."""
        if steps == self.steps_per_epoch:
            return
        self.steps_per_epoch = steps
        self._recompute_epoch_x()

    def set_plan(self, epochs: int | None) -> None:
        """The epochs the run is set to (the live plot's x axis spans them while it trains)."""
        self.epochs_planned = int(epochs) if epochs else None

    def planned_steps(self) -> int | None:
        """steps_per_epoch × epochs once both are known (global steps, as a resumed run counts)."""
        if self.steps_per_epoch and self.epochs_planned:
            return int(self.steps_per_epoch) * int(self.epochs_planned)
        return None

    def infer_steps_per_epoch(self) -> None:
        """For a run read from disk: the most steps any epoch had."""
        if self.steps_per_epoch is None and self._steps_seen_in_epoch:
            self.set_steps_per_epoch(max(self._steps_seen_in_epoch.values()))

    def _recompute_epoch_x(self) -> None:
        n = len(self.step)
        if n == 0:
            return
        steps = self.step.view()
        epochs = self.epoch_of_step.view()
        per = self.steps_per_epoch
        if not per:
            self.epoch_x.set_all(epochs - 1.0)
            return
        # The step before each epoch's first step, carried forward over the epoch's steps.
        starts = np.empty(n, dtype=bool)
        starts[0] = True
        starts[1:] = epochs[1:] != epochs[:-1]
        base = np.where(starts, steps - 1.0, np.nan)
        idx = np.where(starts, np.arange(n), 0)
        np.maximum.accumulate(idx, out=idx)
        base = base[idx]
        self.epoch_x.set_all((epochs - 1.0) + np.minimum(1.0, (steps - base) / per))

    def set_smoothing(self, weight: float) -> None:
        """0 = raw, 0.99 = very smooth; recomputes the smoothed loss."""
        weight = min(max(float(weight), 0.0), 0.999)
        if weight == self.smoothing:
            return
        self.smoothing = weight
        loss = self.loss.view()
        self.smooth.set_all(ema(loss, weight))
        finite = loss[np.isfinite(loss)]
        self._ema_count = len(finite)
        if len(finite) and weight > 0:
            last = self.smooth.last()
            self._ema_acc = last * (1.0 - weight ** self._ema_count)
        else:
            self._ema_acc = 0.0

    # ----- reading -------------------------------------------------------------------------

    def step_x(self, mode: str) -> np.ndarray:
        """The x values of the step curves for an x-axis mode ("step", "epoch", "time")."""
        if mode == "epoch":
            return self.epoch_x.view()
        if mode == "time":
            return self.time.view()
        return self.step.view()

    def _x_column(self, mode: str) -> GrowingArray:
        return self.epoch_x if mode == "epoch" else self.time if mode == "time" else self.step

    def x_sorted(self, mode: str) -> bool:
        """Whether the step curves' x values never decrease (steps always; time and fractional
        epochs nearly always), checked incrementally: only then can a plot search its view."""
        column = self._x_column(mode)
        version, upto, ok = self._order.get(mode, (column.version, 0, True))
        if version != column.version:
            upto, ok = 0, True
        n = len(column)
        if ok and n > upto + 1:
            # A NaN compares false, so a time column with holes counts as unsorted.
            ok = bool(np.all(np.diff(column.view()[max(0, upto - 1):n]) >= 0))
        self._order[mode] = (column.version, n, ok)
        return ok

    def x_version(self, mode: str) -> int:
        return self._x_column(mode).version

    def pyramid(self, name: str) -> MinMaxPyramid:
        """The min/max pyramid of a per-step column ("loss", "smooth", "lr"), made on first use."""
        pyramid = self._pyramids.get(name)
        if pyramid is None:
            pyramid = self._pyramids[name] = MinMaxPyramid(getattr(self, name))
        return pyramid

    def epoch_x_values(self, mode: str) -> np.ndarray:
        """The x values of the per-epoch points."""
        if mode == "epoch":
            return self.epoch.view()
        if mode == "time":
            return self.epoch_time.view()
        return self.epoch_step.view()

    def metric_names(self) -> list[str]:
        return list(self.metrics)

    def last_step(self) -> int:
        return int(self.step.last(0.0))

    def to_csv(self, path: str | Path) -> Path:
        """Write every step and epoch as rows of one CSV table (kind column tells them apart)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        metric_names = self.metric_names()
        header = ["kind", "step", "epoch", "elapsed_s", "loss", "smoothed_loss", "lr", "samples_per_s",
                  "train_loss", "val_loss", *metric_names]

        def cell(value: float) -> str:
            return "" if not math.isfinite(value) else repr(float(value))

        with open(target, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            s = self
            for i in range(len(s.step)):
                writer.writerow(["step", int(s.step.view()[i]), int(s.epoch_of_step.view()[i]),
                                 cell(s.time.view()[i]), cell(s.loss.view()[i]), cell(s.smooth.view()[i]),
                                 cell(s.lr.view()[i]), cell(s.samples_per_s.view()[i]), "", "",
                                 *([""] * len(metric_names))])
            for i in range(len(s.epoch)):
                writer.writerow(["epoch", int(s.epoch_step.view()[i]), int(s.epoch.view()[i]),
                                 cell(s.epoch_time.view()[i]), "", "", "", "",
                                 cell(s.train_loss.view()[i]), cell(s.val_loss.view()[i]),
                                 *[cell(s.metrics[m].view()[i]) for m in metric_names]])
        return target

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]], smoothing: float = 0.9) -> RunSeries:
        series = cls(smoothing)
        series.add_records(records)
        series.infer_steps_per_epoch()
        return series

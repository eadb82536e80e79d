"""The training loop: one Trainer runs one model on one DataBundle with one TrainSettings.

The Trainer knows loops and devices only; everything else (plots, log files, the GUI) listens to
its events. Stop and pause are requests, checked between optimizer steps, from any thread.

`run()` never raises for problems met while training (non-finite loss, out of memory, an error
in the model's forward pass, an unreadable checkpoint): it emits a FailedEvent and returns a
RunResult with status "failed" and a message that says what to change.

The hot loop is kept as lean as a hand-written one: locals instead of attribute look-ups, one
`.item()` per optimizer step (needed anyway for the non-finite check and the step event), no
autocast context unless the precision asks for it, no scheduler object when the rate is
constant, and a fixed ring of timestamps for samples/s.

Given a DistContext (distributed.py), the same loop runs as one rank of a data-parallel job:
the model trains inside DistributedDataParallel (gradients averaged across ranks, skipped on
the non-final batches of a gradient-accumulation group), the data is sharded, the step's loss and
any stop request are summed across ranks in one small all-reduce (that is also the step's one
host sync, so every rank sees the same loss and stops at the same step), validation sums are
all-reduced, and checkpoints store the unwrapped module. Pause is not offered there: a paused
rank would leave the others waiting in a collective.
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Protocol

import torch
from torch import nn

from workbench.data.bundle import DataBundle
from workbench.errors import ProjectFileError, TrainingError, WorkbenchError
from workbench.graph.inputs import arrange, call, to_device
from workbench.training import distributed as dist_ops
from workbench.training.checkpoint import (
    check_resume,
    copy_checkpoint,
    load_checkpoint,
    save_checkpoint,
    serialize_checkpoint,
    snapshot,
    write_checkpoint_bytes,
)
from workbench.training.devices import resolve_device
from workbench.training.distributed import DistContext
from workbench.training.events import (
    EpochEvent,
    Event,
    FailedEvent,
    FinishedEvent,
    Listener,
    ResumedEvent,
    StepEvent,
)
from workbench.training.loaders import Loaders, make_loaders
from workbench.training.losses import check_loss_for_task, get_loss
from workbench.training.metrics import ValidationMeter, metric_names
from workbench.training.optim import build_optimizer, build_scheduler, param_groups as trainable_groups
from workbench.training.precision import resolve_precision
from workbench.training.rng import capture_rng_state, restore_rng_state, seed_everything
from workbench.training.settings import TrainSettings

log = logging.getLogger(__name__)

BEST_NAME = "best.pt"
LAST_NAME = "last.pt"
SPEED_WINDOW = 20  # optimizer steps over which StepEvent.samples_per_s is measured
_PAUSE_POLL_S = 0.5  # a paused loop re-checks the stop flag this often, as a safety net
_NO_CONTEXT = contextlib.nullcontext()  # reusable; stands in for DDP's no_sync() when syncing


@dataclass(frozen=True)
class RunResult:
    """How a run ended."""

    status: str  # "finished" | "stopped" | "early_stopped" | "failed"
    summary: dict[str, Any] = field(default_factory=dict)
    message: str = ""  # one line for the status bar or the terminal


class _RunFailure(Exception):
    """A problem the user can fix, found inside the loop; carries the finished message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _is_out_of_memory(exc: BaseException) -> bool:
    oom_types: tuple[type[BaseException], ...] = (MemoryError, torch.cuda.OutOfMemoryError)
    if isinstance(exc, oom_types):
        return True
    text = str(exc).lower()
    # CPU: "DefaultCPUAllocator: can't allocate memory"; MPS: "MPS backend out of memory".
    return isinstance(exc, RuntimeError) and ("out of memory" in text or "can't allocate memory" in text)


class LossObject(Protocol):
    """A loss made for one run (distillation's mixes in a teacher): called like a named loss,
    and `name` is the task loss its validation figures stand for ("cross_entropy"...)."""

    name: str

    def __call__(self, outputs: Any, y: torch.Tensor) -> torch.Tensor: ...


class Trainer:
    """Trains `model` on `data`; see the module docstring for the contract of `run()`."""

    def __init__(
        self,
        model: nn.Module,
        data: DataBundle,
        settings: TrainSettings,
        loss: str | LossObject,
        listeners: Iterable[Listener] = (),
        checkpoint_dir: str | Path | None = None,
        distributed: DistContext | None = None,
        checkpoint_every_s: float = 10.0,
    ) -> None:
        # Checked here, before any thread starts, so the caller gets the typed error at once:
        # TrainingError for the loss or precision, DeviceError for the device.
        if isinstance(loss, str):
            self._loss_fn = get_loss(loss)
        else:
            self._loss_fn, loss = loss, loss.name
        check_loss_for_task(loss, data.task, data.num_outputs)  # a mismatch would train silently on nothing
        self.dist = distributed
        # A rank's device comes from its local rank (cuda:LOCAL_RANK or the CPU), set on joining.
        self.device = distributed.device if distributed is not None else resolve_device(settings.device)
        self.precision = resolve_precision(settings.precision, self.device)
        self.model = model
        self.data = data
        self.settings = settings
        self.loss_name = loss
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir is not None else None
        # Epoch-end checkpoints are written at most this often: on small models an epoch lasts
        # tens of milliseconds and a write per epoch cost ~10% of the throughput. The last
        # epoch, a stop and a failure always write; the best state waits in memory meanwhile.
        self.checkpoint_every_s = checkpoint_every_s
        self._last_write = -math.inf
        self._pending_best: dict[str, Any] | None = None
        self._listeners: list[Listener] = list(listeners)

        self._stop = threading.Event()
        self._gate = threading.Event()  # set = may run; cleared = paused
        self._gate.set()
        self._started = False

        # Progress, restored on resume.
        self.epoch = 0  # epochs completed
        self.global_step = 0  # optimizer steps completed
        self.best_val_loss: float | None = None
        self._bad_epochs = 0  # epochs since best_val_loss improved

        # Built by run().
        self.optimizer: torch.optim.Optimizer | None = None
        self.scheduler: torch.optim.lr_scheduler.LambdaLR | None = None
        self.scaler: torch.amp.GradScaler | None = None
        self.loaders: Loaders | None = None
        self._ddp: nn.Module | None = None  # the DistributedDataParallel wrapper, distributed only
        self.peer_lost = False  # distributed: the run failed because another rank went away
        self.steps_per_epoch: int | None = None
        self._batches_per_epoch: int | None = None

        # Bookkeeping for events and the summary.
        self._t0 = 0.0
        self._paused_s = 0.0
        self._train_time_s = 0.0
        self._train_samples = 0
        self._current_epoch = 1
        self._validating = False  # decides how a failure is described
        self._last_train_loss: float | None = None
        self._last_val_loss: float | None = None
        self._last_metrics: dict[str, float] = {}

    # ---- control, from any thread -------------------------------------------------------

    def add_listener(self, listener: Listener) -> None:
        """Add a listener before `run()` starts."""
        self._listeners.append(listener)

    def request_stop(self) -> None:
        """End the run after the current optimizer step; writes last.pt."""
        self._stop.set()
        self._gate.set()  # a paused loop must wake up to see the stop

    def request_pause(self) -> None:
        """Block the loop before its next optimizer step until `request_resume()`."""
        if self.dist is not None:
            log.warning("a distributed run cannot pause (the other ranks would time out "
                        "waiting); stop it and resume from last.pt instead")
            return
        self._gate.clear()
        if self._stop.is_set():  # a stop that raced ahead must not be parked behind a pause
            self._gate.set()

    def request_resume(self) -> None:
        self._gate.set()

    @property
    def is_paused(self) -> bool:
        """True from `request_pause()` until `request_resume()` or `request_stop()`."""
        return not self._gate.is_set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    # ---- the run ------------------------------------------------------------------------

    def run(self, resume_from: str | Path | None = None) -> RunResult:
        """Train until the last epoch, a stop request, early stopping or a failure."""
        if self._started:
            raise RuntimeError("a Trainer runs once; make a new one for another run")
        self._started = True
        self._t0 = time.perf_counter()

        try:
            self._setup()
        except Exception as exc:
            self._note_peer_loss(exc)
            _log_unless_user_error(exc, "cannot start training")
            return self._fail(f"cannot start training: {_describe(exc)}", can_save=False)
        if resume_from is not None:
            try:
                self._restore(Path(resume_from))
            except Exception as exc:
                self._note_peer_loss(exc)
                _log_unless_user_error(exc, f"cannot resume from {resume_from}")
                return self._fail(f"cannot resume from {resume_from}: {_describe(exc)}", can_save=False)
            # Listeners drop what they recorded past the checkpoint: it is about to happen again.
            self._emit(ResumedEvent(self.epoch, self.global_step, str(resume_from)))
        elif self.checkpoint_dir is not None:
            try:
                # The untrained state is the first "last good state": a run that fails in its
                # first epoch still leaves a loadable last.pt. Not fsynced: losing it to a power
                # cut loses nothing (it is the seed's initial weights), and the first epoch of a
                # small model is shorter than an fsync on a busy disk.
                write_checkpoint_bytes(self.checkpoint_dir / LAST_NAME, serialize_checkpoint(self._state()),
                                       durable=False)
            except Exception as exc:
                _log_unless_user_error(exc, "cannot write the first checkpoint")
                return self._fail(f"cannot write checkpoints to {self.checkpoint_dir}: {_describe(exc)}",
                                  can_save=False)

        message: str | None = None
        try:
            status = self._train()
        except _RunFailure as failure:
            message = failure.message
        except Exception as exc:
            message = self._message_for(exc)
        if message is not None:
            # Out of the except blocks: the traceback's frames (holding the batch and its
            # activations) are gone, so the memory is free again before we save.
            return self._fail(message)
        return self._finish(status)

    def _setup(self) -> None:
        s = self.settings
        dist = self.dist
        # Before anything random happens in this run. Ranks draw different dropout masks (the
        # weights are equal anyway: the model is built from the seed, and DDP broadcasts rank 0's).
        seed_everything(s.seed if dist is None else s.seed + dist.rank)
        self.model.to(self.device)
        shard = None if dist is None else (dist.rank, dist.world_size)
        self.loaders = make_loaders(self.data, s, self.device, shard=shard)
        try:
            self._batches_per_epoch = len(self.loaders.train)
        except TypeError:
            self._batches_per_epoch = None  # an iterable dataset without a length
            if s.scheduler != "none":
                raise TrainingError(
                    f"the {s.scheduler} schedule needs the number of batches per epoch, but the "
                    f"training set does not know its length; set the scheduler to none"
                ) from None
        per_epoch = self._batches_per_epoch or 1
        self.steps_per_epoch = math.ceil(per_epoch / s.grad_accum)
        if s.unfreeze_epoch is not None and dist is not None and getattr(self.model, "frozen", None):
            raise TrainingError("unfreezing during a run (training.unfreeze_epoch) needs a single-device "
                                "run; train on one device or clear the setting")
        self.optimizer = build_optimizer(self.model, s)
        self.scheduler = build_scheduler(self.optimizer, s, self.steps_per_epoch)
        if self.precision.use_scaler:
            self.scaler = torch.amp.GradScaler(self.device.type)
        self.optimizer.zero_grad(set_to_none=True)
        if dist is not None:
            # The optimizer holds the module's own parameters; DDP only adds gradient hooks.
            self._ddp = dist_ops.wrap_model(self.model, dist)

    def _restore(self, path: Path) -> None:
        """Load the checkpoint's state; a ProjectFileError or TrainingError (one line, naming the
        file and the field) for a checkpoint that is damaged, of another network, or done."""
        assert self.optimizer is not None and self.loaders is not None
        state = load_checkpoint(path) if self.dist is None else self._load_on_main(path)
        check_resume(state, self.model, self.settings, path)
        saved_groups = state.get("optimizer", {}).get("param_groups", []) if isinstance(state.get("optimizer"), dict) else []
        if len(saved_groups) > len(self.optimizer.param_groups):
            self._unfreeze_if_due(self.settings.epochs)  # saved after the unfreeze: the same groups
        restores = [
            ("model", lambda: self.model.load_state_dict(state["model"])),
            ("optimizer", lambda: self.optimizer.load_state_dict(state["optimizer"])),  # type: ignore[union-attr]
            ("scheduler", lambda: self.scheduler is not None and state.get("scheduler") is not None
             and self.scheduler.load_state_dict(state["scheduler"])),
            ("scaler", lambda: self.scaler is not None and state.get("scaler") is not None
             and self.scaler.load_state_dict(state["scaler"])),
            ("rng", lambda: restore_rng_state(state["rng"])),
            ("loader_rng", lambda: self.loaders.generator.set_state(state["loader_rng"])),  # type: ignore[union-attr]
        ]
        for name, restore in restores:
            try:
                restore()
            except (RuntimeError, ValueError, KeyError, TypeError, IndexError) as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise ProjectFileError(f"checkpoint {path}: field '{name}' cannot be restored ({first}); "
                                       f"use another checkpoint of the run") from None
        self.epoch = state["epoch"]
        self.global_step = state["global_step"]
        best = state.get("best_val_loss")
        self.best_val_loss = None if best is None else float(best)
        self._bad_epochs = state.get("bad_epochs", 0)
        if self.dist is not None and self.dist.rank > 0:
            # The checkpoint holds rank 0's generators; the others continue from their own seed.
            seed_everything(self.settings.seed + self.dist.rank + 7919 * self.global_step)
        current = self.settings.to_dict()
        changed = {k for k, v in state["settings"].items() if current.get(k) != v}
        if changed:
            log.info("resuming with changed settings: %s", ", ".join(sorted(changed)))
        log.info("resumed from %s at epoch %d, step %d", path, self.epoch, self.global_step)

    def _load_on_main(self, path: Path) -> dict[str, Any]:
        """Rank 0 reads the checkpoint and sends it to every rank: other nodes need no copy."""
        assert self.dist is not None
        payload: dict[str, Any] | str | None = None
        if self.dist.is_main:
            try:
                payload = load_checkpoint(path)
            except ProjectFileError as exc:
                payload = str(exc)  # sent as text, so that every rank fails with the same message
        payload = dist_ops.broadcast_from_main(payload, self.dist)
        if not isinstance(payload, dict):
            raise ProjectFileError(str(payload))
        return payload

    def _should_stop(self) -> bool:
        """The stop request, agreed by all ranks in a distributed run."""
        if self.dist is None:
            return self._stop.is_set()
        return dist_ops.agree_stop(self._stop.is_set(), self.dist)

    def _train(self) -> str:
        """The epochs; returns the finish status or raises for a failure."""
        s = self.settings
        model = self.model
        dist = self.dist
        net = self._ddp if self._ddp is not None else model  # what the forward pass runs
        no_sync = getattr(self._ddp, "no_sync", None)
        world = 1 if dist is None else dist.world_size
        sampler = self.loaders.sampler if self.loaders is not None else None
        optimizer = self.optimizer
        scheduler = self.scheduler
        scaler = self.scaler
        loaders = self.loaders
        assert optimizer is not None and loaders is not None
        loss_fn = self._loss_fn
        stop, gate = self._stop, self._gate
        emit = self._emit
        perf_counter = time.perf_counter
        device = self.device
        move = device.type != "cpu"  # .to() on the same device still costs a call per tensor
        non_blocking = device.type == "cuda"
        device_type = device.type
        autocast_dtype = self.precision.autocast_dtype
        accum = s.grad_accum
        clip = s.grad_clip
        l1 = s.l1
        batches_per_epoch = self._batches_per_epoch
        param_groups = optimizer.param_groups
        # The run's rate, whatever the first group's per-node factor.
        lr_unscale = 1.0 / param_groups[0].get("lr_scale", 1.0)
        ring_t = [0.0] * SPEED_WINDOW
        ring_n = [0] * SPEED_WINDOW
        # A network with several Inputs gets a tuple (or dict by name) per batch; a single-input
        # one keeps the plain tensor path below untouched.
        input_names = _multi_input_names(model)

        for epoch_index in range(self.epoch, s.epochs):
            epoch = epoch_index + 1
            self._current_epoch = epoch
            if self._should_stop():
                return self._stopped()
            if sampler is not None:
                sampler.set_epoch(epoch_index)  # a new order each epoch, the same on every rank
            self._unfreeze_if_due(epoch_index)
            trainable = [p for p in model.parameters() if p.requires_grad]
            model.train()
            t_epoch = perf_counter()
            paused_before = self._paused_s
            # The window restarts each epoch so that validation time does not count as slowness.
            seen = 0  # samples this epoch
            ring_t[:] = [t_epoch] * SPEED_WINDOW
            ring_n[:] = [0] * SPEED_WINDOW
            loss_sum = 0.0
            batches = iter(loaders.train)
            done = 0  # batches consumed this epoch
            stopped = False
            while True:
                group = accum if batches_per_epoch is None else min(accum, batches_per_epoch - done)
                if group <= 0:
                    break
                step_loss = None
                step_samples = 0
                micro = 0
                for index in range(group):
                    batch = next(batches, None)
                    if batch is None:
                        break
                    x, y = batch
                    if input_names is not None:
                        x = arrange(x, input_names)
                        if move:
                            x = to_device(x, device, non_blocking)
                            y = y.to(device, non_blocking=non_blocking)
                    elif move:
                        x = x.to(device, non_blocking=non_blocking)
                        y = y.to(device, non_blocking=non_blocking)
                    # DDP averages gradients across ranks on the group's last batch only; the
                    # earlier ones accumulate locally. (A sharded loader has a length, so the
                    # group is never cut short after a no_sync batch.)
                    sync = _NO_CONTEXT if no_sync is None or index == group - 1 else no_sync()
                    with sync:
                        if autocast_dtype is None:
                            loss = loss_fn(net(x) if input_names is None else net(*x), y)
                        else:
                            with torch.autocast(device_type, dtype=autocast_dtype):
                                loss = loss_fn(net(x) if input_names is None else net(*x), y)
                        # The mean over the group's batches, so accumulation does not scale the lr.
                        total = loss if group == 1 else loss / group
                        if l1:
                            total = total + (l1 / group) * sum(p.abs().sum() for p in trainable)
                        if scaler is None:
                            total.backward()
                        else:
                            scaler.scale(total).backward()
                    step_loss = loss.detach() if step_loss is None else step_loss + loss.detach()
                    step_samples += y.shape[0]
                    micro += 1
                done += micro
                if micro == 0:
                    break  # an iterable dataset ran out exactly at a step boundary

                # The one host sync per step; taken before optimizer.step() so that a NaN or inf
                # never reaches the weights and the model stays at its last good state.
                if dist is None:
                    value = step_loss.item() / micro
                    stop_now = None
                else:
                    # Averaged over ranks: all see the same value, so all fail on a NaN together.
                    value, stop_now = dist_ops.reduce_step(step_loss, micro, stop.is_set(), dist)
                    step_samples *= world  # the job's samples: every rank's batch is as large
                lr = param_groups[0]["lr"] * lr_unscale
                if not math.isfinite(value):
                    optimizer.zero_grad(set_to_none=True)
                    raise _RunFailure(self._nonfinite_message(value, epoch, float(lr)))
                if clip is not None:
                    if scaler is not None:
                        scaler.unscale_(optimizer)  # clip the true gradients, not the scaled ones
                    torch.nn.utils.clip_grad_norm_(trainable, clip)
                if scaler is None:
                    optimizer.step()
                else:
                    scaler.step(optimizer)
                    scaler.update()
                optimizer.zero_grad(set_to_none=True)
                if scheduler is not None:
                    scheduler.step()
                self.global_step += 1

                seen += step_samples
                loss_sum += value * step_samples
                now = perf_counter()
                slot = self.global_step % SPEED_WINDOW
                span = now - ring_t[slot]
                speed = (seen - ring_n[slot]) / span if span > 0 else 0.0
                ring_t[slot] = now
                ring_n[slot] = seen
                emit(StepEvent(self.global_step, epoch, value, float(lr), speed,
                               now - self._t0 - self._paused_s))

                if stop.is_set() if stop_now is None else stop_now:
                    stopped = True
                    break
                if not gate.is_set():
                    self._wait_while_paused()
                    if stop.is_set():
                        stopped = True
                        break
                    t_resume = perf_counter()
                    ring_t[:] = [t_resume] * SPEED_WINDOW
                    ring_n[:] = [seen] * SPEED_WINDOW

            self._train_time_s += perf_counter() - t_epoch - (self._paused_s - paused_before)
            self._train_samples += seen
            if stopped:
                return self._stopped()
            if seen:
                self._last_train_loss = loss_sum / seen
            if self._end_epoch(epoch):
                return "early_stopped"
        return "finished"

    def _unfreeze_if_due(self, epochs_done: int) -> None:
        """Two-phase fine-tuning: from epoch `unfreeze_epoch` on, the frozen nodes train too,
        their parameters added to the optimizer as new groups (scheduled like the others)."""
        when = self.settings.unfreeze_epoch
        unfreeze = getattr(self.model, "unfreeze", None)
        if when is None or unfreeze is None or not self.model.frozen or epochs_done + 1 < when:
            return
        assert self.optimizer is not None
        names = sorted(self.model.frozen)
        params = unfreeze()
        if not params:
            return
        base = self.settings.lr
        for group in trainable_groups(self.model, base, only={id(p) for p in params}):
            group["initial_lr"] = group["lr"]
            if self.scheduler is not None:
                self.scheduler.base_lrs.append(group["lr"])
                self.scheduler.lr_lambdas.append(self.scheduler.lr_lambdas[0])
                group["lr"] *= self.scheduler.lr_lambdas[0](self.scheduler.last_epoch)
            self.optimizer.add_param_group(group)
        log.info("epoch %d: unfroze %s", epochs_done + 1, ", ".join(names))

    def _wait_while_paused(self) -> None:
        t = time.perf_counter()
        log.info("paused at step %d", self.global_step)
        # A bounded wait in a loop: a stop always wakes the gate, but a lost wake-up must never
        # hang a worker thread for good.
        while not self._gate.wait(_PAUSE_POLL_S):
            if self._stop.is_set():
                break
        self._paused_s += time.perf_counter() - t
        log.info("resumed at step %d", self.global_step)

    def _end_epoch(self, epoch: int) -> bool:
        """Validate, checkpoint, emit the EpochEvent; True when early stopping ends the run."""
        self._validating = True
        val_loss, metrics = self._validate()
        self._validating = False
        self.epoch = epoch
        self._last_val_loss = val_loss
        self._last_metrics = metrics
        improved = False
        if val_loss is not None:
            if math.isfinite(val_loss) and (self.best_val_loss is None or val_loss < self.best_val_loss):
                self.best_val_loss = val_loss
                self._bad_epochs = 0
                improved = True
            else:
                self._bad_epochs += 1
        patience = self.settings.early_stopping_patience
        early_stop = patience is not None and val_loss is not None and self._bad_epochs >= patience
        if self.checkpoint_dir is not None:
            # The full state is built only when it is written or kept: on a small model an epoch
            # lasts milliseconds and copying state dicts every epoch would show in the throughput.
            due = time.perf_counter() - self._last_write >= self.checkpoint_every_s
            if due or early_stop or epoch >= self.settings.epochs:
                self._write_checkpoints(self._state(), improved)
            elif improved:
                self._pending_best = snapshot(self._state())
        assert self.optimizer is not None
        train_loss = self._last_train_loss if self._last_train_loss is not None else math.nan
        first = self.optimizer.param_groups[0]
        self._emit(EpochEvent(epoch, train_loss, val_loss, dict(metrics),
                              float(first["lr"] / first.get("lr_scale", 1.0)),
                              time.perf_counter() - self._t0 - self._paused_s))
        if early_stop:
            log.info("early stopping after epoch %d: no lower validation loss for %d epochs",
                     epoch, patience)
        return early_stop

    def _write_checkpoints(self, state: dict[str, Any], improved: bool) -> None:
        """last.pt from `state`; best.pt from it too when it is the best, else any best state
        that was kept in memory since the last write. One serialisation per state."""
        assert self.checkpoint_dir is not None
        last = write_checkpoint_bytes(self.checkpoint_dir / LAST_NAME, serialize_checkpoint(state))
        if improved:
            copy_checkpoint(last, self.checkpoint_dir / BEST_NAME)
        elif self._pending_best is not None:
            save_checkpoint(self.checkpoint_dir / BEST_NAME, self._pending_best)
        self._pending_best = None
        self._last_write = time.perf_counter()

    def _flush_best(self) -> None:
        """Write a best state still held in memory (before a stop or failure ends the run)."""
        if self.checkpoint_dir is not None and self._pending_best is not None:
            save_checkpoint(self.checkpoint_dir / BEST_NAME, self._pending_best)
            self._pending_best = None

    def _validate(self) -> tuple[float | None, dict[str, float]]:
        assert self.loaders is not None
        if self.loaders.val is None:
            return None, {}
        model = self.model  # unwrapped: validation needs no gradient sync
        device = self.device
        move = device.type != "cpu"
        autocast_dtype = self.precision.autocast_dtype
        meter = ValidationMeter(self.data.task, self.loss_name)
        if self.dist is not None:
            dist_ops.sync_buffers(model, self.dist)
        model.eval()
        try:
            with torch.no_grad():
                input_names = _multi_input_names(model)
                for x, y in self.loaders.val:
                    if input_names is not None:
                        x = arrange(x, input_names)
                    if move:
                        x = to_device(x, device, True)
                        y = y.to(device, non_blocking=True)
                    if autocast_dtype is None:
                        outputs = call(model, x)
                        loss = self._loss_fn(outputs, y)
                    else:
                        with torch.autocast(device.type, dtype=autocast_dtype):
                            outputs = call(model, x)
                            loss = self._loss_fn(outputs, y)
                    meter.update(outputs, y, loss)
        finally:
            model.train()
        if self.dist is not None:
            meter.all_reduce(device)  # each rank saw its shard; the sums cover the whole set
        return meter.compute()

    # ---- endings --------------------------------------------------------------------------

    def _stopped(self) -> str:
        log.info("stopped at step %d (epoch %d)", self.global_step, self._current_epoch)
        if self.checkpoint_dir is not None:
            self._flush_best()
            self._save(LAST_NAME)
        return "stopped"

    def _finish(self, status: str) -> RunResult:
        summary = self._summary(status)
        if self.dist is not None:
            # Every rank ends here after the same step (stops and early stopping are agreed),
            # so one more collective is safe: a check that data parallelism kept the replicas equal.
            same, digest = dist_ops.replicas_identical(self.model, self.dist)
            summary["replicas_identical"] = same
            summary["parameters_digest"] = digest
        if status == "stopped":
            message = f"stopped at step {self.global_step} (epoch {self._current_epoch})"
        elif status == "early_stopped":
            message = (f"stopped early after epoch {self.epoch}: no lower validation loss for "
                       f"{self.settings.early_stopping_patience} epochs")
        else:
            message = f"finished {self.epoch} epochs"
        self._emit(FinishedEvent(status, summary))  # type: ignore[arg-type]
        return RunResult(status, summary, message)

    def _fail(self, message: str, can_save: bool = True) -> RunResult:
        # Info, not error: the message goes to the listeners and the caller, who show it once (the
        # CLI's one line, the app's panel); a bug behind it was logged with its traceback already.
        log.info("run failed: %s", message)
        if self.optimizer is not None:
            self.optimizer.zero_grad(set_to_none=True)
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
        if can_save and self.checkpoint_dir is not None:
            try:
                self._flush_best()
                if self._model_is_finite():
                    self._save(LAST_NAME)
                else:
                    log.info("the model holds NaN or inf; keeping the previous %s", LAST_NAME)
            except (OSError, WorkbenchError) as exc:  # a full disk, a folder removed meanwhile
                log.warning("could not write %s after the failure: %s", LAST_NAME, exc)
            except Exception:
                log.exception("could not write %s after the failure", LAST_NAME)
        summary = self._summary("failed")
        summary["message"] = message
        self._emit(FailedEvent(message, self.global_step + 1, self._current_epoch, summary))
        return RunResult("failed", summary, message)

    def _nonfinite_message(self, value: float, epoch: int, lr: float) -> str:
        hint = (f"lower the learning rate (now {lr:g}) or enable gradient clipping (grad_clip)"
                if self.settings.grad_clip is None else
                f"lower the learning rate (now {lr:g}) or the gradient clipping "
                f"(grad_clip, now {self.settings.grad_clip:g})")
        if self.precision.name == "fp16":
            hint += ", or train in bf16 or fp32"
        return (f"the loss became {value} at step {self.global_step + 1} (epoch {epoch}); {hint}")

    def _note_peer_loss(self, exc: BaseException) -> None:
        self.peer_lost = self.dist is not None and dist_ops.is_peer_loss(exc)

    def _message_for(self, exc: Exception) -> str:
        step = self.global_step + 1
        self._note_peer_loss(exc)
        if self.peer_lost:
            return (f"lost contact with the other processes at step {step} (epoch "
                    f"{self._current_epoch}): another rank stopped or became unreachable "
                    f"({dist_ops.short_comm_error(exc)})")
        if _is_out_of_memory(exc):
            bs = self.settings.batch_size
            log.info("out of memory at step %d: %s", step, exc)  # the message below says what to do
            if bs > 1:
                fix = f"try a batch size of {bs // 2} (training.batch_size)"
            else:
                fix = "the model does not fit even one sample: make it smaller or use bf16"
            return (f"out of memory at step {step} (epoch {self._current_epoch}) with batch size "
                    f"{bs} on {self.device}; {fix}")
        if self._validating:
            _log_unless_user_error(exc, f"validation failed after epoch {self._current_epoch}")
            return f"validation failed after epoch {self._current_epoch}: {_describe(exc)}"
        _log_unless_user_error(exc, f"training failed at step {step}")
        return f"training failed at step {step}: {_describe(exc)}"

    # ---- state and summary ----------------------------------------------------------------

    def _model_is_finite(self) -> bool:
        with torch.no_grad():
            for t in self.model.state_dict().values():
                if t.is_floating_point() and not bool(torch.isfinite(t).all()):
                    return False
        return True

    def _state(self) -> dict[str, Any]:
        assert self.optimizer is not None and self.loaders is not None
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "scaler": self.scaler.state_dict() if self.scaler is not None else None,
            "epoch": self.epoch,
            "global_step": self.global_step,
            "best_val_loss": self.best_val_loss,
            "bad_epochs": self._bad_epochs,
            "rng": capture_rng_state(),
            "loader_rng": self.loaders.generator.get_state(),
            "settings": self.settings.to_dict(),
        }

    def _save(self, name: str, state: dict[str, Any] | None = None) -> Path:
        assert self.checkpoint_dir is not None
        return save_checkpoint(self.checkpoint_dir / name, state if state is not None else self._state())

    def _checkpoint_path(self, name: str) -> str | None:
        if self.checkpoint_dir is None:
            return None
        path = self.checkpoint_dir / name
        return str(path) if path.is_file() else None

    def _summary(self, status: str) -> dict[str, Any]:
        summary: dict[str, Any] = {
            "status": status,
            "device": str(self.device),
            "precision": self.precision.name,
            "epochs": self.epoch,
            "global_steps": self.global_step,
            "parameters": sum(p.numel() for p in self.model.parameters()),
            "train_loss": self._last_train_loss,
            "val_loss": self._last_val_loss,
        }
        for name in metric_names(self.data.task):
            summary[name] = self._last_metrics.get(name)
        summary["best_val_loss"] = self.best_val_loss
        summary["samples_per_second"] = (
            self._train_samples / self._train_time_s if self._train_time_s > 0 else 0.0
        )
        summary["duration_s"] = time.perf_counter() - self._t0
        if self.dist is not None:
            s = self.settings
            summary["world_size"] = self.dist.world_size
            summary["backend"] = self.dist.backend
            summary["effective_batch_size"] = s.batch_size * self.dist.world_size * s.grad_accum
            summary["lr_scaling"] = "none"  # the learning rate is used as set
        summary["best_checkpoint"] = (
            self._checkpoint_path(BEST_NAME) if self.best_val_loss is not None else None
        )
        summary["last_checkpoint"] = self._checkpoint_path(LAST_NAME)
        return summary

    def _emit(self, event: Event) -> None:
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:
                # A broken plot or log must not end a training run; it is dropped so that the
                # same error is not logged at every step. (Rebinding, not mutating: the loop
                # above keeps iterating the old list.)
                log.exception("listener %r failed; it gets no more events", listener)
                self._listeners = [f for f in self._listeners if f is not listener]


def _multi_input_names(model: nn.Module) -> list[str] | None:
    """The Input names of a network with several Inputs (the order its forward takes them);
    None for a single-input network or a module that does not say."""
    names = getattr(model, "input_names", None)
    return list(names) if names is not None and len(names) > 1 else None


def _log_unless_user_error(exc: BaseException, what: str) -> None:
    # A WorkbenchError already says what to fix (and _fail logs it); tracebacks are for bugs.
    if not isinstance(exc, WorkbenchError):
        log.error("%s", what, exc_info=exc)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, WorkbenchError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"

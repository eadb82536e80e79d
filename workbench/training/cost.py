"""What a run will cost before it is paid: FLOPs, time on its device, energy and CO₂.

    estimate = estimate_cost(model, graph, data, settings, loss="cross_entropy")
    print("\\n".join(estimate.lines()))

- FLOPs: the model summary's forward FLOPs per sample (torch's FlopCounterMode: matrix
  products, convolutions, attention) × training samples × epochs × 3, the usual rule that the
  backward pass costs twice the forward one.
- Time: not derived from the FLOPs (a device's real speed on a given model is anyone's guess)
  but measured: a few warm-up optimizer steps, then timed steps with the run's batch size,
  optimizer, precision, loader and device on a copy of the model; validation batches are timed
  the same way. time = epochs × (steps per epoch × step time + validation batches × batch time).
- Energy: the device's power (NVML on NVIDIA GPUs, sampled during the timed steps; a stated
  assumption otherwise, see power.py) × time; CO₂ = energy × the grid's carbon intensity.

The copy trains, the model given does not: its weights, and the run that follows, are unchanged.
While the steps are timed the device holds both (the copy's memory is freed afterwards).
"""

from __future__ import annotations

import copy
import logging
import math
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from workbench.data.bundle import DataBundle
from workbench.graph.document import Graph
from workbench.training.devices import resolve_device
from workbench.training.loaders import make_loaders
from workbench.training.losses import get_loss
from workbench.training.optim import build_optimizer
from workbench.training.power import PowerFigure, cpu_power, power_sampler, unmeasured_reason
from workbench.training.precision import resolve_precision
from workbench.training.settings import TrainSettings

log = logging.getLogger(__name__)

# Grams of CO₂ per kWh of electricity: roughly the world average of recent years (Ember's
# global electricity review puts 2023 at about 480 g/kWh; Europe is near 250, coal-heavy grids
# above 700). Changed by the run setting training.grid_intensity.
DEFAULT_GRID_G_PER_KWH = 400.0
WARMUP_STEPS = 3  # first steps pay for allocator growth, kernel selection, worker start-up
MIN_TIMED_STEPS = 10
MIN_TIMED_S = 0.5  # small models: keep timing until this much time has passed...
MAX_TIMED_STEPS = 100  # ...but no longer than this many steps
VAL_TIMED_BATCHES = 5
JOULES_PER_KWH = 3.6e6


@dataclass(frozen=True)
class CostEstimate:
    """A run's predicted compute, time, energy and emissions, with what each figure rests on."""

    device: str
    batch_size: int
    epochs: int
    train_samples: int  # per epoch
    flops_per_sample: int  # forward pass
    total_flops: float  # flops_per_sample × train_samples × epochs × 3
    steps_per_epoch: int
    val_batches_per_epoch: int
    warmup_steps: int
    timed_steps: int
    step_s: float  # one optimizer step, measured (mean over the timed steps)
    val_batch_s: float  # one validation batch, measured (0 without validation data)
    time_s: float  # epochs × (steps_per_epoch × step_s + val_batches_per_epoch × val_batch_s)
    power_w: float | None  # None: nothing measures this device and no assumption fits it
    power_measured: bool
    power_basis: str
    energy_kwh: float | None
    grid_g_per_kwh: float
    co2_g: float | None

    @property
    def train_time_s(self) -> float:
        """The training steps' share of `time_s`."""
        return self.epochs * self.steps_per_epoch * self.step_s

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record (summary.json's cost.estimate)."""
        return asdict(self)

    def lines(self) -> list[str]:
        """The estimate in words, one figure per line."""
        val = (f" + {self.val_batches_per_epoch} validation batches × {format_step(self.val_batch_s)}"
               if self.val_batches_per_epoch else "")
        lines = [
            f"compute: {format_flops(self.flops_per_sample)} per sample (forward) × {self.train_samples:,} samples "
            f"× {self.epochs} epochs × 3 (forward + backward) = {format_flops(self.total_flops)}",
            f"time on {self.device}: {format_duration(self.time_s)} = {self.epochs} epochs × ({self.steps_per_epoch} "
            f"steps × {format_step(self.step_s)}{val}), timed over {self.timed_steps} steps of batch "
            f"{self.batch_size} after {self.warmup_steps} warm-up steps",
        ]
        if self.energy_kwh is None or self.co2_g is None or self.power_w is None:
            return [*lines, f"energy: unknown ({self.power_basis})"]
        return [
            *lines,
            f"energy: {self.energy_kwh:.3g} kWh at {self.power_w:.3g} W ({self.power_basis})",
            f"CO₂: {self.co2_g:.3g} g at a grid intensity of {self.grid_g_per_kwh:g} g/kWh",
        ]


def format_flops(n: float) -> str:
    """1.2e12 -> '1.2 TFLOPs'."""
    for unit, size in (("PFLOPs", 1e15), ("TFLOPs", 1e12), ("GFLOPs", 1e9), ("MFLOPs", 1e6), ("kFLOPs", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n:.0f} FLOPs"


def format_step(seconds: float) -> str:
    """A step's time: '564 ms', '1.81 s'."""
    return f"{seconds * 1000:.3g} ms" if seconds < 1 else f"{seconds:.3g} s"


def format_duration(seconds: float) -> str:
    """Seconds as a person reads them: '48 s', '12.5 min', '3.2 h'."""
    if seconds < 120:
        return f"{seconds:.3g} s"
    if seconds < 7200:
        return f"{seconds / 60:.3g} min"
    return f"{seconds / 3600:.3g} h"


def energy_kwh(watts: float, seconds: float) -> float:
    """Energy in kWh of `watts` drawn for `seconds`."""
    return watts * seconds / JOULES_PER_KWH


@dataclass(frozen=True)
class Timing:
    """Measured seconds per optimizer step and per validation batch, and the power meanwhile."""

    warmup_steps: int
    timed_steps: int
    step_s: float
    val_batches_timed: int
    val_batch_s: float
    power: PowerFigure


def estimate_cost(
    model: nn.Module,
    graph: Graph,
    data: DataBundle,
    settings: TrainSettings,
    loss: str,
    grid_g_per_kwh: float | None = None,
) -> CostEstimate:
    """Estimate a run of `model` (built from `graph`) on `data` with `settings`.

    Trains a copy for a few steps on the run's device; `grid_g_per_kwh` defaults to the
    settings' grid_intensity. Errors that would also stop the run (a device that is missing, an
    empty training set) are raised as the run would raise them.
    """
    from workbench.graph.summary import summarize

    summary = summarize(graph, batch_size=settings.batch_size, optimizer=settings.optimizer)
    device = resolve_device(settings.device)
    timing = time_steps(model, data, settings, loss, device)
    loaders_len = _batches(data, settings)
    steps_per_epoch = math.ceil(loaders_len[0] / settings.grad_accum)
    val_batches = loaders_len[1]
    time_s = settings.epochs * (steps_per_epoch * timing.step_s + val_batches * timing.val_batch_s)
    grid = grid_g_per_kwh if grid_g_per_kwh is not None else settings.grid_intensity
    kwh = energy_kwh(timing.power.watts, time_s) if timing.power.watts is not None else None
    return CostEstimate(
        device=str(device), batch_size=settings.batch_size, epochs=settings.epochs,
        train_samples=data.train_size, flops_per_sample=summary.total_flops,
        total_flops=float(summary.total_flops) * data.train_size * settings.epochs * 3,
        steps_per_epoch=steps_per_epoch, val_batches_per_epoch=val_batches,
        warmup_steps=timing.warmup_steps, timed_steps=timing.timed_steps, step_s=timing.step_s,
        val_batch_s=timing.val_batch_s, time_s=time_s, power_w=timing.power.watts,
        power_measured=timing.power.measured, power_basis=timing.power.basis, energy_kwh=kwh,
        grid_g_per_kwh=grid, co2_g=kwh * grid if kwh is not None else None,
    )


def _batches(data: DataBundle, settings: TrainSettings) -> tuple[int, int]:
    """Training and validation batches per epoch (from the sizes: no loader is needed)."""
    bs = settings.batch_size
    return max(1, math.ceil(data.train_size / bs)), math.ceil(data.val_size / bs)


def _cycle(loader: Any) -> Iterator[Any]:
    while True:
        empty = True
        for batch in loader:
            empty = False
            yield batch
        if empty:
            return


def time_steps(
    model: nn.Module,
    data: DataBundle,
    settings: TrainSettings,
    loss: str,
    device: torch.device,
    warmup: int = WARMUP_STEPS,
    min_steps: int = MIN_TIMED_STEPS,
    min_time_s: float = MIN_TIMED_S,
    max_steps: int = MAX_TIMED_STEPS,
) -> Timing:
    """Time real optimizer steps of a copy of `model` the way the engine takes them.

    Each step loads `grad_accum` batches through the run's loader, runs forward and backward
    (with the run's autocast and gradient scaler), steps the run's optimizer and reads the loss
    (the engine's one host sync per step). After `warmup` steps, steps are timed until at least
    `min_steps` and `min_time_s` (at most `max_steps`). Then a few validation batches are timed.
    """
    loss_fn = get_loss(loss)
    precision = resolve_precision(settings.precision, device)
    net = copy.deepcopy(model).to(device)
    net.train()
    loaders = make_loaders(data, settings, device)
    optimizer = build_optimizer(net, settings)
    scaler = torch.amp.GradScaler(device.type) if precision.use_scaler else None
    sampler = power_sampler(device)
    readings: list[float] = []
    batches = _cycle(loaders.train)
    move = device.type != "cpu"
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda *a: None)

    def forward_loss(x: Any, y: torch.Tensor) -> torch.Tensor:
        if precision.autocast_dtype is None:
            return loss_fn(_call(net, x), y)
        with torch.autocast(device.type, dtype=precision.autocast_dtype):
            return loss_fn(_call(net, x), y)

    def one_step() -> None:
        total = None
        for _ in range(settings.grad_accum):
            x, y = next(batches)
            if move:
                x, y = _to(x, device), y.to(device, non_blocking=True)
            value = forward_loss(x, y) / settings.grad_accum
            (value if scaler is None else scaler.scale(value)).backward()
            total = value.detach() if total is None else total + value.detach()
        if scaler is None:
            optimizer.step()
        else:
            scaler.step(optimizer)
            scaler.update()
        optimizer.zero_grad(set_to_none=True)
        assert total is not None
        total.item()

    try:
        for _ in range(warmup):
            one_step()
        sync(device)
        timed = 0
        t0 = time.perf_counter()
        while timed < max_steps and (timed < min_steps or time.perf_counter() - t0 < min_time_s):
            one_step()
            timed += 1
            if sampler is not None:
                watts = sampler[0]()
                if watts is not None:
                    readings.append(watts)
        sync(device)
        step_s = (time.perf_counter() - t0) / timed
        val_s, val_n = _time_validation(net, loaders.val, forward_loss, move, device, sync)
    finally:
        del batches  # ends the loader's iterator (its workers) before the copy goes
        del net, optimizer
        if device.type == "cuda":
            torch.cuda.empty_cache()  # the copy's memory goes back before the run allocates its own
    if sampler is not None and readings:
        power = PowerFigure(sum(readings) / len(readings), True,
                            f"NVML power reading of {sampler[1]} (mean of {len(readings)} samples while timing)")
    elif device.type == "cpu":
        power = cpu_power()
    else:
        # A GPU without a reading: no honest figure; the CPU assumption would be meaningless.
        power = PowerFigure(None, False, unmeasured_reason(device))
    log.info("timed %d steps on %s: %.4g s per step", timed, device, step_s)
    return Timing(warmup, timed, step_s, val_n, val_s, power)


def _time_validation(net: nn.Module, loader: Any, forward_loss: Any, move: bool, device: torch.device,
                     sync: Any) -> tuple[float, int]:
    """Seconds per validation batch (forward and loss, no gradients) over a few batches after
    one warm-up batch; (0.0, 0) without validation data."""
    if loader is None:
        return 0.0, 0
    net.eval()
    times: list[float] = []
    with torch.no_grad():
        t = time.perf_counter()
        for i, (x, y) in enumerate(loader):
            if move:
                x, y = _to(x, device), y.to(device, non_blocking=True)
            forward_loss(x, y).item()
            sync(device)
            now = time.perf_counter()
            if i > 0 or _length(loader) == 1:  # the first batch is the warm-up, unless it is the only one
                times.append(now - t)
            t = now
            if len(times) >= VAL_TIMED_BATCHES:
                break
    net.train()
    return (sum(times) / len(times), len(times)) if times else (0.0, 0)


def _length(loader: Any) -> int | None:
    try:
        return len(loader)
    except TypeError:  # an iterable dataset
        return None


def _call(net: nn.Module, x: Any) -> torch.Tensor:
    """A network with several Inputs takes a batch's inputs as a tuple."""
    return net(*x) if isinstance(x, (tuple, list)) else net(x)


def _to(x: Any, device: torch.device) -> Any:
    if isinstance(x, (tuple, list)):
        return type(x)(t.to(device, non_blocking=True) for t in x)
    return x.to(device, non_blocking=True)

"""Optimizer and learning-rate schedule from TrainSettings.

Every schedule is one LambdaLR whose factor is a pure function of the optimizer step: warmup
multiplies the main schedule, the scheduler steps once per optimizer step, and resuming needs
only the step count (the factor itself is rebuilt from the settings, never pickled).
"""

from __future__ import annotations

import math
from typing import Any, Callable

import torch
from torch import nn

from workbench.errors import TrainingError
from workbench.training.settings import TrainSettings

# One-cycle shape, as torch.optim.lr_scheduler.OneCycleLR's defaults: start at lr/25, reach lr
# after 30% of the steps, end at lr/(25*1e4), cosine in both phases. (The momentum is not cycled.)
ONECYCLE_PCT_START = 0.3
ONECYCLE_DIV = 25.0
ONECYCLE_FINAL_DIV = 1e4


def param_groups(model: nn.Module, lr: float, only: set[int] | None = None) -> list[dict[str, Any]]:
    """The trainable parameters in one group per distinct learning-rate factor, in first-seen
    order; each group's lr is `lr * factor` and its `lr_scale` says the factor. A model without
    per-node factors (`lr_scales`, set by the graph builder) gives one group at factor 1.

    `only` (ids of parameters) restricts the groups to those parameters (an unfreeze adds them).
    """
    scales: dict[str, float] = getattr(model, "lr_scales", {}) or {}
    groups: dict[float, list[nn.Parameter]] = {}
    for name, p in model.named_parameters():
        if not p.requires_grad or (only is not None and id(p) not in only):
            continue
        scale = float(scales.get(name.split(".", 1)[0], 1.0))
        groups.setdefault(scale, []).append(p)
    return [{"params": ps, "lr": lr * scale, "lr_scale": scale} for scale, ps in groups.items()]


def build_optimizer(model: nn.Module, settings: TrainSettings) -> torch.optim.Optimizer:
    """The optimizer over the model's trainable parameters (frozen ones get no state), one
    parameter group per distinct per-node learning-rate factor."""
    params = param_groups(model, settings.lr)
    if not params:
        raise TrainingError("the model has no trainable parameters — unfreeze at least one layer")
    s = settings
    if s.optimizer == "adam":
        return torch.optim.Adam(params, lr=s.lr, weight_decay=s.weight_decay)
    if s.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=s.lr, weight_decay=s.weight_decay)
    if s.optimizer == "sgd":
        return torch.optim.SGD(params, lr=s.lr, momentum=s.momentum, weight_decay=s.weight_decay)
    if s.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=s.lr, momentum=s.momentum, weight_decay=s.weight_decay)
    raise TrainingError(f"unknown optimizer {s.optimizer!r}")  # settings validation stops this first


def _cos_between(start: float, end: float, fraction: float) -> float:
    return end + (start - end) / 2.0 * (math.cos(math.pi * fraction) + 1.0)


def lr_factor(settings: TrainSettings, steps_per_epoch: int) -> Callable[[int], float]:
    """factor(step) multiplying settings.lr at optimizer step `step` (0-based)."""
    total = max(1, settings.epochs * steps_per_epoch)
    warmup = settings.warmup_steps
    kind = settings.scheduler
    decay_every = max(1, settings.step_size * steps_per_epoch)
    gamma = settings.gamma
    up = max(1.0, ONECYCLE_PCT_START * total - 1.0)  # last step of the rising phase
    low = 1.0 / ONECYCLE_DIV
    final = low / ONECYCLE_FINAL_DIV

    def factor(step: int) -> float:
        if kind == "step":
            f = gamma ** (step // decay_every)
        elif kind == "cosine":
            f = 0.5 * (1.0 + math.cos(math.pi * min(step, total) / total))
        elif kind == "onecycle":
            if step <= up:
                f = _cos_between(low, 1.0, step / up)
            else:
                f = _cos_between(1.0, final, min(1.0, (step - up) / max(1.0, total - 1 - up)))
        else:
            f = 1.0
        if step < warmup:
            f *= (step + 1) / warmup
        return f

    return factor


def build_scheduler(
    optimizer: torch.optim.Optimizer, settings: TrainSettings, steps_per_epoch: int
) -> torch.optim.lr_scheduler.LambdaLR | None:
    """None when the learning rate is constant, so the plain case costs nothing per step."""
    if settings.scheduler == "none" and settings.warmup_steps == 0:
        return None
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor(settings, steps_per_epoch))

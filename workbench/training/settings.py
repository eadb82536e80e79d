"""Training settings: one frozen record, its defaults, and its checked round trip to JSON.

`TrainSettings.from_dict` is the only way settings enter from a project file; it checks every
field and names the offending path (`training.lr: expected a number > 0, got "abc"`), so that a
hand-edited file fails with a message the user can act on rather than a traceback mid-run.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from dataclasses import dataclass
from typing import Any, Callable

from workbench.errors import ProjectFileError, TrainingError

OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
SCHEDULERS = ("none", "step", "cosine", "onecycle")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")

# Syntax only: whether the device exists is decided at run time (devices.resolve_device), so a
# project saved on a GPU machine still opens on a laptop.
_DEVICE_PATTERN = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


@dataclass(frozen=True)
class TrainSettings:
    """How to train: optimizer, schedule, loop, precision and device."""

    optimizer: str = "adam"  # "adam" | "adamw" | "sgd" | "rmsprop"
    lr: float = 1e-3  # peak learning rate (after warmup; the maximum for onecycle)
    momentum: float = 0.9  # sgd and rmsprop only
    weight_decay: float = 0.0  # L2; decoupled for adamw, added to the gradient otherwise
    l1: float = 0.0  # weight of sum(|w|) over trainable parameters, added to the loss
    scheduler: str = "none"  # "none" | "step" | "cosine" | "onecycle"; stepped per optimizer step
    step_size: int = 1  # "step": epochs between decays (PyTorch's MNIST example: 1 and 0.7)
    gamma: float = 0.7  # "step": learning-rate factor at each decay
    warmup_steps: int = 0  # linear warmup over this many optimizer steps; combines with any schedule
    epochs: int = 5  # total epochs of the run, counting those before a resume
    batch_size: int = 32
    grad_clip: float | None = None  # max global gradient norm; None = no clipping
    grad_accum: int = 1  # batches whose gradients are summed before one optimizer step
    # "auto": bf16 autocast on CUDA when supported, else fp16 with a GradScaler; fp32 on CPU/MPS.
    precision: str = "auto"
    seed: int = 0  # seeds torch, numpy, random and the shuffling of the training set
    early_stopping_patience: int | None = None  # epochs without a lower val loss before stopping
    device: str = "auto"  # "auto" | "cpu" | "cuda" | "cuda:N" | "mps"
    num_workers: int = 0  # DataLoader worker processes; 0 loads in the training thread

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            problem = _problem(f.name, getattr(self, f.name))
            if problem is not None:
                raise TrainingError(f"training setting {f.name}: {problem}")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready record with every field."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, d: Any, where: str = "training") -> TrainSettings:
        """Checked inverse of `to_dict`; missing keys take their defaults.

        Raises ProjectFileError naming the path of the first bad field.
        """
        if not isinstance(d, dict):
            raise ProjectFileError(f"{where}: expected an object of settings, got {_show(d)}")
        known = {f.name for f in dataclasses.fields(cls)}
        for key in d:
            if key not in known:
                raise ProjectFileError(
                    f"{where}.{key}: unknown setting; known settings are: {', '.join(sorted(known))}"
                )
        values: dict[str, Any] = {}
        for key, value in d.items():
            problem = _problem(key, value)
            if problem is not None:
                raise ProjectFileError(f"{where}.{key}: {problem}")
            # JSON has one number type: keep float fields float so that equality and repr match.
            if _KINDS[key][0] == "float" and isinstance(value, int):
                value = float(value)
            values[key] = value
        return cls(**values)

    def replace(self, **overrides: Any) -> TrainSettings:
        """A copy with some fields changed (checked like the constructor)."""
        known = {f.name for f in dataclasses.fields(self)}
        for key in overrides:
            if key not in known:
                raise TrainingError(
                    f"unknown training setting {key!r}; known settings are: {', '.join(sorted(known))}"
                )
        return dataclasses.replace(self, **overrides)


def _show(value: Any) -> str:
    """The value as the user wrote it in JSON, so strings appear quoted."""
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def _is_int(v: Any) -> bool:
    # bool is an int subclass; `true` in a settings file is a mistake, not the number 1.
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return (_is_int(v) or isinstance(v, float)) and math.isfinite(v)


def _number(pred: Callable[[float], bool], text: str) -> Callable[[Any], str | None]:
    def check(v: Any) -> str | None:
        if _is_number(v) and pred(v):
            return None
        return f"expected {text}, got {_show(v)}"

    return check


def _integer(pred: Callable[[int], bool], text: str) -> Callable[[Any], str | None]:
    def check(v: Any) -> str | None:
        if _is_int(v) and pred(v):
            return None
        return f"expected {text}, got {_show(v)}"

    return check


def _optional(check: Callable[[Any], str | None]) -> Callable[[Any], str | None]:
    def inner(v: Any) -> str | None:
        if v is None:
            return None
        problem = check(v)
        return None if problem is None else problem.replace("expected ", "expected null or ", 1)

    return inner


def _choice(options: tuple[str, ...]) -> Callable[[Any], str | None]:
    def check(v: Any) -> str | None:
        if isinstance(v, str) and v in options:
            return None
        listed = ", ".join(f'"{o}"' for o in options)
        return f"expected one of {listed}, got {_show(v)}"

    return check


def _device(v: Any) -> str | None:
    if isinstance(v, str) and _DEVICE_PATTERN.match(v):
        return None
    return f'expected "auto", "cpu", "cuda", "cuda:N" or "mps", got {_show(v)}'


# field -> (JSON kind, checker). The kind decides int -> float coercion in from_dict.
_KINDS: dict[str, tuple[str, Callable[[Any], str | None]]] = {
    "optimizer": ("str", _choice(OPTIMIZERS)),
    "lr": ("float", _number(lambda v: v > 0, "a number > 0")),
    "momentum": ("float", _number(lambda v: 0 <= v < 1, "a number in [0, 1)")),
    "weight_decay": ("float", _number(lambda v: v >= 0, "a number >= 0")),
    "l1": ("float", _number(lambda v: v >= 0, "a number >= 0")),
    "scheduler": ("str", _choice(SCHEDULERS)),
    "step_size": ("int", _integer(lambda v: v >= 1, "an integer >= 1")),
    "gamma": ("float", _number(lambda v: 0 < v <= 1, "a number in (0, 1]")),
    "warmup_steps": ("int", _integer(lambda v: v >= 0, "an integer >= 0")),
    "epochs": ("int", _integer(lambda v: v >= 1, "an integer >= 1")),
    "batch_size": ("int", _integer(lambda v: v >= 1, "an integer >= 1")),
    "grad_clip": ("float", _optional(_number(lambda v: v > 0, "a number > 0"))),
    "grad_accum": ("int", _integer(lambda v: v >= 1, "an integer >= 1")),
    "precision": ("str", _choice(PRECISIONS)),
    "seed": ("int", _integer(lambda v: 0 <= v < 2**63, "an integer in [0, 2**63)")),
    "early_stopping_patience": ("int", _optional(_integer(lambda v: v >= 1, "an integer >= 1"))),
    "device": ("str", _device),
    "num_workers": ("int", _integer(lambda v: v >= 0, "an integer >= 0")),
}


def _problem(name: str, value: Any) -> str | None:
    """What is wrong with `value` for field `name`, or None when it is fine."""
    return _KINDS[name][1](value)

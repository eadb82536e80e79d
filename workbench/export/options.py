"""What an export is asked to do: formats, compression steps and measurement settings.

`ExportOptions` is checked when it is made, so a bad value (an unknown format, a pruning fraction
of 1.5) fails at once with a message naming the option and what it accepts, before any file is
written. The CLI and the app's Export dialog both fill one of these.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from workbench.errors import ExportError

FORMATS = ("onnx", "safetensors", "pt2", "code")
QUANTIZE_MODES = ("int8-dynamic", "int8-static", "fp16")
PER_CHANNEL = ("auto", "on", "off")


class ExportCancelled(ExportError):
    """The caller asked the export to stop; its partial files are removed."""


@dataclass(frozen=True)
class ExportProgress:
    """One step of an export, for a progress bar: `step` of `total` done, and what runs now."""

    step: int
    total: int
    message: str

    @property
    def fraction(self) -> float:
        return self.step / self.total if self.total else 1.0


ProgressCallback = Callable[[ExportProgress], None]
CancelCheck = Callable[[], bool]


@dataclass(frozen=True)
class ExportOptions:
    """Formats to write and compression steps to chain (prune -> fine-tune -> quantize).

    Strings are accepted where lists are expected ("onnx,code"), the way the command line
    passes them; they are stored as tuples.
    """

    formats: tuple[str, ...] = ("onnx",)  # any of FORMATS
    quantize: tuple[str, ...] = ()  # any of QUANTIZE_MODES; each gives one variant of the chain's end
    prune: float | None = None  # global magnitude pruning: share of Linear/Conv weights set to zero
    prune_channels: float | None = None  # structured: share of each prunable layer's channels removed
    finetune_epochs: int = 0  # epochs of training after pruning, to recover accuracy
    finetune_lr: float | None = None  # None: the project's learning rate (or 1e-3 without one)
    per_channel: str = "auto"  # int8 weights: "auto" measures both and keeps the more accurate
    calibration_batches: int = 8  # training batches fed to int8-static calibration
    parity_samples: int = 64  # validation samples every file is checked on
    max_eval_samples: int | None = None  # cap on validation samples for accuracy (None: all)
    latency_repeats: int = 20  # timed runs per latency figure (after warm-up); the median is kept
    opset: int = 18  # ONNX opset; 17 or newer

    def __post_init__(self) -> None:
        formats = _names(self.formats, "formats")
        quantize = _names(self.quantize, "quantize")
        object.__setattr__(self, "formats", formats)
        object.__setattr__(self, "quantize", quantize)
        for value in formats:
            if value not in FORMATS:
                raise ExportError(f"unknown format '{value}' — choose from {', '.join(FORMATS)}")
        if not formats:
            raise ExportError(f"no format chosen — choose at least one of {', '.join(FORMATS)}")
        for value in quantize:
            if value not in QUANTIZE_MODES:
                raise ExportError(f"unknown quantization '{value}' — choose from {', '.join(QUANTIZE_MODES)}")
        for name in ("prune", "prune_channels"):
            value = getattr(self, name)
            if value is not None and (not _is_number(value) or not 0 < value < 1):
                flag = name.replace("_", "-")
                raise ExportError(
                    f"{flag} must be a fraction between 0 and 1 (e.g. 0.5 removes half), got {value!r}"
                )
        if not _is_int(self.finetune_epochs) or self.finetune_epochs < 0:
            raise ExportError(f"finetune-epochs must be a whole number ≥ 0, got {self.finetune_epochs!r}")
        if self.finetune_epochs and self.prune is None and self.prune_channels is None:
            raise ExportError("finetune-epochs fine-tunes a pruned model — add prune or prune-channels, or set it to 0")
        if self.finetune_lr is not None and (not _is_number(self.finetune_lr) or self.finetune_lr <= 0):
            raise ExportError(f"finetune-lr must be a number > 0, got {self.finetune_lr!r}")
        if self.per_channel not in PER_CHANNEL:
            raise ExportError(f"per-channel must be one of {', '.join(PER_CHANNEL)}, got {self.per_channel!r}")
        for name, low in (("calibration_batches", 1), ("parity_samples", 1), ("latency_repeats", 1)):
            value = getattr(self, name)
            if not _is_int(value) or value < low:
                raise ExportError(f"{name.replace('_', '-')} must be a whole number ≥ {low}, got {value!r}")
        if self.max_eval_samples is not None and (not _is_int(self.max_eval_samples) or self.max_eval_samples < 1):
            raise ExportError(f"max-eval-samples must be a whole number ≥ 1, got {self.max_eval_samples!r}")
        if not _is_int(self.opset) or not 17 <= self.opset <= 23:
            raise ExportError(f"opset must be between 17 and 23, got {self.opset!r}")

    @property
    def pruning(self) -> bool:
        return self.prune is not None or self.prune_channels is not None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record (written into report.json)."""
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}


def _names(value: str | Iterable[str] | None, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    out: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise ExportError(f"{what}: expected names, got {item!r}")
        name = item.strip().lower()
        if name and name not in out:
            out.append(name)
    return tuple(out)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return (_is_int(v) or isinstance(v, float)) and math.isfinite(v)


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value

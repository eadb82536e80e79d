"""Numeric precision of a run: which autocast dtype, and whether gradients need a scaler."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from workbench.errors import TrainingError


@dataclass(frozen=True)
class Precision:
    name: str  # resolved: "fp32" | "bf16" | "fp16"
    autocast_dtype: torch.dtype | None  # None: no autocast at all (not even a disabled one)
    use_scaler: bool  # fp16 gradients underflow without loss scaling


FP32 = Precision("fp32", None, False)
BF16 = Precision("bf16", torch.bfloat16, False)
FP16 = Precision("fp16", torch.float16, True)


def _cuda_bf16(device: torch.device) -> bool:
    try:
        with torch.cuda.device(device):
            return bool(torch.cuda.is_bf16_supported())
    except (RuntimeError, AssertionError):
        return False


def resolve_precision(requested: str, device: torch.device) -> Precision:
    """`auto`: bf16 on CUDA when supported else fp16 + scaler; fp32 on CPU and MPS."""
    if requested == "fp32":
        return FP32
    if requested == "auto":
        if device.type == "cuda":
            return BF16 if _cuda_bf16(device) else FP16
        # CPU autocast is slower than fp32 for most small models, and MPS autocast is young.
        return FP32
    if requested == "bf16":
        if device.type == "cuda" and not _cuda_bf16(device):
            raise TrainingError(
                f"{device} does not support bf16; set precision to fp16 or auto"
            )
        return BF16
    if requested == "fp16":
        return FP16
    raise TrainingError(f'unknown precision {requested!r}; choose "auto", "fp32", "bf16" or "fp16"')

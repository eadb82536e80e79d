"""Loss functions by name, with the shape conventions Workbench's datasets use.

- "cross_entropy": outputs (B, C) against class ids (B,), or a language model's (B, T, V)
  against token ids (B, T): every token counts as one sample.
- "mse": float targets of the outputs' shape; (B,) against (B, 1) is accepted either way round.
- "bce_with_logits": raw logits against 0/1 targets (int targets are converted).

A shape mismatch raises TrainingError naming both shapes, instead of letting PyTorch broadcast
(B,) against (B, 1) into a (B, B) loss that trains silently and badly.
"""

from __future__ import annotations

from typing import Callable

import torch.nn.functional as F
from torch import Tensor

from workbench.errors import TrainingError

LossFn = Callable[[Tensor, Tensor], Tensor]


def match_shapes(outputs: Tensor, y: Tensor, what: str) -> tuple[Tensor, Tensor]:
    """Make (B, 1) and (B,) agree; any other difference is the user's model or data."""
    if outputs.shape == y.shape:
        return outputs, y
    if outputs.dim() == y.dim() + 1 and outputs.shape[-1] == 1 and outputs.shape[:-1] == y.shape:
        return outputs.squeeze(-1), y
    if y.dim() == outputs.dim() + 1 and y.shape[-1] == 1 and y.shape[:-1] == outputs.shape:
        return outputs, y.squeeze(-1)
    raise TrainingError(
        f"{what}: the model's outputs have shape {tuple(outputs.shape)} but the targets have "
        f"shape {tuple(y.shape)}; make the output layer's width match the targets"
    )


def cross_entropy(outputs: Tensor, y: Tensor) -> Tensor:
    if outputs.dim() > 2:
        # (B, T, V) vs (B, T) -> (B*T, V) vs (B*T,): one sample per token.
        outputs = outputs.reshape(-1, outputs.shape[-1])
        y = y.reshape(-1)
    return F.cross_entropy(outputs, y)


def mse(outputs: Tensor, y: Tensor) -> Tensor:
    outputs, y = match_shapes(outputs, y, "mse")
    if outputs.dtype != y.dtype:
        # Under autocast outputs may be bf16/fp16; the loss is computed in fp32 either way.
        outputs, y = outputs.float(), y.float()
    return F.mse_loss(outputs, y)


def bce_with_logits(outputs: Tensor, y: Tensor) -> Tensor:
    outputs, y = match_shapes(outputs, y, "bce_with_logits")
    if outputs.dtype != y.dtype:
        outputs, y = outputs.float(), y.float()
    return F.binary_cross_entropy_with_logits(outputs, y)


LOSSES: dict[str, LossFn] = {
    "cross_entropy": cross_entropy,
    "mse": mse,
    "bce_with_logits": bce_with_logits,
}


def get_loss(name: str) -> LossFn:
    """The loss function called `name`; TrainingError listing the known names otherwise."""
    try:
        return LOSSES[name]
    except KeyError:
        raise TrainingError(
            f"unknown loss {name!r}; choose one of: {', '.join(LOSSES)}"
        ) from None


def default_loss(task: str) -> str:
    """The loss a task trains with unless the project says otherwise."""
    return "mse" if task == "regression" else "cross_entropy"


__all__ = ["LOSSES", "LossFn", "get_loss", "default_loss", "match_shapes"]
